//! Errors of finding, creating and syncing a project's Python environment.

use std::path::PathBuf;

use dg_core::diagnostic::{Diagnostic, EXIT_USAGE};

/// Why a project's interpreter could not be found or prepared.
#[derive(Debug, thiserror::Error)]
pub enum PythonError {
    /// `--use-active-venv` without an active virtual environment.
    #[error(
        "project `{project}`: `--use-active-venv` was given but no virtual environment is active"
    )]
    NoActiveVenv { project: String },

    /// The interpreter the project points at does not exist.
    #[error("project `{project}`: Python interpreter `{}` does not exist (from {source_desc})", path.display())]
    MissingInterpreter {
        project: String,
        path: PathBuf,
        /// Where the path came from, e.g. ``DG_PROJECT_PYTHON_EXECUTABLE` in `.env``.
        source_desc: String,
        /// The fix, phrased as an instruction.
        fix: String,
    },

    /// `.env` could not be parsed.
    #[error("project `{project}`: cannot read `{}`: {message}", path.display())]
    DotEnv {
        project: String,
        path: PathBuf,
        message: String,
    },

    /// `uv` is not installed or could not be started.
    #[error("project `{project}`: cannot run `{uv}`: {source}")]
    UvNotFound {
        project: String,
        uv: String,
        source: std::io::Error,
    },

    /// `uv sync` ran and failed.
    #[error("project `{project}`: `uv sync` failed in `{}` ({status})", dir.display())]
    SyncFailed {
        project: String,
        dir: PathBuf,
        status: String,
        /// The end of uv's error output (empty when it was shown on the terminal).
        output: String,
    },
}

impl PythonError {
    /// The project the error is about.
    pub fn project(&self) -> &str {
        match self {
            Self::NoActiveVenv { project }
            | Self::MissingInterpreter { project, .. }
            | Self::DotEnv { project, .. }
            | Self::UvNotFound { project, .. }
            | Self::SyncFailed { project, .. } => project,
        }
    }
}

impl Diagnostic for PythonError {
    fn hint(&self) -> Option<String> {
        Some(match self {
            Self::NoActiveVenv { .. } => {
                "Activate an environment (`source .venv/bin/activate`) or drop `--use-active-venv`."
                    .into()
            }
            Self::MissingInterpreter { fix, .. } => fix.clone(),
            Self::DotEnv { path, .. } => format!(
                "Fix the syntax of `{}` (lines of `KEY=value`).",
                path.display()
            ),
            Self::UvNotFound { .. } => {
                "Install uv (https://docs.astral.sh/uv/) or point `DG_UV` at it; or create the \
                 environment yourself and pass `--no-sync`."
                    .into()
            }
            Self::SyncFailed { dir, output, .. } => {
                let mut hint = format!(
                    "Run `uv sync` in `{}` to see the full error and fix the dependencies in `pyproject.toml`.",
                    dir.display()
                );
                if !output.is_empty() {
                    hint = format!("{output}\n{hint}");
                }
                hint
            }
        })
    }

    fn exit_code(&self) -> u8 {
        EXIT_USAGE
    }
}
