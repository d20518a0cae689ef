//! Runs: creating, reading, listing with filters and pages, status changes, heartbeats.

use dg_storage::{RunFilter, RunStatus, StorageError, Worker};

use crate::fixture::TestDb;
use crate::util::{new_run, ts};

pub async fn create_get_and_list(db: TestDb) -> TestDb {
    let s = db.open().await;
    let new = new_run("loc_a", &[("team", "data"), ("dagster/priority", "5")]);
    let run = s.create_run(&new).await.unwrap();
    assert_eq!(run.run_id, new.run_id);
    assert_eq!(run.location, "loc_a");
    assert_eq!(run.selection.as_deref(), Some("key:a*"));
    assert_eq!(run.config, new.config);
    assert_eq!(run.tags, new.tags);
    assert_eq!(run.status, RunStatus::Queued);
    assert_eq!(
        (run.created_at, run.updated_at),
        (new.created_at, new.created_at)
    );
    assert_eq!(
        (run.started_at, run.ended_at, run.worker.clone()),
        (None, None, None)
    );
    assert_eq!(s.get_run(&new.run_id).await.unwrap(), Some(run.clone()));
    assert_eq!(s.get_run("no-such-run").await.unwrap(), None);
    assert_eq!(s.list_runs(&RunFilter::default()).await.unwrap(), vec![run]);

    let err = s.create_run(&new).await.unwrap_err();
    assert!(matches!(err, StorageError::RunExists { .. }), "{err:?}");

    // A partitioned run: the partition is Dagster's tag, read back as the partition.
    let mut parted = new_run("loc_a", &[("team", "data")]);
    parted.partition = Some("2024-01-01".into());
    let run = s.create_run(&parted).await.unwrap();
    assert_eq!(run.partition.as_deref(), Some("2024-01-01"));
    assert_eq!(run.tags, parted.tags);
    db
}

pub async fn list_filters_and_pages(db: TestDb) -> TestDb {
    let s = db.open().await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let loc = if i % 2 == 0 { "even" } else { "odd" };
        let parity = if i < 3 { "low" } else { "high" };
        let run = s
            .create_run(&new_run(loc, &[("band", parity), ("n", &i.to_string())]))
            .await
            .unwrap();
        ids.push(run.run_id);
    }
    s.set_run_status(&ids[1], RunStatus::Started, ts(2.0))
        .await
        .unwrap();
    s.set_run_status(&ids[3], RunStatus::Started, ts(2.0))
        .await
        .unwrap();
    let list = |f: RunFilter| {
        let s = s.clone();
        async move {
            s.list_runs(&f)
                .await
                .unwrap()
                .into_iter()
                .map(|r| r.run_id)
                .collect::<Vec<_>>()
        }
    };
    let newest_first: Vec<String> = ids.iter().rev().cloned().collect();
    assert_eq!(list(RunFilter::default()).await, newest_first);
    let by_status = list(RunFilter {
        statuses: vec![RunStatus::Started],
        ..Default::default()
    })
    .await;
    assert_eq!(by_status, vec![ids[3].clone(), ids[1].clone()]);
    let two_statuses = RunFilter {
        statuses: vec![RunStatus::Started, RunStatus::Queued],
        ..Default::default()
    };
    assert_eq!(list(two_statuses).await.len(), 5);
    let by_loc = list(RunFilter {
        location: Some("even".into()),
        ..Default::default()
    })
    .await;
    assert_eq!(by_loc, vec![ids[4].clone(), ids[2].clone(), ids[0].clone()]);
    let by_tags = RunFilter {
        tags: vec![("band".into(), "low".into()), ("n".into(), "1".into())],
        ..Default::default()
    };
    assert_eq!(list(by_tags).await, vec![ids[1].clone()]);
    let combined = RunFilter {
        location: Some("even".into()),
        tags: vec![("band".into(), "high".into())],
        ..Default::default()
    };
    assert_eq!(list(combined).await, vec![ids[4].clone()]);

    // Pages of two, following the cursor.
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = list(RunFilter {
            limit: Some(2),
            cursor: cursor.clone(),
            ..Default::default()
        })
        .await;
        if page.is_empty() {
            break;
        }
        assert!(page.len() <= 2);
        cursor = page.last().cloned();
        seen.extend(page);
    }
    assert_eq!(seen, newest_first);
    db
}

pub async fn status_transitions(db: TestDb) -> TestDb {
    let s = db.open().await;
    let id = s.create_run(&new_run("loc", &[])).await.unwrap().run_id;
    let run = s
        .set_run_status(&id, RunStatus::Starting, ts(10.0))
        .await
        .unwrap();
    assert_eq!(
        (run.status, run.updated_at, run.started_at),
        (RunStatus::Starting, ts(10.0), None)
    );
    let run = s
        .set_run_status(&id, RunStatus::Started, ts(11.0))
        .await
        .unwrap();
    assert_eq!(
        (run.status, run.started_at, run.ended_at),
        (RunStatus::Started, Some(ts(11.0)), None)
    );
    // Setting the same status again changes nothing.
    let again = s
        .set_run_status(&id, RunStatus::Started, ts(12.0))
        .await
        .unwrap();
    assert_eq!(again, run);
    let run = s
        .set_run_status(&id, RunStatus::Canceling, ts(13.0))
        .await
        .unwrap();
    assert_eq!(
        (run.status, run.started_at),
        (RunStatus::Canceling, Some(ts(11.0)))
    );
    let run = s
        .set_run_status(&id, RunStatus::Canceled, ts(14.0))
        .await
        .unwrap();
    assert_eq!(
        (run.status, run.ended_at, run.updated_at),
        (RunStatus::Canceled, Some(ts(14.0)), ts(14.0))
    );

    let err = s
        .set_run_status(&id, RunStatus::Success, ts(15.0))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StorageError::RunFinished { current, requested, .. } if current == "CANCELED" && requested == "SUCCESS"),
        "{err:?}"
    );
    assert_eq!(
        s.get_run(&id).await.unwrap().unwrap().status,
        RunStatus::Canceled
    );
    let err = s
        .set_run_status("missing", RunStatus::Started, ts(1.0))
        .await
        .unwrap_err();
    assert!(matches!(err, StorageError::RunNotFound { .. }), "{err:?}");

    for terminal in [RunStatus::Success, RunStatus::Failure] {
        let id = s.create_run(&new_run("loc", &[])).await.unwrap().run_id;
        s.set_run_status(&id, RunStatus::Started, ts(1.0))
            .await
            .unwrap();
        let run = s.set_run_status(&id, terminal, ts(2.0)).await.unwrap();
        assert_eq!((run.status, run.ended_at), (terminal, Some(ts(2.0))));
    }
    db
}

pub async fn heartbeats(db: TestDb) -> TestDb {
    let s = db.open().await;
    let id = s.create_run(&new_run("loc", &[])).await.unwrap().run_id;
    let worker = Worker {
        pid: 4242,
        hostname: "host-a".into(),
    };
    s.record_heartbeat(&id, &worker, ts(50.0)).await.unwrap();
    s.record_heartbeat(&id, &worker, ts(60.0)).await.unwrap();
    let run = s.get_run(&id).await.unwrap().unwrap();
    assert_eq!(
        (run.worker, run.heartbeat_at),
        (Some(worker.clone()), Some(ts(60.0)))
    );
    let err = s
        .record_heartbeat("missing", &worker, ts(1.0))
        .await
        .unwrap_err();
    assert!(matches!(err, StorageError::RunNotFound { .. }), "{err:?}");
    db
}
