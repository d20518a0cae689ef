"""Reads each of dg's serialised rows (one JSON object a line on stdin: {"kind": "event"|"run",
"json": <row>}) with real Dagster's `deserialize_value`, and prints per row what Dagster sees, plus
whether `serialize_value` of the result gives the same bytes back."""

import json
import math
import sys

from dagster import DagsterRun
from dagster._core.events.log import EventLogEntry
from dagster._serdes import deserialize_value, serialize_value


def plain(value):
    value = getattr(value, "value", value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


def error_of(err):
    if err is None:
        return None
    return {"cls_name": err.cls_name, "message": err.message, "stack": list(err.stack)}


def event_summary(entry):
    out = {
        "run_id": entry.run_id,
        "job_name": entry.job_name,
        "step_key": entry.step_key,
        "timestamp": entry.timestamp,
        "level": entry.level,
        "user_message": entry.user_message,
        "event_type": None,
    }
    de = entry.dagster_event
    if de is None:
        return out
    out["event_type"] = de.event_type_value
    out["is_step_event"] = de.is_step_event
    data = de.event_specific_data
    if de.is_step_materialization or de.event_type_value == "ASSET_OBSERVATION":
        ev = de.step_materialization_data.materialization if de.is_step_materialization else data.asset_observation
        out["asset_key"] = list(ev.asset_key.path)
        out["partition"] = ev.partition
        out["metadata"] = {k: plain(v) for k, v in ev.metadata.items()}
    if de.event_type_value == "ASSET_CHECK_EVALUATION":
        out["asset_key"] = list(data.asset_key.path)
        out["check_name"] = data.check_name
        out["passed"] = data.passed
        out["severity"] = data.severity.value
        out["partition"] = data.partition
        out["metadata"] = {k: plain(v) for k, v in data.metadata.items()}
    if de.event_type_value == "STEP_SUCCESS":
        out["duration_ms"] = data.duration_ms
    if de.event_type_value in ("STEP_FAILURE", "PIPELINE_FAILURE"):
        out["error"] = error_of(data.error)
    if de.event_type_value == "LOGS_CAPTURED":
        out["log_key"] = data.file_key  # stored as `log_key`
        out["step_keys"] = list(data.step_keys)
    return out


def run_summary(run):
    return {
        "run_id": run.run_id,
        "job_name": run.job_name,
        "status": run.status.value,
        "tags": dict(run.tags),
        "run_config": run.run_config,
        "partition": run.tags.get("dagster/partition"),
    }


for line in sys.stdin:
    row = json.loads(line)
    try:
        if row["kind"] == "event":
            value = deserialize_value(row["json"], EventLogEntry)
            summary = event_summary(value)
        else:
            value = deserialize_value(row["json"], DagsterRun)
            summary = run_summary(value)
        summary["same_bytes"] = serialize_value(value) == row["json"]
    except Exception as exc:  # reported to the Rust side, which names the row
        summary = {"exception": f"{type(exc).__name__}: {exc}"}
    print(json.dumps(summary), flush=True)
