//! Finding the context of a command: walk up from the start folder to the nearest dg file (project
//! or workspace) and to the nearest enclosing workspace.
//!
//! A project below a workspace is "in the workspace" whether or not the workspace lists it (as in
//! Dagster). Its `[cli]` table is then ignored with a warning: CLI settings belong to the workspace.

use std::path::{Path, PathBuf};

use crate::cli_config::ConfigWarning;
use crate::error::{ConfigError, Needs};
use crate::file::{load_found_file, ConfigFileKind};
use crate::parse::{locate_in_folder, DirectoryType, FoundFile};
use crate::project::ProjectConfig;
use crate::workspace::{in_workspace, WorkspaceConfig};

/// What surrounds the start folder.
#[derive(Debug, Clone)]
pub struct Context {
    /// The folder discovery started from (absolute).
    pub start: PathBuf,
    /// The nearest enclosing project, if the nearest dg file is a project.
    pub project: Option<ProjectConfig>,
    /// The nearest enclosing workspace (which may also be the nearest dg file).
    pub workspace: Option<WorkspaceConfig>,
    /// Non-fatal findings, to print unless suppressed by `cli.suppress_warnings`.
    pub warnings: Vec<ConfigWarning>,
}

impl Context {
    /// Whether a workspace encloses the start folder.
    pub fn is_in_workspace(&self) -> bool {
        self.workspace.is_some()
    }

    /// The folder of the nearest dg file: the project's root, else the workspace's.
    pub fn root(&self) -> Option<&Path> {
        self.project
            .as_ref()
            .map(|p| p.root.as_path())
            .or(self.workspace.as_ref().map(|w| w.root.as_path()))
    }

    /// Projects the command applies to: the enclosing project, or every project of the workspace
    /// (at the workspace root). One broken project does not stop the others: one result each.
    pub fn projects(&self) -> Vec<Result<ProjectConfig, ConfigError>> {
        match (&self.project, &self.workspace) {
            (Some(project), _) => vec![Ok(project.clone())],
            (None, Some(workspace)) => workspace.load_projects(),
            (None, None) => Vec::new(),
        }
    }

    /// Fails with a helpful error unless the context has what a command `needs`.
    pub fn require(&self, needs: Needs) -> Result<(), ConfigError> {
        let ok = match needs {
            Needs::Project => self.project.is_some(),
            Needs::Workspace => self.workspace.is_some(),
            Needs::ProjectOrWorkspace => self.project.is_some() || self.workspace.is_some(),
        };
        if ok {
            return Ok(());
        }
        let mut found = candidates(&self.start, needs);
        // In a workspace, the projects it lists are where a project command works (they are
        // usually two levels down, out of reach of the parents-and-children search).
        if let (Needs::Project, Some(ws)) = (needs, &self.workspace) {
            for entry in &ws.projects {
                let root = ws.project_root(entry);
                if root.is_dir() && !found.contains(&root) {
                    found.push(root);
                }
            }
        }
        Err(ConfigError::NoContext {
            needs,
            start: self.start.clone(),
            candidates: found,
        })
    }
}

/// Discovers the context of `start` (usually the current directory or `--target-path`).
pub fn discover(start: &Path) -> Result<Context, ConfigError> {
    let start = absolute(start);
    let (nearest, workspace_file) = walk_up(&start)?;
    let mut warnings = Vec::new();
    let mut project = None;
    let mut workspace = None;
    if let Some(nearest) = &nearest {
        let file = load_found_file(nearest)?;
        warnings.extend(file.warnings.iter().cloned());
        match file.kind {
            ConfigFileKind::Workspace(ws) => workspace = Some(*ws),
            ConfigFileKind::Project(p) => {
                if let Some(ws_file) = &workspace_file {
                    let ws = load_workspace_file(ws_file)?;
                    let p = in_workspace(*p, &ws.root);
                    warnings.extend(p.warnings.iter().cloned());
                    workspace = Some(ws);
                    project = Some(p);
                } else {
                    project = Some(*p);
                }
            }
        }
    }
    dedup(&mut warnings);
    Ok(Context {
        start,
        project,
        workspace,
        warnings,
    })
}

/// The nearest workspace at or above `start`, validated.
pub fn find_enclosing_workspace(start: &Path) -> Result<Option<WorkspaceConfig>, ConfigError> {
    let start = absolute(start);
    match walk_up(&start)?.1 {
        Some(found) => load_workspace_file(&found).map(Some),
        None => Ok(None),
    }
}

fn load_workspace_file(found: &FoundFile) -> Result<WorkspaceConfig, ConfigError> {
    match load_found_file(found)?.kind {
        ConfigFileKind::Workspace(ws) => Ok(*ws),
        // `walk_up` only returns files that say `directory_type = "workspace"`.
        ConfigFileKind::Project(_) => unreachable!("workspace file parsed as a project"),
    }
}

/// The dg files around a folder, found but not yet validated.
#[derive(Debug, Clone, Default)]
pub struct ConfigFiles {
    /// The nearest dg file at or above the folder (project or workspace).
    pub nearest: Option<FoundFile>,
    /// The nearest file at or above the folder that says `directory_type = "workspace"`.
    pub workspace: Option<FoundFile>,
}

/// Finds the nearest dg file and the nearest workspace file at or above `start`, without
/// validating them (for `dg check toml`, which reports each file's errors on its own).
pub fn find_config_files(start: &Path) -> Result<ConfigFiles, ConfigError> {
    let (nearest, workspace) = walk_up(&absolute(start))?;
    Ok(ConfigFiles { nearest, workspace })
}

/// The nearest dg file and the nearest workspace file at or above `start`.
fn walk_up(start: &Path) -> Result<(Option<FoundFile>, Option<FoundFile>), ConfigError> {
    let mut nearest: Option<FoundFile> = None;
    for dir in start.ancestors() {
        let Some(found) = locate_in_folder(dir)? else {
            continue;
        };
        let is_workspace = found.directory_type == Some(DirectoryType::Workspace);
        if nearest.is_none() {
            nearest = Some(found.clone());
        }
        if is_workspace {
            return Ok((nearest, Some(found)));
        }
    }
    Ok((nearest, None))
}

/// Folders near `start` (its parents, then its immediate children) where a command that `needs`
/// something would work. Broken config files are skipped.
pub fn candidates(start: &Path, needs: Needs) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = start.ancestors().skip(1).map(Path::to_path_buf).collect();
    if let Ok(read) = std::fs::read_dir(start) {
        let mut children: Vec<PathBuf> = read
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.is_dir())
            .collect();
        children.sort();
        dirs.extend(children);
    }
    let mut out = Vec::new();
    for dir in dirs {
        let Ok(Some(found)) = locate_in_folder(&dir) else {
            continue;
        };
        let fits = match (needs, found.directory_type) {
            (_, None) => false,
            (Needs::Project, Some(t)) => t == DirectoryType::Project,
            (Needs::Workspace, Some(t)) => t == DirectoryType::Workspace,
            (Needs::ProjectOrWorkspace, Some(_)) => true,
        };
        if fits {
            out.push(dir);
        }
    }
    out
}

/// `path` made absolute against the current directory, without resolving symlinks.
fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

fn dedup(warnings: &mut Vec<ConfigWarning>) {
    let mut seen = Vec::new();
    warnings.retain(|w| {
        if seen.contains(w) {
            false
        } else {
            seen.push(w.clone());
            true
        }
    });
}
