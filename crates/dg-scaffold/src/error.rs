//! Everything scaffolding can refuse or fail at, each with the fix as a hint.
//!
//! Refusals (bad names, existing targets, paths outside the defs folder) are found before anything
//! is written, so a refused command leaves the disk as it was.

use std::path::PathBuf;

use dg_config::Diagnostic;

/// An error of `create-dagster` or `dg scaffold`.
#[derive(Debug, thiserror::Error)]
pub enum ScaffoldError {
    /// The folder name cannot become a Python package name.
    #[error("`{name}` cannot be used as a project name: {reason}")]
    InvalidProjectName {
        name: String,
        reason: String,
        suggestion: Option<String>,
    },
    /// The package name would hide a package the project imports.
    #[error("`{name}` cannot be used as a project name: the package `{package}` would shadow {shadowed}")]
    ShadowingProjectName {
        name: String,
        package: String,
        shadowed: String,
        suggestion: String,
    },
    /// The workspace folder name cannot become a Python distribution name.
    #[error("`{name}` cannot be used as a workspace name: {reason}")]
    InvalidWorkspaceName { name: String, reason: String },
    /// The target folder holds files the new project or workspace would overwrite.
    #[error("`{}` already holds {}, which the new files would overwrite", path.display(), list_paths(existing))]
    TargetNotEmpty {
        path: PathBuf,
        /// The files in the way, relative to `path`.
        existing: Vec<PathBuf>,
        dot: bool,
    },
    /// The target exists and is a file.
    #[error("`{}` already exists and is not a folder", path.display())]
    TargetIsFile { path: PathBuf },
    /// `create-dagster workspace` inside another workspace.
    #[error("`{}` is inside the workspace at `{}`", path.display(), workspace.display())]
    NestedWorkspace { path: PathBuf, workspace: PathBuf },
    /// The workspace's `dg.toml` already lists this project path.
    #[error("the workspace `{}` already lists a project at `{project}`", dg_toml.display())]
    ProjectAlreadyListed { dg_toml: PathBuf, project: String },
    /// The workspace's `dg.toml` cannot be edited.
    #[error("cannot add the project to `{}`: {reason}", dg_toml.display())]
    WorkspaceConfig { dg_toml: PathBuf, reason: String },
    /// `dg scaffold defs` was given a type we cannot scaffold.
    #[error("unknown definition type `{given}`")]
    UnknownDefsType {
        given: String,
        known: Vec<&'static str>,
        closest: Option<&'static str>,
    },
    /// `dg scaffold defs` was given an unusable path.
    #[error("cannot scaffold at `{path}`: {reason}")]
    InvalidDefsPath {
        path: String,
        reason: String,
        hint: Option<String>,
    },
    /// `--asset-key` is not an asset key.
    #[error("`{key}` is not an asset key: each part holds only letters, digits and `_`, parts separated by `/`")]
    InvalidAssetKey { key: String },
    /// The project's defs module is a single `.py` file, so nothing can be added under it.
    #[error("the defs module of this project is the file `{}`, not a folder", path.display())]
    DefsModuleIsFile { path: std::path::PathBuf },
    /// The defs file exists already.
    #[error("`{}` already exists", path.display())]
    DefsPathExists { path: PathBuf },
    /// A required option of a definition type is missing.
    #[error("`{type_name}` needs `{option}`")]
    MissingDefsOption {
        type_name: &'static str,
        option: &'static str,
        example: String,
    },
    /// Writing a file or folder failed.
    #[error("cannot write `{}`", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A template failed to render (a bug of ours, never of the user's input).
    #[error("template `{name}` failed to render")]
    Template {
        name: String,
        #[source]
        source: minijinja::Error,
    },
}

/// `` `a`, `b` and 3 more `` for a message.
fn list_paths(paths: &[PathBuf]) -> String {
    const SHOWN: usize = 4;
    let mut out = paths
        .iter()
        .take(SHOWN)
        .map(|p| format!("`{}`", p.display()))
        .collect::<Vec<_>>()
        .join(", ");
    if paths.len() > SHOWN {
        out.push_str(&format!(" and {} more", paths.len() - SHOWN));
    }
    out
}

impl ScaffoldError {
    /// Wraps an I/O error with the path it happened at.
    pub fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| Self::Io { path, source }
    }
}

impl Diagnostic for ScaffoldError {
    fn hint(&self) -> Option<String> {
        match self {
            Self::InvalidProjectName { suggestion, .. } => Some(match suggestion {
                Some(s) => format!("Use a name such as `{s}`: letters, digits, `-` and `_`, starting with a letter."),
                None => "Use letters, digits, `-` and `_`, starting with a letter.".to_owned(),
            }),
            Self::ShadowingProjectName { suggestion, .. } => {
                Some(format!("Use a name such as `{suggestion}`."))
            }
            Self::InvalidWorkspaceName { .. } => Some(
                "Use letters, digits, `-`, `_` and `.`, starting and ending with a letter or digit."
                    .to_owned(),
            ),
            Self::TargetNotEmpty { dot: true, .. } => Some(
                "Move those files out of the way (other files, such as `.git`, may stay), or pass the name of a new folder instead of `.`."
                    .to_owned(),
            ),
            Self::TargetNotEmpty { .. } => Some(
                "Move those files out of the way (other files, such as `.git`, may stay), or pass the path of a new folder."
                    .to_owned(),
            ),
            Self::TargetIsFile { .. } => {
                Some("Pass the path of a folder that does not exist yet.".to_owned())
            }
            Self::NestedWorkspace { workspace, .. } => Some(format!(
                "Create the workspace outside `{}`, or add a project to it with `create-dagster project`.",
                workspace.display()
            )),
            Self::ProjectAlreadyListed { .. } => {
                Some("Pick another folder name for the new project.".to_owned())
            }
            Self::WorkspaceConfig { .. } => Some(
                "Fix `dg.toml` (`[[workspace.projects]]` entries with a `path` each) and run the command again."
                    .to_owned(),
            ),
            Self::UnknownDefsType { known, closest, .. } => {
                let list = known.join("`, `");
                Some(match closest {
                    Some(c) => format!("Did you mean `{c}`? Known types: `{list}`."),
                    None => format!("Known types: `{list}`."),
                })
            }
            Self::InvalidDefsPath { hint, .. } => hint.clone(),
            Self::InvalidAssetKey { .. } => Some("For example `--asset-key raw/orders`.".to_owned()),
            Self::DefsModuleIsFile { .. } => Some(
                "Add the definition to that file by hand, or make the defs module a folder (`defs/__init__.py`)."
                    .to_owned(),
            ),
            Self::DefsPathExists { .. } => {
                Some("Choose another file name, or delete the file first.".to_owned())
            }
            Self::MissingDefsOption { example, .. } => Some(format!("For example: `{example}`.")),
            Self::Io { .. } => Some("Check the folder's permissions and free space.".to_owned()),
            Self::Template { .. } => Some("This is a bug in dg; please report it.".to_owned()),
        }
    }
}
