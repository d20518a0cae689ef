//! The one printer all terminal output goes through.
//!
//! Data a script may read goes to stdout ([`Printer::out`]); status, warnings and errors go to
//! stderr. Colour follows the terminal and `NO_COLOR` (via `anstream`), progress bars are hidden when
//! stderr is not a terminal, `--verbose` (or `cli.verbose`) enables debug lines, and the warnings
//! named in `cli.suppress_warnings` are not printed. Dagster's `dg` has no `--quiet`, so neither do
//! we. The printer is built once per process, from the resolved settings
//! ([`crate::settings::Session`]).

use std::io::{IsTerminal, Write};
use std::time::Duration;

use anstyle::{AnsiColor, Style};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use dg_config::{ConfigWarning, WarningId};

use crate::error::CliError;

/// How much the printer says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Verbosity {
    #[default]
    Normal,
    Verbose,
}

/// Styles used across commands, so that every command colours the same things the same way.
pub mod styles {
    use super::*;
    pub const ERROR: Style = AnsiColor::Red.on_default().bold();
    pub const WARNING: Style = AnsiColor::Yellow.on_default().bold();
    pub const HINT: Style = AnsiColor::Cyan.on_default().bold();
    pub const SUCCESS: Style = AnsiColor::Green.on_default().bold();
    pub const BOLD: Style = Style::new().bold();
    pub const DIM: Style = Style::new().dimmed();
}

/// Writes to the terminal on behalf of every command.
#[derive(Debug, Clone, Copy, Default)]
pub struct Printer {
    verbosity: Verbosity,
    /// One bit per [`WarningId`] named in `cli.suppress_warnings` (a bit set keeps the printer
    /// `Copy`, so closures and threads can take it by value).
    suppressed: u32,
}

impl Printer {
    /// A printer at `verbosity` that leaves out the warnings named in `suppress_warnings`.
    pub fn new(verbosity: Verbosity, suppress_warnings: &[WarningId]) -> Self {
        Self {
            verbosity,
            suppressed: suppress_warnings
                .iter()
                .fold(0, |bits, id| bits | warning_bit(*id)),
        }
    }

    pub fn verbosity(&self) -> Verbosity {
        self.verbosity
    }

    pub fn is_verbose(&self) -> bool {
        self.verbosity == Verbosity::Verbose
    }

    /// Command output (tables, JSON, paths): always printed, to stdout.
    pub fn out(&self, text: impl std::fmt::Display) {
        let mut stdout = anstream::stdout().lock();
        // A closed pipe (`dg list projects | head -1`) is not an error worth a panic.
        let _ = writeln!(stdout, "{text}");
    }

    /// A status line on stderr.
    pub fn status(&self, text: impl std::fmt::Display) {
        let _ = writeln!(anstream::stderr().lock(), "{text}");
    }

    /// A debug line on stderr, shown only with `--verbose`.
    pub fn debug(&self, text: impl std::fmt::Display) {
        if self.verbosity == Verbosity::Verbose {
            let dim = styles::DIM;
            let _ = writeln!(anstream::stderr().lock(), "{dim}{text}{dim:#}");
        }
    }

    /// `warning: ...` on stderr, for warnings that have no name in `cli.suppress_warnings` (they
    /// are about this run, like a signal handler that could not be installed).
    pub fn warn(&self, text: impl std::fmt::Display) {
        let w = styles::WARNING;
        let _ = writeln!(anstream::stderr().lock(), "{w}warning{w:#}: {text}");
    }

    /// A configuration warning, unless its name is in `cli.suppress_warnings`.
    pub fn config_warning(&self, warning: &ConfigWarning) {
        if !self.is_suppressed(warning.id) {
            self.warn(warning);
        }
    }

    /// Whether `cli.suppress_warnings` names `id`.
    pub fn is_suppressed(&self, id: WarningId) -> bool {
        self.suppressed & warning_bit(id) != 0
    }

    /// `error: ...`, each cause as `  Caused by: ...`, then `hint: ...`.
    pub fn error(&self, err: &CliError) {
        let mut stderr = anstream::stderr().lock();
        let (e, h) = (styles::ERROR, styles::HINT);
        let _ = writeln!(stderr, "{e}error{e:#}: {}", err.message);
        for cause in &err.causes {
            let _ = writeln!(stderr, "  Caused by: {cause}");
        }
        if let Some(hint) = &err.hint {
            let _ = writeln!(stderr, "{h}hint{h:#}: {hint}");
        }
    }

    /// Like [`Printer::error`], with a block of `details` (a traceback) indented by two spaces
    /// between the error line and its causes.
    pub fn error_with_details(&self, err: &CliError, details: &str) {
        let mut stderr = anstream::stderr().lock();
        let (e, h) = (styles::ERROR, styles::HINT);
        let _ = writeln!(stderr, "{e}error{e:#}: {}", err.message);
        for line in details.trim_end().lines() {
            let _ = writeln!(stderr, "  {line}");
        }
        for cause in &err.causes {
            let _ = writeln!(stderr, "  Caused by: {cause}");
        }
        if let Some(hint) = &err.hint {
            let _ = writeln!(stderr, "{h}hint{h:#}: {hint}");
        }
    }

    /// A spinner for work that may take more than a second; invisible when stderr is not a
    /// terminal. Call `finish_and_clear` when done.
    pub fn spinner(&self, message: impl Into<String>) -> ProgressBar {
        let bar = self.bar(None);
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg} {elapsed:.dim}")
                .expect("static template is valid"),
        );
        bar.set_message(message.into());
        bar.enable_steady_tick(Duration::from_millis(100));
        bar
    }

    /// A progress bar over `len` items; invisible when stderr is not a terminal.
    pub fn progress(&self, len: u64, message: impl Into<String>) -> ProgressBar {
        let bar = self.bar(Some(len));
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg} [{bar:30}] {pos}/{len} {elapsed:.dim}")
                .expect("static template is valid")
                .progress_chars("=> "),
        );
        bar.set_message(message.into());
        bar.enable_steady_tick(Duration::from_millis(100));
        bar
    }

    fn bar(&self, len: Option<u64>) -> ProgressBar {
        let target = if std::io::stderr().is_terminal() {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        ProgressBar::with_draw_target(len, target)
    }
}

/// The bit of `id` in [`Printer::suppressed`].
fn warning_bit(id: WarningId) -> u32 {
    1 << (id as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suppresses_only_the_named_warnings() {
        let printer = Printer::new(
            Verbosity::Normal,
            &[
                WarningId::DeprecatedPythonEnvironment,
                WarningId::CreateDagsterOutdated,
            ],
        );
        assert!(printer.is_suppressed(WarningId::DeprecatedPythonEnvironment));
        assert!(printer.is_suppressed(WarningId::CreateDagsterOutdated));
        assert!(!printer.is_suppressed(WarningId::CliConfigInWorkspaceProject));
        assert!(!Printer::default().is_suppressed(WarningId::CreateDagsterOutdated));
    }
}
