//! Events in words: [`describe`] is the one place each event kind is put into words, for a terminal
//! (Dagster's sentences) or a web page (short phrases); [`event_line`] is one line per event for
//! terminals (`dg launch`) and logs: the time, the step, Dagster's event type and the message.
//! Captured output is shown as printed.

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

/// Who reads the words for an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience<'a> {
    /// A terminal (`dg launch`): Dagster's sentences, naming the `step` and the `job`.
    Terminal {
        /// The step key, empty when the event has none.
        step: &'a str,
        /// The job of the run.
        job: &'a str,
    },
    /// The event table of a run's web page: a short phrase beside the event type and the step
    /// (empty for the run and step events whose type says it all).
    Page,
}

/// What an event says, in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Words {
    /// The message.
    pub message: String,
    /// Whether it reports a failure.
    pub error: bool,
    /// Traceback lines to show under it (terminal only).
    pub details: Vec<String>,
}

/// The words for `kind`, the one place each event kind is put into words, for a terminal or a
/// page. Captured output is the text as printed.
pub fn describe(kind: &EventKind, audience: Audience<'_>) -> Words {
    let (step, job, terminal) = match audience {
        Audience::Terminal { step, job } => (step, job, true),
        Audience::Page => ("", "", false),
    };
    let mut error = false;
    let mut details = Vec::new();
    let message = match kind {
        EventKind::Stdout { text } | EventKind::Stderr { text } => text.clone(),
        EventKind::RunEnqueued if terminal => "Run enqueued.".to_owned(),
        EventKind::RunStarting if terminal => "Launching the run worker.".to_owned(),
        EventKind::RunStart if terminal => format!("Started execution of run for \"{job}\"."),
        EventKind::RunSuccess if terminal => format!("Finished execution of run for \"{job}\"."),
        EventKind::RunFailure { error: e } => {
            error = true;
            match (e, terminal) {
                (Some(e), true) => {
                    details = e.stack.clone();
                    format!("Execution of run for \"{job}\" failed: {}", summary(e))
                }
                (None, true) => format!("Execution of run for \"{job}\" failed."),
                (Some(e), false) => e.message.clone(),
                (None, false) => String::new(),
            }
        }
        EventKind::RunCanceling if terminal => "Canceling the run.".to_owned(),
        EventKind::RunCanceled if terminal => "The run was canceled.".to_owned(),
        EventKind::StepStart if terminal => format!("Started execution of step \"{step}\"."),
        EventKind::StepSuccess { duration_ms } => match (duration_ms, terminal) {
            (Some(ms), true) => format!("Finished execution of step \"{step}\" in {ms:.0}ms."),
            (None, true) => format!("Finished execution of step \"{step}\"."),
            (Some(ms), false) => format!("took {}", duration(ms / 1000.0)),
            (None, false) => String::new(),
        },
        EventKind::StepFailure { error: e } => {
            error = true;
            match (e, terminal) {
                (Some(e), true) => {
                    details = e.stack.clone();
                    format!("Execution of step \"{step}\" failed: {}", summary(e))
                }
                (None, true) => format!("Execution of step \"{step}\" failed."),
                (Some(e), false) => e.message.clone(),
                (None, false) => String::new(),
            }
        }
        EventKind::StepSkipped if terminal => format!("Skipped execution of step \"{step}\"."),
        EventKind::AssetMaterialization {
            asset_key,
            partition,
            ..
        } => match (partition, terminal) {
            (Some(p), true) => format!("Materialized value {asset_key} (partition `{p}`)."),
            (None, true) => format!("Materialized value {asset_key}."),
            (Some(p), false) => format!("materialized {asset_key} (partition {p})"),
            (None, false) => format!("materialized {asset_key}"),
        },
        EventKind::AssetObservation { asset_key, .. } if terminal => {
            format!("Observed {asset_key}.")
        }
        EventKind::AssetObservation { asset_key, .. } => format!("observed {asset_key}"),
        EventKind::AssetCheckEvaluation {
            asset_key,
            check_name,
            passed,
            ..
        } => {
            error = !passed;
            let verdict = if *passed { "passed" } else { "failed" };
            if terminal {
                format!("Check `{check_name}` on {asset_key} {verdict}.")
            } else {
                format!("check {asset_key}:{check_name} {verdict}")
            }
        }
        EventKind::EngineEvent { message } => message.clone(),
        EventKind::Log { level, message } if terminal => {
            error = matches!(level, LogLevel::Error | LogLevel::Critical);
            format!("{} - {message}", level_name(*level))
        }
        EventKind::Log { level, message } => {
            error = matches!(level, LogLevel::Error | LogLevel::Critical);
            message.clone()
        }
        // On a page, the event type beside the message says it all.
        EventKind::RunEnqueued
        | EventKind::RunStarting
        | EventKind::RunStart
        | EventKind::RunSuccess
        | EventKind::RunCanceling
        | EventKind::RunCanceled
        | EventKind::StepStart
        | EventKind::StepSkipped => String::new(),
    };
    Words {
        message,
        error,
        details,
    }
}

/// The line for `record` of a run of `job`.
pub fn event_line(record: &EventRecord, job: &str) -> EventLine {
    let event = &record.event;
    let step = event.step_key.as_deref().unwrap_or("");
    match &event.kind {
        EventKind::Stdout { text } => return EventLine::Stdout(text.clone()),
        EventKind::Stderr { text } => return EventLine::Stderr(text.clone()),
        _ => {}
    }
    let Words {
        message,
        error,
        details,
    } = describe(&event.kind, Audience::Terminal { step, job });
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

/// A duration for people: `250 ms`, `3.2 s`, `4 min 05 s`.
pub fn duration(seconds: f64) -> String {
    if seconds < 1.0 {
        format!("{:.0} ms", seconds * 1000.0)
    } else if seconds < 60.0 {
        format!("{seconds:.1} s")
    } else {
        let s = seconds.round() as u64;
        format!("{} min {:02} s", s / 60, s % 60)
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

    #[test]
    fn pages_get_short_phrases() {
        let page = |kind: EventKind| describe(&kind, Audience::Page).message;
        assert_eq!(page(EventKind::StepStart), "");
        assert_eq!(
            page(EventKind::StepSuccess {
                duration_ms: Some(3210.0)
            }),
            "took 3.2 s"
        );
        assert_eq!(
            page(EventKind::Log {
                level: LogLevel::Info,
                message: "hello".into()
            }),
            "hello"
        );
        assert_eq!(duration(0.25), "250 ms");
        assert_eq!(duration(245.0), "4 min 05 s");
    }
}
