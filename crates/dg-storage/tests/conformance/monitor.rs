//! Run monitoring: runs whose worker died (pid gone on this host) or went silent are marked failed,
//! with a `RUN_FAILURE` event saying why; healthy and finished runs are left alone.

use dg_storage::{EventKind, OrphanPolicy, RunStatus, Worker};

use crate::fixture::TestDb;
use crate::util::{all_events, new_run, ts};

pub async fn orphaned_runs_are_marked_failed(db: TestDb) -> TestDb {
    let s = db.open().await;
    let here = dg_storage::this_host();
    let dead_pid = {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        pid
    };
    let now = ts(10_000.0);
    let make = |status: RunStatus| {
        let s = s.clone();
        async move {
            let id = s.create_run(&new_run("loc", &[])).await.unwrap().run_id;
            s.set_run_status(&id, RunStatus::Starting, now.add_secs_f64(-100.0))
                .await
                .unwrap();
            if status != RunStatus::Starting {
                s.set_run_status(&id, status, now.add_secs_f64(-100.0))
                    .await
                    .unwrap();
            }
            id
        }
    };
    let dead_worker = make(RunStatus::Started).await;
    let silent = make(RunStatus::Started).await;
    let healthy = make(RunStatus::Started).await;
    let never_reported = make(RunStatus::Starting).await;
    let finished = make(RunStatus::Success).await;
    let queued = s.create_run(&new_run("loc", &[])).await.unwrap().run_id;

    s.record_heartbeat(
        &dead_worker,
        &Worker {
            pid: dead_pid,
            hostname: here.clone(),
        },
        now.add_secs_f64(-1.0),
    )
    .await
    .unwrap();
    let elsewhere = Worker {
        pid: 1,
        hostname: format!("{here}-other-host"),
    };
    s.record_heartbeat(&silent, &elsewhere, now.add_secs_f64(-120.0))
        .await
        .unwrap();
    s.record_heartbeat(
        &healthy,
        &Worker {
            pid: std::process::id(),
            hostname: here.clone(),
        },
        now.add_secs_f64(-1.0),
    )
    .await
    .unwrap();

    let policy = OrphanPolicy {
        heartbeat_timeout: 60.0,
        now,
        hostname: here,
    };
    let mut marked = s.mark_orphaned_runs_failed(&policy).await.unwrap();
    marked.sort();
    let mut expected = vec![dead_worker.clone(), silent.clone(), never_reported.clone()];
    expected.sort();
    assert_eq!(marked, expected);

    for id in &expected {
        let run = s.get_run(id).await.unwrap().unwrap();
        assert_eq!((run.status, run.ended_at), (RunStatus::Failure, Some(now)));
        let events = all_events(s.as_ref(), id).await;
        let last = events.last().expect("a failure event");
        assert_eq!(last.seq, None, "a host event");
        match &last.event.kind {
            EventKind::RunFailure { error: Some(e) } => {
                assert!(e.message.contains("monitoring"), "{}", e.message)
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    let dead = all_events(s.as_ref(), &dead_worker).await;
    assert!(format!("{:?}", dead.last().unwrap().event).contains(&format!("pid {dead_pid}")));
    for (id, status) in [
        (&healthy, RunStatus::Started),
        (&finished, RunStatus::Success),
        (&queued, RunStatus::Queued),
    ] {
        assert_eq!(s.get_run(id).await.unwrap().unwrap().status, status);
    }
    assert!(
        s.mark_orphaned_runs_failed(&policy)
            .await
            .unwrap()
            .is_empty(),
        "marking twice does nothing"
    );
    db
}

/// Makes a run that reached `CANCELING` at `at` (through `STARTING` and `STARTED`).
async fn canceling_run(s: &dyn dg_storage::Storage, at: dg_storage::Timestamp) -> String {
    let id = s.create_run(&new_run("loc", &[])).await.unwrap().run_id;
    for status in [
        RunStatus::Starting,
        RunStatus::Started,
        RunStatus::Canceling,
    ] {
        s.set_run_status(&id, status, at).await.unwrap();
    }
    id
}

pub async fn canceling_runs_that_lost_their_worker_end_canceled(db: TestDb) -> TestDb {
    let s = db.open().await;
    let here = dg_storage::this_host();
    let dead_pid = {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        pid
    };
    let now = ts(10_000.0);
    let dead_worker = canceling_run(s.as_ref(), now.add_secs_f64(-100.0)).await;
    let silent = canceling_run(s.as_ref(), now.add_secs_f64(-100.0)).await;
    let healthy = canceling_run(s.as_ref(), now.add_secs_f64(-100.0)).await;
    s.record_heartbeat(
        &dead_worker,
        &Worker {
            pid: dead_pid,
            hostname: here.clone(),
        },
        now.add_secs_f64(-1.0),
    )
    .await
    .unwrap();
    let elsewhere = Worker {
        pid: 1,
        hostname: format!("{here}-other-host"),
    };
    s.record_heartbeat(&silent, &elsewhere, now.add_secs_f64(-120.0))
        .await
        .unwrap();
    let alive = Worker {
        pid: std::process::id(),
        hostname: here.clone(),
    };
    s.record_heartbeat(&healthy, &alive, now.add_secs_f64(-1.0))
        .await
        .unwrap();

    let policy = OrphanPolicy {
        heartbeat_timeout: 60.0,
        now,
        hostname: here,
    };
    let mut marked = s.mark_orphaned_runs_failed(&policy).await.unwrap();
    marked.sort();
    let mut expected = vec![dead_worker.clone(), silent.clone()];
    expected.sort();
    assert_eq!(marked, expected, "orphaned runs that were canceling");
    for id in &expected {
        let run = s.get_run(id).await.unwrap().unwrap();
        assert_eq!((run.status, run.ended_at), (RunStatus::Canceled, Some(now)));
        let events = all_events(s.as_ref(), id).await;
        let [.., why, last] = events.as_slice() else {
            panic!("{events:?}")
        };
        assert_eq!((why.seq, last.seq), (None, None), "host events");
        assert!(
            matches!(last.event.kind, EventKind::RunCanceled),
            "{last:?}"
        );
        match &why.event.kind {
            EventKind::EngineEvent { message } => assert!(
                message.contains("monitoring") && message.contains("canceling"),
                "{message}"
            ),
            other => panic!("unexpected {other:?}"),
        }
    }
    let dead = all_events(s.as_ref(), &dead_worker).await;
    assert!(format!("{dead:?}").contains(&format!("pid {dead_pid}")));
    assert_eq!(
        s.get_run(&healthy).await.unwrap().unwrap().status,
        RunStatus::Canceling
    );
    assert!(
        s.mark_orphaned_runs_failed(&policy)
            .await
            .unwrap()
            .is_empty(),
        "marking twice does nothing"
    );
    db
}

/// The decision is taken on the run as it is under its lock: a heartbeat committed while
/// monitoring waits for that lock (after it listed the run as silent) keeps the run alive. On
/// PostgreSQL the interleaving is certain (the waiter is seen in `pg_stat_activity`); on SQLite the
/// test waits long enough for the monitor to get there.
pub async fn a_heartbeat_that_lands_while_monitoring_looks_wins(db: TestDb) -> TestDb {
    let s = db.open().await;
    let here = dg_storage::this_host();
    let now = ts(10_000.0);
    let id = s.create_run(&new_run("loc", &[])).await.unwrap().run_id;
    for status in [RunStatus::Starting, RunStatus::Started] {
        s.set_run_status(&id, status, now.add_secs_f64(-100.0))
            .await
            .unwrap();
    }
    let worker = Worker {
        pid: 1,
        hostname: format!("{here}-other-host"),
    };
    s.record_heartbeat(&id, &worker, now.add_secs_f64(-120.0))
        .await
        .unwrap();
    let policy = OrphanPolicy {
        heartbeat_timeout: 60.0,
        now,
        hostname: here,
    };

    // Another writer takes the run's lock and records a fresh heartbeat, not yet committed.
    let mut holder = db.raw_connection().await;
    let mut watcher = db.raw_connection().await;
    holder.begin_write().await;
    if matches!(holder, crate::fixture::RawConn::Postgres(_)) {
        // What `record_heartbeat` locks on PostgreSQL.
        holder
            .exec(&format!(
                "SELECT 1 FROM runs WHERE run_id = '{id}' FOR UPDATE"
            ))
            .await;
    }
    holder
        .exec(&format!(
            "UPDATE dg_run_workers SET heartbeat_at = {} WHERE run_id = '{id}'",
            now.add_secs_f64(-1.0).as_secs_f64()
        ))
        .await;
    let monitor = tokio::spawn({
        let s = s.clone();
        async move { s.mark_orphaned_runs_failed(&policy).await }
    });
    TestDb::wait_for_lock_waiter(&mut watcher).await;
    holder.exec("COMMIT").await;

    let marked = monitor.await.unwrap().unwrap();
    assert_eq!(marked, Vec::<String>::new(), "a run with a fresh heartbeat");
    let run = s.get_run(&id).await.unwrap().unwrap();
    assert_eq!(run.status, RunStatus::Started);
    assert_eq!(run.heartbeat_at, Some(now.add_secs_f64(-1.0)));
    let events = all_events(s.as_ref(), &id).await;
    assert!(events.is_empty(), "no failure recorded: {events:?}");
    db
}
