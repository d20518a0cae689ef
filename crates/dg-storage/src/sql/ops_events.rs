//! Event-log and asset-index operations of the shared SQL implementation (see `ops.rs`).
//!
//! Exactly-once: a batch runs in one write transaction that first locks the run, reads the highest
//! stored sequence number, skips what is already stored and inserts the rest, updating the
//! latest-materialization index in the same transaction. The unique `(run_id, seq)` index backs this
//! up should two writers ever race past the lock. Host events (no sequence number) are made
//! idempotent by content: an equal event already stored for the run is returned, not stored again.

/// Inherent event methods of `$ty` (used by `impl_sql_storage!`).
macro_rules! impl_event_ops {
    ($ty:ident, $db:ty) => {
        impl $ty {
            fn record_from_row(&self, row: &<$db as sqlx::Database>::Row) -> $crate::Result<$crate::EventRecord> {
                use sqlx::Row as _;
                let decode = |e| self.err("reading an event", e);
                let id: i64 = row.try_get(0).map_err(decode)?;
                let run_id: String = row.try_get(1).map_err(decode)?;
                let seq: Option<i64> = row.try_get(2).map_err(decode)?;
                let body: String = row.try_get(3).map_err(decode)?;
                $crate::sql::event_record(&self.location(), id, run_id, seq, &body)
            }

            /// Inserts one event (and updates the asset index) inside `tx`; returns its storage id.
            async fn insert_event(
                &self,
                tx: &mut sqlx::Transaction<'static, $db>,
                run_id: &str,
                seq: Option<i64>,
                event: &$crate::Event,
            ) -> $crate::Result<i64> {
                let action = format!("appending events of run `{run_id}`");
                let kind = &event.kind;
                let asset_key = kind.asset_key().map(|k| k.to_db_string());
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO event_logs (run_id, seq, event_type, timestamp, step_key, asset_key, \
                     partition_key, check_name, body) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
                )
                .bind(run_id)
                .bind(seq)
                .bind(kind.event_type())
                .bind(event.timestamp.as_secs_f64())
                .bind(&event.step_key)
                .bind(&asset_key)
                .bind(kind.partition())
                .bind(kind.check_name())
                .bind($crate::sql::event_body(event))
                .fetch_one(&mut **tx)
                .await
                .map_err(|e| self.err(&action, e))?;
                self.update_asset_index(tx, run_id, id, event).await?;
                Ok(id)
            }

            /// Keeps `asset_latest` pointing at the newest materialization of each key and partition.
            async fn update_asset_index(
                &self,
                tx: &mut sqlx::Transaction<'static, $db>,
                run_id: &str,
                id: i64,
                event: &$crate::Event,
            ) -> $crate::Result<()> {
                let kind = &event.kind;
                let $crate::EventKind::AssetMaterialization { asset_key, .. } = kind else { return Ok(()) };
                sqlx::query(
                    "INSERT INTO asset_latest (asset_key, partition_key, event_id, run_id, timestamp) \
                     VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT (asset_key, partition_key) DO UPDATE SET \
                     event_id = excluded.event_id, run_id = excluded.run_id, timestamp = excluded.timestamp \
                     WHERE asset_latest.event_id < excluded.event_id",
                )
                .bind(asset_key.to_db_string())
                .bind(kind.partition().unwrap_or(""))
                .bind(id)
                .bind(run_id)
                .bind(event.timestamp.as_secs_f64())
                .execute(&mut **tx)
                .await
                .map_err(|e| self.err(&format!("updating the asset index for run `{run_id}`"), e))?;
                Ok(())
            }

            /// Inserts sequenced events with one multi-row statement; returns `(seq, id)` pairs.
            async fn insert_chunk(
                &self,
                tx: &mut sqlx::Transaction<'static, $db>,
                run_id: &str,
                chunk: &[&$crate::SequencedEvent],
            ) -> $crate::Result<Vec<(i64, i64)>> {
                let mut q = sqlx::QueryBuilder::<$db>::new(
                    "INSERT INTO event_logs (run_id, seq, event_type, timestamp, step_key, asset_key, \
                     partition_key, check_name, body) ",
                );
                q.push_values(chunk, |mut row, e| {
                    let kind = &e.event.kind;
                    row.push_bind(run_id.to_string())
                        .push_bind(e.seq)
                        .push_bind(kind.event_type())
                        .push_bind(e.event.timestamp.as_secs_f64())
                        .push_bind(e.event.step_key.clone())
                        .push_bind(kind.asset_key().map(|k| k.to_db_string()))
                        .push_bind(kind.partition().map(str::to_string))
                        .push_bind(kind.check_name().map(str::to_string))
                        .push_bind($crate::sql::event_body(&e.event));
                });
                q.push(" RETURNING seq, id");
                let pairs: Vec<(i64, i64)> = q
                    .build_query_as()
                    .fetch_all(&mut **tx)
                    .await
                    .map_err(|e| self.err(&format!("appending events of run `{run_id}`"), e))?;
                let by_seq: std::collections::HashMap<i64, i64> = pairs.iter().copied().collect();
                // The index is updated in storage-id order so the newest materialization wins.
                for e in chunk {
                    if let (Some(&id), $crate::EventKind::AssetMaterialization { .. }) = (by_seq.get(&e.seq), &e.event.kind) {
                        self.update_asset_index(tx, run_id, id, &e.event).await?;
                    }
                }
                Ok(pairs)
            }

            async fn do_next_seq<'e, E>(&self, ex: E, run_id: &str) -> $crate::Result<i64>
            where
                E: sqlx::Executor<'e, Database = $db>,
            {
                let max: Option<i64> = sqlx::query_scalar("SELECT MAX(seq) FROM event_logs WHERE run_id = $1")
                    .bind(run_id)
                    .fetch_one(ex)
                    .await
                    .map_err(|e| self.err(&format!("reading events of run `{run_id}`"), e))?;
                Ok(max.unwrap_or(0) + 1)
            }

            async fn do_append_events(
                &self,
                run_id: &str,
                events: &[$crate::SequencedEvent],
            ) -> $crate::Result<Vec<i64>> {
                $crate::sql::check_batch(run_id, events)?;
                let Some(first) = events.first() else { return Ok(Vec::new()) };
                let action = format!("appending events of run `{run_id}`");
                let mut tx = self.begin_write().await?;
                self.lock_run(&mut tx, run_id).await?;
                let next = self.do_next_seq(&mut *tx, run_id).await?;
                if first.seq > next {
                    return Err($crate::StorageError::BadSequence {
                        run_id: run_id.to_string(),
                        message: format!(
                            "the batch starts at {}, but the next expected number is {next}",
                            first.seq
                        ),
                    });
                }
                // Events already stored by an earlier (acknowledged or not) attempt keep their ids.
                let mut ids: std::collections::HashMap<i64, i64> = std::collections::HashMap::new();
                if first.seq < next {
                    let rows: Vec<(i64, i64)> = sqlx::query_as(
                        "SELECT seq, id FROM event_logs WHERE run_id = $1 AND seq >= $2 AND seq < $3",
                    )
                    .bind(run_id)
                    .bind(first.seq)
                    .bind(next)
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(|e| self.err(&action, e))?;
                    ids.extend(rows);
                }
                let fresh: Vec<&$crate::SequencedEvent> = events.iter().filter(|e| e.seq >= next).collect();
                for chunk in fresh.chunks($crate::sql::INSERT_CHUNK) {
                    ids.extend(self.insert_chunk(&mut tx, run_id, chunk).await?);
                }
                let ids = events
                    .iter()
                    .map(|e| {
                        ids.get(&e.seq).copied().ok_or_else(|| $crate::StorageError::Corrupt {
                            location: self.location(),
                            what: format!("event {} of run `{run_id}`", e.seq),
                            message: "stored but not found again".into(),
                        })
                    })
                    .collect::<$crate::Result<Vec<i64>>>()?;
                tx.commit().await.map_err(|e| self.err(&action, e))?;
                Ok(ids)
            }

            async fn do_append_host_event(&self, run_id: &str, event: &$crate::Event) -> $crate::Result<i64> {
                let action = format!("appending an event of run `{run_id}`");
                let mut tx = self.begin_write().await?;
                self.lock_run(&mut tx, run_id).await?;
                // A resend after a lost acknowledgement: the body holds the event's time to the
                // microsecond, so an equal stored body is this very event.
                let stored: Option<i64> = sqlx::query_scalar(
                    "SELECT id FROM event_logs WHERE run_id = $1 AND seq IS NULL AND event_type = $2 \
                     AND timestamp = $3 AND body = $4 ORDER BY id LIMIT 1",
                )
                .bind(run_id)
                .bind(event.kind.event_type())
                .bind(event.timestamp.as_secs_f64())
                .bind($crate::sql::event_body(event))
                .fetch_optional(&mut *tx)
                .await
                .map_err(|e| self.err(&action, e))?;
                if let Some(id) = stored {
                    return Ok(id);
                }
                let id = self.insert_event(&mut tx, run_id, None, event).await?;
                tx.commit().await.map_err(|e| self.err(&action, e))?;
                Ok(id)
            }

            async fn do_events_after(
                &self,
                run_id: &str,
                after: Option<i64>,
                limit: u32,
            ) -> $crate::Result<Vec<$crate::EventRecord>> {
                let sql = format!(
                    "SELECT {} FROM event_logs e WHERE e.run_id = $1 AND e.id > $2 ORDER BY e.id LIMIT $3",
                    $crate::sql::EVENT_COLUMNS
                );
                let rows = sqlx::query(&sql)
                    .bind(run_id)
                    .bind(after.unwrap_or(0))
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(|e| self.err(&format!("reading events of run `{run_id}`"), e))?;
                rows.iter().map(|r| self.record_from_row(r)).collect()
            }

            /// Latest materializations of `key` from the index, for one partition (`""` is none) or all.
            async fn do_latest(
                &self,
                key: &$crate::AssetKey,
                partition: Option<&str>,
            ) -> $crate::Result<Vec<$crate::EventRecord>> {
                let mut q = sqlx::QueryBuilder::<$db>::new(format!(
                    "SELECT {} FROM asset_latest a JOIN event_logs e ON e.id = a.event_id WHERE a.asset_key = ",
                    $crate::sql::EVENT_COLUMNS
                ));
                q.push_bind(key.to_db_string());
                if let Some(p) = partition {
                    q.push(" AND a.partition_key = ").push_bind(p.to_string());
                }
                q.push(" ORDER BY a.event_id DESC");
                let rows = q
                    .build()
                    .fetch_all(&self.pool)
                    .await
                    .map_err(|e| self.err(&format!("reading the latest materialization of `{key}`"), e))?;
                rows.iter().map(|r| self.record_from_row(r)).collect()
            }

            async fn do_asset_keys(&self) -> $crate::Result<Vec<$crate::AssetKey>> {
                let keys: Vec<String> = sqlx::query_scalar("SELECT DISTINCT asset_key FROM asset_latest")
                    .fetch_all(&self.pool)
                    .await
                    .map_err(|e| self.err("listing asset keys", e))?;
                let mut keys: Vec<$crate::AssetKey> =
                    keys.iter().filter_map(|k| $crate::AssetKey::from_db_string(k)).collect();
                keys.sort();
                Ok(keys)
            }

            async fn do_history(
                &self,
                key: &$crate::AssetKey,
                event_type: &str,
                filter: &$crate::HistoryFilter,
                check_name: Option<&str>,
            ) -> $crate::Result<Vec<$crate::EventRecord>> {
                let mut q = sqlx::QueryBuilder::<$db>::new(format!(
                    "SELECT {} FROM event_logs e WHERE e.asset_key = ",
                    $crate::sql::EVENT_COLUMNS
                ));
                q.push_bind(key.to_db_string());
                q.push(" AND e.event_type = ").push_bind(event_type.to_string());
                if let Some(p) = &filter.partition {
                    q.push(" AND e.partition_key = ").push_bind(p.clone());
                }
                if let Some(name) = check_name {
                    q.push(" AND e.check_name = ").push_bind(name.to_string());
                }
                if let Some(before) = filter.before {
                    q.push(" AND e.id < ").push_bind(before);
                }
                q.push(" ORDER BY e.id DESC LIMIT ")
                    .push_bind(i64::from(filter.limit.unwrap_or(100)));
                let rows = q
                    .build()
                    .fetch_all(&self.pool)
                    .await
                    .map_err(|e| self.err(&format!("reading the history of `{key}`"), e))?;
                rows.iter().map(|r| self.record_from_row(r)).collect()
            }
        }
    };
}

pub(crate) use impl_event_ops;
