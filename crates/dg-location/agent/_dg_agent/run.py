"""Run execution: executes one Dagster run and streams its messages (built by `wire`) to the host.

The agent calls `handle(kind, request, state, channel)` when asked to execute a run:

* `execute_run`: the agent itself executes the run (the fresh-process launcher), then answers
  `run_finished`.
* `fork_run`: the agent forks; the child (its own process group) executes the run and exits, the
  parent answers `run_forked` at once and keeps serving (the warm launcher).

Either way the worker connects to the Unix socket named in the request (one per run, opened by the
host) and writes JSON lines there: `hello` (the wire version and its pid), `event` (a sequence
number from 1, an event and Dagster's text of it), and finally `end`; the host answers `stored`
acknowledgements on the same socket; see `wire` and `stream`.

The run executes with the instance home's persistent `DagsterInstance` (`instance`), under the run
id the host gave (the host created the run; Dagster's `add_run` adopts it). That instance's event
log storage sends each event over the socket instead of writing it, and its reads first wait until
the host stored everything sent, so `context.instance` sees the run's own earlier events. The
worker's file descriptors 1 and 2 are redirected to pipes while it runs, so everything user code
(and its subprocesses) prints becomes `STDOUT` / `STDERR` events, ordered with Dagster's events, and
is also written to the instance's compute-log files while Dagster captures logs.

Only the standard library and the public `dagster` API are used here; `instance` holds the rest.
"""

import logging
import os
import signal
import sys
import time

from _dg_agent import instance as dg_instance
from _dg_agent import wire
from _dg_agent.stream import HostLink, OutputCapture

ASSET_JOB_NAME = "__ASSET_JOB"
PARTITION_RANGE_START_TAG = "dagster/asset_partition_range_start"
PARTITION_RANGE_END_TAG = "dagster/asset_partition_range_end"


def handle(kind, request, state, channel):
    spec = request.get("run") or {}
    if kind == "fork_run":
        # Made here, in the agent, once per instance home: every forked run then starts with it
        # (and makes its own connection to the host after the fork).
        _prepare_instance(state, spec.get("instance_home"))
        # Children are reaped by the kernel: the agent never waits for them; the host watches the
        # run's socket and the pid instead.
        signal.signal(signal.SIGCHLD, signal.SIG_IGN)
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                os.setpgid(0, 0)
                channel.close()
                code = execute(spec, state)
            finally:
                os._exit(code)
        # The child makes itself a group leader too, but maybe not yet: set it from here as well,
        # so that the host, which signals the worker's group, never reaches the agent's instead.
        try:
            os.setpgid(pid, pid)
        except OSError:  # the child already exited (and was reaped), or set it itself
            pass
        return {"type": "run_forked", "pid": pid}
    code = execute(spec, state)
    return {"type": "run_finished", "pid": os.getpid(), "success": code == 0}


def warm_up(state, request=None):
    """Executes a throwaway job once, its output stored by the filesystem IO manager runs use, so
    that forked runs skip Dagster's lazy imports; makes the run instance of `instance_home` (when
    the request names one) for forked runs to inherit."""
    import tempfile

    import dagster

    _prepare_instance(state, (request or {}).get("instance_home"))

    @dagster.op
    def dg_warm_up():
        return 1

    @dagster.job(logger_defs={"console": _null_logger(dagster)})
    def dg_warm_up_job():
        dg_warm_up()

    sink = open(os.devnull, "w")  # noqa: SIM115 - kept for the duration of the call
    saved = sys.stderr
    sys.stderr = sink
    try:
        with tempfile.TemporaryDirectory(prefix="dg-warm-up-") as scratch:
            dg_warm_up_job.execute_in_process(
                instance=dagster.DagsterInstance.ephemeral(tempdir=scratch),
                resources={"io_manager": dagster.FilesystemIOManager(base_dir=scratch)},
            )
    finally:
        sys.stderr = saved
        sink.close()
    state["warm"] = True
    return {"type": "warmed_up"}


# ---------------------------------------------------------------------------------------------
# Executing


def execute(spec, state):
    """Executes the run described by `spec`; returns the process exit code (0 on success)."""
    link = HostLink(spec["events_socket"])
    link.send(wire.hello(os.getpid()))
    # The host asks a run to stop with SIGTERM: unwind through Dagster as an interrupt.
    signal.signal(signal.SIGTERM, _interrupt)
    capture = OutputCapture(link)
    success = False
    try:
        success = _execute(spec, state, link, capture)
    except BaseException as exc:  # noqa: BLE001 - every failure is reported as the run's
        capture.sync()
        link.event(wire.run_failure(time.time(), wire.error_of_exception(exc)))
    finally:
        try:
            capture.stop()
        finally:
            link.send(wire.end(success))
            link.close()
    return 0 if success else 1


def _interrupt(signum, frame):
    raise KeyboardInterrupt(f"the run was canceled (signal {signum})")


def _execute(spec, state, link, capture):
    import dagster

    defs = state.get("defs")
    if defs is None:
        raise RuntimeError("the agent has not loaded the code location's definitions")
    repo = defs.get_repository_def() if isinstance(defs, dagster.Definitions) else defs
    asset_keys = None
    if spec.get("asset_selection") is not None:
        asset_keys = [dagster.AssetKey(list(path)) for path in spec["asset_selection"]]
        job = repo.get_implicit_job_def_for_assets(asset_keys)
        if job is None:
            raise dagster.DagsterInvalidSubsetError(
                "All selected assets must share the same PartitionsDefinition or have no "
                "PartitionsDefinition"
            )
    else:
        name = spec.get("job_name") or ""
        if not repo.has_job(name):
            known = sorted(j for j in repo.job_names if not j.startswith(ASSET_JOB_NAME))
            raise LookupError(
                f"no job named `{name}` in this code location (jobs: "
                + (", ".join(f"`{j}`" for j in known) or "none")
                + ")"
            )
        job = repo.get_job(name)
    # Dagster's default console logger would print every event to stderr: events reach the host
    # through the instance instead. Without `loggers` in the run config Dagster instantiates its
    # console logger whatever the job says, so the silent one is named there too.
    run_config = dict(spec.get("run_config") or {})
    loggers = dict(job.loggers)
    if (
        "loggers" not in run_config
        and list(loggers) == ["console"]
        and loggers["console"] is dagster.colored_console_logger
    ):
        job = job.with_logger_defs({"console": _null_logger(dagster)})
        run_config["loggers"] = {"console": {}}
    instance = _instance(state, spec["instance_home"])
    resources = {}
    if _uses_default_io_manager(job):
        # `execute_in_process` swaps Dagster's default filesystem IO manager for an in-memory one;
        # outputs go where Dagster's default puts them under this instance (`<home>/storage`), so
        # our runs and Dagster's read each other's.
        resources["io_manager"] = dagster.FilesystemIOManager(
            base_dir=instance.storage_directory()
        )
    tags = dict(spec.get("tags") or {})
    if spec.get("partition_range"):
        start, end = spec["partition_range"]
        tags[PARTITION_RANGE_START_TAG] = start
        tags[PARTITION_RANGE_END_TAG] = end

    def send(entry):
        capture.sync()
        event = wire.event_of_entry(entry)
        if event["type"] == "STEP_START":
            capture.step_key = event.get("step_key")
        link.event(event, dg_instance.serialize(entry))
        if event["type"] in ("STEP_SUCCESS", "STEP_FAILURE", "STEP_SKIPPED"):
            capture.step_key = None

    dg_instance.attach(instance, dg_instance.Link(send, link.wait_stored, capture))
    try:
        result = job.execute_in_process(
            run_config=run_config,
            instance=instance,
            partition_key=spec.get("partition"),
            raise_on_error=False,
            asset_selection=asset_keys,
            run_id=spec["run_id"],
            tags=tags,
            resources=resources,
        )
    finally:
        dg_instance.attach(instance, None)
    # Not `result.success`: that reads the run's status, which the host sets when it stores the
    # events, maybe not yet.
    return any(e.event_type == dagster.DagsterEventType.RUN_SUCCESS for e in result.all_events)


def _prepare_instance(state, home):
    """Opens the instance of `home` ahead of runs (forked ones inherit it); a failure is left for
    the run to report as its own."""
    if not home:
        return
    try:
        _instance(state, home)
    except Exception:  # noqa: BLE001 - the run opens it again and fails with the reason
        pass


def _instance(state, home):
    """The persistent instance of `home` (`instance.open_instance`), made once per agent: opening
    one reads `dagster.yaml` and checks the storages' schema; each forked worker inherits it."""
    kept = state.setdefault("instances", {})
    instance = kept.get(home)
    if instance is None:
        instance = dg_instance.open_instance(home)
        kept[home] = instance
    return instance


def _null_logger(dagster):
    @dagster.logger(config_schema=dagster.Field(dagster.Permissive(), is_required=False))
    def dg_silent_console(_init_context):
        silent = logging.getLogger("dg_silent_console")
        silent.propagate = False
        silent.addHandler(logging.NullHandler())
        return silent

    return dg_silent_console


def _uses_default_io_manager(job):
    current = job.resource_defs.get("io_manager")
    try:  # private in dagster 1.13: the default that `execute_in_process` replaces
        from dagster._core.definitions.job_definition import default_job_io_manager

        return current is default_job_io_manager
    except ImportError:
        return current is None
