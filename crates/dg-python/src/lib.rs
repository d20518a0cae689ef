//! Project Python environments via uv, and the one place child processes are spawned.
//!
//! - [`environment`]: each project's interpreter (`--use-active-venv`, `.env`'s
//!   `DG_PROJECT_PYTHON_EXECUTABLE`, the uv workspace's `.venv`, the project's `.venv`), created or
//!   synced with uv when missing or stale; the project's `.env` loaded into its processes.
//! - [`process`]: spawning children in their own process group, killed on drop, output captured or
//!   streamed, an optional private channel at fd 3.

pub mod dotenv;
pub mod environment;
pub mod error;
pub mod process;
pub mod uv;

pub use environment::{EnvOptions, EnvSource, PythonEnvironment};
pub use error::PythonError;
