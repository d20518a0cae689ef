"""The two sides of every comparison: the real Dagster tools and our binaries.

The real tools (`dagster-dg-cli`, `create-dagster`, `dagster`, all at the version pinned in
`.dagster-version`) are installed once with uv into `<cache>/tools/dagster-<V>/.venv`, outside
the repository, and reused by later runs. Ours are built with
`cargo build --release -p dg -p create-dagster` and taken from `target/release/`.

Both sides get the same environment: a private dg user config (`DG_CLI_CONFIG`) that turns the
real tool's telemetry off, so neither side writes telemetry logs during timing, `NO_COLOR`, and
`DAGSTER_DG_UPDATE_CHECK_ENABLED=0` so the real `create-dagster` does not ask PyPI for updates.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
USER_CONFIG = """\
# Written by bench/run: the dg user config used while benchmarking.
[cli]
telemetry = { enabled = false }
"""


class SetupError(Exception):
    """A tool could not be installed or built; the message says which and how to fix it."""


def dagster_version() -> str:
    """The pinned Dagster version, read from `.dagster-version` at the repository root."""
    path = REPO / ".dagster-version"
    try:
        return path.read_text().strip()
    except OSError as e:
        raise SetupError(f"cannot read `{path}`: {e}") from e


def default_cache_dir() -> Path:
    """`$XDG_CACHE_HOME/dg-bench`, else `~/.cache/dg-bench`."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "dg-bench"


@dataclass
class Tools:
    """Paths of both sides' executables and the environment every benchmarked command gets."""

    version: str
    real_bin: Path
    ours_bin: Path
    env: dict

    def real(self, name: str) -> str:
        """Absolute path of a real tool (`dg`, `create-dagster`, `python`)."""
        return str(self.real_bin / name)

    def ours(self, name: str) -> str:
        """Absolute path of one of our binaries (`dg`, `create-dagster`)."""
        return str(self.ours_bin / name)


def _run(cmd: list, what: str, cwd: Path | None = None) -> None:
    env = dict(os.environ, UV_PYTHON_DOWNLOADS="never")
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
        raise SetupError(f"{what} failed (exit {proc.returncode}): `{' '.join(cmd)}`\n{tail}")


def install_real(cache: Path, version: str, python: str, log) -> Path:
    """Installs the real tools at `version` once; returns the venv's `bin` folder."""
    root = cache / "tools" / f"dagster-{version}"
    venv, stamp = root / ".venv", root / "installed"
    if stamp.exists() and (venv / "bin" / "dg").exists():
        return venv / "bin"
    if shutil.which("uv") is None:
        raise SetupError("`uv` is not on PATH; install it (see docs/development.md) and rerun")
    log(f"installing real Dagster {version} into {venv} (once)")
    if venv.exists():
        shutil.rmtree(venv)
    root.mkdir(parents=True, exist_ok=True)
    _run(["uv", "venv", "--quiet", "--python", python, str(venv)], "creating the venv")
    pins = [f"{p}=={version}" for p in ("dagster-dg-cli", "create-dagster", "dagster")]
    _run(["uv", "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"), *pins],
         f"installing {' '.join(pins)}")
    stamp.write_text(version + "\n")
    return venv / "bin"


def build_ours(log) -> Path:
    """Builds our release binaries; returns `target/release` (honours `CARGO_TARGET_DIR`)."""
    log("building ours: cargo build --release -p dg -p create-dagster")
    _run(["cargo", "build", "--release", "--quiet", "-p", "dg", "-p", "create-dagster"],
         "building our binaries", cwd=REPO)
    target = Path(os.environ.get("CARGO_TARGET_DIR") or REPO / "target")
    return target / "release"


def bench_env(cache: Path) -> dict:
    """The environment every benchmarked command runs with (see the module doc)."""
    config = cache / "dg-user-config.toml"
    cache.mkdir(parents=True, exist_ok=True)
    if not config.exists() or config.read_text() != USER_CONFIG:
        config.write_text(USER_CONFIG)
    return dict(
        os.environ,
        DG_CLI_CONFIG=str(config),
        NO_COLOR="1",
        UV_PYTHON_DOWNLOADS="never",
        # The real create-dagster asks PyPI for its newest version on every call; keep the
        # network out of the timings (ours never asks).
        DAGSTER_DG_UPDATE_CHECK_ENABLED="0",
    )


def prepare(cache: Path, python: str, build: bool, ours_dir: Path | None, log) -> Tools:
    """Installs the real tools and builds ours (unless `build` is false or `ours_dir` given)."""
    version = dagster_version()
    real_bin = install_real(cache, version, python, log)
    if ours_dir is None:
        ours_dir = build_ours(log) if build else REPO / "target" / "release"
    ours_dir = ours_dir.resolve()
    if not (ours_dir / "dg").exists():
        raise SetupError(f"our `dg` is not at `{ours_dir / 'dg'}`; drop --no-build or pass --ours")
    return Tools(version=version, real_bin=real_bin, ours_bin=ours_dir, env=bench_env(cache))
