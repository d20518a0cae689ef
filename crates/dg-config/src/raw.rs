//! The config files exactly as written: serde structs with `deny_unknown_fields`, spans kept so that
//! later checks (required keys, allowed values, paths) can point at the right line.
//!
//! Every key is optional here; which keys are required depends on `directory_type` and is checked
//! in [`crate::parse`]. [`valid_keys`] lists the keys of each table, for "did you mean" hints.

use serde::Deserialize;
use toml::Spanned;

/// The dg part of a config file: the whole of `dg.toml`, or `[tool.dg]` of `pyproject.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a table")]
pub(crate) struct RawDgFile {
    pub directory_type: Option<Spanned<String>>,
    pub project: Option<Spanned<RawProject>>,
    pub workspace: Option<Spanned<RawWorkspace>>,
    /// Not `Spanned`: toml 0.8 cannot span a table made implicitly by a dotted header
    /// (`[cli.telemetry]` alone), and nothing points at the `[cli]` table itself.
    pub cli: Option<RawCli>,
}

/// `[project]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a table")]
pub(crate) struct RawProject {
    pub root_module: Option<Spanned<String>>,
    pub defs_module: Option<Spanned<String>>,
    pub code_location_target_module: Option<Spanned<String>>,
    pub code_location_name: Option<Spanned<String>>,
    pub registry_modules: Option<Vec<Spanned<String>>>,
    pub agent_queue: Option<String>,
    pub image: Option<String>,
    /// Deprecated, ignored with a warning (Dagster still tolerates it).
    pub python_environment: Option<Spanned<toml::Value>>,
    /// Removed in newer Dagster; older projects still carry it. Ignored with a warning.
    pub autoload_defs: Option<Spanned<toml::Value>>,
}

/// `[workspace]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a table")]
pub(crate) struct RawWorkspace {
    pub projects: Option<Vec<Spanned<RawProjectSpec>>>,
    pub scaffold_project_options: Option<RawScaffoldProjectOptions>,
}

/// One `[[workspace.projects]]` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a table")]
pub(crate) struct RawProjectSpec {
    pub path: Option<Spanned<String>>,
}

/// `[workspace.scaffold_project_options]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a table")]
pub(crate) struct RawScaffoldProjectOptions {
    pub use_editable_dagster: Option<bool>,
}

/// `[cli]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a table")]
pub(crate) struct RawCli {
    pub verbose: Option<bool>,
    pub use_component_modules: Option<Vec<String>>,
    pub suppress_warnings: Option<Vec<Spanned<String>>>,
    pub telemetry: Option<RawTelemetry>,
    /// Dagster+ settings live in the user file's `[cli.plus]`; dg does not use them.
    #[expect(
        dead_code,
        reason = "accepted so that the user file validates, never read"
    )]
    pub plus: Option<toml::Value>,
}

/// `[cli.telemetry]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a table")]
pub(crate) struct RawTelemetry {
    pub enabled: Option<bool>,
}

/// `pyproject.toml`: only `[tool.dg]` matters; everything else is left alone.
#[derive(Debug, Deserialize)]
pub(crate) struct RawPyproject {
    pub tool: Option<RawTool>,
}

/// `[tool]` of `pyproject.toml`.
#[derive(Debug, Deserialize)]
pub(crate) struct RawTool {
    pub dg: Option<Spanned<RawDgFile>>,
}

/// The user file (`~/.config/dg.toml`): only `[cli]` is read, other tables belong to other tools.
#[derive(Debug, Deserialize)]
pub(crate) struct RawUserFile {
    pub cli: Option<RawCli>,
}

/// The valid keys of the table at `parent` (dotted, without `tool.dg` and without list indices).
pub(crate) fn valid_keys(parent: &str) -> &'static [&'static str] {
    match parent {
        "" => &["directory_type", "project", "workspace", "cli"],
        "project" => &[
            "root_module",
            "defs_module",
            "code_location_target_module",
            "code_location_name",
            "registry_modules",
            "agent_queue",
            "image",
        ],
        "workspace" => &["projects", "scaffold_project_options"],
        "workspace.projects" => &["path"],
        "workspace.scaffold_project_options" => &["use_editable_dagster"],
        "cli" => &[
            "verbose",
            "use_component_modules",
            "suppress_warnings",
            "telemetry",
        ],
        "cli.telemetry" => &["enabled"],
        _ => &[],
    }
}
