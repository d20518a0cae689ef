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
}

#[derive(Debug, Subcommand)]
pub enum ListCommand {
    /// List projects in the current workspace, or `.` in a standalone project.
    Projects(ListProjectsArgs),
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
}

#[derive(Debug, Args)]
pub struct CheckTomlArgs {}

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
