//! Hot reload with real file changes: a new asset appears by itself; broken code fails the
//! location with its traceback while the last good snapshot stays and the other location keeps
//! serving runs; fixing the code brings it back, all without a request.

use std::time::Duration;

use dg_host::locations::{watch, LocationStatus};
use dg_runs::{RunRequest, RunTarget};

use crate::common::{Fixture, ALPHA};

pub async fn a_location_reloads_when_its_files_change() {
    let f = Fixture::start().await;
    let _watcher = watch::watch(&f.host, Duration::from_millis(200)).unwrap();
    let file = f.module_file("alpha", "definitions.py");
    let generation = |f: &Fixture| f.host.location("alpha").unwrap().generation;
    let start = generation(&f);

    let added = ALPHA.replace(
        "defs = dg.Definitions(assets=[alpha_raw, alpha_clean, alpha_slow])",
        "@dg.asset\ndef alpha_new():\n    return dg.MaterializeResult()\n\n\n\
         defs = dg.Definitions(assets=[alpha_raw, alpha_clean, alpha_slow, alpha_new])",
    );
    std::fs::write(&file, added).unwrap();
    f.wait_for("alpha_new appears", |h| {
        h.view().get(&["alpha_new".to_owned()]).is_some()
    })
    .await;
    assert!(generation(&f) > start);

    // A file outside the code (the instance, caches) does not reload.
    let before = generation(&f);
    std::fs::create_dir_all(f.dir.path().join("projects/alpha/__pycache__")).unwrap();
    std::fs::write(f.dir.path().join("projects/alpha/__pycache__/x.pyc"), b"x").unwrap();
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(generation(&f), before);

    std::fs::write(
        &file,
        "import dagster as dg\n\nraise RuntimeError('broken on purpose')\n",
    )
    .unwrap();
    f.wait_for("alpha fails", |h| {
        h.location("alpha").unwrap().status == LocationStatus::Failed
    })
    .await;
    let alpha = f.host.location("alpha").unwrap();
    let error = alpha.error.clone().unwrap();
    let traceback = error.traceback.unwrap_or_default();
    assert!(
        traceback.contains("broken on purpose") && traceback.contains("definitions.py"),
        "{traceback}"
    );
    assert!(
        alpha.stale_snapshot && alpha.asset_count == 4,
        "the last good snapshot stays: {alpha:?}"
    );
    assert!(f.host.view().get(&["alpha_raw".to_owned()]).is_some());

    // The other location still runs.
    assert_eq!(
        f.host.location("beta").unwrap().status,
        LocationStatus::Loaded
    );
    let request = RunRequest::new(
        "beta",
        RunTarget::Assets(vec![dg_storage::AssetKey(vec!["beta_report".into()])]),
    );
    let run_id = f.state.runs.launch(&f.host, request).await.unwrap();
    assert_eq!(f.wait_run(&run_id).await, dg_storage::RunStatus::Success);
    // And the failed one refuses runs with a clear error.
    let request = RunRequest::new(
        "alpha",
        RunTarget::Assets(vec![dg_storage::AssetKey(vec!["alpha_raw".into()])]),
    );
    let err = f.state.runs.launch(&f.host, request).await.unwrap_err();
    assert!(err.to_string().contains("failed to load"), "{err}");

    std::fs::write(&file, ALPHA).unwrap();
    f.wait_for("alpha is back", |h| {
        h.location("alpha").unwrap().status == LocationStatus::Loaded
    })
    .await;
    let alpha = f.host.location("alpha").unwrap();
    assert!(alpha.error.is_none() && !alpha.stale_snapshot && alpha.asset_count == 3);
    assert!(f.host.view().get(&["alpha_new".to_owned()]).is_none());
}

/// A reload while a run of the old code goes on: the new asset is served as soon as it is loaded,
/// not when the run ends (the retired agent's run worker keeps the agent's output open, and the
/// old agent's shutdown used to wait for it before the new snapshot was shown).
pub async fn a_new_asset_appears_while_a_run_of_the_old_code_goes_on() {
    let f = Fixture::start().await;
    let request = RunRequest::new(
        "alpha",
        RunTarget::Assets(vec![dg_storage::AssetKey(vec!["alpha_slow".into()])]),
    );
    let run_id = f.state.runs.launch(&f.host, request).await.unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    loop {
        let run = f.state.storage.get_run(&run_id).await.unwrap().unwrap();
        if run.status == dg_storage::RunStatus::Started {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never started: {run:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _watcher = watch::watch(&f.host, Duration::from_millis(200)).unwrap();
    let added = ALPHA.replace(
        "defs = dg.Definitions(assets=[alpha_raw, alpha_clean, alpha_slow])",
        "@dg.asset\ndef alpha_new():\n    return dg.MaterializeResult()\n\n\n\
         defs = dg.Definitions(assets=[alpha_raw, alpha_clean, alpha_slow, alpha_new])",
    );
    std::fs::write(f.module_file("alpha", "definitions.py"), added).unwrap();
    f.wait_for("alpha_new appears", |h| {
        h.view().get(&["alpha_new".to_owned()]).is_some()
    })
    .await;
    // The run of the old code (two minutes of sleep) is still going: the asset did not wait for it.
    let run = f.state.storage.get_run(&run_id).await.unwrap().unwrap();
    assert_eq!(run.status, dg_storage::RunStatus::Started, "{run:?}");
    assert!(f.state.runs.cancel(&run_id));
    assert_eq!(f.wait_run(&run_id).await, dg_storage::RunStatus::Canceled);
}

/// Definitions that record the importing process's pid in `pids` and then import for five minutes.
fn slow_import(pids: &std::path::Path) -> String {
    format!(
        "import os, time\n\nwith open({:?}, 'a') as f:\n    f.write(f'{{os.getpid()}}\\n')\n\n\
         time.sleep(300)\n",
        pids.display().to_string()
    )
}

async fn wait_pids(pids: &std::path::Path, count: usize) -> Vec<u32> {
    let deadline = std::time::Instant::now() + Duration::from_secs(180);
    loop {
        let found: Vec<u32> = std::fs::read_to_string(pids)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.trim().parse().ok())
            .collect();
        if found.len() >= count {
            return found;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{count} imports did not start: {found:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn wait_gone(pid: u32, what: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while dg_test::procs::alive(pid) {
        assert!(
            std::time::Instant::now() < deadline,
            "{what} (pid {pid}) still runs"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A reload requested while a load is in flight cancels that load: its agent is killed, not left
/// to import (and hold memory) until it finishes. The last good snapshot stays meanwhile.
pub async fn a_superseded_load_is_cancelled() {
    let f = Fixture::start().await;
    let pids = f.dir.path().join("imports.txt");
    std::fs::write(f.module_file("alpha", "definitions.py"), slow_import(&pids)).unwrap();
    assert!(f.host.reload("alpha"));
    let first = wait_pids(&pids, 1).await[0];
    assert!(f.host.reload("alpha"));
    let second = wait_pids(&pids, 2).await[1];
    wait_gone(first, "the superseded load's agent").await;
    assert!(dg_test::procs::alive(second), "the newest load goes on");
    let alpha = f.host.location("alpha").unwrap();
    assert_eq!(alpha.status, LocationStatus::Loading);
    assert!(alpha.stale_snapshot && alpha.asset_count == 3, "{alpha:?}");

    // The fixed code supersedes the hanging load in turn, and loads.
    std::fs::write(f.module_file("alpha", "definitions.py"), ALPHA).unwrap();
    assert!(f.host.reload("alpha"));
    wait_gone(second, "the second load's agent").await;
    f.wait_for("alpha loads", |h| {
        h.location("alpha").unwrap().status == LocationStatus::Loaded
    })
    .await;

    // Shutting down ends a load in flight too.
    std::fs::write(f.module_file("alpha", "definitions.py"), slow_import(&pids)).unwrap();
    assert!(f.host.reload("alpha"));
    let third = wait_pids(&pids, 3).await[2];
    f.host.shutdown();
    wait_gone(third, "the load in flight at shutdown").await;
}
