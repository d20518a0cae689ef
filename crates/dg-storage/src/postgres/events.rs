//! Events in dagster-postgres' one `event_logs` table (its ids are the storage ids the asset
//! tables refer to), the asset tables beside it, `NOTIFY run_events` as dagster-postgres sends it
//! (once per batch, for its last row), a batch in one transaction under the run's advisory lock.

use sqlx::{Executor, Postgres, Transaction};

use super::PostgresStorage;
use crate::error::{Result, StorageError};
use crate::event::{ErrorInfo, Event, EventKind, EventRecord, SequencedEvent};
use crate::monitor::OrphanPolicy;
use crate::plan::{self, AssetUpdate, Plan};
use crate::run::RunStatus;
use crate::sql::{check_batch, rows::event_record};

/// Events to write: the writer's sequence number (none for host events) and the rows (none for
/// captured output).
type Item = (Option<i64>, Option<Plan>);

impl PostgresStorage {
    /// The run's job name, which also tells that the run exists.
    async fn job_name<'e, E>(&self, ex: E, run_id: &str) -> Result<String>
    where
        E: Executor<'e, Database = Postgres>,
    {
        let name: Option<Option<String>> =
            sqlx::query_scalar("SELECT pipeline_name FROM runs WHERE run_id = $1")
                .bind(run_id)
                .fetch_optional(ex)
                .await
                .map_err(|e| self.err(&format!("reading run `{run_id}`"), e))?;
        name.map(Option::unwrap_or_default)
            .ok_or_else(|| StorageError::RunNotFound {
                run_id: run_id.to_string(),
            })
    }

    fn bad_text(&self, run_id: &str, seq: Option<i64>, e: impl ToString) -> StorageError {
        StorageError::Corrupt {
            location: self.location(),
            what: format!(
                "Dagster text of event {} of run `{run_id}`",
                seq.map_or("(host)".into(), |s| s.to_string())
            ),
            message: e.to_string(),
        }
    }

    pub(super) async fn do_next_seq<'e, E>(&self, ex: E, run_id: &str) -> Result<i64>
    where
        E: Executor<'e, Database = Postgres>,
    {
        let max: Option<i64> =
            sqlx::query_scalar("SELECT MAX(seq) FROM dg_event_seqs WHERE run_id = $1")
                .bind(run_id)
                .fetch_one(ex)
                .await
                .map_err(|e| self.err(&format!("reading events of run `{run_id}`"), e))?;
        Ok(max.unwrap_or(0) + 1)
    }

    pub(super) async fn do_append_events(
        &self,
        run_id: &str,
        events: &[SequencedEvent],
    ) -> Result<Vec<Option<i64>>> {
        check_batch(run_id, events)?;
        let Some(first) = events.first() else {
            return Ok(Vec::new());
        };
        let action = format!("appending events of run `{run_id}`");
        let mut tx = self.begin_write().await?;
        self.lock_run_events(&mut tx, run_id).await?;
        let job = self.job_name(&mut *tx, run_id).await?;
        let next = self.do_next_seq(&mut *tx, run_id).await?;
        if first.seq > next {
            return Err(StorageError::BadSequence {
                run_id: run_id.to_string(),
                message: format!(
                    "the batch starts at {}, but the next expected number is {next}",
                    first.seq
                ),
            });
        }
        let mut known: std::collections::HashMap<i64, Option<i64>> = Default::default();
        if first.seq < next {
            let rows: Vec<(i64, Option<i64>)> = sqlx::query_as(
                "SELECT seq, storage_id FROM dg_event_seqs WHERE run_id = $1 AND seq >= $2 AND seq < $3",
            )
            .bind(run_id)
            .bind(first.seq)
            .bind(next)
            .fetch_all(&mut *tx)
            .await
            .map_err(|e| self.err(&action, e))?;
            known.extend(rows);
        }
        let mut items: Vec<Item> = Vec::new();
        for e in events.iter().filter(|e| e.seq >= next) {
            let plan = plan::plan_sequenced(run_id, &job, e)
                .map_err(|err| self.bad_text(run_id, Some(e.seq), err))?;
            items.push((Some(e.seq), plan));
        }
        let ids = self.insert_items(&mut tx, run_id, &items).await?;
        for ((seq, _), id) in items.iter().zip(ids) {
            known.insert(seq.unwrap_or_default(), id);
        }
        let ids = events
            .iter()
            .map(|e| {
                known
                    .get(&e.seq)
                    .copied()
                    .ok_or_else(|| StorageError::Corrupt {
                        location: self.location(),
                        what: format!("event {} of run `{run_id}`", e.seq),
                        message: "stored but not found again".into(),
                    })
            })
            .collect::<Result<Vec<Option<i64>>>>()?;
        tx.commit().await.map_err(|e| self.err(&action, e))?;
        Ok(ids)
    }

    /// Writes events' rows, their sequence numbers, the asset tables and the notifications;
    /// returns each event's storage id (`None` for captured output).
    async fn insert_items(
        &self,
        tx: &mut Transaction<'static, Postgres>,
        run_id: &str,
        items: &[Item],
    ) -> Result<Vec<Option<i64>>> {
        let action = format!("appending events of run `{run_id}`");
        let plans: Vec<&Plan> = items.iter().filter_map(|(_, p)| p.as_ref()).collect();
        let row_ids = insert_rows(tx, &plans)
            .await
            .map_err(|e| self.err(&action, e))?;
        let mut next_id = row_ids.iter().copied();
        let ids: Vec<Option<i64>> = items
            .iter()
            .map(|(_, p)| p.as_ref().and_then(|_| next_id.next()))
            .collect();
        let seqs: Vec<(i64, Option<i64>)> = items
            .iter()
            .zip(&ids)
            .filter_map(|((seq, _), id)| seq.map(|s| (s, *id)))
            .collect();
        if !seqs.is_empty() {
            let (s, i): (Vec<i64>, Vec<Option<i64>>) = seqs.into_iter().unzip();
            sqlx::query(
                "INSERT INTO dg_event_seqs (run_id, seq, storage_id) \
                 SELECT $1, s, i FROM unnest($2::bigint[], $3::bigint[]) AS t(s, i)",
            )
            .bind(run_id)
            .bind(s)
            .bind(i)
            .execute(&mut **tx)
            .await
            .map_err(|e| self.err(&action, e))?;
        }
        for (plan, id) in plans.iter().zip(&row_ids) {
            if plan.asset.is_some() || plan.check.is_some() {
                update_asset_tables(tx, plan, *id)
                    .await
                    .map_err(|e| self.err(&action, e))?;
            }
        }
        if let Some(last) = row_ids.last() {
            // dagster-postgres sends `NOTIFY run_events, '<run_id>_<id>'` after each event, kept
            // only for the LISTEN watchers of older versions (1.13 polls), which on a notification
            // read every event after their cursor: one for the batch's last row tells them all.
            sqlx::query("SELECT pg_notify('run_events', $1)")
                .bind(format!("{run_id}_{last}"))
                .execute(&mut **tx)
                .await
                .map_err(|e| self.err(&action, e))?;
        }
        Ok(ids)
    }

    pub(super) async fn do_append_host_event(&self, run_id: &str, event: &Event) -> Result<i64> {
        let action = format!("appending an event of run `{run_id}`");
        let mut tx = self.begin_write().await?;
        self.lock_run_events(&mut tx, run_id).await?;
        let job = self.job_name(&mut *tx, run_id).await?;
        let Some(plan) =
            plan::plan_event(run_id, &job, event).map_err(|e| self.bad_text(run_id, None, e))?
        else {
            return Err(StorageError::BadSequence {
                run_id: run_id.to_string(),
                message: "captured output is not stored as an event (it is in compute logs)".into(),
            });
        };
        // A resend after a lost acknowledgement: an equal stored text without a sequence number is
        // this very event.
        let stored: Option<i64> = sqlx::query_scalar(
            "SELECT e.id FROM event_logs e WHERE e.run_id = $1 \
             AND e.dagster_event_type IS NOT DISTINCT FROM $2 AND e.event = $3 \
             AND NOT EXISTS (SELECT 1 FROM dg_event_seqs s WHERE s.storage_id = e.id) \
             ORDER BY e.id LIMIT 1",
        )
        .bind(run_id)
        .bind(&plan.row.dagster_event_type)
        .bind(&plan.row.event)
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| self.err(&action, e))?;
        if let Some(id) = stored {
            return Ok(id);
        }
        let ids = self
            .insert_items(&mut tx, run_id, &[(None, Some(plan))])
            .await?;
        tx.commit().await.map_err(|e| self.err(&action, e))?;
        Ok(ids[0].unwrap_or_default())
    }

    pub(super) async fn do_events_after(
        &self,
        run_id: &str,
        after: Option<i64>,
        limit: u32,
    ) -> Result<Vec<EventRecord>> {
        let rows: Vec<(i64, Option<String>, Option<i64>, String)> = sqlx::query_as(
            "SELECT e.id, e.run_id, s.seq, e.event FROM event_logs e \
             LEFT JOIN dg_event_seqs s ON s.storage_id = e.id \
             WHERE e.run_id = $1 AND e.id > $2 ORDER BY e.id LIMIT $3",
        )
        .bind(run_id)
        .bind(after.unwrap_or(0))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.err(&format!("reading events of run `{run_id}`"), e))?;
        let location = self.location();
        rows.into_iter()
            .map(|(id, run, seq, text)| {
                event_record(
                    &location,
                    id,
                    run.unwrap_or_else(|| run_id.to_string()),
                    seq,
                    &text,
                )
            })
            .collect()
    }

    pub(super) async fn do_dagster_events(
        &self,
        run_id: &str,
        dagster_event_type: &str,
    ) -> Result<Vec<String>> {
        sqlx::query_scalar(
            "SELECT event FROM event_logs WHERE run_id = $1 AND dagster_event_type = $2 \
             ORDER BY id",
        )
        .bind(run_id)
        .bind(dagster_event_type)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| {
            self.err(
                &format!("reading `{dagster_event_type}` events of run `{run_id}`"),
                e,
            )
        })
    }

    /// Marks one run orphaned if, read under its locks, it still is; whether it did.
    pub(super) async fn mark_orphan(&self, run_id: &str, policy: &OrphanPolicy) -> Result<bool> {
        let action = format!("marking run `{run_id}` as orphaned");
        let mut tx = self.begin_write().await?;
        self.lock_run_events(&mut tx, run_id).await?;
        // Lock the run's row (heartbeats and status changes take it too), then read it again in a
        // new statement, whose snapshot sees whatever they committed meanwhile: that must win.
        if self.fetch_run(&mut *tx, run_id, true).await?.is_none() {
            return Ok(false);
        }
        let Some(run) = self.fetch_run(&mut *tx, run_id, false).await? else {
            return Ok(false);
        };
        let Some(reason) = policy.orphan_reason(&run) else {
            return Ok(false);
        };
        let status = crate::monitor::orphan_status(run.status);
        self.write_status(&mut tx, run_id, status, policy.now)
            .await?;
        let host_event = |kind| Event {
            timestamp: policy.now,
            step_key: None,
            kind,
        };
        let kinds = if status == RunStatus::Canceled {
            let message = format!("Run marked canceled by monitoring while canceling: {reason}");
            vec![EventKind::EngineEvent { message }, EventKind::RunCanceled]
        } else {
            let error = ErrorInfo {
                message: format!("Run marked failed by monitoring: {reason}"),
                class_name: None,
                stack: Vec::new(),
            };
            vec![EventKind::RunFailure { error: Some(error) }]
        };
        let mut items = Vec::new();
        for kind in kinds {
            let plan = plan::plan_event(run_id, &run.job_name, &host_event(kind))
                .map_err(|e| self.bad_text(run_id, None, e))?;
            items.push((None, plan));
        }
        self.insert_items(&mut tx, run_id, &items).await?;
        tx.commit().await.map_err(|e| self.err(&action, e))?;
        Ok(true)
    }
}

/// Inserts `event_logs` rows with ids drawn from its sequence up front (so each row's id is known
/// and a batch's ids ascend in its order), in one statement.
async fn insert_rows(
    tx: &mut Transaction<'static, Postgres>,
    plans: &[&Plan],
) -> Result<Vec<i64>, sqlx::Error> {
    if plans.is_empty() {
        return Ok(Vec::new());
    }
    let mut ids: Vec<i64> = sqlx::query_scalar(
        "SELECT nextval(pg_get_serial_sequence('event_logs', 'id')) FROM generate_series(1, $1)",
    )
    .bind(plans.len() as i64)
    .fetch_all(&mut **tx)
    .await?;
    ids.sort_unstable();
    // One statement per batch: the columns as arrays, unnested in order.
    let rows = plans.iter().map(|p| &p.row);
    sqlx::query(
        "INSERT INTO event_logs (id, run_id, event, dagster_event_type, timestamp, step_key, \
         asset_key, partition) \
         SELECT id, r, e, t, to_timestamp(ts) AT TIME ZONE 'UTC', s, a, p \
         FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::float8[], $6::text[], \
         $7::text[], $8::text[]) AS u(id, r, e, t, ts, s, a, p)",
    )
    .bind(&ids)
    .bind(rows.clone().map(|r| r.run_id.clone()).collect::<Vec<_>>())
    .bind(rows.clone().map(|r| r.event.clone()).collect::<Vec<_>>())
    .bind(
        rows.clone()
            .map(|r| r.dagster_event_type.clone())
            .collect::<Vec<_>>(),
    )
    .bind(
        rows.clone()
            .map(|r| r.timestamp.as_secs_f64())
            .collect::<Vec<_>>(),
    )
    .bind(rows.clone().map(|r| r.step_key.clone()).collect::<Vec<_>>())
    .bind(
        rows.clone()
            .map(|r| r.asset_key.clone())
            .collect::<Vec<_>>(),
    )
    .bind(rows.map(|r| r.partition.clone()).collect::<Vec<_>>())
    .execute(&mut **tx)
    .await?;
    Ok(ids)
}

/// `asset_keys`, `asset_event_tags` and `asset_check_executions` for one event row `id`, as
/// Dagster updates them.
async fn update_asset_tables(
    tx: &mut Transaction<'static, Postgres>,
    plan: &Plan,
    id: i64,
) -> Result<(), sqlx::Error> {
    let row = &plan.row;
    let at = row.timestamp.as_secs_f64();
    if let (Some(update), Some(key)) = (plan.asset, &row.asset_key) {
        let q = match update {
            AssetUpdate::Materialization => sqlx::query(
                "INSERT INTO asset_keys (asset_key, last_materialization, last_run_id, \
                 last_materialization_timestamp) VALUES ($1, $2, $3, to_timestamp($4) AT TIME ZONE 'UTC') \
                 ON CONFLICT (asset_key) DO UPDATE SET last_materialization = $2, last_run_id = $3, \
                 last_materialization_timestamp = to_timestamp($4) AT TIME ZONE 'UTC'",
            )
            .bind(key)
            .bind(plan::last_materialization_record(&row.event, id))
            .bind(&row.run_id)
            .bind(at),
            AssetUpdate::Planned => sqlx::query(
                "INSERT INTO asset_keys (asset_key, last_run_id, last_materialization_timestamp) \
                 VALUES ($1, $2, to_timestamp($3) AT TIME ZONE 'UTC') ON CONFLICT (asset_key) DO UPDATE \
                 SET last_run_id = $2, last_materialization_timestamp = to_timestamp($3) AT TIME ZONE 'UTC'",
            )
            .bind(key)
            .bind(&row.run_id)
            .bind(at),
            AssetUpdate::Observation => sqlx::query(
                "INSERT INTO asset_keys (asset_key, last_materialization_timestamp) \
                 VALUES ($1, to_timestamp($2) AT TIME ZONE 'UTC') ON CONFLICT (asset_key) DO UPDATE \
                 SET last_materialization_timestamp = to_timestamp($2) AT TIME ZONE 'UTC'",
            )
            .bind(key)
            .bind(at),
        };
        q.execute(&mut **tx).await?;
        if !plan.asset_tags.is_empty() {
            let (keys, values): (Vec<String>, Vec<String>) =
                plan.asset_tags.iter().cloned().unzip();
            sqlx::query(
                "INSERT INTO asset_event_tags (event_id, asset_key, key, value, event_timestamp) \
                 SELECT $1, $2, k, v, to_timestamp($5) AT TIME ZONE 'UTC' \
                 FROM unnest($3::text[], $4::text[]) AS t(k, v)",
            )
            .bind(id)
            .bind(key)
            .bind(keys)
            .bind(values)
            .bind(at)
            .execute(&mut **tx)
            .await?;
        }
    }
    if let Some(check) = &plan.check {
        let updated = if check.planned || row.run_id.is_empty() {
            0
        } else {
            sqlx::query(
                "UPDATE asset_check_executions SET execution_status = $1, evaluation_event = $2, \
                 evaluation_event_timestamp = to_timestamp($3) AT TIME ZONE 'UTC', \
                 evaluation_event_storage_id = $4, materialization_event_storage_id = $5, partition = $6 \
                 WHERE asset_key = $7 AND check_name = $8 AND run_id = $9 \
                 AND partition IS NOT DISTINCT FROM $6",
            )
            .bind(check.status)
            .bind(&row.event)
            .bind(at)
            .bind(id)
            .bind(check.materialization_storage_id)
            .bind(&check.partition)
            .bind(&check.asset_key)
            .bind(&check.check_name)
            .bind(&row.run_id)
            .execute(&mut **tx)
            .await?
            .rows_affected()
        };
        if updated == 0 {
            sqlx::query(
                "INSERT INTO asset_check_executions (asset_key, check_name, partition, run_id, \
                 execution_status, evaluation_event, evaluation_event_timestamp, \
                 evaluation_event_storage_id, materialization_event_storage_id) \
                 VALUES ($1, $2, $3, $4, $5, $6, to_timestamp($7) AT TIME ZONE 'UTC', $8, $9)",
            )
            .bind(&check.asset_key)
            .bind(&check.check_name)
            .bind(&check.partition)
            .bind(&row.run_id)
            .bind(check.status)
            .bind(&row.event)
            .bind(at)
            .bind(id)
            .bind(check.materialization_storage_id)
            .execute(&mut **tx)
            .await?;
        }
    }
    Ok(())
}
