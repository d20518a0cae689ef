//! Why a run could not be executed or recorded. A run that executed and failed is not an error
//! here: it is a [`crate::RunOutcome`] with status `FAILURE`.

use std::path::PathBuf;

use dg_core::diagnostic::{Diagnostic, EXIT_USAGE, EXIT_USER_CODE};
use dg_location::LoadError;
use dg_storage::StorageError;

/// Errors of launching and recording runs.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The instance's storage failed (unreachable database, full disk, ...).
    #[error(transparent)]
    Storage(#[from] StorageError),

    /// The code location could not be loaded for the run.
    #[error(transparent)]
    Load(#[from] LoadError),

    /// The per-run socket could not be created.
    #[error("could not create the run socket `{}`", path.display())]
    Socket {
        /// The socket path.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },

    /// The agent refused to start the run.
    #[error("code location `{location}` could not start the run: {message}")]
    Rejected {
        /// The code location.
        location: String,
        /// The agent's error.
        message: String,
    },

    /// The async runtime could not be started.
    #[error("could not start the async runtime")]
    Runtime(#[source] std::io::Error),
}

impl Diagnostic for RunError {
    fn hint(&self) -> Option<String> {
        match self {
            Self::Storage(e) => e.hint(),
            Self::Load(e) => e.hint(),
            Self::Socket { .. } => Some(
                "Check that the temporary folder (`$TMPDIR`, else `/tmp`) is writable and not full."
                    .into(),
            ),
            Self::Rejected { .. } => Some(
                "This is likely a bug in dg; run again with `--verbose` and report it.".into(),
            ),
            Self::Runtime(_) => None,
        }
    }

    fn exit_code(&self) -> u8 {
        match self {
            Self::Load(e) => e.exit_code(),
            Self::Storage(_) | Self::Socket { .. } | Self::Runtime(_) => EXIT_USAGE,
            Self::Rejected { .. } => EXIT_USER_CODE,
        }
    }
}
