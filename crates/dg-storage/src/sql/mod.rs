//! What the SQLite and PostgreSQL backends share: the schema, the trait implementation (written
//! once as a macro over the sqlx database type, since sqlx queries are not generic without a wall
//! of trait bounds), and the plain-Rust halves of decoding rows and checking batches.

pub(crate) mod migrate;
pub(crate) mod ops;
pub(crate) mod ops_events;
pub(crate) mod schema;

use std::collections::BTreeMap;

use crate::error::{Result, StorageError};
use crate::event::{Event, EventRecord, SequencedEvent};
use crate::run::{Run, RunStatus, Timestamp, Worker};

/// How to open a storage.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpenOptions {
    /// Migrate only up to this schema version (`None`: the latest). For tests of migrations and for
    /// tools that must not upgrade a database.
    pub schema_version: Option<i64>,
    /// SQLite only: cap the database file at this many pages (SQLite's `max_page_count`), a quota
    /// past which writes fail as on a full disk. Tests use it to check that a full disk is a clean
    /// error; PostgreSQL ignores it.
    pub sqlite_max_pages: Option<u64>,
    /// How [`crate::open_with`] retries operations that fail with a transient error.
    pub retry: crate::RetryPolicy,
}

/// Columns of `runs`, in the order [`RunRow`] reads them.
pub(crate) const RUN_COLUMNS: &str =
    "run_id, location, job_name, selection, partition_key, config, tags, status, \
     created_at, updated_at, started_at, ended_at, worker_pid, worker_host, heartbeat_at";

/// Columns of `event_logs` that make an [`EventRecord`].
pub(crate) const EVENT_COLUMNS: &str = "e.id, e.run_id, e.seq, e.body";

/// Events per multi-row `INSERT` (9 parameters each: below SQLite's and PostgreSQL's limits).
pub(crate) const INSERT_CHUNK: usize = 500;

/// A `runs` row as read from either backend.
pub(crate) struct RunRow {
    pub run_id: String,
    pub location: String,
    pub job_name: String,
    pub selection: Option<String>,
    pub partition: Option<String>,
    pub config: String,
    pub tags: String,
    pub status: String,
    pub created_at: f64,
    pub updated_at: f64,
    pub started_at: Option<f64>,
    pub ended_at: Option<f64>,
    pub worker_pid: Option<i64>,
    pub worker_host: Option<String>,
    pub heartbeat_at: Option<f64>,
}

impl RunRow {
    pub fn into_run(self, location: &str) -> Result<Run> {
        let corrupt = |what: &str, message: String| StorageError::Corrupt {
            location: location.to_string(),
            what: format!("{what} of run `{}`", self.run_id),
            message,
        };
        let config: serde_json::Value =
            serde_json::from_str(&self.config).map_err(|e| corrupt("config", e.to_string()))?;
        let tags: BTreeMap<String, String> =
            serde_json::from_str(&self.tags).map_err(|e| corrupt("tags", e.to_string()))?;
        let status: RunStatus = self
            .status
            .parse()
            .map_err(|e: crate::run::UnknownStatus| corrupt("status", e.to_string()))?;
        let worker = match (self.worker_pid, self.worker_host) {
            (Some(pid), Some(hostname)) => Some(Worker {
                pid: u32::try_from(pid).unwrap_or(0),
                hostname,
            }),
            _ => None,
        };
        Ok(Run {
            run_id: self.run_id,
            location: self.location,
            job_name: self.job_name,
            selection: self.selection,
            partition: self.partition,
            config,
            tags,
            status,
            created_at: Timestamp::from_secs_f64(self.created_at),
            updated_at: Timestamp::from_secs_f64(self.updated_at),
            started_at: self.started_at.map(Timestamp::from_secs_f64),
            ended_at: self.ended_at.map(Timestamp::from_secs_f64),
            worker,
            heartbeat_at: self.heartbeat_at.map(Timestamp::from_secs_f64),
        })
    }
}

/// Decodes an event row.
pub(crate) fn event_record(
    location: &str,
    id: i64,
    run_id: String,
    seq: Option<i64>,
    body: &str,
) -> Result<EventRecord> {
    let event: Event = serde_json::from_str(body).map_err(|e| StorageError::Corrupt {
        location: location.to_string(),
        what: format!("event {id} of run `{run_id}`"),
        message: e.to_string(),
    })?;
    Ok(EventRecord {
        storage_id: id,
        run_id,
        seq,
        event,
    })
}

/// The stored JSON of an event.
pub(crate) fn event_body(event: &Event) -> String {
    // An `Event` holds only strings, numbers and JSON values: serialising cannot fail.
    serde_json::to_string(event).unwrap_or_default()
}

/// Checks that a batch is numbered from at least 1 upwards by one.
pub(crate) fn check_batch(run_id: &str, events: &[SequencedEvent]) -> Result<()> {
    let bad = |message: String| StorageError::BadSequence {
        run_id: run_id.to_string(),
        message,
    };
    if let Some(first) = events.first() {
        if first.seq < 1 {
            return Err(bad(format!(
                "sequence numbers start at 1, got {}",
                first.seq
            )));
        }
    }
    for pair in events.windows(2) {
        if pair[1].seq != pair[0].seq + 1 {
            return Err(bad(format!(
                "sequence numbers in a batch must ascend by one, got {} after {}",
                pair[1].seq, pair[0].seq
            )));
        }
    }
    Ok(())
}

/// Whether a database error means the disk (or quota) is full: SQLite's `SQLITE_FULL` (13),
/// PostgreSQL's `disk_full` (53100).
pub(crate) fn is_disk_full(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .and_then(|d| d.code())
        .is_some_and(|code| code == "13" || code == "53100")
}

/// Whether a database error may go away when the operation is tried again (see
/// [`StorageError::is_transient`]). SQLSTATEs are PostgreSQL's: class `08` (connection exception),
/// `40001` serialization failure, `40P01` deadlock, `53300` too many connections, `57P01`-`57P03`
/// administrator shutdown, crash shutdown, cannot connect now. SQLite's codes are numbers and match
/// none of them (its busy timeout already waits for other writers).
pub(crate) fn is_transient(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(d) => d.code().is_some_and(|code| {
            code.starts_with("08")
                || matches!(
                    code.as_ref(),
                    "40001" | "40P01" | "53300" | "57P01" | "57P02" | "57P03"
                )
        }),
        _ => false,
    }
}

/// Maps a sqlx error to ours (disk full gets its own error).
pub(crate) fn db_error(location: &str, action: &str, e: sqlx::Error) -> StorageError {
    if is_disk_full(&e) {
        return StorageError::DiskFull {
            location: location.to_string(),
        };
    }
    StorageError::Database {
        location: location.to_string(),
        action: action.to_string(),
        source: e,
    }
}
