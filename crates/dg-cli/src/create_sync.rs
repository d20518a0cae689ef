//! `--uv-sync/--no-uv-sync` of the `create-dagster` commands: whether to create the new folder's
//! environment, asking first on an interactive terminal, and running `uv sync` through
//! `dg-python` (the one module that spawns processes).
//!
//! A failed sync never removes what was scaffolded: the error says how to retry.

use std::io::{BufRead, IsTerminal};
use std::path::{Path, PathBuf};
use std::time::Duration;

use dg_python::process::Output;
use dg_python::EnvOptions;

use crate::args::UvSyncArgs;
use crate::error::{CliError, CliResult};
use crate::printer::Printer;

/// How long `uv sync` may take to end after a forwarded Ctrl-C before it is killed.
const SYNC_GRACE: Duration = Duration::from_secs(5);

/// Where uv's installation guide lives, for every "uv is missing" message.
pub const UV_INSTALL_URL: &str = "https://docs.astral.sh/uv/getting-started/installation/";

/// Whether to run `uv sync`: the flag when given; else the answer to `question` on an interactive
/// terminal; else yes.
pub fn decide(args: &UvSyncArgs, question: &str, printer: Printer) -> CliResult<bool> {
    if args.uv_sync {
        return Ok(true);
    }
    if args.no_uv_sync {
        return Ok(false);
    }
    if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
        return Ok(true);
    }
    printer.status(format!("{question} [Y/n]"));
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| CliError::usage(format!("cannot read the answer: {e}")))?;
    match answer.trim().to_ascii_lowercase().as_str() {
        "" | "y" | "yes" => Ok(true),
        "n" | "no" => Ok(false),
        other => Err(
            CliError::usage(format!("`{other}` is not an answer to this question"))
                .with_hint("Answer `y` or `n`, or pass `--uv-sync` / `--no-uv-sync`."),
        ),
    }
}

/// Whether the `uv` dg would run can be found (an explicit path, or a name on `PATH`).
pub fn uv_available() -> bool {
    let uv = dg_python::uv::uv_executable();
    if uv.components().count() > 1 {
        return uv.is_file();
    }
    std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).any(|dir| dir.join(&uv).is_file()))
        .unwrap_or(false)
}

/// The error for `--uv-sync` without uv, raised before anything is written.
pub fn uv_missing() -> CliError {
    CliError::usage("`--uv-sync` needs `uv`, and it was not found on `PATH`").with_hint(format!(
        "Install uv ({UV_INSTALL_URL}), or pass `--no-uv-sync` to create the files only."
    ))
}

/// Runs `uv sync` in `root` (the new project or workspace `name`), with uv's own progress shown
/// on the terminal.
pub fn sync(name: &str, root: &Path, printer: Printer) -> CliResult {
    let shown = display_path(root);
    // uv runs in its own process group, so a Ctrl-C on the terminal reaches only us: without
    // forwarding, we would die and leave uv syncing in the background.
    if let Err(e) = dg_python::process::install_signal_forwarding(SYNC_GRACE) {
        printer.warn(format!("cannot forward Ctrl-C to `uv sync`: {e}"));
    }
    printer.status(format!("Running `uv sync` in `{shown}`..."));
    let opts = EnvOptions {
        sync_output: Output::Inherit,
        ..EnvOptions::default()
    };
    match dg_python::uv::sync(name, root, &root.join(".venv"), &opts) {
        Ok(()) => {
            printer.status(format!(
                "Created `uv.lock` and the environment `{}`.",
                display_path(&root.join(".venv"))
            ));
            Ok(())
        }
        Err(dg_python::PythonError::SyncFailed { status, .. }) if status.contains("(SIG") => {
            let mut cli = CliError::usage(format!(
                "`{name}` was created at `{shown}`, but `uv sync` was interrupted"
            ))
            .with_hint(format!(
                "The files are in place. Run `uv sync` in `{shown}` to finish; dg also syncs it when a command first needs the environment."
            ));
            cli.causes.push(format!("`uv sync` ended by {status}"));
            // The exit code a shell gives a command that Ctrl-C ended.
            cli.code = 130;
            Err(cli)
        }
        Err(err) => {
            let mut cli = CliError::usage(format!(
                "`{name}` was created at `{shown}`, but `uv sync` failed"
            ))
            .with_hint(format!(
                "The files are in place. Fix the cause above (is the package index reachable?), \
                 then run `uv sync` in `{shown}`; dg also syncs it when a command first needs the environment."
            ));
            cli.causes.push(err.to_string());
            if let dg_python::PythonError::SyncFailed { output, .. } = &err {
                cli.causes.extend(output.lines().map(str::to_owned));
            }
            Err(cli)
        }
    }
}

/// `path` relative to the current folder when it is inside it, else as is.
pub fn display_path(path: &Path) -> String {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    match path.strip_prefix(&cwd) {
        Ok(rel) if rel.as_os_str().is_empty() => ".".to_owned(),
        Ok(rel) => rel.display().to_string(),
        Err(_) => path.display().to_string(),
    }
}
