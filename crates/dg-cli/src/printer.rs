//! The one printer all terminal output goes through.
//!
//! Data a script may read goes to stdout ([`Printer::out`]); status, warnings and errors go to
//! stderr. Colour follows the terminal and `NO_COLOR` (via `anstream`), progress bars are hidden when
//! stderr is not a terminal, `--quiet` silences status lines and `--verbose` enables debug lines.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use anstyle::{AnsiColor, Style};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::error::CliError;

/// How much the printer says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Verbosity {
    Quiet,
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
#[derive(Debug, Clone, Copy)]
pub struct Printer {
    verbosity: Verbosity,
    suppress_warnings: bool,
}

impl Printer {
    pub fn new(verbosity: Verbosity, suppress_warnings: bool) -> Self {
        Self {
            verbosity,
            suppress_warnings,
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

    /// A status line on stderr, silenced by `--quiet`.
    pub fn status(&self, text: impl std::fmt::Display) {
        if self.verbosity != Verbosity::Quiet {
            let _ = writeln!(anstream::stderr().lock(), "{text}");
        }
    }

    /// A debug line on stderr, shown only with `--verbose`.
    pub fn debug(&self, text: impl std::fmt::Display) {
        if self.verbosity == Verbosity::Verbose {
            let dim = styles::DIM;
            let _ = writeln!(anstream::stderr().lock(), "{dim}{text}{dim:#}");
        }
    }

    /// `warning: ...` on stderr, unless warnings are suppressed or output is quiet.
    pub fn warn(&self, text: impl std::fmt::Display) {
        if !self.suppress_warnings && self.verbosity != Verbosity::Quiet {
            let w = styles::WARNING;
            let _ = writeln!(anstream::stderr().lock(), "{w}warning{w:#}: {text}");
        }
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

    /// A spinner for work that may take more than a second; invisible when stderr is not a terminal
    /// or output is quiet. Call `finish_and_clear` when done.
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

    /// A progress bar over `len` items; invisible when stderr is not a terminal or output is quiet.
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
        let visible = self.verbosity != Verbosity::Quiet && std::io::stderr().is_terminal();
        let target = if visible {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        ProgressBar::with_draw_target(len, target)
    }
}
