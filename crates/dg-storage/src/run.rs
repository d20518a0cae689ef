//! Runs as stored: what was launched (location, job, selection, partition, config, tags), its
//! status with the times of each change, and the worker executing it (for monitoring).

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A point in time, stored as Dagster does (float seconds since the Unix epoch): `dg_core::Timestamp`.
pub use dg_core::Timestamp;

/// The current time as a [`Timestamp`].
pub fn now() -> Timestamp {
    Timestamp::now()
}

/// A fresh run id (a UUID v4, as Dagster makes them).
pub fn new_run_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Dagster's run statuses, stored and shown by their upper-case names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RunStatus {
    /// Waiting in the run queue.
    Queued,
    /// Created, not yet queued or launched.
    NotStarted,
    /// The launcher is starting a worker.
    Starting,
    /// The worker is executing.
    Started,
    /// Finished successfully.
    Success,
    /// Finished with a failure (or its worker was lost).
    Failure,
    /// Cancellation requested, the worker is stopping.
    Canceling,
    /// Canceled.
    Canceled,
}

impl RunStatus {
    /// Every status, in lifecycle order.
    pub const ALL: [RunStatus; 8] = [
        Self::Queued,
        Self::NotStarted,
        Self::Starting,
        Self::Started,
        Self::Success,
        Self::Failure,
        Self::Canceling,
        Self::Canceled,
    ];

    /// The stored and displayed name (`STARTED`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "QUEUED",
            Self::NotStarted => "NOT_STARTED",
            Self::Starting => "STARTING",
            Self::Started => "STARTED",
            Self::Success => "SUCCESS",
            Self::Failure => "FAILURE",
            Self::Canceling => "CANCELING",
            Self::Canceled => "CANCELED",
        }
    }

    /// Whether the run is over; a finished run never changes status again.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Success | Self::Failure | Self::Canceled)
    }
}

impl fmt::Display for RunStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A status name that is not one of [`RunStatus::ALL`].
#[derive(Debug, thiserror::Error)]
#[error("unknown run status `{0}`")]
pub struct UnknownStatus(pub String);

impl FromStr for RunStatus {
    type Err = UnknownStatus;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|st| st.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownStatus(s.to_string()))
    }
}

/// What to store for a new run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewRun {
    /// Unique id ([`new_run_id`]).
    pub run_id: String,
    /// The code location it runs in.
    pub location: String,
    /// The job (Dagster's `__ASSET_JOB` for asset selections).
    pub job_name: String,
    /// The asset selection expression, when the run was launched with one.
    pub selection: Option<String>,
    /// The partition key, for a partitioned run.
    pub partition: Option<String>,
    /// Run config (JSON object; `{}` when none).
    pub config: serde_json::Value,
    /// Run tags.
    pub tags: BTreeMap<String, String>,
    /// The initial status (usually `QUEUED` or `NOT_STARTED`).
    pub status: RunStatus,
    /// Creation time.
    pub created_at: Timestamp,
}

/// The process executing a run, as recorded by its heartbeats.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Worker {
    /// Its process id.
    pub pid: u32,
    /// The host it runs on ([`crate::this_host`]), so that pids are only checked where they mean something.
    pub hostname: String,
}

/// A stored run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Run {
    /// Unique id.
    pub run_id: String,
    /// The code location it runs in.
    pub location: String,
    /// The job.
    pub job_name: String,
    /// The asset selection expression, if any.
    pub selection: Option<String>,
    /// The partition key, if any.
    pub partition: Option<String>,
    /// Run config.
    pub config: serde_json::Value,
    /// Run tags.
    pub tags: BTreeMap<String, String>,
    /// Current status.
    pub status: RunStatus,
    /// Creation time.
    pub created_at: Timestamp,
    /// Time of the last status change.
    pub updated_at: Timestamp,
    /// When it became `STARTED`.
    pub started_at: Option<Timestamp>,
    /// When it reached a terminal status.
    pub ended_at: Option<Timestamp>,
    /// Its worker, once one reported.
    pub worker: Option<Worker>,
    /// Time of the worker's last heartbeat.
    pub heartbeat_at: Option<Timestamp>,
}

/// Which runs to list. Runs come newest first; an empty filter lists all.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunFilter {
    /// Only runs in one of these statuses (any when empty).
    pub statuses: Vec<RunStatus>,
    /// Only runs of this code location.
    pub location: Option<String>,
    /// Only runs carrying all these tags.
    pub tags: Vec<(String, String)>,
    /// At most this many.
    pub limit: Option<u32>,
    /// Only runs older than this run id (the last one of the previous page).
    pub cursor: Option<String>,
}
