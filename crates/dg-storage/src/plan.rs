//! Row planning: what Dagster's tables receive for one event, worked out once for both backends.
//!
//! An event is planned from its Dagster text (`SequencedEvent::dagster_json` verbatim, else
//! `serdes::event_to_dagster_json` of the typed event), as Dagster's `SqlEventLogStorage` does it
//! (`_event_to_row`, `_store_asset_event`, `_store_asset_event_tags`, `store_asset_check_event` in
//! `dagster/_core/storage/event_log/sql_event_log.py`; the index mirror of `sqlite_event_log.py`):
//!
//! - [`EventRow`]: the `event_logs` columns. `dagster_event_type` is the Dagster event's type
//!   (`NULL` for a plain log message), `step_key` the Dagster event's step key (else the entry's),
//!   `asset_key` / `partition` those of the asset events that carry one (a check evaluation has
//!   neither), the key written as Python's `json.dumps(path)`.
//! - [`Plan::mirror_to_index`]: SQLite copies asset events, asset check events and run status
//!   events into `index.db` as well; the index copy's id is the storage id that `asset_keys`,
//!   `asset_event_tags` and `asset_check_executions` refer to.
//! - [`AssetUpdate`]: how the `asset_keys` row of the event's key changes.
//! - [`Plan::asset_tags`]: the `asset_event_tags` rows (only `dagster/data_version` and
//!   `dagster/partition/<dimension>` tags are indexed, as in Dagster's `get_asset_tags_to_index`).
//! - [`CheckUpdate`]: the `asset_check_executions` row a check evaluation (or its plan) writes.
//!
//! `STDOUT` / `STDERR` have no row at all: Dagster keeps captured output in compute log files.

use crate::dagster::serdes::{self, PyValue, SerdesError};
use crate::event::{EventKind, SequencedEvent};
use crate::run::Timestamp;

/// Dagster's asset event types (`ASSET_EVENTS`): stored in the index, update `asset_keys`.
pub const ASSET_EVENT_TYPES: [&str; 5] = [
    "ASSET_MATERIALIZATION",
    "ASSET_OBSERVATION",
    "ASSET_MATERIALIZATION_PLANNED",
    "ASSET_FAILED_TO_MATERIALIZE",
    "FRESHNESS_STATE_CHANGE",
];

/// Dagster's asset check event types (`ASSET_CHECK_EVENTS`).
pub const CHECK_EVENT_TYPES: [&str; 2] =
    ["ASSET_CHECK_EVALUATION", "ASSET_CHECK_EVALUATION_PLANNED"];

/// Dagster's run status event types as stored (`EVENT_TYPE_TO_PIPELINE_RUN_STATUS`).
pub const RUN_STATUS_EVENT_TYPES: [&str; 9] = [
    "PIPELINE_ENQUEUED",
    "PIPELINE_STARTING",
    "PIPELINE_START",
    "PIPELINE_SUCCESS",
    "PIPELINE_FAILURE",
    "PIPELINE_CANCELING",
    "PIPELINE_CANCELED",
    "RUN_SUSPENDED",
    "RUN_RESUMED",
];

/// The `event_logs` columns of one event.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRow {
    /// `run_id`.
    pub run_id: String,
    /// `event`: the serialised `EventLogEntry`.
    pub event: String,
    /// `dagster_event_type`.
    pub dagster_event_type: Option<String>,
    /// `timestamp` (each backend writes it as naive UTC).
    pub timestamp: Timestamp,
    /// `step_key`.
    pub step_key: Option<String>,
    /// `asset_key`, as Dagster's `AssetKey.to_string()` (`["a", "b"]`).
    pub asset_key: Option<String>,
    /// `partition`.
    pub partition: Option<String>,
}

/// How an event changes its asset's `asset_keys` row (upserted by `asset_key`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssetUpdate {
    /// `last_materialization` (an `EventLogRecord` of the event and its storage id),
    /// `last_run_id`, `last_materialization_timestamp`.
    Materialization,
    /// `last_run_id`, `last_materialization_timestamp`.
    Planned,
    /// `last_materialization_timestamp` only.
    Observation,
}

/// What an asset check event writes to `asset_check_executions`.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckUpdate {
    /// `asset_key`, as Dagster writes it.
    pub asset_key: String,
    /// `check_name`.
    pub check_name: String,
    /// `partition`.
    pub partition: Option<String>,
    /// `execution_status`: `PLANNED`, `SUCCEEDED` or `FAILED`.
    pub status: &'static str,
    /// A plan inserts a row; an evaluation updates the run's planned row, or inserts one.
    pub planned: bool,
    /// `materialization_event_storage_id`: the checked materialization's storage id.
    pub materialization_storage_id: Option<i64>,
}

/// Everything one event writes.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// The `event_logs` row.
    pub row: EventRow,
    /// SQLite: also copy the row into `index.db` (asset, check and run status events).
    pub mirror_to_index: bool,
    /// The `asset_keys` change, for materializations, their plans and observations.
    pub asset: Option<AssetUpdate>,
    /// `asset_event_tags` rows `(key, value)`.
    pub asset_tags: Vec<(String, String)>,
    /// The `asset_check_executions` change.
    pub check: Option<CheckUpdate>,
}

/// Plans a run's sequenced event: `None` for `STDOUT`/`STDERR` (no row), else its rows.
pub fn plan_sequenced(
    run_id: &str,
    job_name: &str,
    event: &SequencedEvent,
) -> Result<Option<Plan>, SerdesError> {
    if matches!(
        event.event.kind,
        EventKind::Stdout { .. } | EventKind::Stderr { .. }
    ) {
        return Ok(None);
    }
    match &event.dagster_json {
        Some(text) => plan_dagster_text(run_id, text.clone()).map(Some),
        None => plan_event(run_id, job_name, &event.event),
    }
}

/// Plans a typed event (serialised with `serdes::event_to_dagster_json`); `None` for output.
/// The columns come from the typed event itself, without reading the text back: the same plan as
/// [`plan_dagster_text`] of that text (checked by the unit tests for every kind), at a fraction of
/// the cost.
pub fn plan_event(
    run_id: &str,
    job_name: &str,
    event: &crate::event::Event,
) -> Result<Option<Plan>, SerdesError> {
    let Some(text) = serdes::event_to_dagster_json(run_id, job_name, event) else {
        return Ok(None);
    };
    let event_type = serdes::dagster_event_type(&event.kind);
    let (asset_key, partition, asset) = match &event.kind {
        EventKind::AssetMaterialization {
            asset_key,
            partition,
            ..
        } => (
            Some(dagster_asset_key(asset_key)),
            partition.clone(),
            Some(AssetUpdate::Materialization),
        ),
        EventKind::AssetObservation {
            asset_key,
            partition,
            ..
        } => (
            Some(dagster_asset_key(asset_key)),
            partition.clone(),
            Some(AssetUpdate::Observation),
        ),
        _ => (None, None, None),
    };
    let check = match &event.kind {
        EventKind::AssetCheckEvaluation {
            asset_key,
            check_name,
            passed,
            partition,
            ..
        } => Some(CheckUpdate {
            asset_key: dagster_asset_key(asset_key),
            check_name: check_name.clone(),
            partition: partition.clone(),
            status: if *passed { "SUCCEEDED" } else { "FAILED" },
            planned: false,
            materialization_storage_id: None,
        }),
        _ => None,
    };
    let mirror_to_index = event_type.is_some_and(|t| {
        ASSET_EVENT_TYPES.contains(&t)
            || CHECK_EVENT_TYPES.contains(&t)
            || RUN_STATUS_EVENT_TYPES.contains(&t)
    });
    Ok(Some(Plan {
        row: EventRow {
            run_id: run_id.to_string(),
            event: text,
            dagster_event_type: event_type.map(str::to_string),
            timestamp: event.timestamp,
            step_key: event.step_key.clone(),
            asset_key,
            partition,
        },
        mirror_to_index,
        asset,
        asset_tags: Vec::new(),
        check,
    }))
}

/// Plans an event from its serialised `EventLogEntry`, stored verbatim in `run_id`'s log.
pub fn plan_dagster_text(run_id: &str, text: String) -> Result<Plan, SerdesError> {
    let entry = PyValue::parse(&text)?;
    if entry.class_name() != Some("EventLogEntry") {
        return Err(SerdesError::WrongClass {
            expected: "EventLogEntry",
            found: entry
                .class_name()
                .map_or("something else".into(), |c| format!("`{c}`")),
        });
    }
    let str_of = |v: Option<&PyValue>| v.and_then(PyValue::as_str).map(str::to_string);
    let timestamp = entry
        .get("timestamp")
        .and_then(PyValue::as_f64)
        .and_then(Timestamp::try_from_secs_f64)
        .unwrap_or(Timestamp::UNIX_EPOCH);
    let dagster_event = entry.get("dagster_event").filter(|v| **v != PyValue::Null);
    let Some(de) = dagster_event else {
        let row = EventRow {
            run_id: run_id.to_string(),
            event: text,
            dagster_event_type: None,
            timestamp,
            step_key: str_of(entry.get("step_key")),
            asset_key: None,
            partition: None,
        };
        return Ok(Plan {
            row,
            mirror_to_index: false,
            asset: None,
            asset_tags: Vec::new(),
            check: None,
        });
    };
    let event_type = str_of(de.get("event_type_value")).unwrap_or_default();
    let data = de.get("event_specific_data").unwrap_or(&PyValue::Null);
    let (subject, key_field) = asset_subject(&event_type, data);
    let asset_key = subject
        .and_then(|s| s.get(key_field))
        .and_then(asset_key_string);
    let partition = match event_type.as_str() {
        "ASSET_MATERIALIZATION"
        | "ASSET_OBSERVATION"
        | "ASSET_MATERIALIZATION_PLANNED"
        | "ASSET_FAILED_TO_MATERIALIZE" => str_of(subject.and_then(|s| s.get("partition"))),
        _ => None,
    };
    let is_asset = ASSET_EVENT_TYPES.contains(&event_type.as_str());
    let is_check = CHECK_EVENT_TYPES.contains(&event_type.as_str());
    let asset = match (is_asset && asset_key.is_some(), event_type.as_str()) {
        (false, _) => None,
        (true, "ASSET_MATERIALIZATION") => Some(AssetUpdate::Materialization),
        (true, "ASSET_MATERIALIZATION_PLANNED") => Some(AssetUpdate::Planned),
        (true, "ASSET_OBSERVATION") => Some(AssetUpdate::Observation),
        // Other asset events (a failed materialization, a freshness change) leave `asset_keys`
        // as it is, as in Dagster (`_get_asset_entry_values` gives nothing to write).
        (true, _) => None,
    };
    let asset_tags = match (&asset, subject) {
        (Some(AssetUpdate::Materialization | AssetUpdate::Observation), Some(s)) => {
            indexed_tags(s.get("tags"))
        }
        _ => Vec::new(),
    };
    let check = if is_check {
        check_update(&event_type, data)
    } else {
        None
    };
    let row = EventRow {
        run_id: run_id.to_string(),
        event: text,
        dagster_event_type: Some(event_type.clone()),
        timestamp,
        step_key: str_of(de.get("step_key")),
        asset_key,
        partition,
    };
    Ok(Plan {
        row,
        mirror_to_index: is_asset
            || is_check
            || RUN_STATUS_EVENT_TYPES.contains(&event_type.as_str()),
        asset,
        asset_tags,
        check,
    })
}

/// The object holding an asset event's key and partition, and the key's field name there (as
/// Dagster's `DagsterEvent.asset_key` / `.partition` find them).
fn asset_subject<'a>(event_type: &str, data: &'a PyValue) -> (Option<&'a PyValue>, &'static str) {
    match event_type {
        "ASSET_MATERIALIZATION" => (data.get("materialization"), "asset_key"),
        "ASSET_OBSERVATION" => (data.get("asset_observation"), "asset_key"),
        "ASSET_MATERIALIZATION_PLANNED" | "ASSET_HEALTH_CHANGED" | "ASSET_WIPED" => {
            (Some(data), "asset_key")
        }
        "ASSET_FAILED_TO_MATERIALIZE" => (data.get("asset_materialization_failure"), "asset_key"),
        "FRESHNESS_STATE_CHANGE" => (Some(data), "key"),
        _ => (None, "asset_key"),
    }
}

/// A serialised `AssetKey` as Dagster's `AssetKey.to_string()` writes it: `json.dumps(path)`.
fn asset_key_string(key: &PyValue) -> Option<String> {
    let path = key.get("path")?.as_list()?;
    path.iter()
        .all(|p| p.as_str().is_some())
        .then(|| PyValue::List(path.to_vec()).to_python_json())
}

/// `key` as Dagster writes it to the `asset_key` columns (`["a", "b"]`).
pub fn dagster_asset_key(key: &crate::event::AssetKey) -> String {
    PyValue::List(key.path().iter().map(PyValue::str).collect()).to_python_json()
}

/// The tags Dagster indexes in `asset_event_tags`.
fn indexed_tags(tags: Option<&PyValue>) -> Vec<(String, String)> {
    match tags {
        Some(PyValue::Object(map)) => map
            .iter()
            .filter(|(k, _)| *k == "dagster/data_version" || k.starts_with("dagster/partition/"))
            .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
            .collect(),
        _ => Vec::new(),
    }
}

fn check_update(event_type: &str, data: &PyValue) -> Option<CheckUpdate> {
    let asset_key = data.get("asset_key").and_then(asset_key_string)?;
    let check_name = data.get("check_name")?.as_str()?.to_string();
    if event_type == "ASSET_CHECK_EVALUATION_PLANNED" {
        // A plan for a subset of partitions would need the subset decoded; only whole plans are
        // recorded (the evaluation then inserts its row).
        if data
            .get("partitions_subset")
            .is_some_and(|s| *s != PyValue::Null)
        {
            return None;
        }
        return Some(CheckUpdate {
            asset_key,
            check_name,
            partition: None,
            status: "PLANNED",
            planned: true,
            materialization_storage_id: None,
        });
    }
    let passed = matches!(data.get("success"), Some(PyValue::Bool(true)));
    let materialization_storage_id = data
        .get("target_materialization_data")
        .and_then(|t| t.get("storage_id"))
        .and_then(|id| match id {
            PyValue::Int(i) => i64::try_from(*i).ok(),
            _ => None,
        });
    Some(CheckUpdate {
        asset_key,
        check_name,
        partition: data
            .get("partition")
            .and_then(PyValue::as_str)
            .map(str::to_string),
        status: if passed { "SUCCEEDED" } else { "FAILED" },
        planned: false,
        materialization_storage_id,
    })
}

/// The `asset_keys.last_materialization` text: Dagster's serialised `EventLogRecord` of the event
/// with its storage id (keys in `sort_keys` order, the entry embedded as it is stored).
pub fn last_materialization_record(event: &str, storage_id: i64) -> String {
    format!(
        "{{\"__class__\": \"EventLogRecord\", \"event_log_entry\": {event}, \"storage_id\": {storage_id}}}"
    )
}

/// `ts` as Dagster writes naive UTC datetimes to SQLite (`YYYY-MM-DD HH:MM:SS.ffffff`).
pub fn naive_utc(ts: Timestamp) -> String {
    ts.as_jiff().strftime("%Y-%m-%d %H:%M:%S.%6f").to_string()
}

/// Reads a naive UTC datetime as SQLite holds it (`YYYY-MM-DD HH:MM:SS[.ffffff]`, as Dagster and
/// `CURRENT_TIMESTAMP` write it).
pub fn parse_naive_utc(text: &str) -> Option<Timestamp> {
    let civil: jiff::civil::DateTime = text.trim().replacen(' ', "T", 1).parse().ok()?;
    let ts = jiff::tz::Offset::UTC.to_timestamp(civil).ok()?;
    Some(Timestamp::from(ts))
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
