"""The persistent `DagsterInstance` runs execute with, the only module touching private Dagster.

`open_instance(home)` opens the instance of the instance home as Dagster does (`DAGSTER_HOME` set to
it, its `dagster.yaml` read, so SQLite and PostgreSQL both work) and changes three of its objects in
place, by swapping their classes for subclasses made here at runtime (every attribute, connection
and `isinstance` check stays as Dagster made it; only the methods below change):

* the event log storage: `store_event` / `store_event_batch` hand each `EventLogEntry` to the run's
  host link (`attach`) instead of writing: the host stores it. Every other method (reads, and the
  writes that are not events: dynamic partitions, wipes, concurrency) first waits until the host
  acknowledged every event sent so far, then runs as Dagster's, so reads see earlier events of the
  same run and writes land after them;
* the run storage: `handle_run_event` writes nothing (the host owns the run's status); `add_run` of
  a run the host already created adopts it: the stored status and the host's tags stay, Dagster's
  run (snapshot ids, config, selection) replaces the rest;
* the local compute log manager (the instance's, or the local one of a cloud manager):
  `capture_logs` leaves the process's descriptors 1 and 2 on the run's capture pipes and has the
  capture copy every byte to the manager's files (Dagster's own mirror follows the file with
  `tail -F`, which delays output and can lose its end).

When Dagster's internals moved so that this cannot be done, `open_instance` raises `Unsupported`
saying what is missing, before any run executes.
"""

import contextlib
import inspect
import os

POSTGRES_FIX = "add it to the project's environment (`uv add dagster-postgres`)"

# Event log storage methods that run without waiting for the host: the two that send, and those
# that neither read events nor write anything events could race with.
NO_WAIT = frozenset(
    {
        "store_event",
        "store_event_batch",
        "register_instance",
        "dispose",
        "upgrade",
        "reindex_events",
        "reindex_assets",
        "watch",
        "end_watch",
        "optimize_for_webserver",
        "alembic_version",
        "is_run_sharded",
        "default_run_scoped_event_tailer_offset",
    }
)
NO_WAIT_PREFIXES = ("supports_", "can_", "asset_records_have_", "has_bounded_")


class Unsupported(RuntimeError):
    """This Dagster's internals are not the ones `instance` knows."""


class MissingPackage(RuntimeError):
    """The instance's storage needs a package the environment lacks."""


class Link:
    """What the patched instance talks to during a run: `send(entry)` hands one `EventLogEntry` to
    the host, `wait_stored()` blocks until the host stored everything sent (or raises)."""

    def __init__(self, send, wait_stored, capture=None):
        self.send = send
        self.wait_stored = wait_stored
        self.capture = capture


def open_instance(home):
    """The persistent instance of `home`, patched as the module says (unattached: it sends nothing
    and waits for nothing until `attach`)."""
    home = os.path.abspath(home)
    # The host makes a SQLite home when it opens storage; a PostgreSQL one may not exist yet, and
    # Dagster refuses a home that is not a directory.
    os.makedirs(home, exist_ok=True)
    os.environ["DAGSTER_HOME"] = home
    check_storage_packages(home)
    import dagster

    instance = dagster.DagsterInstance.from_config(home)
    patch(instance)
    return instance


def attach(instance, link):
    """Makes `instance` send its events through `link` (one per run; `None` detaches)."""
    instance._event_storage._dg_link = link  # noqa: SLF001
    manager = _local_log_manager(instance)
    if manager is not None:
        manager._dg_link = link  # noqa: SLF001


def serialize(entry):
    """Dagster's serialised JSON text of `entry`, as its storages write it."""
    import dagster

    serialize_value = getattr(dagster, "serialize_value", None)
    if serialize_value is None:  # older Dagster: only the private module has it
        from dagster._serdes import serialize_value
    return serialize_value(entry)


# ---------------------------------------------------------------------------------------------
# PostgreSQL and other storages in packages of their own


def check_storage_packages(home):
    """Raises `MissingPackage` when the home's `dagster.yaml` selects PostgreSQL and the
    environment cannot import `dagster_postgres` (or the driver it needs)."""
    path = os.path.join(home, "dagster.yaml")
    if not os.path.exists(path):
        return
    import yaml

    with open(path, encoding="utf-8") as f:
        config = yaml.safe_load(f) or {}
    if not _selects_postgres(config):
        return
    try:
        import dagster_postgres  # noqa: F401
    except ImportError as exc:
        missing = getattr(exc, "name", None) or "dagster_postgres"
        if missing.split(".")[0] == "dagster_postgres":
            raise MissingPackage(
                f"the instance's `{path}` stores runs in PostgreSQL, which needs the "
                f"`dagster-postgres` package, missing from this environment: {POSTGRES_FIX}"
            ) from exc
        raise MissingPackage(
            f"the instance's `{path}` stores runs in PostgreSQL: `dagster-postgres` needs the "
            f"module `{missing}`, missing from this environment (`uv add {missing}`)"
        ) from exc


def _selects_postgres(config):
    if not isinstance(config, dict):
        return False
    storage = config.get("storage")
    if isinstance(storage, dict) and "postgres" in storage:
        return True
    for key in ("storage", "run_storage", "event_log_storage", "schedule_storage"):
        section = config.get(key)
        if isinstance(section, dict) and str(section.get("module", "")).startswith(
            "dagster_postgres"
        ):
            return True
    return False


# ---------------------------------------------------------------------------------------------
# Patching


_SUBCLASSES = {}


def patch(instance):
    events = getattr(instance, "_event_storage", None)
    runs = getattr(instance, "_run_storage", None)
    if events is None or runs is None:
        raise Unsupported(_moved("the instance's `_event_storage` / `_run_storage`"))
    _swap(events, _event_storage_namespace)
    _swap(runs, _run_storage_namespace)
    events._dg_link = None  # noqa: SLF001
    manager = _local_log_manager(instance)
    if manager is not None:
        _swap(manager, _log_manager_namespace)
        manager._dg_link = None  # noqa: SLF001


def _swap(obj, make_namespace):
    base = type(obj)
    if getattr(base, "_dg_patched", False):
        return
    sub = _SUBCLASSES.get(base)
    if sub is None:
        namespace = make_namespace(base)
        namespace["_dg_patched"] = True
        sub = type(f"Dg{base.__name__}", (base,), namespace)
        _SUBCLASSES[base] = sub
    try:
        obj.__class__ = sub
    except TypeError as exc:
        raise Unsupported(_moved(f"`{base.__name__}` (its class cannot be swapped: {exc})")) from exc


def _moved(what):
    import dagster

    return (
        f"dg cannot run with this Dagster ({dagster.__version__}): {what} is not where dg expects "
        "it; use a Dagster version dg supports (see `dg --version`)"
    )


def _event_storage_namespace(base):
    from dagster._core.storage.event_log.base import EventLogStorage

    for name in ("store_event", "store_event_batch", "get_records_for_run"):
        if not callable(getattr(base, name, None)):
            raise Unsupported(_moved(f"the event log storage's `{name}`"))

    def store_event(self, event):
        _link_of(self).send(event)

    def store_event_batch(self, events):
        link = _link_of(self)
        for event in events:
            link.send(event)

    namespace = {"store_event": store_event, "store_event_batch": store_event_batch}
    for name, member in inspect.getmembers(EventLogStorage):
        if (
            name.startswith("_")
            or name in NO_WAIT
            or name.startswith(NO_WAIT_PREFIXES)
            or not inspect.isfunction(inspect.getattr_static(EventLogStorage, name))
        ):
            continue
        namespace[name] = _waiting(base, name)
    return namespace


def _waiting(base, name):
    method = getattr(base, name)

    def wrapper(self, *args, **kwargs):
        link = getattr(self, "_dg_link", None)
        if link is not None:
            link.wait_stored()
        return method(self, *args, **kwargs)

    wrapper.__name__ = name
    wrapper.__qualname__ = f"Dg{base.__name__}.{name}"
    wrapper.__doc__ = method.__doc__
    return wrapper


def _link_of(storage):
    link = getattr(storage, "_dg_link", None)
    if link is None:
        raise RuntimeError(
            "this instance stores events through dg's host, and no run is attached to it"
        )
    return link


def _run_storage_namespace(base):
    from dagster._core.errors import DagsterRunAlreadyExists

    add_run = base.add_run

    def handle_run_event(self, run_id, event, update_timestamp=None):
        return None  # the host sets the run's status from the events it stores

    def adopting_add_run(self, dagster_run):
        try:
            return add_run(self, dagster_run)
        except DagsterRunAlreadyExists:
            return adopt_run(self, dagster_run)

    return {"handle_run_event": handle_run_event, "add_run": adopting_add_run}


def adopt_run(storage, dagster_run):
    """Stores Dagster's `dagster_run` in the run row the host created with the same id, keeping the
    stored status and tags (the host's win over Dagster's on the same key); returns the run as
    stored."""
    from dagster._core.storage.runs.schema import RunsTable, RunTagsTable
    from dagster._core.storage.runs.sql_run_storage import SqlRunStorage

    if not isinstance(storage, SqlRunStorage):
        raise Unsupported(
            f"dg cannot adopt run {dagster_run.run_id} in a run storage of type "
            f"`{type(storage).__name__}` (only Dagster's SQL run storages)"
        )
    import dagster

    found = storage.get_runs(dagster.RunsFilter(run_ids=[dagster_run.run_id]))
    if not found:
        raise RuntimeError(f"run {dagster_run.run_id} exists and cannot be read")
    existing = found[0]
    adopted = dagster_run._replace(
        status=existing.status,
        tags={**dagster_run.tags, **existing.tags},
        remote_job_origin=dagster_run.remote_job_origin or existing.remote_job_origin,
        job_code_origin=dagster_run.job_code_origin or existing.job_code_origin,
        root_run_id=dagster_run.root_run_id or existing.root_run_id,
        parent_run_id=dagster_run.parent_run_id or existing.parent_run_id,
    )
    values = {
        "run_body": serialize(adopted),
        "snapshot_id": adopted.job_snapshot_id,
        "pipeline_name": adopted.job_name,
    }
    new_tags = {k: v for k, v in adopted.tags_for_storage().items() if k not in existing.tags}
    with storage.connect() as conn:
        conn.execute(
            RunsTable.update().where(RunsTable.c.run_id == adopted.run_id).values(**values)
        )
        if new_tags:
            conn.execute(
                RunTagsTable.insert(),
                [dict(run_id=adopted.run_id, key=k, value=v) for k, v in new_tags.items()],
            )
    return adopted


# ---------------------------------------------------------------------------------------------
# Compute logs


def _local_log_manager(instance):
    """The `LocalComputeLogManager` that writes the instance's compute-log files (the instance's
    own, or the local one a cloud manager uploads from), or `None` (no files to write)."""
    try:
        from dagster._core.storage.local_compute_log_manager import LocalComputeLogManager
    except ImportError:
        return None
    manager = instance.compute_log_manager  # made on first use, from the instance's config
    if isinstance(manager, LocalComputeLogManager):
        return manager
    local = getattr(manager, "local_manager", None)
    return local if isinstance(local, LocalComputeLogManager) else None


def _log_manager_namespace(base):
    from dagster._core.storage.compute_log_manager import CapturedLogContext

    capture_logs = base.capture_logs
    for name in ("get_captured_local_path", "complete_artifact_path"):
        if not callable(getattr(base, name, None)):
            raise Unsupported(_moved(f"the local compute log manager's `{name}`"))

    @contextlib.contextmanager
    def teeing_capture_logs(self, log_key):
        link = getattr(self, "_dg_link", None)
        capture = getattr(link, "capture", None)
        if capture is None:
            with capture_logs(self, log_key) as context:
                yield context
            return
        out = self.get_captured_local_path(log_key, "out")
        err = self.get_captured_local_path(log_key, "err")
        with capture.tee(out, err):
            yield CapturedLogContext(log_key)
        complete = self.complete_artifact_path(log_key)
        os.makedirs(os.path.dirname(complete), exist_ok=True)
        with open(complete, "a", encoding="utf-8"):
            pass

    return {"capture_logs": teeing_capture_logs}

