//! Runs and events as Dagster's rows hold them, read back (and the run row's columns written) the
//! same way by both backends: `runs.run_body` is a serialised `PipelineRun` whose status the
//! `status` column overrides (as Dagster reads it), times are the row's columns, the worker and
//! heartbeat are dg's `dg_run_workers` row; an event is its serialised `EventLogEntry`.

use std::collections::BTreeMap;

use crate::dagster::serdes::{self, PyValue, RunTimes};
use crate::error::{Result, StorageError};
use crate::event::EventRecord;
use crate::run::{NewRun, Run, RunStatus, Timestamp, Worker};

/// Dagster's run tag of a partitioned run's partition set (the `partition_set` column).
const PARTITION_SET_TAG: &str = "dagster/partition_set";
/// Dagster's run tag of a backfill (the `backfill_id` column).
const BACKFILL_ID_TAG: &str = "dagster/backfill";

/// A `runs` row (with its `dg_run_workers` row) as read from either backend.
pub(crate) struct RunRow {
    pub run_id: String,
    pub run_body: String,
    pub status: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub start_time: Option<f64>,
    pub end_time: Option<f64>,
    pub worker_pid: Option<i64>,
    pub worker_host: Option<String>,
    pub heartbeat_at: Option<f64>,
}

impl RunRow {
    /// The run: the body's fields, the `status` column, the row's times and the worker. The tags
    /// that only carry the location and partition (`dagster/code_location`, `dagster/partition`)
    /// are dropped when they equal them, so a run reads back with the tags it was created with.
    pub fn into_run(self, location: &str) -> Result<Run> {
        let corrupt = |what: &str, message: String| StorageError::Corrupt {
            location: location.to_string(),
            what: format!("{what} of run `{}`", self.run_id),
            message,
        };
        let status = parse_status(location, &self.run_id, Some(self.status.clone()))?;
        let times = RunTimes {
            created_at: self.created_at,
            updated_at: self.updated_at,
            started_at: self.start_time.map(Timestamp::from_secs_f64),
            ended_at: self.end_time.map(Timestamp::from_secs_f64),
        };
        let mut run = serdes::run_from_dagster_json(&self.run_body, times)
            .map_err(|e| corrupt("run_body", e.to_string()))?;
        run.run_id = self.run_id;
        run.status = status;
        if run.tags.get(serdes::CODE_LOCATION_TAG) == Some(&run.location) {
            run.tags.remove(serdes::CODE_LOCATION_TAG);
        }
        if run.partition.is_some() && run.tags.get(serdes::PARTITION_TAG) == run.partition.as_ref()
        {
            run.tags.remove(serdes::PARTITION_TAG);
        }
        run.worker = match (self.worker_pid, self.worker_host) {
            (Some(pid), Some(hostname)) => Some(Worker {
                pid: u32::try_from(pid).unwrap_or(0),
                hostname,
            }),
            _ => None,
        };
        run.heartbeat_at = self.heartbeat_at.map(Timestamp::from_secs_f64);
        Ok(run)
    }
}

/// The run's status from its `status` column, or `RunNotFound` when there is no row. Dagster's
/// `MANAGED` (a run outside Dagster's control) reads as `STARTED`.
pub(crate) fn parse_status(
    location: &str,
    run_id: &str,
    status: Option<String>,
) -> Result<RunStatus> {
    let status = status.ok_or_else(|| StorageError::RunNotFound {
        run_id: run_id.to_string(),
    })?;
    if status == "MANAGED" {
        return Ok(RunStatus::Started);
    }
    status
        .parse()
        .map_err(|e: crate::run::UnknownStatus| StorageError::Corrupt {
            location: location.to_string(),
            what: format!("status of run `{run_id}`"),
            message: e.to_string(),
        })
}

/// The columns Dagster's `add_run` writes for a new run, besides the times.
pub(crate) struct NewRunRow {
    pub run: Run,
    pub run_body: String,
    pub partition: Option<String>,
    pub partition_set: Option<String>,
    pub backfill_id: Option<String>,
    /// The `run_tags` rows.
    pub tags: BTreeMap<String, String>,
}

impl NewRunRow {
    pub fn new(new: &NewRun) -> Self {
        let started = (new.status == RunStatus::Started).then_some(new.created_at);
        let ended = new.status.is_terminal().then_some(new.created_at);
        let run = Run {
            run_id: new.run_id.clone(),
            location: new.location.clone(),
            job_name: new.job_name.clone(),
            selection: new.selection.clone(),
            partition: new.partition.clone(),
            config: new.config.clone(),
            tags: new.tags.clone(),
            status: new.status,
            created_at: new.created_at,
            updated_at: new.created_at,
            started_at: started,
            ended_at: ended,
            worker: None,
            heartbeat_at: None,
        };
        let tags = serdes::dagster_run_tags(&run);
        Self {
            run_body: serdes::run_to_dagster_json(&run),
            partition: tags.get(serdes::PARTITION_TAG).cloned(),
            partition_set: tags.get(PARTITION_SET_TAG).cloned(),
            backfill_id: tags.get(BACKFILL_ID_TAG).cloned(),
            tags,
            run,
        }
    }
}

/// `run_body` with its status set to `status`, everything else kept byte for byte as Python
/// writes it (so the snapshot ids and origins a Dagster run carries survive dg's status changes).
pub(crate) fn body_with_status(
    location: &str,
    run_id: &str,
    body: &str,
    status: RunStatus,
) -> Result<String> {
    let mut value = PyValue::parse(body).map_err(|e| StorageError::Corrupt {
        location: location.to_string(),
        what: format!("run_body of run `{run_id}`"),
        message: e.to_string(),
    })?;
    if let PyValue::Object(map) = &mut value {
        map.insert(
            "status".into(),
            PyValue::enum_member(&format!("PipelineRunStatus.{}", status.as_str())),
        );
    }
    Ok(value.to_python_json())
}

/// Decodes a stored event (a serialised `EventLogEntry`).
pub(crate) fn event_record(
    location: &str,
    id: i64,
    run_id: String,
    seq: Option<i64>,
    text: &str,
) -> Result<EventRecord> {
    let event = serdes::event_from_dagster_json(text).map_err(|e| StorageError::Corrupt {
        location: location.to_string(),
        what: format!("event {id} of run `{run_id}`"),
        message: e.to_string(),
    })?;
    Ok(EventRecord {
        storage_id: id,
        run_id,
        seq,
        event,
    })
}

/// An `asset_check_executions` row as read: evaluation storage id, run, the writer's number, the
/// evaluation event.
pub(crate) type CheckRow = (Option<i64>, Option<String>, Option<i64>, String);
