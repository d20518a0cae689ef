//! Captured output (`GET /api/runs/{id}/logs` and the run page's "Captured output"), in-process,
//! over a real temporary instance home: real SQLite storage holding the run, and compute-log files
//! written where Dagster's `LocalComputeLogManager` writes them
//! (`<home>/storage/<run_id>/compute_logs/<file_key>.out|.err|.complete`). No code location is
//! needed: the run is stored directly.

use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use dg_server::{AppState, Host, HostOptions};
use dg_storage::{
    new_run_id, now, Event, EventKind, InstanceConfig, NewRun, RunStatus, SequencedEvent,
};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

struct Instance {
    _dir: tempfile::TempDir,
    home: PathBuf,
    host: Host,
    state: AppState,
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.host.shutdown();
    }
}

/// An instance home with `dagster.yaml` holding `yaml` (none when empty) and its storage open.
async fn instance(yaml: &str) -> Instance {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join(".dagster");
    std::fs::create_dir_all(&home).unwrap();
    if !yaml.is_empty() {
        std::fs::write(home.join("dagster.yaml"), yaml).unwrap();
    }
    let storage = dg_storage::open(&InstanceConfig::load(&home).unwrap())
        .await
        .unwrap();
    let options = HostOptions {
        instance_home: Some(home.clone()),
        ..HostOptions::default()
    };
    let host = Host::new(Vec::new(), options);
    let state = AppState::new(host.clone(), storage, home.clone());
    Instance {
        _dir: dir,
        home,
        host,
        state,
    }
}

/// Stores a finished run whose worker's Dagster announced capture `file_key` for step `step`.
async fn stored_run(i: &Instance, file_key: &str, step: &str) -> String {
    let storage = &i.state.storage;
    let run_id = new_run_id();
    storage
        .create_run(&NewRun {
            run_id: run_id.clone(),
            location: "alpha".into(),
            job_name: "__ASSET_JOB".into(),
            selection: Some(step.into()),
            partition: None,
            config: serde_json::json!({}),
            tags: Default::default(),
            status: RunStatus::NotStarted,
            created_at: now(),
        })
        .await
        .unwrap();
    let dagster = dg_storage::dagster::serdes::logs_captured_to_dagster_json(
        &run_id,
        "__ASSET_JOB",
        now(),
        file_key,
        &[step.to_owned()],
    );
    let event = SequencedEvent {
        seq: 1,
        event: Event::now(EventKind::EngineEvent {
            message: "LOGS_CAPTURED: Capturing logs for process (pid: 1).".into(),
        }),
        dagster_json: Some(dagster),
    };
    storage.append_events(&run_id, &[event]).await.unwrap();
    storage
        .set_run_status(&run_id, RunStatus::Success, now())
        .await
        .unwrap();
    run_id
}

/// Writes Dagster's files of capture `key` of `run_id` under `base`.
fn write_capture(base: &Path, run_id: &str, key: &str, out: &str, err: &str, complete: bool) {
    let dir = base.join(run_id).join("compute_logs");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("{key}.out")), out).unwrap();
    std::fs::write(dir.join(format!("{key}.err")), err).unwrap();
    if complete {
        std::fs::write(dir.join(format!("{key}.complete")), "").unwrap();
    }
}

async fn get(i: &Instance, uri: &str) -> (StatusCode, String) {
    let request = Request::get(uri).body(Body::empty()).unwrap();
    let response = dg_server::app(i.state.clone())
        .oneshot(request)
        .await
        .unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

async fn get_json(i: &Instance, uri: &str) -> (StatusCode, Value) {
    let (status, body) = get(i, uri).await;
    let json = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{uri}: {e}: {body}"));
    (status, json)
}

pub async fn captured_output_is_read_from_dagsters_files() {
    let i = instance("").await;
    let run_id = stored_run(&i, "abcdefgh", "alpha_raw").await;
    let base = i.home.join("storage");
    write_capture(
        &base,
        &run_id,
        "abcdefgh",
        "hello <script>alert(1)</script>\n",
        "warning & more\n",
        true,
    );
    write_capture(&base, &run_id, "zzzzzzzz", "still going\n", "", false);

    let (status, body) = get_json(&i, &format!("/api/runs/{run_id}/logs")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "shown", "{body}");
    let logs = body["logs"].as_array().unwrap();
    assert_eq!(logs.len(), 2, "{body}");
    assert_eq!(logs[0]["log_key"], "abcdefgh");
    assert_eq!(logs[0]["stdout"], "hello <script>alert(1)</script>\n");
    assert_eq!(logs[0]["stderr"], "warning & more\n");
    assert_eq!(logs[0]["complete"], true);
    assert_eq!(logs[0]["truncated"], false);
    // The steps come from the run's `LOGS_CAPTURED` event, kept as Dagster's text.
    assert_eq!(
        logs[0]["step_keys"],
        serde_json::json!(["alpha_raw"]),
        "{body}"
    );
    assert_eq!(logs[1]["log_key"], "zzzzzzzz");
    assert_eq!(logs[1]["step_keys"], serde_json::json!([]));
    assert_eq!(logs[1]["stdout"], "still going\n");
    assert_eq!(logs[1]["complete"], false);

    // The run page shows both, escaped.
    let (status, page) = get(&i, &format!("/runs/{run_id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Captured output"), "{page}");
    assert!(
        page.contains("hello &lt;script&gt;alert(1)&lt;/script&gt;"),
        "{page}"
    );
    assert!(!page.contains("<script>alert(1)"), "unescaped output");
    assert!(page.contains("warning &amp; more"));
    assert!(page.contains(r#"data-log-key="zzzzzzzz""#));
    assert!(
        page.contains("data-capturing"),
        "the open capture is marked"
    );

    // An unknown run is a 404; a run without files has none.
    let (status, body) = get_json(&i, "/api/runs/no-such-run/logs").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let other = stored_run(&i, "qqqqqqqq", "alpha_clean").await;
    let (_, body) = get_json(&i, &format!("/api/runs/{other}/logs")).await;
    assert_eq!(body["status"], "shown");
    // Its `LOGS_CAPTURED` event names one capture, whose files are not there (yet).
    assert_eq!(body["logs"].as_array().unwrap().len(), 1, "{body}");
    let (status, _) = get(&i, &format!("/runs/{other}")).await;
    assert_eq!(status, StatusCode::OK);
}

pub async fn other_compute_log_managers_say_why_nothing_is_shown() {
    let yaml = "compute_logs:\n  module: dagster._core.storage.noop_compute_log_manager\n  class: NoOpComputeLogManager\n";
    let i = instance(yaml).await;
    let run_id = stored_run(&i, "abcdefgh", "alpha_raw").await;
    write_capture(&i.home.join("storage"), &run_id, "abcdefgh", "x", "", true);
    let (status, body) = get_json(&i, &format!("/api/runs/{run_id}/logs")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "not_shown");
    assert!(
        body["reason"]
            .as_str()
            .unwrap()
            .contains("NoOpComputeLogManager"),
        "{body}"
    );
    let (_, page) = get(&i, &format!("/runs/{run_id}")).await;
    assert!(page.contains("captured output is not kept"), "{page}");

    // A local manager with its own base_dir is read there.
    let elsewhere = tempfile::tempdir().unwrap();
    let yaml = format!(
        "compute_logs:\n  module: dagster._core.storage.local_compute_log_manager\n  class: LocalComputeLogManager\n  config:\n    base_dir: {}\n",
        elsewhere.path().display()
    );
    std::fs::write(i.home.join("dagster.yaml"), yaml).unwrap();
    write_capture(elsewhere.path(), &run_id, "abcdefgh", "moved\n", "", true);
    let (_, body) = get_json(&i, &format!("/api/runs/{run_id}/logs")).await;
    assert_eq!(body["logs"][0]["stdout"], "moved\n", "{body}");
}
