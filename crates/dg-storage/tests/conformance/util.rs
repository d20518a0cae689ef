//! Builders of runs and events shared by the tests.

use std::collections::BTreeMap;

use dg_storage::{
    Event, EventKind, EventRecord, LogLevel, NewRun, RunStatus, SequencedEvent, Timestamp,
};

/// The time `secs` seconds after the epoch (tests write times as plain numbers).
pub fn ts(secs: f64) -> Timestamp {
    Timestamp::from_secs_f64(secs)
}

pub fn new_run(location: &str, tags: &[(&str, &str)]) -> NewRun {
    NewRun {
        run_id: dg_storage::new_run_id(),
        location: location.into(),
        job_name: "__ASSET_JOB".into(),
        selection: Some("key:a*".into()),
        partition: None,
        config: serde_json::json!({"ops": {"a": {"config": {"n": 1}}}}),
        tags: tags
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<BTreeMap<_, _>>(),
        status: RunStatus::Queued,
        created_at: ts(1_700_000_000.5),
    }
}

/// A `LOG` event whose message names its sequence number.
pub fn log(seq: i64) -> SequencedEvent {
    SequencedEvent {
        seq,
        event: Event {
            timestamp: ts(1_700_000_000.0 + seq as f64),
            step_key: Some("a".into()),
            kind: EventKind::Log {
                level: LogLevel::Info,
                message: format!("event {seq}"),
            },
        },
        dagster_json: None,
    }
}

pub fn logs(range: std::ops::RangeInclusive<i64>) -> Vec<SequencedEvent> {
    range.map(log).collect()
}

/// Checks that `records` are the log events 1..=n, once each, in sequence and storage-id order.
pub fn assert_exactly_once_in_order(records: &[EventRecord], n: i64) {
    let seqs: Vec<i64> = records
        .iter()
        .map(|r| r.seq.expect("worker event"))
        .collect();
    assert_eq!(seqs, (1..=n).collect::<Vec<_>>(), "sequence numbers");
    for pair in records.windows(2) {
        assert!(
            pair[0].storage_id < pair[1].storage_id,
            "storage ids ascend"
        );
    }
    for r in records {
        match &r.event.kind {
            EventKind::Log { message, .. } => {
                assert_eq!(message, &format!("event {}", r.seq.unwrap_or(0)))
            }
            other => panic!("unexpected event {other:?}"),
        }
    }
}

/// Reads all events of a run.
pub async fn all_events(storage: &dyn dg_storage::Storage, run_id: &str) -> Vec<EventRecord> {
    let mut out = Vec::new();
    let mut cursor = None;
    loop {
        let page = storage
            .events_after(run_id, cursor, 1000)
            .await
            .expect("read events");
        let Some(last) = page.last() else { return out };
        cursor = Some(last.storage_id);
        out.extend(page);
    }
}
