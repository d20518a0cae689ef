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
pub enum CreateDagsterCommand {}
