//! The shape every user-facing error of ours takes: a message, its causes, a hint and an exit code.
//!
//! Library crates define `thiserror` enums and implement [`Diagnostic`] on them, so that the binaries
//! can print `error: ...`, `  Caused by: ...` and `hint: ...` and pick the exit code without knowing
//! every error type.

/// Exit code when the user's code or input failed (a definition does not load, a run failed).
pub const EXIT_USER_CODE: u8 = 1;
/// Exit code for usage and configuration errors.
pub const EXIT_USAGE: u8 = 2;

/// An error that knows how to tell the user what to do about it.
pub trait Diagnostic: std::error::Error + Send + Sync + 'static {
    /// The fix, phrased as an instruction (`Run `uv sync` in ...`). `None` when there is nothing to add.
    fn hint(&self) -> Option<String> {
        None
    }

    /// The process exit code this error maps to.
    fn exit_code(&self) -> u8 {
        EXIT_USAGE
    }
}
