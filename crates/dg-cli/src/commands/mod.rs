//! One module per subcommand. Each takes its parsed arguments, resolves its settings and prints
//! through the [`Printer`].

pub mod check_defs;
pub mod check_toml;
pub mod create_project;
mod create_sync;
pub mod create_workspace;
pub mod defs_listing;
pub mod defs_table;
pub mod dev;
pub mod launch;
pub mod list_defs;
pub mod list_projects;
pub mod locations;
pub mod scaffold_defs;
pub mod workspace_graph;

use crate::args::{
    CheckCommand, CreateDagsterCli, CreateDagsterCommand, DgCli, DgCommand, ListCommand,
    ScaffoldCommand,
};
use crate::error::CliResult;
use crate::printer::Printer;

/// Runs one `dg` command.
pub fn dispatch_dg(cli: DgCli, printer: Printer) -> CliResult {
    let _ = (&cli.global, printer);
    match cli.command {
        DgCommand::List(ListCommand::Projects(args)) => list_projects::run(&cli.global, &args),
        DgCommand::List(ListCommand::Defs(args)) => list_defs::run(&cli.global, &args),
        DgCommand::Check(CheckCommand::Toml(args)) => check_toml::run(&cli.global, &args),
        DgCommand::Check(CheckCommand::Defs(args)) => check_defs::run(&cli.global, &args),
        DgCommand::Launch(args) => launch::run(&cli.global, &args),
        DgCommand::Scaffold(ScaffoldCommand::Defs(args)) => {
            scaffold_defs::run(&args, &cli.global, printer)
        }
        DgCommand::Dev(args) => dev::run(&cli.global, &args),
    }
}

/// Runs one `create-dagster` command.
pub fn dispatch_create_dagster(cli: CreateDagsterCli, printer: Printer) -> CliResult {
    match cli.command {
        CreateDagsterCommand::Project(args) => create_project::run(&args, printer),
        CreateDagsterCommand::Workspace(args) => create_workspace::run(&args, printer),
    }
}
