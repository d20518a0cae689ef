//! Hot reload: watches each project's files and reloads a location when one of them changes,
//! debounced (an editor's save, a `git checkout`, a formatter run each give one reload).
//!
//! Only files that are part of the code are watched: virtual environments, caches, VCS folders and
//! the instance folder (`.dagster`, where the database lives) are skipped, both to avoid reloads
//! on our own writes and because a recursive watch of `.venv` would exhaust inotify watches.
//! Directories are watched one by one (non-recursively), and new directories are added as they
//! appear.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use notify::{EventKind, RecursiveMode};
use notify_debouncer_full::{new_debouncer, DebounceEventResult};

use super::Host;

/// Folder names never watched.
const SKIPPED_DIRS: &[&str] = &[
    ".venv",
    "venv",
    ".git",
    ".hg",
    "__pycache__",
    ".dagster",
    ".pytest_cache",
    ".ruff_cache",
    ".mypy_cache",
    ".tox",
    "node_modules",
    ".tmp_dagster_home",
    "build",
    "dist",
];

/// Whether a change at `path` (relative to its project root) may change the code (and so should
/// reload).
pub fn is_relevant(path: &Path) -> bool {
    if path.components().any(|c| {
        let c = c.as_os_str().to_string_lossy();
        SKIPPED_DIRS.contains(&c.as_ref()) || c.ends_with(".egg-info")
    }) {
        return false;
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    !(name.ends_with(".pyc")
        || name.ends_with('~')
        || name.ends_with(".swp")
        || name.ends_with(".swx")
        || name.starts_with(".#")
        || name == ".DS_Store"
        || name.ends_with(".db")
        || name.ends_with(".db-journal")
        || name.ends_with(".db-wal")
        || name.ends_with(".db-shm"))
}

/// A running watcher; dropping it stops watching.
pub struct Watcher {
    stop: mpsc::Sender<()>,
}

impl Drop for Watcher {
    fn drop(&mut self) {
        let _ = self.stop.send(());
    }
}

/// Starts watching every location's project folder; changes reload the location after `debounce`.
pub fn watch(host: &Host, debounce: Duration) -> notify::Result<Watcher> {
    let roots: Vec<(String, PathBuf)> = host
        .names()
        .iter()
        .filter_map(|n| host.spec(n).map(|s| (n.clone(), s.root)))
        .collect();
    let (tx, rx) = mpsc::channel::<DebounceEventResult>();
    let mut debouncer = new_debouncer(debounce, None, move |result| {
        let _ = tx.send(result);
    })?;
    for (_, root) in &roots {
        for dir in dirs_to_watch(root) {
            // A folder that vanished meanwhile is not an error worth stopping for.
            let _ = debouncer.watch(&dir, RecursiveMode::NonRecursive);
        }
    }
    let (stop, stopped) = mpsc::channel::<()>();
    let host = host.clone();
    std::thread::Builder::new()
        .name("watch".into())
        .spawn(move || loop {
            if stopped.try_recv().is_ok() {
                break;
            }
            let Ok(result) = rx.recv_timeout(Duration::from_millis(200)) else {
                continue;
            };
            let Ok(events) = result else { continue };
            let mut changed = BTreeSet::new();
            for event in events {
                if matches!(event.kind, EventKind::Access(_)) {
                    continue;
                }
                for path in &event.paths {
                    let Some((name, root)) = owner(&roots, path) else {
                        continue;
                    };
                    if !is_relevant(path.strip_prefix(root).unwrap_or(path)) {
                        continue;
                    }
                    if matches!(event.kind, EventKind::Create(_)) && path.is_dir() {
                        for dir in dirs_to_watch(path) {
                            let _ = debouncer.watch(&dir, RecursiveMode::NonRecursive);
                        }
                    }
                    changed.insert(name.to_owned());
                }
            }
            for name in changed {
                host.reload(&name);
            }
        })
        .map_err(notify::Error::io)?;
    Ok(Watcher { stop })
}

/// The location whose root holds `path` (the deepest root, for nested projects), with its root.
fn owner<'a>(roots: &'a [(String, PathBuf)], path: &Path) -> Option<(&'a str, &'a Path)> {
    roots
        .iter()
        .filter(|(_, root)| path.starts_with(root))
        .max_by_key(|(_, root)| root.components().count())
        .map(|(name, root)| (name.as_str(), root.as_path()))
}

/// `root` and every folder below it that is not skipped.
fn dirs_to_watch(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(read) = std::fs::read_dir(&dir) else {
            continue;
        };
        out.push(dir);
        for entry in read.flatten() {
            let path = entry.path();
            if entry.file_type().is_ok_and(|t| t.is_dir())
                && is_relevant(Path::new(&entry.file_name()))
            {
                stack.push(path);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_changes_are_relevant_and_environments_are_not() {
        assert!(is_relevant(Path::new("src/p/defs/a.py")));
        assert!(is_relevant(Path::new("pyproject.toml")));
        assert!(!is_relevant(Path::new(".venv/lib/x.py")));
        assert!(!is_relevant(Path::new(
            "src/p/__pycache__/a.cpython-311.pyc"
        )));
        assert!(!is_relevant(Path::new(".dagster/history/runs.db")));
        assert!(!is_relevant(Path::new(
            ".dagster/history/runs/index.db-wal"
        )));
        assert!(!is_relevant(Path::new("src/p/.a.py.swp")));
        assert!(!is_relevant(Path::new("src/p.egg-info/PKG-INFO")));
    }

    #[test]
    fn the_deepest_root_owns_a_path() {
        let roots = vec![
            ("outer".to_owned(), PathBuf::from("/w")),
            ("inner".to_owned(), PathBuf::from("/w/projects/a")),
        ];
        let name = |p: &str| owner(&roots, Path::new(p)).map(|(n, _)| n);
        assert_eq!(name("/w/projects/a/x.py"), Some("inner"));
        assert_eq!(name("/w/dg.toml"), Some("outer"));
        assert_eq!(name("/elsewhere"), None);
    }
}
