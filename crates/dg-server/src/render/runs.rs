//! The runs list (with status and location filters), the page of one run (status, step timeline,
//! live event log, stdout/stderr, cancel button) and the launch form.

use std::collections::BTreeMap;

use dg_storage::{EventKind, EventRecord, Run, RunStatus};
use maud::{html, Markup};

use super::fmt::{badge, duration, page_assets, time};
use super::overview::{runs_table, RunRow};
use super::page::{page, Nav};

/// The runs list page.
pub fn runs_list(runs: &[RunRow], status: &str, location: &str, locations: &[String]) -> Markup {
    let body = html! {
        (page_assets())
        div.page {
            h1 { "Runs" " " a.small href="/launch" { "launch a run" } }
            form.filters method="get" action="/runs" {
                label { "Status "
                    select name="status" {
                        option value="" { "any" }
                        @for s in RunStatus::ALL {
                            option value=(s.as_str()) selected[s.as_str() == status] { (s.as_str()) }
                        }
                    }
                }
                label { " Location "
                    select name="location" {
                        option value="" { "any" }
                        @for l in locations { option value=(l) selected[l == location] { (l) } }
                    }
                }
                " " button type="submit" { "Filter" }
            }
            (runs_table(runs))
        }
    };
    page("Runs", Nav::Runs, body)
}

/// What a run list row shows for `run`.
pub fn run_row(run: &Run) -> RunRow {
    RunRow {
        run_id: run.run_id.clone(),
        status: run.status.to_string(),
        location: run.location.clone(),
        target: run
            .selection
            .clone()
            .unwrap_or_else(|| run.job_name.clone()),
        created_at: run.created_at,
        duration: run
            .started_at
            .map(|s| run.ended_at.unwrap_or_else(dg_storage::now) - s),
    }
}

/// One line of text for an event.
pub fn event_message(kind: &EventKind) -> String {
    match kind {
        EventKind::RunFailure { error: Some(e) } | EventKind::StepFailure { error: Some(e) } => {
            e.message.clone()
        }
        EventKind::StepSuccess {
            duration_ms: Some(ms),
        } => format!("took {}", duration(ms / 1000.0)),
        EventKind::AssetMaterialization {
            asset_key,
            partition,
            ..
        } => match partition {
            Some(p) => format!("materialized {asset_key} (partition {p})"),
            None => format!("materialized {asset_key}"),
        },
        EventKind::AssetObservation { asset_key, .. } => format!("observed {asset_key}"),
        EventKind::AssetCheckEvaluation {
            asset_key,
            check_name,
            passed,
            ..
        } => {
            format!(
                "check {asset_key}:{check_name} {}",
                if *passed { "passed" } else { "failed" }
            )
        }
        EventKind::EngineEvent { message } | EventKind::Log { message, .. } => message.clone(),
        EventKind::Stdout { text } | EventKind::Stderr { text } => text.clone(),
        _ => String::new(),
    }
}

/// A step's timeline entry, from its events.
struct Step {
    start: Option<f64>,
    end: Option<f64>,
    status: &'static str,
}

/// The page of one run.
pub fn run_page(run: &Run, events: &[EventRecord], cancelable: bool) -> Markup {
    let mut steps: BTreeMap<String, Step> = BTreeMap::new();
    let (mut stdout, mut stderr) = (String::new(), String::new());
    for record in events {
        let e = &record.event;
        if let Some(step) = &e.step_key {
            let entry = steps.entry(step.clone()).or_insert(Step {
                start: None,
                end: None,
                status: "QUEUED",
            });
            match &e.kind {
                EventKind::StepStart => {
                    entry.start = Some(e.timestamp);
                    entry.status = "STARTED";
                }
                EventKind::StepSuccess { .. } => {
                    entry.end = Some(e.timestamp);
                    entry.status = "SUCCESS";
                }
                EventKind::StepFailure { .. } => {
                    entry.end = Some(e.timestamp);
                    entry.status = "FAILURE";
                }
                EventKind::StepSkipped => entry.status = "SKIPPED",
                _ => {}
            }
        }
        match &e.kind {
            EventKind::Stdout { text } => stdout.push_str(text),
            EventKind::Stderr { text } => stderr.push_str(text),
            _ => {}
        }
    }
    let after = events
        .last()
        .map(|e| e.storage_id.to_string())
        .unwrap_or_default();
    let title = format!("Run {}", run.run_id.get(..8).unwrap_or(&run.run_id));
    let body = html! {
        (page_assets())
        div.page data-run-stream data-run-id=(run.run_id) data-after=(after) {
            h1 { (title) " " span data-run-status { (badge(run.status.as_str())) } }
            @if cancelable && !run.status.is_terminal() {
                form.cancel method="post" action={ "/runs/" (run.run_id) "/cancel" } data-cancel {
                    button type="submit" { "Cancel run" }
                }
            }
            table.props {
                tr { th { "Run id" } td { code { (run.run_id) } } }
                tr { th { "Location" } td { (run.location) } }
                tr { th { "Job" } td { code { (run.job_name) } } }
                @if let Some(s) = &run.selection { tr { th { "Selection" } td { code { (s) } } } }
                @if let Some(p) = &run.partition { tr { th { "Partition" } td { (p) } } }
                tr { th { "Created" } td { (time(run.created_at)) } }
                @if let Some(t) = run.started_at { tr { th { "Started" } td { (time(t)) } } }
                @if let Some(t) = run.ended_at { tr { th { "Ended" } td { (time(t)) } } }
                @for (k, v) in &run.tags { tr { th { "Tag " code { (k) } } td { (v) } } }
            }
            h2 { "Steps" }
            table.grid.steps data-steps {
                thead { tr { th { "Step" } th { "Status" } th { "Duration" } } }
                tbody {
                    @for (key, step) in &steps {
                        tr data-step=(key) {
                            td { code { (key) } }
                            td { (badge(step.status)) }
                            td.small { @if let (Some(s), Some(e)) = (step.start, step.end) { (duration(e - s)) } }
                        }
                    }
                }
            }
            h2 { "Event log" }
            table.grid.events data-events {
                thead { tr { th { "Time" } th { "Type" } th { "Step" } th { "Message" } } }
                tbody {
                    @for record in events { (event_row(record)) }
                }
            }
            div.columns {
                section { h2 { "stdout" } pre.output data-stdout { (stdout) } }
                section { h2 { "stderr" } pre.output data-stderr { (stderr) } }
            }
        }
    };
    page(&title, Nav::Runs, body)
}

fn event_row(record: &EventRecord) -> Markup {
    let e = &record.event;
    let kind = e.kind.event_type();
    html! {
        tr data-event-id=(record.storage_id) data-type=(kind) {
            td.small { (time(e.timestamp)) }
            td { code { (kind) } }
            td { @if let Some(s) = &e.step_key { code { (s) } } }
            td { (event_message(&e.kind)) }
        }
    }
}

/// What the launch form shows: the values typed so far and the error of the last attempt.
#[derive(Debug, Default, Clone)]
pub struct LaunchForm {
    pub selection: String,
    pub job: String,
    pub location: String,
    pub partition: String,
    pub config: String,
    pub tags: String,
    pub error: Option<String>,
}

/// The launch form page.
pub fn launch_page(form: &LaunchForm, locations: &[String]) -> Markup {
    let body = html! {
        (page_assets())
        div.page {
            h1 { "Launch a run" }
            @if let Some(e) = &form.error { p.error-message role="alert" { (e) } }
            form.launch method="post" action="/runs" {
                label { "Asset selection" input type="text" name="selection" value=(form.selection) size="50" placeholder="group:raw"; }
                label { "or job" input type="text" name="job" value=(form.job) size="30"; }
                label { "Location"
                    select name="location" {
                        option value="" { "(from the selection)" }
                        @for l in locations { option value=(l) selected[*l == form.location] { (l) } }
                    }
                }
                label { "Partition" input type="text" name="partition" value=(form.partition); }
                label { "Run config (JSON)" textarea name="config" rows="6" cols="60" placeholder="{}" { (form.config) } }
                label { "Tags (one key=value a line)" textarea name="tags" rows="3" cols="60" { (form.tags) } }
                button type="submit" { "Launch" }
            }
        }
    };
    page("Launch", Nav::Runs, body)
}
