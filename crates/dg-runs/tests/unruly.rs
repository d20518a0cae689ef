//! Runs of user code that is hard on the host, through both launchers: metadata with NaN and
//! infinities and log messages with lone surrogates are stored; writes to file descriptor 3 (the
//! agent's channel once) change nothing; event lines the host cannot read become stored
//! replacement events and the run goes on; a progress bar that never writes a newline arrives in
//! bounded pieces.

mod support;

use std::sync::Arc;
use std::time::Duration;

use dg_python::{EnvOptions, PythonEnvironment};
use dg_runs::{execute_run, Launcher, RunOutcome, RunRequest, RunTarget, WarmAgent};
use dg_storage::{AssetKey, EventKind, EventRecord, InstanceConfig, RunStatus};
use serde_json::json;
use support::{common, types, Fixture};

/// The `unruly_runs` fixture project with a SQLite instance.
async fn fixture() -> Fixture {
    fixture_named("unruly_runs").await
}

/// The fixture project `name` with a SQLite instance.
async fn fixture_named(name: &str) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let spec = common::project(dir.path(), name);
    let env = PythonEnvironment::resolve(&spec.name, &spec.root, &EnvOptions::default())
        .expect("environment");
    let home = dir.path().join(".dagster");
    let storage = dg_storage::open(&InstanceConfig::default_for(&home))
        .await
        .expect("storage opens");
    Fixture {
        dir,
        spec,
        env,
        home,
        storage,
        database: None,
    }
}

fn asset(key: &str) -> RunRequest {
    RunRequest::new(
        "unruly_runs",
        RunTarget::Assets(vec![AssetKey::from_user_string(key)]),
    )
}

async fn warm(fx: &Fixture) -> Arc<WarmAgent> {
    let (spec, env) = (fx.spec.clone(), fx.env.clone());
    let warm = tokio::task::spawn_blocking(move || {
        WarmAgent::start(&spec, &env, None, Duration::from_secs(300))
    })
    .await
    .unwrap()
    .expect("warm agent starts");
    Arc::new(warm)
}

/// Runs `key` through a fresh agent, then through `warm`; returns both outcomes with their events.
async fn both_ways(
    fx: &Fixture,
    warm: &Arc<WarmAgent>,
    key: &str,
) -> Vec<(RunOutcome, Vec<EventRecord>)> {
    let mut out = vec![fx.launch(asset(key)).await];
    let (ctx, seen) = fx.context();
    let outcome = execute_run(&ctx, Launcher::Warm(warm.clone()), &asset(key))
        .await
        .expect("run recorded");
    let observed = seen.lock().unwrap().clone();
    let events = fx.check_stored(&outcome.run_id, observed).await;
    out.push((outcome, events));
    out
}

fn assert_gap_free(events: &[EventRecord]) {
    let seqs: Vec<i64> = events.iter().filter_map(|e| e.seq).collect();
    let expected: Vec<i64> = (1..=seqs.len() as i64).collect();
    assert_eq!(seqs, expected);
}

#[tokio::test(flavor = "multi_thread")]
async fn nan_infinity_and_lone_surrogates_are_stored() {
    let fx = fixture().await;
    let warm = warm(&fx).await;
    for (outcome, events) in both_ways(&fx, &warm, "odd_values").await {
        assert_eq!(outcome.status, RunStatus::Success, "{outcome:?}");
        assert_gap_free(&events);
        let metadata = events
            .iter()
            .find_map(|e| match &e.event.kind {
                EventKind::AssetMaterialization { metadata, .. } => Some(metadata.clone()),
                _ => None,
            })
            .expect("the materialization is stored");
        assert_eq!(metadata["nan"], json!("nan"));
        assert_eq!(metadata["inf"], json!("inf"));
        assert_eq!(metadata["ninf"], json!("-inf"));
        assert_eq!(metadata["score"], json!("nan"));
        assert_eq!(metadata["text"], json!("b\u{FFFD}"));
        assert!(
            events.iter().any(|e| matches!(&e.event.kind,
                EventKind::Log { message, .. } if message == "a lone surrogate: \u{FFFD}, and a pair: \u{1F600}")),
            "{:?}",
            types(&events)
        );
    }
    Arc::into_inner(warm).unwrap().shutdown();
}

#[tokio::test(flavor = "multi_thread")]
async fn writes_to_fd_3_in_an_asset_change_nothing() {
    let fx = fixture().await;
    let warm = warm(&fx).await;
    for (outcome, events) in both_ways(&fx, &warm, "writes_fd3").await {
        assert_eq!(outcome.status, RunStatus::Success, "{outcome:?}");
        assert!(events.iter().any(
            |e| matches!(&e.event.kind, EventKind::Log { message, .. } if message == "wrote to fd 3")
        ));
    }
    // The warm agent's channel is still in step: it forks another run.
    let (ctx, _) = fx.context();
    let outcome = execute_run(&ctx, Launcher::Warm(warm.clone()), &asset("odd_values"))
        .await
        .unwrap();
    assert_eq!(outcome.status, RunStatus::Success, "{outcome:?}");
    Arc::into_inner(warm).unwrap().shutdown();
}

#[tokio::test(flavor = "multi_thread")]
async fn unreadable_event_lines_become_replacement_events_and_the_run_goes_on() {
    let fx = fixture().await;
    let warm = warm(&fx).await;
    for (outcome, events) in both_ways(&fx, &warm, "malformed_events").await {
        assert_eq!(outcome.status, RunStatus::Success, "{outcome:?}");
        assert_gap_free(&events);
        let replaced: Vec<&str> = events
            .iter()
            .filter_map(|e| match &e.event.kind {
                EventKind::EngineEvent { message } if message.starts_with("dg could not read") => {
                    Some(message.as_str())
                }
                _ => None,
            })
            .collect();
        assert_eq!(replaced.len(), 3, "{replaced:?}");
        assert!(
            replaced[0].contains("expected value") && replaced[0].contains(r#""x":NaN"#),
            "{}",
            replaced[0]
        );
        assert!(
            replaced[1].contains("(`NO_SUCH_TYPE`)") && replaced[1].contains("unknown variant"),
            "{}",
            replaced[1]
        );
        assert!(
            replaced[2].contains("not UTF-8") && replaced[2].contains("not JSON at all"),
            "{}",
            replaced[2]
        );
        // Events after them are stored as usual.
        let after = events
            .iter()
            .position(|e| matches!(&e.event.kind, EventKind::Log { message, .. } if message == "after the malformed lines"))
            .expect("the log after the malformed lines");
        assert!(types(&events[after..]).contains(&"STEP_SUCCESS"));
    }
    Arc::into_inner(warm).unwrap().shutdown();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_progress_bar_without_newlines_arrives_in_bounded_pieces() {
    let fx = fixture().await;
    let mut request = asset("progress_bar");
    request.run_config = json!({"ops": {"progress_bar": {"config": {"megabytes": 8}}}});
    let (outcome, events) = fx.launch(request).await;
    assert_eq!(outcome.status, RunStatus::Success, "{outcome:?}");
    assert_gap_free(&events);
    let pieces: Vec<&str> = events
        .iter()
        .filter_map(|e| match &e.event.kind {
            EventKind::Stdout { text } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    assert!(
        pieces.iter().all(|p| p.len() <= 16 * 1024),
        "a piece is longer"
    );
    // Nothing is lost: the pieces put together are what was printed.
    let total: usize = pieces.iter().map(|p| p.len()).sum();
    assert_eq!(total, 8 * 1_000_000);
    assert!(pieces
        .concat()
        .split('\r')
        .all(|bar| bar.is_empty() || bar.len() == 99));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_worker_of_another_wire_version_is_refused() {
    let fx = fixture_named("old_wire").await;
    let request = RunRequest::new(
        "old_wire",
        RunTarget::Assets(vec![AssetKey::from_user_string("a")]),
    );
    let warm = warm(&fx).await;
    let (ctx, _) = fx.context();
    let outcome = execute_run(&ctx, Launcher::Warm(warm.clone()), &request)
        .await
        .expect("run recorded");
    let events = fx.events(&outcome.run_id).await;
    let fresh = fx.launch(request).await;
    for (outcome, events) in [fresh, (outcome, events)] {
        assert_eq!(outcome.status, RunStatus::Failure, "{outcome:?}");
        let message = outcome
            .error
            .as_ref()
            .map(|e| e.message.clone())
            .unwrap_or_default();
        assert!(
            message.contains("version 0 of the run wire")
                && message.contains(&format!("version {}", dg_runs::wire::WIRE_VERSION)),
            "{message}"
        );
        // Nothing the refused worker wrote was stored as the run's.
        assert!(
            !events
                .iter()
                .any(|e| matches!(e.event.kind, EventKind::AssetMaterialization { .. })),
            "{:?}",
            types(&events)
        );
    }
    Arc::into_inner(warm).unwrap().shutdown();
}
