"""The `dev-ready` and `dev-first-step` cases: `dg dev`, ours against real, on the same workspace.

The workspace and environments are described in `dev_setup.py`. Each side runs at the workspace
root as `dg dev --host 127.0.0.1 --port <free port>` (the real one from the workspace's
`deployments/local/.venv`, ours from `target/release`), with a fresh empty `DAGSTER_HOME`, and
its whole process tree is ended after each measurement (`dev_server.Server`).

- `dev-ready`: time from spawning the process until every location is loaded: the real side's
  GraphQL `workspaceOrError` lists every location as `LOADED` with a `RepositoryLocation`; ours
  answers `GET /api/locations` with every status `loaded`. Polled every `POLL` seconds. Then the
  memory of the whole process tree (sum of RSS over `/proc`, and of PSS, which counts pages shared
  between processes once) is sampled for `SETTLE` seconds; the largest sum is that run's memory.
  Targets: ready 3x sooner than real, a quarter of real's memory.
- `dev-first-step`: on one server per side, once ready: one untimed run in each project, then
  runs of one asset (`proj_NN_raw`, going round the projects), each awaited before the next. (Ours
  keeps a location's agent cold until its first run, then warms it up in the background.) The time is from just
  before the launch request (real: the GraphQL `launchPipelineExecution` mutation of the asset job
  `__ASSET_JOB` with that asset; ours: `POST /api/runs` with `{"selection": ...}`) to the
  timestamp of the run's first `STEP_START` event (real: `ExecutionStepStartEvent` of
  `logsForRun`; ours: `GET /api/runs/{id}/events`). Both timestamps are written by the process
  running the step, on this machine's clock. Target: 300 ms.

The real `dg dev` queues runs (its default `QueuedRunCoordinator`; its daemon dequeues them), then
starts a run worker process and a step worker process: that is what a user of `dg dev` waits for.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Optional

from .cases import Context, Row, case
from .dev_server import Server, free_port, http_json, tree_cpu, tree_memory
from .dev_setup import dev_workspace, package, real_dg
from .measure import Measurement, RunOutput
from .report import fmt_rss
from .workspaces import project_names

POLL = 0.05
SETTLE = 5.0
READY_TIMEOUT = 600.0
RUN_TIMEOUT = 300.0
FIRST_STEP_TARGET = 0.3
# Real servers take tens of seconds to start and runs take seconds; caps keep a full run short.
MAX_REAL_STARTS = 3
MAX_OURS_STARTS = 5
MAX_REAL_RUNS = 5
MAX_OURS_RUNS = 15

LOCATIONS_QUERY = """{ workspaceOrError { __typename ... on Workspace { locationEntries {
  name loadStatus locationOrLoadError { __typename ... on PythonError { message } } } } } }"""
LAUNCH_MUTATION = """mutation($p: ExecutionParams!) { launchPipelineExecution(executionParams: $p) {
  __typename ... on LaunchRunSuccess { run { runId } } ... on PythonError { message } } }"""
RUN_QUERY = """query($r: ID!) { runOrError(runId: $r) { ... on Run { status } }
  logsForRun(runId: $r) { ... on EventConnection { events { __typename
  ... on MessageEvent { timestamp } } } } }"""
DONE = {"SUCCESS", "FAILURE", "CANCELED"}


class RealSide:
    """The real `dg dev`: GraphQL at `/graphql`."""

    name = "real"

    def __init__(self, ws: Path) -> None:
        self.dg = real_dg(ws)

    def cmd(self, port: int) -> list:
        return [self.dg, "dev", "--host", "127.0.0.1", "--port", str(port)]

    def _gql(self, base: str, query: str, variables: Optional[dict] = None) -> dict:
        answer = http_json(f"{base}/graphql", {"query": query, "variables": variables or {}})
        if answer.get("errors"):
            raise OSError(f"GraphQL errors: {answer['errors']}")
        return answer["data"]

    def ready(self, base: str, n: int) -> bool:
        ws = self._gql(base, LOCATIONS_QUERY)["workspaceOrError"]
        entries = ws.get("locationEntries") or []
        return len(entries) == n and all(
            e["loadStatus"] == "LOADED"
            and (e["locationOrLoadError"] or {}).get("__typename") == "RepositoryLocation"
            for e in entries)

    def launch(self, base: str, project: str) -> str:
        params = {"selector": {"repositoryLocationName": project,
                               "repositoryName": "__repository__", "jobName": "__ASSET_JOB",
                               "assetSelection": [{"path": [f"{package(project)}_raw"]}]},
                  "mode": "default", "executionMetadata": {"tags": []}}
        result = self._gql(base, LAUNCH_MUTATION, {"p": params})["launchPipelineExecution"]
        if result["__typename"] != "LaunchRunSuccess":
            raise OSError(f"launch refused: {result}")
        return result["run"]["runId"]

    def progress(self, base: str, run_id: str) -> tuple:
        """`(status, timestamp of the first STEP_START or None)`."""
        data = self._gql(base, RUN_QUERY, {"r": run_id})
        events = (data.get("logsForRun") or {}).get("events") or []
        step = next((float(e["timestamp"]) / 1000 for e in events
                     if e["__typename"] == "ExecutionStepStartEvent"), None)
        return (data.get("runOrError") or {}).get("status"), step


class OursSide:
    """Our `dg dev`: the JSON API under `/api`."""

    name = "ours"

    def __init__(self, dg: str) -> None:
        self.dg = dg

    def cmd(self, port: int) -> list:
        return [self.dg, "dev", "--host", "127.0.0.1", "--port", str(port)]

    def ready(self, base: str, n: int) -> bool:
        locations = http_json(f"{base}/api/locations")["locations"]
        return len(locations) == n and all(loc["status"] == "loaded" for loc in locations)

    def launch(self, base: str, project: str) -> str:
        run = http_json(f"{base}/api/runs", {"selection": f"{package(project)}_raw"})
        return run["run_id"]

    def progress(self, base: str, run_id: str) -> tuple:
        status = http_json(f"{base}/api/runs/{run_id}")["status"]
        events = http_json(f"{base}/api/runs/{run_id}/events?limit=10000")["events"]
        step = next((e["event"]["timestamp"] for e in events
                     if e["event"]["type"] == "STEP_START"), None)
        return status, step


def _wait_ready(server: Server, side, base: str, n: int) -> Optional[float]:
    """Seconds from spawn until `side` reports all `n` locations loaded; None if it never does."""
    while server.elapsed() < READY_TIMEOUT and server.alive():
        try:
            if side.ready(base, n):
                return server.elapsed()
        except OSError:
            pass
        server.remember_tree()
        time.sleep(POLL)
    return None


def _settled_memory(server: Server) -> tuple:
    """The largest `(rss, pss, processes)` of the tree over `SETTLE` seconds."""
    best = (0, 0, 0)
    end = time.perf_counter() + SETTLE
    while time.perf_counter() < end:
        server.remember_tree()
        sample = tree_memory(server.pid)
        best = tuple(max(a, b) for a, b in zip(best, sample))
        time.sleep(0.25)
    return best


def _ready_once(ctx: Context, side, ws: Path, n: int) -> dict:
    port = free_port()
    with Server(side.cmd(port), ws, ctx.tools.env) as server:
        seconds = _wait_ready(server, side, f"http://127.0.0.1:{port}", n)
        if seconds is None:
            return {"ok": False, "error": server.output_tail()}
        cpu = tree_cpu(server.pid)
        rss, pss, procs = _settled_memory(server)
        return {"ok": True, "seconds": seconds, "cpu": cpu, "rss": rss, "pss": pss,
                "procs": procs}


def _measurement(results: list) -> Measurement:
    good = [r for r in results if r["ok"]]
    failed = [r for r in results if not r["ok"]]
    first = RunOutput(1 if failed else 0, "", failed[0]["error"] if failed else "")
    return Measurement(times=[r["seconds"] for r in good] or [0.0],
                       peak_rss_kib=max((r["rss"] for r in good), default=0),
                       first=first, failed_runs=len(failed),
                       cpu_times=[r["cpu"] for r in good])


def _median(results: list, key: str) -> int:
    values = [r[key] for r in results if r["ok"]]
    return int(statistics.median(values)) if values else 0


@case("dev-ready", "dg dev: time until all locations are loaded, and memory once ready")
def dev_ready_case(ctx: Context, size: Optional[int]) -> list:
    """Ready 3x sooner than real `dg dev`, with a quarter of its memory (see the module doc)."""
    ws = dev_workspace(ctx, size)
    sides = [RealSide(ws), OursSide(ctx.tools.ours("dg"))]
    counts = [min(ctx.runs_real, MAX_REAL_STARTS), min(ctx.runs_ours, MAX_OURS_STARTS)]
    ctx.log(f"dev-ready [{size}]: real x{counts[0]}, ours x{counts[1]}, alternating")
    results: list = [[], []]
    for i in range(max(counts)):
        for s, side in enumerate(sides):
            if i < counts[s]:
                results[s].append(_ready_once(ctx, side, ws, size))
                r = results[s][-1]
                ctx.log(f"  {side.name}: " + (f"ready in {r['seconds']:.2f} s, "
                        f"RSS {fmt_rss(r['rss'])}, PSS {fmt_rss(r['pss'])}, {r['procs']} processes"
                        if r["ok"] else f"failed: {r['error']}"))
    real, ours = _measurement(results[0]), _measurement(results[1])
    row = Row(case="dg dev: ready (all locations loaded)", size=size, real=real, ours=ours,
              target=3.0)
    mem = {s: {k: _median(results[i], k) for k in ("rss", "pss", "procs")}
           for i, s in enumerate(("real", "ours"))}
    if real.ok and ours.ok and mem["ours"]["rss"]:
        ratio = mem["real"]["rss"] / mem["ours"]["rss"]
        pss_ratio = mem["real"]["pss"] / max(mem["ours"]["pss"], 1)
        row.notes.append(
            f"memory once ready (median of each run's largest tree sum over {SETTLE:.0f} s): "
            f"RSS real {fmt_rss(mem['real']['rss'])} ({mem['real']['procs']} processes), "
            f"ours {fmt_rss(mem['ours']['rss'])} ({mem['ours']['procs']} processes): "
            f"{ratio:.2f}x less (target 4x: {'yes' if ratio >= 4 else 'NO'}); "
            f"PSS real {fmt_rss(mem['real']['pss'])}, ours {fmt_rss(mem['ours']['pss'])}: "
            f"{pss_ratio:.1f}x less")
    for name, m in (("real", real), ("ours", ours)):
        if not m.ok:
            row.notes.append(f"{name} failed: {m.first.stderr}")
    return [row]


class _Steps:
    """What one side's `dev-first-step` server measured."""

    def __init__(self) -> None:
        self.latencies: list = []  # timed runs, seconds
        self.first_runs: list = []  # the untimed first run of each location, seconds
        self.rss_after = 0  # tree RSS (KiB) after every run, every location having run
        self.error: Optional[str] = None


def _first_steps(ctx: Context, side, ws: Path, n: int, runs: int) -> _Steps:
    """Launch-to-first-step latencies of `runs` runs after one untimed run per location."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    projects = project_names(n)
    out = _Steps()
    with Server(side.cmd(port), ws, ctx.tools.env) as server:
        if _wait_ready(server, side, base, n) is None:
            out.error = f"not ready: {server.output_tail()}"
            return out
        # One untimed run in each location first (ours warms a location's agent after its first
        # run), then the timed runs, going round the locations.
        for i in range(runs + n):
            try:
                sent = time.time()
                run_id = side.launch(base, projects[i % n])
                status, step = None, None
                deadline = time.perf_counter() + RUN_TIMEOUT
                while status not in DONE and time.perf_counter() < deadline:
                    time.sleep(POLL)
                    server.remember_tree()
                    status, step = side.progress(base, run_id)
            except OSError as e:
                out.error = str(e)
                return out
            if status != "SUCCESS" or step is None:
                out.error = f"run {run_id} ended {status} (step start: {step})"
                return out
            (out.latencies if i >= n else out.first_runs).append(step - sent)
            ctx.log(f"  {side.name}: first step {(step - sent) * 1000:.0f} ms"
                    + ("" if i >= n else " (untimed: first run of the location)"))
        out.rss_after = tree_memory(server.pid)[0]
    return out


@case("dev-first-step", "dg dev: launch request to the run's first STEP_START")
def dev_first_step_case(ctx: Context, size: Optional[int]) -> list:
    """Median time from the launch request to the first step's start, after one untimed run per
    location."""
    ws = dev_workspace(ctx, size)
    counts = [min(ctx.runs_real, MAX_REAL_RUNS), min(ctx.runs_ours, MAX_OURS_RUNS)]
    ctx.log(f"dev-first-step [{size}]: real x{counts[0]}, ours x{counts[1]} "
            f"(after one untimed run per project)")
    sides = [RealSide(ws), OursSide(ctx.tools.ours("dg"))]
    measured = []
    errors = []
    steps = []
    for side, runs in zip(sides, counts):
        got = _first_steps(ctx, side, ws, size, runs)
        steps.append(got)
        measured.append(Measurement(times=got.latencies or [0.0], peak_rss_kib=got.rss_after,
                                    first=RunOutput(1 if got.error else 0, "", got.error or ""),
                                    failed_runs=1 if got.error else 0))
        errors.append(got.error)
    row = Row(case="dg dev: launch to first STEP_START", size=size, real=measured[0],
              ours=measured[1])
    if all(s.first_runs for s in steps):
        real_first, ours_first = (statistics.median(s.first_runs) for s in steps)
        row.notes.append(f"first run of each location (untimed; ours forks from a cold agent, "
                         f"then warms it up): median real {real_first:.2f} s, "
                         f"ours {ours_first:.2f} s")
    row.notes.append("RSS columns: the process tree after all runs, every location having run "
                     "(ours: every agent warm)")
    if measured[1].ok:
        median = measured[1].median
        row.notes.append(f"target: ours within {FIRST_STEP_TARGET * 1000:.0f} ms: "
                         f"{'yes' if median <= FIRST_STEP_TARGET else 'NO'} "
                         f"({median * 1000:.0f} ms median)")
    row.notes.append("real: queued by its run coordinator, dequeued by its daemon, then a run "
                     "worker and a step worker process; ours: forked from the location's warm "
                     "agent")
    for name, error in zip(("real", "ours"), errors):
        if error:
            row.notes.append(f"{name} failed: {error}")
    return [row]
