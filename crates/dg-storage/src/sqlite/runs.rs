//! Runs in `runs.db`: `runs` and `run_tags` rows as Dagster's `SqlRunStorage` writes them, the
//! worker and heartbeat in `dg_run_workers`. Queries take the schema the file is attached as
//! (`main` on the run storage's own pool, `rs` on a shard's connection).

use sqlx::sqlite::SqliteRow;
use sqlx::{Executor, Row, Sqlite, Transaction};

use super::SqliteStorage;
use crate::error::{Result, StorageError};
use crate::monitor::OrphanPolicy;
use crate::plan::naive_utc;
use crate::run::{NewRun, Run, RunFilter, RunStatus, Timestamp, Worker};
use crate::sql::rows::{body_with_status, parse_status, NewRunRow, RunRow};

/// The columns of [`run_select`] in the order [`SqliteStorage::run_row`] reads them.
pub(super) fn run_select(schema: &str) -> String {
    format!(
        "SELECT r.id, r.run_id, r.run_body, r.status, r.create_timestamp, r.update_timestamp, \
         r.start_time, r.end_time, w.pid, w.hostname, w.heartbeat_at \
         FROM {schema}.runs r LEFT JOIN {schema}.dg_run_workers w ON w.run_id = r.run_id"
    )
}

/// A naive UTC text column (`create_timestamp`, `update_timestamp`) as a time.
fn time_column(
    location: &str,
    run_id: &str,
    column: &str,
    text: Option<String>,
) -> Result<Timestamp> {
    let text = text.unwrap_or_default();
    crate::plan::parse_naive_utc(&text).ok_or_else(|| StorageError::Corrupt {
        location: location.to_string(),
        what: format!("{column} of run `{run_id}`"),
        message: format!("`{text}` is not a time"),
    })
}

impl SqliteStorage {
    pub(super) fn run_row(&self, row: &SqliteRow) -> Result<Run> {
        let location = self.location();
        let get = |e: sqlx::Error| self.err("reading a run", e);
        let run_id: String = row.try_get("run_id").map_err(get)?;
        let created: Option<String> = row.try_get("create_timestamp").map_err(get)?;
        let updated: Option<String> = row.try_get("update_timestamp").map_err(get)?;
        let raw = RunRow {
            created_at: time_column(&location, &run_id, "create_timestamp", created)?,
            updated_at: time_column(&location, &run_id, "update_timestamp", updated)?,
            run_body: row.try_get("run_body").map_err(get)?,
            status: row.try_get("status").map_err(get)?,
            start_time: row.try_get("start_time").map_err(get)?,
            end_time: row.try_get("end_time").map_err(get)?,
            worker_pid: row.try_get("pid").map_err(get)?,
            worker_host: row.try_get("hostname").map_err(get)?,
            heartbeat_at: row.try_get("heartbeat_at").map_err(get)?,
            run_id,
        };
        raw.into_run(&location)
    }

    pub(super) async fn fetch_run<'e, E>(
        &self,
        ex: E,
        schema: &str,
        run_id: &str,
    ) -> Result<Option<Run>>
    where
        E: Executor<'e, Database = Sqlite>,
    {
        let sql = format!("{} WHERE r.run_id = ?", run_select(schema));
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
        let mut tx = self.begin_runs_write().await?;
        let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM runs WHERE run_id = ?")
            .bind(&run.run_id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(|e| self.err(&action, e))?;
        if exists.is_some() {
            return Err(StorageError::RunExists {
                run_id: run.run_id.clone(),
            });
        }
        sqlx::query(
            "INSERT INTO runs (run_id, snapshot_id, pipeline_name, mode, status, run_body, partition, \
             partition_set, create_timestamp, update_timestamp, start_time, end_time, backfill_id) \
             VALUES (?, NULL, ?, NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&run.run_id)
        .bind(&run.job_name)
        .bind(run.status.as_str())
        .bind(&row.run_body)
        .bind(&row.partition)
        .bind(&row.partition_set)
        .bind(naive_utc(run.created_at))
        .bind(naive_utc(run.updated_at))
        .bind(run.started_at.map(Timestamp::as_secs_f64))
        .bind(run.ended_at.map(Timestamp::as_secs_f64))
        .bind(&row.backfill_id)
        .execute(&mut *tx)
        .await
        .map_err(|e| self.err(&action, e))?;
        for (key, value) in &row.tags {
            sqlx::query("INSERT INTO run_tags (run_id, key, value) VALUES (?, ?, ?)")
                .bind(&run.run_id)
                .bind(key)
                .bind(value)
                .execute(&mut *tx)
                .await
                .map_err(|e| self.err(&action, e))?;
        }
        let created = self.fetch_run(&mut *tx, "main", &run.run_id).await?;
        tx.commit().await.map_err(|e| self.err(&action, e))?;
        created.ok_or_else(|| StorageError::RunNotFound {
            run_id: run.run_id.clone(),
        })
    }

    pub(super) async fn do_list_runs(&self, filter: &RunFilter) -> Result<Vec<Run>> {
        let mut q = sqlx::QueryBuilder::<Sqlite>::new(run_select("main"));
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
            .fetch_all(&self.inner.runs)
            .await
            .map_err(|e| self.err("listing runs", e))?;
        rows.iter().map(|row| self.run_row(row)).collect()
    }

    /// Moves a run to `status` inside `tx` (its write lock held), as Dagster's `handle_run_event`
    /// does: the `status` column, the body's status, `update_timestamp`, `start_time` on `STARTED`
    /// and `end_time` on a terminal status.
    pub(super) async fn write_status(
        &self,
        tx: &mut Transaction<'static, Sqlite>,
        schema: &str,
        run_id: &str,
        status: RunStatus,
        at: Timestamp,
    ) -> Result<Run> {
        let action = format!("setting the status of run `{run_id}`");
        let row: Option<(String, String)> = sqlx::query_as(&format!(
            "SELECT status, run_body FROM {schema}.runs WHERE run_id = ?"
        ))
        .bind(run_id)
        .fetch_optional(&mut **tx)
        .await
        .map_err(|e| self.err(&action, e))?;
        let (current, body) = match row {
            Some((status, body)) => (parse_status(&self.location(), run_id, Some(status))?, body),
            None => {
                return Err(StorageError::RunNotFound {
                    run_id: run_id.to_string(),
                })
            }
        };
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
            sqlx::query(&format!(
                "UPDATE {schema}.runs SET status = ?, run_body = ?, update_timestamp = ?, \
                 start_time = COALESCE(start_time, ?), end_time = COALESCE(?, end_time) \
                 WHERE run_id = ?"
            ))
            .bind(status.as_str())
            .bind(body)
            .bind(naive_utc(at))
            .bind(started)
            .bind(ended)
            .bind(run_id)
            .execute(&mut **tx)
            .await
            .map_err(|e| self.err(&action, e))?;
        }
        self.fetch_run(&mut **tx, schema, run_id)
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
        let mut tx = self.begin_runs_write().await?;
        let run = self
            .write_status(&mut tx, "main", run_id, status, at)
            .await?;
        tx.commit()
            .await
            .map_err(|e| self.err(&format!("setting the status of run `{run_id}`"), e))?;
        Ok(run)
    }

    pub(super) async fn do_record_heartbeat(
        &self,
        run_id: &str,
        worker: &Worker,
        at: Timestamp,
    ) -> Result<()> {
        let action = format!("recording a heartbeat of run `{run_id}`");
        let done = sqlx::query(
            "INSERT INTO dg_run_workers (run_id, pid, hostname, heartbeat_at) \
             SELECT run_id, ?, ?, ? FROM runs WHERE run_id = ? \
             ON CONFLICT (run_id) DO UPDATE SET pid = excluded.pid, hostname = excluded.hostname, \
             heartbeat_at = excluded.heartbeat_at",
        )
        .bind(i64::from(worker.pid))
        .bind(&worker.hostname)
        .bind(at.as_secs_f64())
        .bind(run_id)
        .execute(&self.inner.runs)
        .await
        .map_err(|e| self.err(&action, e))?;
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
            // A cheap first look without the lock; the decision is taken below on the row as it
            // is once locked.
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
