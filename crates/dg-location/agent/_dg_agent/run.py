"""Run execution: executes one Dagster run and streams its messages (built by `wire`) to the host.

The agent calls `handle(kind, request, state, channel)` when asked to execute a run:

* `execute_run`: the agent itself executes the run (the fresh-process launcher), then answers
  `run_finished`.
* `fork_run`: the agent forks; the child (its own process group) executes the run and exits, the
  parent answers `run_forked` at once and keeps serving (the warm launcher).

Either way the worker connects to the Unix socket named in the request (one per run, opened by the
host) and writes JSON lines there: `hello` (the wire version and its pid), `event` (a sequence
number from 1 and an event), and finally `end`; see `wire`. The worker's file descriptors 1 and 2
are redirected to pipes while it runs, so everything user code (and its subprocesses) prints
becomes `STDOUT` / `STDERR` events, ordered with Dagster's events.

Only the standard library and the public `dagster` API are used, except where noted.
"""

import logging
import os
import select
import signal
import socket
import sys
import threading
import time

from _dg_agent import wire
from _dg_agent.protocol import encode_message

ASSET_JOB_NAME = "__ASSET_JOB"
PARTITION_RANGE_START_TAG = "dagster/asset_partition_range_start"
PARTITION_RANGE_END_TAG = "dagster/asset_partition_range_end"
# Captured output longer than this without a newline (a progress bar redrawn with `\r`, a binary
# blob) is cut into events of at most this many bytes, so that neither this process nor the host
# holds an unbounded line (Docker's log drivers cut at the same size).
MAX_LINE_BYTES = 16 * 1024


def handle(kind, request, state, channel):
    spec = request.get("run") or {}
    if kind == "fork_run":
        # Made here, in the agent, once per instance home: every forked run then starts with it.
        _instance(state, spec["instance_home"], keep=True)
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

    home = (request or {}).get("instance_home")
    if home:
        _instance(state, home, keep=True)

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
# Streaming to the host


class Emitter:
    """Writes the run's messages to the host, numbering events 1, 2, 3, ... from any thread."""

    def __init__(self, path):
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock.connect(path)
        self._lock = threading.Lock()
        self._seq = 0
        self.broken = False

    def _send(self, message):
        data = encode_message(message)
        try:
            self._sock.sendall(data)
        except OSError:
            # The host is gone: keep executing quietly; the run's state is the host's business.
            self.broken = True

    def send(self, message):
        with self._lock:
            self._send(message)

    def event(self, event):
        with self._lock:
            self._seq += 1
            self._send(wire.event_message(self._seq, event))

    def close(self):
        try:
            self._sock.close()
        except OSError:
            pass


class OutputCapture:
    """Redirects fds 1 and 2 to pipes and turns each line into a `STDOUT` / `STDERR` event."""

    def __init__(self, emitter):
        self._emitter = emitter
        self._lock = threading.Lock()
        self.step_key = None
        sys.stdout.flush()
        sys.stderr.flush()
        self._saved = {1: os.dup(1), 2: os.dup(2)}
        self._pipes = []
        for fd, kind in ((1, "STDOUT"), (2, "STDERR")):
            r, w = os.pipe()
            os.dup2(w, fd)
            os.close(w)
            os.set_blocking(r, False)
            self._pipes.append({"fd": r, "type": kind, "buf": b""})
        self._stop_r, self._stop_w = os.pipe()
        self._thread = threading.Thread(target=self._loop, name="dg-output", daemon=True)
        self._thread.start()

    def _loop(self):
        fds = [p["fd"] for p in self._pipes] + [self._stop_r]
        while True:
            try:
                ready, _, _ = select.select(fds, [], [])
            except InterruptedError:
                continue
            if self._stop_r in ready:
                return
            self.drain()

    def drain(self, final=False):
        with self._lock:
            for pipe in self._pipes:
                while True:
                    try:
                        chunk = os.read(pipe["fd"], 65536)
                    except BlockingIOError:
                        break
                    if not chunk:
                        break
                    pieces, pipe["buf"] = cut_lines(pipe["buf"] + chunk)
                    self._emit(pipe["type"], pieces)
                if final and pipe["buf"]:
                    self._emit(pipe["type"], [pipe["buf"]])
                    pipe["buf"] = b""

    def _emit(self, kind, pieces):
        for piece in pieces:
            self._emitter.event(
                wire.output(kind, time.time(), self.step_key, piece.decode("utf-8", "replace"))
            )

    def sync(self):
        """Emits everything printed so far (called before each Dagster event, to keep order)."""
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except (OSError, ValueError):
            pass
        self.drain()

    def stop(self):
        self.sync()
        for fd, saved in self._saved.items():
            os.dup2(saved, fd)
            os.close(saved)
        os.write(self._stop_w, b"x")
        self._thread.join()
        self.drain(final=True)
        for pipe in self._pipes:
            os.close(pipe["fd"])
        os.close(self._stop_r)
        os.close(self._stop_w)


def cut_lines(buf):
    """Splits `buf` into its complete lines (without the newline) and pieces of `MAX_LINE_BYTES` of
    a longer line (cut before a UTF-8 character, never inside one); returns them and what is left
    (shorter than `MAX_LINE_BYTES`, waiting for more output)."""
    pieces = []
    start = 0
    while True:
        newline = buf.find(b"\n", start, start + MAX_LINE_BYTES + 1)
        if newline >= 0:
            pieces.append(buf[start:newline])
            start = newline + 1
        elif len(buf) - start > MAX_LINE_BYTES:
            end = start + MAX_LINE_BYTES
            # Back up over continuation bytes (0b10xxxxxx) to the start of the character.
            while end > start + MAX_LINE_BYTES - 4 and (buf[end] & 0xC0) == 0x80:
                end -= 1
            if (buf[end] & 0xC0) == 0x80:
                end = start + MAX_LINE_BYTES  # not UTF-8 anyway
            pieces.append(buf[start:end])
            start = end
        else:
            return pieces, buf[start:]


# ---------------------------------------------------------------------------------------------
# Executing


def execute(spec, state):
    """Executes the run described by `spec`; returns the process exit code (0 on success)."""
    emitter = Emitter(spec["events_socket"])
    emitter.send(wire.hello(os.getpid()))
    # The host asks a run to stop with SIGTERM: unwind through Dagster as an interrupt.
    signal.signal(signal.SIGTERM, _interrupt)
    capture = OutputCapture(emitter)
    success = False
    try:
        success = _execute(spec, state, emitter, capture)
    except BaseException as exc:  # noqa: BLE001 - every failure is reported as the run's
        capture.sync()
        emitter.event(wire.run_failure(time.time(), wire.error_of_exception(exc)))
    finally:
        try:
            capture.stop()
        finally:
            emitter.send(wire.end(success))
            emitter.close()
    return 0 if success else 1


def _interrupt(signum, frame):
    raise KeyboardInterrupt(f"the run was canceled (signal {signum})")


def _execute(spec, state, emitter, capture):
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
    # through the listener below instead. Without `loggers` in the run config Dagster instantiates
    # its console logger whatever the job says, so the silent one is named there too.
    run_config = dict(spec.get("run_config") or {})
    loggers = dict(job.loggers)
    if (
        "loggers" not in run_config
        and list(loggers) == ["console"]
        and loggers["console"] is dagster.colored_console_logger
    ):
        job = job.with_logger_defs({"console": _null_logger(dagster)})
        run_config["loggers"] = {"console": {}}
    resources = {}
    if _uses_default_io_manager(job):
        # `execute_in_process` swaps Dagster's default filesystem IO manager for an in-memory one;
        # runs must see each other's outputs, as under `DAGSTER_HOME` with Dagster's default.
        resources["io_manager"] = dagster.FilesystemIOManager(
            base_dir=os.path.join(spec["instance_home"], "storage")
        )
    tags = dict(spec.get("tags") or {})
    if spec.get("partition_range"):
        start, end = spec["partition_range"]
        tags[PARTITION_RANGE_START_TAG] = start
        tags[PARTITION_RANGE_END_TAG] = end
    run_id = spec["run_id"]
    instance = _instance(state, spec["instance_home"])

    def listener(entry):
        capture.sync()
        event = wire.event_of_entry(entry)
        if event["type"] == "STEP_START":
            capture.step_key = event.get("step_key")
        emitter.event(event)
        if event["type"] in ("STEP_SUCCESS", "STEP_FAILURE", "STEP_SKIPPED"):
            capture.step_key = None

    instance.add_event_listener(run_id, listener)
    result = job.execute_in_process(
        run_config=run_config,
        instance=instance,
        partition_key=spec.get("partition"),
        raise_on_error=False,
        asset_selection=asset_keys,
        run_id=run_id,
        tags=tags,
        resources=resources,
    )
    return bool(result.success)


def _instance(state, home, keep=False):
    """The ephemeral instance runs execute in, with `home` for local artifacts.

    Making one stamps its in-memory SQLite storages with Alembic, which reads every migration
    script (a quarter of a second). The warm agent makes it once per home (`keep`) and each forked
    worker inherits a copy-on-write copy: the worker's run and events stay in its own copy."""
    import dagster

    kept = state.setdefault("instances", {})
    instance = kept.get(home)
    if instance is None:
        instance = dagster.DagsterInstance.ephemeral(tempdir=home)
        if keep:
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
