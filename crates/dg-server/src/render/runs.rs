//! The runs list (with status and location filters), the one-line text of an event, and the
//! launch form. The page of one run is [`super::run_page`].

use dg_storage::{EventKind, Run, RunStatus};
use maud::{html, Markup};

use super::fmt::page_assets;
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
            .map(|s| run.ended_at.unwrap_or_else(dg_storage::now).secs_since(s)),
    }
}

/// One line of text for an event (the page's words from [`dg_runs::display::describe`]).
pub fn event_message(kind: &EventKind) -> String {
    dg_runs::display::describe(kind, dg_runs::display::Audience::Page).message
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
                label {
                    "Asset selection"
                    input type="text" name="selection" value=(form.selection) size="50" placeholder="group:raw";
                    span.help { "For example " code { "key:orders" } ", " code { "group:raw" } ", " code { "key:orders+" } " (and downstream), " code { "+key:report" } " (and upstream), " code { "*" } " (everything)." }
                }
                label { "or a job" input type="text" name="job" value=(form.job) size="30" placeholder="daily_job"; }
                label { "Location"
                    select name="location" {
                        option value="" { "(from the selection)" }
                        @for l in locations { option value=(l) selected[*l == form.location] { (l) } }
                    }
                }
                label { "Partition" input type="text" name="partition" value=(form.partition) placeholder="for partitioned assets, e.g. 2025-01-31"; }
                label { "Run config (JSON)" textarea name="config" rows="6" cols="60" placeholder="{}" { (form.config) } }
                label { "Tags (one key=value a line)" textarea name="tags" rows="3" cols="60" { (form.tags) } }
                button type="submit" { "Launch" }
            }
        }
    };
    page("Launch", Nav::Runs, body)
}
