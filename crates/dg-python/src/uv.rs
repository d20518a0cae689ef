//! Running `uv`: uv workspace discovery, the staleness check, and `uv sync`.
//!
//! Like `uv run`, an environment is synced when it is missing or older than `pyproject.toml` or
//! `uv.lock`. After a successful sync dg touches `.venv/.dg-synced`, so that a lock file uv left
//! unchanged does not make every later command sync again.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

use dg_core::env as vars;

use crate::environment::EnvOptions;
use crate::error::PythonError;
use crate::process::{ChildSpec, ManagedChild, Output};

/// The marker dg writes into a virtual environment after syncing it.
pub const SYNC_MARKER: &str = ".dg-synced";

/// The `uv` executable: `$DG_UV`, else `uv` on `PATH`.
pub fn uv_executable() -> PathBuf {
    std::env::var_os(vars::DG_UV)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("uv"))
}

/// The root of the uv workspace `project_root` is a member of: the nearest folder at or above it
/// whose `pyproject.toml` has a `[tool.uv.workspace]` table whose `members` globs match the project
/// (and whose `exclude` globs do not). `None` when the project is standalone.
pub fn workspace_root_of(project_root: &Path) -> Option<PathBuf> {
    let project_root = project_root
        .canonicalize()
        .unwrap_or_else(|_| project_root.to_path_buf());
    for dir in project_root.ancestors() {
        let Ok(text) = std::fs::read_to_string(dir.join("pyproject.toml")) else {
            continue;
        };
        let Ok(doc) = text.parse::<toml::Table>() else {
            continue;
        };
        let Some(ws) = doc
            .get("tool")
            .and_then(|t| t.get("uv"))
            .and_then(|t| t.get("workspace"))
            .and_then(|t| t.as_table())
        else {
            continue;
        };
        if dir == project_root {
            return Some(dir.to_path_buf());
        }
        let rel = project_root.strip_prefix(dir).ok()?;
        let globs = |key: &str| -> Vec<String> {
            ws.get(key)
                .and_then(|v| v.as_array())
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default()
        };
        let matches = |patterns: &[String]| {
            patterns.iter().any(|p| {
                globset::Glob::new(p.trim_end_matches('/'))
                    .map(|g| g.compile_matcher().is_match(rel))
                    .unwrap_or(false)
            })
        };
        return (matches(&globs("members")) && !matches(&globs("exclude")))
            .then(|| dir.to_path_buf());
    }
    None
}

/// Whether the environment at `venv` is missing or older than the project's `pyproject.toml` or
/// the lock file (and the workspace's `pyproject.toml` when `lock_root` is a uv workspace).
pub fn needs_sync(project_root: &Path, lock_root: &Path, venv: &Path) -> bool {
    let synced = [venv.join("pyvenv.cfg"), venv.join(SYNC_MARKER)]
        .iter()
        .filter_map(|p| mtime(p))
        .max();
    let Some(synced) = synced else {
        return true;
    };
    let inputs = [
        project_root.join("pyproject.toml"),
        lock_root.join("pyproject.toml"),
        lock_root.join("uv.lock"),
    ];
    inputs
        .iter()
        .filter_map(|p| mtime(p))
        .any(|changed| changed > synced)
}

/// Runs `uv sync` for the project (inexact, like `uv run`: packages the user added by hand stay).
pub fn sync(
    project: &str,
    project_root: &Path,
    venv: &Path,
    opts: &EnvOptions,
) -> Result<(), PythonError> {
    let uv = uv_executable();
    let mut cmd = Command::new(&uv);
    cmd.args(["sync", "--inexact"]).current_dir(project_root);
    // An unrelated active environment would only make uv warn; the project's own is the target.
    cmd.env_remove(vars::VIRTUAL_ENV);
    let mut spec = ChildSpec::new(cmd);
    spec.stdout = match opts.sync_output {
        Output::Inherit => Output::Null,
        ref other => other.clone(),
    };
    spec.stderr = opts.sync_output.clone();
    spec.sink = opts.sync_sink.clone();
    let mut child = ManagedChild::spawn(spec).map_err(|source| PythonError::UvNotFound {
        project: project.to_owned(),
        uv: uv.display().to_string(),
        source,
    })?;
    let status = child.wait().map_err(|source| PythonError::UvNotFound {
        project: project.to_owned(),
        uv: uv.display().to_string(),
        source,
    })?;
    if !status.success() {
        return Err(PythonError::SyncFailed {
            project: project.to_owned(),
            dir: project_root.to_path_buf(),
            status: status.to_string(),
            output: child.captured().stderr_tail(20),
        });
    }
    if venv.is_dir() {
        let _ = std::fs::write(venv.join(SYNC_MARKER), b"");
    }
    Ok(())
}

fn mtime(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_workspace_only_for_members() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::write(
            root.join("pyproject.toml"),
            "[tool.uv.workspace]\nmembers = [\"projects/*\"]\nexclude = [\"projects/skip\"]\n",
        )
        .unwrap();
        for p in ["projects/a", "projects/skip", "other/b"] {
            std::fs::create_dir_all(root.join(p)).unwrap();
        }
        assert_eq!(
            workspace_root_of(&root.join("projects/a")),
            Some(root.clone())
        );
        assert_eq!(workspace_root_of(&root.join("projects/skip")), None);
        assert_eq!(workspace_root_of(&root.join("other/b")), None);
    }

    #[test]
    fn stale_when_missing_or_older_than_lock() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let venv = root.join(".venv");
        std::fs::write(root.join("pyproject.toml"), "").unwrap();
        assert!(needs_sync(root, root, &venv));
        std::fs::create_dir_all(&venv).unwrap();
        std::fs::write(venv.join("pyvenv.cfg"), "").unwrap();
        let old = SystemTime::now() - std::time::Duration::from_secs(60);
        std::fs::File::options()
            .write(true)
            .open(root.join("pyproject.toml"))
            .unwrap()
            .set_modified(old)
            .unwrap();
        assert!(!needs_sync(root, root, &venv));
        std::fs::write(root.join("uv.lock"), "").unwrap();
        std::fs::File::options()
            .write(true)
            .open(venv.join("pyvenv.cfg"))
            .unwrap()
            .set_modified(old - std::time::Duration::from_secs(60))
            .unwrap();
        assert!(needs_sync(root, root, &venv));
    }
}
