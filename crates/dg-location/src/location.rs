//! What the host needs to know to load one code location: a plain description, filled from the
//! project's config by the command (`dg_config`'s project model maps onto it field by field).

use std::path::PathBuf;

use crate::protocol::LoadTarget;

/// One code location to load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocationSpec {
    /// The code location's name (`code_location_name`, default: the project folder's name).
    pub name: String,
    /// The project root (holds `pyproject.toml`).
    pub root: PathBuf,
    /// `root_module` of the project.
    pub root_module: String,
    /// `code_location_target_module` (default `<root_module>.definitions`).
    pub target_module: Option<String>,
    /// `defs_module` (default `<root_module>.defs`).
    pub defs_module: Option<String>,
    /// Config files outside the project that affect it (the workspace's `dg.toml`); part of the
    /// cache key.
    pub config_files: Vec<PathBuf>,
    /// The folder put first on `sys.path`: the parent of the root package (`<root>/src` in the
    /// `src` layout), as Dagster's workspace entries use, so that a project imports without being
    /// installed in its environment. `None`: the project root.
    pub working_directory: Option<PathBuf>,
}

impl LocationSpec {
    /// A location with Dagster's defaults for everything but its name, root and root module.
    pub fn new(
        name: impl Into<String>,
        root: impl Into<PathBuf>,
        root_module: impl Into<String>,
    ) -> Self {
        Self {
            name: name.into(),
            root: root.into(),
            root_module: root_module.into(),
            target_module: None,
            defs_module: None,
            config_files: Vec::new(),
            working_directory: None,
        }
    }

    /// The location of a configured project (its `dg.toml` / `pyproject.toml` settings, defaults
    /// applied); `workspace_file` is the workspace's `dg.toml` when the project is in one.
    pub fn from_project(
        project: &dg_config::project::ProjectConfig,
        workspace_file: Option<&std::path::Path>,
    ) -> Self {
        Self {
            name: project.code_location_name.clone(),
            root: project.root.clone(),
            root_module: project.root_module.clone(),
            target_module: Some(project.code_location_target_module.clone()),
            defs_module: Some(project.defs_module.clone()),
            config_files: workspace_file
                .map(|f| vec![f.to_path_buf()])
                .unwrap_or_default(),
            working_directory: Some(project.source_root()),
        }
    }

    /// The `load` request for this location.
    pub fn load_target(&self) -> LoadTarget {
        LoadTarget {
            root: self.root.clone(),
            working_directory: self
                .working_directory
                .clone()
                .unwrap_or_else(|| self.root.clone()),
            root_module: self.root_module.clone(),
            target_module: self.target_module.clone(),
            defs_module: self.defs_module.clone(),
        }
    }
}
