//! The instance's storage, in Dagster 1.13.27's own layout and rows (so real Dagster reads what dg
//! stores and the other way round): runs, the event log of each run, asset materializations and
//! check results, with an embedded SQLite backend (the default) and a PostgreSQL backend behind
//! one [`Storage`] trait, plus reading `dagster.yaml`.
//!
//! ```no_run
//! # async fn demo(root: &std::path::Path) -> dg_storage::Result<()> {
//! let home = dg_storage::resolve_home(root);
//! let config = dg_storage::InstanceConfig::load(&home)?;
//! let storage = dg_storage::open(&config).await?;
//! let runs = storage.list_runs(&dg_storage::RunFilter::default()).await?;
//! # Ok(()) }
//! ```

pub mod bench;
pub mod config;
pub mod dagster;
pub mod error;
pub mod event;
mod legacy;
pub mod monitor;
pub mod plan;
pub mod postgres;
pub mod retry;
pub mod run;
mod sql;
pub mod sqlite;
mod storage;

pub use config::{
    ComputeLogsConfig, InstanceConfig, PostgresConfig, PostgresUrlError, SqliteConfig,
    StorageConfig,
};
pub use dagster::schema::HEAD_REVISION;
/// Where the instance lives (`$DAGSTER_HOME`, else `.dagster/` in the root): `dg_core::home`.
pub use dg_core::home;
pub use error::{Result, StorageError};
pub use event::{
    AssetKey, ErrorInfo, Event, EventKind, EventRecord, LogLevel, Metadata, SequencedEvent,
};
pub use home::{resolve_home, resolve_home_with};
pub use legacy::legacy_database;
pub use monitor::{pid_alive, this_host, OrphanPolicy};
pub use postgres::PostgresStorage;
pub use retry::{RetryPolicy, Retrying};
pub use run::{new_run_id, now, NewRun, Run, RunFilter, RunStatus, Timestamp, Worker};
pub use sql::OpenOptions;
pub use sqlite::SqliteStorage;
pub use storage::{open, open_with, HistoryFilter, Storage};
