//! Runs executed by real `dagster` through the real agent, recorded in a real SQLite instance
//! (and PostgreSQL): outputs shared across runs, partitions, config, failures, logs and prints,
//! jobs, two runs at once, and the warm fork launcher.

mod support;

use dg_runs::{execute_run, Launcher, RunTarget, WarmAgent};
use dg_storage::{AssetKey, EventKind, RunStatus};
use support::{assets, logs, types, Backend, Fixture};

#[tokio::test(flavor = "multi_thread")]
async fn a_chain_of_three_assets_across_two_runs() {
    let fx = Fixture::new(Backend::Sqlite).await;
    let (first, events) = fx.launch(assets(&["first", "second"])).await;
    assert_eq!(first.status, RunStatus::Success, "{first:?}");
    let kinds = types(&events);
    assert_eq!(kinds.first(), Some(&"RUN_STARTING"));
    assert!(kinds.contains(&"RUN_START"), "{events:#?}");
    assert_eq!(kinds.last(), Some(&"RUN_SUCCESS"), "{events:#?}");
    // Worker events are numbered 1, 2, 3, ... without gaps.
    let seqs: Vec<i64> = events.iter().filter_map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>());
    // The asset check on `first` ran with it.
    assert!(events.iter().any(|e| matches!(&e.event.kind,
        EventKind::AssetCheckEvaluation { check_name, passed: true, .. } if check_name == "first_is_one")));

    // `third` alone, in a second run, loads the value `second` stored in the first run.
    let (second, events) = fx.launch(assets(&["third"])).await;
    assert_eq!(second.status, RunStatus::Success, "{second:?}");
    assert!(
        logs(&events).contains(&"third got 2".to_owned()),
        "{events:#?}"
    );
    for key in ["first", "second", "third"] {
        let latest = fx
            .storage
            .latest_materialization(&AssetKey::from_user_string(key), None)
            .await
            .unwrap();
        assert!(latest.is_some(), "no materialization of {key}");
    }
    let run = fx.storage.get_run(&second.run_id).await.unwrap().unwrap();
    assert_eq!(run.status, RunStatus::Success);
    assert_eq!(run.job_name, "__ASSET_JOB");
    assert!(run.started_at.is_some() && run.ended_at.is_some());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_partitioned_asset_records_its_partition() {
    let fx = Fixture::new(Backend::Sqlite).await;
    let mut request = assets(&["parted"]);
    request.partition = Some("y".into());
    let (outcome, events) = fx.launch(request).await;
    assert_eq!(outcome.status, RunStatus::Success, "{outcome:?}");
    assert!(logs(&events).contains(&"partition y".to_owned()));
    let key = AssetKey::from_user_string("parted");
    let latest = fx
        .storage
        .latest_materialization(&key, Some("y"))
        .await
        .unwrap();
    assert_eq!(latest.unwrap().event.kind.partition(), Some("y"));
    assert!(fx
        .storage
        .latest_materialization(&key, Some("x"))
        .await
        .unwrap()
        .is_none());
    let run = fx.storage.get_run(&outcome.run_id).await.unwrap().unwrap();
    assert_eq!(run.partition.as_deref(), Some("y"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_with_config() {
    let fx = Fixture::new(Backend::Sqlite).await;
    let mut request = assets(&["configured"]);
    request.run_config =
        serde_json::json!({"ops": {"configured": {"config": {"name": "dg", "times": 2}}}});
    let (outcome, events) = fx.launch(request).await;
    assert_eq!(outcome.status, RunStatus::Success, "{outcome:?}");
    let hellos = logs(&events)
        .into_iter()
        .filter(|l| l == "hello dg")
        .count();
    assert_eq!(hellos, 2);
    let run = fx.storage.get_run(&outcome.run_id).await.unwrap().unwrap();
    assert_eq!(run.config["ops"]["configured"]["config"]["times"], 2);

    // Config that does not match the schema fails the run with Dagster's message.
    let mut bad = assets(&["configured"]);
    bad.run_config = serde_json::json!({"ops": {"configured": {"config": {"times": 2}}}});
    let (outcome, _) = fx.launch(bad).await;
    assert_eq!(outcome.status, RunStatus::Failure);
    let error = outcome.error.expect("an error");
    assert!(error.message.contains("name"), "{error:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_asset_fails_the_run_with_the_users_error() {
    let fx = Fixture::new(Backend::Sqlite).await;
    let (outcome, events) = fx.launch(assets(&["failing"])).await;
    assert_eq!(outcome.status, RunStatus::Failure);
    let (step, error) = &outcome.step_failures[0];
    assert_eq!(step, "failing");
    assert_eq!(error.class_name.as_deref(), Some("ValueError"));
    assert_eq!(error.message, "the failing asset failed on purpose");
    assert!(
        error.stack.iter().any(|l| l.contains("definitions.py")),
        "{error:?}"
    );
    assert!(types(&events).contains(&"STEP_FAILURE"));
    assert_eq!(types(&events).last(), Some(&"RUN_FAILURE"));
}

#[tokio::test(flavor = "multi_thread")]
async fn logs_and_prints_are_events_in_order() {
    let fx = Fixture::new(Backend::Sqlite).await;
    let (outcome, events) = fx.launch(assets(&["noisy"])).await;
    assert_eq!(outcome.status, RunStatus::Success, "{outcome:?}");
    let pos = |pred: &dyn Fn(&EventKind) -> bool| {
        events
            .iter()
            .position(|e| pred(&e.event.kind))
            .unwrap_or_else(|| panic!("missing event in {events:#?}"))
    };
    let start = pos(&|k| matches!(k, EventKind::StepStart));
    let log = pos(&|k| matches!(k, EventKind::Log { message, .. } if message == "a log line"));
    let warn = pos(
        &|k| matches!(k, EventKind::Log { message, level: dg_storage::LogLevel::Warning } if message == "a warning line"),
    );
    let out = pos(&|k| matches!(k, EventKind::Stdout { text } if text == "printed to stdout"));
    let err = pos(&|k| matches!(k, EventKind::Stderr { text } if text == "printed to stderr"));
    let sub = pos(&|k| matches!(k, EventKind::Stdout { text } if text == "from a subprocess"));
    let mat = pos(&|k| matches!(k, EventKind::AssetMaterialization { .. }));
    let success = pos(&|k| matches!(k, EventKind::StepSuccess { .. }));
    assert!(start < log && log < warn && warn < out && out < sub && sub < mat && mat < success);
    assert!(err > warn && err < success);
    assert_eq!(events[out].event.step_key.as_deref(), Some("noisy"));
    let EventKind::AssetMaterialization { metadata, .. } = &events[mat].event.kind else {
        unreachable!()
    };
    assert_eq!(metadata["rows"], 3);
    assert_eq!(metadata["note"], "hi");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_job_by_name() {
    let fx = Fixture::new(Backend::Sqlite).await;
    let request = dg_runs::RunRequest::new("runs_project", RunTarget::Job("chain_job".into()));
    let (outcome, events) = fx.launch(request).await;
    assert_eq!(outcome.status, RunStatus::Success, "{outcome:?}");
    let materialized = events
        .iter()
        .filter(|e| matches!(e.event.kind, EventKind::AssetMaterialization { .. }))
        .count();
    assert_eq!(materialized, 3);

    let unknown = dg_runs::RunRequest::new("runs_project", RunTarget::Job("nope".into()));
    let (outcome, _) = fx.launch(unknown).await;
    assert_eq!(outcome.status, RunStatus::Failure);
    assert!(outcome.error.unwrap().message.contains("`chain_job`"));
}

#[tokio::test(flavor = "multi_thread")]
async fn two_launches_at_once_on_one_instance() {
    let fx = Fixture::new(Backend::Sqlite).await;
    let (a, b) = tokio::join!(
        fx.launch(assets(&["first"])),
        fx.launch(
            assets(&["configured"])
                .with_config(serde_json::json!({"ops": {"configured": {"config": {"name": "b"}}}}))
        )
    );
    assert_eq!(a.0.status, RunStatus::Success, "{:?}", a.0);
    assert_eq!(b.0.status, RunStatus::Success, "{:?}", b.0);
    assert_ne!(a.0.run_id, b.0.run_id);
    assert!(a.1.iter().all(|e| e.run_id == a.0.run_id));
    assert!(logs(&b.1).contains(&"hello b".to_owned()));
    assert!(!logs(&a.1).contains(&"hello b".to_owned()));
    let runs = fx.storage.list_runs(&Default::default()).await.unwrap();
    assert_eq!(runs.len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_instance_records_a_run() {
    let fx = Fixture::new(Backend::Postgres).await;
    let (outcome, events) = fx.launch(assets(&["first", "second"])).await;
    assert_eq!(outcome.status, RunStatus::Success, "{outcome:?}");
    // `launch` gives what the host saw (captured output too); `outcome.events` counts the stored.
    assert_eq!(
        outcome.events as usize,
        fx.events(&outcome.run_id).await.len()
    );
    assert!(
        events.len() > fx.events(&outcome.run_id).await.len()
            || events.iter().all(|e| e.storage_id != 0)
    );
    let run = fx.storage.get_run(&outcome.run_id).await.unwrap().unwrap();
    assert_eq!(run.status, RunStatus::Success);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_warm_agent_forks_runs_and_keeps_serving() {
    let fx = Fixture::new(Backend::Sqlite).await;
    let (spec, env) = (fx.spec.clone(), fx.env.clone());
    let warm = tokio::task::spawn_blocking(move || {
        WarmAgent::start(&spec, &env, None, std::time::Duration::from_secs(300))
    })
    .await
    .unwrap()
    .expect("warm agent starts");
    let warm = std::sync::Arc::new(warm);
    let agent_pid = warm.pid();
    let (ctx, _) = fx.context();
    for request in [assets(&["first", "second"]), assets(&["third"])] {
        let outcome = execute_run(&ctx, Launcher::Warm(warm.clone()), &request)
            .await
            .unwrap();
        assert_eq!(outcome.status, RunStatus::Success, "{outcome:?}");
        let run = fx.storage.get_run(&outcome.run_id).await.unwrap().unwrap();
        assert_ne!(
            run.worker.unwrap().pid,
            agent_pid,
            "the run ran in a forked worker"
        );
    }
    let events = fx
        .events(&fx.storage.list_runs(&Default::default()).await.unwrap()[0].run_id)
        .await;
    assert!(logs(&events).contains(&"third got 2".to_owned()));
    assert!(dg_storage::pid_alive(agent_pid));
    std::sync::Arc::into_inner(warm).unwrap().shutdown();
}

/// A run canceled the moment its worker is forked signals the worker, never the warm agent it was
/// forked from (before the worker's `setpgid`, both are in the agent's process group).
#[tokio::test(flavor = "multi_thread")]
async fn canceling_right_after_a_warm_launch_leaves_the_agent_alive() {
    let fx = Fixture::new(Backend::Sqlite).await;
    let (spec, env) = (fx.spec.clone(), fx.env.clone());
    let warm = tokio::task::spawn_blocking(move || {
        WarmAgent::start(&spec, &env, None, std::time::Duration::from_secs(300))
    })
    .await
    .unwrap()
    .expect("warm agent starts");
    let warm = std::sync::Arc::new(warm);
    let agent_pid = warm.pid();
    for attempt in 0..25 {
        let (mut ctx, _) = fx.context();
        // Canceled before launch: the signal goes out as soon as the worker's pid is known.
        ctx.cancel = dg_runs::CancelToken::new();
        ctx.cancel.cancel();
        let outcome = execute_run(&ctx, Launcher::Warm(warm.clone()), &assets(&["first"]))
            .await
            .unwrap();
        assert!(
            matches!(outcome.status, RunStatus::Canceled | RunStatus::Success),
            "attempt {attempt}: {outcome:?}"
        );
        assert!(
            dg_storage::pid_alive(agent_pid),
            "attempt {attempt} killed the warm agent"
        );
    }
    let (ctx, _) = fx.context();
    let outcome = execute_run(&ctx, Launcher::Warm(warm.clone()), &assets(&["first"]))
        .await
        .unwrap();
    assert_eq!(outcome.status, RunStatus::Success, "the agent still serves");
    std::sync::Arc::into_inner(warm).unwrap().shutdown();
}
