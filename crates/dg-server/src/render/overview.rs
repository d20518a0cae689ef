//! The overview page: every code location with its status, load time, versions and, for a failed
//! one, the error with its traceback; then the most recent runs.

use dg_host::locations::{LocationInfo, LocationStatus};
use maud::{html, Markup};

use super::fmt::{badge, duration, page_assets, time};
use super::page::{page, Nav};

/// A run as the lists show it.
pub struct RunRow {
    pub run_id: String,
    pub status: String,
    pub location: String,
    pub target: String,
    pub created_at: dg_storage::Timestamp,
    pub duration: Option<f64>,
}

/// The overview page.
pub fn overview(locations: &[LocationInfo], runs: &[RunRow]) -> Markup {
    let body = html! {
        (page_assets())
        div.page data-host-stream {
            h1 { "Code locations" }
            table.grid.locations {
                thead { tr { th { "Location" } th { "Status" } th { "Assets" } th { "Loaded in" } th { "Versions" } th {} } }
                tbody {
                    @for loc in locations { (location_row(loc)) }
                }
            }
            @for loc in locations.iter().filter(|l| l.error.is_some()) {
                @if let Some(error) = &loc.error {
                    section.location-error id={ "error-" (loc.name) } data-location=(loc.name) {
                        h2 { "Error loading " code { (loc.name) } }
                        p.error-message { (error.message) }
                        @if let Some(tb) = &error.traceback { pre.traceback { (tb) } }
                        @if let Some(hint) = &error.hint { p.hint { "hint: " (hint) } }
                        @if loc.stale_snapshot { p.muted { "Showing the definitions of the last successful load." } }
                    }
                }
            }
            h1 { "Recent runs" " " a.small href="/runs" { "all runs" } " " a.small href="/launch" { "launch a run" } }
            (runs_table(runs))
        }
    };
    page("Overview", Nav::Overview, body)
}

fn location_row(loc: &LocationInfo) -> Markup {
    let status = match loc.status {
        LocationStatus::Loading => "LOADING",
        LocationStatus::Loaded => "LOADED",
        LocationStatus::Failed => "FAILED",
    };
    html! {
        tr data-location=(loc.name) data-status=(status) data-generation=(loc.generation) {
            td { strong { (loc.name) } br; span.muted.small { (loc.root.display().to_string()) } }
            td { (badge(status)) @if loc.stale_snapshot { " " span.muted.small { "(last good snapshot shown)" } } }
            td { (loc.asset_count) }
            td {
                @if let Some(s) = loc.load_seconds { (duration(s)) }
                @if let Some(t) = loc.loaded_at { br; span.muted.small { (time(t)) } }
            }
            td.small {
                @if let Some(v) = &loc.dagster_version { "dagster " (v) }
                @if let Some(v) = &loc.python_version { br; "Python " (v) }
            }
            td {
                form method="post" action={ "/locations/" (loc.name) "/reload" } {
                    button type="submit" { "Reload" }
                }
            }
        }
    }
}

/// A table of runs (shared with the runs list).
pub fn runs_table(runs: &[RunRow]) -> Markup {
    html! {
        @if runs.is_empty() {
            p.muted { "No runs yet." }
        } @else {
            table.grid.runs {
                thead { tr { th { "Run" } th { "Status" } th { "Location" } th { "Target" } th { "Created" } th { "Duration" } } }
                tbody {
                    @for run in runs {
                        tr data-run=(run.run_id) {
                            td { a href={ "/runs/" (run.run_id) } { code { (run.run_id.get(..8).unwrap_or(&run.run_id)) } } }
                            td { (badge(&run.status)) }
                            td { (run.location) }
                            td { code { (run.target) } }
                            td.small { (time(run.created_at)) }
                            td.small { @if let Some(d) = run.duration { (duration(d)) } }
                        }
                    }
                }
            }
        }
    }
}
