//! Sample events shared by the unit tests of the Dagster serialisation (`tests.rs`) and the
//! integration test against real Dagster (`tests/dagster_serdes/main.rs`, which includes this file
//! with `#[path]`): one event of every kind Dagster has a type for. The names it uses come from
//! the module that includes it.

use super::*;

pub fn at(secs: f64) -> Timestamp {
    Timestamp::from_secs_f64(secs)
}

pub fn event(step: Option<&str>, kind: EventKind) -> Event {
    Event {
        timestamp: at(1_796_455_186.372_27),
        step_key: step.map(Into::into),
        kind,
    }
}

pub fn metadata() -> Metadata {
    [
        ("rows", serde_json::json!(3)),
        ("score", serde_json::json!(0.5)),
        ("note", serde_json::json!("é ok \u{1F600}")),
        ("flag", serde_json::json!(true)),
        ("none", serde_json::Value::Null),
        ("json", serde_json::json!({"k": [1, "x", 2.5]})),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

pub fn error() -> ErrorInfo {
    ErrorInfo {
        message: "kaboom".into(),
        class_name: Some("ValueError".into()),
        stack: vec!["  File \"x.py\", line 1, in f".into()],
    }
}

/// One event of every kind that Dagster has a type for.
pub fn every_event() -> Vec<Event> {
    let key = AssetKey::new(["team", "raw"]);
    vec![
        event(None, EventKind::RunEnqueued),
        event(None, EventKind::RunStarting),
        event(None, EventKind::RunStart),
        event(None, EventKind::RunSuccess),
        event(None, EventKind::RunFailure { error: None }),
        event(
            None,
            EventKind::RunFailure {
                error: Some(error()),
            },
        ),
        event(None, EventKind::RunCanceling),
        event(None, EventKind::RunCanceled),
        event(Some("raw"), EventKind::StepStart),
        event(
            Some("raw"),
            EventKind::StepSuccess {
                duration_ms: Some(12.5),
            },
        ),
        event(
            Some("raw"),
            EventKind::StepFailure {
                error: Some(error()),
            },
        ),
        event(Some("graph.op"), EventKind::StepSkipped),
        event(
            Some("raw"),
            EventKind::AssetMaterialization {
                asset_key: key.clone(),
                partition: None,
                metadata: metadata(),
            },
        ),
        event(
            Some("raw"),
            EventKind::AssetMaterialization {
                asset_key: key.clone(),
                partition: Some("2024-01-01".into()),
                metadata: Metadata::new(),
            },
        ),
        event(
            Some("raw"),
            EventKind::AssetObservation {
                asset_key: key.clone(),
                partition: Some("p".into()),
                metadata: metadata(),
            },
        ),
        event(
            Some("raw_ok"),
            EventKind::AssetCheckEvaluation {
                asset_key: key.clone(),
                check_name: "raw_ok".into(),
                passed: false,
                severity: Some("WARN".into()),
                partition: None,
                metadata: metadata(),
            },
        ),
        event(
            Some("raw_ok"),
            EventKind::AssetCheckEvaluation {
                asset_key: key,
                check_name: "raw_ok".into(),
                passed: false,
                severity: Some("WARN".into()),
                partition: None,
                metadata: Metadata::new(),
            },
        ),
        event(
            None,
            EventKind::EngineEvent {
                message: "Launching run".into(),
            },
        ),
        event(
            Some("raw"),
            EventKind::Log {
                level: LogLevel::Warning,
                message: "careful: \u{1F600}\n\"quoted\"".into(),
            },
        ),
        event(
            None,
            EventKind::Log {
                level: LogLevel::Debug,
                message: String::new(),
            },
        ),
    ]
}
