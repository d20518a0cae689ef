"""Loading a code location: importing its definitions as Dagster would (the snapshot of what was
loaded is built by `snapshot`)."""

import importlib
import importlib.util
import os
import platform
import sys
import time
from pathlib import Path

from _dg_agent.errors import DefinitionsNotFound, error_info
from _dg_agent.snapshot import build_snapshot


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
