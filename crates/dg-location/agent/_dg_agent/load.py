"""Loading a code location: importing its definitions as Dagster would and describing them as a
snapshot (plain data; `crates/dg-location/src/snapshot.rs` holds the types, the source of truth)."""

import importlib
import importlib.util
import os
import platform
import sys
import time
from pathlib import Path

from _dg_agent.errors import DefinitionsNotFound, error_info
from _dg_agent.protocol import SNAPSHOT_SCHEMA_VERSION, jsonable


# ---------------------------------------------------------------------------------------------
# Loading


def handle_load(target, state):
    started = time.perf_counter()
    try:
        working_directory = target.get("working_directory") or os.getcwd()
        # Like Dagster's loaders: the working directory replaces the script path on sys.path.
        if sys.path and sys.path[0] in ("", os.getcwd()):
            sys.path.pop(0)
        sys.path.insert(0, working_directory)
        import dagster

        dagster_seconds = time.perf_counter() - started
        _set_initialization_context()
        defs, loaded_from = load_definitions(dagster, target)
        repo = defs.get_repository_def() if isinstance(defs, dagster.Definitions) else defs
        state["defs"] = defs
        snapshot = build_snapshot(dagster, repo, target)
        snapshot["loaded_from"] = loaded_from
        snapshot["dagster_version"] = dagster.__version__
        snapshot["python_version"] = platform.python_version()
        snapshot["import_dagster_seconds"] = round(dagster_seconds, 4)
        snapshot["load_seconds"] = round(time.perf_counter() - started, 4)
        return {"type": "loaded", "snapshot": snapshot}
    except BaseException as exc:  # noqa: BLE001 - every failure of user code is reported
        if isinstance(exc, KeyboardInterrupt):
            raise
        return {
            "type": "load_failed",
            "error": error_info(exc),
            "load_seconds": round(time.perf_counter() - started, 4),
        }
    finally:
        sys.stdout.flush()
        sys.stderr.flush()


def _set_initialization_context():
    # Private in dagster 1.13: what `dg list defs` and the code server do before loading.
    try:
        from dagster._core.definitions.definitions_load_context import (
            DefinitionsLoadContext,
            DefinitionsLoadType,
        )

        DefinitionsLoadContext.set(
            DefinitionsLoadContext(load_type=DefinitionsLoadType.INITIALIZATION)
        )
    except ImportError:
        pass


def load_definitions(dagster, target):
    root_module = target.get("root_module") or ""
    module_name = target.get("target_module") or f"{root_module}.definitions"
    if _module_exists(module_name):
        module = importlib.import_module(module_name)
        return definitions_from_module(dagster, module)
    defs_module_name = target.get("defs_module") or f"{root_module}.defs"
    if not _module_exists(defs_module_name):
        raise DefinitionsNotFound(
            f"Neither the target module `{module_name}` nor the defs module "
            f"`{defs_module_name}` exists under `{target.get('working_directory') or os.getcwd()}`."
        )
    from dagster.components import load_defs

    module = importlib.import_module(defs_module_name)
    root = Path(target.get("root") or os.getcwd())
    if hasattr(module, "__path__"):
        defs = load_defs(module, project_root=root)
    else:
        defs = _defs_of_file(dagster, module, root)
    return defs, {"kind": "defs_folder", "module": defs_module_name, "attribute": None}


def _defs_of_file(dagster, module, root):
    """One file of the defs folder (`dg list defs --path file.py`): what Dagster's component tree
    builds for it, as the real `dg list defs --path` does (every kind of definition in the file:
    assets, jobs, schedules, sensors...); older `dagster` without `ComponentTree`: every
    definition at module level."""
    tree = getattr(dagster, "ComponentTree", None)
    if tree is not None and hasattr(tree, "for_project"):
        return tree.for_project(root).build_defs(Path(module.__file__))
    return dagster.load_definitions_from_module(module)


def _module_exists(name):
    parent, _, _ = name.rpartition(".")
    if parent:
        # Importing the parent runs user code: its errors are the user's and propagate.
        importlib.import_module(parent)
    return importlib.util.find_spec(name) is not None


def _members_of_type(module, klass):
    return [(name, value) for name, value in vars(module).items() if isinstance(value, klass)]


def definitions_from_module(dagster, module):
    """The cascade Dagster applies to a module without an explicit attribute."""
    lazy_type = type(dagster.definitions(lambda: dagster.Definitions()))
    found = {"module": module.__name__}

    lazy = _members_of_type(module, lazy_type)
    if len(lazy) > 1:
        raise DefinitionsNotFound(
            f"More than one function decorated with `@definitions` in `{module.__name__}`: "
            + ", ".join(f"`{name}`" for name, _ in lazy)
        )
    if lazy:
        name, fn = lazy[0]
        return fn(), dict(found, kind="definitions_function", attribute=name)

    objects = _members_of_type(module, dagster.Definitions)
    if len(objects) > 1:
        raise DefinitionsNotFound(
            "Cannot have more than one Definitions object defined at module scope. Found: "
            + ", ".join(f"`{module.__name__}.{name}`" for name, _ in objects)
        )
    if objects:
        name, defs = objects[0]
        return defs, dict(found, kind="definitions_object", attribute=name)

    repos = _members_of_type(module, dagster.RepositoryDefinition)
    if len(repos) > 1:
        raise DefinitionsNotFound(
            f"More than one repository in `{module.__name__}`: "
            + ", ".join(f"`{name}`" for name, _ in repos)
        )
    if repos:
        name, repo = repos[0]
        return repo, dict(found, kind="repository", attribute=name)

    for kind, klass in (("job", dagster.JobDefinition), ("graph", dagster.GraphDefinition)):
        items = _members_of_type(module, klass)
        if kind == "graph":
            items = [(n, g) for n, g in items if not isinstance(g, dagster.JobDefinition)]
        if len(items) > 1:
            raise DefinitionsNotFound(
                f"No Definitions and more than one {kind} in `{module.__name__}`: "
                + ", ".join(f"`{name}`" for name, _ in items)
            )
        if items:
            name, item = items[0]
            job = item if kind == "job" else item.to_job()
            return dagster.Definitions(jobs=[job]), dict(found, kind=kind, attribute=name)

    assets = dagster.load_assets_from_modules([module])
    if assets:
        return dagster.Definitions(assets=assets), dict(found, kind="assets", attribute=None)
    raise DefinitionsNotFound(
        f"No `@definitions` function, Definitions object, repository, job, graph or asset "
        f"found in `{module.__name__}`."
    )


# ---------------------------------------------------------------------------------------------
# Snapshot


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
