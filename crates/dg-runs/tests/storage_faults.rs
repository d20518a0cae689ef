//! Storage failing under a live run, with real `dagster`, a real PostgreSQL and a real file system:
//! the run's PostgreSQL connections ended mid-write (`pg_terminate_backend`), a PostgreSQL restart,
//! a PostgreSQL that stays away past the retry budget, and a disk (a small tmpfs) that fills up.
//!
//! In every case the run ends cleanly (success, or failure with a clear error), and the stored log
//! is exactly what the host acknowledged: worker events numbered 1, 2, 3, ... once each in order,
//! host events once each. The run writes `paced` events until the test creates its stop file, so it
//! lasts as long as the test needs on any machine.
//!
//! A test that cannot set up its fault here (no PostgreSQL server binaries, not root for a mount)
//! prints `skipped <test>: <reason>` to stderr and passes without asserting.

// Skip reasons and what a fault test measured go to stderr (`--nocapture` shows them).
#![allow(clippy::print_stderr)]

mod support;

use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use dg_core::Diagnostic;
use dg_runs::{execute_run, RunError, RunRequest};
use dg_storage::{
    EventKind, EventRecord, OpenOptions, OrphanPolicy, PostgresConfig, RetryPolicy, RunStatus,
    StorageConfig,
};
use support::disk::Tmpfs;
use support::pg::{FreshDatabase, PrivatePostgres};
use support::{assets, Fixture};

/// A run of the `paced` asset, writing an event every 10 ms until `stop` exists.
fn paced(stop: &Path) -> RunRequest {
    let mut request = assets(&["paced"]);
    request.run_config = serde_json::json!({
        "ops": {"paced": {"config": {"stop_file": stop.to_str().unwrap(), "pause": 0.01}}}
    });
    request
}

type RunTask = tokio::task::JoinHandle<Result<dg_runs::RunOutcome, RunError>>;

/// Waits (at most 5 minutes) until the host acknowledged `count` events of the still running run.
async fn acknowledged(seen: &Mutex<Vec<EventRecord>>, count: usize, run: &mut RunTask) {
    let deadline = Instant::now() + Duration::from_secs(300);
    while self::count(seen) < count {
        assert!(
            Instant::now() < deadline,
            "the run stopped storing events at {}",
            self::count(seen)
        );
        if run.is_finished() {
            panic!("the run ended early: {:?}", run.await);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn count(seen: &Mutex<Vec<EventRecord>>) -> usize {
    seen.lock()
        .unwrap()
        .iter()
        .filter(|r| r.storage_id != 0)
        .count()
}

/// Checks `stored` against `acked` (what the observer was told was stored): the acknowledged
/// events are stored with the ids they were acknowledged with, in the same order, and are all
/// that is stored, or, when `whole` is false (the run was stopped), the start of what is stored;
/// worker events are numbered 1, 2, 3, ... once each, the `paced` events count up from 0 without a
/// gap, and no host event is stored twice. Returns how many `paced` events are stored.
fn check_log(stored: &[EventRecord], acked: &[EventRecord], whole: bool) -> usize {
    // Captured output reaches the observer too (storage id 0) but is not an event in storage: only
    // its sequence number is recorded, so stored numbers skip it.
    let output_seqs: std::collections::BTreeSet<i64> = acked
        .iter()
        .filter(|r| r.storage_id == 0)
        .filter_map(|r| r.seq)
        .collect();
    let acked: Vec<EventRecord> = acked
        .iter()
        .filter(|r| r.storage_id != 0)
        .cloned()
        .collect();
    let acked = acked.as_slice();
    let ids = |records: &[EventRecord]| records.iter().map(|r| r.storage_id).collect::<Vec<_>>();
    if whole {
        assert_eq!(ids(stored), ids(acked), "stored and acknowledged");
    } else {
        assert!(
            stored.len() >= acked.len() && ids(&stored[..acked.len()]) == ids(acked),
            "every acknowledged event is stored, in order: {} stored, {} acknowledged",
            stored.len(),
            acked.len()
        );
    }
    for pair in stored.windows(2) {
        assert!(pair[0].storage_id < pair[1].storage_id, "storage order");
    }
    let seqs: Vec<i64> = stored.iter().filter_map(|r| r.seq).collect();
    assert!(
        seqs.windows(2).all(|p| p[0] < p[1]),
        "worker events once each, in order: {seqs:?}"
    );
    assert!(
        seqs.iter().all(|seq| !output_seqs.contains(seq)),
        "captured output is not stored as an event"
    );
    if whole {
        // Stored events and captured output together are the worker's numbers without a gap.
        let mut all: Vec<i64> = seqs.iter().copied().chain(output_seqs).collect();
        all.sort_unstable();
        assert_eq!(
            all,
            (1..=all.len() as i64).collect::<Vec<_>>(),
            "worker events once each"
        );
    }
    let paced: Vec<String> = stored
        .iter()
        .filter_map(|r| match &r.event.kind {
            EventKind::Log { message, .. } if message.starts_with("paced event ") => {
                Some(message.clone())
            }
            _ => None,
        })
        .collect();
    let expected: Vec<String> = (0..paced.len())
        .map(|i| format!("paced event {i}"))
        .collect();
    assert_eq!(
        paced, expected,
        "paced events in order, none missing or repeated"
    );
    let mut host: Vec<String> = stored
        .iter()
        .filter(|r| r.seq.is_none())
        .map(|r| serde_json::to_string(&r.event).unwrap())
        .collect();
    let all = host.len();
    host.sort();
    host.dedup();
    assert_eq!(host.len(), all, "a host event stored twice");
    paced.len()
}

fn postgres(url: &str) -> Option<StorageConfig> {
    Some(StorageConfig::Postgres(
        PostgresConfig::from_url(url, "test").unwrap(),
    ))
}

/// Starts a private PostgreSQL, or prints why this test is skipped.
fn private_postgres(test: &str) -> Option<PrivatePostgres> {
    match PrivatePostgres::start() {
        Ok(server) => Some(server),
        Err(reason) => {
            eprintln!("skipped {test}: cannot start a private PostgreSQL: {reason}");
            None
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn ending_the_runs_postgres_connections_mid_run_loses_and_repeats_nothing() {
    let db = FreshDatabase::create(None).await;
    let fx = Fixture::with_storage(postgres(&db.url), None, &OpenOptions::default()).await;
    let (ctx, seen) = fx.context();
    let stop = fx.pid_file("stop");
    let launcher = fx.fresh_launcher().await;
    let mut run: RunTask = tokio::spawn({
        let (ctx, request) = (ctx.clone(), paced(&stop));
        async move { execute_run(&ctx, launcher, &request).await }
    });
    acknowledged(&seen, 10, &mut run).await;
    let run_id = seen.lock().unwrap()[0].run_id.clone();

    // The run's next write waits for a lock held here and its server process is ended in the
    // middle of the transaction; three times, the run going on between them.
    for _ in 0..3 {
        db.lock_run(&run_id).await.end_waiter().await;
        acknowledged(&seen, count(&seen) + 10, &mut run).await;
    }
    // Every connection of the run at once, whatever it is doing.
    let mut ended = 0;
    for _ in 0..5 {
        ended += db.terminate_connections().await;
        acknowledged(&seen, count(&seen) + 10, &mut run).await;
    }
    assert!(ended > 0, "no connection of the run was ended");
    eprintln!("ended 3 waiting writes and {ended} connections of the run");
    std::fs::write(&stop, "").unwrap();

    let outcome = (&mut run).await.unwrap().expect("the run ends cleanly");
    assert_eq!(outcome.status, RunStatus::Success, "{outcome:?}");
    let stored = fx.events(&outcome.run_id).await;
    let paced = check_log(&stored, &seen.lock().unwrap(), true);
    assert!(paced >= 80, "{paced} paced events");
    assert_eq!(
        stored.last().map(|r| r.event.kind.event_type()),
        Some("RUN_SUCCESS")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_postgres_restart_mid_run_loses_and_repeats_nothing() {
    let Some(server) = private_postgres("a_postgres_restart_mid_run_loses_and_repeats_nothing")
    else {
        return;
    };
    let db = FreshDatabase::create(Some(&server.admin_url())).await;
    let fx = Fixture::with_storage(postgres(&db.url), None, &OpenOptions::default()).await;
    let (ctx, seen) = fx.context();
    let stop = fx.pid_file("stop");
    let launcher = fx.fresh_launcher().await;
    let mut run: RunTask = tokio::spawn({
        let (ctx, request) = (ctx.clone(), paced(&stop));
        async move { execute_run(&ctx, launcher, &request).await }
    });
    acknowledged(&seen, 10, &mut run).await;
    let run_id = seen.lock().unwrap()[0].run_id.clone();

    // The server stops while a write of the run is inside its transaction (waiting for a lock held
    // here), and stays down longer than a connection attempt waits (5 s): the write in flight is
    // ended, the next ones are refused, then time out.
    let mut holder = db.lock_run(&run_id).await;
    holder.wait_for_waiter().await;
    server.stop();
    drop(holder);
    let before = count(&seen);
    tokio::time::sleep(Duration::from_secs(8)).await;
    server.start_again();
    acknowledged(&seen, before + 20, &mut run).await;
    std::fs::write(&stop, "").unwrap();

    let outcome = (&mut run).await.unwrap().expect("the run ends cleanly");
    assert_eq!(outcome.status, RunStatus::Success, "{outcome:?}");
    let stored = fx.events(&outcome.run_id).await;
    check_log(&stored, &seen.lock().unwrap(), true);
    let run = fx.storage.get_run(&outcome.run_id).await.unwrap().unwrap();
    assert_eq!(run.status, RunStatus::Success);
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_away_past_the_retry_budget_stops_the_run_cleanly() {
    let Some(server) =
        private_postgres("postgres_away_past_the_retry_budget_stops_the_run_cleanly")
    else {
        return;
    };
    let db = FreshDatabase::create(Some(&server.admin_url())).await;
    let options = OpenOptions {
        retry: RetryPolicy {
            budget: Duration::from_secs(3),
            ..RetryPolicy::default()
        },
        ..OpenOptions::default()
    };
    let fx = Fixture::with_storage(postgres(&db.url), None, &options).await;
    let (ctx, seen) = fx.context();
    let stop = fx.pid_file("stop");
    let launcher = fx.fresh_launcher().await;
    let mut run: RunTask = tokio::spawn({
        let (ctx, request) = (ctx.clone(), paced(&stop));
        async move { execute_run(&ctx, launcher, &request).await }
    });
    acknowledged(&seen, 10, &mut run).await;
    let run_id = seen.lock().unwrap()[0].run_id.clone();

    server.stop();
    let error = (&mut run).await.unwrap().expect_err("the run cannot go on");
    let message = error.to_string();
    assert!(
        matches!(
            &error,
            RunError::Storage(dg_storage::StorageError::Unavailable { .. })
        ),
        "{error:?}"
    );
    assert!(
        message.contains("stayed unavailable: gave up after"),
        "{message}"
    );
    assert!(
        message.contains(&format!("127.0.0.1:{}", server.port())),
        "{message}"
    );
    assert!(
        error.hint().unwrap().contains("PostgreSQL"),
        "{:?}",
        error.hint()
    );

    // Back up: what was acknowledged is there; the worker is gone; monitoring ends the run.
    server.start_again();
    let stored = fx.events(&run_id).await;
    check_log(&stored, &seen.lock().unwrap(), false);
    let run = fx.storage.get_run(&run_id).await.unwrap().unwrap();
    let worker = run.worker.clone().expect("the worker's heartbeat");
    let deadline = Instant::now() + Duration::from_secs(60);
    while dg_storage::pid_alive(worker.pid) {
        assert!(
            Instant::now() < deadline,
            "worker {} still alive",
            worker.pid
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        run.status,
        RunStatus::Started,
        "the server was away when it ended"
    );
    let marked = fx
        .storage
        .mark_orphaned_runs_failed(&OrphanPolicy::new(120.0))
        .await
        .unwrap();
    assert_eq!(marked, vec![run_id.clone()]);
    let run = fx.storage.get_run(&run_id).await.unwrap().unwrap();
    assert_eq!(run.status, RunStatus::Failure);
}

/// A real full disk, not a quota: the instance home on a 4 MiB tmpfs, and a run writing events as
/// fast as it can until the disk is full.
#[tokio::test(flavor = "multi_thread")]
async fn a_full_disk_stops_the_run_with_what_was_acknowledged_kept() {
    let test = "a_full_disk_stops_the_run_with_what_was_acknowledged_kept";
    let disk = match Tmpfs::mount("4m") {
        Ok(disk) => disk,
        Err(reason) => {
            eprintln!("skipped {test}: {reason}");
            return;
        }
    };
    let home = disk.path().join(".dagster");
    let fx = Fixture::with_storage(None, Some(home.clone()), &OpenOptions::default()).await;
    let (ctx, seen) = fx.context();
    let stop = fx.pid_file("stop");
    let mut request = paced(&stop);
    request.run_config["ops"]["paced"]["config"]["pause"] = serde_json::json!(0.0);
    let launcher = fx.fresh_launcher().await;

    let error = execute_run(&ctx, launcher, &request)
        .await
        .expect_err("the disk fills up long before the run ends");
    assert!(
        matches!(
            error,
            RunError::Storage(dg_storage::StorageError::DiskFull { .. })
        ),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.contains("is full") && message.contains(&home.display().to_string()),
        "{message}"
    );
    assert!(error.hint().unwrap().contains("Free disk space"));

    // What the host acknowledged is stored, in order, and nothing else but the failure's record.
    let acked = seen.lock().unwrap().clone();
    let run_id = acked[0].run_id.clone();
    let stored = fx.events(&run_id).await;
    let paced = check_log(&stored, &acked, true);
    assert!(paced > 0, "some events fit on the disk");
    let last = stored.last().unwrap();
    match &last.event.kind {
        EventKind::RunFailure { error: Some(e) } => assert!(
            e.message.contains("could not be stored") && e.message.contains("is full"),
            "{}",
            e.message
        ),
        other => panic!("the log ends with {other:?}"),
    }
    let run = fx.storage.get_run(&run_id).await.unwrap().unwrap();
    assert_eq!(run.status, RunStatus::Failure);
    assert!(run.ended_at.is_some());
    // The worker is gone: nothing is left running.
    let worker = run.worker.expect("the worker's heartbeat");
    let deadline = Instant::now() + Duration::from_secs(60);
    while dg_storage::pid_alive(worker.pid) {
        assert!(
            Instant::now() < deadline,
            "worker {} still alive",
            worker.pid
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    eprintln!(
        "{paced} paced events ({} in all) stored on the 4 MiB disk before it was full",
        stored.len()
    );
    drop(fx);
}
