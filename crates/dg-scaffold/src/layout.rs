//! A rendered set of files and folders, and writing it to disk all or nothing.
//!
//! Everything is rendered and checked first; then [`Layout::write`] creates the files. It never
//! overwrites a file: files the user already has are either a conflict ([`check_target`] refuses
//! them before anything is written) or, for files marked optional (a `README.md`), kept as they
//! are. If a write fails halfway, exactly what was created is removed again (files, then the
//! folders made for them), so a failed command leaves the disk as it was, also in a folder that
//! held the user's own files.

use std::fs;
use std::io::Write as _;
use std::path::{Component, Path, PathBuf};

use crate::error::ScaffoldError;

/// Files (with their contents) and empty folders, relative to a root.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Layout {
    /// `(relative path, contents)`, in the order they are written.
    pub files: Vec<(PathBuf, String)>,
    /// Folders that exist even when empty (`projects/` of a workspace).
    pub dirs: Vec<PathBuf>,
    /// Files of `files` that are written only when absent: the user's own copy is kept.
    pub optional: Vec<PathBuf>,
}

/// What [`Layout::write`] did: enough to undo it exactly.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Written {
    /// Files created (absolute), in order.
    pub files: Vec<PathBuf>,
    /// Folders created (absolute), parents before children.
    pub dirs: Vec<PathBuf>,
    /// Optional files that existed already and were left alone (relative to the root).
    pub kept: Vec<PathBuf>,
}

impl Written {
    /// Removes what was created: files, then the folders made for them, deepest first. Folders
    /// that now hold something else are left.
    pub fn undo(&self) {
        for file in self.files.iter().rev() {
            let _ = fs::remove_file(file);
        }
        for dir in self.dirs.iter().rev() {
            let _ = fs::remove_dir(dir);
        }
    }
}

impl Layout {
    /// Adds a file.
    pub fn file(&mut self, path: impl Into<PathBuf>, contents: impl Into<String>) {
        self.files.push((path.into(), contents.into()));
    }

    /// Adds a file that is written only if the user does not have one already.
    pub fn file_if_absent(&mut self, path: impl Into<PathBuf>, contents: impl Into<String>) {
        let path = path.into();
        self.optional.push(path.clone());
        self.files.push((path, contents.into()));
    }

    /// The files of this layout that cannot be written under `root` because something is in the
    /// way (the file itself, or a file where one of its folders would go). Optional files that
    /// exist are not conflicts.
    pub fn conflicts(&self, root: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for (rel, _) in &self.files {
            let path = root.join(rel);
            let exists = fs::symlink_metadata(&path).is_ok();
            let optional_kept = exists && self.optional.contains(rel) && path.is_file();
            let blocked = rel
                .parent()
                .into_iter()
                .flat_map(Path::ancestors)
                .filter(|a| !a.as_os_str().is_empty())
                .any(|a| root.join(a).exists() && !root.join(a).is_dir());
            if (exists && !optional_kept) || blocked {
                out.push(rel.clone());
            }
        }
        for dir in &self.dirs {
            let path = root.join(dir);
            if path.exists() && !path.is_dir() {
                out.push(dir.clone());
            }
        }
        out
    }

    /// Writes the layout under `root`, creating `root` and its missing parents. Never overwrites a
    /// file. On failure, removes everything it created and returns the error.
    pub fn write(&self, root: &Path) -> Result<Written, ScaffoldError> {
        let mut written = Written::default();
        match self.write_inner(root, &mut written) {
            Ok(()) => Ok(written),
            Err(err) => {
                written.undo();
                Err(err)
            }
        }
    }

    fn write_inner(&self, root: &Path, written: &mut Written) -> Result<(), ScaffoldError> {
        create_dirs(root, written)?;
        for dir in &self.dirs {
            create_dirs(&root.join(dir), written)?;
        }
        for (rel, contents) in &self.files {
            let path = root.join(rel);
            if self.optional.contains(rel) && path.is_file() {
                written.kept.push(rel.clone());
                continue;
            }
            if let Some(parent) = path.parent() {
                create_dirs(parent, written)?;
            }
            // `create_new`: a file that appeared since the checks is an error, never overwritten.
            let mut file = fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
                .map_err(ScaffoldError::io(&path))?;
            written.files.push(path.clone());
            file.write_all(contents.as_bytes())
                .map_err(ScaffoldError::io(&path))?;
        }
        Ok(())
    }
}

/// Creates `path` and its missing parents, recording each folder it created.
fn create_dirs(path: &Path, written: &mut Written) -> Result<(), ScaffoldError> {
    let missing: Vec<&Path> = path
        .ancestors()
        .take_while(|a| !a.as_os_str().is_empty() && !a.exists())
        .collect();
    for dir in missing.into_iter().rev() {
        fs::create_dir(dir).map_err(ScaffoldError::io(dir))?;
        written.dirs.push(dir.to_path_buf());
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

/// Refuses a target that is a file, or a folder that holds files `layout` would overwrite.
/// A folder with other things in it (`.git/`, a `LICENSE`) is fine: the project goes next to them.
/// `dot` tells that the user passed `.`, which changes the advice.
pub fn check_target(path: &Path, dot: bool, layout: &Layout) -> Result<(), ScaffoldError> {
    match fs::metadata(path) {
        Err(_) => Ok(()),
        Ok(meta) if !meta.is_dir() => Err(ScaffoldError::TargetIsFile {
            path: path.to_owned(),
        }),
        Ok(_) => {
            let existing = layout.conflicts(path);
            if existing.is_empty() {
                Ok(())
            } else {
                Err(ScaffoldError::TargetNotEmpty {
                    path: path.to_owned(),
                    existing,
                    dot,
                })
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
    fn failed_write_into_a_folder_of_the_user_removes_only_what_it_made() {
        let tmp = tempfile::tempdir().unwrap();
        // The user's things: an empty folder and a file, which must survive the undo.
        fs::create_dir_all(tmp.path().join("data/empty")).unwrap();
        fs::write(tmp.path().join("LICENSE"), "mine").unwrap();
        let mut layout = Layout::default();
        layout.file("src/pkg/ok.py", "");
        layout.file("clash", "file");
        layout.file("clash/inner.txt", "cannot");
        assert!(layout.write(tmp.path()).is_err());
        let mut left: Vec<String> = fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, ["LICENSE", "data"]);
        assert!(tmp.path().join("data/empty").is_dir());
    }

    #[test]
    fn optional_files_of_the_user_are_kept_and_others_conflict() {
        let tmp = tempfile::tempdir().unwrap();
        fs::create_dir_all(tmp.path().join(".git")).unwrap();
        fs::write(tmp.path().join("README.md"), "mine").unwrap();
        let mut layout = Layout::default();
        layout.file_if_absent("README.md", "ours");
        layout.file("src/a.py", "");
        assert!(check_target(tmp.path(), true, &layout).is_ok());
        let written = layout.write(tmp.path()).unwrap();
        assert_eq!(written.kept, [PathBuf::from("README.md")]);
        assert_eq!(
            fs::read_to_string(tmp.path().join("README.md")).unwrap(),
            "mine"
        );
        // Now `src/a.py` exists: a second write would overwrite it.
        match check_target(tmp.path(), true, &layout) {
            Err(ScaffoldError::TargetNotEmpty { existing, .. }) => {
                assert_eq!(existing, [PathBuf::from("src/a.py")]);
            }
            other => panic!("unexpected {other:?}"),
        }
        // A file where a folder of the layout goes is a conflict too.
        let other = tmp.path().join("other");
        fs::create_dir_all(&other).unwrap();
        fs::write(other.join("src"), "").unwrap();
        assert_eq!(layout.conflicts(&other), [PathBuf::from("src/a.py")]);
    }

    #[test]
    fn targets() {
        let tmp = tempfile::tempdir().unwrap();
        let mut layout = Layout::default();
        layout.file("f", "");
        assert!(check_target(&tmp.path().join("absent"), false, &layout).is_ok());
        assert!(check_target(tmp.path(), true, &layout).is_ok());
        fs::write(tmp.path().join("f"), "").unwrap();
        assert!(matches!(
            check_target(tmp.path(), true, &layout),
            Err(ScaffoldError::TargetNotEmpty { dot: true, .. })
        ));
        assert!(matches!(
            check_target(&tmp.path().join("f"), false, &layout),
            Err(ScaffoldError::TargetIsFile { .. })
        ));
    }
}
