//! The PostgreSQL backend: a connection pool whose connection attempts are bounded by the config's
//! connect timeout, so an unreachable server is a prompt `PostgresConnect` error naming the host, the
//! port and the `dagster.yaml` key, never a hang. Writes to a run lock its row (`FOR UPDATE`);
//! migrations hold a transaction-scoped advisory lock.

use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::{Postgres, Transaction};

use crate::config::PostgresConfig;
use crate::error::{Result, StorageError};
use crate::run::RunStatus;
use crate::sql::{db_error, schema, OpenOptions};

/// Key of the advisory lock migrations take (any constant unique to dg).
const MIGRATION_LOCK: i64 = 0x6467_5f73_746f_7265; // "dg_store"

/// Runs and events in a PostgreSQL database.
#[derive(Clone)]
pub struct PostgresStorage {
    pool: PgPool,
    config: PostgresConfig,
}

impl PostgresStorage {
    /// Connects to the database of `config` and migrates it (unless `autocreate_tables` is off).
    pub async fn open(config: &PostgresConfig) -> Result<Self> {
        Self::open_with(config, &OpenOptions::default()).await
    }

    /// [`PostgresStorage::open`] with options.
    pub async fn open_with(config: &PostgresConfig, options: &OpenOptions) -> Result<Self> {
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
        match first {
            Ok(Ok(conn)) => drop(conn),
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
        }
        let storage = Self {
            pool,
            config: config.clone(),
        };
        storage
            .migrate(
                schema::POSTGRES,
                options.schema_version,
                config.autocreate_tables,
            )
            .await?;
        Ok(storage)
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

    async fn begin_migration(&self) -> Result<Transaction<'static, Postgres>> {
        let mut tx = self.begin_write().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(MIGRATION_LOCK)
            .execute(&mut *tx)
            .await
            .map_err(|e| self.err("locking the schema for migration", e))?;
        Ok(tx)
    }

    /// The run's status, its row locked until the transaction ends.
    async fn lock_run(
        &self,
        tx: &mut Transaction<'static, Postgres>,
        run_id: &str,
    ) -> Result<RunStatus> {
        let status: Option<String> =
            sqlx::query_scalar("SELECT status FROM runs WHERE run_id = $1 FOR UPDATE")
                .bind(run_id)
                .fetch_optional(&mut **tx)
                .await
                .map_err(|e| self.err(&format!("locking run `{run_id}`"), e))?;
        crate::sqlite::parse_status(&self.location(), run_id, status)
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

crate::sql::ops::impl_sql_storage!(PostgresStorage, Postgres);
crate::sql::migrate::impl_migrate!(PostgresStorage, Postgres);
