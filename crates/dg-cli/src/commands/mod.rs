//! One module per subcommand. Each takes its parsed arguments, resolves its settings and prints
//! through the [`Printer`].

use crate::args::{CheckCommand, CreateDagsterCli, DgCli, DgCommand, ListCommand};
use crate::error::CliResult;
use crate::printer::Printer;

/// Runs one `dg` command.
pub fn dispatch_dg(cli: DgCli, printer: Printer) -> CliResult {
    let _ = (&cli.global, printer);
    match cli.command {
        DgCommand::List(ListCommand::Projects(_args)) => todo_command("dg list projects"),
        DgCommand::Check(CheckCommand::Toml(_args)) => todo_command("dg check toml"),
    }
}

/// Runs one `create-dagster` command.
pub fn dispatch_create_dagster(cli: CreateDagsterCli, printer: Printer) -> CliResult {
    let _ = printer;
    match cli.command {}
}

fn todo_command(name: &str) -> CliResult {
    Err(crate::error::CliError::usage(format!(
        "`{name}` is not built yet"
    )))
}
