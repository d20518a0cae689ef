//! Riding out transient database failures: [`Retrying`] wraps a [`Storage`] and repeats any
//! operation that fails with a transient error ([`StorageError::is_transient`]: a connection lost
//! or refused while PostgreSQL restarts, a terminated backend, a serialization failure, no free
//! connection) with exponential backoff, until the [`RetryPolicy`]'s budget is spent; then it
//! returns [`StorageError::Unavailable`] carrying the last failure. Other errors (a full disk, a bad
//! sequence, a finished run) are returned at once.
//!
//! Repeating is safe because every write of the trait is idempotent, also when the first attempt's
//! outcome is unknown (the connection dropped after `COMMIT` was sent): event batches by their
//! sequence numbers, host events by their content, status changes and heartbeats by their value,
//! orphan marking by its check under the run's lock. The one exception, creating a run whose first
//! attempt did commit, is recognised here: `RunExists` after a transient failure means our own
//! run, which is then read back.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;

use crate::error::{Result, StorageError};
use crate::event::{AssetKey, Event, EventRecord, SequencedEvent};
use crate::monitor::OrphanPolicy;
use crate::run::{NewRun, Run, RunFilter, RunStatus, Timestamp, Worker};
use crate::storage::{HistoryFilter, Storage};

/// How long and how often to retry an operation that failed with a transient error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Time from the first failure after which no new attempt starts. Zero: never retry.
    pub budget: Duration,
    /// Pause before the second attempt; it doubles after each failure.
    pub first_delay: Duration,
    /// Longest pause between two attempts.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    /// One minute: a PostgreSQL restart or failover usually takes seconds.
    fn default() -> Self {
        Self {
            budget: Duration::from_secs(60),
            first_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    /// Runs `op` until it succeeds, fails with an error that is not transient, or the budget is
    /// spent. `on_retry(true)` is called once before the first retry.
    pub async fn run<T, F, Fut>(&self, location: &str, mut op: F) -> Result<T>
    where
        F: FnMut(bool) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let mut attempts = 0u32;
        let mut first_failure: Option<Instant> = None;
        let mut delay = self.first_delay;
        loop {
            attempts += 1;
            let error = match op(first_failure.is_some()).await {
                Ok(value) => return Ok(value),
                Err(e) if !e.is_transient() => return Err(e),
                Err(e) => e,
            };
            let since = *first_failure.get_or_insert_with(Instant::now);
            let waited = since.elapsed();
            if waited + delay > self.budget {
                return Err(StorageError::Unavailable {
                    location: location.to_string(),
                    attempts,
                    waited_secs: waited.as_secs_f64(),
                    last: Box::new(error),
                });
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(self.max_delay);
        }
    }
}

/// A [`Storage`] that retries transient failures of the one it wraps (see the module header).
/// [`crate::open`] returns storage wrapped in it.
#[derive(Debug)]
pub struct Retrying {
    inner: Arc<dyn Storage>,
    policy: RetryPolicy,
    location: String,
}

impl Retrying {
    /// Wraps `inner`.
    pub fn new(inner: Arc<dyn Storage>, policy: RetryPolicy) -> Self {
        let location = inner.location();
        Self {
            inner,
            policy,
            location,
        }
    }

    async fn run<T, F, Fut>(&self, op: F) -> Result<T>
    where
        F: FnMut(bool) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        self.policy.run(&self.location, op).await
    }
}

#[async_trait]
impl Storage for Retrying {
    fn location(&self) -> String {
        self.location.clone()
    }

    async fn revision(&self) -> Result<String> {
        self.run(|_| self.inner.revision()).await
    }

    async fn create_run(&self, run: &NewRun) -> Result<Run> {
        let inner = &self.inner;
        self.run(|retry| async move {
            match inner.create_run(run).await {
                // An earlier attempt committed before its acknowledgement was lost.
                Err(StorageError::RunExists { .. }) if retry => inner
                    .get_run(&run.run_id)
                    .await?
                    .ok_or_else(|| StorageError::RunNotFound {
                        run_id: run.run_id.clone(),
                    }),
                other => other,
            }
        })
        .await
    }

    async fn get_run(&self, run_id: &str) -> Result<Option<Run>> {
        self.run(|_| self.inner.get_run(run_id)).await
    }

    async fn list_runs(&self, filter: &RunFilter) -> Result<Vec<Run>> {
        self.run(|_| self.inner.list_runs(filter)).await
    }

    async fn set_run_status(&self, run_id: &str, status: RunStatus, at: Timestamp) -> Result<Run> {
        self.run(|_| self.inner.set_run_status(run_id, status, at))
            .await
    }

    async fn record_heartbeat(&self, run_id: &str, worker: &Worker, at: Timestamp) -> Result<()> {
        self.run(|_| self.inner.record_heartbeat(run_id, worker, at))
            .await
    }

    async fn append_events(
        &self,
        run_id: &str,
        events: &[SequencedEvent],
    ) -> Result<Vec<Option<i64>>> {
        self.run(|_| self.inner.append_events(run_id, events)).await
    }

    async fn append_host_event(&self, run_id: &str, event: &Event) -> Result<i64> {
        self.run(|_| self.inner.append_host_event(run_id, event))
            .await
    }

    async fn next_seq(&self, run_id: &str) -> Result<i64> {
        self.run(|_| self.inner.next_seq(run_id)).await
    }

    async fn events_after(
        &self,
        run_id: &str,
        after: Option<i64>,
        limit: u32,
    ) -> Result<Vec<EventRecord>> {
        self.run(|_| self.inner.events_after(run_id, after, limit))
            .await
    }

    async fn dagster_events(&self, run_id: &str, dagster_event_type: &str) -> Result<Vec<String>> {
        self.run(|_| self.inner.dagster_events(run_id, dagster_event_type))
            .await
    }

    async fn latest_materialization(
        &self,
        key: &AssetKey,
        partition: Option<&str>,
    ) -> Result<Option<EventRecord>> {
        self.run(|_| self.inner.latest_materialization(key, partition))
            .await
    }

    async fn latest_materializations(&self, key: &AssetKey) -> Result<Vec<EventRecord>> {
        self.run(|_| self.inner.latest_materializations(key)).await
    }

    async fn materialized_asset_keys(&self) -> Result<Vec<AssetKey>> {
        self.run(|_| self.inner.materialized_asset_keys()).await
    }

    async fn materialization_history(
        &self,
        key: &AssetKey,
        filter: &HistoryFilter,
    ) -> Result<Vec<EventRecord>> {
        self.run(|_| self.inner.materialization_history(key, filter))
            .await
    }

    async fn asset_check_results(
        &self,
        key: &AssetKey,
        check_name: Option<&str>,
        limit: u32,
    ) -> Result<Vec<EventRecord>> {
        self.run(|_| self.inner.asset_check_results(key, check_name, limit))
            .await
    }

    async fn mark_orphaned_runs_failed(&self, policy: &OrphanPolicy) -> Result<Vec<String>> {
        self.run(|_| self.inner.mark_orphaned_runs_failed(policy))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transient() -> StorageError {
        StorageError::Database {
            location: "db".into(),
            action: "testing".into(),
            source: sqlx::Error::PoolTimedOut,
        }
    }

    fn quick(budget_ms: u64) -> RetryPolicy {
        RetryPolicy {
            budget: Duration::from_millis(budget_ms),
            first_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(4),
        }
    }

    #[tokio::test]
    async fn transient_errors_are_retried_until_success() {
        let mut calls = 0;
        let value = quick(10_000)
            .run("db", |retry| {
                calls += 1;
                let n = calls;
                async move {
                    assert_eq!(retry, n > 1);
                    if n < 4 {
                        Err(transient())
                    } else {
                        Ok(n)
                    }
                }
            })
            .await
            .unwrap();
        assert_eq!(value, 4);
    }

    #[tokio::test]
    async fn other_errors_are_returned_at_once() {
        let mut calls = 0;
        let err = quick(10_000)
            .run("db", |_| {
                calls += 1;
                async {
                    Err::<(), _>(StorageError::DiskFull {
                        location: "db".into(),
                    })
                }
            })
            .await
            .unwrap_err();
        assert!(matches!(err, StorageError::DiskFull { .. }), "{err:?}");
        assert_eq!(calls, 1);
    }

    #[tokio::test]
    async fn a_spent_budget_names_the_attempts_and_the_last_failure() {
        let err = quick(30)
            .run("PostgreSQL database `x`", |_| async {
                Err::<(), _>(transient())
            })
            .await
            .unwrap_err();
        let StorageError::Unavailable { attempts, last, .. } = &err else {
            panic!("{err:?}")
        };
        assert!(*attempts > 1, "{attempts}");
        assert!(last.is_transient());
        let message = err.to_string();
        assert!(
            message.starts_with("PostgreSQL database `x` stayed unavailable: gave up after"),
            "{message}"
        );
    }
}
