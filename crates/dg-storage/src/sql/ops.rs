//! The [`Storage`](crate::Storage) implementation both backends share, as a macro over the sqlx
//! database type. A backend provides `pool`, `location()`, `err()`, `begin_write()` (a transaction
//! holding the write lock: `BEGIN IMMEDIATE` on SQLite) and `lock_run()` (the run's current status,
//! its row locked until commit on PostgreSQL); everything else is here, once.
//!
//! Run operations live here; event and asset operations in `ops_events.rs`.

/// Implements `Storage` for `$ty`, whose pool is a `sqlx::Pool<$db>`.
macro_rules! impl_sql_storage {
    ($ty:ident, $db:ty) => {
        $crate::sql::ops_events::impl_event_ops!($ty, $db);

        impl $ty {
            fn run_row(row: &<$db as sqlx::Database>::Row) -> Result<$crate::sql::RunRow, sqlx::Error> {
                use sqlx::Row as _;
                Ok($crate::sql::RunRow {
                    run_id: row.try_get("run_id")?,
                    location: row.try_get("location")?,
                    job_name: row.try_get("job_name")?,
                    selection: row.try_get("selection")?,
                    partition: row.try_get("partition_key")?,
                    config: row.try_get("config")?,
                    tags: row.try_get("tags")?,
                    status: row.try_get("status")?,
                    created_at: row.try_get("created_at")?,
                    updated_at: row.try_get("updated_at")?,
                    started_at: row.try_get("started_at")?,
                    ended_at: row.try_get("ended_at")?,
                    worker_pid: row.try_get("worker_pid")?,
                    worker_host: row.try_get("worker_host")?,
                    heartbeat_at: row.try_get("heartbeat_at")?,
                })
            }

            async fn fetch_run<'e, E>(&self, ex: E, run_id: &str) -> $crate::Result<Option<$crate::Run>>
            where
                E: sqlx::Executor<'e, Database = $db>,
            {
                let sql = format!("SELECT {} FROM runs WHERE run_id = $1", $crate::sql::RUN_COLUMNS);
                let row = sqlx::query(&sql)
                    .bind(run_id)
                    .fetch_optional(ex)
                    .await
                    .map_err(|e| self.err(&format!("reading run `{run_id}`"), e))?;
                match row {
                    None => Ok(None),
                    Some(row) => {
                        let raw = Self::run_row(&row).map_err(|e| self.err("reading a run", e))?;
                        raw.into_run(&self.location()).map(Some)
                    }
                }
            }

            async fn do_create_run(&self, run: &$crate::NewRun) -> $crate::Result<$crate::Run> {
                let action = format!("creating run `{}`", run.run_id);
                let mut tx = self.begin_write().await?;
                let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM runs WHERE run_id = $1")
                    .bind(&run.run_id)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(|e| self.err(&action, e))?;
                if exists.is_some() {
                    return Err($crate::StorageError::RunExists { run_id: run.run_id.clone() });
                }
                let tags = serde_json::to_string(&run.tags).unwrap_or_else(|_| "{}".into());
                let started_at = (run.status == $crate::RunStatus::Started).then_some(run.created_at);
                let ended_at = run.status.is_terminal().then_some(run.created_at);
                sqlx::query(
                    "INSERT INTO runs (run_id, location, job_name, selection, partition_key, config, tags, status, \
                     created_at, updated_at, started_at, ended_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10, $11)",
                )
                .bind(&run.run_id)
                .bind(&run.location)
                .bind(&run.job_name)
                .bind(&run.selection)
                .bind(&run.partition)
                .bind(run.config.to_string())
                .bind(tags)
                .bind(run.status.as_str())
                .bind(run.created_at.as_secs_f64())
                .bind(started_at.map($crate::Timestamp::as_secs_f64))
                .bind(ended_at.map($crate::Timestamp::as_secs_f64))
                .execute(&mut *tx)
                .await
                .map_err(|e| self.err(&action, e))?;
                for (key, value) in &run.tags {
                    sqlx::query("INSERT INTO run_tags (run_id, key, value) VALUES ($1, $2, $3)")
                        .bind(&run.run_id)
                        .bind(key)
                        .bind(value)
                        .execute(&mut *tx)
                        .await
                        .map_err(|e| self.err(&action, e))?;
                }
                let created = self.fetch_run(&mut *tx, &run.run_id).await?;
                tx.commit().await.map_err(|e| self.err(&action, e))?;
                created.ok_or_else(|| $crate::StorageError::RunNotFound { run_id: run.run_id.clone() })
            }

            async fn do_list_runs(&self, filter: &$crate::RunFilter) -> $crate::Result<Vec<$crate::Run>> {
                let mut q = sqlx::QueryBuilder::<$db>::new(format!(
                    "SELECT {} FROM runs WHERE 1 = 1",
                    $crate::sql::RUN_COLUMNS
                ));
                if !filter.statuses.is_empty() {
                    q.push(" AND status IN (");
                    let mut list = q.separated(", ");
                    for status in &filter.statuses {
                        list.push_bind(status.as_str());
                    }
                    q.push(")");
                }
                if let Some(location) = &filter.location {
                    q.push(" AND location = ").push_bind(location.clone());
                }
                for (key, value) in &filter.tags {
                    q.push(" AND EXISTS (SELECT 1 FROM run_tags t WHERE t.run_id = runs.run_id AND t.key = ")
                        .push_bind(key.clone())
                        .push(" AND t.value = ")
                        .push_bind(value.clone())
                        .push(")");
                }
                if let Some(cursor) = &filter.cursor {
                    q.push(" AND id < (SELECT c.id FROM runs c WHERE c.run_id = ")
                        .push_bind(cursor.clone())
                        .push(")");
                }
                q.push(" ORDER BY id DESC");
                if let Some(limit) = filter.limit {
                    q.push(" LIMIT ").push_bind(i64::from(limit));
                }
                let rows = q
                    .build()
                    .fetch_all(&self.pool)
                    .await
                    .map_err(|e| self.err("listing runs", e))?;
                let location = self.location();
                rows.iter()
                    .map(|row| {
                        Self::run_row(row)
                            .map_err(|e| self.err("listing runs", e))?
                            .into_run(&location)
                    })
                    .collect()
            }

            async fn do_set_run_status(
                &self,
                run_id: &str,
                status: $crate::RunStatus,
                at: $crate::Timestamp,
            ) -> $crate::Result<$crate::Run> {
                let action = format!("setting the status of run `{run_id}`");
                let mut tx = self.begin_write().await?;
                let current = self.lock_run(&mut tx, run_id).await?;
                if current != status {
                    if current.is_terminal() {
                        return Err($crate::StorageError::RunFinished {
                            run_id: run_id.to_string(),
                            current: current.to_string(),
                            requested: status.to_string(),
                        });
                    }
                    let started_at = (status == $crate::RunStatus::Started).then_some(at);
                    let ended_at = status.is_terminal().then_some(at);
                    sqlx::query(
                        "UPDATE runs SET status = $2, updated_at = $3, \
                         started_at = COALESCE(started_at, $4), ended_at = COALESCE($5, ended_at) \
                         WHERE run_id = $1",
                    )
                    .bind(run_id)
                    .bind(status.as_str())
                    .bind(at.as_secs_f64())
                    .bind(started_at.map($crate::Timestamp::as_secs_f64))
                    .bind(ended_at.map($crate::Timestamp::as_secs_f64))
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| self.err(&action, e))?;
                }
                let run = self.fetch_run(&mut *tx, run_id).await?;
                tx.commit().await.map_err(|e| self.err(&action, e))?;
                run.ok_or_else(|| $crate::StorageError::RunNotFound { run_id: run_id.to_string() })
            }

            async fn do_record_heartbeat(
                &self,
                run_id: &str,
                worker: &$crate::Worker,
                at: $crate::Timestamp,
            ) -> $crate::Result<()> {
                let done = sqlx::query(
                    "UPDATE runs SET worker_pid = $2, worker_host = $3, heartbeat_at = $4 WHERE run_id = $1",
                )
                .bind(run_id)
                .bind(i64::from(worker.pid))
                .bind(&worker.hostname)
                .bind(at.as_secs_f64())
                .execute(&self.pool)
                .await
                .map_err(|e| self.err(&format!("recording a heartbeat of run `{run_id}`"), e))?;
                if done.rows_affected() == 0 {
                    return Err($crate::StorageError::RunNotFound { run_id: run_id.to_string() });
                }
                Ok(())
            }

            async fn do_mark_orphans(&self, policy: &$crate::OrphanPolicy) -> $crate::Result<Vec<String>> {
                let filter = $crate::RunFilter {
                    statuses: $crate::monitor::MONITORED.to_vec(),
                    ..Default::default()
                };
                let mut marked = Vec::new();
                for listed in self.do_list_runs(&filter).await? {
                    // A cheap first look without the lock; the decision is taken below on the row
                    // as it is once locked.
                    if policy.orphan_reason(&listed).is_none() {
                        continue;
                    }
                    let run_id = listed.run_id;
                    let action = format!("marking run `{run_id}` as orphaned");
                    let mut tx = self.begin_write().await?;
                    self.lock_run(&mut tx, &run_id).await?;
                    // Read again under the lock: the worker may have sent a heartbeat, changed the
                    // status or finished since the list was read, and that must win.
                    let Some(run) = self.fetch_run(&mut *tx, &run_id).await? else { continue };
                    let Some(reason) = policy.orphan_reason(&run) else { continue };
                    let status = $crate::monitor::orphan_status(run.status);
                    sqlx::query("UPDATE runs SET status = $2, updated_at = $3, ended_at = $3 WHERE run_id = $1")
                        .bind(&run_id)
                        .bind(status.as_str())
                        .bind(policy.now.as_secs_f64())
                        .execute(&mut *tx)
                        .await
                        .map_err(|e| self.err(&action, e))?;
                    let host_event = |kind| $crate::Event { timestamp: policy.now, step_key: None, kind };
                    if status == $crate::RunStatus::Canceled {
                        let message = format!("Run marked canceled by monitoring while canceling: {reason}");
                        self.insert_event(&mut tx, &run_id, None, &host_event($crate::EventKind::EngineEvent { message }))
                            .await?;
                        self.insert_event(&mut tx, &run_id, None, &host_event($crate::EventKind::RunCanceled))
                            .await?;
                    } else {
                        let error = $crate::ErrorInfo {
                            message: format!("Run marked failed by monitoring: {reason}"),
                            class_name: None,
                            stack: Vec::new(),
                        };
                        let kind = $crate::EventKind::RunFailure { error: Some(error) };
                        self.insert_event(&mut tx, &run_id, None, &host_event(kind)).await?;
                    }
                    tx.commit().await.map_err(|e| self.err(&action, e))?;
                    marked.push(run_id);
                }
                Ok(marked)
            }

            async fn do_schema_version(&self) -> $crate::Result<i64> {
                let v: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM dg_schema_migrations")
                    .fetch_one(&self.pool)
                    .await
                    .map_err(|e| self.err("reading the schema version", e))?;
                Ok(v.unwrap_or(0))
            }
        }

        #[async_trait::async_trait]
        impl $crate::Storage for $ty {
            fn location(&self) -> String {
                $ty::location(self)
            }
            async fn schema_version(&self) -> $crate::Result<i64> {
                self.do_schema_version().await
            }
            async fn create_run(&self, run: &$crate::NewRun) -> $crate::Result<$crate::Run> {
                self.do_create_run(run).await
            }
            async fn get_run(&self, run_id: &str) -> $crate::Result<Option<$crate::Run>> {
                self.fetch_run(&self.pool, run_id).await
            }
            async fn list_runs(&self, filter: &$crate::RunFilter) -> $crate::Result<Vec<$crate::Run>> {
                self.do_list_runs(filter).await
            }
            async fn set_run_status(
                &self,
                run_id: &str,
                status: $crate::RunStatus,
                at: $crate::Timestamp,
            ) -> $crate::Result<$crate::Run> {
                self.do_set_run_status(run_id, status, at).await
            }
            async fn record_heartbeat(
                &self,
                run_id: &str,
                worker: &$crate::Worker,
                at: $crate::Timestamp,
            ) -> $crate::Result<()> {
                self.do_record_heartbeat(run_id, worker, at).await
            }
            async fn append_events(
                &self,
                run_id: &str,
                events: &[$crate::SequencedEvent],
            ) -> $crate::Result<Vec<i64>> {
                self.do_append_events(run_id, events).await
            }
            async fn append_host_event(&self, run_id: &str, event: &$crate::Event) -> $crate::Result<i64> {
                self.do_append_host_event(run_id, event).await
            }
            async fn next_seq(&self, run_id: &str) -> $crate::Result<i64> {
                self.do_next_seq(&self.pool, run_id).await
            }
            async fn events_after(
                &self,
                run_id: &str,
                after: Option<i64>,
                limit: u32,
            ) -> $crate::Result<Vec<$crate::EventRecord>> {
                self.do_events_after(run_id, after, limit).await
            }
            async fn latest_materialization(
                &self,
                key: &$crate::AssetKey,
                partition: Option<&str>,
            ) -> $crate::Result<Option<$crate::EventRecord>> {
                Ok(self.do_latest(key, Some(partition.unwrap_or(""))).await?.into_iter().next())
            }
            async fn latest_materializations(
                &self,
                key: &$crate::AssetKey,
            ) -> $crate::Result<Vec<$crate::EventRecord>> {
                self.do_latest(key, None).await
            }
            async fn materialized_asset_keys(&self) -> $crate::Result<Vec<$crate::AssetKey>> {
                self.do_asset_keys().await
            }
            async fn materialization_history(
                &self,
                key: &$crate::AssetKey,
                filter: &$crate::HistoryFilter,
            ) -> $crate::Result<Vec<$crate::EventRecord>> {
                self.do_history(key, "ASSET_MATERIALIZATION", filter, None).await
            }
            async fn asset_check_results(
                &self,
                key: &$crate::AssetKey,
                check_name: Option<&str>,
                limit: u32,
            ) -> $crate::Result<Vec<$crate::EventRecord>> {
                let filter = $crate::HistoryFilter { limit: Some(limit), ..Default::default() };
                self.do_history(key, "ASSET_CHECK_EVALUATION", &filter, check_name).await
            }
            async fn mark_orphaned_runs_failed(
                &self,
                policy: &$crate::OrphanPolicy,
            ) -> $crate::Result<Vec<String>> {
                self.do_mark_orphans(policy).await
            }
        }
    };
}

pub(crate) use impl_sql_storage;
