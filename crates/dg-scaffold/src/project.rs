//! `create-dagster project`: the layout of a new project, and registering it in its workspace.
//!
//! Every check (name, target, the workspace's `dg.toml`) happens before the first write; the
//! project files are written all or nothing, and the workspace file last.

use std::fs;
use std::path::{Path, PathBuf};

use minijinja::context;

use crate::error::ScaffoldError;
use crate::layout::{canonical_prefix, check_target, Layout};
use crate::names::{project_name, ProjectName};
use crate::templates::render;
use crate::toml_edit_ops::add_workspace_project;

/// What to create.
#[derive(Debug, Clone)]
pub struct ProjectRequest {
    /// Absolute, cleaned path of the new project's folder.
    pub root: PathBuf,
    /// The user passed `.` (changes the advice when the folder is not empty).
    pub dot: bool,
    /// Root of the enclosing workspace, if the project is created inside one.
    pub workspace: Option<PathBuf>,
}

/// What was created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedProject {
    pub name: ProjectName,
    pub root: PathBuf,
    /// The workspace's `dg.toml` and the path the project was registered under, if any.
    pub registered: Option<(PathBuf, String)>,
    /// Files the folder had already and that were kept instead of ours (`README.md`), relative
    /// to `root`.
    pub kept: Vec<PathBuf>,
}

/// The files of a new project named `name`. Inside a workspace the `.gitignore` is left out: the
/// workspace's own covers the project.
pub fn project_layout(name: &ProjectName, in_workspace: bool) -> Result<Layout, ScaffoldError> {
    let ctx = context! {
        name => &name.name,
        package => &name.package,
        dagster_version => dg_config::DAGSTER_VERSION,
    };
    let pkg = Path::new("src").join(&name.package);
    let mut layout = Layout::default();
    layout.file(
        "pyproject.toml",
        render("project/pyproject.toml", ctx.clone())?,
    );
    // A folder made by `git init` or a hosting service may have its own; it stays.
    layout.file_if_absent("README.md", render("project/README.md", ctx.clone())?);
    if !in_workspace {
        layout.file_if_absent(".gitignore", render("gitignore", ctx.clone())?);
    }
    layout.file(pkg.join("__init__.py"), "");
    layout.file(
        pkg.join("definitions.py"),
        render("project/definitions.py", ctx)?,
    );
    layout.file(pkg.join("defs").join("__init__.py"), "");
    layout.file(Path::new("tests").join("__init__.py"), "");
    Ok(layout)
}

/// Creates the project of `req`: checks everything, writes the files, then registers the project
/// in the workspace's `dg.toml` (format preserved). If registering fails, the project files are
/// removed again.
pub fn create_project(req: &ProjectRequest) -> Result<CreatedProject, ScaffoldError> {
    let folder = req
        .root
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = project_name(&folder)?;
    let layout = project_layout(&name, req.workspace.is_some())?;
    check_target(&req.root, req.dot, &layout)?;

    let registration = match &req.workspace {
        Some(ws) => Some(plan_registration(ws, &req.root)?),
        None => None,
    };

    let written = layout.write(&req.root)?;

    if let Some((dg_toml, _, new_text)) = &registration {
        if let Err(source) = fs::write(dg_toml, new_text) {
            written.undo();
            return Err(ScaffoldError::Io {
                path: dg_toml.clone(),
                source,
            });
        }
    }
    Ok(CreatedProject {
        name,
        root: req.root.clone(),
        registered: registration.map(|(file, rel, _)| (file, rel)),
        kept: written.kept,
    })
}

/// The workspace's `dg.toml`, the project's path relative to the workspace root, and the edited
/// text of `dg.toml` that lists it.
fn plan_registration(
    workspace: &Path,
    root: &Path,
) -> Result<(PathBuf, String, String), ScaffoldError> {
    let dg_toml = workspace.join("dg.toml");
    let rel = relative_to(root, workspace).ok_or_else(|| ScaffoldError::WorkspaceConfig {
        dg_toml: dg_toml.clone(),
        reason: format!("`{}` is not inside the workspace", root.display()),
    })?;
    let source = fs::read_to_string(&dg_toml).map_err(ScaffoldError::io(&dg_toml))?;
    let new_text = add_workspace_project(&source, &dg_toml, &rel)?;
    Ok((dg_toml, rel, new_text))
}

/// `path` relative to `base` with `/` separators, comparing canonical forms so that a symlinked
/// temp folder or a workspace found through a symlink still match.
fn relative_to(path: &Path, base: &Path) -> Option<String> {
    let rel = path
        .strip_prefix(base)
        .map(Path::to_path_buf)
        .or_else(|_| {
            canonical_prefix(path)
                .strip_prefix(canonical_prefix(base))
                .map(Path::to_path_buf)
        })
        .ok()?;
    let parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    (!parts.is_empty()).then(|| parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(root: &Path) -> String {
        let mut out = Vec::new();
        let mut stack = vec![root.to_owned()];
        while let Some(dir) = stack.pop() {
            for e in fs::read_dir(&dir).unwrap().flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    out.push(p.strip_prefix(root).unwrap().display().to_string());
                }
            }
        }
        out.sort();
        out.join("\n")
    }

    #[test]
    fn standalone_project_layout() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("my-project");
        let created = create_project(&ProjectRequest {
            root: root.clone(),
            dot: false,
            workspace: None,
        })
        .unwrap();
        assert_eq!(created.name.package, "my_project");
        insta::assert_snapshot!(tree(&root), @"
        .gitignore
        README.md
        pyproject.toml
        src/my_project/__init__.py
        src/my_project/definitions.py
        src/my_project/defs/__init__.py
        tests/__init__.py
        ");
    }

    #[test]
    fn project_in_workspace_is_registered() {
        let tmp = tempfile::tempdir().unwrap();
        let ws = tmp.path().join("ws");
        fs::create_dir_all(&ws).unwrap();
        fs::write(
            ws.join("dg.toml"),
            "directory_type = \"workspace\"\n\n[workspace]\n",
        )
        .unwrap();
        let req = ProjectRequest {
            root: ws.join("projects/proj-a"),
            dot: false,
            workspace: Some(ws.clone()),
        };
        let created = create_project(&req).unwrap();
        assert_eq!(
            created.registered,
            Some((ws.join("dg.toml"), "projects/proj-a".to_owned()))
        );
        insta::assert_snapshot!(tree(&req.root), @"
        README.md
        pyproject.toml
        src/proj_a/__init__.py
        src/proj_a/definitions.py
        src/proj_a/defs/__init__.py
        tests/__init__.py
        ");
        // The same path again: refused by the target check before the workspace check.
        assert!(matches!(
            create_project(&req),
            Err(ScaffoldError::TargetNotEmpty { .. })
        ));
    }

    #[test]
    fn listed_but_missing_project_is_refused_without_writing() {
        let tmp = tempfile::tempdir().unwrap();
        let ws = tmp.path();
        let dg = "directory_type = \"workspace\"\n[workspace]\n[[workspace.projects]]\npath = \"projects/a\"\n";
        fs::write(ws.join("dg.toml"), dg).unwrap();
        let err = create_project(&ProjectRequest {
            root: ws.join("projects/a"),
            dot: false,
            workspace: Some(ws.to_owned()),
        })
        .unwrap_err();
        assert!(matches!(err, ScaffoldError::ProjectAlreadyListed { .. }));
        assert!(!ws.join("projects").exists());
        assert_eq!(fs::read_to_string(ws.join("dg.toml")).unwrap(), dg);
    }
}
