//! The PostgreSQL backend, in dagster-postgres' tables (`dagster::schema`): one database holds
//! runs, every run's events (one `event_logs`, whose ids are the storage ids everywhere) and the
//! asset tables. Opening creates what is missing (unless `should_autocreate_tables` is off) and
//! checks the revision; a database whose `runs` table is not Dagster's (a previous dg's schema,
//! recognisable by `dg_schema_migrations`) is refused *before* anything is created in it.
//!
//! A connection pool whose connection attempts are bounded by the config's connect timeout, so an
//! unreachable server is a prompt `PostgresConnect` error. A batch of events holds a per-run
//! advisory lock (so two writers of one run store each event once, in order); status changes lock
//! the run's row (`FOR UPDATE`). After each event row dg sends `NOTIFY run_events,
//! '<run_id>_<id>'`, as dagster-postgres does. dg's own tables: `dg_run_workers` and
//! `dg_event_seqs`, as in SQLite.

mod assets;
mod events;
mod runs;

use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::{Executor, Postgres, Transaction};

use crate::config::PostgresConfig;
use crate::dagster::schema;
use crate::error::{Result, StorageError};
use crate::sql::{db_error, OpenOptions};

/// Key (first half) of dg's advisory locks; the second half is the run id's hash.
const RUN_LOCK: i32 = 0x6467_7275; // "dgru"
/// Key of the advisory lock creating dg's own tables takes.
const DG_TABLES_LOCK: i64 = 0x6467_5f74_6162_6c65; // "dg_table"

/// dg's tables beside Dagster's.
const DG_TABLES_DDL: &str = "\
CREATE TABLE IF NOT EXISTS dg_run_workers (run_id VARCHAR(255) NOT NULL PRIMARY KEY, \
    pid BIGINT NOT NULL, hostname TEXT NOT NULL, heartbeat_at DOUBLE PRECISION NOT NULL); \
CREATE TABLE IF NOT EXISTS dg_event_seqs (run_id VARCHAR(255) NOT NULL, seq BIGINT NOT NULL, \
    storage_id BIGINT, PRIMARY KEY (run_id, seq)); \
CREATE INDEX IF NOT EXISTS idx_dg_event_seqs_storage_id ON dg_event_seqs (storage_id)";

/// Runs and events in a PostgreSQL database laid out as dagster-postgres lays it out.
#[derive(Clone)]
pub struct PostgresStorage {
    pool: PgPool,
    config: PostgresConfig,
}

impl PostgresStorage {
    /// Connects to the database of `config`, creating Dagster's tables where they are missing
    /// (unless `should_autocreate_tables` is off) and checking the revision.
    pub async fn open(config: &PostgresConfig) -> Result<Self> {
        Self::open_with(config, &OpenOptions::default()).await
    }

    /// [`PostgresStorage::open`] with options.
    pub async fn open_with(config: &PostgresConfig, _options: &OpenOptions) -> Result<Self> {
        let connect = config
            .connect_options()
            .map_err(|e| connect_error(config, e.to_string()))?;
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(config.connect_timeout)
            .connect_lazy_with(connect);
        // The first connection, bounded: the pool's own timeout covers its retries, the outer one
        // anything else (a server that accepts TCP but never answers).
        let first = tokio::time::timeout(config.connect_timeout, pool.acquire()).await;
        let mut conn = match first {
            Ok(Ok(conn)) => conn,
            Ok(Err(e)) => return Err(connect_error(config, readable(&e))),
            Err(_) => {
                return Err(connect_error(
                    config,
                    format!(
                        "no answer within {} s",
                        config.connect_timeout.as_secs_f64()
                    ),
                ))
            }
        };
        let storage = Self {
            pool: pool.clone(),
            config: config.clone(),
        };
        storage.refuse_foreign(&mut conn).await?;
        let checked = if config.autocreate_tables {
            schema::create_postgres_instance(&mut conn)
                .await
                .map_err(|e| match e {
                    schema::SchemaError::Revision { source, .. } => StorageError::Revision {
                        location: storage.location(),
                        source,
                    },
                    other => StorageError::Layout(other),
                })
        } else {
            schema::check_revision_pg(&mut conn)
                .await
                .map_err(|source| StorageError::Revision {
                    location: storage.location(),
                    source,
                })
        };
        checked?;
        let mut tx = sqlx::Connection::begin(&mut *conn)
            .await
            .map_err(|e| storage.err("creating dg's tables", e))?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(DG_TABLES_LOCK)
            .execute(&mut *tx)
            .await
            .map_err(|e| storage.err("creating dg's tables", e))?;
        (&mut *tx)
            .execute(DG_TABLES_DDL)
            .await
            .map_err(|e| storage.err("creating dg's tables", e))?;
        tx.commit()
            .await
            .map_err(|e| storage.err("creating dg's tables", e))?;
        drop(conn);
        Ok(storage)
    }

    /// Refuses a database with tables by Dagster's names that Dagster did not make, before
    /// anything is created in it.
    async fn refuse_foreign(&self, conn: &mut sqlx::PgConnection) -> Result<()> {
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT table_name::text FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_name IN \
             ('runs', 'event_logs', 'dg_schema_migrations', 'alembic_version')",
        )
        .fetch_all(&mut *conn)
        .await
        .map_err(|e| self.err("looking at the database's tables", e))?;
        let has = |t: &str| tables.iter().any(|x| x == t);
        let message = if has("dg_schema_migrations") {
            Some(format!(
                "database `{}` holds a previous dg's own schema (`dg_schema_migrations`), which \
                 dg no longer reads; nothing was created in it",
                self.config.database
            ))
        } else if (has("runs") || has("event_logs")) && !has("alembic_version") {
            Some(format!(
                "database `{}` has a `runs` or `event_logs` table but no Dagster schema revision \
                 (`alembic_version`); nothing was created in it",
                self.config.database
            ))
        } else {
            None
        };
        match message {
            Some(message) => Err(StorageError::NotDagster {
                location: self.location(),
                message,
            }),
            None => Ok(()),
        }
    }

    /// The connection settings.
    pub fn config(&self) -> &PostgresConfig {
        &self.config
    }

    /// Closes the pool.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    fn location(&self) -> String {
        self.config.to_string()
    }

    fn err(&self, action: &str, e: sqlx::Error) -> StorageError {
        match e {
            sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::Tls(_) => {
                connect_error(&self.config, format!("{action}: {}", readable(&e)))
            }
            e => db_error(&self.location(), action, e),
        }
    }

    async fn begin_write(&self) -> Result<Transaction<'static, Postgres>> {
        self.pool
            .begin()
            .await
            .map_err(|e| self.err("starting a write", e))
    }

    /// Takes the run's event lock until the transaction ends: one writer of a run's events at a
    /// time.
    async fn lock_run_events(
        &self,
        tx: &mut Transaction<'static, Postgres>,
        run_id: &str,
    ) -> Result<()> {
        sqlx::query("SELECT pg_advisory_xact_lock($1, hashtext($2))")
            .bind(RUN_LOCK)
            .bind(run_id)
            .execute(&mut **tx)
            .await
            .map_err(|e| self.err(&format!("locking the events of run `{run_id}`"), e))?;
        Ok(())
    }
}

fn connect_error(config: &PostgresConfig, reason: String) -> StorageError {
    StorageError::PostgresConnect {
        host: config.host.clone(),
        port: config.port,
        database: config.database.clone(),
        key: config.key.clone(),
        reason,
    }
}

/// A connection error without sqlx's wording about pools.
fn readable(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::PoolTimedOut => "timed out waiting for a connection".into(),
        sqlx::Error::Io(io) => io.to_string(),
        other => other.to_string(),
    }
}

impl std::fmt::Debug for PostgresStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStorage")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

#[async_trait::async_trait]
impl crate::Storage for PostgresStorage {
    fn location(&self) -> String {
        PostgresStorage::location(self)
    }
    async fn revision(&self) -> Result<String> {
        let mut conn = self
            .pool
            .acquire()
            .await
            .map_err(|e| self.err("connecting", e))?;
        schema::check_revision_pg(&mut conn)
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
        self.fetch_run(&self.pool, run_id, false).await
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
        self.do_next_seq(&self.pool, run_id).await
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
