"""The workspaces the `dg dev` cases serve, made once under the cache.

`dev_workspace(ctx, n)` copies the real `create-dagster` workspace of `n` projects
(`ctx.workspace(n)`) to `<cache>/dev-workspaces/dagster-<V>/ws-<n>` and adds:

- in each project, `defs/assets.py` with a chain of four assets whose names start with the
  project's package (`proj_01_raw` -> `proj_01_cleaned` -> `proj_01_summary` -> `proj_01_report`,
  so keys are unique across the workspace), and the project's own `.venv` (uv, Python 3.11) with
  `dagster==<V>` and the project installed editable: what `uv sync` in a scaffolded project gives
  minus its dev group. Both sides load each project in that `.venv` (the real `dg dev` through the
  `executable_path` it writes in its workspace file, ours by finding it);
- `deployments/local/.venv`, the environment the scaffolded workspace declares for running the
  real tools (`deployments/local/pyproject.toml`: `dagster`, `dagster-dg-cli`,
  `dagster-webserver`), with those three at `<V>`. The real `dg dev` runs from there: it starts
  `dagster-webserver` and the daemon with its own interpreter, so `dagster-webserver` must be
  installed next to `dg` (it refuses to start without it). Ours needs nothing besides the
  projects' environments.

uv links packages from its cache, so the environments cost seconds after the first one. A
`.complete` stamp marks a finished workspace; an unfinished one is rebuilt.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from .cases import Context
from .tools import SetupError
from .workspaces import project_names

ASSETS = '''import dagster as dg


@dg.asset(group_name="ingest")
def {p}_raw():
    return [1, 2, 3]


@dg.asset(group_name="ingest")
def {p}_cleaned({p}_raw):
    return [x for x in {p}_raw if x > 1]


@dg.asset(group_name="marts")
def {p}_summary({p}_cleaned):
    return sum({p}_cleaned)


@dg.asset(group_name="marts")
def {p}_report({p}_summary):
    return f"total: {{{p}_summary}}"
'''


def package(project: str) -> str:
    """The Python package (and asset-name prefix) of a scaffolded project: `proj-01` -> `proj_01`."""
    return project.replace("-", "_")


def _run(cmd: list, cwd: Path) -> None:
    env = dict(os.environ, UV_PYTHON_DOWNLOADS="never")
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
        raise SetupError(f"`{' '.join(map(str, cmd))}` failed in `{cwd}`:\n{tail}")


def _venv(folder: Path, packages: list) -> None:
    _run(["uv", "venv", "--quiet", "--python", "3.11", ".venv"], folder)
    _run(["uv", "pip", "install", "--quiet", "--python", ".venv/bin/python", *packages], folder)


def dev_workspace(ctx: Context, n: int) -> Path:
    """The workspace of `n` projects with assets and environments (see the module doc)."""
    v = ctx.tools.version
    root = ctx.cache / "dev-workspaces" / f"dagster-{v}" / f"ws-{n}"
    stamp = root / ".complete"
    if stamp.exists():
        return root
    source = ctx.workspace(n)
    ctx.log(f"making the dg dev workspace of {n} projects (once; uv environments): {root}")
    if root.exists():
        shutil.rmtree(root)
    shutil.copytree(source, root)
    for name in project_names(n):
        project = root / "projects" / name
        pkg = package(name)
        (project / "src" / pkg / "defs" / "assets.py").write_text(ASSETS.format(p=pkg))
        _venv(project, [f"dagster=={v}", "-e", "."])
    deployment = root / "deployments" / "local"
    _venv(deployment, [f"dagster=={v}", f"dagster-dg-cli=={v}", f"dagster-webserver=={v}"])
    stamp.write_text(f"{n} projects with assets and environments, dagster {v}\n")
    return root


def real_dg(ws: Path) -> str:
    """The real `dg` of the workspace's local deployment environment."""
    return str(ws / "deployments" / "local" / ".venv" / "bin" / "dg")
