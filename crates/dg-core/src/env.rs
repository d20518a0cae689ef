//! Every environment variable dg reads or sets, named once, with what it means.

/// Path of the user config file (overrides `$XDG_CONFIG_HOME/dg.toml` / `~/.config/dg.toml`).
pub const DG_CLI_CONFIG: &str = "DG_CLI_CONFIG";
/// Base folder for user config files (XDG Base Directory spec).
pub const XDG_CONFIG_HOME: &str = "XDG_CONFIG_HOME";
/// The user's home folder.
pub const HOME: &str = "HOME";
/// Disables colour in terminal output when set to any non-empty value (<https://no-color.org>).
pub const NO_COLOR: &str = "NO_COLOR";
/// The instance home (holds `dagster.yaml` and the SQLite storage); when unset, dg uses `.dagster/`
/// in the workspace (or standalone project) root.
pub const DAGSTER_HOME: &str = "DAGSTER_HOME";
/// Tests only: the PostgreSQL server the storage conformance suite uses, as an admin URL (each test
/// creates and drops its own database there). Default `postgres://postgres@127.0.0.1:5432/postgres`.
pub const DG_TEST_POSTGRES_URL: &str = "DG_TEST_POSTGRES_URL";
/// Tests only: set to `1` to skip the PostgreSQL half of the storage conformance suite (it fails,
/// rather than skipping silently, when PostgreSQL is unreachable and this is not set).
pub const DG_TEST_SKIP_POSTGRES: &str = "DG_TEST_SKIP_POSTGRES";
/// In a project's `.env`: the Python interpreter to load the project with (relative paths are
/// resolved against the project root). Overrides the project's `.venv`, as in Dagster's `dg`.
pub const DG_PROJECT_PYTHON_EXECUTABLE: &str = "DG_PROJECT_PYTHON_EXECUTABLE";
/// The active virtual environment (set by `source .venv/bin/activate`); used with `--use-active-venv`.
pub const VIRTUAL_ENV: &str = "VIRTUAL_ENV";
/// The `uv` executable dg runs to create and sync project environments (default: `uv` on `PATH`).
pub const DG_UV: &str = "DG_UV";
/// Set on every agent process: the number of the inherited file descriptor of the private
/// host-agent channel (a Unix socket). User code never needs it.
pub const DG_AGENT_FD: &str = "DG_AGENT_FD";
/// Seconds a code location may take to load before its agent is stopped (default 180).
pub const DG_LOCATION_LOAD_TIMEOUT: &str = "DG_LOCATION_LOAD_TIMEOUT";
/// Folder of dg's caches, such as the snapshot cache (default `$XDG_CACHE_HOME/dg`, else `~/.cache/dg`).
pub const DG_CACHE_DIR: &str = "DG_CACHE_DIR";
/// Base folder for user caches (XDG Base Directory spec).
pub const XDG_CACHE_HOME: &str = "XDG_CACHE_HOME";
/// Tests only: the folder where tests keep environments they build once and reuse (a shared Python
/// environment with the pinned `dagster`). Default `~/.cache/dg-tests`.
pub const DG_TEST_CACHE_DIR: &str = "DG_TEST_CACHE_DIR";
/// Tests only: the Chromium executable the browser tests run headless (default `chromium` on `PATH`;
/// `scripts/test` sets it). The tests fail, naming this variable, when it cannot be started.
pub const DG_TEST_CHROMIUM: &str = "DG_TEST_CHROMIUM";
/// uv's cache folder; tests point every `uv` they run at one shared cache so environments build fast.
pub const UV_CACHE_DIR: &str = "UV_CACHE_DIR";
/// uv: whether uv may download Python builds; tests set `never` (the machine's Python is used).
pub const UV_PYTHON_DOWNLOADS: &str = "UV_PYTHON_DOWNLOADS";
/// Tests only: set by `dg-python`'s signal test when it re-runs its own test binary as a host whose
/// child must be ended when the host gets Ctrl-C; the value is the file the host writes pids to.
pub const DG_TEST_SIGNAL_HOST: &str = "DG_TEST_SIGNAL_HOST";
/// uv: never touch the network (tests set it with an empty cache to make `uv sync` fail as when
/// the package index is unreachable).
pub const UV_OFFLINE: &str = "UV_OFFLINE";
/// uv: the package index to resolve from (the scaffold Ctrl-C test points it at a local server that
/// never answers, so that `uv sync` is still running when the test presses Ctrl-C).
pub const UV_DEFAULT_INDEX: &str = "UV_DEFAULT_INDEX";
/// Set to `1` by `dg check defs` for the code it loads, as Dagster does, so user code can tell
/// that it is being validated.
pub const DAGSTER_IS_DEFS_VALIDATION_CLI: &str = "DAGSTER_IS_DEFS_VALIDATION_CLI";
/// Tests only: the `dagster` version of the shared test environment (default: the pinned one in
/// `.dagster-version`); `scripts/test` sets an older minor version for a second pass over the
/// location tests.
pub const DG_TEST_DAGSTER_VERSION: &str = "DG_TEST_DAGSTER_VERSION";
/// Tests only: the `st` command of Schemathesis, the API fuzzer of `dg-server`'s `dg_dev` test
/// (`scripts/test` sets it with `ensure_schemathesis` from `scripts/lib.sh`; when unset, the test
/// runs that function itself).
pub const DG_TEST_SCHEMATHESIS: &str = "DG_TEST_SCHEMATHESIS";
/// Tests only: how long the Schemathesis run of `dg-server`'s `dg_dev` test is: `short` (the
/// default, about two minutes, run by `scripts/test`) or `full` (`scripts/schemathesis full`).
pub const DG_TEST_SCHEMATHESIS_MODE: &str = "DG_TEST_SCHEMATHESIS_MODE";
