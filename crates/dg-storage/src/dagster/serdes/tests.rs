//! Unit tests of the Dagster serialisation: shapes of what we write, round trips through our
//! own reader, and rows copied from real Dagster 1.13.27 (`docs/dagster-instance-format.md`).

use std::collections::BTreeMap;

use super::*;

const RUN: &str = "a58b522f-0000-4000-8000-000000000000";
const JOB: &str = "__ASSET_JOB";

#[path = "samples.rs"]
pub(crate) mod samples;
use samples::{at, event, every_event};

#[test]
fn every_kind_round_trips() {
    for event in every_event() {
        let json = event_to_dagster_json(RUN, JOB, &event).expect("has a Dagster form");
        let entry = parse_dagster_entry(&json).unwrap_or_else(|e| panic!("{e}: {json}"));
        assert_eq!(entry.event, event, "{json}");
        assert_eq!(entry.run_id, RUN);
        assert_eq!(entry.job_name.as_deref(), Some(JOB));
        assert_eq!(
            entry.dagster_event_type.as_deref(),
            dagster_event_type(&event.kind)
        );
    }
}

#[test]
fn stdout_and_stderr_have_no_event() {
    for kind in [
        EventKind::Stdout { text: "x".into() },
        EventKind::Stderr { text: "y".into() },
    ] {
        assert_eq!(event_to_dagster_json(RUN, JOB, &event(None, kind)), None);
    }
}

#[test]
fn run_start_is_dagster_byte_for_byte() {
    // The `PIPELINE_START` row of the doc, with `pid` null (we do not know the worker's pid there).
    let json = event_to_dagster_json(RUN, JOB, &event(None, EventKind::RunStart)).unwrap();
    let want = format!(
        r#"{{"__class__": "EventLogEntry", "dagster_event": {{"__class__": "DagsterEvent", "event_specific_data": null, "event_type_value": "PIPELINE_START", "logging_tags": {{}}, "message": "Started execution of run for \"{JOB}\".", "pid": null, "pipeline_name": "{JOB}", "solid_handle": null, "step_handle": null, "step_key": null, "step_kind_value": null}}, "error_info": null, "level": 10, "message": "", "pipeline_name": "{JOB}", "run_id": "{RUN}", "step_key": null, "timestamp": 1796455186.37227, "user_message": "Started execution of run for \"{JOB}\"."}}"#
    );
    assert_eq!(json, want);
}

#[test]
fn log_message_is_dagster_byte_for_byte() {
    let e = Event {
        timestamp: at(1_796_455_195.346_924),
        step_key: Some("downstream".into()),
        kind: EventKind::Log {
            level: LogLevel::Info,
            message: "downstream got [1, 2, 3]".into(),
        },
    };
    let want = format!(
        r#"{{"__class__": "EventLogEntry", "dagster_event": null, "error_info": null, "level": 20, "message": "", "pipeline_name": "{JOB}", "run_id": "{RUN}", "step_key": "downstream", "timestamp": 1796455195.346924, "user_message": "downstream got [1, 2, 3]"}}"#
    );
    assert_eq!(event_to_dagster_json(RUN, JOB, &e).unwrap(), want);
}

#[test]
fn step_events_carry_handles_and_tags() {
    let json = event_to_dagster_json(RUN, JOB, &event(Some("g.op"), EventKind::StepStart)).unwrap();
    let v = PyValue::parse(&json).unwrap();
    let de = v.get("dagster_event").unwrap();
    assert_eq!(
        de.get("solid_handle").unwrap().to_python_json(),
        r#"{"__class__": "SolidHandle", "name": "op", "parent": {"__class__": "SolidHandle", "name": "g", "parent": null}}"#
    );
    assert_eq!(de.get("step_kind_value").unwrap(), &PyValue::str("COMPUTE"));
    assert_eq!(
        de.get("logging_tags").unwrap().get("op_name").unwrap(),
        &PyValue::str("op")
    );
}

#[test]
fn metadata_entries_are_typed() {
    let metadata: Metadata = [
        ("rows", serde_json::json!(3)),
        ("score", serde_json::json!(0.5)),
        ("note", serde_json::json!("é ok")),
        ("flag", serde_json::json!(true)),
        ("none", serde_json::Value::Null),
        ("json", serde_json::json!({"k": [1, "x"]})),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let e = &event(
        Some("raw"),
        EventKind::AssetMaterialization {
            asset_key: AssetKey::new(["team", "raw"]),
            partition: None,
            metadata,
        },
    );
    let json = event_to_dagster_json(RUN, JOB, e).unwrap();
    for part in [
        r#""entry_data": {"__class__": "IntMetadataEntryData", "value": 3}, "label": "rows""#,
        r#""entry_data": {"__class__": "FloatMetadataEntryData", "value": 0.5}, "label": "score""#,
        r#""entry_data": {"__class__": "TextMetadataEntryData", "text": "\u00e9 ok"}, "label": "note""#,
        r#""entry_data": {"__class__": "BoolMetadataEntryData", "value": true}, "label": "flag""#,
        r#""entry_data": {"__class__": "NullMetadataEntryData"}, "label": "none""#,
        r#""entry_data": {"__class__": "JsonMetadataEntryData", "data": {"k": [1, "x"]}}, "label": "json""#,
    ] {
        assert!(json.contains(part), "{part} in {json}");
    }
}

/// Rows as real Dagster 1.13.27 wrote them (shortened where noted).
const DAGSTER_MATERIALIZATION: &str = r#"{"__class__": "EventLogEntry", "dagster_event": {"__class__": "DagsterEvent", "event_specific_data": {"__class__": "StepMaterializationData", "asset_lineage": [], "materialization": {"__class__": "AssetMaterialization", "asset_key": {"__class__": "AssetKey", "path": ["up"]}, "description": null, "metadata_entries": [{"__class__": "EventMetadataEntry", "description": null, "entry_data": {"__class__": "IntMetadataEntryData", "value": 1}, "label": "n"}, {"__class__": "EventMetadataEntry", "description": null, "entry_data": {"__class__": "FloatMetadataEntryData", "value": NaN}, "label": "f"}, {"__class__": "EventMetadataEntry", "description": null, "entry_data": {"__class__": "TextMetadataEntryData", "text": "x"}, "label": "s"}, {"__class__": "EventMetadataEntry", "description": null, "entry_data": {"__class__": "PathMetadataEntryData", "path": "/a"}, "label": "p"}, {"__class__": "EventMetadataEntry", "description": null, "entry_data": {"__class__": "JsonMetadataEntryData", "data": {"k": [1]}}, "label": "j"}], "partition": null, "tags": {"dagster/code_version": "e47e18b5-07be-4b7b-8329-d945c75c6ad4", "dagster/data_version": "c8d2"}}}, "event_type_value": "ASSET_MATERIALIZATION", "logging_tags": {"job_name": "__ephemeral_asset_job__", "op_name": "up", "resource_fn_name": "None", "resource_name": "None", "run_id": "e47e18b5-07be-4b7b-8329-d945c75c6ad4", "step_key": "up"}, "message": "Materialized value up.", "pid": 15052, "pipeline_name": "__ephemeral_asset_job__", "solid_handle": {"__class__": "SolidHandle", "name": "up", "parent": null}, "step_handle": {"__class__": "StepHandle", "key": "up", "solid_handle": {"__class__": "SolidHandle", "name": "up", "parent": null}}, "step_key": "up", "step_kind_value": "COMPUTE"}, "error_info": null, "level": 10, "message": "", "pipeline_name": "__ephemeral_asset_job__", "run_id": "e47e18b5-07be-4b7b-8329-d945c75c6ad4", "step_key": "up", "timestamp": 1796459224.7120225, "user_message": "Materialized value up."}"#;

const DAGSTER_STEP_OUTPUT: &str = r#"{"__class__": "EventLogEntry", "dagster_event": {"__class__": "DagsterEvent", "event_specific_data": {"__class__": "StepOutputData", "metadata_entries": [], "step_output_handle": {"__class__": "StepOutputHandle", "mapping_key": null, "output_name": "result", "step_key": "up_chk"}, "type_check_data": {"__class__": "TypeCheckData", "description": null, "label": "result", "metadata_entries": [], "success": true}, "version": null}, "event_type_value": "STEP_OUTPUT", "logging_tags": {}, "message": "Yielded output \"result\" of type \"Any\". (Type check passed).", "pid": 15052, "pipeline_name": "__ephemeral_asset_job__", "solid_handle": null, "step_handle": null, "step_key": "up_chk", "step_kind_value": "COMPUTE"}, "error_info": null, "level": 10, "message": "", "pipeline_name": "__ephemeral_asset_job__", "run_id": "e47e", "step_key": "up_chk", "timestamp": 1796459224.7232127, "user_message": "Yielded output \"result\" of type \"Any\". (Type check passed)."}"#;

const DAGSTER_STEP_FAILURE: &str = r#"{"__class__": "EventLogEntry", "dagster_event": {"__class__": "DagsterEvent", "event_specific_data": {"__class__": "StepFailureData", "error": {"__class__": "SerializableErrorInfo", "cause": {"__class__": "SerializableErrorInfo", "cause": null, "cls_name": "ValueError", "context": null, "message": "ValueError: kaboom\n", "stack": ["  File \"/tmp/r14s/gen.py\", line 13, in bad\n    raise ValueError(\"kaboom\")\n"]}, "cls_name": "DagsterExecutionStepExecutionError", "context": null, "message": "dagster._core.errors.DagsterExecutionStepExecutionError: Error occurred while executing op \"bad\":\n", "stack": []}, "error_source": {"__enum__": "ErrorSource.USER_CODE_ERROR"}, "user_failure_data": null}, "event_type_value": "STEP_FAILURE", "logging_tags": {}, "message": "Execution of step \"bad\" failed.", "pid": 15052, "pipeline_name": "__ephemeral_asset_job__", "solid_handle": null, "step_handle": null, "step_key": "bad", "step_kind_value": "COMPUTE"}, "error_info": null, "level": 40, "message": "", "pipeline_name": "__ephemeral_asset_job__", "run_id": "49d5", "step_key": "bad", "timestamp": 1796459224.75, "user_message": "Execution of step \"bad\" failed."}"#;

#[test]
fn reads_dagster_materialization() {
    let e = event_from_dagster_json(DAGSTER_MATERIALIZATION).unwrap();
    assert_eq!(e.step_key.as_deref(), Some("up"));
    assert_eq!(e.timestamp.as_secs_f64(), 1_796_459_224.712_022_5);
    let EventKind::AssetMaterialization {
        asset_key,
        partition,
        metadata,
    } = e.kind
    else {
        panic!("{:?}", e.kind)
    };
    assert_eq!(asset_key, AssetKey::new(["up"]));
    assert_eq!(partition, None);
    let want: Metadata = [
        ("n", serde_json::json!(1)),
        ("f", serde_json::json!("nan")),
        ("s", serde_json::json!("x")),
        ("p", serde_json::json!("/a")),
        ("j", serde_json::json!({"k": [1]})),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    assert_eq!(metadata, want);
}

#[test]
fn reads_unknown_types_as_engine_events() {
    let entry = parse_dagster_entry(DAGSTER_STEP_OUTPUT).unwrap();
    assert_eq!(entry.dagster_event_type.as_deref(), Some("STEP_OUTPUT"));
    assert_eq!(
        entry.event.kind,
        EventKind::EngineEvent {
            message: "STEP_OUTPUT: Yielded output \"result\" of type \"Any\". (Type check passed)."
                .into()
        }
    );
    // A known type whose data is not as expected is kept the same way, never refused.
    let broken = DAGSTER_MATERIALIZATION.replace("\"materialization\"", "\"other\"");
    let e = event_from_dagster_json(&broken).unwrap();
    assert!(
        matches!(&e.kind, EventKind::EngineEvent { message } if message.starts_with("ASSET_MATERIALIZATION: ")),
        "{e:?}"
    );
}

#[test]
fn reads_the_users_error_of_a_step_failure() {
    let e = event_from_dagster_json(DAGSTER_STEP_FAILURE).unwrap();
    assert_eq!(
        e.kind,
        EventKind::StepFailure {
            error: Some(ErrorInfo {
                message: "kaboom".into(),
                class_name: Some("ValueError".into()),
                stack: vec![
                    "  File \"/tmp/r14s/gen.py\", line 13, in bad\n    raise ValueError(\"kaboom\")"
                        .into()
                ],
            })
        }
    );
}

#[test]
fn refuses_only_what_is_not_an_event_log_entry() {
    assert!(matches!(
        event_from_dagster_json("{"),
        Err(SerdesError::Json(_))
    ));
    assert!(matches!(
        event_from_dagster_json(r#"{"__class__": "PipelineRun"}"#),
        Err(SerdesError::WrongClass { .. })
    ));
    // The bare minimum reads as an empty log message.
    let e = event_from_dagster_json(r#"{"__class__": "EventLogEntry"}"#).unwrap();
    assert_eq!(
        e.kind,
        EventKind::Log {
            level: LogLevel::Info,
            message: String::new()
        }
    );
}

#[test]
fn logs_captured_names_the_key_and_steps() {
    let json =
        logs_captured_to_dagster_json(RUN, JOB, at(1.5), "vaewaajy", &["upstream".to_string()]);
    assert!(json.contains(r#"{"__class__": "ComputeLogsCaptureData", "external_stderr_url": null, "external_stdout_url": null, "external_url": null, "log_key": "vaewaajy", "shell_cmd": null, "step_keys": ["upstream"]}"#), "{json}");
    let entry = parse_dagster_entry(&json).unwrap();
    assert_eq!(entry.dagster_event_type.as_deref(), Some("LOGS_CAPTURED"));
}

pub(super) fn sample_run() -> Run {
    let tags: BTreeMap<String, String> = [("team", "data"), ("note", "é")]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Run {
        run_id: RUN.into(),
        location: "proj".into(),
        job_name: JOB.into(),
        selection: Some("key:raw+".into()),
        partition: Some("apple".into()),
        config: serde_json::json!({"ops": {"raw": {"config": {"x": 1.5}}}}),
        tags,
        status: RunStatus::Success,
        created_at: at(10.0),
        updated_at: at(20.0),
        started_at: Some(at(11.0)),
        ended_at: Some(at(20.0)),
        worker: None,
        heartbeat_at: None,
    }
}

fn times_of(run: &Run) -> RunTimes {
    RunTimes {
        created_at: run.created_at,
        updated_at: run.updated_at,
        started_at: run.started_at,
        ended_at: run.ended_at,
    }
}

#[test]
fn run_body_shape() {
    let json = run_to_dagster_json(&sample_run());
    let want = format!(
        r#"{{"__class__": "PipelineRun", "asset_check_selection": null, "asset_selection": null, "execution_plan_snapshot_id": null, "external_pipeline_origin": {{"__class__": "ExternalPipelineOrigin", "external_repository_origin": {{"__class__": "ExternalRepositoryOrigin", "repository_location_origin": {{"__class__": "RegisteredRepositoryLocationOrigin", "location_name": "proj"}}, "repository_name": "__repository__"}}, "pipeline_name": "{JOB}"}}, "has_repository_load_data": false, "mode": null, "parent_run_id": null, "partitions_subset": null, "pipeline_code_origin": null, "pipeline_name": "{JOB}", "pipeline_snapshot_id": null, "root_run_id": null, "run_config": {{"ops": {{"raw": {{"config": {{"x": 1.5}}}}}}}}, "run_id": "{RUN}", "run_op_concurrency": null, "solid_selection": null, "solids_to_execute": null, "status": {{"__enum__": "PipelineRunStatus.SUCCESS"}}, "step_keys_to_execute": null, "tags": {{"dagster/code_location": "proj", "dagster/partition": "apple", "dg/selection": "key:raw+", "note": "\u00e9", "team": "data"}}}}"#
    );
    assert_eq!(json, want);
}

#[test]
fn runs_round_trip() {
    for status in RunStatus::ALL {
        let mut run = sample_run();
        run.status = status;
        // Dagster's own tags are part of the run as Dagster sees it.
        run.tags = dagster_run_tags(&run);
        run.tags.remove(SELECTION_TAG);
        let back = run_from_dagster_json(&run_to_dagster_json(&run), times_of(&run)).unwrap();
        assert_eq!(back, run);
    }
}

#[test]
fn reads_a_dagster_run_body() {
    let body = r#"{"__class__": "PipelineRun", "asset_check_selection": null, "asset_selection": {"__frozenset__": []}, "execution_plan_snapshot_id": "e36c", "external_pipeline_origin": null, "has_repository_load_data": false, "mode": null, "parent_run_id": null, "partitions_subset": null, "pipeline_code_origin": null, "pipeline_name": "__ephemeral_asset_job__", "pipeline_snapshot_id": "bc3e", "root_run_id": null, "run_config": {}, "run_id": "e47e18b5", "run_op_concurrency": null, "solid_selection": null, "solids_to_execute": null, "status": {"__enum__": "PipelineRunStatus.MANAGED"}, "step_keys_to_execute": ["up", "up_chk"], "tags": {"dagster/partition": "apple"}}"#;
    let run = run_from_dagster_json(body, times_of(&sample_run())).unwrap();
    assert_eq!(run.run_id, "e47e18b5");
    assert_eq!(run.job_name, "__ephemeral_asset_job__");
    assert_eq!(run.status, RunStatus::Started);
    assert_eq!(run.partition.as_deref(), Some("apple"));
    assert_eq!(run.location, "");
    assert_eq!(run.selection, None);
    let unknown = body.replace("MANAGED", "PAUSED");
    assert!(matches!(
        run_from_dagster_json(&unknown, times_of(&sample_run())),
        Err(SerdesError::UnknownRunStatus(s)) if s == "PAUSED"
    ));
}
