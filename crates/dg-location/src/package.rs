//! The agent as a Python package (`agent/_dg_agent/`), embedded in the binary at build time (every
//! `.py` file of the folder; see `build.rs`) and written once to a cache folder named by the hash
//! of its files, from where agents run it with `python -m _dg_agent`.
//!
//! The copy is written to a temporary folder beside its final place and renamed into place, so a
//! half-written copy is never used and concurrent writers (parallel loads, two `dg` processes)
//! agree: the first rename wins and the others use its copy. A copy that is present (every file,
//! with the embedded size) is reused.

use std::ffi::OsString;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use crate::cache::cache_base;

include!(concat!(env!("OUT_DIR"), "/agent_files.rs"));

/// The package's import name: private, so that it never collides with a module of the user's.
pub const PACKAGE_NAME: &str = "_dg_agent";

/// A hash of every file of the package (names and contents): the name of its cache folder, and
/// part of every snapshot cache key, so a new agent invalidates old snapshots.
pub fn agent_version() -> &'static str {
    static VERSION: OnceLock<String> = OnceLock::new();
    VERSION.get_or_init(|| {
        let mut hasher = blake3::Hasher::new();
        for (name, content) in AGENT_FILES {
            hasher.update(name.as_bytes());
            hasher.update(&[0]);
            hasher.update(&(content.len() as u64).to_le_bytes());
            hasher.update(content.as_bytes());
        }
        hasher.finalize().to_hex()[..16].to_owned()
    })
}

/// The folder the package's copies live in: `$DG_CACHE_DIR/agent` (default
/// `$XDG_CACHE_HOME/dg/agent`, else `~/.cache/dg/agent`); without any of these, a folder of this
/// process in the temporary folder.
pub fn default_root() -> PathBuf {
    cache_base().map_or_else(
        || std::env::temp_dir().join(format!("dg-agent-{}", std::process::id())),
        |base| base.join("agent"),
    )
}

/// Writes the package under [`default_root`] unless it is there; returns the folder to put on
/// `sys.path` (it holds `_dg_agent/`).
pub fn install() -> io::Result<PathBuf> {
    install_in(&default_root())
}

/// Writes the package to `<root>/<hash>/_dg_agent/` unless a complete copy is there; returns
/// `<root>/<hash>` (absolute).
pub fn install_in(root: &Path) -> io::Result<PathBuf> {
    let root = std::path::absolute(root)?;
    let dir = root.join(agent_version());
    if is_complete(&dir) {
        return Ok(dir);
    }
    fs::create_dir_all(&root)?;
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let tmp = root.join(format!(
        ".tmp-{}-{}-{n}",
        agent_version(),
        std::process::id()
    ));
    let _ = fs::remove_dir_all(&tmp);
    let written = write_package(&tmp.join(PACKAGE_NAME));
    let result = written.and_then(|()| fs::rename(&tmp, &dir));
    match result {
        Ok(()) => Ok(dir),
        Err(e) => {
            let _ = fs::remove_dir_all(&tmp);
            if is_complete(&dir) {
                // Another writer got there first.
                return Ok(dir);
            }
            if dir.exists() {
                // An incomplete copy (files deleted by hand): replace it.
                let stale = root.join(format!(".stale-{}-{n}", std::process::id()));
                if fs::rename(&dir, &stale).is_ok() {
                    let _ = fs::remove_dir_all(&stale);
                    return install_in(&root);
                }
            }
            Err(e)
        }
    }
}

fn write_package(pkg: &Path) -> io::Result<()> {
    fs::create_dir_all(pkg)?;
    for (name, content) in AGENT_FILES {
        fs::write(pkg.join(name), content)?;
    }
    Ok(())
}

/// Whether `dir` holds every file of the package, each of the embedded size.
fn is_complete(dir: &Path) -> bool {
    let pkg = dir.join(PACKAGE_NAME);
    AGENT_FILES.iter().all(|(name, content)| {
        fs::metadata(pkg.join(name)).is_ok_and(|m| m.is_file() && m.len() == content.len() as u64)
    })
}

/// Makes `cmd` run the agent from the copy in `dir`: `-m _dg_agent`, with `dir` put first on the
/// `PYTHONPATH` the command would have had (its own setting, else this process's). The agent
/// removes it from its environment again before user code runs.
pub fn configure(cmd: &mut Command, dir: &Path) {
    let existing: Option<OsString> = match cmd.get_envs().find(|(key, _)| *key == "PYTHONPATH") {
        Some((_, value)) => value.map(OsString::from),
        None => std::env::var_os("PYTHONPATH"),
    };
    let mut path = dir.as_os_str().to_owned();
    if let Some(existing) = existing.filter(|v| !v.is_empty()) {
        path.push(":");
        path.push(existing);
    }
    cmd.arg("-m").arg(PACKAGE_NAME);
    cmd.env("PYTHONPATH", path);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_module_is_embedded() {
        let names: Vec<&str> = AGENT_FILES.iter().map(|(name, _)| *name).collect();
        for module in [
            "__init__.py",
            "__main__.py",
            "agent.py",
            "errors.py",
            "instance.py",
            "load.py",
            "protocol.py",
            "run.py",
            "snapshot.py",
            "stream.py",
            "wire.py",
        ] {
            assert!(
                names.contains(&module),
                "{module} is not embedded: {names:?}"
            );
        }
    }

    #[test]
    fn install_writes_once_and_reuses_the_copy() {
        let root = tempfile::tempdir().unwrap();
        let dir = install_in(root.path()).unwrap();
        assert_eq!(dir, root.path().join(agent_version()));
        let init = dir.join(PACKAGE_NAME).join("__init__.py");
        assert!(init.is_file());
        let written = fs::metadata(&init).unwrap().modified().unwrap();
        assert_eq!(install_in(root.path()).unwrap(), dir);
        assert_eq!(fs::metadata(&init).unwrap().modified().unwrap(), written);
        // No temporary folder is left behind.
        let entries: Vec<_> = fs::read_dir(root.path()).unwrap().flatten().collect();
        assert_eq!(entries.len(), 1, "{entries:?}");
    }

    #[test]
    fn an_incomplete_copy_is_replaced() {
        let root = tempfile::tempdir().unwrap();
        let dir = install_in(root.path()).unwrap();
        fs::remove_file(dir.join(PACKAGE_NAME).join("run.py")).unwrap();
        assert_eq!(install_in(root.path()).unwrap(), dir);
        assert!(is_complete(&dir));
    }

    #[test]
    fn concurrent_writers_agree() {
        let root = tempfile::tempdir().unwrap();
        let dirs: Vec<PathBuf> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|_| s.spawn(|| install_in(root.path()).unwrap()))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(dirs.iter().all(|d| d == &dirs[0]));
        assert!(is_complete(&dirs[0]));
        let entries: Vec<_> = fs::read_dir(root.path()).unwrap().flatten().collect();
        assert_eq!(entries.len(), 1, "{entries:?}");
    }

    #[test]
    fn pythonpath_is_prepended() {
        let mut cmd = Command::new("python");
        cmd.env("PYTHONPATH", "/user/lib");
        configure(&mut cmd, Path::new("/cache/agent/abc"));
        let value = cmd
            .get_envs()
            .find(|(k, _)| *k == "PYTHONPATH")
            .unwrap()
            .1
            .unwrap();
        assert_eq!(value, "/cache/agent/abc:/user/lib");
        let args: Vec<_> = cmd.get_args().collect();
        assert_eq!(args, ["-m", PACKAGE_NAME]);
    }
}
