//! Our events and runs in the JSON that real Dagster (1.13.27) stores in its tables, and back:
//! the `event` column of `event_logs` (a serialised `EventLogEntry`) and the `run_body` column of
//! `runs` (a serialised `PipelineRun`), as `docs/dagster-instance-format.md` describes them.
//!
//! What is written is what Dagster's `serialize_value` writes for the same values, byte for byte
//! in form ([`pyjson`]: `sort_keys`, `ensure_ascii`, Python float `repr`, bare `NaN`), with the
//! pre-1.0 storage names Dagster keeps (`PipelineRun`, `PIPELINE_START`, `SolidHandle`,
//! `metadata_entries`, `EventMetadataEntry`), so that Dagster's `deserialize_value` reads it.
//!
//! Guarantees:
//! - every [`EventKind`] but `STDOUT`/`STDERR` becomes the Dagster event of the same type, and
//!   reads back as the same [`Event`] ([`event_to_dagster_json`], [`event_from_dagster_json`]);
//! - `STDOUT`/`STDERR` have no event in Dagster: captured output lives in the compute log files
//!   (`storage/<run_id>/compute_logs/<key>.out|.err`), announced by a `LOGS_CAPTURED` event
//!   ([`logs_captured_to_dagster_json`]). [`event_to_dagster_json`] returns `None` for them;
//! - any `EventLogEntry` Dagster writes is read, never refused: an event type we have no kind for
//!   (`STEP_OUTPUT`, `LOGS_CAPTURED`, `ASSET_MATERIALIZATION_PLANNED`, ...) reads as an
//!   `ENGINE_EVENT` whose message starts with the type, as the agent reports it today, and
//!   [`DagsterEntry::dagster_event_type`] keeps the type. Only text that is not JSON or not an
//!   `EventLogEntry` is an error.

pub mod pyjson;

use std::collections::BTreeMap;

use dg_core::Timestamp;
pub use pyjson::{ParseError, PyValue};

use crate::event::{AssetKey, ErrorInfo, Event, EventKind, LogLevel, Metadata};
use crate::run::{Run, RunStatus};

/// Why a stored Dagster value could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SerdesError {
    /// Not JSON as Python reads it.
    #[error(transparent)]
    Json(#[from] ParseError),
    /// JSON, but not the expected serdes class.
    #[error("expected a serialised `{expected}`, found {found}")]
    WrongClass {
        /// The class wanted (`EventLogEntry`, `PipelineRun`).
        expected: &'static str,
        /// What was there instead.
        found: String,
    },
    /// A run status Dagster has and we do not.
    #[error("unknown run status `{0}`")]
    UnknownRunStatus(String),
}

/// The run tag that holds a run's code location, as Dagster's own launches write it.
pub const CODE_LOCATION_TAG: &str = "dagster/code_location";
/// The run tag of a partitioned run's partition key (Dagster's).
pub const PARTITION_TAG: &str = "dagster/partition";
/// The run tag that keeps `dg`'s asset selection expression, which Dagster's `PipelineRun` has no
/// field for (its `asset_selection` is a set of resolved keys).
pub const SELECTION_TAG: &str = "dg/selection";

// ---------------------------------------------------------------------------------------------
// Events to Dagster

/// The `dagster_event_type` column of an event: Dagster's stored name of its type
/// (`PIPELINE_START` for `RUN_START`), `None` for log messages and for `STDOUT`/`STDERR`.
pub fn dagster_event_type(kind: &EventKind) -> Option<&'static str> {
    Some(match kind {
        EventKind::RunEnqueued => "PIPELINE_ENQUEUED",
        EventKind::RunStarting => "PIPELINE_STARTING",
        EventKind::RunStart => "PIPELINE_START",
        EventKind::RunSuccess => "PIPELINE_SUCCESS",
        EventKind::RunFailure { .. } => "PIPELINE_FAILURE",
        EventKind::RunCanceling => "PIPELINE_CANCELING",
        EventKind::RunCanceled => "PIPELINE_CANCELED",
        EventKind::Log { .. } | EventKind::Stdout { .. } | EventKind::Stderr { .. } => return None,
        other => other.event_type(),
    })
}

/// `event` of run `run_id` (job `job_name`) as Dagster's serialised `EventLogEntry`, the
/// `event_logs.event` column; `None` for `STDOUT`/`STDERR`, which Dagster keeps in compute log
/// files rather than in the event log.
pub fn event_to_dagster_json(run_id: &str, job_name: &str, event: &Event) -> Option<String> {
    let step = event.step_key.as_deref();
    let (level, user_message, dagster_event) = match &event.kind {
        EventKind::Stdout { .. } | EventKind::Stderr { .. } => return None,
        EventKind::Log { level, message } => (level_number(*level), message.clone(), None),
        kind => {
            let event_type = dagster_event_type(kind).expect("every other kind has a type");
            let message = dagster_message(job_name, step, kind);
            let data = event_specific_data(kind);
            let level = match kind {
                EventKind::RunFailure { .. } | EventKind::StepFailure { .. } => 40,
                _ => 10,
            };
            let dagster_event = dagster_event(run_id, job_name, step, event_type, &message, data);
            (level, message, Some(dagster_event))
        }
    };
    let entry = PyValue::class(
        "EventLogEntry",
        [
            ("dagster_event", dagster_event.unwrap_or(PyValue::Null)),
            ("error_info", PyValue::Null),
            ("level", PyValue::Int(level)),
            ("message", PyValue::str("")),
            ("pipeline_name", PyValue::str(job_name)),
            ("run_id", PyValue::str(run_id)),
            ("step_key", PyValue::opt_str(step)),
            ("timestamp", PyValue::Float(event.timestamp.as_secs_f64())),
            ("user_message", PyValue::str(user_message)),
        ],
    );
    Some(entry.to_python_json())
}

/// The `LOGS_CAPTURED` event that links the compute log files `<log_key>.out|.err` to the steps
/// whose output they hold (Dagster writes one per process that executes steps).
pub fn logs_captured_to_dagster_json(
    run_id: &str,
    job_name: &str,
    timestamp: Timestamp,
    log_key: &str,
    step_keys: &[String],
) -> String {
    let data = PyValue::class(
        "ComputeLogsCaptureData",
        [
            ("external_stderr_url", PyValue::Null),
            ("external_stdout_url", PyValue::Null),
            ("external_url", PyValue::Null),
            ("log_key", PyValue::str(log_key)),
            ("shell_cmd", PyValue::Null),
            (
                "step_keys",
                PyValue::List(step_keys.iter().map(PyValue::str).collect()),
            ),
        ],
    );
    let message = format!("Capturing logs for steps {step_keys:?}.");
    let event = dagster_event(run_id, job_name, None, "LOGS_CAPTURED", &message, data);
    PyValue::class(
        "EventLogEntry",
        [
            ("dagster_event", event),
            ("error_info", PyValue::Null),
            ("level", PyValue::Int(10)),
            ("message", PyValue::str("")),
            ("pipeline_name", PyValue::str(job_name)),
            ("run_id", PyValue::str(run_id)),
            ("step_key", PyValue::Null),
            ("timestamp", PyValue::Float(timestamp.as_secs_f64())),
            ("user_message", PyValue::str(message)),
        ],
    )
    .to_python_json()
}

fn level_number(level: LogLevel) -> i128 {
    match level {
        LogLevel::Debug => 10,
        LogLevel::Info => 20,
        LogLevel::Warning => 30,
        LogLevel::Error => 40,
        LogLevel::Critical => 50,
    }
}

/// Dagster's wording of each event's message, where it has one.
fn dagster_message(job: &str, step: Option<&str>, kind: &EventKind) -> String {
    let step = step.unwrap_or("");
    match kind {
        EventKind::RunEnqueued => format!("Run \"{job}\" was enqueued."),
        EventKind::RunStarting => format!("Run \"{job}\" is starting."),
        EventKind::RunStart => format!("Started execution of run for \"{job}\"."),
        EventKind::RunSuccess => format!("Finished execution of run for \"{job}\"."),
        EventKind::RunFailure { .. } => format!("Execution of run for \"{job}\" failed."),
        EventKind::RunCanceling => "Sending run termination request.".to_string(),
        EventKind::RunCanceled => format!("Execution of run for \"{job}\" canceled."),
        EventKind::StepStart => format!("Started execution of step \"{step}\"."),
        EventKind::StepSuccess { .. } => format!("Finished execution of step \"{step}\"."),
        EventKind::StepFailure { .. } => format!("Execution of step \"{step}\" failed."),
        EventKind::StepSkipped => format!("Skipped execution of step \"{step}\"."),
        EventKind::AssetMaterialization { asset_key, .. } => {
            format!("Materialized value {}.", asset_key.to_user_string())
        }
        EventKind::AssetObservation { asset_key, .. } => {
            format!("Observed value {}.", asset_key.to_user_string())
        }
        EventKind::AssetCheckEvaluation {
            asset_key,
            check_name,
            passed,
            ..
        } => format!(
            "Asset check '{check_name}' on '{}' {}.",
            asset_key.to_user_string(),
            if *passed { "passed" } else { "failed" }
        ),
        EventKind::EngineEvent { message } => message.clone(),
        EventKind::Log { message, .. } => message.clone(),
        EventKind::Stdout { text } | EventKind::Stderr { text } => text.clone(),
    }
}

fn dagster_event(
    run_id: &str,
    job_name: &str,
    step: Option<&str>,
    event_type: &str,
    message: &str,
    data: PyValue,
) -> PyValue {
    let (logging_tags, solid_handle, step_handle, step_kind) = match step {
        Some(step) => {
            let handle = node_handle(step);
            let tags = PyValue::object([
                ("job_name", PyValue::str(job_name)),
                (
                    "op_name",
                    PyValue::str(step.rsplit('.').next().unwrap_or(step)),
                ),
                ("resource_fn_name", PyValue::str("None")),
                ("resource_name", PyValue::str("None")),
                ("run_id", PyValue::str(run_id)),
                ("step_key", PyValue::str(step)),
            ]);
            let step_handle = PyValue::class(
                "StepHandle",
                [
                    ("key", PyValue::str(step)),
                    ("solid_handle", handle.clone()),
                ],
            );
            (tags, handle, step_handle, PyValue::str("COMPUTE"))
        }
        None => (
            PyValue::Object(BTreeMap::new()),
            PyValue::Null,
            PyValue::Null,
            PyValue::Null,
        ),
    };
    PyValue::class(
        "DagsterEvent",
        [
            ("event_specific_data", data),
            ("event_type_value", PyValue::str(event_type)),
            ("logging_tags", logging_tags),
            ("message", PyValue::str(message)),
            ("pid", PyValue::Null),
            ("pipeline_name", PyValue::str(job_name)),
            ("solid_handle", solid_handle),
            ("step_handle", step_handle),
            ("step_key", PyValue::opt_str(step)),
            ("step_kind_value", step_kind),
        ],
    )
}

/// The `SolidHandle` (Dagster's `NodeHandle`) of a step key: `graph.op` is `op` inside `graph`.
fn node_handle(step: &str) -> PyValue {
    let mut handle = PyValue::Null;
    for name in step.split('.') {
        handle = PyValue::class(
            "SolidHandle",
            [("name", PyValue::str(name)), ("parent", handle)],
        );
    }
    handle
}

fn asset_key_value(key: &AssetKey) -> PyValue {
    PyValue::class(
        "AssetKey",
        [(
            "path",
            PyValue::List(key.path().iter().map(PyValue::str).collect()),
        )],
    )
}

/// A metadata value as Dagster's typed entry data: strings are text, integers and floats keep
/// their kind, objects and lists are JSON.
fn metadata_entry_data(value: &serde_json::Value) -> PyValue {
    use serde_json::Value;
    match value {
        Value::Null => PyValue::class("NullMetadataEntryData", [] as [(&str, PyValue); 0]),
        Value::Bool(b) => PyValue::class("BoolMetadataEntryData", [("value", PyValue::Bool(*b))]),
        Value::Number(_) => match PyValue::from(value) {
            int @ PyValue::Int(_) => PyValue::class("IntMetadataEntryData", [("value", int)]),
            float => PyValue::class("FloatMetadataEntryData", [("value", float)]),
        },
        Value::String(s) => PyValue::class("TextMetadataEntryData", [("text", PyValue::str(s))]),
        Value::Array(_) | Value::Object(_) => {
            PyValue::class("JsonMetadataEntryData", [("data", PyValue::from(value))])
        }
    }
}

/// The old list form of metadata (`metadata_entries`) that materializations and observations keep.
fn metadata_entries(metadata: &Metadata) -> PyValue {
    PyValue::List(
        metadata
            .iter()
            .map(|(label, value)| {
                PyValue::class(
                    "EventMetadataEntry",
                    [
                        ("description", PyValue::Null),
                        ("entry_data", metadata_entry_data(value)),
                        ("label", PyValue::str(label)),
                    ],
                )
            })
            .collect(),
    )
}

fn error_value(error: &ErrorInfo) -> PyValue {
    // Python's `SerializableErrorInfo` holds `traceback.format_exception_only` (`Cls: text\n`)
    // and frames ending in a newline; reading strips both again.
    let message = match &error.class_name {
        Some(cls) => format!("{cls}: {}\n", error.message),
        None => format!("{}\n", error.message),
    };
    PyValue::class(
        "SerializableErrorInfo",
        [
            ("cause", PyValue::Null),
            ("cls_name", PyValue::opt_str(error.class_name.as_deref())),
            ("context", PyValue::Null),
            ("message", PyValue::str(message)),
            (
                "stack",
                PyValue::List(
                    error
                        .stack
                        .iter()
                        .map(|l| PyValue::str(format!("{l}\n")))
                        .collect(),
                ),
            ),
        ],
    )
}

fn opt_error(error: &Option<ErrorInfo>) -> PyValue {
    error.as_ref().map_or(PyValue::Null, error_value)
}

fn event_specific_data(kind: &EventKind) -> PyValue {
    match kind {
        EventKind::RunFailure { error } => PyValue::class(
            "PipelineFailureData",
            [
                ("error", opt_error(error)),
                ("failure_reason", PyValue::Null),
                ("first_step_failure_event", PyValue::Null),
            ],
        ),
        EventKind::StepSuccess { duration_ms } => PyValue::class(
            "StepSuccessData",
            // Dagster's field is required; an unknown duration is written as 0.
            [("duration_ms", PyValue::Float(duration_ms.unwrap_or(0.0)))],
        ),
        EventKind::StepFailure { error } => PyValue::class(
            "StepFailureData",
            [
                ("error", opt_error(error)),
                // Our step errors are the user's (the agent reports the innermost cause);
                // Dagster reads a missing source as `FRAMEWORK_ERROR`.
                (
                    "error_source",
                    PyValue::enum_member("ErrorSource.USER_CODE_ERROR"),
                ),
                ("user_failure_data", PyValue::Null),
            ],
        ),
        EventKind::AssetMaterialization {
            asset_key,
            partition,
            metadata,
        } => PyValue::class(
            "StepMaterializationData",
            [
                ("asset_lineage", PyValue::List(Vec::new())),
                (
                    "materialization",
                    PyValue::class(
                        "AssetMaterialization",
                        [
                            ("asset_key", asset_key_value(asset_key)),
                            ("description", PyValue::Null),
                            ("metadata_entries", metadata_entries(metadata)),
                            ("partition", PyValue::opt_str(partition.as_deref())),
                            ("tags", PyValue::Object(BTreeMap::new())),
                        ],
                    ),
                ),
            ],
        ),
        EventKind::AssetObservation {
            asset_key,
            partition,
            metadata,
        } => PyValue::class(
            "AssetObservationData",
            [(
                "asset_observation",
                PyValue::class(
                    "AssetObservation",
                    [
                        ("asset_key", asset_key_value(asset_key)),
                        ("description", PyValue::Null),
                        ("metadata_entries", metadata_entries(metadata)),
                        ("partition", PyValue::opt_str(partition.as_deref())),
                        ("tags", PyValue::Object(BTreeMap::new())),
                    ],
                ),
            )],
        ),
        EventKind::AssetCheckEvaluation {
            asset_key,
            check_name,
            passed,
            severity,
            partition,
            metadata,
        } => PyValue::class(
            "AssetCheckEvaluation",
            [
                ("asset_key", asset_key_value(asset_key)),
                ("blocking", PyValue::Bool(false)),
                ("check_name", PyValue::str(check_name)),
                ("description", PyValue::Null),
                (
                    "metadata",
                    PyValue::Object(
                        metadata
                            .iter()
                            .map(|(k, v)| (k.clone(), metadata_entry_data(v)))
                            .collect(),
                    ),
                ),
                ("partition", PyValue::opt_str(partition.as_deref())),
                (
                    "severity",
                    PyValue::enum_member(&format!(
                        "AssetCheckSeverity.{}",
                        severity.as_deref().unwrap_or("ERROR")
                    )),
                ),
                ("success", PyValue::Bool(*passed)),
                ("target_materialization_data", PyValue::Null),
            ],
        ),
        EventKind::EngineEvent { .. } => PyValue::class(
            "EngineEventData",
            [
                ("error", PyValue::Null),
                ("marker_end", PyValue::Null),
                ("marker_start", PyValue::Null),
                ("metadata_entries", PyValue::List(Vec::new())),
            ],
        ),
        _ => PyValue::Null,
    }
}

// ---------------------------------------------------------------------------------------------
// Events from Dagster

/// An `EventLogEntry` as read: our event, plus what Dagster stored beside it.
#[derive(Debug, Clone, PartialEq)]
pub struct DagsterEntry {
    /// The run (`""` for runless events).
    pub run_id: String,
    /// The job (`pipeline_name`).
    pub job_name: Option<String>,
    /// Dagster's event type as stored (`PIPELINE_START`, `STEP_OUTPUT`), `None` for log messages.
    pub dagster_event_type: Option<String>,
    /// The event in our terms.
    pub event: Event,
}

/// Reads a serialised `EventLogEntry` (the `event_logs.event` column) as our [`Event`].
pub fn event_from_dagster_json(json: &str) -> Result<Event, SerdesError> {
    parse_dagster_entry(json).map(|entry| entry.event)
}

/// Reads a serialised `EventLogEntry` with its run, job and Dagster event type.
pub fn parse_dagster_entry(json: &str) -> Result<DagsterEntry, SerdesError> {
    let entry = PyValue::parse(json)?;
    if entry.class_name() != Some("EventLogEntry") {
        return Err(SerdesError::WrongClass {
            expected: "EventLogEntry",
            found: describe(&entry),
        });
    }
    let text = |v: &PyValue, key: &str| v.get(key).and_then(PyValue::as_str).map(str::to_string);
    let timestamp = entry
        .get("timestamp")
        .and_then(PyValue::as_f64)
        .map_or(Timestamp::UNIX_EPOCH, Timestamp::from_secs_f64);
    let user_message = text(&entry, "user_message").unwrap_or_default();
    let dagster_event = entry.get("dagster_event").filter(|v| **v != PyValue::Null);
    let step_key =
        text(&entry, "step_key").or_else(|| dagster_event.and_then(|e| text(e, "step_key")));
    let (dagster_event_type, kind) = match dagster_event {
        None => {
            let level = entry.get("level").and_then(PyValue::as_f64).unwrap_or(20.0);
            let kind = EventKind::Log {
                level: level_from_number(level),
                message: user_message,
            };
            (None, kind)
        }
        Some(event) => {
            let event_type = text(event, "event_type_value").unwrap_or_default();
            let message = text(event, "message")
                .filter(|m| !m.is_empty())
                .unwrap_or(user_message);
            let data = event.get("event_specific_data").unwrap_or(&PyValue::Null);
            let kind =
                kind_from_dagster(&event_type, data).unwrap_or_else(|| EventKind::EngineEvent {
                    message: if event_type == "ENGINE_EVENT" {
                        message
                    } else {
                        format!("{event_type}: {message}")
                    },
                });
            (Some(event_type), kind)
        }
    };
    Ok(DagsterEntry {
        run_id: text(&entry, "run_id").unwrap_or_default(),
        job_name: text(&entry, "pipeline_name"),
        dagster_event_type,
        event: Event {
            timestamp,
            step_key,
            kind,
        },
    })
}

fn describe(value: &PyValue) -> String {
    match value.class_name() {
        Some(class) => format!("`{class}`"),
        None => "another value".to_string(),
    }
}

fn level_from_number(level: f64) -> LogLevel {
    match level {
        l if l <= 10.0 => LogLevel::Debug,
        l if l <= 20.0 => LogLevel::Info,
        l if l <= 30.0 => LogLevel::Warning,
        l if l <= 40.0 => LogLevel::Error,
        _ => LogLevel::Critical,
    }
}

/// Our kind of a Dagster event type (old and new names), `None` when we have none or its data
/// does not have the expected shape (the caller keeps it as an engine event).
fn kind_from_dagster(event_type: &str, data: &PyValue) -> Option<EventKind> {
    let error = || data.get("error").and_then(error_from_value);
    Some(match event_type {
        "PIPELINE_ENQUEUED" | "RUN_ENQUEUED" => EventKind::RunEnqueued,
        "PIPELINE_STARTING" | "RUN_STARTING" => EventKind::RunStarting,
        "PIPELINE_START" | "RUN_START" => EventKind::RunStart,
        "PIPELINE_SUCCESS" | "RUN_SUCCESS" => EventKind::RunSuccess,
        "PIPELINE_FAILURE" | "RUN_FAILURE" => EventKind::RunFailure { error: error() },
        "PIPELINE_CANCELING" | "RUN_CANCELING" => EventKind::RunCanceling,
        "PIPELINE_CANCELED" | "RUN_CANCELED" => EventKind::RunCanceled,
        "STEP_START" => EventKind::StepStart,
        "STEP_SUCCESS" => EventKind::StepSuccess {
            duration_ms: data.get("duration_ms").and_then(PyValue::as_f64),
        },
        "STEP_FAILURE" => EventKind::StepFailure { error: error() },
        "STEP_SKIPPED" => EventKind::StepSkipped,
        "ASSET_MATERIALIZATION" => {
            let m = data.get("materialization")?;
            EventKind::AssetMaterialization {
                asset_key: asset_key_from_value(m.get("asset_key")?)?,
                partition: m.get("partition").and_then(PyValue::as_str).map(Into::into),
                metadata: metadata_from_value(m),
            }
        }
        "ASSET_OBSERVATION" => {
            let o = data.get("asset_observation")?;
            EventKind::AssetObservation {
                asset_key: asset_key_from_value(o.get("asset_key")?)?,
                partition: o.get("partition").and_then(PyValue::as_str).map(Into::into),
                metadata: metadata_from_value(o),
            }
        }
        "ASSET_CHECK_EVALUATION" => EventKind::AssetCheckEvaluation {
            asset_key: asset_key_from_value(data.get("asset_key")?)?,
            check_name: data.get("check_name")?.as_str()?.to_string(),
            passed: matches!(data.get("success")?, PyValue::Bool(true)),
            severity: data
                .get("severity")
                .and_then(PyValue::enum_name)
                .map(Into::into),
            partition: data
                .get("partition")
                .and_then(PyValue::as_str)
                .map(Into::into),
            metadata: metadata_from_value(data),
        },
        _ => return None,
    })
}

fn asset_key_from_value(value: &PyValue) -> Option<AssetKey> {
    let path = value.get("path")?.as_list()?;
    let parts: Option<Vec<&str>> = path.iter().map(PyValue::as_str).collect();
    Some(AssetKey::new(parts?))
}

/// The user's error: the innermost cause of Dagster's wrapped error, its message without the
/// `Cls: ` prefix, frames without their newline (as the agent reports errors).
fn error_from_value(value: &PyValue) -> Option<ErrorInfo> {
    value.class_name()?;
    let mut inner = value;
    while let Some(cause) = inner.get("cause").filter(|c| c.class_name().is_some()) {
        inner = cause;
    }
    let class_name = inner
        .get("cls_name")
        .and_then(PyValue::as_str)
        .map(str::to_string);
    let mut message = inner
        .get("message")
        .and_then(PyValue::as_str)
        .unwrap_or("")
        .trim_end_matches('\n');
    if let Some(cls) = &class_name {
        message = message
            .strip_prefix(cls.as_str())
            .and_then(|m| m.strip_prefix(": "))
            .unwrap_or(message);
    }
    let stack = inner
        .get("stack")
        .and_then(PyValue::as_list)
        .unwrap_or(&[])
        .iter()
        .filter_map(PyValue::as_str)
        .map(|l| l.strip_suffix('\n').unwrap_or(l).to_string())
        .collect();
    Some(ErrorInfo {
        message: message.to_string(),
        class_name,
        stack,
    })
}

/// Metadata of a materialization, observation or check: `metadata_entries` (the stored list
/// form) or `metadata` (a map), each typed entry as its plain value (text, number, path, url, ...).
fn metadata_from_value(holder: &PyValue) -> Metadata {
    let mut out = Metadata::new();
    if let Some(entries) = holder.get("metadata_entries").and_then(PyValue::as_list) {
        for entry in entries {
            if let Some(label) = entry.get("label").and_then(PyValue::as_str) {
                let data = entry.get("entry_data").unwrap_or(&PyValue::Null);
                out.insert(label.to_string(), plain_metadata_value(data));
            }
        }
    }
    if let Some(PyValue::Object(map)) = holder.get("metadata") {
        for (label, data) in map {
            out.insert(label.clone(), plain_metadata_value(data));
        }
    }
    out
}

fn plain_metadata_value(data: &PyValue) -> serde_json::Value {
    let field = match data.class_name() {
        _ if *data == PyValue::Null => return serde_json::Value::Null,
        Some("NullMetadataEntryData") => return serde_json::Value::Null,
        Some("TextMetadataEntryData") => "text",
        Some("JsonMetadataEntryData") => "data",
        Some("PathMetadataEntryData" | "NotebookMetadataEntryData") => "path",
        Some("UrlMetadataEntryData") => "url",
        Some("MarkdownMetadataEntryData") => "md_str",
        Some(_) | None => "value",
    };
    match data.get(field) {
        Some(value) => serde_json::Value::from(value),
        // Other classes (tables, schemas, asset references): the whole value, as JSON.
        None => serde_json::Value::from(data),
    }
}

// ---------------------------------------------------------------------------------------------
// Runs

/// `run` as Dagster's serialised `PipelineRun`, the `runs.run_body` column. The code location,
/// the partition and `dg`'s selection expression go into the tags ([`CODE_LOCATION_TAG`],
/// [`PARTITION_TAG`], [`SELECTION_TAG`]), the location also into the job's origin; times and the worker are columns and tables of their own,
/// not part of the body. Snapshot ids and the code origin are unknown here and written `null`.
pub fn run_to_dagster_json(run: &Run) -> String {
    run_body_value(run).to_python_json()
}

/// The tags Dagster stores for `run` (`run_tags` rows and the body's `tags`).
pub fn dagster_run_tags(run: &Run) -> BTreeMap<String, String> {
    let mut tags = run.tags.clone();
    if !run.location.is_empty() {
        tags.insert(CODE_LOCATION_TAG.into(), run.location.clone());
    }
    if let Some(partition) = &run.partition {
        tags.insert(PARTITION_TAG.into(), partition.clone());
    }
    if let Some(selection) = &run.selection {
        tags.insert(SELECTION_TAG.into(), selection.clone());
    }
    tags
}

fn run_body_value(run: &Run) -> PyValue {
    let tags = dagster_run_tags(run);
    PyValue::class(
        "PipelineRun",
        [
            ("asset_check_selection", PyValue::Null),
            ("asset_selection", PyValue::Null),
            ("execution_plan_snapshot_id", PyValue::Null),
            ("external_pipeline_origin", job_origin(run)),
            ("has_repository_load_data", PyValue::Bool(false)),
            ("mode", PyValue::Null),
            ("parent_run_id", PyValue::Null),
            ("partitions_subset", PyValue::Null),
            ("pipeline_code_origin", PyValue::Null),
            ("pipeline_name", PyValue::str(&run.job_name)),
            ("pipeline_snapshot_id", PyValue::Null),
            ("root_run_id", PyValue::Null),
            ("run_config", PyValue::from(&run.config)),
            ("run_id", PyValue::str(&run.run_id)),
            ("run_op_concurrency", PyValue::Null),
            ("solid_selection", PyValue::Null),
            ("solids_to_execute", PyValue::Null),
            (
                "status",
                PyValue::enum_member(&format!("PipelineRunStatus.{}", run.status.as_str())),
            ),
            ("step_keys_to_execute", PyValue::Null),
            (
                "tags",
                PyValue::Object(
                    tags.into_iter()
                        .map(|(k, v)| (k, PyValue::Str(v)))
                        .collect(),
                ),
            ),
        ],
    )
}

/// Where the job comes from, which Dagster requires of a queued run: the code location by name
/// (`RegisteredRepositoryLocationOrigin`, a location the workspace loads), Dagster's single
/// repository `__repository__`, and the job. `null` when the run has no location.
fn job_origin(run: &Run) -> PyValue {
    if run.location.is_empty() {
        return PyValue::Null;
    }
    let location = PyValue::class(
        "RegisteredRepositoryLocationOrigin",
        [("location_name", PyValue::str(&run.location))],
    );
    let repository = PyValue::class(
        "ExternalRepositoryOrigin",
        [
            ("repository_location_origin", location),
            ("repository_name", PyValue::str("__repository__")),
        ],
    );
    PyValue::class(
        "ExternalPipelineOrigin",
        [
            ("external_repository_origin", repository),
            ("pipeline_name", PyValue::str(&run.job_name)),
        ],
    )
}

/// The `runs` columns that are not in the body, for [`run_from_dagster_json`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RunTimes {
    /// `create_timestamp`.
    pub created_at: Timestamp,
    /// `update_timestamp`.
    pub updated_at: Timestamp,
    /// `start_time`.
    pub started_at: Option<Timestamp>,
    /// `end_time`.
    pub ended_at: Option<Timestamp>,
}

/// Reads a serialised `PipelineRun` (the `runs.run_body` column) with its row's times. The code
/// location and partition come from their tags, the selection from [`SELECTION_TAG`] (which is
/// then removed from the tags; Dagster's tags stay); a run has no worker until one reports.
/// Dagster's `MANAGED` status (a run outside Dagster's control) reads as `STARTED`.
pub fn run_from_dagster_json(json: &str, times: RunTimes) -> Result<Run, SerdesError> {
    let body = PyValue::parse(json)?;
    if !matches!(body.class_name(), Some("PipelineRun" | "DagsterRun")) {
        return Err(SerdesError::WrongClass {
            expected: "PipelineRun",
            found: describe(&body),
        });
    }
    let text = |key: &str| body.get(key).and_then(PyValue::as_str).map(str::to_string);
    let status_name = body
        .get("status")
        .and_then(PyValue::enum_name)
        .unwrap_or("NOT_STARTED");
    let status = match status_name {
        "MANAGED" => RunStatus::Started,
        other => other
            .parse()
            .map_err(|_| SerdesError::UnknownRunStatus(other.to_string()))?,
    };
    let mut tags: BTreeMap<String, String> = match body.get("tags") {
        Some(PyValue::Object(map)) => map
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
            .collect(),
        _ => BTreeMap::new(),
    };
    let selection = tags.remove(SELECTION_TAG);
    Ok(Run {
        run_id: text("run_id").unwrap_or_default(),
        location: origin_location(&body)
            .or_else(|| tags.get(CODE_LOCATION_TAG).cloned())
            .unwrap_or_default(),
        job_name: text("pipeline_name")
            .or_else(|| text("job_name"))
            .unwrap_or_default(),
        selection,
        partition: tags.get(PARTITION_TAG).cloned(),
        config: body
            .get("run_config")
            .map_or(serde_json::json!({}), serde_json::Value::from),
        tags,
        status,
        created_at: times.created_at,
        updated_at: times.updated_at,
        started_at: times.started_at,
        ended_at: times.ended_at,
        worker: None,
        heartbeat_at: None,
    })
}

/// The code location named in a run's `external_pipeline_origin`, whatever kind of origin it is.
fn origin_location(body: &PyValue) -> Option<String> {
    let location = body
        .get("external_pipeline_origin")?
        .get("external_repository_origin")?
        .get("repository_location_origin")?;
    Some(location.get("location_name")?.as_str()?.to_string())
}

#[cfg(test)]
pub(crate) mod tests;
