//! One module per subcommand. Each takes its parsed arguments, resolves its settings and prints
//! through the [`Printer`].

pub mod check_toml;
pub mod list_projects;

use crate::args::{CheckCommand, CreateDagsterCli, DgCli, DgCommand, ListCommand};
use crate::error::CliResult;
use crate::printer::Printer;

/// Runs one `dg` command.
pub fn dispatch_dg(cli: DgCli, printer: Printer) -> CliResult {
    let _ = (&cli.global, printer);
    match cli.command {
        DgCommand::List(ListCommand::Projects(args)) => list_projects::run(&cli.global, &args),
        DgCommand::Check(CheckCommand::Toml(args)) => check_toml::run(&cli.global, &args),
    }
}

/// Runs one `create-dagster` command.
pub fn dispatch_create_dagster(cli: CreateDagsterCli, printer: Printer) -> CliResult {
    let _ = printer;
    match cli.command {}
}
