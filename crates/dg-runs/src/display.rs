//! One line of text per event, for terminals (`dg launch`) and logs: the time, the step, Dagster's
//! event type and a message in Dagster's words. Captured output is shown as printed.

use dg_storage::{EventKind, EventRecord, LogLevel, Timestamp};

/// How an event is shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventLine {
    /// A line the user's code printed to stdout, shown as is.
    Stdout(String),
    /// A line the user's code printed to stderr, shown as is.
    Stderr(String),
    /// A described event; `error` marks failures (shown in the error style), `details` holds a
    /// traceback to show under it.
    Event {
        /// `HH:MM:SS - step - TYPE - message`.
        text: String,
        /// Whether it reports a failure.
        error: bool,
        /// Traceback lines, if any.
        details: Vec<String>,
    },
}

/// The line for `record` of a run of `job`.
pub fn event_line(record: &EventRecord, job: &str) -> EventLine {
    let event = &record.event;
    let step = event.step_key.as_deref().unwrap_or("");
    let mut error = false;
    let mut details = Vec::new();
    let message = match &event.kind {
        EventKind::Stdout { text } => return EventLine::Stdout(text.clone()),
        EventKind::Stderr { text } => return EventLine::Stderr(text.clone()),
        EventKind::RunEnqueued => "Run enqueued.".to_owned(),
        EventKind::RunStarting => "Launching the run worker.".to_owned(),
        EventKind::RunStart => format!("Started execution of run for \"{job}\"."),
        EventKind::RunSuccess => format!("Finished execution of run for \"{job}\"."),
        EventKind::RunFailure { error: e } => {
            error = true;
            match e {
                Some(e) => {
                    details = e.stack.clone();
                    format!("Execution of run for \"{job}\" failed: {}", summary(e))
                }
                None => format!("Execution of run for \"{job}\" failed."),
            }
        }
        EventKind::RunCanceling => "Canceling the run.".to_owned(),
        EventKind::RunCanceled => "The run was canceled.".to_owned(),
        EventKind::StepStart => format!("Started execution of step \"{step}\"."),
        EventKind::StepSuccess { duration_ms } => match duration_ms {
            Some(ms) => format!("Finished execution of step \"{step}\" in {ms:.0}ms."),
            None => format!("Finished execution of step \"{step}\"."),
        },
        EventKind::StepFailure { error: e } => {
            error = true;
            match e {
                Some(e) => {
                    details = e.stack.clone();
                    format!("Execution of step \"{step}\" failed: {}", summary(e))
                }
                None => format!("Execution of step \"{step}\" failed."),
            }
        }
        EventKind::StepSkipped => format!("Skipped execution of step \"{step}\"."),
        EventKind::AssetMaterialization {
            asset_key,
            partition,
            ..
        } => match partition {
            Some(p) => format!("Materialized value {asset_key} (partition `{p}`)."),
            None => format!("Materialized value {asset_key}."),
        },
        EventKind::AssetObservation { asset_key, .. } => format!("Observed {asset_key}."),
        EventKind::AssetCheckEvaluation {
            asset_key,
            check_name,
            passed,
            ..
        } => {
            error = !passed;
            let verdict = if *passed { "passed" } else { "failed" };
            format!("Check `{check_name}` on {asset_key} {verdict}.")
        }
        EventKind::EngineEvent { message } => message.clone(),
        EventKind::Log { level, message } => {
            error = matches!(level, LogLevel::Error | LogLevel::Critical);
            format!("{} - {message}", level_name(*level))
        }
    };
    let time = clock(event.timestamp);
    let kind = event.kind.event_type();
    let text = if step.is_empty() {
        format!("{time} - {kind} - {message}")
    } else {
        format!("{time} - {step} - {kind} - {message}")
    };
    EventLine::Event {
        text,
        error,
        details,
    }
}

fn summary(e: &dg_storage::ErrorInfo) -> String {
    match &e.class_name {
        Some(class) => format!("{class}: {}", e.message),
        None => e.message.clone(),
    }
}

fn level_name(level: LogLevel) -> &'static str {
    match level {
        LogLevel::Debug => "DEBUG",
        LogLevel::Info => "INFO",
        LogLevel::Warning => "WARNING",
        LogLevel::Error => "ERROR",
        LogLevel::Critical => "CRITICAL",
    }
}

/// `HH:MM:SS` of a Unix timestamp, in UTC (no time-zone database needed).
fn clock(timestamp: Timestamp) -> String {
    let secs = timestamp.as_secs_f64().max(0.0) as u64 % 86_400;
    format!("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60)
}

#[cfg(test)]
mod tests {
    use super::*;
    use dg_storage::{ErrorInfo, Event};

    fn record(step: Option<&str>, kind: EventKind) -> EventRecord {
        EventRecord {
            storage_id: 1,
            run_id: "r".into(),
            seq: Some(1),
            event: Event {
                timestamp: Timestamp::from_secs_f64(3661.5),
                step_key: step.map(str::to_owned),
                kind,
            },
        }
    }

    #[test]
    fn lines_read_like_dagsters() {
        let line = event_line(&record(Some("a"), EventKind::StepStart), "__ASSET_JOB");
        assert_eq!(
            line,
            EventLine::Event {
                text: "01:01:01 - a - STEP_START - Started execution of step \"a\".".into(),
                error: false,
                details: vec![]
            }
        );
        let failure = EventKind::StepFailure {
            error: Some(ErrorInfo {
                message: "boom".into(),
                class_name: Some("ValueError".into()),
                stack: vec!["  File \"x.py\", line 1".into()],
            }),
        };
        let EventLine::Event {
            text,
            error,
            details,
        } = event_line(&record(Some("a"), failure), "j")
        else {
            panic!()
        };
        assert!(text.ends_with("failed: ValueError: boom"), "{text}");
        assert!(error);
        assert_eq!(details.len(), 1);
        assert_eq!(
            event_line(&record(None, EventKind::Stdout { text: "hi".into() }), "j"),
            EventLine::Stdout("hi".into())
        );
    }
}
