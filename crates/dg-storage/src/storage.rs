//! The one storage interface both backends implement, and [`open`], which picks the backend from
//! the instance config and wraps it in [`Retrying`](crate::Retrying).
//!
//! Guarantees every backend keeps (checked by the conformance suite in `tests/conformance`):
//! a batch of events is stored in one transaction, in the order of its sequence numbers, exactly
//! once even when resent or written by two processes at once; a finished run never changes status;
//! the asset index (Dagster's `asset_keys`, `asset_event_tags`, `asset_check_executions`) is
//! updated in the same transaction as the event; every write may be repeated after an error whose
//! outcome is unknown without storing anything twice.

use std::sync::Arc;

use async_trait::async_trait;

use crate::config::{InstanceConfig, StorageConfig};
use crate::error::Result;
use crate::event::{AssetKey, Event, EventRecord, SequencedEvent};
use crate::monitor::OrphanPolicy;
use crate::run::{NewRun, Run, RunFilter, RunStatus, Timestamp, Worker};
use crate::sql::OpenOptions;

/// Which page of an asset's history to read. Records come newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HistoryFilter {
    /// Only this partition (`None`: all partitions and unpartitioned).
    pub partition: Option<String>,
    /// Only events stored before this storage id (the last one of the previous page).
    pub before: Option<i64>,
    /// At most this many (default 100).
    pub limit: Option<u32>,
}

/// Runs, their event logs and the asset index of one instance.
#[async_trait]
pub trait Storage: Send + Sync + std::fmt::Debug {
    /// The database, for messages ("SQLite database `/x/history/runs.db`").
    fn location(&self) -> String;

    /// The alembic revision of the open instance (always Dagster 1.13.27's head,
    /// [`crate::dagster::schema::HEAD_REVISION`]: opening refuses any other).
    async fn revision(&self) -> Result<String>;

    /// Stores a new run; fails with `RunExists` when its id is taken.
    async fn create_run(&self, run: &NewRun) -> Result<Run>;

    /// The run with this id, if any.
    async fn get_run(&self, run_id: &str) -> Result<Option<Run>>;

    /// Runs matching `filter`, newest first.
    async fn list_runs(&self, filter: &RunFilter) -> Result<Vec<Run>>;

    /// Moves a run to `status` at time `at`, setting `started_at` on `STARTED` and `ended_at` on a
    /// terminal status. A finished run cannot change (`RunFinished`); setting the current status again
    /// is a no-op.
    async fn set_run_status(&self, run_id: &str, status: RunStatus, at: Timestamp) -> Result<Run>;

    /// Records that `worker` is alive and executing the run.
    async fn record_heartbeat(&self, run_id: &str, worker: &Worker, at: Timestamp) -> Result<()>;

    /// Appends a batch of a run's events in one transaction and returns their storage ids, in order:
    /// `None` for captured output (`STDOUT`/`STDERR`), which is not an event in Dagster (it lives in
    /// compute log files) and is stored only as its sequence number.
    ///
    /// Each event is stored as Dagster's serialised `EventLogEntry`: its `dagster_json` verbatim
    /// when it has one, else the typed event serialised by `dagster::serdes`.
    /// Sequence numbers must ascend by one. A batch may start at or before the next expected number:
    /// events already stored are not stored again (their existing ids are returned), so a writer that
    /// is unsure whether a batch was acknowledged simply resends it. A batch that would leave a gap
    /// fails with `BadSequence`.
    async fn append_events(
        &self,
        run_id: &str,
        events: &[SequencedEvent],
    ) -> Result<Vec<Option<i64>>>;

    /// Appends one event written by the host rather than the run's worker (monitoring, launch,
    /// cancellation); it has no sequence number and never collides with the worker's. Appending an
    /// equal event (same time, type and content) to the same run again returns the stored one's id
    /// without storing it twice, so a host unsure whether an append went through simply resends.
    async fn append_host_event(&self, run_id: &str, event: &Event) -> Result<i64>;

    /// The next sequence number the run's writer should use (1 for a run without events).
    async fn next_seq(&self, run_id: &str) -> Result<i64>;

    /// Events of a run stored after storage id `after` (from the start when `None`), oldest first,
    /// at most `limit`. Pass the last storage id seen to tail a live run.
    async fn events_after(
        &self,
        run_id: &str,
        after: Option<i64>,
        limit: u32,
    ) -> Result<Vec<EventRecord>>;

    /// The run's events of Dagster event type `dagster_event_type` (`LOGS_CAPTURED`), oldest
    /// first, as the text of Dagster's serialised `EventLogEntry` (the `event_logs.event` column):
    /// what they carry beyond their typed reading (a `LOGS_CAPTURED` event's file key and steps).
    /// A backend that does not keep Dagster's text returns none (the default).
    async fn dagster_events(&self, run_id: &str, dagster_event_type: &str) -> Result<Vec<String>> {
        let _ = (run_id, dagster_event_type);
        Ok(Vec::new())
    }

    /// The latest materialization of an asset's partition (`None`: the unpartitioned asset).
    async fn latest_materialization(
        &self,
        key: &AssetKey,
        partition: Option<&str>,
    ) -> Result<Option<EventRecord>>;

    /// The latest materialization of each partition of an asset, newest first.
    async fn latest_materializations(&self, key: &AssetKey) -> Result<Vec<EventRecord>>;

    /// Every asset key with at least one materialization, sorted.
    async fn materialized_asset_keys(&self) -> Result<Vec<AssetKey>>;

    /// Materializations of an asset, newest first.
    async fn materialization_history(
        &self,
        key: &AssetKey,
        filter: &HistoryFilter,
    ) -> Result<Vec<EventRecord>>;

    /// Check results of an asset (one check when `check_name` is given), newest first.
    async fn asset_check_results(
        &self,
        key: &AssetKey,
        check_name: Option<&str>,
        limit: u32,
    ) -> Result<Vec<EventRecord>>;

    /// Marks runs whose worker is gone as `FAILURE` (with a `RUN_FAILURE` host event saying why), or
    /// as `CANCELED` when they were `CANCELING` (with an `ENGINE_EVENT` saying why and
    /// `RUN_CANCELED`), and returns their ids. See [`OrphanPolicy`] for what counts as gone; it is
    /// applied to each run as read under the run's lock.
    async fn mark_orphaned_runs_failed(&self, policy: &OrphanPolicy) -> Result<Vec<String>>;
}

/// Opens (creating what is missing, checking the revision of what exists) the storage that `config` selects, retrying transient
/// failures of later operations with the default [`RetryPolicy`](crate::RetryPolicy). Opening
/// itself is not retried: an unreachable server is a prompt error.
pub async fn open(config: &InstanceConfig) -> Result<Arc<dyn Storage>> {
    open_with(config, &OpenOptions::default()).await
}

/// [`open`] with options (SQLite page cap, retry policy).
pub async fn open_with(config: &InstanceConfig, options: &OpenOptions) -> Result<Arc<dyn Storage>> {
    let inner: Arc<dyn Storage> = match &config.storage {
        StorageConfig::Sqlite(sqlite) => {
            Arc::new(crate::sqlite::SqliteStorage::open_with(sqlite, options).await?)
        }
        StorageConfig::Postgres(pg) => {
            Arc::new(crate::postgres::PostgresStorage::open_with(pg, options).await?)
        }
    };
    Ok(Arc::new(crate::retry::Retrying::new(inner, options.retry)))
}
