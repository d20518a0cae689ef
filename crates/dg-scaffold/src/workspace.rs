//! `create-dagster workspace`: `dg.toml`, an empty `projects/` folder, and the workspace root's
//! `pyproject.toml`, `README.md` and `.gitignore`.
//!
//! The workspace's `pyproject.toml` is a non-package uv project with no dependencies: a place for
//! workspace-wide tools. Dagster itself is installed per project, never at the workspace root.

use std::path::PathBuf;

use minijinja::context;

use crate::error::ScaffoldError;
use crate::layout::{check_target, Layout};
use crate::names::workspace_name;
use crate::templates::render;

/// What to create.
#[derive(Debug, Clone)]
pub struct WorkspaceRequest {
    /// Absolute, cleaned path of the new workspace folder.
    pub root: PathBuf,
    /// The user passed `.`.
    pub dot: bool,
    /// Root of a workspace that already encloses `root` (found by discovery): creating one inside
    /// another is refused.
    pub enclosing: Option<PathBuf>,
}

/// The files of a new workspace named `name`.
pub fn workspace_layout(name: &str) -> Result<Layout, ScaffoldError> {
    let ctx = context! { name => name, distribution => name };
    let mut layout = Layout::default();
    layout.file("dg.toml", render("workspace/dg.toml", ctx.clone())?);
    layout.file(
        "pyproject.toml",
        render("workspace/pyproject.toml", ctx.clone())?,
    );
    layout.file_if_absent("README.md", render("workspace/README.md", ctx.clone())?);
    layout.file_if_absent(".gitignore", render("gitignore", ctx)?);
    layout.dirs.push(PathBuf::from("projects"));
    Ok(layout)
}

/// What `create-dagster workspace` created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedWorkspace {
    /// The workspace name (its folder name).
    pub name: String,
    /// Files the folder had already and that were kept instead of ours (`README.md`), relative
    /// to the workspace root.
    pub kept: Vec<PathBuf>,
}

/// Creates the workspace of `req` after checking its name, its target and that it is not inside
/// another workspace.
pub fn create_workspace(req: &WorkspaceRequest) -> Result<CreatedWorkspace, ScaffoldError> {
    if let Some(ws) = &req.enclosing {
        return Err(ScaffoldError::NestedWorkspace {
            path: req.root.clone(),
            workspace: ws.clone(),
        });
    }
    let folder = req
        .root
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = workspace_name(&folder)?;
    let layout = workspace_layout(&name)?;
    check_target(&req.root, req.dot, &layout)?;
    let written = layout.write(&req.root)?;
    Ok(CreatedWorkspace {
        name,
        kept: written.kept,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_files() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("my-ws");
        let name = create_workspace(&WorkspaceRequest {
            root: root.clone(),
            dot: false,
            enclosing: None,
        })
        .unwrap()
        .name;
        assert_eq!(name, "my-ws");
        assert!(root.join("projects").is_dir());
        for f in ["dg.toml", "pyproject.toml", "README.md", ".gitignore"] {
            assert!(root.join(f).is_file(), "{f}");
        }
    }

    #[test]
    fn nested_workspace_is_refused_before_writing() {
        let tmp = tempfile::tempdir().unwrap();
        let err = create_workspace(&WorkspaceRequest {
            root: tmp.path().join("inner"),
            dot: false,
            enclosing: Some(tmp.path().to_owned()),
        })
        .unwrap_err();
        assert!(matches!(err, ScaffoldError::NestedWorkspace { .. }));
        assert!(!tmp.path().join("inner").exists());
    }
}
