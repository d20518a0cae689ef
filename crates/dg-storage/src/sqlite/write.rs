//! The rows a batch writes inside its shard transaction: `event_logs` (the shard's, or the index
//! copies in `idx`), `dg_event_seqs`, and the asset tables of `index.db`, as Dagster writes them.

use sqlx::{Sqlite, Transaction};

use crate::plan::{self, naive_utc, AssetUpdate, Plan};
use crate::sql::INSERT_CHUNK;

/// Inserts `event_logs` rows into `schema` with multi-row statements and returns their ids, in
/// order. Under the write lock a new row's id is one more than the largest (SQLite's rowid rule),
/// so a statement's rows get consecutive ids in `VALUES` order; the count and the last id are
/// checked (cheaper than `RETURNING`, whose rows each cross sqlx's worker channel).
pub(super) async fn insert_rows(
    tx: &mut Transaction<'static, Sqlite>,
    schema: &str,
    plans: &[&Plan],
) -> Result<Vec<i64>, sqlx::Error> {
    let mut ids = Vec::with_capacity(plans.len());
    for chunk in plans.chunks(INSERT_CHUNK) {
        let before: i64 = sqlx::query_scalar(&format!(
            "SELECT COALESCE(MAX(id), 0) FROM {schema}.event_logs"
        ))
        .fetch_one(&mut **tx)
        .await?;
        let mut q = sqlx::QueryBuilder::<Sqlite>::new(format!(
            "INSERT INTO {schema}.event_logs (run_id, event, dagster_event_type, timestamp, step_key, \
             asset_key, partition) "
        ));
        q.push_values(chunk, |mut b, p| {
            let r = &p.row;
            b.push_bind(r.run_id.clone())
                .push_bind(r.event.clone())
                .push_bind(r.dagster_event_type.clone())
                .push_bind(naive_utc(r.timestamp))
                .push_bind(r.step_key.clone())
                .push_bind(r.asset_key.clone())
                .push_bind(r.partition.clone());
        });
        let inserted = q.build().execute(&mut **tx).await?.rows_affected();
        let after: i64 = sqlx::query_scalar(&format!(
            "SELECT COALESCE(MAX(id), 0) FROM {schema}.event_logs"
        ))
        .fetch_one(&mut **tx)
        .await?;
        let n = chunk.len() as i64;
        if inserted != chunk.len() as u64 || after != before + n {
            return Err(sqlx::Error::Protocol(format!(
                "{inserted} new event rows end at id {after}, not the {n} consecutive ids after {before}"
            )));
        }
        ids.extend(before + 1..=after);
    }
    Ok(ids)
}

/// Records the sequence numbers of a batch beside its rows: each stretch whose numbers and ids
/// both ascend by one (or whose ids are all NULL) in one statement that counts them out in SQL, so
/// a batch of a thousand log lines binds five values instead of three thousand.
pub(super) async fn insert_seqs(
    tx: &mut Transaction<'static, Sqlite>,
    schema: &str,
    run_id: &str,
    seqs: &[(i64, Option<i64>)],
) -> Result<(), sqlx::Error> {
    let sql = format!(
        "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?1) \
         INSERT INTO {schema}.dg_event_seqs (run_id, seq, storage_id) \
         SELECT ?2, ?3 + i, ?4 + i FROM n"
    );
    let mut start = 0;
    while start < seqs.len() {
        let (seq0, id0) = seqs[start];
        let mut end = start + 1;
        while end < seqs.len() {
            let step = (end - start) as i64;
            let (seq, id) = seqs[end];
            let follows = seq == seq0 + step && id == id0.map(|i| i + step);
            if !follows {
                break;
            }
            end += 1;
        }
        sqlx::query(&sql)
            .bind((end - start) as i64)
            .bind(run_id)
            .bind(seq0)
            .bind(id0)
            .execute(&mut **tx)
            .await?;
        start = end;
    }
    Ok(())
}

/// `asset_keys`, `asset_event_tags` and `asset_check_executions` for one index row `id`, as
/// Dagster updates them.
pub(super) async fn update_asset_tables(
    tx: &mut Transaction<'static, Sqlite>,
    plan: &Plan,
    id: i64,
) -> Result<(), sqlx::Error> {
    let row = &plan.row;
    let at = naive_utc(row.timestamp);
    if let (Some(update), Some(key)) = (plan.asset, &row.asset_key) {
        let (sql, record) = match update {
            AssetUpdate::Materialization => (
                "INSERT INTO idx.asset_keys (asset_key, last_materialization, last_run_id, \
                 last_materialization_timestamp) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (asset_key) DO UPDATE \
                 SET last_materialization = ?2, last_run_id = ?3, last_materialization_timestamp = ?4",
                Some(plan::last_materialization_record(&row.event, id)),
            ),
            AssetUpdate::Planned => (
                "INSERT INTO idx.asset_keys (asset_key, last_run_id, last_materialization_timestamp) \
                 VALUES (?1, ?3, ?4) ON CONFLICT (asset_key) DO UPDATE \
                 SET last_run_id = ?3, last_materialization_timestamp = ?4",
                None,
            ),
            AssetUpdate::Observation => (
                "INSERT INTO idx.asset_keys (asset_key, last_materialization_timestamp) \
                 VALUES (?1, ?4) ON CONFLICT (asset_key) DO UPDATE \
                 SET last_materialization_timestamp = ?4",
                None,
            ),
        };
        sqlx::query(sql)
            .bind(key)
            .bind(record)
            .bind(&row.run_id)
            .bind(&at)
            .execute(&mut **tx)
            .await?;
        for (tag, value) in &plan.asset_tags {
            sqlx::query(
                "INSERT INTO idx.asset_event_tags (event_id, asset_key, key, value, event_timestamp) \
                 VALUES (?, ?, ?, ?, ?)",
            )
            .bind(id)
            .bind(key)
            .bind(tag)
            .bind(value)
            .bind(&at)
            .execute(&mut **tx)
            .await?;
        }
    }
    if let Some(check) = &plan.check {
        let updated = if check.planned || row.run_id.is_empty() {
            0
        } else {
            sqlx::query(
                "UPDATE idx.asset_check_executions SET execution_status = ?, evaluation_event = ?, \
                 evaluation_event_timestamp = ?, evaluation_event_storage_id = ?, \
                 materialization_event_storage_id = ?, partition = ? \
                 WHERE asset_key = ? AND check_name = ? AND run_id = ? AND partition IS ?",
            )
            .bind(check.status)
            .bind(&row.event)
            .bind(&at)
            .bind(id)
            .bind(check.materialization_storage_id)
            .bind(&check.partition)
            .bind(&check.asset_key)
            .bind(&check.check_name)
            .bind(&row.run_id)
            .bind(&check.partition)
            .execute(&mut **tx)
            .await?
            .rows_affected()
        };
        if updated == 0 {
            sqlx::query(
                "INSERT INTO idx.asset_check_executions (asset_key, check_name, partition, run_id, \
                 execution_status, evaluation_event, evaluation_event_timestamp, \
                 evaluation_event_storage_id, materialization_event_storage_id) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(&check.asset_key)
            .bind(&check.check_name)
            .bind(&check.partition)
            .bind(&row.run_id)
            .bind(check.status)
            .bind(&row.event)
            .bind(&at)
            .bind(id)
            .bind(check.materialization_storage_id)
            .execute(&mut **tx)
            .await?;
        }
    }
    Ok(())
}
