"""The snapshot of loaded definitions: plain data in the schema of
`crates/dg-location/src/snapshot.rs` (the source of truth), built from Dagster's repository."""

import os
from pathlib import Path

from _dg_agent.protocol import SNAPSHOT_SCHEMA_VERSION, jsonable


def build_snapshot(dagster, repo, target):
    root = Path(target.get("root") or os.getcwd())
    graph = repo.asset_graph
    targets = asset_targets(repo)
    assets = []
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        jobs, sensors, schedules = targets(key)
        assets.append(
            {
                "key": list(key.path),
                "group_name": node.group_name,
                "deps": sorted((list(k.path) for k in node.parent_keys), key="/".join),
                "kinds": sorted(node.kinds),
                "description": node.description,
                "tags": {str(k): str(v) for k, v in (node.tags or {}).items()},
                "owners": list(node.owners or []),
                "metadata": metadata_of(node.metadata),
                "partitions": partitions_of(dagster, node.partitions_def),
                "automation_condition": automation_condition_of(node.automation_condition),
                "code_version": node.code_version,
                "is_executable": bool(node.is_executable),
                "is_materializable": bool(node.is_materializable),
                "is_observable": bool(node.is_observable),
                "is_auto_created_stub": bool(
                    (node.metadata or {}).get("dagster/auto_created_stub_asset")
                ),
                "source": source_of(node.metadata, root),
                "job_names": jobs,
                "targeting_sensor_names": sensors,
                "targeting_schedule_names": schedules,
            }
        )
    checks = []
    for key in sorted(graph.asset_check_keys, key=lambda k: k.to_user_string()):
        node = graph.get(key)
        checks.append(
            {
                "asset_key": list(key.asset_key.path),
                "name": key.name,
                "additional_deps": sorted(
                    (list(k.path) for k in node.parent_entity_keys), key="/".join
                ),
                "description": node.description,
                "blocking": bool(getattr(node, "blocking", False)),
                "source": source_of(getattr(node, "metadata", None) or {}, root),
            }
        )
    jobs = [
        {
            "name": job.name,
            "description": job.description,
            "tags": {str(k): str(v) for k, v in (job.tags or {}).items()},
            "source": source_of(job.metadata or {}, root),
        }
        for job in repo.get_all_jobs()
        if not job.name.startswith("__ASSET_JOB")
    ]
    schedules = []
    for schedule in repo.schedule_defs:
        cron = schedule.cron_schedule
        schedules.append(
            {
                "name": schedule.name,
                "cron_schedule": [cron] if isinstance(cron, str) else list(cron),
                "execution_timezone": schedule.execution_timezone,
                "job_name": _safe(lambda: schedule.job_name),
                "default_status": schedule.default_status.value,
                "description": schedule.description,
                "source": source_of(schedule.metadata or {}, root),
            }
        )
    sensors = []
    for sensor in repo.sensor_defs:
        sensors.append(
            {
                "name": sensor.name,
                "sensor_type": str(sensor.sensor_type.value).lower(),
                "job_names": sorted(
                    {t.job_name for t in _safe(lambda: sensor.targets, []) if t.job_name}
                ),
                "minimum_interval_seconds": sensor.minimum_interval_seconds,
                "default_status": sensor.default_status.value,
                "description": sensor.description,
                "source": source_of(sensor.metadata or {}, root),
            }
        )
    resources = [
        {"name": name, "type": resource_type_name(resource)}
        for name, resource in sorted(repo.get_top_level_resources().items())
    ]
    return {
        "schema_version": SNAPSHOT_SCHEMA_VERSION,
        "assets": assets,
        "asset_checks": checks,
        "jobs": jobs,
        "schedules": schedules,
        "sensors": sensors,
        "resources": resources,
    }


IMPLICIT_ASSET_JOB = "__ASSET_JOB"


def asset_targets(repo):
    """What targets each asset, by the rules of Dagster's remote repository (what its UI and the
    `job:`, `sensor:` and `schedule:` selections see): a function from an asset key to the sorted
    names of the jobs that execute it (the implicit `__ASSET_JOB` included), of the sensors that
    target it (through its asset selection, or through a job other than the implicit one that
    executes it; an automation sensor only counts for assets with an automation condition), and
    of the schedules that target it (through such a job)."""
    graph = repo.asset_graph
    jobs_of = {}
    for job in repo.get_all_jobs():
        layer = job.asset_layer
        for key in set(getattr(layer, "selected_asset_keys", ())) | set(
            getattr(layer, "external_job_asset_keys", ())
        ):
            jobs_of.setdefault(key, set()).add(job.name)
    sensors_of_job, sensors_of_key = {}, {}
    for sensor in repo.sensor_defs:
        for target in _safe(lambda: sensor.targets, []) or []:
            if getattr(target, "job_name", None):
                sensors_of_job.setdefault(target.job_name, set()).add(sensor.name)
        selection = _safe(lambda: sensor.asset_selection)
        if selection is None:
            continue
        automation = str(sensor.sensor_type.value).lower() in ("auto_materialize", "automation")
        for key in _safe(lambda: selection.resolve(graph), ()) or ():
            if automation and not (graph.has(key) and graph.get(key).automation_condition):
                continue
            sensors_of_key.setdefault(key, set()).add(sensor.name)
    schedules_of_job = {}
    for schedule in repo.schedule_defs:
        job_name = _safe(lambda: schedule.job_name)
        if job_name:
            schedules_of_job.setdefault(job_name, set()).add(schedule.name)

    def targets(key):
        jobs = jobs_of.get(key, set())
        sensors = set(sensors_of_key.get(key, ()))
        schedules = set()
        for job in jobs - {IMPLICIT_ASSET_JOB}:
            sensors |= sensors_of_job.get(job, set())
            schedules |= schedules_of_job.get(job, set())
        return sorted(jobs), sorted(sensors), sorted(schedules)

    return targets


def _safe(fn, default=None):
    try:
        return fn()
    except Exception:  # noqa: BLE001 - optional detail
        return default


def metadata_of(metadata):
    out = {}
    for key, value in (metadata or {}).items():
        if key == "dagster/code_references":
            continue
        raw = getattr(value, "value", value)
        out[str(key)] = {"type": type(value).__name__, "value": jsonable(raw)}
    return out


def source_of(metadata, root):
    refs = getattr(metadata.get("dagster/code_references"), "code_references", None) or []
    for ref in refs:
        path = getattr(ref, "file_path", None)
        if path is None:
            continue
        try:
            relative = Path(path).resolve().relative_to(root.resolve())
        except ValueError:
            continue
        line = getattr(ref, "line_number", None)
        return f"{relative}:{line}" if line else str(relative)
    return None


def partitions_of(dagster, pd):
    if pd is None:
        return None
    snap = {"kind": "other", "description": str(pd)}
    if isinstance(pd, dagster.TimeWindowPartitionsDefinition):
        snap.update(
            kind="time_window",
            cron_schedule=pd.cron_schedule,
            start=pd.start.isoformat(),
            end=pd.end.isoformat() if pd.end else None,
            timezone=pd.timezone,
            fmt=pd.fmt,
        )
    elif isinstance(pd, dagster.StaticPartitionsDefinition):
        snap.update(kind="static", keys=list(pd.get_partition_keys()))
    elif isinstance(pd, dagster.DynamicPartitionsDefinition):
        snap.update(kind="dynamic", name=pd.name)
    elif isinstance(pd, dagster.MultiPartitionsDefinition):
        snap.update(
            kind="multi",
            dimensions=[
                {"name": dim.name, "partitions": partitions_of(dagster, dim.partitions_def)}
                for dim in pd.partitions_defs
            ],
        )
    return snap


def automation_condition_of(condition):
    if condition is None:
        return None
    snapshot = condition.get_snapshot()
    expanded = []
    try:  # private in dagster 1.13; the label alone is public
        from dagster._core.definitions.declarative_automation.serialized_objects import (
            get_expanded_label,
        )

        expanded = list(get_expanded_label(snapshot))
    except Exception:  # noqa: BLE001
        pass
    return {"label": snapshot.node_snapshot.label, "expanded_label": expanded}


def resource_type_name(resource):
    try:  # private in dagster 1.13: the name `dg list defs` shows
        from dagster._config.pythonic_config.resource import get_resource_type_name

        return get_resource_type_name(resource)
    except Exception:  # noqa: BLE001
        cls = type(resource)
        return f"{cls.__module__}.{cls.__qualname__}"
