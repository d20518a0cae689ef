//! Faults: a run worker killed with `SIGKILL` mid-run, a canceled run (through both launchers), and
//! storage that cannot be reached. Every stored event survives; the run ends in a terminal status.

mod support;

use std::time::Duration;

use dg_core::Diagnostic;
use dg_runs::{execute_run, Launcher, RunError, WarmAgent};
use dg_storage::{EventKind, RunStatus};
use support::{slow_request, types, wait_for_pid, Backend, Fixture};

fn kill(pid: i32, signal: i32) {
    // SAFETY: plain syscall on an integer pid.
    #[allow(unsafe_code)]
    unsafe {
        libc::kill(pid, signal);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_worker_killed_mid_run_leaves_the_run_failed_with_its_events() {
    let fx = Fixture::new(Backend::Sqlite).await;
    let pid_file = fx.pid_file("slow.pid");
    let (ctx, seen) = fx.context();
    let launcher = fx.fresh_launcher().await;
    let request = slow_request(&pid_file);
    let run = tokio::spawn({
        let ctx = ctx.clone();
        async move { execute_run(&ctx, launcher, &request).await }
    });
    let pid = wait_for_pid(&pid_file).await;
    // The worker forwards its stdout from a thread of its own: wait until the line printed before
    // the pid file reached the host (what the host has is what must survive), then kill.
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    while !seen
        .lock()
        .unwrap()
        .iter()
        .any(|e| matches!(&e.event.kind, EventKind::Stdout { text } if text == "before the wait"))
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the worker's stdout never arrived"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    kill(pid, libc::SIGKILL);
    let outcome = run.await.unwrap().expect("run recorded");
    assert_eq!(outcome.status, RunStatus::Failure);
    let events = fx.events(&outcome.run_id).await;
    let kinds = types(&events);
    // Everything the worker wrote before it died is kept.
    assert!(kinds.contains(&"STEP_START"), "{kinds:?}");
    assert!(events.iter().any(
        |e| matches!(&e.event.kind, EventKind::Log { message, .. } if message == "slow asset started")
    ));
    // Its output was seen live (above); it is not an event in storage (compute logs hold it).
    assert!(!events
        .iter()
        .any(|e| matches!(&e.event.kind, EventKind::Stdout { .. })));
    // The host says what happened.
    let engine = events
        .iter()
        .find_map(|e| match &e.event.kind {
            EventKind::EngineEvent { message } if message.contains("exited unexpectedly") => {
                Some(message.clone())
            }
            _ => None,
        })
        .expect("an engine event about the worker");
    assert!(engine.contains(&pid.to_string()), "{engine}");
    assert_eq!(kinds.last(), Some(&"RUN_FAILURE"));
    let run = fx.storage.get_run(&outcome.run_id).await.unwrap().unwrap();
    assert_eq!(run.status, RunStatus::Failure);
}

#[tokio::test(flavor = "multi_thread")]
async fn canceling_a_run_ends_its_processes_and_records_canceled() {
    let fx = Fixture::new(Backend::Sqlite).await;
    let pid_file = fx.pid_file("slow.pid");
    let (ctx, _) = fx.context();
    let launcher = fx.fresh_launcher().await;
    let request = slow_request(&pid_file);
    let run = tokio::spawn({
        let ctx = ctx.clone();
        async move { execute_run(&ctx, launcher, &request).await }
    });
    let pid = wait_for_pid(&pid_file).await;
    ctx.cancel.cancel();
    let outcome = run.await.unwrap().expect("run recorded");
    assert_eq!(outcome.status, RunStatus::Canceled);
    assert!(
        !dg_storage::pid_alive(pid as u32),
        "worker {pid} still alive"
    );
    let events = fx.events(&outcome.run_id).await;
    let kinds = types(&events);
    assert!(kinds.contains(&"RUN_CANCELING"), "{kinds:?}");
    assert_eq!(kinds.last(), Some(&"RUN_CANCELED"));
    assert!(kinds.contains(&"STEP_START"));
    let run = fx.storage.get_run(&outcome.run_id).await.unwrap().unwrap();
    assert_eq!(run.status, RunStatus::Canceled);
}

#[tokio::test(flavor = "multi_thread")]
async fn canceling_a_forked_run_leaves_the_warm_agent_serving() {
    let fx = Fixture::new(Backend::Sqlite).await;
    let (spec, env) = (fx.spec.clone(), fx.env.clone());
    let warm = tokio::task::spawn_blocking(move || {
        WarmAgent::start(&spec, &env, None, Duration::from_secs(300))
    })
    .await
    .unwrap()
    .expect("warm agent starts");
    let warm = std::sync::Arc::new(warm);
    let pid_file = fx.pid_file("slow.pid");
    let (ctx, _) = fx.context();
    let request = slow_request(&pid_file);
    let run = tokio::spawn({
        let ctx = ctx.clone();
        let warm = warm.clone();
        async move { execute_run(&ctx, Launcher::Warm(warm), &request).await }
    });
    let pid = wait_for_pid(&pid_file).await;
    ctx.cancel.cancel();
    let outcome = run.await.unwrap().expect("run recorded");
    assert_eq!(outcome.status, RunStatus::Canceled);
    assert!(!dg_storage::pid_alive(pid as u32));
    assert!(dg_storage::pid_alive(warm.pid()));
    // The agent still forks runs.
    let (ctx, _) = fx.context();
    let outcome = execute_run(
        &ctx,
        Launcher::Warm(warm.clone()),
        &support::assets(&["first"]),
    )
    .await
    .unwrap();
    assert_eq!(outcome.status, RunStatus::Success, "{outcome:?}");
    std::sync::Arc::into_inner(warm).unwrap().shutdown();
}

#[tokio::test(flavor = "multi_thread")]
async fn unreachable_postgres_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("dagster.yaml"),
        "storage:\n  postgres:\n    postgres_url: postgres://postgres@127.0.0.1:1/test\n",
    )
    .unwrap();
    let config = dg_storage::InstanceConfig::load(dir.path()).unwrap();
    let error = RunError::from(dg_storage::open(&config).await.unwrap_err());
    let message = error.to_string();
    assert!(message.contains("127.0.0.1:1"), "{message}");
    assert!(error.hint().unwrap().contains("PostgreSQL"));
    assert_eq!(error.exit_code(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_disk_stops_the_run_with_a_clear_error() {
    let fx = Fixture::new(Backend::Sqlite).await;
    // A database capped at 1 MB: SQLite fails writes past it exactly as on a full disk.
    let config = dg_storage::SqliteConfig::under(&fx.home.join("capped"));
    let options = dg_storage::OpenOptions {
        sqlite_max_pages: Some(250),
        ..Default::default()
    };
    let storage = dg_storage::SqliteStorage::open_with(&config, &options)
        .await
        .unwrap();
    let (mut ctx, _) = fx.context();
    ctx.storage = std::sync::Arc::new(storage);
    let mut request = support::assets(&["many_logs"]);
    request.run_config = serde_json::json!({"ops": {"many_logs": {"config": {"count": 50000}}}});
    let launcher = fx.fresh_launcher().await;
    let error = execute_run(&ctx, launcher, &request).await.unwrap_err();
    assert!(
        matches!(
            error,
            RunError::Storage(dg_storage::StorageError::DiskFull { .. })
        ),
        "{error:?}"
    );
    assert!(error.to_string().contains("is full"), "{error}");
    assert!(error.hint().unwrap().contains("Free disk space"));
    let runs = ctx.storage.list_runs(&Default::default()).await.unwrap();
    assert_ne!(runs[0].status, RunStatus::Started);
}
