//! Asset reads from `index.db`, where Dagster keeps a copy of every asset and check event of every
//! run with the storage ids the asset tables refer to: materializations by key and partition from
//! its `event_logs`, check results from `asset_check_executions`, the materialized keys from
//! `asset_keys`. Materializations real Dagster wrote count as ours do. A record's `seq` is the
//! writer's number when dg stored the event (`dg_event_seqs` of `index.db`), else `None`.

use sqlx::Sqlite;

use super::SqliteStorage;
use crate::error::Result;
use crate::event::{AssetKey, EventRecord};
use crate::plan::dagster_asset_key;
use crate::sql::rows::event_record;
use crate::storage::HistoryFilter;

/// `event_logs` of `index.db` with the writer's numbers, as [`SqliteStorage::records`] reads them.
const SELECT: &str = "SELECT e.id, e.run_id, s.seq, e.event FROM event_logs e \
     LEFT JOIN dg_event_seqs s ON s.storage_id = e.id";

impl SqliteStorage {
    async fn records(
        &self,
        mut q: sqlx::QueryBuilder<'_, Sqlite>,
        action: &str,
    ) -> Result<Vec<EventRecord>> {
        let rows: Vec<(i64, Option<String>, Option<i64>, String)> = q
            .build_query_as()
            .fetch_all(&self.inner.index)
            .await
            .map_err(|e| self.err_at(&self.inner.layout.index(), action, e))?;
        let location = super::describe(&self.inner.layout.index());
        rows.into_iter()
            .map(|(id, run, seq, text)| {
                event_record(&location, id, run.unwrap_or_default(), seq, &text)
            })
            .collect()
    }

    /// The latest materialization of each partition of `key` (of one partition when `partition`
    /// is `Some`, `Some(None)` being the unpartitioned asset), newest first.
    pub(super) async fn do_latest(
        &self,
        key: &AssetKey,
        partition: Option<Option<&str>>,
    ) -> Result<Vec<EventRecord>> {
        let mut q = sqlx::QueryBuilder::<Sqlite>::new(SELECT);
        q.push(
            " WHERE e.id IN (SELECT MAX(m.id) FROM event_logs m WHERE m.dagster_event_type = \
             'ASSET_MATERIALIZATION' AND m.asset_key = ",
        )
        .push_bind(dagster_asset_key(key));
        match partition {
            Some(Some(p)) => {
                q.push(" AND m.partition = ").push_bind(p.to_string());
            }
            Some(None) => {
                q.push(" AND m.partition IS NULL");
            }
            None => {}
        }
        q.push(" GROUP BY m.partition) ORDER BY e.id DESC");
        self.records(q, &format!("reading the latest materialization of `{key}`"))
            .await
    }

    pub(super) async fn do_asset_keys(&self) -> Result<Vec<AssetKey>> {
        let keys: Vec<String> = sqlx::query_scalar(
            "SELECT asset_key FROM asset_keys WHERE last_materialization IS NOT NULL",
        )
        .fetch_all(&self.inner.index)
        .await
        .map_err(|e| self.err_at(&self.inner.layout.index(), "listing asset keys", e))?;
        let mut keys: Vec<AssetKey> = keys
            .iter()
            .filter_map(|k| AssetKey::from_db_string(k))
            .collect();
        keys.sort();
        keys.dedup();
        Ok(keys)
    }

    pub(super) async fn do_history(
        &self,
        key: &AssetKey,
        filter: &HistoryFilter,
    ) -> Result<Vec<EventRecord>> {
        let mut q = sqlx::QueryBuilder::<Sqlite>::new(SELECT);
        q.push(" WHERE e.dagster_event_type = 'ASSET_MATERIALIZATION' AND e.asset_key = ")
            .push_bind(dagster_asset_key(key));
        if let Some(p) = &filter.partition {
            q.push(" AND e.partition = ").push_bind(p.clone());
        }
        if let Some(before) = filter.before {
            q.push(" AND e.id < ").push_bind(before);
        }
        q.push(" ORDER BY e.id DESC LIMIT ")
            .push_bind(i64::from(filter.limit.unwrap_or(100)));
        self.records(q, &format!("reading the history of `{key}`"))
            .await
    }

    pub(super) async fn do_check_results(
        &self,
        key: &AssetKey,
        check_name: Option<&str>,
        limit: u32,
    ) -> Result<Vec<EventRecord>> {
        let mut q = sqlx::QueryBuilder::<Sqlite>::new(
            "SELECT c.evaluation_event_storage_id, c.run_id, s.seq, c.evaluation_event \
             FROM asset_check_executions c \
             LEFT JOIN dg_event_seqs s ON s.storage_id = c.evaluation_event_storage_id \
             WHERE c.execution_status IN ('SUCCEEDED', 'FAILED') AND c.evaluation_event IS NOT NULL \
             AND c.asset_key = ",
        );
        q.push_bind(dagster_asset_key(key));
        if let Some(name) = check_name {
            q.push(" AND c.check_name = ").push_bind(name.to_string());
        }
        q.push(" ORDER BY c.evaluation_event_storage_id DESC, c.id DESC LIMIT ")
            .push_bind(i64::from(limit));
        let rows: Vec<crate::sql::rows::CheckRow> = q
            .build_query_as()
            .fetch_all(&self.inner.index)
            .await
            .map_err(|e| {
                self.err_at(
                    &self.inner.layout.index(),
                    &format!("reading the checks of `{key}`"),
                    e,
                )
            })?;
        let location = super::describe(&self.inner.layout.index());
        rows.into_iter()
            .map(|(id, run, seq, text)| {
                event_record(
                    &location,
                    id.unwrap_or_default(),
                    run.unwrap_or_default(),
                    seq,
                    &text,
                )
            })
            .collect()
    }
}
