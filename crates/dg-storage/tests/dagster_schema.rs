//! The instance in Dagster's layout (`dg_storage::dagster::schema`) against real Dagster 1.13.27:
//! the schema we create equals the one Dagster creates (every table and index of every file,
//! normalised), and real Dagster opens ours, runs on it and leaves its schema as it was. PostgreSQL
//! on the server named by `DG_TEST_POSTGRES_URL` (a fresh database per test, dropped after);
//! `DG_TEST_SKIP_POSTGRES=1` skips those.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::str::FromStr;

use dg_core::env::{DAGSTER_HOME, DG_TEST_POSTGRES_URL, DG_TEST_SKIP_POSTGRES};
use dg_storage::dagster::schema::{
    check_revision, check_revision_pg, create_postgres_instance, create_run_db,
    create_sqlite_instance, RevisionError, SchemaError, SqliteInstance, HEAD_REVISION,
};
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{ConnectOptions, Connection, Row};

const RUN_ID: &str = "5f1c9a52-6a3c-4a8e-9d3e-0d7b2f1e4c11";
const DEFAULT_POSTGRES_URL: &str = "postgres://postgres:postgres@127.0.0.1:5432/postgres";

/// Two assets, the second reading the first's output.
const DEFS: &str = r#"
import dagster as dg

@dg.asset
def upstream():
    print("hello from upstream")
    return [1, 2, 3]

@dg.asset
def downstream(upstream):
    return sum(upstream)
"#;

/// Opens the instance of `$DAGSTER_HOME`, checks it is empty, materializes both assets and reads
/// them back; prints `OK` when every step worked.
const USE_INSTANCE: &str = r#"
import sys
sys.path.insert(0, sys.argv[1])
import dagster as dg
from defs import upstream, downstream

instance = dg.DagsterInstance.get()
assert instance.get_runs() == [], instance.get_runs()
result = dg.materialize([upstream, downstream], instance=instance)
assert result.success
runs = instance.get_runs()
assert len(runs) == 1 and runs[0].status == dg.DagsterRunStatus.SUCCESS, runs
event = instance.get_latest_materialization_event(dg.AssetKey("downstream"))
assert event is not None and event.run_id == result.run_id, event
assert instance.get_run_by_id(result.run_id).run_id == result.run_id
print("OK", result.run_id)
"#;

/// Opens a new instance the way Dagster does on first use, then runs once (for a run shard).
const MAKE_REFERENCE: &str = r#"
import sys
sys.path.insert(0, sys.argv[1])
import dagster as dg
from defs import upstream

instance = dg.DagsterInstance.get()
assert dg.materialize([upstream], instance=instance).success
print("OK")
"#;

fn python() -> &'static Path {
    dg_test::python::shared_python()
}

/// Runs `script` with real Dagster under `home` (`dagster.yaml` written from `yaml`), returning
/// stdout; panics with stderr on failure.
fn run_dagster(python: &Path, home: &Path, yaml: &str, script: &str) -> String {
    std::fs::create_dir_all(home).unwrap();
    std::fs::write(home.join("dagster.yaml"), yaml).unwrap();
    let code = home.parent().unwrap().join("code");
    std::fs::create_dir_all(&code).unwrap();
    std::fs::write(code.join("defs.py"), DEFS).unwrap();
    let out = Command::new(python)
        .arg("-c")
        .arg(script)
        .arg(&code)
        .env(DAGSTER_HOME, home)
        .output()
        .expect("python runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success() && stdout.contains("OK"),
        "dagster failed\nstdout:\n{stdout}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// `dagster instance info` on `home` (its `dagster.yaml` already written): asserts Dagster sees every
/// storage at the head revision, with nothing to migrate.
fn assert_dagster_sees_head_revision(python: &Path, home: &Path) {
    let out = Command::new(python)
        .args(["-m", "dagster", "instance", "info"])
        .env(DAGSTER_HOME, home)
        .output()
        .expect("python runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "dagster instance info failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let current: Vec<_> = stdout
        .lines()
        .filter_map(|l| l.trim().strip_prefix("current: "))
        .collect();
    assert_eq!(current, [HEAD_REVISION; 3], "{stdout}");
}

async fn sqlite(path: &Path) -> SqliteConnection {
    SqliteConnectOptions::new()
        .filename(path)
        .read_only(true)
        .connect()
        .await
        .unwrap_or_else(|e| panic!("open {}: {e}", path.display()))
}

/// Every table and index of a SQLite file, as `type name on table: sql` with whitespace
/// normalised (`sqlite_autoindex_*` have no SQL).
async fn sqlite_master(path: &Path) -> BTreeSet<String> {
    let mut conn = sqlite(path).await;
    let rows = sqlx::query("SELECT type, name, tbl_name, sql FROM sqlite_master")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    rows.iter()
        .map(|r| {
            let sql: Option<String> = r.get(3);
            format!(
                "{} {} on {}: {}",
                r.get::<String, _>(0),
                r.get::<String, _>(1),
                r.get::<String, _>(2),
                sql.as_deref().map(normalise).unwrap_or_default()
            )
        })
        .collect()
}

fn normalise(sql: &str) -> String {
    sql.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace("( ", "(")
        .replace(" )", ")")
        .replace(" ,", ",")
}

/// Rows that say what the database is: journal mode, revision, the data migrations recorded,
/// how many `instance_info` rows.
async fn sqlite_bookkeeping(path: &Path) -> Vec<String> {
    let mut conn = sqlite(path).await;
    let mut out = Vec::new();
    let mode: String = sqlx::query("PRAGMA journal_mode")
        .fetch_one(&mut conn)
        .await
        .unwrap()
        .get(0);
    out.push(format!("journal_mode {mode}"));
    for r in sqlx::query("SELECT version_num FROM alembic_version")
        .fetch_all(&mut conn)
        .await
        .unwrap()
    {
        out.push(format!("alembic {}", r.get::<String, _>(0)));
    }
    for r in sqlx::query(
        "SELECT id, name, create_timestamp IS NOT NULL, migration_completed IS NOT NULL \
         FROM secondary_indexes ORDER BY id",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap()
    {
        out.push(format!(
            "secondary_index {} {} {} {}",
            r.get::<i64, _>(0),
            r.get::<String, _>(1),
            r.get::<bool, _>(2),
            r.get::<bool, _>(3)
        ));
    }
    conn.close().await.unwrap();
    out
}

async fn count(path: &Path, table: &str) -> i64 {
    let mut conn = sqlite(path).await;
    let n = sqlx::query(&format!("SELECT count(*) FROM {table}"))
        .fetch_one(&mut conn)
        .await
        .unwrap()
        .get(0);
    conn.close().await.unwrap();
    n
}

fn run_shards(dir: &Path) -> Vec<PathBuf> {
    let mut shards: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.extension().is_some_and(|e| e == "db") && p.file_name().unwrap() != "index.db"
        })
        .collect();
    shards.sort();
    shards
}

#[tokio::test(flavor = "multi_thread")]
async fn sqlite_schema_equals_the_one_dagster_creates() {
    let tmp = tempfile::tempdir().unwrap();
    let theirs = tmp.path().join("theirs").join("home");
    run_dagster(python(), &theirs, "", MAKE_REFERENCE);
    let ours = tmp.path().join("ours");
    let created = create_sqlite_instance(&ours).await.unwrap();
    let run_db = create_run_db(&ours, RUN_ID).await.unwrap();
    assert_eq!(created.created.len(), 3);

    let their_layout = SqliteInstance::layout(&theirs);
    let their_shards = run_shards(&their_layout.event_log_dir);
    assert_eq!(their_shards.len(), 1, "{their_shards:?}");
    let pairs = [
        (created.runs.clone(), their_layout.runs.clone()),
        (created.index(), their_layout.index()),
        (created.schedules.clone(), their_layout.schedules.clone()),
        (run_db.clone(), their_shards[0].clone()),
    ];
    for (ours, theirs) in &pairs {
        assert_eq!(
            sqlite_master(ours).await,
            sqlite_master(theirs).await,
            "sqlite_master of {} vs Dagster's {}",
            ours.display(),
            theirs.display()
        );
        assert_eq!(
            sqlite_bookkeeping(ours).await,
            sqlite_bookkeeping(theirs).await,
            "bookkeeping of {}",
            ours.display()
        );
    }
    // Dagster writes `instance_info`'s row when it first asks for the run storage id (its run did);
    // a new instance has none, as after `DagsterInstance.get()` alone.
    assert_eq!(count(&created.runs, "instance_info").await, 0);
    assert_eq!(count(&their_layout.runs, "instance_info").await, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn dagster_uses_our_sqlite_instance_without_changing_its_schema() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let instance = create_sqlite_instance(&home).await.unwrap();
    let files = [
        instance.runs.clone(),
        instance.index(),
        instance.schedules.clone(),
    ];
    let mut before = Vec::new();
    for f in &files {
        before.push((sqlite_master(f).await, sqlite_bookkeeping(f).await));
    }
    std::fs::write(home.join("dagster.yaml"), "").unwrap();
    assert_dagster_sees_head_revision(python(), &home);
    let out = run_dagster(python(), &home, "", USE_INSTANCE);
    let run_id = out
        .lines()
        .find_map(|l| l.strip_prefix("OK "))
        .expect("run id printed")
        .trim();
    for (f, before) in files.iter().zip(&before) {
        assert_eq!(
            &(sqlite_master(f).await, sqlite_bookkeeping(f).await),
            before,
            "Dagster changed the schema of {}",
            f.display()
        );
    }
    assert_eq!(count(&instance.runs, "runs").await, 1);
    // The run's shard, made by Dagster, is at the head revision, and so our check accepts it.
    let shard = instance.run_db(run_id).unwrap();
    assert!(count(&shard, "event_logs").await > 10);
    let mut conn = sqlite(&shard).await;
    assert_eq!(check_revision(&mut conn).await.unwrap(), HEAD_REVISION);
    // Reopening with dg creates nothing and accepts what Dagster wrote.
    assert!(create_sqlite_instance(&home)
        .await
        .unwrap()
        .created
        .is_empty());
    assert_eq!(create_run_db(&home, run_id).await.unwrap(), shard);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_existing_sqlite_instance_is_opened_and_checked_never_rewritten() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let instance = create_sqlite_instance(&home).await.unwrap();
    let write = |path: PathBuf, sql: &'static str| async move {
        let mut conn = SqliteConnectOptions::new()
            .filename(&path)
            .connect()
            .await
            .unwrap();
        sqlx::raw_sql(sql).execute(&mut conn).await.unwrap();
        conn.close().await.unwrap();
    };
    write(
        instance.runs.clone(),
        "INSERT INTO kvs (\"key\", value) VALUES ('mine', 'kept')",
    )
    .await;
    assert!(create_sqlite_instance(&home)
        .await
        .unwrap()
        .created
        .is_empty());
    assert_eq!(count(&instance.runs, "kvs").await, 1);

    // A missing file is created beside existing ones.
    std::fs::remove_file(&instance.schedules).unwrap();
    let again = create_sqlite_instance(&home).await.unwrap();
    assert_eq!(again.created, vec![instance.schedules.clone()]);

    let cases: [(&str, Expect); 3] = [
        (
            "UPDATE alembic_version SET version_num = '7e2f3204cf8e'",
            |e| matches!(e, RevisionError::Older { revision } if revision == "7e2f3204cf8e"),
        ),
        (
            "UPDATE alembic_version SET version_num = 'abcdef012345'",
            |e| matches!(e, RevisionError::Unknown { revision } if revision == "abcdef012345"),
        ),
        ("DELETE FROM alembic_version", |e| {
            matches!(e, RevisionError::Missing)
        }),
    ];
    for (sql, expected) in cases {
        write(instance.index(), sql).await;
        let before = std::fs::read(instance.index()).unwrap();
        let err = create_sqlite_instance(&home).await.unwrap_err();
        let message = err.to_string();
        match &err {
            SchemaError::Revision { location, source } => {
                assert!(expected(source), "{sql}: {err:?}");
                assert!(location.contains("index.db"), "{message}");
            }
            other => panic!("{sql}: {other:?}"),
        }
        if sql.contains("7e2f") {
            assert!(message.contains("dagster instance migrate"), "{message}");
        }
        assert_eq!(std::fs::read(instance.index()).unwrap(), before, "{sql}");
        write(instance.index(), "DELETE FROM alembic_version").await;
        write(
            instance.index(),
            "INSERT INTO alembic_version VALUES ('29b539ebc72a')",
        )
        .await;
    }
    assert!(create_sqlite_instance(&home)
        .await
        .unwrap()
        .created
        .is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_creators_make_each_sqlite_file_once() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let home = home.clone();
            tokio::spawn(async move {
                let instance = create_sqlite_instance(&home).await.unwrap();
                create_run_db(&home, RUN_ID).await.unwrap();
                instance.created
            })
        })
        .collect();
    let mut created = Vec::new();
    for task in tasks {
        created.extend(task.await.unwrap());
    }
    created.sort();
    let layout = SqliteInstance::layout(&home);
    let mut expected = vec![
        layout.runs.clone(),
        layout.index(),
        layout.schedules.clone(),
    ];
    expected.sort();
    assert_eq!(created, expected, "each file created exactly once");
    assert_eq!(count(&layout.runs, "secondary_indexes").await, 7);
    // No temporary file is left behind.
    for dir in [
        home.join("history"),
        layout.event_log_dir.clone(),
        home.join("schedules"),
    ] {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let name = entry.unwrap().file_name().to_string_lossy().into_owned();
            assert!(
                !name.contains("dg-creating"),
                "{name} left in {}",
                dir.display()
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL

/// Opens a new instance the way dagster-postgres does on first use, and nothing more.
const OPEN_INSTANCE: &str = r#"
import dagster as dg
dg.DagsterInstance.get()
print("OK")
"#;

fn admin_url() -> String {
    std::env::var(DG_TEST_POSTGRES_URL).unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_string())
}

fn skip_postgres() -> bool {
    std::env::var_os(DG_TEST_SKIP_POSTGRES).is_some_and(|v| !v.is_empty() && v != "0")
}

/// Whether a revision error is the expected one.
type Expect = fn(&RevisionError) -> bool;

/// A Python with dagster and dagster-postgres: the shared test environment (which has both), else
/// the environment `scripts/observe-dagster-instance` builds in the test cache.
#[allow(clippy::print_stderr)] // the reason the comparison falls back to the doc
fn postgres_python() -> Option<PathBuf> {
    let observe = dg_test::python::test_cache_dir()
        .join(format!(
            "observe-dagster-{}",
            dg_test::python::dagster_version()
        ))
        .join("bin")
        .join("python");
    let has_postgres = |python: &Path| {
        Command::new(python)
            .args(["-c", "import dagster_postgres, psycopg2"])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    let found = [dg_test::python::shared_python().to_path_buf(), observe]
        .into_iter()
        .find(|python| has_postgres(python));
    if found.is_none() {
        eprintln!(
            "no Python with dagster-postgres (the shared test environment should have it): \
             comparing against the schema observed in docs/dagster-instance-format.md instead"
        );
    }
    found
}

async fn admin() -> PgConnection {
    PgConnectOptions::from_str(&admin_url())
        .expect("admin URL")
        .connect()
        .await
        .unwrap_or_else(|e| {
            panic!(
                "PostgreSQL at `{}` is unreachable ({e}); start it, point `{DG_TEST_POSTGRES_URL}` \
                 at one, or set `{DG_TEST_SKIP_POSTGRES}=1`",
                admin_url()
            )
        })
}

/// A fresh database; returns its name and URL.
async fn create_db() -> (String, PgConnectOptions) {
    let name = format!("dg_test_{}", uuid::Uuid::new_v4().simple());
    let mut conn = admin().await;
    sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.ok();
    let options = PgConnectOptions::from_str(&admin_url())
        .unwrap()
        .database(&name);
    (name, options)
}

async fn drop_db(name: &str) {
    let mut conn = admin().await;
    sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.ok();
}

/// Drops its databases when dropped, also when the test panics (on a thread of its own, as
/// dropping happens outside the test's runtime's reach).
struct DropDbs(Vec<String>);

impl Drop for DropDbs {
    fn drop(&mut self) {
        let names = std::mem::take(&mut self.0);
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                for name in &names {
                    drop_db(name).await;
                }
            });
        })
        .join()
        .ok();
    }
}

/// Runs `test` with `n` fresh databases, dropping them afterwards also when it panics.
async fn with_dbs<F, Fut>(n: usize, test: F)
where
    F: FnOnce(Vec<PgConnectOptions>) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut guard = DropDbs(Vec::new());
    let mut options = Vec::new();
    for _ in 0..n {
        let (name, o) = create_db().await;
        guard.0.push(name);
        options.push(o);
    }
    test(options).await;
    drop(guard);
}

/// The `postgres_url` Dagster opens `options`' database with (psycopg2 named, see the doc).
fn dagster_yaml(options: &PgConnectOptions) -> String {
    let user = options.get_username();
    let db = options.get_database().unwrap();
    let url = admin_url();
    let password = url::password(&url).unwrap_or_default();
    format!(
        "storage:\n  postgres:\n    postgres_url: \"postgresql+psycopg2://{user}:{password}@{}:{}/{db}\"\n",
        options.get_host(),
        options.get_port()
    )
}

mod url {
    /// The password of a `postgres://user:password@host/...` URL.
    pub fn password(url: &str) -> Option<String> {
        let rest = url.split_once("://")?.1;
        let userinfo = rest.split_once('@')?.0;
        Some(userinfo.split_once(':')?.1.to_string())
    }
}

/// The rows of `sql`, which selects one text column, each as a line.
async fn pg_lines(conn: &mut PgConnection, sql: &str) -> Vec<String> {
    sqlx::query_scalar(sql).fetch_all(conn).await.unwrap()
}

/// Every column, constraint, index and sequence of the public schema, one line each, sorted.
async fn pg_catalog(conn: &mut PgConnection) -> Vec<String> {
    let mut out = Vec::new();
    for sql in [
        "SELECT format('column %s.%s %s %s null=%s default=%s', table_name, column_name, \
         data_type, coalesce(character_maximum_length, 0), is_nullable, \
         coalesce(column_default, '')) \
         FROM information_schema.columns WHERE table_schema = 'public'",
        "SELECT format('constraint %s %s %s', conrelid::regclass, conname, \
         pg_get_constraintdef(oid)) \
         FROM pg_constraint WHERE connamespace = 'public'::regnamespace",
        "SELECT format('index %s %s', indexname, indexdef) FROM pg_indexes \
         WHERE schemaname = 'public'",
        "SELECT format('sequence %s %s', sequence_name, data_type) \
         FROM information_schema.sequences WHERE sequence_schema = 'public'",
    ] {
        out.extend(pg_lines(conn, sql).await);
    }
    out.sort();
    out
}

async fn pg_bookkeeping(conn: &mut PgConnection) -> Vec<String> {
    let mut out = Vec::new();
    for sql in [
        "SELECT format('alembic %s', version_num) FROM alembic_version",
        "SELECT format('secondary_index %s %s %s', id, name, (migration_completed IS NOT NULL)::text) \
         FROM secondary_indexes ORDER BY id",
        "SELECT format('instance_info rows %s', count(*)) FROM instance_info",
    ] {
        out.extend(pg_lines(conn, sql).await);
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_schema_equals_the_one_dagster_postgres_creates() {
    if skip_postgres() {
        return;
    }
    with_dbs(2, |dbs| async move {
        let mut ours = dbs[0].connect().await.unwrap();
        assert_eq!(
            create_postgres_instance(&mut ours).await.unwrap(),
            HEAD_REVISION
        );
        let catalog = pg_catalog(&mut ours).await;
        let bookkeeping = pg_bookkeeping(&mut ours).await;
        match postgres_python() {
            Some(python) => {
                let tmp = tempfile::tempdir().unwrap();
                let home = tmp.path().join("home");
                run_dagster(&python, &home, &dagster_yaml(&dbs[1]), OPEN_INSTANCE);
                let mut theirs = dbs[1].connect().await.unwrap();
                assert_eq!(catalog, pg_catalog(&mut theirs).await);
                assert_eq!(bookkeeping, pg_bookkeeping(&mut theirs).await);
            }
            None => {
                // What the doc observed (section 6): 22 tables, the two partial indexes, the
                // constraint names.
                let tables: BTreeSet<_> = catalog
                    .iter()
                    .filter_map(|l| l.strip_prefix("column "))
                    .map(|l| l.split('.').next().unwrap().to_string())
                    .collect();
                assert_eq!(tables.len(), 22, "{tables:?}");
                for line in [
                    "index idx_events_by_asset CREATE INDEX idx_events_by_asset ON public.event_logs USING btree (asset_key, dagster_event_type, id) WHERE (asset_key IS NOT NULL)",
                    "index idx_events_by_asset_partition CREATE INDEX idx_events_by_asset_partition ON public.event_logs USING btree (asset_key, dagster_event_type, partition, id) WHERE ((asset_key IS NOT NULL) AND (partition IS NOT NULL))",
                    "constraint run_tags run_tags_run_id_fkey FOREIGN KEY (run_id) REFERENCES runs(run_id) ON DELETE CASCADE",
                    "constraint runs fk_runs_snapshot_id_snapshots_snapshot_id FOREIGN KEY (snapshot_id) REFERENCES snapshots(snapshot_id)",
                    "constraint alembic_version alembic_version_pkc PRIMARY KEY (version_num)",
                    "column concurrency_limits.using_default_limit boolean 0 null=NO default=false",
                    "column runs.id bigint 0 null=NO default=nextval('runs_id_seq'::regclass)",
                ] {
                    assert!(catalog.iter().any(|l| l == line), "missing {line}\n{catalog:#?}");
                }
                assert_eq!(bookkeeping.len(), 1 + 11 + 1, "{bookkeeping:?}");
            }
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn dagster_uses_our_postgres_instance_without_changing_its_schema() {
    if skip_postgres() {
        return;
    }
    let Some(python) = postgres_python() else {
        return;
    };
    with_dbs(1, |dbs| async move {
        let mut conn = dbs[0].connect().await.unwrap();
        create_postgres_instance(&mut conn).await.unwrap();
        let before = (pg_catalog(&mut conn).await, pg_bookkeeping(&mut conn).await);
        let tmp = tempfile::tempdir().unwrap();
        let home = tmp.path().join("home");
        std::fs::create_dir_all(&home).unwrap();
        std::fs::write(home.join("dagster.yaml"), dagster_yaml(&dbs[0])).unwrap();
        assert_dagster_sees_head_revision(&python, &home);
        run_dagster(&python, &home, &dagster_yaml(&dbs[0]), USE_INSTANCE);
        assert_eq!(before.0, pg_catalog(&mut conn).await);
        let runs: i64 = sqlx::query("SELECT count(*) FROM runs")
            .fetch_one(&mut conn)
            .await
            .unwrap()
            .get(0);
        assert_eq!(runs, 1);
        // Reopening with dg changes nothing and accepts what Dagster wrote.
        assert_eq!(
            create_postgres_instance(&mut conn).await.unwrap(),
            HEAD_REVISION
        );
        assert_eq!(before.0, pg_catalog(&mut conn).await);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_creators_make_the_postgres_tables_once() {
    if skip_postgres() {
        return;
    }
    with_dbs(1, |dbs| async move {
        let tasks: Vec<_> = (0..4)
            .map(|_| {
                let options = dbs[0].clone();
                tokio::spawn(async move {
                    let mut conn = options.connect().await.unwrap();
                    let revision = create_postgres_instance(&mut conn).await.unwrap();
                    conn.close().await.ok();
                    revision
                })
            })
            .collect();
        for task in tasks {
            assert_eq!(task.await.unwrap(), HEAD_REVISION);
        }
        let mut conn = dbs[0].connect().await.unwrap();
        assert_eq!(pg_bookkeeping(&mut conn).await.len(), 1 + 11 + 1);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_existing_postgres_instance_is_checked_never_rewritten() {
    if skip_postgres() {
        return;
    }
    with_dbs(1, |dbs| async move {
        let mut conn = dbs[0].connect().await.unwrap();
        create_postgres_instance(&mut conn).await.unwrap();
        sqlx::raw_sql("INSERT INTO kvs (key, value) VALUES ('mine', 'kept')")
            .execute(&mut conn)
            .await
            .unwrap();
        let before = pg_catalog(&mut conn).await;
        create_postgres_instance(&mut conn).await.unwrap();
        assert_eq!(before, pg_catalog(&mut conn).await);
        let kvs: i64 = sqlx::query("SELECT count(*) FROM kvs")
            .fetch_one(&mut conn)
            .await
            .unwrap()
            .get(0);
        assert_eq!(kvs, 1);
        for (revision, older) in [("7e2f3204cf8e", true), ("abcdef012345", false)] {
            sqlx::query("UPDATE alembic_version SET version_num = $1")
                .bind(revision)
                .execute(&mut conn)
                .await
                .unwrap();
            let err = create_postgres_instance(&mut conn).await.unwrap_err();
            match &err {
                SchemaError::Revision {
                    source: RevisionError::Older { revision: r },
                    ..
                } if older => {
                    assert_eq!(r, revision);
                    assert!(
                        err.to_string().contains("dagster instance migrate"),
                        "{err}"
                    );
                }
                SchemaError::Revision {
                    source: RevisionError::Unknown { revision: r },
                    ..
                } if !older => assert_eq!(r, revision),
                other => panic!("{revision}: {other:?}"),
            }
            assert!(check_revision_pg(&mut conn).await.is_err());
            assert_eq!(before, pg_catalog(&mut conn).await);
        }
        sqlx::raw_sql("DELETE FROM alembic_version")
            .execute(&mut conn)
            .await
            .unwrap();
        assert!(matches!(
            check_revision_pg(&mut conn).await,
            Err(RevisionError::Missing)
        ));
    })
    .await;
}
