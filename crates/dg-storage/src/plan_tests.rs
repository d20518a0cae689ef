use super::*;
use crate::dagster::serdes::tests::samples;
use crate::event::{AssetKey, Event, EventKind, LogLevel, SequencedEvent};

fn at(secs: f64) -> Timestamp {
    Timestamp::from_secs_f64(secs)
}

fn typed(kind: EventKind, step: Option<&str>) -> SequencedEvent {
    SequencedEvent::new(
        1,
        Event {
            timestamp: at(1_796_455_186.372_27),
            step_key: step.map(Into::into),
            kind,
        },
    )
}

#[test]
fn output_has_no_row() {
    let out = typed(EventKind::Stdout { text: "hi".into() }, Some("a"));
    assert_eq!(plan_sequenced("r", "j", &out).unwrap(), None);
    let err = typed(EventKind::Stderr { text: "hi".into() }, Some("a"));
    assert_eq!(plan_sequenced("r", "j", &err).unwrap(), None);
}

#[test]
fn a_typed_materialization_fills_the_columns_and_the_index() {
    let event = typed(
        EventKind::AssetMaterialization {
            asset_key: AssetKey::new(["team", "raw"]),
            partition: Some("2024-01-01".into()),
            metadata: Default::default(),
        },
        Some("team__raw"),
    );
    let plan = plan_sequenced("run-1", "__ASSET_JOB", &event)
        .unwrap()
        .unwrap();
    assert_eq!(plan.row.run_id, "run-1");
    assert_eq!(
        plan.row.dagster_event_type.as_deref(),
        Some("ASSET_MATERIALIZATION")
    );
    assert_eq!(plan.row.asset_key.as_deref(), Some(r#"["team", "raw"]"#));
    assert_eq!(plan.row.partition.as_deref(), Some("2024-01-01"));
    assert_eq!(plan.row.step_key.as_deref(), Some("team__raw"));
    assert_eq!(plan.row.timestamp, event.event.timestamp);
    assert!(plan.mirror_to_index);
    assert_eq!(plan.asset, Some(AssetUpdate::Materialization));
    assert!(plan.check.is_none());
    assert_eq!(
        plan.row.event,
        crate::dagster::serdes::event_to_dagster_json("run-1", "__ASSET_JOB", &event.event)
            .unwrap()
    );
}

#[test]
fn run_status_events_are_mirrored_and_logs_are_not() {
    let start = plan_sequenced("r", "j", &typed(EventKind::RunStart, None))
        .unwrap()
        .unwrap();
    assert_eq!(
        start.row.dagster_event_type.as_deref(),
        Some("PIPELINE_START")
    );
    assert!(start.mirror_to_index);
    assert!(start.asset.is_none());
    let log = typed(
        EventKind::Log {
            level: LogLevel::Info,
            message: "m".into(),
        },
        Some("s"),
    );
    let log = plan_sequenced("r", "j", &log).unwrap().unwrap();
    assert_eq!(log.row.dagster_event_type, None);
    assert_eq!(log.row.step_key.as_deref(), Some("s"));
    assert!(!log.mirror_to_index);
    let step = plan_sequenced("r", "j", &typed(EventKind::StepStart, Some("s")))
        .unwrap()
        .unwrap();
    assert!(!step.mirror_to_index);
}

#[test]
fn a_check_evaluation_has_no_asset_column_but_updates_the_executions() {
    let event = typed(
        EventKind::AssetCheckEvaluation {
            asset_key: AssetKey::new(["a"]),
            check_name: "ok".into(),
            passed: false,
            severity: None,
            partition: None,
            metadata: Default::default(),
        },
        Some("a_ok"),
    );
    let plan = plan_sequenced("r", "j", &event).unwrap().unwrap();
    assert_eq!(plan.row.asset_key, None);
    assert!(plan.mirror_to_index);
    let check = plan.check.unwrap();
    assert_eq!(check.asset_key, r#"["a"]"#);
    assert_eq!(check.check_name, "ok");
    assert_eq!(check.status, "FAILED");
    assert!(!check.planned);
}

#[test]
fn dagster_text_is_kept_verbatim_with_tags_and_planned_events() {
    // As Dagster 1.13.27 writes a planned materialization and a materialization with a data version.
    let planned = r#"{"__class__": "EventLogEntry", "dagster_event": {"__class__": "DagsterEvent", "event_specific_data": {"__class__": "AssetMaterializationPlannedData", "asset_key": {"__class__": "AssetKey", "path": ["up"]}, "partition": null, "partitions_subset": null}, "event_type_value": "ASSET_MATERIALIZATION_PLANNED", "logging_tags": {}, "message": "", "pid": 1, "pipeline_name": "__ASSET_JOB", "solid_handle": null, "step_handle": null, "step_key": "up", "step_kind_value": null}, "error_info": null, "level": 10, "message": "", "pipeline_name": "__ASSET_JOB", "run_id": "r", "step_key": "up", "timestamp": 1796455186.25, "user_message": ""}"#;
    let plan = plan_dagster_text("r", planned.to_string()).unwrap();
    assert_eq!(plan.row.event, planned);
    assert_eq!(plan.asset, Some(AssetUpdate::Planned));
    assert_eq!(plan.row.asset_key.as_deref(), Some(r#"["up"]"#));
    assert_eq!(plan.row.timestamp, at(1796455186.25));

    let mat = r#"{"__class__": "EventLogEntry", "dagster_event": {"__class__": "DagsterEvent", "event_specific_data": {"__class__": "StepMaterializationData", "asset_lineage": [], "materialization": {"__class__": "AssetMaterialization", "asset_key": {"__class__": "AssetKey", "path": ["up"]}, "description": null, "metadata_entries": [], "partition": null, "tags": {"dagster/code_version": "x", "dagster/data_version": "abc", "dagster/partition/color": "red"}}}, "event_type_value": "ASSET_MATERIALIZATION", "logging_tags": {}, "message": "", "pid": 1, "pipeline_name": "__ASSET_JOB", "solid_handle": null, "step_handle": null, "step_key": "up", "step_kind_value": null}, "error_info": null, "level": 10, "message": "", "pipeline_name": "__ASSET_JOB", "run_id": "r", "step_key": "up", "timestamp": 1796455186.25, "user_message": ""}"#;
    let plan = plan_dagster_text("r", mat.to_string()).unwrap();
    assert_eq!(
        plan.asset_tags,
        vec![
            ("dagster/data_version".to_string(), "abc".to_string()),
            ("dagster/partition/color".to_string(), "red".to_string()),
        ]
    );
    assert_eq!(
        last_materialization_record("{}", 4),
        r#"{"__class__": "EventLogRecord", "event_log_entry": {}, "storage_id": 4}"#
    );
}

#[test]
fn text_that_is_not_an_entry_is_refused() {
    assert!(plan_dagster_text("r", "{}".into()).is_err());
    assert!(plan_dagster_text("r", "nope".into()).is_err());
}

#[test]
fn naive_utc_round_trips_to_the_microsecond() {
    let ts = at(1_796_455_186.867_177);
    let text = naive_utc(ts);
    assert_eq!(text, "2026-12-05 07:19:46.867177");
    // Microseconds, as Dagster keeps them: what `f64` adds below that is dropped.
    assert!(parse_naive_utc(&text).unwrap().secs_since(ts).abs() < 1e-6);
    assert_eq!(
        parse_naive_utc("2026-12-05 07:19:46").unwrap(),
        at(1_796_455_186.0)
    );
    assert_eq!(
        dagster_asset_key(&AssetKey::new(["a", "é"])),
        r#"["a", "\u00e9"]"#
    );
}

#[test]
fn a_typed_plan_equals_the_plan_of_its_text_for_every_kind() {
    let mut events = samples::every_event();
    events.push(Event {
        timestamp: at(1_796_455_186.25),
        step_key: Some("s".into()),
        kind: EventKind::Log {
            level: LogLevel::Warning,
            message: "w".into(),
        },
    });
    for event in events {
        let typed = plan_event("run-9", "job", &event).unwrap().unwrap();
        let text = plan_dagster_text("run-9", typed.row.event.clone()).unwrap();
        assert_eq!(typed, text, "{event:?}");
    }
}
