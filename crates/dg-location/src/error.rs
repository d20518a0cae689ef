//! Why a code location did not load. Every variant names the location; user-code errors also name
//! the file and line, and every variant's hint says what to do.

use std::path::PathBuf;

use dg_core::diagnostic::{Diagnostic, EXIT_USAGE, EXIT_USER_CODE};
use dg_python::PythonError;

use crate::traceback::UserError;

/// A code location that failed to load.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// Its Python environment could not be found or prepared.
    #[error(transparent)]
    Environment(#[from] PythonError),

    /// The agent could not be started.
    #[error("code location `{location}`: cannot start `{}`: {source}", interpreter.display())]
    Spawn {
        location: String,
        interpreter: PathBuf,
        source: std::io::Error,
    },

    /// The agent's package could not be written to its cache folder.
    #[error("code location `{location}`: cannot write the dg agent to its cache folder: {source}")]
    AgentPackage {
        location: String,
        source: std::io::Error,
    },

    /// User code raised while loading.
    #[error("code location `{location}` failed to load: {}{}", error.summary(), at(error))]
    UserCode {
        location: String,
        root: PathBuf,
        error: Box<UserError>,
        /// The agent's captured stderr (warnings, prints) while loading.
        stderr: String,
    },

    /// Loading took longer than the timeout; the agent was stopped.
    #[error(
        "code location `{location}` did not load within {seconds} seconds; its agent was stopped"
    )]
    Timeout {
        location: String,
        root: PathBuf,
        seconds: u64,
        stderr: String,
    },

    /// The agent process died (a crash in user code, `os._exit`, a signal).
    #[error("code location `{location}`: the Python process exited unexpectedly ({status})")]
    Crashed {
        location: String,
        root: PathBuf,
        status: String,
        stderr: String,
    },

    /// The agent sent a message larger than the host accepts; the agent was stopped.
    #[error(
        "code location `{location}`: the agent sent a message of more than {} (at least \
         {size_at_least} bytes); its agent was stopped",
        size(*limit)
    )]
    MessageTooLarge {
        location: String,
        root: PathBuf,
        /// The limit, in bytes.
        limit: usize,
        size_at_least: usize,
    },

    /// The agent said something the host does not understand (a bug on our side or a mismatched agent).
    #[error("code location `{location}`: unexpected message from the agent: {detail}")]
    Protocol { location: String, detail: String },
}

/// `bytes` in MiB, or KiB when less than one MiB.
fn size(bytes: usize) -> String {
    match bytes {
        b if b >= 1 << 20 => format!("{} MiB", b >> 20),
        b => format!("{} KiB", b >> 10),
    }
}

fn at(error: &UserError) -> String {
    error
        .location()
        .map(|(file, line)| format!(" (at `{file}:{line}`)"))
        .unwrap_or_default()
}

impl LoadError {
    /// The traceback (user errors) or the agent's last output (crashes, timeouts), for printing
    /// below the error line; system frames are folded unless `verbose`.
    pub fn details(&self, verbose: bool) -> Option<String> {
        match self {
            Self::UserCode { error, .. } => Some(error.render(verbose)),
            Self::Timeout { stderr, .. } | Self::Crashed { stderr, .. } if !stderr.is_empty() => {
                Some(stderr.clone())
            }
            _ => None,
        }
    }

    /// The Python error, when user code raised.
    pub fn user_error(&self) -> Option<&UserError> {
        match self {
            Self::UserCode { error, .. } => Some(error),
            _ => None,
        }
    }
}

impl Diagnostic for LoadError {
    fn hint(&self) -> Option<String> {
        match self {
            Self::Environment(e) => e.hint(),
            Self::Spawn { interpreter, .. } => Some(format!(
                "Check that `{}` runs (recreate the environment with `uv sync`).",
                interpreter.display()
            )),
            Self::AgentPackage { .. } => Some(format!(
                "Check that `{}` is writable, or point `{}` at a writable folder.",
                crate::package::default_root().display(),
                dg_config::env::DG_CACHE_DIR
            )),
            Self::UserCode { root, error, .. } => Some(error.hint(root)),
            Self::Timeout { root, .. } => Some(format!(
                "Look for code in `{}` that blocks while importing (network calls, sleeps, `input()`); \
                 or allow more time with `{}=<seconds>`.",
                root.display(),
                dg_core::env::DG_LOCATION_LOAD_TIMEOUT
            )),
            Self::Crashed { root, .. } => Some(format!(
                "Something imported from `{}` ended the Python process (`os._exit`, a crash in an extension \
                 module, or a signal); its last output is shown with the error. Import the module with the \
                 project's interpreter to reproduce.",
                root.display()
            )),
            Self::MessageTooLarge { root, .. } => Some(format!(
                "The definitions in `{}` describe themselves at great length: look for very large \
                 metadata, descriptions or tags (a whole data file put into metadata), and keep such \
                 data in the asset's output instead.",
                root.display()
            )),
            Self::Protocol { .. } => Some(
                "This is a bug in dg; run again with `--verbose` and report the output.".into(),
            ),
        }
    }

    fn exit_code(&self) -> u8 {
        match self {
            Self::Environment(e) => e.exit_code(),
            Self::Spawn { .. } | Self::AgentPackage { .. } | Self::Protocol { .. } => EXIT_USAGE,
            Self::UserCode { .. }
            | Self::Timeout { .. }
            | Self::Crashed { .. }
            | Self::MessageTooLarge { .. } => EXIT_USER_CODE,
        }
    }
}
