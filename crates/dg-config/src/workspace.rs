//! A dg workspace: the projects it lists (`[[workspace.projects]]`), options for new projects, and
//! loading each listed project on its own so that one broken project does not hide the others.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use toml::Spanned;

use crate::cli_config::{CliConfig, ConfigWarning, WarningId};
use crate::error::{ConfigError, Location};
use crate::file::{load_found_file, ConfigFileKind};
use crate::parse::{locate_in_folder, DirectoryType, Source};
use crate::project::ProjectConfig;
use crate::raw::RawWorkspace;

/// A validated workspace file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkspaceConfig {
    /// The workspace folder (absolute): the folder of `file`.
    pub root: PathBuf,
    /// The `dg.toml` (or `pyproject.toml`) that configures it.
    pub file: PathBuf,
    /// `[[workspace.projects]]`, in file order.
    pub projects: Vec<WorkspaceProjectEntry>,
    /// `[workspace.scaffold_project_options]`.
    pub scaffold_project_options: ScaffoldProjectOptions,
    /// The workspace file's `[cli]` table.
    pub cli: CliConfig,
}

/// One `[[workspace.projects]]` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkspaceProjectEntry {
    /// `path`, relative to the workspace root, as written.
    pub path: PathBuf,
    /// Where the entry's `path` value is written.
    pub span: Location,
}

impl WorkspaceProjectEntry {
    /// `path` as Dagster prints it (Python's `pathlib`): without `.` parts, doubled or trailing
    /// `/`, but with `..` kept.
    pub fn display_path(&self) -> String {
        let parts: Vec<String> = self
            .path
            .components()
            .filter(|c| !matches!(c, Component::CurDir))
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        match parts.as_slice() {
            [] => ".".to_string(),
            [root, rest @ ..] if root == "/" => format!("/{}", rest.join("/")),
            _ => parts.join("/"),
        }
    }
}

/// `[workspace.scaffold_project_options]`: defaults for `dg scaffold project` in this workspace.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScaffoldProjectOptions {
    /// `use_editable_dagster`: new projects depend on an editable Dagster checkout.
    pub use_editable_dagster: bool,
}

impl WorkspaceConfig {
    pub(crate) fn from_raw(
        src: &Source,
        raw: Option<Spanned<RawWorkspace>>,
        cli: CliConfig,
    ) -> Result<Self, ConfigError> {
        let raw = raw.map(Spanned::into_inner);
        let mut projects = Vec::new();
        let specs = raw.as_ref().and_then(|r| r.projects.as_ref());
        for (i, spec) in specs.into_iter().flatten().enumerate() {
            let Some(path) = &spec.get_ref().path else {
                return Err(ConfigError::MissingKey {
                    location: src.at(spec.span()),
                    key: src.key(&format!("workspace.projects[{i}].path")),
                    example: "path = \"projects/my-project\"".to_string(),
                });
            };
            projects.push(WorkspaceProjectEntry {
                path: PathBuf::from(path.get_ref()),
                span: src.at(path.span()),
            });
        }
        let scaffold_project_options = ScaffoldProjectOptions {
            use_editable_dagster: raw
                .as_ref()
                .and_then(|r| r.scaffold_project_options.as_ref())
                .and_then(|o| o.use_editable_dagster)
                .unwrap_or(false),
        };
        Ok(WorkspaceConfig {
            root: src.dir(),
            file: src.path.clone(),
            projects,
            scaffold_project_options,
            cli,
        })
    }

    /// The absolute folder of an entry (lexically normalised; the folder may not exist). Like
    /// Dagster, a path may lead outside the workspace folder (`../shared/etl`) or be absolute.
    pub fn project_root(&self, entry: &WorkspaceProjectEntry) -> PathBuf {
        normalize(&self.root.join(&entry.path))
    }

    /// Loads the project an entry points at.
    ///
    /// Fails when the path leaves the workspace, does not exist, is not a project, or the project's
    /// file is invalid. A `[cli]` table in the project is dropped with a warning, as in Dagster.
    pub fn load_project(
        &self,
        entry: &WorkspaceProjectEntry,
    ) -> Result<ProjectConfig, ConfigError> {
        let written = entry.path.display().to_string();
        let root = self.project_root(entry);
        if !root.is_dir() {
            return Err(ConfigError::ProjectNotFound {
                location: entry.span.clone(),
                path: written,
                root,
            });
        }
        let not_a_project = |reason: String| ConfigError::NotAProject {
            location: entry.span.clone(),
            path: written.clone(),
            reason,
        };
        let Some(found) = locate_in_folder(&root)? else {
            return Err(not_a_project(
                "it has no `dg.toml` and no `pyproject.toml` with `[tool.dg]`".to_string(),
            ));
        };
        if found.directory_type == Some(DirectoryType::Workspace) {
            return Err(not_a_project(format!(
                "`{}` says `directory_type = \"workspace\"`",
                found.path.display()
            )));
        }
        let file = load_found_file(&found)?;
        let ConfigFileKind::Project(project) = file.kind else {
            return Err(not_a_project(format!(
                "`{}` does not configure a project",
                found.path.display()
            )));
        };
        Ok(in_workspace(*project, &self.root))
    }

    /// Loads every listed project, in file order. Each entry gets its own result; a project whose
    /// code location name repeats an earlier project's is an error.
    pub fn load_projects(&self) -> Vec<Result<ProjectConfig, ConfigError>> {
        let mut names: HashMap<String, String> = HashMap::new();
        // A folder listed twice (`a` and `./a/`) is an error of the second entry only, so that the
        // other projects still load.
        let mut roots: HashMap<PathBuf, &Location> = HashMap::new();
        self.projects
            .iter()
            .map(|entry| {
                if let Some(first) = roots.get(&self.project_root(entry)) {
                    return Err(ConfigError::DuplicateProject {
                        location: entry.span.clone(),
                        path: entry.path.display().to_string(),
                        first: (*first).clone(),
                    });
                }
                roots.insert(self.project_root(entry), &entry.span);
                let project = self.load_project(entry)?;
                let path = entry.path.display().to_string();
                if let Some(first) = names.get(&project.code_location_name) {
                    let format = crate::parse::FileFormat::of(&project.file);
                    return Err(ConfigError::DuplicateCodeLocationName {
                        name: project.code_location_name.clone(),
                        first_path: first.clone(),
                        second_path: path,
                        key: format!("{}project.code_location_name", format.key_prefix()),
                        second_file: project.file,
                    });
                }
                names.insert(project.code_location_name.clone(), path);
                Ok(project)
            })
            .collect()
    }
}

/// A project found inside a workspace: its `[cli]` table does not apply (Dagster's rule).
pub(crate) fn in_workspace(mut project: ProjectConfig, workspace_root: &Path) -> ProjectConfig {
    if !project.cli.is_empty() {
        let format = crate::parse::FileFormat::of(&project.file);
        project.warnings.push(ConfigWarning {
            id: WarningId::CliConfigInWorkspaceProject,
            message: format!(
                "The `{}cli` table in `{}` is ignored because the project is inside the workspace `{}`; move these settings to the workspace file.",
                format.key_prefix(),
                project.file.display(),
                workspace_root.display()
            ),
            location: None,
        });
        project.cli = CliConfig::default();
    }
    project
}

/// `a/./b/../c` -> `a/c`, without touching the file system. Leading `..` are kept.
pub(crate) fn normalize(path: &Path) -> PathBuf {
    let mut out: Vec<Component> = Vec::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir if matches!(out.last(), Some(Component::Normal(_))) => {
                out.pop();
            }
            c => out.push(c),
        }
    }
    out.iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_is_lexical() {
        assert_eq!(normalize(Path::new("./a/b/../c/")), PathBuf::from("a/c"));
        assert_eq!(normalize(Path::new("../x")), PathBuf::from("../x"));
        assert_eq!(normalize(Path::new("/ws/../x")), PathBuf::from("/x"));
    }

    #[test]
    fn entries_display_like_pathlib() {
        let entry = |p: &str| WorkspaceProjectEntry {
            path: PathBuf::from(p),
            span: Location::start_of(Path::new("dg.toml")),
        };
        assert_eq!(entry("projects/a/").display_path(), "projects/a");
        assert_eq!(entry("./projects//a").display_path(), "projects/a");
        assert_eq!(entry("projects/../b").display_path(), "projects/../b");
        assert_eq!(entry("./").display_path(), ".");
    }
}
