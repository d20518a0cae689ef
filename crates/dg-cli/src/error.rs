//! The error every command returns, carrying what the printer needs: message, causes, hint, exit code.

use dg_config::diagnostic::{Diagnostic, EXIT_USAGE, EXIT_USER_CODE};

/// A failed command, ready to print.
#[derive(Debug)]
pub struct CliError {
    pub message: String,
    pub causes: Vec<String>,
    pub hint: Option<String>,
    pub code: u8,
}

impl CliError {
    /// A usage or config error (exit 2).
    pub fn usage(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            causes: Vec::new(),
            hint: None,
            code: EXIT_USAGE,
        }
    }

    /// The user's code or input failed (exit 1).
    pub fn user_code(message: impl Into<String>) -> Self {
        Self {
            code: EXIT_USER_CODE,
            ..Self::usage(message)
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Any library error that implements [`Diagnostic`]: its sources become the causes.
    pub fn from_diagnostic<E: Diagnostic>(err: E) -> Self {
        let mut causes = Vec::new();
        let mut source = std::error::Error::source(&err);
        while let Some(s) = source {
            causes.push(s.to_string());
            source = s.source();
        }
        Self {
            message: err.to_string(),
            causes,
            hint: err.hint(),
            code: err.exit_code(),
        }
    }
}

impl From<anyhow::Error> for CliError {
    /// Errors with no diagnostic of their own (I/O at the edge): the chain becomes the causes.
    fn from(err: anyhow::Error) -> Self {
        let mut chain = err.chain().map(ToString::to_string);
        Self {
            message: chain.next().unwrap_or_default(),
            causes: chain.collect(),
            hint: None,
            code: EXIT_USAGE,
        }
    }
}

/// The result of every command.
pub type CliResult<T = ()> = Result<T, CliError>;
