//! The SQLite backend, in Dagster's own layout (`dagster::schema`): runs in `history/runs.db`, each
//! run's events in its shard `history/runs/<run_id>.db`, asset, check and run status events also
//! in `history/runs/index.db` (the cross-run index), as Dagster's `SqliteEventLogStorage` keeps
//! them. A missing instance is created; an existing one (made by Dagster 1.12/1.13 or by dg) is
//! opened after its revision is checked, never migrated.
//!
//! A shard's connections attach `index.db` (as `idx`) and `runs.db` (as `rs`), so a batch of events,
//! its index copies, the asset tables and the run it belongs to are written in one transaction.
//! Every database is in WAL mode with `synchronous = FULL` (a committed batch survives a host crash)
//! and a 30 s busy timeout, and every write transaction is `BEGIN IMMEDIATE`, which takes the write
//! lock of every attached file up front, always in the same order (shard, index, runs), so writers
//! of different runs wait for each other and never deadlock. (In WAL mode SQLite commits such a
//! transaction file by file: atomic within each, not across them if the process dies mid-commit.)
//!
//! dg's own tables: `dg_run_workers` in `runs.db` (each run's worker and last heartbeat), and
//! `dg_event_seqs` (run, writer's sequence number -> storage id, NULL for captured output that has
//! no row) in each shard and, for the index copies, in `index.db`.
//!
//! A full disk: `dg-reserve` next to `runs.db` is 1 MiB written when the storage opens (when there
//! is room). The first write that fails because the disk is full deletes it, so that the writes
//! recording *why* a run stopped still find room.

mod assets;
mod events;
mod runs;
mod write;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Connection, Sqlite, Transaction};

use crate::config::SqliteConfig;
use crate::dagster::schema::{self, SqliteInstance};
use crate::error::{Result, StorageError};
use crate::sql::{db_error, OpenOptions};

/// How long a write waits for another process's write lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// Size of the space kept free for recording a failure on a full disk.
const RESERVE_BYTES: usize = 1 << 20;

/// Shard pools kept open at once; the least recently used beyond this are closed.
const SHARD_POOLS: usize = 32;

/// dg's table of run workers and heartbeats, in `runs.db`.
const RUN_WORKERS_DDL: &str = "CREATE TABLE IF NOT EXISTS dg_run_workers (\
    run_id VARCHAR(255) NOT NULL PRIMARY KEY, pid INTEGER NOT NULL, hostname TEXT NOT NULL, \
    heartbeat_at FLOAT NOT NULL)";

/// dg's table of sequence numbers beside event rows (`{schema}` is `main` or `idx`).
fn event_seqs_ddl(schema: &str) -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS {schema}.dg_event_seqs (\
         run_id VARCHAR(255) NOT NULL, seq INTEGER NOT NULL, storage_id INTEGER, \
         PRIMARY KEY (run_id, seq)) WITHOUT ROWID; \
         CREATE INDEX IF NOT EXISTS {schema}.idx_dg_event_seqs_storage_id \
         ON dg_event_seqs (storage_id)"
    )
}

/// Runs and events in Dagster's SQLite layout.
#[derive(Clone)]
pub struct SqliteStorage {
    inner: Arc<Inner>,
}

struct Inner {
    layout: SqliteInstance,
    /// `runs.db`.
    runs: SqlitePool,
    /// `index.db`, for the asset reads.
    index: SqlitePool,
    /// Open shards by run id, with the tick of their last use.
    shards: Mutex<HashMap<String, (SqlitePool, u64)>>,
    tick: std::sync::atomic::AtomicU64,
    max_pages: Option<u64>,
}

impl SqliteStorage {
    /// Opens the instance of `config`, creating what is missing.
    pub async fn open(config: &SqliteConfig) -> Result<Self> {
        Self::open_with(config, &OpenOptions::default()).await
    }

    /// [`SqliteStorage::open`] with options.
    pub async fn open_with(config: &SqliteConfig, options: &OpenOptions) -> Result<Self> {
        let layout = schema::create_sqlite_instance_at(config.layout()).await?;
        let runs = pool(&layout.runs, 4, options.sqlite_max_pages, None).await?;
        let index = pool(&layout.index(), 2, options.sqlite_max_pages, None).await?;
        let storage = Self {
            inner: Arc::new(Inner {
                layout,
                runs,
                index,
                shards: Mutex::new(HashMap::new()),
                tick: std::sync::atomic::AtomicU64::new(0),
                max_pages: options.sqlite_max_pages,
            }),
        };
        let index_path = storage.inner.layout.index();
        storage
            .exec_ddl(
                &storage.inner.runs,
                RUN_WORKERS_DDL,
                &storage.inner.layout.runs,
            )
            .await?;
        storage
            .exec_ddl(&storage.inner.index, &event_seqs_ddl("main"), &index_path)
            .await?;
        storage.keep_reserve();
        Ok(storage)
    }

    async fn exec_ddl(&self, pool: &SqlitePool, ddl: &str, path: &Path) -> Result<()> {
        let mut conn = pool
            .acquire()
            .await
            .map_err(|e| self.err_at(path, "opening", e))?;
        sqlx::Executor::execute(&mut *conn, ddl)
            .await
            .map_err(|e| self.err_at(path, "creating dg's tables", e))?;
        Ok(())
    }

    /// The instance's files.
    pub fn layout(&self) -> &SqliteInstance {
        &self.inner.layout
    }

    /// The file holding the space set aside for a full disk.
    pub fn reserve_path(&self) -> PathBuf {
        self.inner
            .layout
            .runs
            .parent()
            .map(|d| d.join("dg-reserve"))
            .unwrap_or_else(|| PathBuf::from("dg-reserve"))
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

    /// The run storage file, `history/runs.db`.
    pub fn path(&self) -> &Path {
        &self.inner.layout.runs
    }

    /// Closes every pool, waiting for connections to finish (checkpointing the WAL).
    pub async fn close(&self) {
        let shards: Vec<SqlitePool> = {
            let mut map = self.inner.shards.lock().unwrap_or_else(|p| p.into_inner());
            map.drain().map(|(_, (pool, _))| pool).collect()
        };
        for pool in shards {
            pool.close().await;
        }
        self.inner.index.close().await;
        self.inner.runs.close().await;
    }

    fn location(&self) -> String {
        describe(&self.inner.layout.runs)
    }

    fn err_at(&self, path: &Path, action: &str, e: sqlx::Error) -> StorageError {
        let error = db_error(&describe(path), action, e);
        if matches!(error, StorageError::DiskFull { .. }) {
            // Give the reserve back: the writes that record this failure need room.
            let _ = std::fs::remove_file(self.reserve_path());
        }
        error
    }

    fn err(&self, action: &str, e: sqlx::Error) -> StorageError {
        self.err_at(&self.inner.layout.runs.clone(), action, e)
    }

    async fn begin_runs_write(&self) -> Result<Transaction<'static, Sqlite>> {
        self.inner
            .runs
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(|e| self.err("starting a write", e))
    }

    /// The pool of a run's shard (with `idx` and `rs` attached), creating the shard file when
    /// `create` is set; `None` when it does not exist and `create` is not set.
    async fn shard(&self, run_id: &str, create: bool) -> Result<Option<SqlitePool>> {
        let tick = self
            .inner
            .tick
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        {
            let mut map = self.inner.shards.lock().unwrap_or_else(|p| p.into_inner());
            if let Some((pool, used)) = map.get_mut(run_id) {
                *used = tick;
                return Ok(Some(pool.clone()));
            }
        }
        let path = self.inner.layout.run_db(run_id)?;
        if !path.exists() {
            if !create {
                return Ok(None);
            }
            self.inner.layout.create_run_db(run_id).await?;
        } else {
            // Made by someone else (Dagster, another dg): check it as Dagster's own.
            self.inner.layout.create_run_db(run_id).await?;
        }
        let attach = Attach {
            index: self.inner.layout.index(),
            runs: self.inner.layout.runs.clone(),
        };
        let pool = pool(&path, 2, self.inner.max_pages, Some(attach)).await?;
        self.exec_ddl(&pool, &event_seqs_ddl("main"), &path).await?;
        let (existing, evicted) = {
            let mut map = self.inner.shards.lock().unwrap_or_else(|p| p.into_inner());
            match map.get(run_id) {
                // Another task opened it meanwhile: use theirs.
                Some((existing, _)) => (Some(existing.clone()), Vec::new()),
                None => {
                    map.insert(run_id.to_string(), (pool.clone(), tick));
                    let mut evicted = Vec::new();
                    while map.len() > SHARD_POOLS {
                        let Some(oldest) = map
                            .iter()
                            .min_by_key(|(_, (_, t))| *t)
                            .map(|(k, _)| k.clone())
                        else {
                            break;
                        };
                        if let Some((p, _)) = map.remove(&oldest) {
                            evicted.push(p);
                        }
                    }
                    (None, evicted)
                }
            }
        };
        if let Some(existing) = existing {
            pool.close().await;
            return Ok(Some(existing));
        }
        for p in evicted {
            // Connections in use finish their work first; the pool closes behind them.
            tokio::spawn(async move { p.close().await });
        }
        Ok(Some(pool))
    }

    fn shard_path(&self, run_id: &str) -> PathBuf {
        self.inner
            .layout
            .run_db(run_id)
            .unwrap_or_else(|_| self.inner.layout.event_log_dir.join(run_id))
    }
}

/// Files a shard's connections attach.
#[derive(Clone)]
struct Attach {
    index: PathBuf,
    runs: PathBuf,
}

/// A pool on one database file with dg's durability settings.
async fn pool(
    path: &Path,
    connections: u32,
    max_pages: Option<u64>,
    attach: Option<Attach>,
) -> Result<SqlitePool> {
    let location = describe(path);
    let connect = SqliteConnectOptions::new()
        .filename(path)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .busy_timeout(BUSY_TIMEOUT)
        .foreign_keys(false);
    let connect = match max_pages {
        Some(pages) => connect.pragma("max_page_count", pages.to_string()),
        None => connect,
    };
    SqlitePoolOptions::new()
        .max_connections(connections)
        .after_connect(move |conn, _| {
            let attach = attach.clone();
            Box::pin(async move {
                let Some(attach) = attach else { return Ok(()) };
                for (file, name) in [(&attach.index, "idx"), (&attach.runs, "rs")] {
                    sqlx::query(&format!("ATTACH DATABASE ? AS {name}"))
                        .bind(file.to_string_lossy().into_owned())
                        .execute(&mut *conn)
                        .await?;
                    sqlx::query(&format!("PRAGMA {name}.synchronous = FULL"))
                        .execute(&mut *conn)
                        .await?;
                    if let Some(pages) = max_pages {
                        sqlx::query(&format!("PRAGMA {name}.max_page_count = {pages}"))
                            .execute(&mut *conn)
                            .await?;
                    }
                }
                Ok(())
            })
        })
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
        .map_err(|e| db_error(&location, "opening", e))
}

fn describe(path: &Path) -> String {
    format!("SQLite database `{}`", path.display())
}

impl std::fmt::Debug for SqliteStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStorage")
            .field("runs", &self.inner.layout.runs)
            .field("event_log_dir", &self.inner.layout.event_log_dir)
            .finish_non_exhaustive()
    }
}

#[async_trait::async_trait]
impl crate::Storage for SqliteStorage {
    fn location(&self) -> String {
        SqliteStorage::location(self)
    }
    async fn revision(&self) -> Result<String> {
        let mut conn = self
            .inner
            .runs
            .acquire()
            .await
            .map_err(|e| self.err("opening", e))?;
        schema::check_revision(&mut conn)
            .await
            .map_err(|source| StorageError::Revision {
                location: self.location(),
                source,
            })
    }
    async fn create_run(&self, run: &crate::NewRun) -> Result<crate::Run> {
        self.do_create_run(run).await
    }
    async fn get_run(&self, run_id: &str) -> Result<Option<crate::Run>> {
        self.fetch_run(&self.inner.runs, "main", run_id).await
    }
    async fn list_runs(&self, filter: &crate::RunFilter) -> Result<Vec<crate::Run>> {
        self.do_list_runs(filter).await
    }
    async fn set_run_status(
        &self,
        run_id: &str,
        status: crate::RunStatus,
        at: crate::Timestamp,
    ) -> Result<crate::Run> {
        self.do_set_run_status(run_id, status, at).await
    }
    async fn record_heartbeat(
        &self,
        run_id: &str,
        worker: &crate::Worker,
        at: crate::Timestamp,
    ) -> Result<()> {
        self.do_record_heartbeat(run_id, worker, at).await
    }
    async fn append_events(
        &self,
        run_id: &str,
        events: &[crate::SequencedEvent],
    ) -> Result<Vec<Option<i64>>> {
        self.do_append_events(run_id, events).await
    }
    async fn append_host_event(&self, run_id: &str, event: &crate::Event) -> Result<i64> {
        self.do_append_host_event(run_id, event).await
    }
    async fn next_seq(&self, run_id: &str) -> Result<i64> {
        self.do_next_seq(run_id).await
    }
    async fn events_after(
        &self,
        run_id: &str,
        after: Option<i64>,
        limit: u32,
    ) -> Result<Vec<crate::EventRecord>> {
        self.do_events_after(run_id, after, limit).await
    }
    async fn dagster_events(&self, run_id: &str, dagster_event_type: &str) -> Result<Vec<String>> {
        self.do_dagster_events(run_id, dagster_event_type).await
    }
    async fn latest_materialization(
        &self,
        key: &crate::AssetKey,
        partition: Option<&str>,
    ) -> Result<Option<crate::EventRecord>> {
        Ok(self
            .do_latest(key, Some(partition))
            .await?
            .into_iter()
            .next())
    }
    async fn latest_materializations(
        &self,
        key: &crate::AssetKey,
    ) -> Result<Vec<crate::EventRecord>> {
        self.do_latest(key, None).await
    }
    async fn materialized_asset_keys(&self) -> Result<Vec<crate::AssetKey>> {
        self.do_asset_keys().await
    }
    async fn materialization_history(
        &self,
        key: &crate::AssetKey,
        filter: &crate::HistoryFilter,
    ) -> Result<Vec<crate::EventRecord>> {
        self.do_history(key, filter).await
    }
    async fn asset_check_results(
        &self,
        key: &crate::AssetKey,
        check_name: Option<&str>,
        limit: u32,
    ) -> Result<Vec<crate::EventRecord>> {
        self.do_check_results(key, check_name, limit).await
    }
    async fn mark_orphaned_runs_failed(&self, policy: &crate::OrphanPolicy) -> Result<Vec<String>> {
        self.do_mark_orphans(policy).await
    }
}
