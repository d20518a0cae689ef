//! The typed event log of a run. Event kinds carry Dagster's event type names (`STEP_START`,
//! `ASSET_MATERIALIZATION`, ...), plus our own `LOG`, `STDOUT` and `STDERR` for log lines and
//! captured output. Storage keeps each event as Dagster's serialised `EventLogEntry`
//! (`dagster::serdes`); captured output is not stored as an event (Dagster keeps it in compute
//! log files).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::run::Timestamp;

/// An asset key: a path of names, shown as `a/b/c` and stored as a JSON list, as Dagster does.
/// The one key type of every crate (`dg_selection::AssetKey` is the same type).
pub use dg_core::AssetKey;

/// Metadata attached to materializations, observations and check results (JSON values by label).
pub type Metadata = BTreeMap<String, serde_json::Value>;

/// An error as reported by the worker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorInfo {
    /// The message.
    pub message: String,
    /// The exception class, when it came from Python.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class_name: Option<String>,
    /// The traceback lines.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stack: Vec<String>,
}

/// Log levels of `LOG` events (Python's names), least severe first. With the `clap` feature it is
/// also the value of `dg check defs --log-level` (`debug` ... `critical`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LogLevel {
    // Plain comments, not doc comments: clap would print those as help of each `--log-level` value.
    // Serialised as `DEBUG`, `INFO`, `WARNING`, `ERROR`, `CRITICAL`.
    Debug,
    Info,
    Warning,
    Error,
    Critical,
}

/// What happened. The serde tag `type` is the stored event type name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EventKind {
    /// The run entered the queue.
    RunEnqueued,
    /// A worker is being launched.
    RunStarting,
    /// Execution began.
    RunStart,
    /// The run succeeded.
    RunSuccess,
    /// The run failed.
    RunFailure {
        /// Why, when known.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<ErrorInfo>,
    },
    /// Cancellation was requested.
    RunCanceling,
    /// The run was canceled.
    RunCanceled,
    /// A step began.
    StepStart,
    /// A step succeeded.
    StepSuccess {
        /// How long it took, in milliseconds.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        duration_ms: Option<f64>,
    },
    /// A step failed.
    StepFailure {
        /// Why, when known.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<ErrorInfo>,
    },
    /// A step was skipped.
    StepSkipped,
    /// An asset (partition) was materialized.
    AssetMaterialization {
        /// The asset.
        asset_key: AssetKey,
        /// The partition, for partitioned assets.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        partition: Option<String>,
        /// Its metadata.
        #[serde(default)]
        metadata: Metadata,
    },
    /// An asset (partition) was observed.
    AssetObservation {
        /// The asset.
        asset_key: AssetKey,
        /// The partition, for partitioned assets.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        partition: Option<String>,
        /// Its metadata.
        #[serde(default)]
        metadata: Metadata,
    },
    /// An asset check ran.
    AssetCheckEvaluation {
        /// The asset checked.
        asset_key: AssetKey,
        /// The check's name.
        check_name: String,
        /// Whether it passed.
        passed: bool,
        /// `ERROR` or `WARN`, as Dagster's `AssetCheckSeverity`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        severity: Option<String>,
        /// The partition checked, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        partition: Option<String>,
        /// Its metadata.
        #[serde(default)]
        metadata: Metadata,
    },
    /// Something the engine or the host reports (launch, monitoring, ...).
    EngineEvent {
        /// The message.
        message: String,
    },
    /// A log message of the user's code or of Dagster.
    Log {
        /// Its level.
        level: LogLevel,
        /// The message.
        message: String,
    },
    /// Captured standard output.
    Stdout {
        /// The text, as written.
        text: String,
    },
    /// Captured standard error.
    Stderr {
        /// The text, as written.
        text: String,
    },
}

impl EventKind {
    /// The stored and displayed type name (`ASSET_MATERIALIZATION`).
    pub fn event_type(&self) -> &'static str {
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

    /// The asset the event is about, if any.
    pub fn asset_key(&self) -> Option<&AssetKey> {
        match self {
            Self::AssetMaterialization { asset_key, .. }
            | Self::AssetObservation { asset_key, .. }
            | Self::AssetCheckEvaluation { asset_key, .. } => Some(asset_key),
            _ => None,
        }
    }

    /// The partition the event is about, if any.
    pub fn partition(&self) -> Option<&str> {
        match self {
            Self::AssetMaterialization { partition, .. }
            | Self::AssetObservation { partition, .. }
            | Self::AssetCheckEvaluation { partition, .. } => partition.as_deref(),
            _ => None,
        }
    }

    /// The check name of an `ASSET_CHECK_EVALUATION`.
    pub fn check_name(&self) -> Option<&str> {
        match self {
            Self::AssetCheckEvaluation { check_name, .. } => Some(check_name),
            _ => None,
        }
    }
}

/// One event of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// When it happened.
    pub timestamp: Timestamp,
    /// The step it belongs to, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step_key: Option<String>,
    /// What happened.
    #[serde(flatten)]
    pub kind: EventKind,
}

impl Event {
    /// An event of `kind` now, outside any step.
    pub fn now(kind: EventKind) -> Self {
        Self {
            timestamp: crate::run::now(),
            step_key: None,
            kind,
        }
    }
}

/// An event numbered by its writer: the run's events are numbered 1, 2, 3, ... and a batch
/// resent after a failure is stored once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SequencedEvent {
    /// The writer's number for this event within its run, from 1.
    pub seq: i64,
    /// The event.
    pub event: Event,
    /// Dagster's serialised `EventLogEntry` of this event, as the worker's Dagster wrote it, when
    /// the event came from Dagster: storage keeps this text as the event (so every Dagster event
    /// type is stored as itself) and `event` is its typed reading. `None`: storage serialises
    /// `event` itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dagster_json: Option<String>,
}

impl SequencedEvent {
    /// An event numbered `seq` with no Dagster text of its own.
    pub fn new(seq: i64, event: Event) -> Self {
        Self {
            seq,
            event,
            dagster_json: None,
        }
    }
}

/// A stored event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventRecord {
    /// Its storage id, Dagster's: increasing in the order events were stored, used as cursor.
    /// With SQLite, a run's events have the ids of its own shard (`history/runs/<run_id>.db`, so
    /// they are per run, as Dagster's `get_records_for_run` gives them), and the asset reads
    /// (`latest_materialization`, `materialization_history`, `asset_check_results`) give the ids of
    /// the cross-run index `index.db`, which Dagster's asset tables refer to; with PostgreSQL one
    /// `event_logs` table numbers every event of every run. 0 for captured output shown live
    /// (it has no row).
    pub storage_id: i64,
    /// Its run.
    pub run_id: String,
    /// The writer's sequence number; `None` for events added by the host
    /// ([`crate::Storage::append_host_event`]) and for events Dagster stored without dg.
    pub seq: Option<i64>,
    /// The event.
    pub event: Event,
}
