//! Config model of dg projects and workspaces: context discovery, strict validation with file, line
//! and dotted key in every error, and Dagster's defaults.
//!
//! Start with [`discover`]: it walks up from a folder and returns a [`Context`] with the enclosing
//! project and workspace. [`Context::projects`] gives the projects a command applies to, one result
//! each. See `README.md` for the whole API.

pub mod cli_config;
pub mod discover;
pub mod error;
pub mod file;
pub mod parse;
pub mod project;
mod raw;
pub mod user;
pub mod workspace;

// The diagnostic trait, exit codes and environment variable names live in `dg-core` now; these
// re-exports keep `dg_config::Diagnostic`, `dg_config::diagnostic::*` and `dg_config::env::*` working.
pub use dg_core::{diagnostic, env};

pub use cli_config::{CliConfig, ConfigWarning, WarningId};
pub use diagnostic::Diagnostic;
pub use discover::{
    candidates, discover, find_config_files, find_enclosing_workspace, ConfigFiles, Context,
};
pub use error::{ConfigError, Location, Needs};
pub use file::{load_config_file, load_found_file, ConfigFile, ConfigFileKind};
pub use parse::{locate_in_folder, DirectoryType, FileFormat, FoundFile, DG_TOML, PYPROJECT_TOML};
pub use project::ProjectConfig;
pub use user::{load_user_config, user_config_path, UserConfig};
pub use workspace::{ScaffoldProjectOptions, WorkspaceConfig, WorkspaceProjectEntry};

/// The version of `dagster` that scaffolded projects pin and that the tests run against.
pub const DAGSTER_VERSION: &str = include_str!("../../../.dagster-version").trim_ascii();
