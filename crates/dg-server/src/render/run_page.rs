//! The page of one run: a summary (status, duration, target), the error with its traceback when
//! it failed, the steps with a timeline (one bar per step on the run's time axis), the event log
//! with times to the millisecond, the output as it came (while the run goes on, or stored as
//! `STDOUT`/`STDERR` events by an older storage) and the output Dagster's compute log manager
//! captured, per step group ([`super::captured`]). `static/live.js` keeps it current while the
//! run is in progress (same markup, same classes).
//!
//! The timeline is SVG with a `0..1000` view box stretched to the cell, so bars are placed with
//! attributes, never with inline styles (the pages' CSP allows none).

use std::collections::BTreeMap;

use dg_storage::{ErrorInfo, EventKind, EventRecord, Run, Timestamp};
use maud::{html, Markup};

use dg_runs::compute_logs::RunLogs;

use super::captured::captured_output;
use super::fmt::{badge, clock, duration, page_assets, time};
use super::page::{page, Nav};
use super::runs::event_message;

/// Width of the timeline's view box.
const AXIS: f64 = 1000.0;

/// A step's timeline entry, from its events, in float seconds since the epoch (the row's
/// `data-start`/`data-end`, which `live.js` reads as numbers).
struct Step {
    start: Option<f64>,
    end: Option<f64>,
    status: &'static str,
}

/// What the page shows, gathered from the events once.
struct Gathered<'a> {
    steps: BTreeMap<&'a str, Step>,
    /// Step keys in the order they first appeared.
    seen: Vec<&'a str>,
    stdout: String,
    stderr: String,
    /// The error that ended the run: the run failure's, else the first failed step's.
    error: Option<(Option<&'a str>, &'a ErrorInfo)>,
    first: Option<f64>,
    last: Option<f64>,
}

fn gather(events: &[EventRecord]) -> Gathered<'_> {
    let mut g = Gathered {
        steps: BTreeMap::new(),
        seen: Vec::new(),
        stdout: String::new(),
        stderr: String::new(),
        error: None,
        first: None,
        last: None,
    };
    let mut step_error = None;
    for record in events {
        let e = &record.event;
        let t = e.timestamp.as_secs_f64();
        g.first.get_or_insert(t);
        g.last = Some(g.last.map_or(t, |l: f64| l.max(t)));
        if let Some(step) = &e.step_key {
            if !g.steps.contains_key(step.as_str()) {
                g.seen.push(step.as_str());
            }
            let entry = g.steps.entry(step.as_str()).or_insert(Step {
                start: None,
                end: None,
                status: "QUEUED",
            });
            match &e.kind {
                EventKind::StepStart => {
                    entry.start = Some(t);
                    entry.status = "STARTED";
                }
                EventKind::StepSuccess { .. } => {
                    entry.end = Some(t);
                    entry.status = "SUCCESS";
                }
                EventKind::StepFailure { error } => {
                    entry.end = Some(t);
                    entry.status = "FAILURE";
                    if let (None, Some(err)) = (&step_error, error) {
                        step_error = Some((Some(step.as_str()), err));
                    }
                }
                EventKind::StepSkipped => entry.status = "SKIPPED",
                _ => {}
            }
        }
        match &e.kind {
            EventKind::Stdout { text } => g.stdout.push_str(text),
            EventKind::Stderr { text } => g.stderr.push_str(text),
            EventKind::RunFailure { error: Some(err) } => g.error = Some((None, err)),
            _ => {}
        }
    }
    // A run failure that only repeats a step's error is shown as the step's (it names the step).
    match (g.error, step_error) {
        (Some((_, run_err)), Some((step, step_err))) if run_err.message == step_err.message => {
            g.error = Some((step, step_err));
        }
        (None, Some(found)) => g.error = Some(found),
        _ => {}
    }
    g
}

/// The page of one run.
pub fn run_page(
    run: &Run,
    events: &[EventRecord],
    cancelable: bool,
    logs: &Result<RunLogs, String>,
) -> Markup {
    let g = gather(events);
    let after = events
        .last()
        .map(|e| e.storage_id.to_string())
        .unwrap_or_default();
    let title = format!("Run {}", run.run_id.get(..8).unwrap_or(&run.run_id));
    // The timeline's axis in float seconds: also the page's `data-t0`/`data-t1`, which
    // `live.js` reads as numbers.
    let start = run
        .started_at
        .map(Timestamp::as_secs_f64)
        .or(g.first)
        .unwrap_or(run.created_at.as_secs_f64());
    let end = run
        .ended_at
        .map(Timestamp::as_secs_f64)
        .or(g.last)
        .unwrap_or(start)
        .max(start + 0.001);
    let target = run.selection.as_deref().unwrap_or(&run.job_name);
    let body = html! {
        (page_assets())
        div.page data-run-stream data-run-id=(run.run_id) data-after=(after) data-t0=(start) {
            h1 { (title) " " span data-run-status { (badge(run.status.as_str())) } }
            p.run-summary {
                code { (target) } " in " strong { (run.location) }
                @if let Some(s) = run.started_at {
                    " · " @if run.ended_at.is_some() { "took " } @else { "running for " }
                    span data-run-duration { (duration(run.ended_at.unwrap_or_else(dg_storage::now).secs_since(s))) }
                }
            }
            @if cancelable && !run.status.is_terminal() {
                form.cancel method="post" action={ "/runs/" (run.run_id) "/cancel" } data-cancel {
                    button type="submit" { "Cancel run" }
                }
            }
            @if let Some((step, err)) = g.error { (error_panel(step, err)) }
            table.props {
                tr { th { "Run id" } td { code { (run.run_id) } } }
                tr { th { "Job" } td { code { (run.job_name) } } }
                @if let Some(p) = &run.partition { tr { th { "Partition" } td { (p) } } }
                tr { th { "Created" } td { (time(run.created_at)) } }
                @if let Some(t) = run.started_at { tr { th { "Started" } td { (time(t)) } } }
                @if let Some(t) = run.ended_at { tr { th { "Ended" } td { (time(t)) } } }
                @for (k, v) in &run.tags { tr { th { "Tag " code { (k) } } td { (v) } } }
            }
            h2 { "Steps" }
            table.grid.steps data-steps data-t1=(end) {
                thead { tr { th { "Step" } th { "Status" } th { "Duration" } th.timeline { "Timeline" } } }
                tbody {
                    @for (key, step) in in_start_order(&g.steps, &g.seen) { (step_row(key, step, start, end)) }
                }
            }
            h2 { "Event log" }
            table.grid.events data-events {
                thead { tr { th { "Time (UTC)" } th { "Type" } th { "Step" } th { "Message" } } }
                tbody {
                    @for record in events { (event_row(record)) }
                }
            }
            @if !run.status.is_terminal() || !g.stdout.is_empty() || !g.stderr.is_empty() {
                div.columns {
                    section { h2 { "stdout" } pre.output data-stdout data-empty="nothing printed" { (g.stdout) } }
                    section { h2 { "stderr" } pre.output.stderr data-stderr data-empty="nothing printed" { (g.stderr) } }
                }
            }
            (captured_output(logs))
        }
    };
    page(&title, Nav::Runs, body)
}

/// The error that ended the run, with its traceback in a scrollable block.
fn error_panel(step: Option<&str>, err: &ErrorInfo) -> Markup {
    html! {
        section.run-error data-run-error {
            h2 {
                "Error"
                @if let Some(step) = step { " in step " code { (step) } }
            }
            p.error-message {
                @if let Some(class) = &err.class_name { code { (class) } ": " }
                (err.message)
            }
            @if !err.stack.is_empty() { pre.traceback { (traceback(&err.stack)) } }
        }
    }
}

/// The traceback's entries one after the other, each on its own lines.
fn traceback(stack: &[String]) -> String {
    let mut text = String::new();
    for entry in stack {
        text.push_str(entry);
        if !entry.ends_with('\n') {
            text.push('\n');
        }
    }
    text
}

/// Steps in the order they started (those not started yet last, in the order they appeared).
fn in_start_order<'a, 'b>(
    steps: &'b BTreeMap<&'a str, Step>,
    seen: &[&'a str],
) -> Vec<(&'a str, &'b Step)> {
    let mut ordered: Vec<(usize, &'a str, &'b Step)> = seen
        .iter()
        .enumerate()
        .filter_map(|(i, k)| steps.get(k).map(|s| (i, *k, s)))
        .collect();
    ordered.sort_by(|a, b| {
        let key = |s: &Step| (s.start.is_none(), s.start.unwrap_or(0.0));
        let (ka, kb) = (key(a.2), key(b.2));
        ka.0.cmp(&kb.0)
            .then(ka.1.total_cmp(&kb.1))
            .then(a.0.cmp(&b.0))
    });
    ordered.into_iter().map(|(_, k, s)| (k, s)).collect()
}

fn step_row(key: &str, step: &Step, t0: f64, t1: f64) -> Markup {
    let span = t1 - t0;
    let bar = step.start.map(|s| {
        let e = step.end.unwrap_or(t1).max(s);
        let x = ((s - t0) / span * AXIS).clamp(0.0, AXIS);
        let w = ((e - s) / span * AXIS).clamp(2.0, AXIS - x);
        (x, w)
    });
    let class = format!(
        "bar status-{}",
        step.status.to_ascii_lowercase().replace('_', "-")
    );
    html! {
        tr data-step=(key) data-start=[step.start] data-end=[step.end] {
            td { code { (key) } }
            td { (badge(step.status)) }
            td.small { @if let (Some(s), Some(e)) = (step.start, step.end) { (duration(e - s)) } }
            td.timeline {
                svg.step-bar viewBox="0 0 1000 10" preserveAspectRatio="none" aria-hidden="true" {
                    @if let Some((x, w)) = bar {
                        rect class=(class) x=(format!("{x:.1}")) width=(format!("{w:.1}")) y="0" height="10" rx="2" {}
                    }
                }
            }
        }
    }
}

fn event_row(record: &EventRecord) -> Markup {
    let e = &record.event;
    let kind = e.kind.event_type();
    let error = match &e.kind {
        EventKind::RunFailure { error: Some(err) }
        | EventKind::StepFailure { error: Some(err) } => Some(err),
        _ => None,
    };
    let level = match &e.kind {
        EventKind::Log { level, .. } => Some(format!("{level:?}").to_ascii_uppercase()),
        _ => None,
    };
    html! {
        tr data-event-id=(record.storage_id) data-type=(kind) class=(row_class(&e.kind)) {
            td.small.time title=(time(e.timestamp)) { (clock(e.timestamp)) }
            td { code { (kind) } }
            td { @if let Some(s) = &e.step_key { code { (s) } } }
            td.message {
                @if let Some(level) = &level { span class={ "level level-" (level.to_ascii_lowercase()) } { (level) } " " }
                (event_message(&e.kind))
                @if let Some(err) = error {
                    @if !err.stack.is_empty() {
                        details { summary { "Traceback" } pre.traceback { (traceback(&err.stack)) } }
                    }
                }
            }
        }
    }
}

/// A class that colours failures, successes and standard error in the log.
fn row_class(kind: &EventKind) -> &'static str {
    match kind {
        EventKind::RunFailure { .. } | EventKind::StepFailure { .. } => "ev-failure",
        EventKind::RunSuccess | EventKind::StepSuccess { .. } => "ev-success",
        EventKind::Stderr { .. } => "ev-stderr",
        EventKind::Stdout { .. } => "ev-output",
        EventKind::EngineEvent { .. } => "ev-engine",
        _ => "ev",
    }
}
