"""What real Dagster sees in the instance of $DAGSTER_HOME, as one JSON line on stdout.

Run by the instance tests with a Python that has `dagster` (and `dagster-postgres` for a
PostgreSQL instance) and nothing of dg: every read goes through `DagsterInstance.get()`.
"""

import json

import dagster as dg

instance = dg.DagsterInstance.get()
runs = list(reversed(instance.get_runs()))  # oldest first
out = {"runs": [], "events": {}, "latest_materialization": {}, "dynamic_partitions": {}}
for run in runs:
    out["runs"].append(
        {
            "run_id": run.run_id,
            "status": run.status.value,
            "job_name": run.job_name,
            "tags": dict(run.tags),
            "asset_selection": sorted(k.to_user_string() for k in (run.asset_selection or [])),
            "has_job_snapshot": bool(run.job_snapshot_id)
            and instance.has_job_snapshot(run.job_snapshot_id),
            "has_execution_plan_snapshot": bool(run.execution_plan_snapshot_id)
            and instance.get_execution_plan_snapshot(run.execution_plan_snapshot_id) is not None,
        }
    )
    events = []
    for entry in instance.all_logs(run.run_id):
        if entry.is_dagster_event:
            event = {"type": entry.dagster_event.event_type_value, "step": entry.step_key}
            if entry.dagster_event.is_step_materialization:
                event["asset"] = entry.dagster_event.asset_key.to_user_string()
        else:
            event = {"type": "LOG", "message": entry.user_message}
        events.append(event)
    out["events"][run.run_id] = events
for key in instance.get_asset_keys():
    event = instance.get_latest_materialization_event(key)
    if event is not None:
        out["latest_materialization"][key.to_user_string()] = event.run_id
for name in ["fruits"]:
    out["dynamic_partitions"][name] = sorted(instance.get_dynamic_partitions(name))
print(json.dumps(out))
