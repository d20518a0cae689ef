//! Hot reload with real file changes: a new asset appears by itself; broken code fails the
//! location with its traceback while the last good snapshot stays and the other location keeps
//! serving runs; fixing the code brings it back, all without a request.

use std::time::Duration;

use dg_runs::{RunRequest, RunTarget};
use dg_server::host::{watch, LocationStatus};

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
