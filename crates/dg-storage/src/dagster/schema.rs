//! Creating and checking an instance in Dagster's own layout and schema.
//!
//! SQLite (under a base folder, `$DAGSTER_HOME` by default): `history/runs.db` (run storage),
//! `history/runs/index.db` (the event log's cross-run index shard), one `history/runs/<run_id>.db`
//! per run (made on demand by [`create_run_db`]) and `schedules/schedules.db`, each in WAL mode,
//! stamped with alembic revision [`HEAD_REVISION`] and holding the `secondary_indexes` rows real
//! Dagster writes for a new instance. PostgreSQL: the same tables in one database
//! ([`create_postgres_instance`]). The DDL is in `sql/`, copied from what Dagster 1.13.27 and
//! dagster-postgres 0.29.27 create (`docs/dagster-instance-format.md`, sections 2 and 6).
//!
//! An existing database is never overwritten or migrated: it is opened and its revision checked
//! ([`check_revision`]); only what is absent is created. An older known revision is refused with
//! the fix (`dagster instance migrate`), an unknown or missing one likewise. (Dagster itself never
//! checks the revision when it opens an instance; refusing is dg's policy, issue 14 point 4.)
//!
//! `instance_info` is left empty, as `DagsterInstance.get()` leaves it: Dagster writes its one row
//! (the run storage id) the first time it asks for it.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sqlx::postgres::PgConnection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqliteJournalMode};
use sqlx::{Connection, Executor, Row};

/// The alembic revision Dagster 1.13.27 (and 1.12.22) stamps on a new instance: the head of its
/// migration chain.
pub const HEAD_REVISION: &str = "29b539ebc72a";

/// Every earlier revision of Dagster's migration chain (`dagster/_core/storage/alembic/versions/`
/// of 1.13.27), newest first: an instance stamped with one of these needs
/// `dagster instance migrate`.
pub const OLDER_REVISIONS: &[&str] = &[
    "f495c27d5019",
    "7e2f3204cf8e",
    "6b7fb194ff9c",
    "16e3655b4d9b",
    "1aca709bba64",
    "63d7a8ec641a",
    "284a732df317",
    "46b412388816",
    "ec80dd91891a",
    "5771160a95ad",
    "d3a4c9e87af3",
    "701913684cb4",
    "d9092588866f",
    "e62c379ac8f4",
    "16689497301f",
    "6df03f4b1efb",
    "958a9495162d",
    "a00dd8d936a1",
    "5e139331e376",
    "6860f830e40c",
    "721d858e1dda",
    "b601eb913efa",
    "d32d1d6de793",
    "c892b3fe0a9f",
    "16e3115a602a",
    "5b467f7af3f6",
    "54666da3db5c",
    "8d66aa722f94",
    "d538c9496c01",
    "130b087bc274",
    "b37316bf5584",
    "9c5f00e80ef2",
    "17154c80d885",
    "f4eed4c26e2c",
    "42add02bf976",
    "f78059038d01",
    "05844c702676",
    "f4b6a4885876",
    "29a8e9d74220",
    "e784752027a6",
    "7b8304b4429d",
    "1a2d72f6b24e",
    "7f2b1a4ca7a5",
    "ddcc6d7244c6",
    "45fa602c43dc",
    "3b529ad30626",
    "7cba9eeaaf1d",
    "f0367d611631",
    "72686963a802",
    "3778078a3582",
    "6e1f65d78b92",
    "b4e0c470acb3",
    "3ca619834060",
    "ba4050312958",
    "521d4caca7ad",
    "3e71cf573ba6",
    "6d366a41b4be",
    "a914fb6ccdf9",
    "0da417ae1b81",
    "4ea2b1f6f67b",
    "8ccbed5060b8",
    "493871843165",
    "942138e33bf9",
    "a0234163e0e3",
    "f5bac2c36fad",
    "5ae53cd67d0c",
    "140198fdfe65",
    "b22f16781a7c",
    "b32a4f3036d2",
    "375e95bad550",
    "f3e43ff66603",
    "9483999bad92",
    "3e0770016702",
    "224640159acf",
    "c9159e740d7e",
    "c34498c29964",
    "07f83cc13695",
    "5c18fd3c2957",
    "c39c047fa021",
    "727ffe943a9f",
    "c63a27054f08",
    "3b1e175a2be3",
    "1ebdd7a9686f",
    "9fe9e746268c",
    "8f8dba68fd3b",
    "da7cd32b690d",
    "567bc23fd1ac",
];

/// Run storage: `history/runs.db`.
const SQLITE_RUNS: &str = include_str!("sql/sqlite_runs.sql");
/// Event log storage: `history/runs/index.db` and every `history/runs/<run_id>.db`.
const SQLITE_EVENT_LOG: &str = include_str!("sql/sqlite_event_log.sql");
/// Schedule storage: `schedules/schedules.db`.
const SQLITE_SCHEDULES: &str = include_str!("sql/sqlite_schedules.sql");
/// dagster-postgres' run storage tables.
const POSTGRES_RUNS: &str = include_str!("sql/postgres_runs.sql");
/// dagster-postgres' event log storage tables.
const POSTGRES_EVENT_LOG: &str = include_str!("sql/postgres_event_log.sql");
/// dagster-postgres' schedule storage tables.
const POSTGRES_SCHEDULES: &str = include_str!("sql/postgres_schedules.sql");
/// alembic's own table, on PostgreSQL shared by the three storages.
const POSTGRES_ALEMBIC: &str = "CREATE TABLE IF NOT EXISTS alembic_version (
    version_num VARCHAR(32) NOT NULL,
    CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
)";

/// The data migrations a new run storage records as done, in Dagster's order.
const RUN_SECONDARY_INDEXES: &[&str] = &[
    "run_partitions",
    "run_repo_label_tags",
    "bulk_action_types",
    "run_backfill_id",
    "backfill_job_name_and_tags",
    "backfill_end_timestamp",
    "run_start_end_overwritten",
];
/// The data migrations a new event log index shard records as done (per-run shards: none).
const EVENT_LOG_SECONDARY_INDEXES: &[&str] = &["asset_key_table", "asset_key_index_columns"];
/// The data migrations a new schedule storage records as done.
const SCHEDULE_SECONDARY_INDEXES: &[&str] =
    &["schedule_jobs_selector_id", "schedule_ticks_selector_id"];

/// How long a SQLite connection waits for another writer.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// The advisory lock that serialises instance creation on one PostgreSQL database.
const POSTGRES_CREATE_LOCK: i64 = 0x6467_5f64_6167_7374; // "dg_dagst"

/// Why a database's schema revision is not one dg can use as it is.
#[derive(Debug, thiserror::Error)]
pub enum RevisionError {
    /// An earlier revision of Dagster's chain: the instance needs Dagster's migration.
    #[error(
        "the schema is at revision `{revision}`, older than `{HEAD_REVISION}` (Dagster 1.13.27); \
         upgrade it with `dagster instance migrate` (dg never migrates a Dagster instance)"
    )]
    Older {
        /// The stamped revision.
        revision: String,
    },
    /// A revision outside the chain dg knows, such as one stamped by a newer Dagster.
    #[error(
        "the schema is at revision `{revision}`, which Dagster 1.13.27 does not know (its head is \
         `{HEAD_REVISION}`); it may come from a newer Dagster: use the Dagster version that wrote it"
    )]
    Unknown {
        /// The stamped revision (several, comma-separated, when the table holds more than one).
        revision: String,
    },
    /// No `alembic_version` table, or an empty one.
    #[error(
        "the database has no schema revision (no row in `alembic_version`): it was not created by \
         Dagster; open it with Dagster once, or run `dagster instance migrate`"
    )]
    Missing,
    /// The revision could not be read.
    #[error("reading the schema revision failed: {0}")]
    Database(#[source] sqlx::Error),
}

/// Errors of creating or opening an instance in Dagster's layout, each naming the file or database.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    /// A folder of the instance could not be created.
    #[error("could not create the folder `{}`", path.display())]
    CreateDir {
        /// The folder.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A new database file could not be put in place.
    #[error("could not create `{}`", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A statement failed.
    #[error("{location}: {action} failed: {source}")]
    Database {
        /// The file, or `the PostgreSQL database`.
        location: String,
        /// What was being done.
        action: &'static str,
        /// The underlying error.
        #[source]
        source: sqlx::Error,
    },
    /// The database exists but its revision is not [`HEAD_REVISION`].
    #[error("{location}: {source}")]
    Revision {
        /// The file, or `the PostgreSQL database`.
        location: String,
        /// Why the revision is refused.
        #[source]
        source: RevisionError,
    },
    /// A run id that cannot name a shard file (`/`, `..`, `index`, NUL).
    #[error("`{run_id}` cannot name an event log shard file under `history/runs/`")]
    BadRunId {
        /// The run id.
        run_id: String,
    },
}

/// The SQLite databases of an instance under one base folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqliteInstance {
    /// Run storage: `<base>/history/runs.db`.
    pub runs: PathBuf,
    /// The event log's folder: `<base>/history/runs/` (its `index.db` and `<run_id>.db` shards).
    pub event_log_dir: PathBuf,
    /// Schedule storage: `<base>/schedules/schedules.db`.
    pub schedules: PathBuf,
    /// The files this call created (the others existed and were checked).
    pub created: Vec<PathBuf>,
}

impl SqliteInstance {
    /// The layout under `base_dir` (`$DAGSTER_HOME`, or `storage.sqlite.base_dir`), touching
    /// nothing.
    pub fn layout(base_dir: &Path) -> Self {
        let history = base_dir.join("history");
        SqliteInstance {
            runs: history.join("runs.db"),
            event_log_dir: history.join("runs"),
            schedules: base_dir.join("schedules").join("schedules.db"),
            created: Vec::new(),
        }
    }

    /// The event log's cross-run index shard: `<base>/history/runs/index.db`.
    pub fn index(&self) -> PathBuf {
        self.event_log_dir.join("index.db")
    }

    /// The event log shard of one run: `<base>/history/runs/<run_id>.db` (a runless event's
    /// `run_id` is `""`, giving `.db`, as in Dagster).
    pub fn run_db(&self, run_id: &str) -> Result<PathBuf, SchemaError> {
        if run_id.contains(['/', '\\', '\0'])
            || run_id == "."
            || run_id == ".."
            || run_id == "index"
        {
            return Err(SchemaError::BadRunId {
                run_id: run_id.to_string(),
            });
        }
        Ok(self.event_log_dir.join(format!("{run_id}.db")))
    }
}

/// Creates the instance's three SQLite databases under `base_dir` where they are absent, as Dagster
/// 1.13.27 does on `DagsterInstance.get()`; an existing one is opened and its revision checked,
/// never changed. Returns the layout, with the files it created.
pub async fn create_sqlite_instance(base_dir: &Path) -> Result<SqliteInstance, SchemaError> {
    create_sqlite_instance_at(SqliteInstance::layout(base_dir)).await
}

/// [`create_sqlite_instance`] for files laid out as `layout` names them (the legacy
/// `run_storage` / `event_log_storage` / `schedule_storage` entries put each in its own folder).
pub async fn create_sqlite_instance_at(
    mut instance: SqliteInstance,
) -> Result<SqliteInstance, SchemaError> {
    instance.created.clear();
    let index = instance.index();
    let files = [
        (instance.runs.clone(), SQLITE_RUNS, RUN_SECONDARY_INDEXES),
        (index, SQLITE_EVENT_LOG, EVENT_LOG_SECONDARY_INDEXES),
        (
            instance.schedules.clone(),
            SQLITE_SCHEDULES,
            SCHEDULE_SECONDARY_INDEXES,
        ),
    ];
    for (path, ddl, indexes) in files {
        if ensure_sqlite_db(&path, ddl, indexes).await? {
            instance.created.push(path);
        }
    }
    Ok(instance)
}

/// Creates the event log shard of `run_id` under `base_dir` if it is absent (an existing one is
/// checked, never changed), with the event log's tables and no `secondary_indexes` rows, as Dagster
/// does when a run's first event is written. Returns its path.
pub async fn create_run_db(base_dir: &Path, run_id: &str) -> Result<PathBuf, SchemaError> {
    SqliteInstance::layout(base_dir).create_run_db(run_id).await
}

impl SqliteInstance {
    /// [`create_run_db`] in this layout's event log folder.
    pub async fn create_run_db(&self, run_id: &str) -> Result<PathBuf, SchemaError> {
        let path = self.run_db(run_id)?;
        ensure_sqlite_db(&path, SQLITE_EVENT_LOG, &[]).await?;
        Ok(path)
    }
}

/// Reads a SQLite database's alembic revision: `Ok` with it when it is [`HEAD_REVISION`], else why
/// not. Reads only.
pub async fn check_revision(conn: &mut SqliteConnection) -> Result<String, RevisionError> {
    let has_table = sqlx::query(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'",
    )
    .fetch_optional(&mut *conn)
    .await
    .map_err(RevisionError::Database)?
    .is_some();
    if !has_table {
        return Err(RevisionError::Missing);
    }
    let rows = sqlx::query("SELECT version_num FROM alembic_version")
        .fetch_all(&mut *conn)
        .await
        .map_err(RevisionError::Database)?;
    classify(rows.iter().map(|r| r.get::<String, _>(0)).collect())
}

/// [`check_revision`] for a PostgreSQL database (its `alembic_version` in the current schema).
pub async fn check_revision_pg(conn: &mut PgConnection) -> Result<String, RevisionError> {
    if !pg_table_exists(conn, "alembic_version")
        .await
        .map_err(RevisionError::Database)?
    {
        return Err(RevisionError::Missing);
    }
    let rows = sqlx::query("SELECT version_num FROM alembic_version")
        .fetch_all(&mut *conn)
        .await
        .map_err(RevisionError::Database)?;
    classify(rows.iter().map(|r| r.get::<String, _>(0)).collect())
}

/// Creates dagster-postgres' tables in the connection's database where they are absent, as
/// dagster-postgres 0.29.27 does: run storage's when `runs` is missing, event log's when
/// `event_logs` is, schedule storage's when neither `schedules` nor `jobs` exists, stamping
/// [`HEAD_REVISION`] when no revision is stamped. Then checks the revision; on a refusal nothing
/// is changed (one transaction). Concurrent callers are serialised by an advisory lock. Returns the
/// revision.
pub async fn create_postgres_instance(conn: &mut PgConnection) -> Result<String, SchemaError> {
    const LOCATION: &str = "the PostgreSQL database";
    let db = |action: &'static str| {
        move |source| SchemaError::Database {
            location: LOCATION.to_string(),
            action,
            source,
        }
    };
    let mut tx = conn.begin().await.map_err(db("beginning a transaction"))?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(POSTGRES_CREATE_LOCK)
        .execute(&mut *tx)
        .await
        .map_err(db("taking the creation lock"))?;
    let mut created = false;
    let parts = [
        (&["runs"][..], POSTGRES_RUNS, RUN_SECONDARY_INDEXES),
        (
            &["event_logs"][..],
            POSTGRES_EVENT_LOG,
            EVENT_LOG_SECONDARY_INDEXES,
        ),
        (
            &["schedules", "jobs"][..],
            POSTGRES_SCHEDULES,
            SCHEDULE_SECONDARY_INDEXES,
        ),
    ];
    for (markers, ddl, indexes) in parts {
        let mut present = false;
        for table in markers {
            present |= pg_table_exists(&mut tx, table)
                .await
                .map_err(db("looking for a table"))?;
        }
        if present {
            continue;
        }
        (&mut *tx)
            .execute(ddl)
            .await
            .map_err(db("creating Dagster's tables"))?;
        for name in indexes {
            sqlx::query(
                "INSERT INTO secondary_indexes (name, migration_completed) \
                 VALUES ($1, timezone('utc', clock_timestamp()))",
            )
            .bind(*name)
            .execute(&mut *tx)
            .await
            .map_err(db("recording data migrations"))?;
        }
        created = true;
    }
    if created {
        (&mut *tx)
            .execute(POSTGRES_ALEMBIC)
            .await
            .map_err(db("creating alembic_version"))?;
        sqlx::query(
            "INSERT INTO alembic_version (version_num) SELECT $1 \
             WHERE NOT EXISTS (SELECT 1 FROM alembic_version)",
        )
        .bind(HEAD_REVISION)
        .execute(&mut *tx)
        .await
        .map_err(db("stamping the schema revision"))?;
    }
    let revision = check_revision_pg(&mut tx)
        .await
        .map_err(|source| SchemaError::Revision {
            location: LOCATION.to_string(),
            source,
        })?;
    tx.commit().await.map_err(db("committing"))?;
    Ok(revision)
}

/// Whether `table` exists in the current schema.
async fn pg_table_exists(conn: &mut PgConnection, table: &str) -> Result<bool, sqlx::Error> {
    let row = sqlx::query(
        "SELECT EXISTS (SELECT 1 FROM information_schema.tables \
         WHERE table_schema = current_schema() AND table_name = $1)",
    )
    .bind(table)
    .fetch_one(&mut *conn)
    .await?;
    Ok(row.get::<bool, _>(0))
}

/// The verdict on the revisions stamped in one database.
fn classify(revisions: Vec<String>) -> Result<String, RevisionError> {
    match revisions.as_slice() {
        [] => Err(RevisionError::Missing),
        [one] if one == HEAD_REVISION => Ok(one.clone()),
        [one] if OLDER_REVISIONS.contains(&one.as_str()) => Err(RevisionError::Older {
            revision: one.clone(),
        }),
        _ => Err(RevisionError::Unknown {
            revision: revisions.join(", "),
        }),
    }
}

/// Makes sure the SQLite database at `path` exists: an existing one is opened and its revision
/// checked; an absent one is built in a temporary file next to it and linked into place only if
/// `path` is still absent, so no reader ever sees half a schema and a concurrent creator's file is
/// never replaced. Returns whether this call created it.
async fn ensure_sqlite_db(
    path: &Path,
    ddl: &'static str,
    indexes: &'static [&'static str],
) -> Result<bool, SchemaError> {
    if path.exists() {
        check_existing(path).await?;
        return Ok(false);
    }
    let dir = path.parent().expect("database paths have a folder");
    std::fs::create_dir_all(dir).map_err(|source| SchemaError::CreateDir {
        path: dir.to_path_buf(),
        source,
    })?;
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    let file_name = path
        .file_name()
        .expect("database paths name a file")
        .to_string_lossy();
    let tmp = dir.join(format!(
        ".{file_name}.dg-creating-{}-{nanos}",
        std::process::id()
    ));
    let built = build_sqlite_db(&tmp, ddl, indexes).await;
    let placed = built.and_then(|()| match std::fs::hard_link(&tmp, path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(source) => Err(SchemaError::Io {
            path: path.to_path_buf(),
            source,
        }),
    });
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut name = tmp.clone().into_os_string();
        name.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(name));
    }
    if !placed? {
        // Someone else created it meanwhile: theirs stands, and is checked like any existing one.
        check_existing(path).await?;
        return Ok(false);
    }
    Ok(true)
}

/// Builds a new database at `path`: WAL mode, the DDL, the revision stamp and the
/// `secondary_indexes` rows, in one transaction; the connection is closed (checkpointing the WAL)
/// before returning.
async fn build_sqlite_db(
    path: &Path,
    ddl: &'static str,
    indexes: &'static [&'static str],
) -> Result<(), SchemaError> {
    let location = format!("`{}`", path.display());
    let db = |action: &'static str| {
        let location = location.clone();
        move |source| SchemaError::Database {
            location,
            action,
            source,
        }
    };
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .busy_timeout(BUSY_TIMEOUT)
        .foreign_keys(false);
    let mut conn = SqliteConnection::connect_with(&options)
        .await
        .map_err(db("creating the database"))?;
    let mut tx = conn.begin().await.map_err(db("beginning a transaction"))?;
    (&mut *tx)
        .execute(ddl)
        .await
        .map_err(db("creating Dagster's tables"))?;
    sqlx::query("INSERT INTO alembic_version (version_num) VALUES (?)")
        .bind(HEAD_REVISION)
        .execute(&mut *tx)
        .await
        .map_err(db("stamping the schema revision"))?;
    for name in indexes {
        sqlx::query("INSERT INTO secondary_indexes (name, migration_completed) VALUES (?, ?)")
            .bind(*name)
            .bind(naive_utc_now())
            .execute(&mut *tx)
            .await
            .map_err(db("recording data migrations"))?;
    }
    tx.commit().await.map_err(db("committing"))?;
    conn.close().await.map_err(db("closing"))?;
    Ok(())
}

/// Opens an existing SQLite database (never creating it) and checks its revision.
async fn check_existing(path: &Path) -> Result<(), SchemaError> {
    let location = format!("`{}`", path.display());
    let options = SqliteConnectOptions::new()
        .filename(path)
        .busy_timeout(BUSY_TIMEOUT)
        .foreign_keys(false);
    let mut conn = SqliteConnection::connect_with(&options)
        .await
        .map_err(|source| SchemaError::Database {
            location: location.clone(),
            action: "opening",
            source,
        })?;
    let checked = check_revision(&mut conn).await;
    let _ = conn.close().await;
    checked
        .map(drop)
        .map_err(|source| SchemaError::Revision { location, source })
}

/// Now as Dagster writes its naive UTC timestamps to SQLite: `YYYY-MM-DD HH:MM:SS.ffffff`.
fn naive_utc_now() -> String {
    naive_utc(crate::Timestamp::now())
}

/// `ts` as Dagster writes naive UTC timestamps to SQLite: `YYYY-MM-DD HH:MM:SS.ffffff`.
fn naive_utc(ts: crate::Timestamp) -> String {
    ts.as_jiff().strftime("%Y-%m-%d %H:%M:%S.%6f").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The public futures can be spawned on a multi-threaded runtime (sqlx's `raw_sql` would make
    /// them not `Send` for every lifetime).
    #[allow(dead_code)]
    fn futures_are_spawnable(mut pg: PgConnection, mut sqlite: SqliteConnection) {
        fn spawnable<T: Send + 'static>(_: T) {}
        spawnable(async { create_sqlite_instance(&PathBuf::new()).await });
        spawnable(async { create_run_db(&PathBuf::new(), "r").await });
        spawnable(async move { create_postgres_instance(&mut pg).await });
        spawnable(async move { check_revision(&mut sqlite).await });
    }

    #[test]
    fn naive_utc_text() {
        let at = |secs| naive_utc(crate::Timestamp::from_secs_f64(secs));
        assert_eq!(at(0.0), "1970-01-01 00:00:00.000000");
        assert_eq!(at(1_796_428_800.25), "2026-12-05 00:00:00.250000");
        assert_eq!(at(951_782_400.0), "2000-02-29 00:00:00.000000");
    }

    #[test]
    fn revisions_are_classified() {
        assert_eq!(classify(vec![HEAD_REVISION.into()]).unwrap(), HEAD_REVISION);
        assert!(matches!(
            classify(vec!["7e2f3204cf8e".into()]),
            Err(RevisionError::Older { .. })
        ));
        assert!(matches!(
            classify(vec!["abcdef012345".into()]),
            Err(RevisionError::Unknown { .. })
        ));
        assert!(matches!(classify(vec![]), Err(RevisionError::Missing)));
        assert_eq!(OLDER_REVISIONS.len(), 87);
        assert!(!OLDER_REVISIONS.contains(&HEAD_REVISION));
    }

    #[test]
    fn run_ids_that_cannot_name_a_file_are_refused() {
        let layout = SqliteInstance::layout(Path::new("/h"));
        assert_eq!(layout.run_db("").unwrap(), Path::new("/h/history/runs/.db"));
        for bad in ["index", "..", "a/b", "a\\b"] {
            assert!(layout.run_db(bad).is_err(), "{bad}");
        }
    }
}
