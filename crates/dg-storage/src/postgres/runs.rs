//! Runs in dagster-postgres' `runs` and `run_tags`, the worker and heartbeat in `dg_run_workers`.
//! `create_timestamp` / `update_timestamp` are naive UTC (`timestamp without time zone`), as
//! Dagster writes them; `start_time` / `end_time` epoch seconds.

use sqlx::postgres::PgRow;
use sqlx::{Executor, Postgres, Row, Transaction};

use super::PostgresStorage;
use crate::error::{Result, StorageError};
use crate::monitor::OrphanPolicy;
use crate::run::{NewRun, Run, RunFilter, RunStatus, Timestamp, Worker};
use crate::sql::rows::{body_with_status, parse_status, NewRunRow, RunRow};

/// A run with its worker; `EXTRACT(EPOCH ...)` of a naive UTC time is its epoch seconds.
const RUN_SELECT: &str = "SELECT r.id, r.run_id, r.run_body, r.status, \
     EXTRACT(EPOCH FROM r.create_timestamp)::float8 AS created, \
     EXTRACT(EPOCH FROM r.update_timestamp)::float8 AS updated, \
     r.start_time, r.end_time, w.pid, w.hostname, w.heartbeat_at \
     FROM runs r LEFT JOIN dg_run_workers w ON w.run_id = r.run_id";

impl PostgresStorage {
    pub(super) fn run_row(&self, row: &PgRow) -> Result<Run> {
        let get = |e: sqlx::Error| self.err("reading a run", e);
        let created: Option<f64> = row.try_get("created").map_err(get)?;
        let updated: Option<f64> = row.try_get("updated").map_err(get)?;
        let raw = RunRow {
            run_id: row.try_get("run_id").map_err(get)?,
            run_body: row.try_get("run_body").map_err(get)?,
            status: row.try_get("status").map_err(get)?,
            created_at: Timestamp::from_secs_f64(created.unwrap_or_default()),
            updated_at: Timestamp::from_secs_f64(updated.or(created).unwrap_or_default()),
            start_time: row.try_get("start_time").map_err(get)?,
            end_time: row.try_get("end_time").map_err(get)?,
            worker_pid: row.try_get("pid").map_err(get)?,
            worker_host: row.try_get("hostname").map_err(get)?,
            heartbeat_at: row.try_get("heartbeat_at").map_err(get)?,
        };
        raw.into_run(&self.location())
    }

    /// The run; with `lock`, its row is locked until the transaction ends.
    pub(super) async fn fetch_run<'e, E>(
        &self,
        ex: E,
        run_id: &str,
        lock: bool,
    ) -> Result<Option<Run>>
    where
        E: Executor<'e, Database = Postgres>,
    {
        let sql = format!(
            "{RUN_SELECT} WHERE r.run_id = $1{}",
            if lock { " FOR UPDATE OF r" } else { "" }
        );
        let row = sqlx::query(&sql)
            .bind(run_id)
            .fetch_optional(ex)
            .await
            .map_err(|e| self.err(&format!("reading run `{run_id}`"), e))?;
        row.map(|row| self.run_row(&row)).transpose()
    }

    pub(super) async fn do_create_run(&self, new: &NewRun) -> Result<Run> {
        let action = format!("creating run `{}`", new.run_id);
        let row = NewRunRow::new(new);
        let run = &row.run;
        let mut tx = self.begin_write().await?;
        let inserted = sqlx::query(
            "INSERT INTO runs (run_id, snapshot_id, pipeline_name, mode, status, run_body, partition, \
             partition_set, create_timestamp, update_timestamp, start_time, end_time, backfill_id) \
             VALUES ($1, NULL, $2, NULL, $3, $4, $5, $6, to_timestamp($7) AT TIME ZONE 'UTC', \
             to_timestamp($8) AT TIME ZONE 'UTC', $9, $10, $11) ON CONFLICT (run_id) DO NOTHING",
        )
        .bind(&run.run_id)
        .bind(&run.job_name)
        .bind(run.status.as_str())
        .bind(&row.run_body)
        .bind(&row.partition)
        .bind(&row.partition_set)
        .bind(run.created_at.as_secs_f64())
        .bind(run.updated_at.as_secs_f64())
        .bind(run.started_at.map(Timestamp::as_secs_f64))
        .bind(run.ended_at.map(Timestamp::as_secs_f64))
        .bind(&row.backfill_id)
        .execute(&mut *tx)
        .await
        .map_err(|e| self.err(&action, e))?;
        if inserted.rows_affected() == 0 {
            return Err(StorageError::RunExists {
                run_id: run.run_id.clone(),
            });
        }
        let (keys, values): (Vec<String>, Vec<String>) = row.tags.clone().into_iter().unzip();
        sqlx::query(
            "INSERT INTO run_tags (run_id, key, value) SELECT $1, k, v FROM unnest($2::text[], $3::text[]) AS t(k, v)",
        )
        .bind(&run.run_id)
        .bind(keys)
        .bind(values)
        .execute(&mut *tx)
        .await
        .map_err(|e| self.err(&action, e))?;
        let created = self.fetch_run(&mut *tx, &run.run_id, false).await?;
        tx.commit().await.map_err(|e| self.err(&action, e))?;
        created.ok_or_else(|| StorageError::RunNotFound {
            run_id: run.run_id.clone(),
        })
    }

    pub(super) async fn do_list_runs(&self, filter: &RunFilter) -> Result<Vec<Run>> {
        let mut q = sqlx::QueryBuilder::<Postgres>::new(RUN_SELECT);
        q.push(" WHERE 1 = 1");
        if !filter.statuses.is_empty() {
            q.push(" AND r.status IN (");
            let mut list = q.separated(", ");
            for status in &filter.statuses {
                list.push_bind(status.as_str());
            }
            q.push(")");
        }
        let mut tags = filter.tags.clone();
        if let Some(location) = &filter.location {
            tags.push((
                crate::dagster::serdes::CODE_LOCATION_TAG.to_string(),
                location.clone(),
            ));
        }
        for (key, value) in tags {
            q.push(" AND EXISTS (SELECT 1 FROM run_tags t WHERE t.run_id = r.run_id AND t.key = ")
                .push_bind(key)
                .push(" AND t.value = ")
                .push_bind(value)
                .push(")");
        }
        if let Some(cursor) = &filter.cursor {
            q.push(" AND r.id < (SELECT c.id FROM runs c WHERE c.run_id = ")
                .push_bind(cursor.clone())
                .push(")");
        }
        q.push(" ORDER BY r.id DESC");
        if let Some(limit) = filter.limit {
            q.push(" LIMIT ").push_bind(i64::from(limit));
        }
        let rows = q
            .build()
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.err("listing runs", e))?;
        rows.iter().map(|row| self.run_row(row)).collect()
    }

    /// Moves a run to `status` inside `tx`, its row locked, as Dagster's `handle_run_event` does.
    pub(super) async fn write_status(
        &self,
        tx: &mut Transaction<'static, Postgres>,
        run_id: &str,
        status: RunStatus,
        at: Timestamp,
    ) -> Result<Run> {
        let action = format!("setting the status of run `{run_id}`");
        let row: Option<(String, String)> =
            sqlx::query_as("SELECT status, run_body FROM runs WHERE run_id = $1 FOR UPDATE")
                .bind(run_id)
                .fetch_optional(&mut **tx)
                .await
                .map_err(|e| self.err(&action, e))?;
        let Some((current, body)) = row else {
            return Err(StorageError::RunNotFound {
                run_id: run_id.to_string(),
            });
        };
        let current = parse_status(&self.location(), run_id, Some(current))?;
        if current != status {
            if current.is_terminal() {
                return Err(StorageError::RunFinished {
                    run_id: run_id.to_string(),
                    current: current.to_string(),
                    requested: status.to_string(),
                });
            }
            let body = body_with_status(&self.location(), run_id, &body, status)?;
            let started = (status == RunStatus::Started).then_some(at.as_secs_f64());
            let ended = status.is_terminal().then_some(at.as_secs_f64());
            sqlx::query(
                "UPDATE runs SET status = $2, run_body = $3, \
                 update_timestamp = to_timestamp($4) AT TIME ZONE 'UTC', \
                 start_time = COALESCE(start_time, $5), end_time = COALESCE($6, end_time) \
                 WHERE run_id = $1",
            )
            .bind(run_id)
            .bind(status.as_str())
            .bind(body)
            .bind(at.as_secs_f64())
            .bind(started)
            .bind(ended)
            .execute(&mut **tx)
            .await
            .map_err(|e| self.err(&action, e))?;
        }
        self.fetch_run(&mut **tx, run_id, false)
            .await?
            .ok_or_else(|| StorageError::RunNotFound {
                run_id: run_id.to_string(),
            })
    }

    pub(super) async fn do_set_run_status(
        &self,
        run_id: &str,
        status: RunStatus,
        at: Timestamp,
    ) -> Result<Run> {
        let mut tx = self.begin_write().await?;
        let run = self.write_status(&mut tx, run_id, status, at).await?;
        tx.commit()
            .await
            .map_err(|e| self.err(&format!("setting the status of run `{run_id}`"), e))?;
        Ok(run)
    }

    /// Records the heartbeat under the run's row lock, so monitoring (which decides under that
    /// lock) never overrules one that lands while it looks.
    pub(super) async fn do_record_heartbeat(
        &self,
        run_id: &str,
        worker: &Worker,
        at: Timestamp,
    ) -> Result<()> {
        let done = sqlx::query(
            "WITH r AS (SELECT run_id FROM runs WHERE run_id = $1 FOR UPDATE) \
             INSERT INTO dg_run_workers (run_id, pid, hostname, heartbeat_at) \
             SELECT run_id, $2, $3, $4 FROM r \
             ON CONFLICT (run_id) DO UPDATE SET pid = excluded.pid, hostname = excluded.hostname, \
             heartbeat_at = excluded.heartbeat_at",
        )
        .bind(run_id)
        .bind(i64::from(worker.pid))
        .bind(&worker.hostname)
        .bind(at.as_secs_f64())
        .execute(&self.pool)
        .await
        .map_err(|e| self.err(&format!("recording a heartbeat of run `{run_id}`"), e))?;
        if done.rows_affected() == 0 {
            return Err(StorageError::RunNotFound {
                run_id: run_id.to_string(),
            });
        }
        Ok(())
    }

    pub(super) async fn do_mark_orphans(&self, policy: &OrphanPolicy) -> Result<Vec<String>> {
        let filter = RunFilter {
            statuses: crate::monitor::MONITORED.to_vec(),
            ..Default::default()
        };
        let mut marked = Vec::new();
        for listed in self.do_list_runs(&filter).await? {
            if policy.orphan_reason(&listed).is_none() {
                continue;
            }
            if self.mark_orphan(&listed.run_id, policy).await? {
                marked.push(listed.run_id);
            }
        }
        Ok(marked)
    }
}
