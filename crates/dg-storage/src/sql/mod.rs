//! What the SQLite and PostgreSQL backends share besides row planning (`crate::plan`): open
//! options, reading runs and events back from Dagster's rows (`rows`), checking batches, and
//! classifying database errors.

pub(crate) mod rows;

use crate::error::{Result, StorageError};
use crate::event::SequencedEvent;

/// How to open a storage.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpenOptions {
    /// SQLite only: cap each database file at this many pages (SQLite's `max_page_count`), a quota
    /// past which writes fail as on a full disk. Tests use it to check that a full disk is a clean
    /// error; PostgreSQL ignores it.
    pub sqlite_max_pages: Option<u64>,
    /// How [`crate::open_with`] retries operations that fail with a transient error.
    pub retry: crate::RetryPolicy,
}

/// Rows per multi-row `INSERT` (8 parameters each: below SQLite's and PostgreSQL's limits).
pub(crate) const INSERT_CHUNK: usize = 500;

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
