//! The run page's "Captured output" section: the stdout and stderr Dagster's compute log manager
//! captured, one block per capture (the steps one process executed), as
//! `GET /api/runs/{id}/logs` returns them. `static/live.js` rebuilds the same markup from that
//! endpoint while the run goes on.

use dg_runs::compute_logs::{CapturedLog, RunLogs, MAX_SHOWN_BYTES};
use maud::{html, Markup};

/// The section, from the run's captured output or why it could not be read.
pub fn captured_output(logs: &Result<RunLogs, String>) -> Markup {
    html! {
        section.captured data-captured {
            h2 { "Captured output" }
            div data-captured-body {
                @match logs {
                    Err(message) => p.error-message { "The captured output could not be read: " (message) },
                    Ok(RunLogs::NotShown { reason }) => p.hint { (reason) },
                    Ok(RunLogs::Shown { logs, .. }) if logs.is_empty() => {
                        p.small data-captured-empty { "Nothing captured yet." }
                    }
                    Ok(RunLogs::Shown { logs, .. }) => @for log in logs { (capture(log)) },
                }
            }
        }
    }
}

fn capture(log: &CapturedLog) -> Markup {
    html! {
        div.capture data-log-key=(log.log_key) {
            h3 {
                @if log.step_keys.is_empty() {
                    "Log " code { (log.log_key) }
                } @else {
                    @if log.step_keys.len() == 1 { "Step " } @else { "Steps " }
                    @for (i, step) in log.step_keys.iter().enumerate() {
                        @if i > 0 { ", " }
                        code { (step) }
                    }
                }
                " "
                @if !log.complete { span.badge.status-started data-capturing { "capturing" } }
            }
            div.columns {
                section { h4 { "stdout" } pre.output data-capture-stdout data-empty="nothing printed" { (log.stdout) } }
                section { h4 { "stderr" } pre.output.stderr data-capture-stderr data-empty="nothing printed" { (log.stderr) } }
            }
            @if log.truncated {
                p.small { "Only the last " (MAX_SHOWN_BYTES / 1024 / 1024) " MiB of each stream is shown." }
            }
        }
    }
}
