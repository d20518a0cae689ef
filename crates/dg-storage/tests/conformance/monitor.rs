//! Run monitoring: runs whose worker died (pid gone on this host) or went silent are marked failed,
//! with a `RUN_FAILURE` event saying why; healthy and finished runs are left alone.

use dg_storage::{EventKind, OrphanPolicy, RunStatus, Worker};

use crate::fixture::TestDb;
use crate::util::{all_events, new_run};

pub async fn orphaned_runs_are_marked_failed(db: TestDb) -> TestDb {
    let s = db.open().await;
    let here = dg_storage::this_host();
    let dead_pid = {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        pid
    };
    let now = 10_000.0;
    let make = |status: RunStatus| {
        let s = s.clone();
        async move {
            let id = s.create_run(&new_run("loc", &[])).await.unwrap().run_id;
            s.set_run_status(&id, RunStatus::Starting, now - 100.0)
                .await
                .unwrap();
            if status != RunStatus::Starting {
                s.set_run_status(&id, status, now - 100.0).await.unwrap();
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
        now - 1.0,
    )
    .await
    .unwrap();
    let elsewhere = Worker {
        pid: 1,
        hostname: format!("{here}-other-host"),
    };
    s.record_heartbeat(&silent, &elsewhere, now - 120.0)
        .await
        .unwrap();
    s.record_heartbeat(
        &healthy,
        &Worker {
            pid: std::process::id(),
            hostname: here.clone(),
        },
        now - 1.0,
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
