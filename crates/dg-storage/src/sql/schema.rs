//! The versioned schema of both backends. Each migration is a list of statements run in one
//! transaction together with its row in `dg_schema_migrations`; versions only ever get appended.
//!
//! The two backends differ only in how ids are generated; everything else (types, upserts,
//! `RETURNING`) is written in the SQL both accept.

/// One schema change.
#[derive(Debug)]
pub(crate) struct Migration {
    /// Its version, from 1, without gaps.
    pub version: i64,
    /// What it does, stored with it.
    pub name: &'static str,
    /// Its statements, run in order.
    pub statements: &'static [&'static str],
}

/// The table recording applied migrations.
pub(crate) const CREATE_SCHEMA_TABLE: &str = "CREATE TABLE IF NOT EXISTS dg_schema_migrations (
    version BIGINT PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at DOUBLE PRECISION NOT NULL
)";

macro_rules! v1_tables {
    ($id:literal) => {
        [
            concat!(
                "CREATE TABLE runs (
                id ",
                $id,
                ",
                run_id TEXT NOT NULL UNIQUE,
                location TEXT NOT NULL,
                job_name TEXT NOT NULL,
                selection TEXT,
                partition_key TEXT,
                config TEXT NOT NULL,
                tags TEXT NOT NULL,
                status TEXT NOT NULL,
                created_at DOUBLE PRECISION NOT NULL,
                updated_at DOUBLE PRECISION NOT NULL,
                started_at DOUBLE PRECISION,
                ended_at DOUBLE PRECISION,
                worker_pid BIGINT,
                worker_host TEXT,
                heartbeat_at DOUBLE PRECISION
            )"
            ),
            "CREATE INDEX runs_status_idx ON runs (status, id)",
            "CREATE INDEX runs_location_idx ON runs (location, id)",
            "CREATE TABLE run_tags (
                run_id TEXT NOT NULL,
                key TEXT NOT NULL,
                value TEXT NOT NULL,
                PRIMARY KEY (run_id, key)
            )",
            "CREATE INDEX run_tags_kv_idx ON run_tags (key, value)",
            concat!(
                "CREATE TABLE event_logs (
                id ",
                $id,
                ",
                run_id TEXT NOT NULL,
                seq BIGINT,
                event_type TEXT NOT NULL,
                timestamp DOUBLE PRECISION NOT NULL,
                step_key TEXT,
                asset_key TEXT,
                partition_key TEXT,
                check_name TEXT,
                body TEXT NOT NULL
            )"
            ),
            "CREATE UNIQUE INDEX event_logs_run_seq_idx ON event_logs (run_id, seq)",
            "CREATE INDEX event_logs_run_id_idx ON event_logs (run_id, id)",
            "CREATE INDEX event_logs_asset_idx ON event_logs (asset_key, event_type, id)",
        ]
    };
}

/// Version 2: the latest materialization of each asset key and partition, kept in the same
/// transaction as the events, and filled from the events already stored.
const V2_ASSET_INDEX: [&str; 2] = [
    "CREATE TABLE asset_latest (
        asset_key TEXT NOT NULL,
        partition_key TEXT NOT NULL,
        event_id BIGINT NOT NULL,
        run_id TEXT NOT NULL,
        timestamp DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (asset_key, partition_key)
    )",
    "INSERT INTO asset_latest (asset_key, partition_key, event_id, run_id, timestamp)
     SELECT e.asset_key, COALESCE(e.partition_key, ''), e.id, e.run_id, e.timestamp
     FROM event_logs e
     WHERE e.event_type = 'ASSET_MATERIALIZATION' AND e.id = (
         SELECT MAX(l.id) FROM event_logs l
         WHERE l.event_type = 'ASSET_MATERIALIZATION' AND l.asset_key = e.asset_key
           AND COALESCE(l.partition_key, '') = COALESCE(e.partition_key, ''))",
];

const SQLITE_V1: [&str; 9] = v1_tables!("INTEGER PRIMARY KEY AUTOINCREMENT");
const POSTGRES_V1: [&str; 9] = v1_tables!("BIGSERIAL PRIMARY KEY");

/// SQLite's migrations.
pub(crate) const SQLITE: &[Migration] = &[
    Migration {
        version: 1,
        name: "runs, run tags and event log",
        statements: &SQLITE_V1,
    },
    Migration {
        version: 2,
        name: "latest materialization index",
        statements: &V2_ASSET_INDEX,
    },
];

/// PostgreSQL's migrations.
pub(crate) const POSTGRES: &[Migration] = &[
    Migration {
        version: 1,
        name: "runs, run tags and event log",
        statements: &POSTGRES_V1,
    },
    Migration {
        version: 2,
        name: "latest materialization index",
        statements: &V2_ASSET_INDEX,
    },
];

/// The newest version this build knows (the same for both backends).
pub const LATEST_VERSION: i64 = 2;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_contiguous_and_end_at_latest() {
        for list in [SQLITE, POSTGRES] {
            for (i, m) in list.iter().enumerate() {
                assert_eq!(m.version, i as i64 + 1, "{}", m.name);
            }
            assert_eq!(list.last().map(|m| m.version), Some(LATEST_VERSION));
        }
    }
}
