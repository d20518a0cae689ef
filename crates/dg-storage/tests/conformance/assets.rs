//! The asset index: latest materialization per asset key and partition, history pages, checks.

use dg_storage::{AssetKey, Event, EventKind, EventRecord, HistoryFilter, SequencedEvent};

use crate::fixture::TestDb;
use crate::util::{new_run, ts};

fn materialization(seq: i64, key: &AssetKey, partition: Option<&str>) -> SequencedEvent {
    SequencedEvent {
        seq,
        event: Event {
            timestamp: ts(1000.0 + seq as f64),
            step_key: Some(key.to_string()),
            kind: EventKind::AssetMaterialization {
                asset_key: key.clone(),
                partition: partition.map(str::to_string),
                metadata: [("seq".to_string(), serde_json::json!(seq))].into(),
            },
        },
        dagster_json: None,
    }
}

fn seq_of(r: &Option<EventRecord>) -> Option<i64> {
    r.as_ref().and_then(|r| r.seq)
}

pub async fn latest_materialization_by_partition(db: TestDb) -> TestDb {
    let s = db.open().await;
    let daily = AssetKey(vec!["raw".into(), "daily".into()]);
    let plain = AssetKey::from_user_string("summary");
    let run1 = s.create_run(&new_run("loc", &[])).await.unwrap().run_id;
    let run2 = s.create_run(&new_run("loc", &[])).await.unwrap().run_id;
    s.append_events(
        &run1,
        &[
            materialization(1, &daily, Some("2024-01-01")),
            materialization(2, &daily, Some("2024-01-02")),
            materialization(3, &plain, None),
        ],
    )
    .await
    .unwrap();
    assert_eq!(
        seq_of(
            &s.latest_materialization(&daily, Some("2024-01-01"))
                .await
                .unwrap()
        ),
        Some(1)
    );
    // A later run rematerializes one partition; the other keeps its event.
    s.append_events(
        &run2,
        &[
            materialization(1, &daily, Some("2024-01-01")),
            materialization(2, &plain, None),
        ],
    )
    .await
    .unwrap();
    let p1 = s
        .latest_materialization(&daily, Some("2024-01-01"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((p1.run_id.as_str(), p1.seq), (run2.as_str(), Some(1)));
    let p2 = s
        .latest_materialization(&daily, Some("2024-01-02"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((p2.run_id.as_str(), p2.seq), (run1.as_str(), Some(2)));
    assert!(s
        .latest_materialization(&daily, Some("2024-01-03"))
        .await
        .unwrap()
        .is_none());
    assert!(
        s.latest_materialization(&daily, None)
            .await
            .unwrap()
            .is_none(),
        "no unpartitioned one"
    );
    let summary = s
        .latest_materialization(&plain, None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(summary.run_id, run2);

    let all = s.latest_materializations(&daily).await.unwrap();
    let partitions: Vec<Option<&str>> = all.iter().map(|r| r.event.kind.partition()).collect();
    assert_eq!(
        partitions,
        vec![Some("2024-01-01"), Some("2024-01-02")],
        "newest first"
    );
    assert_eq!(
        s.materialized_asset_keys().await.unwrap(),
        vec![daily.clone(), plain.clone()]
    );
    // Observations do not count as materializations.
    s.append_events(
        &run2,
        &[SequencedEvent {
            seq: 3,
            event: Event::now(EventKind::AssetObservation {
                asset_key: daily.clone(),
                partition: Some("2024-01-09".into()),
                metadata: Default::default(),
            }),
            dagster_json: None,
        }],
    )
    .await
    .unwrap();
    assert_eq!(s.latest_materializations(&daily).await.unwrap().len(), 2);
    db
}

pub async fn materialization_history_pages(db: TestDb) -> TestDb {
    let s = db.open().await;
    let key = AssetKey::from_user_string("a/b");
    let run = s.create_run(&new_run("loc", &[])).await.unwrap().run_id;
    let batch: Vec<SequencedEvent> = (1..=10)
        .map(|i| materialization(i, &key, Some(if i % 2 == 0 { "even" } else { "odd" })))
        .collect();
    s.append_events(&run, &batch).await.unwrap();
    let seqs = |records: Vec<EventRecord>| records.iter().filter_map(|r| r.seq).collect::<Vec<_>>();
    let first = s
        .materialization_history(
            &key,
            &HistoryFilter {
                limit: Some(4),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let before = first.last().map(|r| r.storage_id);
    assert_eq!(seqs(first), vec![10, 9, 8, 7]);
    let next = HistoryFilter {
        limit: Some(4),
        before,
        ..Default::default()
    };
    assert_eq!(
        seqs(s.materialization_history(&key, &next).await.unwrap()),
        vec![6, 5, 4, 3]
    );
    let even = HistoryFilter {
        partition: Some("even".into()),
        ..Default::default()
    };
    assert_eq!(
        seqs(s.materialization_history(&key, &even).await.unwrap()),
        vec![10, 8, 6, 4, 2]
    );
    let other = AssetKey::from_user_string("a");
    assert!(s
        .materialization_history(&other, &HistoryFilter::default())
        .await
        .unwrap()
        .is_empty());
    db
}

pub async fn asset_check_results(db: TestDb) -> TestDb {
    // As in Dagster, a run has one result per check (its `asset_check_executions` row): a check
    // evaluated again runs again in another run.
    let s = db.open().await;
    let key = AssetKey::from_user_string("orders");
    let run = s.create_run(&new_run("loc", &[])).await.unwrap().run_id;
    let rerun = s.create_run(&new_run("loc", &[])).await.unwrap().run_id;
    let check = |seq: i64, name: &str, passed: bool| SequencedEvent {
        seq,
        event: Event::now(EventKind::AssetCheckEvaluation {
            asset_key: key.clone(),
            check_name: name.into(),
            passed,
            severity: Some("ERROR".into()),
            partition: None,
            metadata: Default::default(),
        }),
        dagster_json: None,
    };
    s.append_events(
        &run,
        &[check(1, "not_null", true), check(2, "fresh", false)],
    )
    .await
    .unwrap();
    s.append_events(&rerun, &[check(1, "not_null", false)])
        .await
        .unwrap();
    let not_null = s
        .asset_check_results(&key, Some("not_null"), 10)
        .await
        .unwrap();
    let passed: Vec<bool> = not_null
        .iter()
        .map(|r| {
            matches!(
                r.event.kind,
                EventKind::AssetCheckEvaluation { passed: true, .. }
            )
        })
        .collect();
    assert_eq!(passed, vec![false, true], "newest first");
    let runs: Vec<&str> = not_null.iter().map(|r| r.run_id.as_str()).collect();
    assert_eq!(runs, vec![rerun.as_str(), run.as_str()]);
    assert_eq!(not_null[0].seq, Some(1));
    assert_eq!(
        s.asset_check_results(&key, None, 10).await.unwrap().len(),
        3
    );
    assert_eq!(s.asset_check_results(&key, None, 1).await.unwrap().len(), 1);
    db
}
