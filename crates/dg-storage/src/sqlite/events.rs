//! Events in the run's shard (`history/runs/<run_id>.db`), their index copies in `index.db` (the
//! `idx` schema of the shard's connections) and the asset tables there, as Dagster's
//! `SqliteEventLogStorage.store_event` writes them, a batch in one `BEGIN IMMEDIATE` transaction.
//! Storage ids are the shard's own ids, as Dagster's `get_records_for_run` gives them.

use sqlx::{Sqlite, SqlitePool, Transaction};

use super::write::{insert_rows, insert_seqs, update_asset_tables};
use super::SqliteStorage;
use crate::error::{Result, StorageError};
use crate::event::{ErrorInfo, Event, EventKind, EventRecord, SequencedEvent};
use crate::monitor::OrphanPolicy;
use crate::plan::{self, Plan};
use crate::run::RunStatus;
use crate::sql::{check_batch, rows::event_record};

/// Events to write: the writer's sequence number (none for host events) and the rows (none for
/// captured output).
type Item = (Option<i64>, Option<Plan>);

impl SqliteStorage {
    async fn begin_shard_write(
        &self,
        pool: &SqlitePool,
        run_id: &str,
    ) -> Result<Transaction<'static, Sqlite>> {
        pool.begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(|e| self.err_at(&self.shard_path(run_id), "starting a write", e))
    }

    /// The run's job name, which also tells that the run exists (`RunNotFound` otherwise).
    async fn job_name<'e, E>(&self, ex: E, schema: &str, run_id: &str) -> Result<String>
    where
        E: sqlx::Executor<'e, Database = Sqlite>,
    {
        let name: Option<Option<String>> = sqlx::query_scalar(&format!(
            "SELECT pipeline_name FROM {schema}.runs WHERE run_id = ?"
        ))
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
        self.job_name(&self.inner.runs, "main", run_id).await?;
        let pool = self.shard(run_id, true).await?.expect("created on demand");
        let mut tx = self.begin_shard_write(&pool, run_id).await?;
        let job = self.job_name(&mut *tx, "rs", run_id).await?;
        let next = next_seq_in(&mut tx, run_id)
            .await
            .map_err(|e| self.err_at(&self.shard_path(run_id), &action, e))?;
        if first.seq > next {
            return Err(StorageError::BadSequence {
                run_id: run_id.to_string(),
                message: format!(
                    "the batch starts at {}, but the next expected number is {next}",
                    first.seq
                ),
            });
        }
        // Events already stored by an earlier (acknowledged or not) attempt keep their ids.
        let mut known: std::collections::HashMap<i64, Option<i64>> = Default::default();
        if first.seq < next {
            let rows: Vec<(i64, Option<i64>)> = sqlx::query_as(
                "SELECT seq, storage_id FROM main.dg_event_seqs WHERE run_id = ? AND seq >= ? AND seq < ?",
            )
            .bind(run_id)
            .bind(first.seq)
            .bind(next)
            .fetch_all(&mut *tx)
            .await
            .map_err(|e| self.err_at(&self.shard_path(run_id), &action, e))?;
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
        tx.commit()
            .await
            .map_err(|e| self.err_at(&self.shard_path(run_id), &action, e))?;
        Ok(ids)
    }

    /// Writes events' rows: the shard's `event_logs` and `dg_event_seqs`, the index copies with
    /// their `dg_event_seqs`, and the asset tables. Returns each event's shard id (`None` for
    /// captured output).
    async fn insert_items(
        &self,
        tx: &mut Transaction<'static, Sqlite>,
        run_id: &str,
        items: &[Item],
    ) -> Result<Vec<Option<i64>>> {
        let action = format!("appending events of run `{run_id}`");
        let shard = self.shard_path(run_id);
        let index = self.inner.layout.index();
        let rows: Vec<&Plan> = items.iter().filter_map(|(_, p)| p.as_ref()).collect();
        let shard_ids = insert_rows(tx, "main", &rows)
            .await
            .map_err(|e| self.err_at(&shard, &action, e))?;
        let mut ids = Vec::with_capacity(items.len());
        let mut next_id = shard_ids.into_iter();
        for (_, plan) in items {
            ids.push(plan.as_ref().and_then(|_| next_id.next()));
        }
        let seqs: Vec<(i64, Option<i64>)> = items
            .iter()
            .zip(&ids)
            .filter_map(|((seq, _), id)| seq.map(|s| (s, *id)))
            .collect();
        insert_seqs(tx, "main", run_id, &seqs)
            .await
            .map_err(|e| self.err_at(&shard, &action, e))?;
        // The index copies, in the same order.
        let mirrored: Vec<(Option<i64>, &Plan)> = items
            .iter()
            .filter_map(|(seq, p)| p.as_ref().filter(|p| p.mirror_to_index).map(|p| (*seq, p)))
            .collect();
        if mirrored.is_empty() {
            return Ok(ids);
        }
        let plans: Vec<&Plan> = mirrored.iter().map(|(_, p)| *p).collect();
        let index_ids = insert_rows(tx, "idx", &plans)
            .await
            .map_err(|e| self.err_at(&index, &action, e))?;
        let seqs: Vec<(i64, Option<i64>)> = mirrored
            .iter()
            .zip(&index_ids)
            .filter_map(|((seq, _), id)| seq.map(|s| (s, Some(*id))))
            .collect();
        insert_seqs(tx, "idx", run_id, &seqs)
            .await
            .map_err(|e| self.err_at(&index, &action, e))?;
        for (plan, id) in plans.iter().zip(index_ids) {
            update_asset_tables(tx, plan, id)
                .await
                .map_err(|e| self.err_at(&index, &action, e))?;
        }
        Ok(ids)
    }

    pub(super) async fn do_append_host_event(&self, run_id: &str, event: &Event) -> Result<i64> {
        let action = format!("appending an event of run `{run_id}`");
        let job = self.job_name(&self.inner.runs, "main", run_id).await?;
        let Some(plan) =
            plan::plan_event(run_id, &job, event).map_err(|e| self.bad_text(run_id, None, e))?
        else {
            return Err(StorageError::BadSequence {
                run_id: run_id.to_string(),
                message: "captured output is not stored as an event (it is in compute logs)".into(),
            });
        };
        let pool = self.shard(run_id, true).await?.expect("created on demand");
        let mut tx = self.begin_shard_write(&pool, run_id).await?;
        // A resend after a lost acknowledgement: the text holds the event's time, type and
        // content, so an equal stored text without a sequence number is this very event.
        let stored: Option<i64> = sqlx::query_scalar(
            "SELECT e.id FROM main.event_logs e WHERE e.run_id = ? AND e.dagster_event_type IS ? \
             AND e.event = ? AND NOT EXISTS (SELECT 1 FROM main.dg_event_seqs s WHERE s.storage_id = e.id) \
             ORDER BY e.id LIMIT 1",
        )
        .bind(run_id)
        .bind(&plan.row.dagster_event_type)
        .bind(&plan.row.event)
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| self.err_at(&self.shard_path(run_id), &action, e))?;
        if let Some(id) = stored {
            return Ok(id);
        }
        let ids = self
            .insert_items(&mut tx, run_id, &[(None, Some(plan))])
            .await?;
        tx.commit()
            .await
            .map_err(|e| self.err_at(&self.shard_path(run_id), &action, e))?;
        Ok(ids[0].unwrap_or_default())
    }

    pub(super) async fn do_next_seq(&self, run_id: &str) -> Result<i64> {
        let Some(pool) = self.shard(run_id, false).await? else {
            return Ok(1);
        };
        let max: Option<i64> =
            sqlx::query_scalar("SELECT MAX(seq) FROM main.dg_event_seqs WHERE run_id = ?")
                .bind(run_id)
                .fetch_one(&pool)
                .await
                .map_err(|e| {
                    self.err_at(
                        &self.shard_path(run_id),
                        &format!("reading events of run `{run_id}`"),
                        e,
                    )
                })?;
        Ok(max.unwrap_or(0) + 1)
    }

    pub(super) async fn do_events_after(
        &self,
        run_id: &str,
        after: Option<i64>,
        limit: u32,
    ) -> Result<Vec<EventRecord>> {
        let Some(pool) = self.shard(run_id, false).await? else {
            return Ok(Vec::new());
        };
        let rows: Vec<(i64, Option<String>, Option<i64>, String)> = sqlx::query_as(
            "SELECT e.id, e.run_id, s.seq, e.event FROM main.event_logs e \
             LEFT JOIN main.dg_event_seqs s ON s.storage_id = e.id \
             WHERE e.run_id = ? AND e.id > ? ORDER BY e.id LIMIT ?",
        )
        .bind(run_id)
        .bind(after.unwrap_or(0))
        .bind(i64::from(limit))
        .fetch_all(&pool)
        .await
        .map_err(|e| {
            self.err_at(
                &self.shard_path(run_id),
                &format!("reading events of run `{run_id}`"),
                e,
            )
        })?;
        let location = super::describe(&self.shard_path(run_id));
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
        let Some(pool) = self.shard(run_id, false).await? else {
            return Ok(Vec::new());
        };
        sqlx::query_scalar(
            "SELECT event FROM main.event_logs WHERE run_id = ? AND dagster_event_type = ? \
             ORDER BY id",
        )
        .bind(run_id)
        .bind(dagster_event_type)
        .fetch_all(&pool)
        .await
        .map_err(|e| {
            self.err_at(
                &self.shard_path(run_id),
                &format!("reading `{dagster_event_type}` events of run `{run_id}`"),
                e,
            )
        })
    }

    /// Marks one run orphaned if, read under the lock, it still is; whether it did.
    pub(super) async fn mark_orphan(&self, run_id: &str, policy: &OrphanPolicy) -> Result<bool> {
        let action = format!("marking run `{run_id}` as orphaned");
        let pool = self.shard(run_id, true).await?.expect("created on demand");
        let mut tx = self.begin_shard_write(&pool, run_id).await?;
        // Read again under the lock: the worker may have sent a heartbeat, changed the status or
        // finished since the list was read, and that must win.
        let Some(run) = self.fetch_run(&mut *tx, "rs", run_id).await? else {
            return Ok(false);
        };
        let Some(reason) = policy.orphan_reason(&run) else {
            return Ok(false);
        };
        let status = crate::monitor::orphan_status(run.status);
        self.write_status(&mut tx, "rs", run_id, status, policy.now)
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
        tx.commit()
            .await
            .map_err(|e| self.err_at(&self.shard_path(run_id), &action, e))?;
        Ok(true)
    }
}

async fn next_seq_in(
    tx: &mut Transaction<'static, Sqlite>,
    run_id: &str,
) -> Result<i64, sqlx::Error> {
    let max: Option<i64> =
        sqlx::query_scalar("SELECT MAX(seq) FROM main.dg_event_seqs WHERE run_id = ?")
            .bind(run_id)
            .fetch_one(&mut **tx)
            .await?;
    Ok(max.unwrap_or(0) + 1)
}
