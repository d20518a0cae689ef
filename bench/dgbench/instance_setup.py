"""What the instance cases (`case_instance.py`) share: one project with real Dagster's tools, and
fresh instance homes of either kind.

The project is made once by the real `create-dagster project --no-uv-sync` under the cache, with
an asset that logs `count` events, and a `.venv` holding `dagster`, `dagster-dg-cli`,
`dagster-webserver`, `dagster-postgres` with psycopg2 (named in every PostgreSQL URL, see
docs/dagster-instance-format.md, section 6) and the project itself (editable). Both sides load
the project from that `.venv`: ours finds it as any project's, the real tools run from it.

`Home(ctx, backend)` is a fresh `DAGSTER_HOME` in a temporary folder: SQLite (an empty
`dagster.yaml`, Dagster's default) or PostgreSQL (a fresh database on the server of
`$DG_TEST_POSTGRES_URL`, else `postgres://postgres:postgres@127.0.0.1:5432/postgres`, named in
`dagster.yaml` and dropped afterwards). `Home.python(code, *args)` runs Python of the project's
`.venv` on it (how cases fill an instance the way Dagster writes it).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

from .tools import SetupError

ASSETS = '''import dagster as dg


@dg.asset
def small():
    return 1


class Many(dg.Config):
    count: int = 1000


@dg.asset
def many_logs(context: dg.AssetExecutionContext, config: Many):
    for i in range(config.count):
        context.log.info(f"log event {i}")
'''

MODULE = "instproj.definitions"
BACKENDS = ("sqlite", "postgres")
DEFAULT_ADMIN_URL = "postgres://postgres:postgres@127.0.0.1:5432/postgres"


def postgres_version(dagster: str) -> str:
    """The dagster-postgres released with dagster `dagster`: 0.<minor + 16>.<patch>."""
    _major, minor, patch = dagster.split(".")
    return f"0.{int(minor) + 16}.{patch}"


def project(ctx) -> Path:
    """The instance project (made once; see the module doc)."""
    v = ctx.tools.version
    root = ctx.cache / "instance" / f"dagster-{v}"
    proj = root / "instproj"
    stamp = root / "ready"
    if stamp.exists():
        return proj
    ctx.log(f"making the instance project in {proj} (once)")
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    env = dict(os.environ, UV_PYTHON_DOWNLOADS="never")

    def run(cmd, cwd):
        proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
        if proc.returncode != 0:
            raise SetupError(f"`{' '.join(map(str, cmd))}` failed:\n{proc.stderr[-2000:]}")

    run([ctx.tools.real("create-dagster"), "project", "--no-uv-sync", "instproj"], root)
    (proj / "src" / "instproj" / "defs" / "assets.py").write_text(ASSETS)
    run(["uv", "venv", "--quiet", "--python", "3.11", ".venv"], proj)
    run(["uv", "pip", "install", "--quiet", "--python", ".venv/bin/python",
         f"dagster=={v}", f"dagster-dg-cli=={v}", f"dagster-webserver=={v}",
         f"dagster-postgres=={postgres_version(v)}", "psycopg2-binary==2.9.13", "-e", "."], proj)
    stamp.write_text("ok\n")
    return proj


def admin_url() -> str:
    """The PostgreSQL server's admin URL."""
    return os.environ.get("DG_TEST_POSTGRES_URL") or DEFAULT_ADMIN_URL


def with_database(url: str, name: str, scheme: str = "") -> str:
    """`url` with database `name` (and `scheme` instead of its own, when given)."""
    server = url.rsplit("/", 1)[0]
    if scheme:
        server = scheme + "://" + server.split("://", 1)[1]
    return f"{server}/{name}"


class Home:
    """A fresh instance home of `backend` (see the module doc); a context manager."""

    def __init__(self, ctx, backend: str) -> None:
        if backend not in BACKENDS:
            raise SetupError(f"unknown backend `{backend}`; known: {', '.join(BACKENDS)}")
        self.ctx = ctx
        self.backend = backend
        self.proj = project(ctx)
        self.py = str(self.proj / ".venv" / "bin" / "python")
        self.dir = Path(tempfile.mkdtemp(prefix=f"dg-bench-instance-{backend}-"))
        self.path = self.dir / "home"
        self.path.mkdir()
        self.db = None
        yaml = ""
        if backend == "postgres":
            self.db = f"dg_bench_{uuid.uuid4().hex[:12]}"
            self._admin(f"CREATE DATABASE {self.db}")
            url = with_database(admin_url(), self.db, "postgresql+psycopg2")
            yaml = f'storage:\n  postgres:\n    postgres_url: "{url}"\n'
        (self.path / "dagster.yaml").write_text(yaml)

    @property
    def env(self) -> dict:
        """The benchmark environment with this home."""
        return dict(self.ctx.tools.env, DAGSTER_HOME=str(self.path))

    def _admin(self, sql: str) -> None:
        code = ("import sys, psycopg2\nc = psycopg2.connect(sys.argv[1])\nc.autocommit = True\n"
                "c.cursor().execute(sys.argv[2])")
        proc = subprocess.run([self.py, "-c", code, admin_url(), sql], capture_output=True,
                              text=True)
        if proc.returncode != 0:
            raise SetupError(f"`{sql}` on {admin_url()} failed (is PostgreSQL running? "
                             f"`source scripts/lib.sh && ensure_postgres`):\n"
                             f"{proc.stderr[-1000:]}")

    def python(self, code: str, *args: str) -> str:
        """Runs `code` with the project's Python on this home; returns stdout."""
        proc = subprocess.run([self.py, "-c", code, *args], cwd=self.proj, env=self.env,
                              capture_output=True, text=True)
        if proc.returncode != 0:
            raise SetupError(f"filling the {self.backend} instance failed:\n"
                             f"{proc.stderr[-2000:]}")
        return proc.stdout

    def close(self) -> None:
        """Drops the database and removes the folder."""
        if self.db:
            self._admin(f"DROP DATABASE IF EXISTS {self.db} WITH (FORCE)")
            self.db = None
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> "Home":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


ADD_RUNS = '''
import sys, time
import dagster as dg
from dagster._core.storage.dagster_run import DagsterRun, DagsterRunStatus

instance = dg.DagsterInstance.get()
n = int(sys.argv[1])
start = time.perf_counter()
for i in range(n):
    instance.add_run(DagsterRun(job_name="__ASSET_JOB", status=DagsterRunStatus.SUCCESS,
                                tags={"bench": "api-runs", "i": str(i)}))
print(f"{n} {time.perf_counter() - start:.1f}")
'''

LOG_RUN = '''
import sys, time
import dagster as dg
from instproj.defs.assets import many_logs

instance = dg.DagsterInstance.get()
n = int(sys.argv[1])
start = time.perf_counter()
result = dg.materialize([many_logs], instance=instance,
                        run_config={"ops": {"many_logs": {"config": {"count": n}}}})
assert result.success
print(result.run_id, f"{time.perf_counter() - start:.1f}")
'''

COUNT_EVENTS = '''
import dagster as dg
instance = dg.DagsterInstance.get()
runs = instance.get_runs(limit=1)
print(len(instance.all_logs(runs[0].run_id)) if runs else -1)
'''


def stored_events(home: Home) -> int:
    """How many events real Dagster reads back for the newest run of `home` (-1: no run)."""
    try:
        return int(home.python(COUNT_EVENTS).strip().splitlines()[-1])
    except (SetupError, ValueError, IndexError):
        return -1
