//! The event log: typed round trips, exactly-once under retries and concurrent writers (tasks and
//! processes), sequence checks, host events, and live tailing with a cursor.

use std::collections::BTreeMap;
use std::sync::Arc;

use dg_storage::{
    AssetKey, ErrorInfo, Event, EventKind, LogLevel, RunStatus, SequencedEvent, Storage,
    StorageError,
};

use crate::fixture::TestDb;
use crate::util::{all_events, assert_exactly_once_in_order, log, logs, new_run, ts};

fn every_kind() -> Vec<EventKind> {
    let key = AssetKey(vec!["warehouse".into(), "orders".into()]);
    let metadata: BTreeMap<String, serde_json::Value> = [
        ("rows".to_string(), serde_json::json!(12)),
        ("path".to_string(), serde_json::json!("/tmp/x")),
    ]
    .into();
    let error = Some(ErrorInfo {
        message: "boom".into(),
        class_name: Some("ValueError".into()),
        stack: vec!["  File \"a.py\", line 3".into()],
    });
    vec![
        EventKind::RunEnqueued,
        EventKind::RunStarting,
        EventKind::RunStart,
        EventKind::StepStart,
        EventKind::Log {
            level: LogLevel::Warning,
            message: "careful: <b>&</b> 'quotes' \"double\" ünïcödé".into(),
        },
        EventKind::Stdout {
            text: "line 1\nline 2\n".into(),
        },
        EventKind::Stderr {
            text: "oops\n".into(),
        },
        EventKind::AssetMaterialization {
            asset_key: key.clone(),
            partition: Some("2024-01-01".into()),
            metadata: metadata.clone(),
        },
        EventKind::AssetObservation {
            asset_key: key.clone(),
            partition: None,
            metadata: metadata.clone(),
        },
        EventKind::AssetCheckEvaluation {
            asset_key: key,
            check_name: "not_empty".into(),
            passed: false,
            severity: Some("WARN".into()),
            partition: None,
            metadata,
        },
        EventKind::StepSuccess {
            duration_ms: Some(12.5),
        },
        EventKind::StepFailure {
            error: error.clone(),
        },
        EventKind::StepSkipped,
        EventKind::EngineEvent {
            message: "launched".into(),
        },
        EventKind::RunCanceling,
        EventKind::RunCanceled,
        EventKind::RunFailure { error },
        EventKind::RunSuccess,
    ]
}

pub async fn typed_events_round_trip(db: TestDb) -> TestDb {
    let s = db.open().await;
    let id = s.create_run(&new_run("loc", &[])).await.unwrap().run_id;
    let batch: Vec<SequencedEvent> = every_kind()
        .into_iter()
        .enumerate()
        .map(|(i, kind)| SequencedEvent {
            seq: i as i64 + 1,
            event: Event {
                timestamp: ts(100.0 + i as f64 / 8.0),
                step_key: (i % 2 == 0).then(|| "a".into()),
                kind,
            },
            dagster_json: None,
        })
        .collect();
    let ids = s.append_events(&id, &batch).await.unwrap();
    assert_eq!(ids.len(), batch.len());
    // Captured output is not an event in Dagster: it has no row (only its number is kept).
    let is_output = |e: &SequencedEvent| {
        matches!(
            e.event.kind,
            EventKind::Stdout { .. } | EventKind::Stderr { .. }
        )
    };
    for (sent, id) in batch.iter().zip(&ids) {
        assert_eq!(id.is_none(), is_output(sent), "{sent:?}");
    }
    let stored: Vec<&SequencedEvent> = batch.iter().filter(|e| !is_output(e)).collect();
    let records = all_events(s.as_ref(), &id).await;
    assert_eq!(records.len(), stored.len());
    assert_eq!(
        records
            .iter()
            .map(|r| Some(r.storage_id))
            .collect::<Vec<_>>(),
        ids.iter()
            .copied()
            .filter(Option::is_some)
            .collect::<Vec<_>>()
    );
    assert_eq!(s.next_seq(&id).await.unwrap(), batch.len() as i64 + 1);
    for (record, sent) in records.iter().zip(stored) {
        assert_eq!(
            (record.run_id.as_str(), record.seq),
            (id.as_str(), Some(sent.seq))
        );
        assert_eq!(record.event, sent.event);
    }
    // The stored type names are Dagster's.
    let names: Vec<&str> = records.iter().map(|r| r.event.kind.event_type()).collect();
    assert_eq!(&names[..3], ["RUN_ENQUEUED", "RUN_STARTING", "RUN_START"]);
    assert!(names.contains(&"ASSET_MATERIALIZATION") && names.contains(&"ASSET_CHECK_EVALUATION"));
    let json = serde_json::to_value(&records[5].event).unwrap();
    assert_eq!(json["type"], "ASSET_MATERIALIZATION");
    assert_eq!(
        json["asset_key"],
        serde_json::json!(["warehouse", "orders"])
    );
    db
}

pub async fn retried_batches_are_stored_once(db: TestDb) -> TestDb {
    let s = db.open().await;
    let id = s.create_run(&new_run("loc", &[])).await.unwrap().run_id;
    assert_eq!(s.next_seq(&id).await.unwrap(), 1);
    let first = s.append_events(&id, &logs(1..=5)).await.unwrap();
    // The same batch again (its acknowledgement was lost): same ids, nothing new.
    assert_eq!(s.append_events(&id, &logs(1..=5)).await.unwrap(), first);
    // A batch overlapping what is stored: old ids for 3..=5, new ones for 6..=8.
    let overlap = s.append_events(&id, &logs(3..=8)).await.unwrap();
    assert_eq!(&overlap[..3], &first[2..]);
    assert!(overlap[3] > first[4]);
    assert_eq!(
        s.append_events(&id, &[]).await.unwrap(),
        Vec::<Option<i64>>::new()
    );
    assert_eq!(s.next_seq(&id).await.unwrap(), 9);
    assert_exactly_once_in_order(&all_events(s.as_ref(), &id).await, 8);
    db
}

pub async fn bad_sequences_are_refused(db: TestDb) -> TestDb {
    let s = db.open().await;
    let id = s.create_run(&new_run("loc", &[])).await.unwrap().run_id;
    s.append_events(&id, &logs(1..=3)).await.unwrap();
    let gap = s.append_events(&id, &logs(5..=6)).await.unwrap_err();
    assert!(
        matches!(&gap, StorageError::BadSequence { message, .. } if message.contains("next expected number is 4")),
        "{gap:?}"
    );
    let unordered = s.append_events(&id, &[log(4), log(6)]).await.unwrap_err();
    assert!(
        matches!(unordered, StorageError::BadSequence { .. }),
        "{unordered:?}"
    );
    let zero = s.append_events(&id, &[log(0)]).await.unwrap_err();
    assert!(matches!(zero, StorageError::BadSequence { .. }), "{zero:?}");
    let missing = s
        .append_events("no-such-run", &logs(1..=1))
        .await
        .unwrap_err();
    assert!(
        matches!(missing, StorageError::RunNotFound { .. }),
        "{missing:?}"
    );
    // Nothing of the refused batches was stored.
    assert_exactly_once_in_order(&all_events(s.as_ref(), &id).await, 3);
    db
}

pub async fn host_events_do_not_collide(db: TestDb) -> TestDb {
    let s = db.open().await;
    let id = s.create_run(&new_run("loc", &[])).await.unwrap().run_id;
    s.append_events(&id, &logs(1..=2)).await.unwrap();
    let host = s
        .append_host_event(
            &id,
            &Event::now(EventKind::EngineEvent {
                message: "host says hi".into(),
            }),
        )
        .await
        .unwrap();
    let later = s.append_events(&id, &logs(3..=4)).await.unwrap();
    assert!(later[0].unwrap() > host);
    let records = all_events(s.as_ref(), &id).await;
    let seqs: Vec<Option<i64>> = records.iter().map(|r| r.seq).collect();
    assert_eq!(seqs, vec![Some(1), Some(2), None, Some(3), Some(4)]);
    assert_eq!(s.next_seq(&id).await.unwrap(), 5);
    db
}

pub async fn cursor_tailing_sees_each_event_once(db: TestDb) -> TestDb {
    let writer = db.open().await;
    let reader = db.open().await;
    let id = writer
        .create_run(&new_run("loc", &[]))
        .await
        .unwrap()
        .run_id;
    let total = 300;
    let w = {
        let (writer, id) = (writer.clone(), id.clone());
        tokio::spawn(async move {
            for start in (1..=total).step_by(7) {
                writer
                    .append_events(&id, &logs(start..=(start + 6).min(total)))
                    .await
                    .unwrap();
                tokio::task::yield_now().await;
            }
        })
    };
    let mut seen = Vec::new();
    let mut cursor = None;
    while seen.len() < total as usize {
        let page = reader.events_after(&id, cursor, 50).await.unwrap();
        if let Some(last) = page.last() {
            cursor = Some(last.storage_id);
        } else {
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
        seen.extend(page);
    }
    w.await.unwrap();
    assert!(reader
        .events_after(&id, cursor, 50)
        .await
        .unwrap()
        .is_empty());
    assert_exactly_once_in_order(&seen, total);
    db
}

pub async fn concurrent_tasks_store_each_event_once_in_order(db: TestDb) -> TestDb {
    let setup = db.open().await;
    let shared = setup.create_run(&new_run("loc", &[])).await.unwrap().run_id;
    let own: Vec<String> = started_runs(&setup, 2).await;
    let total = 400;
    let mut tasks = Vec::new();
    // Two writers (separate pools, like separate hosts of one worker's retries) race on one run,
    // each writing every event; and each also fills a run of its own.
    for (writer, batch) in [(0usize, 9i64), (1, 13)] {
        let s = db.open().await;
        let (shared, mine) = (shared.clone(), own[writer].clone());
        tasks.push(tokio::spawn(async move {
            let mut start = 1;
            while start <= total {
                let end = (start + batch - 1).min(total);
                s.append_events(&shared, &logs(start..=end)).await.unwrap();
                s.append_events(&mine, &logs(start..=end)).await.unwrap();
                start = end + 1;
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    for run in std::iter::once(&shared).chain(&own) {
        assert_exactly_once_in_order(&all_events(setup.as_ref(), run).await, total);
    }
    db
}

async fn started_runs(s: &Arc<dyn Storage>, n: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for _ in 0..n {
        let run = s.create_run(&new_run("loc", &[])).await.unwrap();
        s.set_run_status(&run.run_id, RunStatus::Started, ts(1.0))
            .await
            .unwrap();
        ids.push(run.run_id);
    }
    ids
}

pub async fn concurrent_processes_store_each_event_once_in_order(db: TestDb) -> TestDb {
    let s = db.open().await;
    let shared = s.create_run(&new_run("loc", &[])).await.unwrap().run_id;
    let other = s.create_run(&new_run("loc", &[])).await.unwrap().run_id;
    let total = 500;
    let children = vec![
        crate::child::spawn(&db, &shared, total, 11, 0),
        crate::child::spawn(&db, &shared, total, 17, 0),
        crate::child::spawn(&db, &other, total, 5, 0),
    ];
    for mut child in children {
        let status = tokio::task::spawn_blocking(move || child.wait())
            .await
            .unwrap()
            .unwrap();
        assert!(status.success(), "child writer failed: {status}");
    }
    assert_exactly_once_in_order(&all_events(s.as_ref(), &shared).await, total);
    assert_exactly_once_in_order(&all_events(s.as_ref(), &other).await, total);
    db
}

pub async fn a_killed_writer_loses_no_acknowledged_event(db: TestDb) -> TestDb {
    let s = db.open().await;
    let run = s.create_run(&new_run("loc", &[])).await.unwrap().run_id;
    let (total, batch) = (20_000, 50);
    let mut child = crate::child::spawn(&db, &run, total, batch, 5);
    // Kill the writer (SIGKILL) once it is well under way.
    while s.next_seq(&run).await.unwrap() <= 200 {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    child.kill().unwrap();
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(!status.success());
    // Only whole batches were stored: each is one transaction.
    let stored = s.next_seq(&run).await.unwrap() - 1;
    assert_eq!(
        stored % batch,
        0,
        "a partial batch was stored ({stored} events)"
    );
    assert_exactly_once_in_order(&all_events(s.as_ref(), &run).await, stored);
    // A restarted writer that resends everything from the start completes the run exactly once.
    let mut again = crate::child::spawn(&db, &run, total, batch, 0);
    let status = tokio::task::spawn_blocking(move || again.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success());
    assert_exactly_once_in_order(&all_events(s.as_ref(), &run).await, total);
    db
}

pub async fn resent_host_events_are_stored_once(db: TestDb) -> TestDb {
    let s = db.open().await;
    let id = s.create_run(&new_run("loc", &[])).await.unwrap().run_id;
    let event = Event::now(EventKind::EngineEvent {
        message: "host says hi".into(),
    });
    let first = s.append_host_event(&id, &event).await.unwrap();
    // A resend (the first acknowledgement was lost) is the same event.
    let again = s.append_host_event(&id, &event).await.unwrap();
    assert_eq!(first, again);
    // The same words at another moment, or another message, are other events.
    let later = Event {
        timestamp: event.timestamp.add_secs_f64(0.001),
        ..event.clone()
    };
    let other = Event {
        kind: EventKind::EngineEvent {
            message: "host says bye".into(),
        },
        ..event.clone()
    };
    let later_id = s.append_host_event(&id, &later).await.unwrap();
    let other_id = s.append_host_event(&id, &other).await.unwrap();
    assert!(first < later_id && later_id < other_id);
    let records = all_events(s.as_ref(), &id).await;
    let ids: Vec<i64> = records.iter().map(|r| r.storage_id).collect();
    assert_eq!(ids, vec![first, later_id, other_id]);
    db
}

/// An event the worker's Dagster serialised is stored as that very text (any Dagster event type,
/// as itself), an event without one as `dagster::serdes` writes it, and captured output only as
/// its number.
pub async fn dagster_text_is_stored_as_itself(db: TestDb) -> TestDb {
    let s = db.open().await;
    let id = s.create_run(&new_run("loc", &[])).await.unwrap().run_id;
    let output = format!(
        r#"{{"__class__": "EventLogEntry", "dagster_event": {{"__class__": "DagsterEvent", "event_specific_data": {{"__class__": "StepOutputData", "metadata_entries": [], "step_output_handle": {{"__class__": "StepOutputHandle", "mapping_key": null, "output_name": "result", "step_key": "up"}}, "type_check_data": null, "version": null}}, "event_type_value": "STEP_OUTPUT", "logging_tags": {{}}, "message": "Yielded output \"result\" of type \"Any\".", "pid": 7, "pipeline_name": "__ASSET_JOB", "solid_handle": null, "step_handle": null, "step_key": "up", "step_kind_value": "COMPUTE"}}, "error_info": null, "level": 10, "message": "", "pipeline_name": "__ASSET_JOB", "run_id": "{id}", "step_key": "up", "timestamp": 1700000001.25, "user_message": "Yielded output \"result\" of type \"Any\"."}}"#
    );
    let typed = dg_storage::dagster::serdes::event_from_dagster_json(&output).unwrap();
    let batch = vec![
        SequencedEvent {
            seq: 1,
            event: typed.clone(),
            dagster_json: Some(output.clone()),
        },
        SequencedEvent::new(
            2,
            Event {
                timestamp: ts(1_700_000_002.0),
                step_key: Some("up".into()),
                kind: EventKind::Stdout {
                    text: "hello\n".into(),
                },
            },
        ),
        log(3),
    ];
    let ids = s.append_events(&id, &batch).await.unwrap();
    assert!(
        ids[0].is_some() && ids[1].is_none() && ids[2].is_some(),
        "{ids:?}"
    );
    // Resending the batch changes nothing, the output's number included.
    assert_eq!(s.append_events(&id, &batch).await.unwrap(), ids);
    assert_eq!(s.next_seq(&id).await.unwrap(), 4);
    let records = all_events(s.as_ref(), &id).await;
    assert_eq!(records.len(), 2);
    assert_eq!((records[0].seq, &records[0].event), (Some(1), &typed));
    assert_eq!(records[1].seq, Some(3));

    // A planned materialization, as Dagster writes it: stored as itself, and `asset_keys` gets the
    // run (not a last materialization), as Dagster's `_store_asset_event` does.
    let planned = format!(
        r#"{{"__class__": "EventLogEntry", "dagster_event": {{"__class__": "DagsterEvent", "event_specific_data": {{"__class__": "AssetMaterializationPlannedData", "asset_key": {{"__class__": "AssetKey", "path": ["planned_only"]}}, "partition": null, "partitions_subset": null}}, "event_type_value": "ASSET_MATERIALIZATION_PLANNED", "logging_tags": {{}}, "message": "", "pid": 7, "pipeline_name": "__ASSET_JOB", "solid_handle": null, "step_handle": null, "step_key": "planned_only", "step_kind_value": null}}, "error_info": null, "level": 10, "message": "", "pipeline_name": "__ASSET_JOB", "run_id": "{id}", "step_key": "planned_only", "timestamp": 1700000004.5, "user_message": ""}}"#
    );
    let typed = dg_storage::dagster::serdes::event_from_dagster_json(&planned).unwrap();
    let plan_event = SequencedEvent {
        seq: 4,
        event: typed,
        dagster_json: Some(planned.clone()),
    };
    s.append_events(&id, &[plan_event]).await.unwrap();
    assert_eq!(
        db.asset_key_row(r#"["planned_only"]"#).await,
        Some((Some(id.clone()), None))
    );
    assert!(
        s.materialized_asset_keys().await.unwrap().is_empty(),
        "a plan is not a materialization"
    );

    let texts = db.event_texts(&id).await;
    assert_eq!(texts.len(), 3);
    assert_eq!(
        texts[2],
        (Some("ASSET_MATERIALIZATION_PLANNED".to_string()), planned)
    );
    assert_eq!(texts[0], (Some("STEP_OUTPUT".to_string()), output));
    let expected =
        dg_storage::dagster::serdes::event_to_dagster_json(&id, "__ASSET_JOB", &log(3).event)
            .unwrap();
    assert_eq!(texts[1], (None, expected));
    db
}
