//! Templates and format-preserving edits for `create-dagster` and `dg scaffold`.
//!
//! * [`project`]: `create-dagster project` (layout, registration in the enclosing workspace).
//! * [`workspace`]: `create-dagster workspace`.
//! * [`defs`]: `dg scaffold defs <type> <path>` for Dagster's built-in definition types.
//! * [`toml_edit_ops`]: edits of `dg.toml` that keep comments and formatting.
//!
//! Every refusal is decided before the first write, and failed writes are undone, so a command
//! that fails leaves the disk as it was.

pub mod defs;
pub mod error;
pub mod layout;
pub mod names;
pub mod project;
mod python_names;
pub mod templates;
pub mod toml_edit_ops;
pub mod workspace;

pub use defs::{find_type, scaffold_defs, DefsRequest, DefsType, DEFS_TYPES};
pub use error::ScaffoldError;
pub use names::{project_name, ProjectName};
pub use project::{create_project, project_layout, CreatedProject, ProjectRequest};
pub use workspace::{create_workspace, workspace_layout, CreatedWorkspace, WorkspaceRequest};
