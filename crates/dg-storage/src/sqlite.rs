//! The SQLite backend: one database file under the instance's storage folder, in WAL mode with a
//! busy timeout so that several processes (`dg dev` and a `dg launch`) write it at once, and
//! `synchronous = FULL` so that a committed batch survives a host crash, not only a process crash.
//! Every write transaction starts with `BEGIN IMMEDIATE`, taking the write lock up front (a deferred
//! transaction that upgrades from read to write can fail at once instead of waiting).
//!
//! A full disk: next to the database lies `dg.db-reserve`, 1 MiB written when the storage opens
//! (when there is room for it). The first write that fails because the disk is full deletes it, so
//! that the writes recording *why* a run stopped (its `RUN_FAILURE`, its `FAILURE` status) still
//! find room. It is written again the next time the storage opens.

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Connection, Sqlite, Transaction};

use crate::config::SqliteConfig;
use crate::error::{Result, StorageError};
use crate::run::RunStatus;
use crate::sql::{db_error, schema, OpenOptions};

/// How long a write waits for another process's write lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// Size of the space kept free for recording a failure on a full disk: a run's failure touches
/// a few dozen pages of the write-ahead log, this leaves room for many times that.
const RESERVE_BYTES: usize = 1 << 20;

/// Runs and events in a SQLite database.
#[derive(Clone)]
pub struct SqliteStorage {
    pool: SqlitePool,
    path: PathBuf,
}

impl SqliteStorage {
    /// Opens (creating and migrating as needed) the database of `config`.
    pub async fn open(config: &SqliteConfig) -> Result<Self> {
        Self::open_with(config, &OpenOptions::default()).await
    }

    /// [`SqliteStorage::open`] with options.
    pub async fn open_with(config: &SqliteConfig, options: &OpenOptions) -> Result<Self> {
        std::fs::create_dir_all(&config.base_dir).map_err(|source| StorageError::CreateDir {
            path: config.base_dir.clone(),
            source,
        })?;
        let path = config.database_path();
        let location = describe(&path);
        let connect = SqliteConnectOptions::from_str("sqlite:")
            .map_err(|e| db_error(&location, "opening", e))?
            .filename(&path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(false);
        let connect = match options.sqlite_max_pages {
            Some(pages) => connect.pragma("max_page_count", pages.to_string()),
            None => connect,
        };
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .after_release(|conn, _| {
                Box::pin(async move {
                    // When a write fails with the disk full, SQLite may roll the whole transaction
                    // back by itself; sqlx's own `ROLLBACK` then fails and the connection believes
                    // it is still inside a transaction, refusing every later `BEGIN IMMEDIATE`.
                    // Let the queued rollback finish (the ping runs after it), then drop such a
                    // connection instead of handing it out again.
                    conn.ping().await?;
                    Ok(!conn.is_in_transaction())
                })
            })
            .connect_with(connect)
            .await
            .map_err(|e| db_error(&location, "opening", e))?;
        let storage = Self { pool, path };
        storage
            .migrate(schema::SQLITE, options.schema_version, true)
            .await?;
        storage.keep_reserve();
        Ok(storage)
    }

    /// The file holding the space set aside for a full disk.
    pub fn reserve_path(&self) -> PathBuf {
        let mut name = self.path.clone().into_os_string();
        name.push("-reserve");
        PathBuf::from(name)
    }

    /// Writes the reserve when it is missing or short; a disk without room for it goes without.
    fn keep_reserve(&self) {
        let path = self.reserve_path();
        let present = std::fs::metadata(&path).is_ok_and(|m| m.len() >= RESERVE_BYTES as u64);
        // Real zeros, not a sparse file: the point is to hold allocated blocks.
        if !present && std::fs::write(&path, vec![0u8; RESERVE_BYTES]).is_err() {
            let _ = std::fs::remove_file(&path);
        }
    }

    /// The database file.
    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    /// Closes the pool, waiting for connections to finish (checkpointing the WAL).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    fn location(&self) -> String {
        describe(&self.path)
    }

    fn err(&self, action: &str, e: sqlx::Error) -> StorageError {
        let error = db_error(&self.location(), action, e);
        if matches!(error, StorageError::DiskFull { .. }) {
            // Give the reserve back: the writes that record this failure need room.
            let _ = std::fs::remove_file(self.reserve_path());
        }
        error
    }

    async fn begin_write(&self) -> Result<Transaction<'static, Sqlite>> {
        self.pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(|e| self.err("starting a write", e))
    }

    async fn begin_migration(&self) -> Result<Transaction<'static, Sqlite>> {
        self.begin_write().await
    }

    /// The run's status; the write lock is already held by `begin_write`.
    async fn lock_run(
        &self,
        tx: &mut Transaction<'static, Sqlite>,
        run_id: &str,
    ) -> Result<RunStatus> {
        let status: Option<String> =
            sqlx::query_scalar("SELECT status FROM runs WHERE run_id = $1")
                .bind(run_id)
                .fetch_optional(&mut **tx)
                .await
                .map_err(|e| self.err(&format!("reading run `{run_id}`"), e))?;
        parse_status(&self.location(), run_id, status)
    }
}

/// The run's status from a `SELECT status` result, or `RunNotFound`.
pub(crate) fn parse_status(
    location: &str,
    run_id: &str,
    status: Option<String>,
) -> Result<RunStatus> {
    let status = status.ok_or_else(|| StorageError::RunNotFound {
        run_id: run_id.to_string(),
    })?;
    status
        .parse()
        .map_err(|e: crate::run::UnknownStatus| StorageError::Corrupt {
            location: location.to_string(),
            what: format!("status of run `{run_id}`"),
            message: e.to_string(),
        })
}

fn describe(path: &std::path::Path) -> String {
    format!("SQLite database `{}`", path.display())
}

impl std::fmt::Debug for SqliteStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStorage")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

crate::sql::ops::impl_sql_storage!(SqliteStorage, Sqlite);
crate::sql::migrate::impl_migrate!(SqliteStorage, Sqlite);
