# Shared setup for scripts/test, scripts/demo and bench/: installs or finds what dg's tests and demo need.
# Source it; every function is idempotent and prints one line of what it did.
# shellcheck shell=bash

DG_REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DAGSTER_VERSION="$(tr -d '[:space:]' < "$DG_REPO_ROOT/.dagster-version")"
export DAGSTER_VERSION
# Shared caches outside the repository, so Python environments are built once and reused.
export DG_TEST_CACHE_DIR="${DG_TEST_CACHE_DIR:-$HOME/.cache/dg-tests}"
export UV_CACHE_DIR="${UV_CACHE_DIR:-$HOME/.cache/uv}"
# Never download a Python build: the machine's Python 3.11 is the one we use.
export UV_PYTHON_DOWNLOADS="${UV_PYTHON_DOWNLOADS:-never}"

log() { printf '\033[1m==>\033[0m %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    log "need root for: $*"; return 1; fi
}

apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  if [ -z "${DG_APT_UPDATED:-}" ]; then as_root apt-get update -qq >/dev/null; DG_APT_UPDATED=1; fi
  as_root apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# uv: from PATH, else installed with pip from PyPI.
ensure_uv() {
  if ! command -v uv >/dev/null 2>&1; then
    log "installing uv with pip"
    python3 -m pip install --quiet --user uv 2>/dev/null || python3 -m pip install --quiet uv
    local bin
    bin="$(python3 -c 'import uv, os; print(os.path.dirname(uv.find_uv_bin()))')"
    export PATH="$bin:$PATH"
  fi
  log "uv: $(uv --version)"
}

# PostgreSQL on 127.0.0.1:5432: used when it answers, else installed from Debian's packages and started.
ensure_postgres() {
  export DG_TEST_POSTGRES_URL="${DG_TEST_POSTGRES_URL:-postgres://postgres:postgres@127.0.0.1:5432/postgres}"
  if pg_answers; then log "PostgreSQL: answering on 127.0.0.1:5432"; return; fi
  if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    log "installing PostgreSQL from Debian's packages"
    apt_install postgresql postgresql-client
  fi
  local version
  version="$(ls /etc/postgresql | sort -V | tail -n 1)"
  [ -d "/etc/postgresql/$version/main" ] || as_root pg_createcluster "$version" main >/dev/null
  log "starting PostgreSQL $version"
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  for _ in $(seq 1 30); do pg_answers && break; sleep 1; done
  pg_answers || { log "PostgreSQL did not start"; return 1; }
  # A cluster we started ourselves asks for a password on TCP: give the test user the one in the URL.
  as_root su postgres -c "psql -q -c \"ALTER USER postgres PASSWORD 'postgres'\"" >/dev/null 2>&1 || true
}

pg_answers() { (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; }

# Debian's Chromium for the browser tests.
ensure_chromium() {
  if ! command -v chromium >/dev/null 2>&1; then
    log "installing Chromium from Debian's packages"
    apt_install chromium chromium-driver fonts-dejavu-core
  fi
  export DG_TEST_CHROMIUM="${DG_TEST_CHROMIUM:-$(command -v chromium)}"
  log "Chromium: $("$DG_TEST_CHROMIUM" --version 2>/dev/null | head -n 1)"
}

# Schemathesis, the API fuzzer of the schemathesis test (`crates/dg-server/tests/schemathesis`), in
# its own virtual environment under $DG_TEST_CACHE_DIR, built once with uv (relocatable, built
# beside its final place and renamed, so a half-built one is never used). Exports
# DG_TEST_SCHEMATHESIS, the path of its `st` command.
DG_SCHEMATHESIS_VERSION="${DG_SCHEMATHESIS_VERSION:-4.32.5}"
ensure_schemathesis() {
  local venv="$DG_TEST_CACHE_DIR/schemathesis-$DG_SCHEMATHESIS_VERSION"
  if [ ! -f "$venv/.complete" ]; then
    log "installing schemathesis $DG_SCHEMATHESIS_VERSION into $venv"
    mkdir -p "$DG_TEST_CACHE_DIR"
    local tmp="$venv.tmp$$"
    rm -rf "$tmp"
    uv venv --quiet --relocatable --python 3.11 "$tmp"
    uv pip install --quiet --python "$tmp/bin/python" "schemathesis==$DG_SCHEMATHESIS_VERSION"
    touch "$tmp/.complete"
    rm -rf "$venv"
    mv "$tmp" "$venv"
  fi
  export DG_TEST_SCHEMATHESIS="$venv/bin/st"
  log "schemathesis: $("$DG_TEST_SCHEMATHESIS" --version 2>/dev/null | head -n 1)"
}

# The dagster-postgres released with dagster $1: 0.<minor + 16>.<patch>.
dagster_postgres_version() {
  local _major minor patch
  IFS=. read -r _major minor patch <<<"$1"
  echo "0.$((minor + 16)).$patch"
}

# The requirements of the shared test environment for dagster $1, one a line: the list in
# crates/dg-test/shared-env.txt (the one `dg_test::python` reads) with the versions filled in.
shared_env_packages() {
  local pg
  pg="$(dagster_postgres_version "$1")"
  grep -v -e '^[[:space:]]*#' -e '^[[:space:]]*$' "$DG_REPO_ROOT/crates/dg-test/shared-env.txt" |
    sed -e "s/{dagster_postgres}/$pg/g" -e "s/{dagster}/$1/g" -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//'
}

# The cache key of an environment whose requirements are on stdin, one a line: FNV-1a (32 bits) of
# the lines, each ended by a newline, as 8 hex digits (as `dg_test::python::env_key`).
env_key() {
  local hash=2166136261 byte
  for byte in $(od -An -v -tu1); do
    hash=$(((hash ^ byte) * 16777619 & 0xffffffff))
  done
  printf '%08x\n' "$hash"
}

# The shared Python environment the Rust tests use (the same folder and recipe as `dg-test`'s
# `shared_python`: dagster, dagster-webserver, dagster-postgres and psycopg2 at the pinned versions,
# built once beside its final place and renamed; its folder name carries the key of its
# requirements, so a changed list builds a new one). Exports DG_TEST_PYTHON, its interpreter.
ensure_dagster_env() {
  local version="${DG_TEST_DAGSTER_VERSION:-$DAGSTER_VERSION}"
  local packages key name
  packages="$(shared_env_packages "$version")"
  key="$(printf '%s\n' "$packages" | env_key)"
  name="dagster-$version-py311-$key"
  local venv="$DG_TEST_CACHE_DIR/$name"
  if [ ! -f "$venv/.complete" ]; then
    log "installing $(echo "$packages" | tr '\n' ' ')into $venv"
    mkdir -p "$DG_TEST_CACHE_DIR"
    local tmp="$DG_TEST_CACHE_DIR/$name.tmp$$"
    rm -rf "$tmp"
    uv venv --quiet --python 3.11 "$tmp"
    # shellcheck disable=SC2086 # one requirement per word
    uv pip install --quiet --python "$tmp/bin/python" $packages
    touch "$tmp/.complete"
    mv "$tmp" "$venv" 2>/dev/null || rm -rf "$tmp"
  fi
  export DG_TEST_PYTHON="$venv/bin/python"
}

# pytest for the agent's Python tests, installed once into its own folder under $DG_TEST_CACHE_DIR
# and put on PYTHONPATH beside the shared dagster environment (never installed into it). Exports
# DG_TEST_PYTEST_PATH, that folder.
DG_PYTEST_VERSION="${DG_PYTEST_VERSION:-9.2.0}"
ensure_pytest() {
  local target="$DG_TEST_CACHE_DIR/pytest-$DG_PYTEST_VERSION"
  if [ ! -f "$target/.complete" ]; then
    log "installing pytest $DG_PYTEST_VERSION into $target"
    mkdir -p "$DG_TEST_CACHE_DIR"
    local tmp="$target.tmp$$"
    rm -rf "$tmp"
    uv pip install --quiet --python 3.11 --target "$tmp" "pytest==$DG_PYTEST_VERSION"
    touch "$tmp/.complete"
    rm -rf "$target"
    mv "$tmp" "$target"
  fi
  export DG_TEST_PYTEST_PATH="$target"
}
