//! The commands of `dg` and `create-dagster`: argument definitions, settings resolution, one module
//! per subcommand (`commands/`), the helpers they share (loading locations, the merged asset graph,
//! the definitions listing and its table, `uv sync` after scaffolding), and the printer. The binaries only call [`run_dg`] and [`run_create_dagster`].

pub mod args;
pub mod commands;
mod create_sync;
pub mod defs_listing;
pub mod defs_table;
pub mod error;
pub mod locations;
pub mod printer;
pub mod settings;
pub mod table;
pub mod workspace_graph;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser;

use crate::error::CliError;
use crate::printer::Printer;
use crate::settings::{Session, Sources};

/// Entry point of the `dg` binary.
pub fn run_dg(argv: impl IntoIterator<Item = OsString>) -> ExitCode {
    let cli = match args::DgCli::try_parse_from(argv) {
        Ok(cli) => cli,
        Err(err) => return clap_exit(err),
    };
    let sources = match cli.command {
        args::DgCommand::Check(args::CheckCommand::Toml(_)) => Sources::UserOnly,
        _ => Sources::UserAndContext,
    };
    let session = match Session::resolve(&cli.global, sources) {
        Ok(session) => session,
        // How errors print depends on no setting, so the default printer says it as well.
        Err(err) => return finish(Err(err), Printer::default()),
    };
    let printer = session.printer;
    // Children (uv syncing an environment, agents loading code) lead their own process groups,
    // so a terminal's Ctrl-C reaches only us: forward it to them and end them, in one place for
    // every command. `dg dev` and `dg launch` handle the signals themselves (a clean shutdown,
    // a canceled run) and end their children their own way.
    if !matches!(
        cli.command,
        args::DgCommand::Dev(_) | args::DgCommand::Launch(_)
    ) {
        if let Err(e) = dg_python::process::install_signal_forwarding(CHILD_GRACE) {
            printer.warn(format!("Ctrl-C will not reach child processes: {e}"));
        }
    }
    finish(commands::dispatch_dg(cli.command, session), printer)
}

/// How long children get to end after a forwarded Ctrl-C before they are killed.
const CHILD_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

/// Entry point of the `create-dagster` binary.
pub fn run_create_dagster(argv: impl IntoIterator<Item = OsString>) -> ExitCode {
    let cli = match args::CreateDagsterCli::try_parse_from(argv) {
        Ok(cli) => cli,
        Err(err) => return clap_exit(err),
    };
    // `create-dagster` reads no config file: the printer has the default settings.
    let printer = Printer::default();
    finish(commands::dispatch_create_dagster(cli, printer), printer)
}

fn finish(result: Result<(), CliError>, printer: Printer) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            printer.error(&err);
            ExitCode::from(err.code)
        }
    }
}

/// Help and version go to stdout with exit 0; usage errors to stderr with exit 2 (clap's own codes).
fn clap_exit(err: clap::Error) -> ExitCode {
    // clap prints through its own writer; the lint exists to keep *our* output in the printer.
    let _ = err.print();
    ExitCode::from(err.exit_code() as u8)
}
