//! The storage is Dagster's instance (issue 14), checked against real Dagster 1.13.27 from the
//! shared test environment (`dg_test::python`): Dagster reads the runs, tags, events and
//! materializations dg stored (`DagsterInstance.get_runs`, `all_logs`,
//! `get_latest_materialization_event`), and dg reads what Dagster's `materialize(...)` stored on
//! the same home, both in one instance. SQLite always; PostgreSQL with the dagster-postgres
//! environment `scripts/observe-dagster-instance` builds, skipped with a message without it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::str::FromStr;
use std::sync::Arc;

use dg_core::env::{DAGSTER_HOME, DG_TEST_POSTGRES_URL, DG_TEST_SKIP_POSTGRES};
use dg_storage::{
    AssetKey, Event, EventKind, HistoryFilter, InstanceConfig, LogLevel, NewRun, PostgresConfig,
    RunFilter, RunStatus, SequencedEvent, Storage, StorageConfig, Timestamp,
};
use sqlx::{ConnectOptions, Connection};

const DEFAULT_POSTGRES_URL: &str = "postgres://postgres:postgres@127.0.0.1:5432/postgres";

/// Reads the instance of `$DAGSTER_HOME` through Dagster's public API and prints what it found as
/// JSON (one line after `OK`).
const READ_OURS: &str = r#"
import json, sys
import dagster as dg

instance = dg.DagsterInstance.get()
out = {"runs": []}
for run in instance.get_runs():
    logs = instance.all_logs(run.run_id)
    out["runs"].append({
        "run_id": run.run_id,
        "job": run.job_name,
        "status": run.status.value,
        "tags": dict(run.tags),
        "config": run.run_config,
        "logs": [
            (e.dagster_event_type.value if e.dagster_event_type else "LOG", e.step_key, e.user_message)
            for e in logs
        ],
    })
tagged = instance.get_runs(filters=dg.RunsFilter(tags={"team": "data"}))
out["tagged"] = [r.run_id for r in tagged]
record = instance.get_latest_materialization_event(dg.AssetKey(["team", "raw"]))
if record is not None:
    mat = record.asset_materialization
    out["latest"] = {
        "run_id": record.run_id,
        "partition": mat.partition,
        "metadata": {k: v.value for k, v in mat.metadata.items()},
    }
out["keys"] = sorted(k.to_user_string() for k in instance.get_asset_keys())
check = dg.AssetCheckKey(asset_key=dg.AssetKey(["team", "raw"]), name="raw_ok")
out["checks"] = [
    (r.run_id, r.status.value, r.event.dagster_event.event_specific_data.passed)
    for r in instance.event_log_storage.get_asset_check_execution_history(check, limit=10)
]
print("OK")
print(json.dumps(out, sort_keys=True, default=str))
"#;

/// Materializes two assets (the second partitioned, with a check) with real Dagster.
const DAGSTER_WRITES: &str = r#"
import dagster as dg

@dg.asset(key=["team", "raw"])
def raw():
    print("hello from raw")
    return [1, 2, 3]

@dg.asset_check(asset=raw)
def raw_ok():
    return dg.AssetCheckResult(passed=True)

parts = dg.StaticPartitionsDefinition(["apple", "pear"])

@dg.asset(partitions_def=parts)
def fruit(context):
    context.log.info(f"fruit {context.partition_key}")
    return dg.MaterializeResult(metadata={"n": 2})

instance = dg.DagsterInstance.get()
first = dg.materialize([raw, raw_ok], instance=instance, tags={"team": "data"})
assert first.success
second = dg.materialize([fruit], instance=instance, partition_key="apple")
assert second.success
print("OK")
print(first.run_id, second.run_id)
"#;

fn python() -> &'static Path {
    dg_test::python::shared_python()
}

/// Runs `script` with `python` and `DAGSTER_HOME=home`; returns the lines after `OK`.
fn run_python(python: &Path, home: &Path, script: &str) -> Vec<String> {
    let out = Command::new(python)
        .arg("-c")
        .arg(script)
        .env(DAGSTER_HOME, home)
        .current_dir(home)
        .output()
        .expect("python runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success() && stdout.contains("OK"),
        "dagster failed\nstdout:\n{stdout}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
        .lines()
        .skip_while(|l| *l != "OK")
        .skip(1)
        .map(str::to_string)
        .collect()
}

fn at(secs: f64) -> Timestamp {
    Timestamp::from_secs_f64(secs)
}

fn event(seq: i64, step: Option<&str>, kind: EventKind) -> SequencedEvent {
    SequencedEvent::new(
        seq,
        Event {
            timestamp: at(1_796_455_000.0 + seq as f64),
            step_key: step.map(Into::into),
            kind,
        },
    )
}

/// Stores a run as `dg launch` does: created, started, its events (a materialization with
/// metadata, a check, a log line, captured output), succeeded. Returns its id.
async fn store_a_run(s: &Arc<dyn Storage>) -> String {
    let run = s
        .create_run(&NewRun {
            run_id: dg_storage::new_run_id(),
            location: "my_location".into(),
            job_name: "__ASSET_JOB".into(),
            selection: Some("key:team/raw".into()),
            partition: None,
            config: serde_json::json!({"ops": {"team__raw": {"config": {"n": 1}}}}),
            tags: [("team".to_string(), "data".to_string())].into(),
            status: RunStatus::Queued,
            created_at: at(1_796_455_000.0),
        })
        .await
        .unwrap();
    let id = run.run_id;
    s.set_run_status(&id, RunStatus::Starting, at(1_796_455_000.5))
        .await
        .unwrap();
    s.set_run_status(&id, RunStatus::Started, at(1_796_455_001.0))
        .await
        .unwrap();
    let key = AssetKey::new(["team", "raw"]);
    let events = vec![
        event(1, None, EventKind::RunStart),
        event(2, Some("team__raw"), EventKind::StepStart),
        event(
            3,
            Some("team__raw"),
            EventKind::Log {
                level: LogLevel::Info,
                message: "loading é".into(),
            },
        ),
        event(
            4,
            Some("team__raw"),
            EventKind::Stdout {
                text: "printed\n".into(),
            },
        ),
        event(
            5,
            Some("team__raw"),
            EventKind::AssetMaterialization {
                asset_key: key.clone(),
                partition: None,
                metadata: [("rows".to_string(), serde_json::json!(3))].into(),
            },
        ),
        event(
            6,
            Some("team__raw"),
            EventKind::AssetCheckEvaluation {
                asset_key: key,
                check_name: "raw_ok".into(),
                passed: true,
                severity: None,
                partition: None,
                metadata: Default::default(),
            },
        ),
        event(
            7,
            Some("team__raw"),
            EventKind::StepSuccess {
                duration_ms: Some(5.0),
            },
        ),
        event(8, None, EventKind::RunSuccess),
    ];
    let ids = s.append_events(&id, &events).await.unwrap();
    assert_eq!(ids.iter().filter(|i| i.is_none()).count(), 1);
    s.set_run_status(&id, RunStatus::Success, at(1_796_455_009.0))
        .await
        .unwrap();
    id
}

/// Checks what Dagster read (`READ_OURS`'s JSON) of the run [`store_a_run`] stored; `latest` is the
/// run of the latest materialization of `team/raw`.
fn check_dagster_read(lines: &[String], id: &str, latest: &str) {
    let seen: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
    let runs = seen["runs"].as_array().unwrap();
    let run = runs.iter().find(|r| r["run_id"] == id).expect("our run");
    assert_eq!(run["status"], "SUCCESS", "{run}");
    assert_eq!(run["job"], "__ASSET_JOB");
    assert_eq!(run["tags"]["team"], "data");
    assert_eq!(run["tags"]["dagster/code_location"], "my_location");
    assert_eq!(run["config"]["ops"]["team__raw"]["config"]["n"], 1);
    let types: Vec<&str> = run["logs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l[0].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "PIPELINE_START",
            "STEP_START",
            "LOG",
            "ASSET_MATERIALIZATION",
            "ASSET_CHECK_EVALUATION",
            "STEP_SUCCESS",
            "PIPELINE_SUCCESS"
        ],
        "{run}"
    );
    assert_eq!(run["logs"][2][2], "loading é");
    assert!(seen["tagged"].as_array().unwrap().iter().any(|r| r == id));
    assert_eq!(seen["latest"]["run_id"], latest);
    if latest == id {
        assert_eq!(seen["latest"]["metadata"]["rows"], 3);
    }
    assert!(seen["keys"]
        .as_array()
        .unwrap()
        .iter()
        .any(|k| k == "team/raw"));
    // Our check result is an execution in Dagster's `asset_check_executions`.
    let checks = seen["checks"].as_array().unwrap();
    assert!(
        checks
            .iter()
            .any(|c| c[0] == id && c[1] == "SUCCEEDED" && c[2] == true),
        "{checks:?}"
    );
}

async fn open(home: &Path, storage: Option<StorageConfig>) -> Arc<dyn Storage> {
    let mut config = InstanceConfig::default_for(home);
    if let Some(storage) = storage {
        config.storage = storage;
    }
    dg_storage::open(&config).await.expect("storage opens")
}

#[tokio::test(flavor = "multi_thread")]
async fn dagster_reads_what_we_store_sqlite() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::write(home.join("dagster.yaml"), "").unwrap();
    let s = open(&home, None).await;
    let id = store_a_run(&s).await;
    drop(s);
    let lines = run_python(python(), &home, READ_OURS);
    check_dagster_read(&lines, &id, &id);
}

#[tokio::test(flavor = "multi_thread")]
async fn we_read_what_dagster_stores_sqlite() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::write(home.join("dagster.yaml"), "").unwrap();
    // dg first (an instance made by dg), then Dagster on the same home, then dg again.
    let s = open(&home, None).await;
    let ours = store_a_run(&s).await;
    let lines = run_python(python(), &home, DAGSTER_WRITES);
    let ids: Vec<&str> = lines[0].split_whitespace().collect();
    let (first, second) = (ids[0].to_string(), ids[1].to_string());
    check_reads_dagster(&s, &ours, &first, &second).await;
    // A fresh storage on the same files reads the same.
    let again = open(&home, None).await;
    check_reads_dagster(&again, &ours, &first, &second).await;
    // And Dagster still reads ours beside its own.
    check_dagster_read(&run_python(python(), &home, READ_OURS), &ours, &first);
}

async fn check_reads_dagster(s: &Arc<dyn Storage>, ours: &str, first: &str, second: &str) {
    let runs = s.list_runs(&RunFilter::default()).await.unwrap();
    let ids: Vec<&str> = runs.iter().map(|r| r.run_id.as_str()).collect();
    assert_eq!(ids, [second, first, ours], "newest first");
    let run = &runs[1];
    assert_eq!(run.status, RunStatus::Success);
    assert_eq!(run.tags.get("team").map(String::as_str), Some("data"));
    assert!(
        run.started_at.is_some() && run.ended_at.is_some(),
        "{run:?}"
    );
    assert_eq!(runs[0].partition.as_deref(), Some("apple"));
    let tagged = s
        .list_runs(&RunFilter {
            tags: vec![("team".into(), "data".into())],
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(tagged.len(), 2);

    let events = s.events_after(first, None, 10_000).await.unwrap();
    let types: Vec<&str> = events.iter().map(|e| e.event.kind.event_type()).collect();
    for expected in [
        "RUN_START",
        "STEP_START",
        "ASSET_MATERIALIZATION",
        "ASSET_CHECK_EVALUATION",
        "RUN_SUCCESS",
    ] {
        assert!(
            types.contains(&expected),
            "{expected} missing from {types:?}"
        );
    }
    assert!(
        events.iter().all(|e| e.seq.is_none()),
        "Dagster's events have no dg number"
    );
    let raw = AssetKey::new(["team", "raw"]);
    let latest = s
        .latest_materialization(&raw, None)
        .await
        .unwrap()
        .expect("raw");
    // Dagster's materialization is newer than ours.
    assert_eq!(latest.run_id, first);
    let history = s
        .materialization_history(&raw, &HistoryFilter::default())
        .await
        .unwrap();
    let runs: Vec<&str> = history.iter().map(|r| r.run_id.as_str()).collect();
    assert_eq!(runs, [first, ours]);
    let fruit = AssetKey::new(["fruit"]);
    let apple = s
        .latest_materialization(&fruit, Some("apple"))
        .await
        .unwrap()
        .expect("apple");
    assert_eq!(apple.run_id, second);
    assert!(s
        .latest_materialization(&fruit, Some("pear"))
        .await
        .unwrap()
        .is_none());
    assert_eq!(
        s.materialized_asset_keys().await.unwrap(),
        vec![fruit, raw.clone()]
    );
    let checks = s
        .asset_check_results(&raw, Some("raw_ok"), 10)
        .await
        .unwrap();
    let runs: Vec<&str> = checks.iter().map(|r| r.run_id.as_str()).collect();
    assert_eq!(runs, [first, ours]);
}

fn skip_postgres() -> bool {
    std::env::var_os(DG_TEST_SKIP_POSTGRES).is_some_and(|v| !v.is_empty() && v != "0")
}

/// A Python with dagster and dagster-postgres (the environment `scripts/observe-dagster-instance`
/// builds in the test cache), if there is one.
#[allow(clippy::print_stderr)] // the reason the test is skipped
fn postgres_python() -> Option<PathBuf> {
    let python = dg_test::python::test_cache_dir()
        .join(format!(
            "observe-dagster-{}",
            dg_test::python::dagster_version()
        ))
        .join("bin")
        .join("python");
    let ok = Command::new(&python)
        .args(["-c", "import dagster_postgres, psycopg2"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!(
            "skipped: no Python with dagster-postgres at {} (run scripts/observe-dagster-instance once)",
            python.display()
        );
    }
    ok.then_some(python)
}

async fn admin_exec(sql: &str) {
    let url = std::env::var(DG_TEST_POSTGRES_URL).unwrap_or_else(|_| DEFAULT_POSTGRES_URL.into());
    let mut conn = sqlx::postgres::PgConnectOptions::from_str(&url)
        .unwrap()
        .connect()
        .await
        .expect("PostgreSQL reachable");
    sqlx::raw_sql(sql).execute(&mut conn).await.expect(sql);
    conn.close().await.ok();
}

#[tokio::test(flavor = "multi_thread")]
async fn dagster_reads_what_we_store_postgres() {
    if skip_postgres() {
        return;
    }
    let Some(python) = postgres_python() else {
        return;
    };
    let url = std::env::var(DG_TEST_POSTGRES_URL).unwrap_or_else(|_| DEFAULT_POSTGRES_URL.into());
    let name = format!("dg_instance_{}", uuid::Uuid::new_v4().simple());
    admin_exec(&format!("CREATE DATABASE {name}")).await;
    let pg = PostgresConfig::from_url(&url, "test")
        .unwrap()
        .with_database(&name);
    let result = tokio::spawn({
        let pg = pg.clone();
        async move {
            let tmp = tempfile::tempdir().unwrap();
            let home = tmp.path().join("home");
            std::fs::create_dir_all(&home).unwrap();
            // psycopg2 named in the URL (docs/dagster-instance-format.md, section 6).
            let dagster_url = format!(
                "postgresql+psycopg2://{}",
                pg.url.split_once("://").unwrap().1
            );
            std::fs::write(
                home.join("dagster.yaml"),
                format!("storage:\n  postgres:\n    postgres_url: \"{dagster_url}\"\n"),
            )
            .unwrap();
            let s = open(&home, Some(StorageConfig::Postgres(pg))).await;
            let id = store_a_run(&s).await;
            check_dagster_read(&run_python(&python, &home, READ_OURS), &id, &id);
            let lines = run_python(&python, &home, DAGSTER_WRITES);
            let ids: Vec<&str> = lines[0].split_whitespace().collect();
            check_reads_dagster(&s, &id, ids[0], ids[1]).await;
        }
    })
    .await;
    admin_exec(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await;
    if let Err(e) = result {
        std::panic::resume_unwind(e.into_panic());
    }
}
