//! The run wire: JSON objects, one per line, tagged by `t`, on the run's Unix socket. The worker
//! writes [`WorkerMessage`]s (built by `dg-location/agent/_dg_agent/wire.py`); the host writes
//! [`HostMessage`]s back on the same socket. This is the wire's own schema, versioned by
//! [`WIRE_VERSION`]: ingestion converts each [`WireEvent`] into a [`dg_storage::Event`] and keeps
//! the worker Dagster's own text of the event beside it.
//!
//! Worker to host:
//! - `hello`: first; the worker's wire version `v` and its pid. A worker of a version this host
//!   does not speak is refused (the run fails with an error naming both versions).
//! - `event`: the worker's sequence number (1, 2, 3, ...), one event of the run as the host shows
//!   it (`event`) and, when the event came from Dagster, Dagster's serialised `EventLogEntry` of it
//!   (`dagster`), which is what storage keeps. `STDOUT`/`STDERR` events have no `dagster`: Dagster
//!   keeps captured output in its compute-log files, not in the event log.
//! - `end`: last; whether Dagster reported success.
//!
//! Host to worker:
//! - `stored`: every event numbered `through` or lower is stored (cumulative: a later `stored`
//!   covers the earlier ones, so the host may drop one it cannot write). The worker ignores
//!   messages it does not know.

use std::collections::BTreeMap;

use dg_storage::{AssetKey, ErrorInfo, Event, EventKind, LogLevel};
use serde::{Deserialize, Serialize};

/// Version of the run wire; the agent's `WIRE_VERSION` (`wire.py`) must match.
pub const WIRE_VERSION: u32 = 2;

/// One message from a run worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
pub enum WorkerMessage {
    /// First message: the worker's wire version and process id (also its process group).
    Hello {
        /// The wire version the worker speaks (0: a worker from before versions).
        #[serde(default)]
        v: u32,
        /// Process id.
        pid: u32,
    },
    /// An event of the run.
    Event {
        /// The worker's number for it within the run, from 1.
        seq: i64,
        /// The event, as the host shows it.
        event: WireEvent,
        /// Dagster's serialised `EventLogEntry` of the event (`serialize_value` text), when the
        /// worker's Dagster made it; what storage keeps.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        dagster: Option<String>,
    },
    /// Last message: the run is over.
    End {
        /// Whether Dagster reported success.
        success: bool,
    },
}

impl WorkerMessage {
    /// Parses one line.
    pub fn parse(line: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(line)
    }
}

/// One message from the host to a run worker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
pub enum HostMessage {
    /// Every event numbered `through` or lower is stored.
    Stored {
        /// The highest sequence number stored so far (all lower ones are stored too).
        through: i64,
    },
}

impl HostMessage {
    /// The message as one line, newline included.
    pub fn line(&self) -> String {
        let mut line = serde_json::to_string(self).expect("host messages serialise");
        line.push('\n');
        line
    }
}

/// Why a worker's `hello` is refused, if it is.
pub fn check_version(v: u32) -> Result<(), String> {
    if v == WIRE_VERSION {
        return Ok(());
    }
    Err(format!(
        "the run worker speaks version {v} of the run wire, but this dg speaks version \
         {WIRE_VERSION}: the agent and the host come from different builds of dg; the run was \
         stopped"
    ))
}

/// One event as the worker sends it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WireEvent {
    /// When it happened (seconds since the Unix epoch).
    pub timestamp: f64,
    /// The step it belongs to, if any.
    #[serde(default)]
    pub step_key: Option<String>,
    /// What happened.
    #[serde(flatten)]
    pub kind: WireEventKind,
}

/// An error of user code or of Dagster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireError {
    /// The message.
    pub message: String,
    /// The exception class, when known.
    #[serde(default)]
    pub class_name: Option<String>,
    /// The traceback lines.
    #[serde(default)]
    pub stack: Vec<String>,
}

/// Log levels (Python's names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum WireLogLevel {
    /// `DEBUG`.
    Debug,
    /// `INFO`.
    Info,
    /// `WARNING`.
    Warning,
    /// `ERROR`.
    Error,
    /// `CRITICAL`.
    Critical,
}

/// Metadata values by label.
pub type WireMetadata = BTreeMap<String, serde_json::Value>;

/// What happened; the tag `type` is Dagster's event type name (or `LOG`, `STDOUT`, `STDERR`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "SCREAMING_SNAKE_CASE")]
#[allow(missing_docs)]
pub enum WireEventKind {
    RunEnqueued,
    RunStarting,
    RunStart,
    RunSuccess,
    RunFailure {
        #[serde(default)]
        error: Option<WireError>,
    },
    RunCanceling,
    RunCanceled,
    StepStart,
    StepSuccess {
        #[serde(default)]
        duration_ms: Option<f64>,
    },
    StepFailure {
        #[serde(default)]
        error: Option<WireError>,
    },
    StepSkipped,
    AssetMaterialization {
        asset_key: Vec<String>,
        #[serde(default)]
        partition: Option<String>,
        #[serde(default)]
        metadata: WireMetadata,
    },
    AssetObservation {
        asset_key: Vec<String>,
        #[serde(default)]
        partition: Option<String>,
        #[serde(default)]
        metadata: WireMetadata,
    },
    AssetCheckEvaluation {
        asset_key: Vec<String>,
        check_name: String,
        passed: bool,
        #[serde(default)]
        severity: Option<String>,
        #[serde(default)]
        partition: Option<String>,
        #[serde(default)]
        metadata: WireMetadata,
    },
    EngineEvent {
        message: String,
    },
    Log {
        level: WireLogLevel,
        message: String,
    },
    Stdout {
        text: String,
    },
    Stderr {
        text: String,
    },
}

impl WireEventKind {
    /// Every event type name, in declaration order.
    pub const TYPES: &'static [&'static str] = &[
        "RUN_ENQUEUED",
        "RUN_STARTING",
        "RUN_START",
        "RUN_SUCCESS",
        "RUN_FAILURE",
        "RUN_CANCELING",
        "RUN_CANCELED",
        "STEP_START",
        "STEP_SUCCESS",
        "STEP_FAILURE",
        "STEP_SKIPPED",
        "ASSET_MATERIALIZATION",
        "ASSET_OBSERVATION",
        "ASSET_CHECK_EVALUATION",
        "ENGINE_EVENT",
        "LOG",
        "STDOUT",
        "STDERR",
    ];

    /// The event type name (`ASSET_MATERIALIZATION`).
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::RunEnqueued => "RUN_ENQUEUED",
            Self::RunStarting => "RUN_STARTING",
            Self::RunStart => "RUN_START",
            Self::RunSuccess => "RUN_SUCCESS",
            Self::RunFailure { .. } => "RUN_FAILURE",
            Self::RunCanceling => "RUN_CANCELING",
            Self::RunCanceled => "RUN_CANCELED",
            Self::StepStart => "STEP_START",
            Self::StepSuccess { .. } => "STEP_SUCCESS",
            Self::StepFailure { .. } => "STEP_FAILURE",
            Self::StepSkipped => "STEP_SKIPPED",
            Self::AssetMaterialization { .. } => "ASSET_MATERIALIZATION",
            Self::AssetObservation { .. } => "ASSET_OBSERVATION",
            Self::AssetCheckEvaluation { .. } => "ASSET_CHECK_EVALUATION",
            Self::EngineEvent { .. } => "ENGINE_EVENT",
            Self::Log { .. } => "LOG",
            Self::Stdout { .. } => "STDOUT",
            Self::Stderr { .. } => "STDERR",
        }
    }
}

impl From<WireError> for ErrorInfo {
    fn from(e: WireError) -> Self {
        Self {
            message: e.message,
            class_name: e.class_name,
            stack: e.stack,
        }
    }
}

impl From<WireLogLevel> for LogLevel {
    fn from(level: WireLogLevel) -> Self {
        match level {
            WireLogLevel::Debug => Self::Debug,
            WireLogLevel::Info => Self::Info,
            WireLogLevel::Warning => Self::Warning,
            WireLogLevel::Error => Self::Error,
            WireLogLevel::Critical => Self::Critical,
        }
    }
}

impl From<WireEventKind> for EventKind {
    fn from(kind: WireEventKind) -> Self {
        use WireEventKind as W;
        match kind {
            W::RunEnqueued => Self::RunEnqueued,
            W::RunStarting => Self::RunStarting,
            W::RunStart => Self::RunStart,
            W::RunSuccess => Self::RunSuccess,
            W::RunFailure { error } => Self::RunFailure {
                error: error.map(Into::into),
            },
            W::RunCanceling => Self::RunCanceling,
            W::RunCanceled => Self::RunCanceled,
            W::StepStart => Self::StepStart,
            W::StepSuccess { duration_ms } => Self::StepSuccess { duration_ms },
            W::StepFailure { error } => Self::StepFailure {
                error: error.map(Into::into),
            },
            W::StepSkipped => Self::StepSkipped,
            W::AssetMaterialization {
                asset_key,
                partition,
                metadata,
            } => Self::AssetMaterialization {
                asset_key: AssetKey(asset_key),
                partition,
                metadata,
            },
            W::AssetObservation {
                asset_key,
                partition,
                metadata,
            } => Self::AssetObservation {
                asset_key: AssetKey(asset_key),
                partition,
                metadata,
            },
            W::AssetCheckEvaluation {
                asset_key,
                check_name,
                passed,
                severity,
                partition,
                metadata,
            } => Self::AssetCheckEvaluation {
                asset_key: AssetKey(asset_key),
                check_name,
                passed,
                severity,
                partition,
                metadata,
            },
            W::EngineEvent { message } => Self::EngineEvent { message },
            W::Log { level, message } => Self::Log {
                level: level.into(),
                message,
            },
            W::Stdout { text } => Self::Stdout { text },
            W::Stderr { text } => Self::Stderr { text },
        }
    }
}

impl From<WireEvent> for Event {
    fn from(event: WireEvent) -> Self {
        Self {
            timestamp: dg_storage::Timestamp::from_secs_f64(event.timestamp),
            step_key: event.step_key,
            kind: event.kind.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_three_kinds() {
        assert!(matches!(
            WorkerMessage::parse(r#"{"t":"hello","v":1,"pid":12}"#).unwrap(),
            WorkerMessage::Hello { v: 1, pid: 12 }
        ));
        let msg = WorkerMessage::parse(
            r#"{"t":"event","seq":3,"event":{"timestamp":1.5,"step_key":"a","type":"STDOUT","text":"hi"}}"#,
        )
        .unwrap();
        let WorkerMessage::Event {
            seq,
            event,
            dagster,
        } = msg
        else {
            panic!("not an event")
        };
        assert_eq!(seq, 3);
        assert_eq!(dagster, None);
        let event = Event::from(event);
        assert_eq!(event.step_key.as_deref(), Some("a"));
        assert_eq!(event.kind, EventKind::Stdout { text: "hi".into() });
        assert!(matches!(
            WorkerMessage::parse(r#"{"t":"end","success":false}"#).unwrap(),
            WorkerMessage::End { success: false }
        ));
    }

    #[test]
    fn a_hello_without_a_version_is_version_zero_and_refused() {
        let msg = WorkerMessage::parse(r#"{"t":"hello","pid":12}"#).unwrap();
        assert_eq!(msg, WorkerMessage::Hello { v: 0, pid: 12 });
        let refused = check_version(0).unwrap_err();
        assert!(refused.contains("version 0"), "{refused}");
        assert!(
            refused.contains(&format!("version {WIRE_VERSION}")),
            "{refused}"
        );
        assert!(check_version(WIRE_VERSION).is_ok());
        assert!(check_version(1).is_err(), "version 1 has no Dagster text");
        assert!(check_version(3).is_err());
    }

    #[test]
    fn an_event_carries_dagsters_text() {
        let msg = WorkerMessage::parse(
            r#"{"t":"event","seq":1,"event":{"timestamp":1.0,"type":"ENGINE_EVENT","message":"STEP_OUTPUT: x"},"dagster":"{\"__class__\": \"EventLogEntry\"}"}"#,
        )
        .unwrap();
        let WorkerMessage::Event { dagster, .. } = msg else {
            panic!("not an event")
        };
        assert_eq!(
            dagster.as_deref(),
            Some(r#"{"__class__": "EventLogEntry"}"#)
        );
    }

    #[test]
    fn the_host_acknowledges_in_one_line() {
        let line = HostMessage::Stored { through: 42 }.line();
        assert_eq!(line, "{\"t\":\"stored\",\"through\":42}\n");
    }

    #[test]
    fn null_optional_fields_are_accepted() {
        let msg = WorkerMessage::parse(
            r#"{"t":"event","seq":1,"event":{"timestamp":1.0,"step_key":null,"type":"ASSET_MATERIALIZATION","asset_key":["a"],"partition":null,"metadata":{}}}"#,
        )
        .unwrap();
        assert!(matches!(msg, WorkerMessage::Event { .. }));
    }

    #[test]
    fn converts_to_the_stored_event() {
        let msg = WorkerMessage::parse(
            r#"{"t":"event","seq":2,"event":{"timestamp":2.0,"step_key":"s","type":"STEP_FAILURE","error":{"message":"boom","class_name":"ValueError","stack":["l1"]}}}"#,
        )
        .unwrap();
        let WorkerMessage::Event { event, .. } = msg else {
            panic!("not an event")
        };
        let stored = Event::from(event);
        assert_eq!(
            stored.kind,
            EventKind::StepFailure {
                error: Some(ErrorInfo {
                    message: "boom".into(),
                    class_name: Some("ValueError".into()),
                    stack: vec!["l1".into()],
                })
            }
        );
    }
}
