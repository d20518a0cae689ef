//! A rendered set of files and folders, and writing it to disk all or nothing.
//!
//! Everything is rendered and checked first; then [`Layout::write`] creates the files. If a write
//! fails halfway, what was created is removed again, so a failed command leaves the disk as it was.

use std::fs;
use std::path::{Component, Path, PathBuf};

use crate::error::ScaffoldError;

/// Files (with their contents) and empty folders, relative to a root.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Layout {
    /// `(relative path, contents)`, in the order they are written.
    pub files: Vec<(PathBuf, String)>,
    /// Folders that exist even when empty (`projects/` of a workspace).
    pub dirs: Vec<PathBuf>,
}

impl Layout {
    /// Adds a file.
    pub fn file(&mut self, path: impl Into<PathBuf>, contents: impl Into<String>) {
        self.files.push((path.into(), contents.into()));
    }

    /// Writes the layout under `root`, creating `root` and its missing parents. On failure,
    /// removes everything it created (including created parents of `root`) and returns the error.
    pub fn write(&self, root: &Path) -> Result<(), ScaffoldError> {
        let first_created = first_missing_ancestor(root);
        let result = self.write_inner(root);
        if result.is_err() {
            self.undo(root, first_created.as_deref());
        }
        result
    }

    /// Removes what [`Layout::write`] created under `root`. `first_created` is what
    /// [`first_missing_ancestor`] returned before writing: that whole folder goes; when the root
    /// existed already (an empty folder), only our files and the folders they left empty go.
    pub fn undo(&self, root: &Path, first_created: Option<&Path>) {
        match first_created {
            Some(dir) => {
                let _ = fs::remove_dir_all(dir);
            }
            None => {
                for (rel, _) in &self.files {
                    let _ = fs::remove_file(root.join(rel));
                }
                if let Ok(entries) = fs::read_dir(root) {
                    for entry in entries.flatten() {
                        let _ = remove_empty_tree(&entry.path());
                    }
                }
            }
        }
    }

    fn write_inner(&self, root: &Path) -> Result<(), ScaffoldError> {
        fs::create_dir_all(root).map_err(ScaffoldError::io(root))?;
        for dir in &self.dirs {
            let path = root.join(dir);
            fs::create_dir_all(&path).map_err(ScaffoldError::io(&path))?;
        }
        for (rel, contents) in &self.files {
            let path = root.join(rel);
            if let Some(parent) = path.parent() {
                fs::create_dir_all(parent).map_err(ScaffoldError::io(parent))?;
            }
            fs::write(&path, contents).map_err(ScaffoldError::io(&path))?;
        }
        Ok(())
    }
}

/// Removes `path` if it is a folder holding only empty folders.
fn remove_empty_tree(path: &Path) -> std::io::Result<()> {
    if path.is_dir() {
        for entry in fs::read_dir(path)?.flatten() {
            remove_empty_tree(&entry.path())?;
        }
        fs::remove_dir(path)?;
    }
    Ok(())
}

/// The outermost ancestor of `path` (or `path` itself) that does not exist yet: what to remove to
/// undo `create_dir_all(path)`.
pub fn first_missing_ancestor(path: &Path) -> Option<PathBuf> {
    let mut missing = None;
    for ancestor in path.ancestors() {
        if ancestor.as_os_str().is_empty() || ancestor.exists() {
            break;
        }
        missing = Some(ancestor.to_path_buf());
    }
    missing
}

/// Refuses a target that exists and is not an empty folder. `dot` tells that the user passed `.`,
/// which changes the advice.
pub fn check_target(path: &Path, dot: bool) -> Result<(), ScaffoldError> {
    match fs::metadata(path) {
        Err(_) => Ok(()),
        Ok(meta) if !meta.is_dir() => Err(ScaffoldError::TargetIsFile {
            path: path.to_owned(),
        }),
        Ok(_) => {
            let mut entries = fs::read_dir(path).map_err(ScaffoldError::io(path))?;
            if entries.next().is_some() {
                Err(ScaffoldError::TargetNotEmpty {
                    path: path.to_owned(),
                    dot,
                })
            } else {
                Ok(())
            }
        }
    }
}

/// `path` made absolute against `cwd` and cleaned of `.` and `..` without touching the disk
/// (`..` after a symlink is resolved lexically, like the shell does for `cd`).
pub fn absolute(path: &Path, cwd: &Path) -> PathBuf {
    let joined = if path.is_absolute() {
        path.to_owned()
    } else {
        cwd.join(path)
    };
    let mut out = PathBuf::new();
    for c in joined.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// `path` with its deepest existing ancestor canonicalized (symlinks resolved) and the rest
/// appended: comparable with canonical paths even when `path` does not exist yet.
pub fn canonical_prefix(path: &Path) -> PathBuf {
    let mut rest = Vec::new();
    let mut cur = path;
    loop {
        if let Ok(canon) = cur.canonicalize() {
            let mut out = canon;
            for part in rest.iter().rev() {
                out.push(part);
            }
            return out;
        }
        match (cur.file_name(), cur.parent()) {
            (Some(name), Some(parent)) => {
                rest.push(name.to_owned());
                cur = parent;
            }
            _ => return path.to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absolute_cleans_dots() {
        let cwd = Path::new("/ws/projects");
        assert_eq!(absolute(Path::new("."), cwd), PathBuf::from("/ws/projects"));
        assert_eq!(
            absolute(Path::new("../a/./b"), cwd),
            PathBuf::from("/ws/a/b")
        );
    }

    #[test]
    fn failed_write_leaves_nothing_behind() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("new/deeper");
        let mut layout = Layout::default();
        layout.file("ok.txt", "fine");
        // A file and a folder at the same path: the second write fails.
        layout.file("clash", "file");
        layout.file("clash/inner.txt", "cannot");
        assert!(layout.write(&root).is_err());
        assert!(!tmp.path().join("new").exists());
    }

    #[test]
    fn failed_write_into_empty_existing_root_empties_it_again() {
        let tmp = tempfile::tempdir().unwrap();
        let mut layout = Layout::default();
        layout.file("src/pkg/ok.py", "");
        layout.file("clash", "file");
        layout.file("clash/inner.txt", "cannot");
        assert!(layout.write(tmp.path()).is_err());
        assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 0);
    }

    #[test]
    fn targets() {
        let tmp = tempfile::tempdir().unwrap();
        assert!(check_target(&tmp.path().join("absent"), false).is_ok());
        assert!(check_target(tmp.path(), true).is_ok());
        fs::write(tmp.path().join("f"), "").unwrap();
        assert!(matches!(
            check_target(tmp.path(), true),
            Err(ScaffoldError::TargetNotEmpty { dot: true, .. })
        ));
        assert!(matches!(
            check_target(&tmp.path().join("f"), false),
            Err(ScaffoldError::TargetIsFile { .. })
        ));
    }
}
