//! The host without Python: refusals of the location host and the run manager, and orphan
//! monitoring against real SQLite storage. The host with real code locations is tested through
//! `dg-server`'s `tests/server` (reload, warm-up, limits) and `dg-cli`'s `tests/dev.rs`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use dg_host::locations::ReloadRefused;
use dg_host::runs::LaunchError;
use dg_host::{Host, HostOptions, RunManager};
use dg_runs::{RunRequest, RunTarget};
use serde_json::json;

async fn storage(dir: &tempfile::TempDir) -> (Arc<dyn dg_storage::Storage>, std::path::PathBuf) {
    let home = dir.path().join(".dagster");
    let config = dg_storage::InstanceConfig::load(&home).unwrap();
    (dg_storage::open(&config).await.unwrap(), home)
}

fn request(location: &str) -> RunRequest {
    RunRequest::new(
        location,
        RunTarget::Assets(vec![dg_storage::AssetKey(vec!["a".into()])]),
    )
}

#[test]
fn reloads_of_unknown_locations_and_after_shutdown_are_refused() {
    let host = Host::new(Vec::new(), HostOptions::default());
    assert!(host.all_settled() && host.locations().is_empty());
    assert!(!host.reload("nope"));
    assert_eq!(
        host.request_reload("nope"),
        Err(ReloadRefused::Unknown("nope".into()))
    );
    host.shutdown();
    assert_eq!(
        host.request_reload("nope"),
        Err(ReloadRefused::ShuttingDown)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn launches_are_refused_for_unknown_locations_over_the_limit_and_after_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let (storage, home) = storage(&dir).await;
    let host = Host::new(Vec::new(), HostOptions::default());
    let mut runs = RunManager::new(storage, home);

    let err = runs.launch(&host, request("nope")).await.unwrap_err();
    assert!(
        matches!(err, LaunchError::UnknownLocation(ref n) if n == "nope"),
        "{err:?}"
    );

    runs.max_active_runs = 0;
    let err = runs.launch(&host, request("nope")).await.unwrap_err();
    assert!(matches!(err, LaunchError::TooManyRuns(0)), "{err:?}");
    assert_eq!(runs.running(), 0, "a refused launch holds no place");

    runs.shutdown(Duration::from_secs(1)).await;
    let err = runs.launch(&host, request("nope")).await.unwrap_err();
    assert!(matches!(err, LaunchError::ShuttingDown), "{err:?}");
}

/// A run in `STARTED` whose worker is `pid` on `hostname`, last heard from at `at`.
async fn started_run(
    storage: &Arc<dyn dg_storage::Storage>,
    pid: u32,
    hostname: &str,
    at: dg_storage::Timestamp,
) -> String {
    let run_id = dg_storage::new_run_id();
    storage
        .create_run(&dg_storage::NewRun {
            run_id: run_id.clone(),
            location: "gone".into(),
            job_name: "__ASSET_JOB".into(),
            selection: None,
            partition: None,
            config: json!({}),
            tags: Default::default(),
            status: dg_storage::RunStatus::NotStarted,
            created_at: at,
        })
        .await
        .unwrap();
    storage
        .set_run_status(&run_id, dg_storage::RunStatus::Started, at)
        .await
        .unwrap();
    let worker = dg_storage::Worker {
        pid,
        hostname: hostname.to_owned(),
    };
    storage
        .record_heartbeat(&run_id, &worker, at)
        .await
        .unwrap();
    run_id
}

async fn wait_failed(storage: &Arc<dyn dg_storage::Storage>, run_id: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let run = storage.get_run(run_id).await.unwrap().unwrap();
        if run.status == dg_storage::RunStatus::Failure {
            return;
        }
        assert!(Instant::now() < deadline, "not marked failed: {run:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Monitoring marks runs failed: at start one whose worker on this host is gone (left by an
/// earlier host), and later one that stopped sending heartbeats (a host elsewhere that died).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orphaned_runs_are_marked_failed() {
    let dir = tempfile::tempdir().unwrap();
    let (storage, home) = storage(&dir).await;
    let mut gone = std::process::Command::new("true").spawn().unwrap();
    let dead_pid = gone.id();
    gone.wait().unwrap();
    let left = started_run(
        &storage,
        dead_pid,
        &dg_storage::this_host(),
        dg_storage::now(),
    )
    .await;

    let host = Host::new(Vec::new(), HostOptions::default());
    let runs = RunManager::new(storage.clone(), home);
    let monitor = runs.monitor_orphans(&host, Duration::from_millis(200));
    wait_failed(&storage, &left).await;

    let silent = started_run(
        &storage,
        std::process::id(),
        "another-host",
        dg_storage::now() - Duration::from_secs(10_000),
    )
    .await;
    wait_failed(&storage, &silent).await;
    let events = storage.events_after(&silent, None, 100).await.unwrap();
    assert!(
        events
            .iter()
            .any(|e| format!("{e:?}").contains("heartbeat")),
        "the failure says why: {events:?}"
    );
    monitor.abort();
}
