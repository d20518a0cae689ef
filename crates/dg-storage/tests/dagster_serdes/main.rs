//! `dg_storage::dagster::serdes` against real Dagster (the shared test environment of
//! `dg_test::python::shared_python`, with the pinned `dagster`):
//! 1. every row we write is read by Dagster's `deserialize_value`, which sees the fields we mean,
//!    and `serialize_value` of what it read gives our bytes back;
//! 2. every event real Dagster stores for real `materialize(...)` runs (success, partitioned,
//!    failed, an asset check, observations, a runless observation), and each run's body, is read
//!    by ours, with its type, step, asset, partition and metadata labels.

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

use dg_storage::dagster::serdes::{
    dagster_event_type, dagster_run_tags, event_to_dagster_json, logs_captured_to_dagster_json,
    parse_dagster_entry, run_from_dagster_json, run_to_dagster_json, PyValue, RunTimes,
    SELECTION_TAG,
};
use dg_storage::{
    AssetKey, ErrorInfo, Event, EventKind, LogLevel, Metadata, Run, RunStatus, Timestamp,
};
use serde_json::{json, Value};

const RUN_ID: &str = "0f3c2a8e-5b7d-4c1e-9a6f-2d8b4e7c1a90";
const JOB: &str = "__ASSET_JOB";

fn python() -> &'static Path {
    dg_test::python::shared_python()
}

fn script(name: &str) -> String {
    format!("{}/tests/dagster_serdes/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[path = "../../src/dagster/serdes/samples.rs"]
mod samples;
use samples::{at, every_event};

fn sample_run(status: RunStatus) -> Run {
    Run {
        run_id: RUN_ID.into(),
        location: "proj".into(),
        job_name: JOB.into(),
        selection: Some("key:raw+".into()),
        partition: Some("apple".into()),
        config: json!({"ops": {"raw": {"config": {"x": 1.5, "s": "é"}}}}),
        tags: [("team", "data"), ("note", "é")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        status,
        created_at: at(10.0),
        updated_at: at(20.0),
        started_at: Some(at(11.0)),
        ended_at: None,
        worker: None,
        heartbeat_at: None,
    }
}

/// Feeds `rows` (`{"kind", "json"}`) to `read_ours.py`; one summary per row.
fn dagster_reads(rows: &[Value]) -> Vec<Value> {
    let mut child = Command::new(python())
        .arg(script("read_ours.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the shared Python");
    {
        let mut stdin = child.stdin.take().expect("stdin");
        for row in rows {
            writeln!(stdin, "{row}").expect("write a row");
        }
    }
    let out = child.wait_with_output().expect("wait for Python");
    assert!(out.status.success(), "read_ours.py failed");
    let text = String::from_utf8(out.stdout).expect("UTF-8");
    let summaries: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("a summary"))
        .collect();
    assert_eq!(summaries.len(), rows.len(), "{text}");
    summaries
}

fn metadata_json(metadata: &Metadata) -> Value {
    Value::Object(metadata.clone().into_iter().collect())
}

#[test]
fn dagster_reads_our_events() {
    let mut events = every_event();
    // A check without a severity is written with Dagster's default (`ERROR`).
    events.push(samples::event(
        Some("raw_ok"),
        EventKind::AssetCheckEvaluation {
            asset_key: AssetKey::new(["team", "raw"]),
            check_name: "raw_ok".into(),
            passed: true,
            severity: None,
            partition: None,
            metadata: Metadata::new(),
        },
    ));
    let mut rows: Vec<Value> = events
        .iter()
        .map(|e| json!({"kind": "event", "json": event_to_dagster_json(RUN_ID, JOB, e).unwrap()}))
        .collect();
    rows.push(
        json!({"kind": "event", "json": logs_captured_to_dagster_json(
        RUN_ID, JOB, at(1.25), "vaewaajy", &["raw".to_string(), "other".to_string()])}),
    );
    let summaries = dagster_reads(&rows);
    for ((row, seen), event) in rows.iter().zip(&summaries).zip(&events) {
        let ctx = format!("{}\nDagster saw: {seen}", row["json"]);
        assert!(seen.get("exception").is_none(), "{ctx}");
        assert_eq!(seen["same_bytes"], json!(true), "{ctx}");
        assert_eq!(seen["run_id"], json!(RUN_ID), "{ctx}");
        assert_eq!(seen["job_name"], json!(JOB), "{ctx}");
        assert_eq!(seen["step_key"], json!(event.step_key), "{ctx}");
        assert_eq!(
            seen["timestamp"].as_f64(),
            Some(event.timestamp.as_secs_f64()),
            "{ctx}"
        );
        assert_eq!(seen["event_type"], json!(dagster_event_type(&event.kind)));
        match &event.kind {
            EventKind::Log { level, message } => {
                let number = match level {
                    LogLevel::Debug => 10,
                    LogLevel::Info => 20,
                    LogLevel::Warning => 30,
                    LogLevel::Error => 40,
                    LogLevel::Critical => 50,
                };
                assert_eq!(seen["level"], json!(number), "{ctx}");
                assert_eq!(seen["user_message"], json!(message), "{ctx}");
            }
            EventKind::StepSuccess { duration_ms } => {
                assert_eq!(seen["duration_ms"], json!(duration_ms), "{ctx}");
            }
            EventKind::StepFailure { error } | EventKind::RunFailure { error } => {
                let want = error.as_ref().map(|e| {
                    json!({
                        "cls_name": e.class_name,
                        "message": format!("{}: {}\n", e.class_name.as_deref().unwrap(), e.message),
                        "stack": e.stack.iter().map(|l| format!("{l}\n")).collect::<Vec<_>>(),
                    })
                });
                assert_eq!(seen["error"], json!(want), "{ctx}");
            }
            EventKind::AssetMaterialization {
                asset_key,
                partition,
                metadata,
            }
            | EventKind::AssetObservation {
                asset_key,
                partition,
                metadata,
            } => {
                assert_eq!(seen["asset_key"], json!(asset_key.path()), "{ctx}");
                assert_eq!(seen["partition"], json!(partition), "{ctx}");
                assert_eq!(seen["metadata"], metadata_json(metadata), "{ctx}");
            }
            EventKind::AssetCheckEvaluation {
                asset_key,
                check_name,
                passed,
                severity,
                partition,
                metadata,
            } => {
                assert_eq!(seen["asset_key"], json!(asset_key.path()), "{ctx}");
                assert_eq!(seen["check_name"], json!(check_name), "{ctx}");
                assert_eq!(seen["passed"], json!(passed), "{ctx}");
                assert_eq!(
                    seen["severity"],
                    json!(severity.as_deref().unwrap_or("ERROR")),
                    "{ctx}"
                );
                assert_eq!(seen["partition"], json!(partition), "{ctx}");
                assert_eq!(seen["metadata"], metadata_json(metadata), "{ctx}");
            }
            _ => {}
        }
        if event.step_key.is_some() && !matches!(event.kind, EventKind::Log { .. }) {
            assert_eq!(seen["is_step_event"], json!(true), "{ctx}");
        }
    }
    let captured = summaries.last().unwrap();
    assert_eq!(captured["event_type"], json!("LOGS_CAPTURED"), "{captured}");
    assert_eq!(captured["log_key"], json!("vaewaajy"));
    assert_eq!(captured["step_keys"], json!(["raw", "other"]));
    assert_eq!(captured["same_bytes"], json!(true));
}

#[test]
fn dagster_reads_our_runs() {
    let rows: Vec<Value> = RunStatus::ALL
        .into_iter()
        .map(|s| json!({"kind": "run", "json": run_to_dagster_json(&sample_run(s))}))
        .collect();
    for ((row, seen), status) in rows.iter().zip(dagster_reads(&rows)).zip(RunStatus::ALL) {
        let ctx = format!("{}\nDagster saw: {seen}", row["json"]);
        assert!(seen.get("exception").is_none(), "{ctx}");
        assert_eq!(seen["same_bytes"], json!(true), "{ctx}");
        let run = sample_run(status);
        assert_eq!(seen["run_id"], json!(RUN_ID), "{ctx}");
        assert_eq!(seen["job_name"], json!(JOB), "{ctx}");
        assert_eq!(seen["status"], json!(status.as_str()), "{ctx}");
        assert_eq!(seen["run_config"], run.config, "{ctx}");
        assert_eq!(seen["partition"], json!("apple"), "{ctx}");
        assert_eq!(seen["tags"], json!(dagster_run_tags(&run)), "{ctx}");
    }
}

#[test]
fn we_read_what_dagster_writes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out_file = dir.path().join("rows.jsonl");
    let status = Command::new(python())
        .arg(script("dagster_writes.py"))
        .arg(&out_file)
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .status()
        .expect("start the shared Python");
    assert!(status.success(), "dagster_writes.py failed");
    let text = std::fs::read_to_string(&out_file).expect("rows written");
    let (mut events, mut runs, mut mapped, mut checks) = (0, 0, 0, 0);
    for line in text.lines() {
        let row: Value = serde_json::from_str(line).expect("a row");
        if let Some(body) = row["run"].as_str() {
            runs += 1;
            assert_eq!(PyValue::parse(body).unwrap().to_python_json(), body);
            let times = RunTimes {
                created_at: at(1.0),
                updated_at: at(2.0),
                started_at: None,
                ended_at: None,
            };
            let run = run_from_dagster_json(body, times).unwrap_or_else(|e| panic!("{e}: {body}"));
            assert_eq!(json!(run.run_id), row["run_id"]);
            assert_eq!(json!(run.job_name), row["job_name"]);
            assert_eq!(json!(run.status.as_str()), row["status"], "{body}");
            assert_eq!(json!(run.tags), row["tags"]);
            assert!(!run.tags.contains_key(SELECTION_TAG));
            assert_eq!(
                run.partition.as_deref(),
                row["tags"]["dagster/partition"].as_str()
            );
            continue;
        }
        events += 1;
        let json_row = row["row"].as_str().expect("the serialised entry");
        // The JSON layer writes back exactly what Python wrote (NaN, `\u00e9`, float reprs).
        let value = PyValue::parse(json_row).expect("Python's JSON");
        assert_eq!(value.to_python_json(), json_row);
        let entry = parse_dagster_entry(json_row).unwrap_or_else(|e| panic!("{e}: {json_row}"));
        let ctx = format!("{json_row}\nread as {entry:?}");
        assert_eq!(json!(entry.dagster_event_type), row["event_type"], "{ctx}");
        assert_eq!(json!(entry.event.step_key), row["step_key"], "{ctx}");
        let ty = entry.dagster_event_type.clone();
        match (&entry.event.kind, ty.as_deref()) {
            (EventKind::Log { .. }, None) => mapped += 1,
            (
                EventKind::AssetMaterialization {
                    asset_key,
                    partition,
                    metadata,
                },
                Some("ASSET_MATERIALIZATION"),
            )
            | (
                EventKind::AssetObservation {
                    asset_key,
                    partition,
                    metadata,
                },
                Some("ASSET_OBSERVATION"),
            ) => {
                mapped += 1;
                assert_eq!(json!(asset_key.path()), row["asset_key"], "{ctx}");
                assert_eq!(json!(partition), row["partition"], "{ctx}");
                assert_eq!(
                    json!(metadata.keys().collect::<Vec<_>>()),
                    row["metadata_labels"]
                );
                if metadata.contains_key("nan") {
                    assert_eq!(metadata["nan"], json!("nan"));
                    assert_eq!(metadata["inf"], json!("inf"));
                    assert_eq!(metadata["path"], json!("/a/b"));
                    assert_eq!(metadata["url"], json!("https://example.com"));
                    assert_eq!(metadata["md"], json!("# hi"));
                    assert_eq!(metadata["text"], json!("é"));
                    assert_eq!(metadata["json"], json!({"k": [1, 2]}));
                    assert_eq!(metadata["flag"], json!(true));
                    assert!(metadata["table"].is_object(), "{ctx}");
                }
            }
            (EventKind::EngineEvent { message }, Some(t)) => {
                if t != "ENGINE_EVENT" {
                    assert!(message.starts_with(&format!("{t}: ")), "{ctx}");
                }
            }
            (kind, Some(t)) => {
                mapped += 1;
                assert_eq!(dagster_event_type(kind), Some(t), "{ctx}");
            }
            (kind, None) => panic!("a log message read as {kind:?}"),
        }
        if let EventKind::AssetCheckEvaluation {
            asset_key,
            check_name,
            passed,
            severity,
            partition,
            metadata,
        } = &entry.event.kind
        {
            assert_eq!(asset_key, &AssetKey::new(["upstream"]));
            assert_eq!(check_name, "upstream_ok");
            assert!(!passed);
            assert_eq!(severity.as_deref(), Some("WARN"));
            assert_eq!(partition, &None);
            assert_eq!(metadata_json(metadata), json!({"n": 2}));
            checks += 1;
        }
        if let EventKind::StepFailure { error } = &entry.event.kind {
            let error = error.as_ref().expect("the step's error");
            assert_eq!(error.message, "kaboom");
            assert_eq!(error.class_name.as_deref(), Some("ValueError"));
            assert!(error.stack.last().unwrap().contains("raise ValueError"));
        }
        // What we read, written again by us and read back, is the same event.
        if let Some(ours) = event_to_dagster_json(&entry.run_id, JOB, &entry.event) {
            let again = parse_dagster_entry(&ours).expect("our own row");
            assert_eq!(again.event, entry.event, "{ours}");
        }
    }
    assert_eq!(runs, 3, "{text}");
    assert_eq!(checks, 1, "{text}");
    assert!(events > 40, "{text}");
    assert!(mapped >= 20, "{mapped} events mapped to kinds of their own");
}
