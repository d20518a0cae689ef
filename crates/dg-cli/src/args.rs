//! Command-line arguments of `dg` and `create-dagster` (clap derive). Only the shape of the command
//! line lives here; resolving flags against config files happens in the commands' settings.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

const DG_VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (for dagster ",
    include_str!("../../../.dagster-version"),
    ")"
);

/// CLI for managing Dagster projects and workspaces.
#[derive(Debug, Parser)]
#[command(name = "dg", version = DG_VERSION, disable_version_flag = true)]
pub struct DgCli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: DgCommand,
}

/// Options accepted by every `dg` command.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Directory to load the context from (a folder with a `dg.toml` or `pyproject.toml`, or below one).
    #[arg(long, global = true, value_name = "PATH")]
    pub target_path: Option<PathBuf>,
    /// Enable verbose output for debugging.
    #[arg(long, global = true)]
    pub verbose: bool,
    /// Print the version and exit.
    #[arg(short = 'v', long = "version", action = clap::ArgAction::Version)]
    pub version: (),
}

#[derive(Debug, Subcommand)]
pub enum DgCommand {
    /// Commands for listing Dagster entities.
    #[command(subcommand)]
    List(ListCommand),
    /// Commands for checking the integrity of your Dagster code.
    #[command(subcommand)]
    Check(CheckCommand),
    /// Commands for scaffolding Dagster code.
    #[command(subcommand)]
    Scaffold(ScaffoldCommand),
    /// Launch a Dagster run: materialize assets or execute a job, recorded in the instance.
    Launch(LaunchArgs),
    /// Start a local instance of Dagster: the UI, the API and every code location of the
    /// workspace (or the one project), reloaded when their files change.
    #[command(disable_help_flag = true)]
    Dev(DevArgs),
}

/// Arguments of `dg dev` (`-h` is `--host`, as in Dagster; help is `--help`).
#[derive(Debug, Args)]
pub struct DevArgs {
    /// Host to listen on.
    #[arg(long, short = 'h', default_value = "127.0.0.1")]
    pub host: String,
    /// Port to listen on (`0` picks a free one).
    #[arg(long, short = 'p', default_value_t = 3000)]
    pub port: u16,
    /// Also answer requests for this host name (`NAME` or `NAME:PORT`); repeat for several.
    /// Requests for any other name are refused (DNS rebinding). Loopback names and the `--host`
    /// address are always allowed, and any IP address when `--host` is `0.0.0.0` or `::`.
    #[arg(long, value_name = "NAME")]
    pub allowed_host: Vec<dg_server::allowed_hosts::AllowedHost>,
    /// Set the log level of the server's messages.
    #[arg(long, default_value = "info", ignore_case = true,
          value_parser = ["critical", "error", "warning", "info", "debug"])]
    pub log_level: String,
    /// Use the active virtual environment (`$VIRTUAL_ENV`) for every project.
    #[arg(long)]
    pub use_active_venv: bool,
    /// Print help.
    #[arg(long, action = clap::ArgAction::Help)]
    pub help: Option<bool>,
}

/// Arguments of `dg launch` (Dagster's flags).
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("target").required(true).args(["assets", "job"])))]
pub struct LaunchArgs {
    /// Comma-separated asset selection to target (from a workspace root: across its projects).
    #[arg(long, value_name = "SELECTION")]
    pub assets: Option<String>,
    /// Job to target.
    #[arg(long, value_name = "NAME", conflicts_with = "assets")]
    pub job: Option<String>,
    /// Code location to run in (at a workspace root: for a key or job that several locations
    /// define, this chooses one; only the selected assets it defines are run).
    #[arg(long, value_name = "NAME")]
    pub location: Option<String>,
    /// Asset partition to target.
    #[arg(long, value_name = "KEY")]
    pub partition: Option<String>,
    /// Asset partition range to target, i.e. `<start>...<end>`.
    #[arg(long, value_name = "RANGE", conflicts_with = "partition")]
    pub partition_range: Option<String>,
    /// JSON string of config to use for the launched run.
    #[arg(long, value_name = "JSON")]
    pub config_json: Option<String>,
    /// Run config file (YAML); repeat to merge several, later files winning.
    #[arg(long, short = 'c', value_name = "FILE", conflicts_with = "config_json")]
    pub config: Vec<PathBuf>,
    #[command(flatten)]
    pub load: LoadArgs,
}

#[derive(Debug, Subcommand)]
pub enum ListCommand {
    /// List projects in the current workspace, or `.` in a standalone project.
    Projects(ListProjectsArgs),
    /// List the Dagster definitions of the current project, or of every project of the workspace.
    #[command(visible_alias = "def")]
    Defs(ListDefsArgs),
}

#[derive(Debug, Args)]
pub struct ListProjectsArgs {
    /// Print the projects as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum CheckCommand {
    /// Check TOML configuration files (`dg.toml`, `pyproject.toml`) for validity.
    Toml(CheckTomlArgs),
    /// Load and validate the definitions of the current project, or of every project of the
    /// workspace (all at once); exit 1 when any fails.
    ///
    /// Sets `DAGSTER_IS_DEFS_VALIDATION_CLI=1` for the loading code, as Dagster does.
    Defs(CheckDefsArgs),
}

#[derive(Debug, Args)]
pub struct CheckTomlArgs {}

/// How commands that import user code load code locations (`dg list defs`, `dg check defs`).
#[derive(Debug, Clone, Default, Args)]
pub struct LoadArgs {
    /// Load every location again instead of using cached snapshots (the fresh ones are cached).
    #[arg(long)]
    pub no_cache: bool,
    /// Do not create or sync project environments with `uv sync`; use them as they are.
    #[arg(long)]
    pub no_sync: bool,
    /// Use the active virtual environment (`$VIRTUAL_ENV`) for every project.
    #[arg(long)]
    pub use_active_venv: bool,
    /// Stop a location that takes longer than this to load [default: `$DG_LOCATION_LOAD_TIMEOUT`, else 180].
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: Option<u64>,
}

#[derive(Debug, Args)]
pub struct ListDefsArgs {
    /// Output as JSON instead of a table (Dagster's shape; from a workspace root each item also has `code_location`).
    #[arg(long)]
    pub json: bool,
    /// Only definitions from source files under this path (a file or folder of a project).
    #[arg(long, short = 'p', value_name = "PATH")]
    pub path: Option<PathBuf>,
    /// Asset selection to list (Dagster's selection syntax, e.g. `group:raw+`).
    #[arg(long, short = 'a', value_name = "SELECTION")]
    pub assets: Option<String>,
    /// Columns to display: comma-separated, or the flag repeated. Available columns: key, group,
    /// deps, kinds, description, tags, cron, is_executable.
    #[arg(long, short = 'c', value_name = "COLUMNS")]
    pub columns: Vec<String>,
    #[command(flatten)]
    pub load: LoadArgs,
}

/// `--log-level` of `dg check defs`: the storage's levels (one enum for both).
pub use dg_storage::LogLevel;

/// `--log-format` of `dg check defs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Colored,
    Json,
    Rich,
}

#[derive(Debug, Args)]
pub struct CheckDefsArgs {
    /// Which messages to show: `debug` adds what user code printed while loading, `info` and
    /// `warning` show each location as it finishes, `error` and `critical` only failures.
    #[arg(long, value_enum, ignore_case = true, default_value = "warning")]
    pub log_level: LogLevel,
    /// Format of the messages on stderr: `json` prints one JSON object per line.
    #[arg(long, value_enum, ignore_case = true, default_value = "colored")]
    pub log_format: LogFormat,
    /// Accepted for compatibility: `defs.yaml` files are validated while the definitions load.
    #[arg(long, overrides_with = "no_check_yaml")]
    pub check_yaml: bool,
    /// Accepted for compatibility (see `--check-yaml`).
    #[arg(long, overrides_with = "check_yaml")]
    pub no_check_yaml: bool,
    /// Print the result of every location as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub load: LoadArgs,
}

/// CLI for creating a new Dagster project or workspace.
#[derive(Debug, Parser)]
#[command(name = "create-dagster", version = DG_VERSION, disable_version_flag = true)]
pub struct CreateDagsterCli {
    /// Print the version and exit.
    #[arg(short = 'v', long = "version", action = clap::ArgAction::Version)]
    pub version: (),
    #[command(subcommand)]
    pub command: CreateDagsterCommand,
}

#[derive(Debug, Subcommand)]
pub enum CreateDagsterCommand {
    /// Scaffold a new Dagster project at PATH; its name is the last component of PATH.
    ///
    /// Inside a workspace, the project is also added to the workspace's `dg.toml`. `.` creates the
    /// project in the current folder, which must be empty.
    Project(CreateProjectArgs),
    /// Scaffold a new Dagster workspace at PATH: `dg.toml`, `projects/`, `pyproject.toml`, `README.md`.
    Workspace(CreateWorkspaceArgs),
}

/// `--uv-sync/--no-uv-sync` of both `create-dagster` commands.
#[derive(Debug, Clone, Args)]
pub struct UvSyncArgs {
    /// Run `uv sync` after scaffolding (the default: asked first when the terminal is interactive).
    #[arg(long, overrides_with = "no_uv_sync")]
    pub uv_sync: bool,
    /// Do not run `uv sync`; dg creates the environment when a command first needs it.
    #[arg(long, overrides_with = "uv_sync")]
    pub no_uv_sync: bool,
}

#[derive(Debug, Args)]
pub struct CreateProjectArgs {
    /// Folder of the new project (created with its parents), or `.` for the current empty folder.
    pub path: PathBuf,
    #[command(flatten)]
    pub uv: UvSyncArgs,
}

#[derive(Debug, Args)]
pub struct CreateWorkspaceArgs {
    /// Folder of the new workspace (created with its parents), or `.` for the current empty folder.
    pub path: PathBuf,
    #[command(flatten)]
    pub uv: UvSyncArgs,
}

#[derive(Debug, Subcommand)]
pub enum ScaffoldCommand {
    /// Scaffold a Python file with a Dagster definition under the project's defs folder.
    #[command(after_help = scaffold_defs_types_help())]
    Defs(ScaffoldDefsArgs),
}

#[derive(Debug, Args)]
pub struct ScaffoldDefsArgs {
    /// The definition type, such as `dagster.asset` (or `asset`); the list is below.
    #[arg(value_name = "TYPE")]
    pub type_name: String,
    /// The file to create, relative to the defs folder, such as `my_asset.py` or `sales/orders.py`.
    pub path: String,
    /// The asset a `dagster.asset_check` checks (`a/b` for a key with two parts).
    #[arg(long, value_name = "KEY")]
    pub asset_key: Option<String>,
}

/// The "Definition types" section of `dg scaffold defs --help`.
fn scaffold_defs_types_help() -> String {
    let mut help = String::from("Definition types:\n");
    for t in dg_scaffold::DEFS_TYPES {
        help.push_str(&format!("  {:<22}{}\n", t.name, t.summary));
    }
    help
}
