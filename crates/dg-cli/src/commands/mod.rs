//! One module per subcommand. Each takes its parsed arguments and the [`Session`] (global settings
//! and the one [`Printer`]), resolves its own settings with [`crate::settings`] and prints through
//! the printer.

pub mod check_defs;
pub mod check_toml;
pub mod create_project;
pub mod create_workspace;
pub mod dev;
pub mod launch;
pub mod list_defs;
pub mod list_projects;
pub mod scaffold_defs;

use crate::args::{
    CheckCommand, CreateDagsterCli, CreateDagsterCommand, DgCommand, ListCommand, ScaffoldCommand,
};
use crate::error::CliResult;
use crate::printer::Printer;
use crate::settings::Session;

/// Runs one `dg` command.
pub fn dispatch_dg(command: DgCommand, session: Session) -> CliResult {
    match command {
        DgCommand::List(ListCommand::Projects(args)) => list_projects::run(session, &args),
        DgCommand::List(ListCommand::Defs(args)) => list_defs::run(session, &args),
        DgCommand::Check(CheckCommand::Toml(args)) => check_toml::run(session, &args),
        DgCommand::Check(CheckCommand::Defs(args)) => check_defs::run(session, &args),
        DgCommand::Launch(args) => launch::run(session, &args),
        DgCommand::Scaffold(ScaffoldCommand::Defs(args)) => scaffold_defs::run(session, &args),
        DgCommand::Dev(args) => dev::run(session, &args),
    }
}

/// Runs one `create-dagster` command.
pub fn dispatch_create_dagster(cli: CreateDagsterCli, printer: Printer) -> CliResult {
    match cli.command {
        CreateDagsterCommand::Project(args) => create_project::run(&args, printer),
        CreateDagsterCommand::Workspace(args) => create_workspace::run(&args, printer),
    }
}

/// Says, once, that a previous dg's own database in the instance home (`storage/dg.db`) is no
/// longer read: since issue 14 the instance is Dagster's own layout. The file is left as it is.
pub(crate) fn warn_legacy_database(printer: Printer, config: &dg_storage::InstanceConfig) {
    if let Some(path) = dg_storage::legacy_database(config) {
        printer.warn(format!(
            "`{}` holds runs of an earlier dg, which are no longer read: the instance is now \
             Dagster's own layout (runs and events start afresh); delete the file when you no \
             longer need it",
            path.display()
        ));
    }
}
