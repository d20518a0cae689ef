"""The instance cases of issue 14: ours against real Dagster on the same kind of instance.

- `instance-ingest`: one run whose asset logs 100,000 events (`--quick`: 2,000) through
  `context.log`, timed once per side on a fresh home of each backend: ours is `dg launch`, real
  is `dagster asset materialize` of the same asset. Notes give events per second and how many
  events real Dagster reads back from each instance.
- `api-runs`: an instance holding 10,000 runs (`--quick`: 500), written by real Dagster's
  `add_run`; then one `GET /api/runs?limit=100` of our `dg dev` against one GraphQL
  `runsOrError(limit: 100)` of real `dagster-webserver`, both serving that home, requests
  interleaved.
- `run-page`: an instance holding one run of 100,000 events (`--quick`: 2,000), written by real
  Dagster (`materialize` in-process); our run page (`GET /runs/{id}`) and our events API (paged
  by 10,000) against the webserver's `logsForRun` (paged by 10,000, every event).

`--backends sqlite,postgres` (default both) picks the instance kinds. See `instance_setup.py`
for the project and the homes.
"""

from __future__ import annotations

import json
import time
from typing import Callable, Optional

from .cases import Context, Row, case
from .case_launch import _timed
from .dev_server import Server, free_port, http_json, tree_memory
from .instance_setup import ADD_RUNS, LOG_RUN, MODULE, Home, project, stored_events
from .measure import Measurement, RunOutput

SIZES = {"instance-ingest": (100_000, 2_000), "api-runs": (10_000, 500),
         "run-page": (100_000, 2_000)}
READY_TIMEOUT = 300.0


def _size(ctx: Context, name: str) -> int:
    full, quick = SIZES[name]
    return quick if getattr(ctx, "quick", False) else full


def _backends(ctx: Context) -> list:
    return list(getattr(ctx, "backends", None) or ("sqlite", "postgres"))


@case("instance-ingest", "a run logging 100,000 events: dg launch vs dagster asset materialize",
      sized=False)
def instance_ingest(ctx: Context, size: Optional[int]) -> list:
    """Ingestion of a run that logs many events, per backend (see the module doc)."""
    n = _size(ctx, "instance-ingest")
    config = json.dumps({"ops": {"many_logs": {"config": {"count": n}}}})
    proj = project(ctx)
    rows = []
    for backend in _backends(ctx):
        ctx.log(f"instance-ingest: {n:,} events, {backend}, one run per side")
        if ctx.real_ingest:
            with Home(ctx, backend) as real_home:
                real, real_out = _timed(
                    [real_home.py, "-m", "dagster", "asset", "materialize", "-m", MODULE,
                     "--select", "many_logs", "--config-json", config], proj, real_home.env)
                real_stored = stored_events(real_home)
        else:
            real_out = RunOutput(1, "", "not run (--no-real-ingest)")
            real = Measurement(times=[], peak_rss_kib=0, first=real_out)
            real_stored = 0
        with Home(ctx, backend) as our_home:
            ours, ours_out = _timed([ctx.tools.ours("dg"), "launch", "--assets", "many_logs",
                                     "--config-json", config], proj, our_home.env)
            our_stored = stored_events(our_home)
        row = Row(case=f"ingest {n:,} log events ({backend})", size=None, real=real, ours=ours)
        for side, m, stored, out in (("real", real, real_stored, real_out),
                                     ("ours", ours, our_stored, ours_out)):
            if m.ok and m.times:
                row.notes.append(f"{side} ({backend}): {n / m.times[0]:,.0f} logged events/s; "
                                 f"real Dagster reads back {stored:,} events of the run")
            else:
                lines = out.stderr.strip().splitlines()
                row.notes.append(f"{side} ({backend}) failed: "
                                 f"{lines[-1] if lines else '(no output)'}")
        rows.append(row)
    return rows


def _wait(server: Server, probe: Callable[[], object], what: str) -> None:
    deadline = time.perf_counter() + READY_TIMEOUT
    while time.perf_counter() < deadline:
        if not server.alive():
            raise OSError(f"{what} exited: {server.output_tail()}")
        try:
            probe()
            return
        except OSError:
            time.sleep(0.2)
    raise OSError(f"{what} not ready after {READY_TIMEOUT:.0f}s: {server.output_tail()}")


class _Side:
    """One server of a server case: its process, its URL, and why it did not start (if so)."""

    def __init__(self, server: Server, url: str, probe_path: str, what: str) -> None:
        self.server, self.url, self.error = server, url, None
        try:
            _wait(server, lambda: http_json(f"{url}{probe_path}"), what)
        except OSError as e:
            self.error = str(e)


def _servers(ctx: Context, home: Home) -> tuple:
    """Starts real `dagster-webserver` and our `dg dev` on `home`; returns both sides. A side
    that does not start is measured as failed with its reason, the other still measured."""
    real_port, our_port = free_port(), free_port()
    web = Server([str(home.proj / ".venv" / "bin" / "dagster-webserver"), "-h", "127.0.0.1",
                  "-p", str(real_port), "-m", MODULE], home.proj, home.env, home=home.path)
    ours = Server([ctx.tools.ours("dg"), "dev", "--port", str(our_port)], home.proj, home.env,
                  home=home.path)
    return (_Side(web, f"http://127.0.0.1:{real_port}", "/server_info", "dagster-webserver"),
            _Side(ours, f"http://127.0.0.1:{our_port}", "/api/runs?limit=1", "dg dev"))


def _graphql(url: str, query: str, **variables) -> dict:
    answer = http_json(f"{url}/graphql", {"query": query, "variables": variables}, timeout=600)
    if answer.get("errors"):
        raise OSError(f"GraphQL errors: {answer['errors']}")
    return answer["data"]


def _measure(sides: list, runs: int) -> list:
    """Times each side's request function `runs` times, interleaved; one warm-up call each.

    `sides` holds (side, fn) pairs; `fn()` returns a short summary of the answer (kept as the
    measurement's output). A failing call, or a server that did not start, fails that side."""
    out = []
    for side, fn in sides:
        if side.error:
            first = RunOutput(1, "", side.error)
        else:
            try:
                first = RunOutput(0, str(fn()), "")
            except (OSError, KeyError, TypeError) as e:
                first = RunOutput(1, "", f"{type(e).__name__}: {e}")
        out.append(Measurement(times=[], peak_rss_kib=0, first=first))
    for _ in range(runs):
        for (server, fn), m in zip(sides, out):
            if not m.ok:
                continue
            start = time.perf_counter()
            try:
                fn()
            except (OSError, KeyError, TypeError):
                m.failed_runs += 1
                continue
            m.times.append(time.perf_counter() - start)
    for (side, _), m in zip(sides, out):
        if side.server.alive():
            m.peak_rss_kib = tree_memory(side.server.pid)[0]
    return out


RUNS_QUERY = ("query Runs($limit: Int) { runsOrError(limit: $limit) { __typename ... on Runs "
              "{ results { runId status jobName startTime endTime tags { key value } } } } }")


@case("api-runs", "10,000 runs: GET /api/runs?limit=100 vs GraphQL runsOrError(limit: 100)",
      sized=False)
def api_runs(ctx: Context, size: Optional[int]) -> list:
    """Listing the newest 100 runs of a big instance, per backend (see the module doc)."""
    n = _size(ctx, "api-runs")
    rows = []
    for backend in _backends(ctx):
        with Home(ctx, backend) as home:
            ctx.log(f"api-runs: adding {n:,} runs with real Dagster's add_run ({backend})")
            added, secs = home.python(ADD_RUNS, str(n)).split()
            web, ours = _servers(ctx, home)
            real_url, our_url = web.url, ours.url
            try:
                def real() -> str:
                    data = _graphql(real_url, RUNS_QUERY, limit=100)
                    return _expect(len(data["runsOrError"]["results"]), 100, "runs")

                def mine() -> str:
                    runs = http_json(f"{our_url}/api/runs?limit=100")["runs"]
                    return _expect(len(runs), 100, "runs")

                r, o = _measure([(web, real), (ours, mine)], max(ctx.runs_real, 10))
            finally:
                web.server.stop()
                ours.server.stop()
        row = Row(case=f"list 100 of {n:,} runs ({backend})", size=None, real=r, ours=o)
        row.notes.append(f"{backend}: {added} runs added by real Dagster in {secs}s; real "
                         f"answered {r.first.stdout or r.first.stderr}, ours "
                         f"{o.first.stdout or o.first.stderr}")
        rows.append(row)
    return rows


LOGS_QUERY = ("query Logs($runId: ID!, $after: String) { logsForRun(runId: $runId, afterCursor: "
              "$after, limit: 10000) { __typename ... on EventConnection { cursor hasMore "
              "events { __typename ... on MessageEvent { message timestamp level stepKey } } } } }")


@case("run-page", "a run of 100,000 events: our run page and events API vs logsForRun",
      sized=False)
def run_page(ctx: Context, size: Optional[int]) -> list:
    """Reading every event of one big run, per backend (see the module doc)."""
    n = _size(ctx, "run-page")
    rows = []
    for backend in _backends(ctx):
        with Home(ctx, backend) as home:
            ctx.log(f"run-page: a run of {n:,} log events by real Dagster ({backend})")
            run_id, secs = home.python(LOG_RUN, str(n)).split()[-2:]
            web, ours = _servers(ctx, home)
            real_url, our_url = web.url, ours.url
            try:
                def real() -> str:
                    count, after = 0, None
                    while True:
                        conn = _graphql(real_url, LOGS_QUERY, runId=run_id, after=after)
                        conn = conn["logsForRun"]
                        count += len(conn["events"])
                        after = conn["cursor"]
                        if not conn["hasMore"]:
                            return _expect(count, n, "events", at_least=True)

                def page() -> str:
                    return f"{len(_get(f'{our_url}/runs/{run_id}')):,} bytes of HTML"

                def events() -> str:
                    count, after = 0, None
                    while True:
                        q = f"?limit=10000{'' if after is None else f'&after={after}'}"
                        answer = http_json(f"{our_url}/api/runs/{run_id}/events{q}", timeout=600)
                        count += len(answer["events"])
                        after = answer.get("cursor")
                        if len(answer["events"]) < 10000 or after is None:
                            return _expect(count, n, "events", at_least=True)

                runs = max(ctx.runs_real, 5)
                r, p, e = _measure([(web, real), (ours, page), (ours, events)], runs)
            finally:
                web.server.stop()
                ours.server.stop()
        for title, o in (("run page", p), ("events API", e)):
            row = Row(case=f"{title}, run of {n:,} events ({backend})", size=None, real=r, ours=o)
            row.notes.append(f"{backend} {title}: run written by real Dagster in {secs}s; "
                             f"logsForRun answered {r.first.stdout or r.first.stderr}, ours "
                             f"{o.first.stdout or o.first.stderr}")
            rows.append(row)
    return rows


def _expect(count: int, wanted: int, what: str, at_least: bool = False) -> str:
    """`"<count> <what>"`, or `OSError` when the answer is short (a fast wrong answer fails)."""
    if count < wanted or (count != wanted and not at_least):
        raise OSError(f"answered {count} {what}, expected {'at least ' if at_least else ''}"
                      f"{wanted}")
    return f"{count} {what}"


def _get(url: str) -> bytes:
    import urllib.error
    import urllib.request
    try:
        with urllib.request.urlopen(url, timeout=600) as resp:
            return resp.read()
    except (urllib.error.URLError, ConnectionError) as e:
        raise OSError(f"{url}: {e}") from e
