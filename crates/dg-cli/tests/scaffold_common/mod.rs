//! Helpers shared by the scaffolding tests: listing a folder, and the real Dagster tools
//! (`dg`, `create-dagster`, `dagster`: the version pinned in `.dagster-version`, or another one
//! such as the compatibility pass's) installed once per version into the shared test cache and
//! reused.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use dg_config::env;

/// Every file under `root` (relative, sorted, `/`-separated), leaving out environments (`.venv`)
/// and Python caches, with `/` after folders that are empty.
pub fn tree(root: &Path) -> String {
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out.sort();
    out.join("\n")
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut empty = true;
    for entry in entries.flatten() {
        empty = false;
        let path = entry.path();
        let name = entry.file_name();
        if name == ".venv" || name == "__pycache__" {
            continue;
        }
        let rel = path
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        if path.is_dir() && !path.is_symlink() {
            walk(root, &path, out);
        } else {
            out.push(rel);
        }
    }
    if empty && dir != root {
        let rel = dir
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        out.push(format!("{rel}/"));
    }
}

/// The shared test cache folder: `$DG_TEST_CACHE_DIR`, default `~/.cache/dg-tests`.
pub fn test_cache_dir() -> PathBuf {
    std::env::var_os(env::DG_TEST_CACHE_DIR)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let home = std::env::var_os(env::HOME).expect("HOME is set");
            PathBuf::from(home).join(".cache").join("dg-tests")
        })
}

/// The `bin` folder of a virtual environment holding the real `dagster-dg-cli`, `create-dagster`
/// and `dagster` at the pinned version, installed with uv on first use.
pub fn real_dagster_bin() -> PathBuf {
    real_dagster_bin_at(dg_config::DAGSTER_VERSION)
}

/// The `bin` folder of a virtual environment holding the real `dagster-dg-cli`, `create-dagster`
/// and `dagster` at `version`, installed with uv on first use. A lock file makes concurrent tests
/// (and test binaries) wait for one install instead of racing.
pub fn real_dagster_bin_at(version: &str) -> PathBuf {
    let root = test_cache_dir().join(format!("real-dagster-{version}"));
    let venv = root.join(".venv");
    let bin = venv.join("bin");
    let stamp = root.join("installed");
    if stamp.is_file() {
        return bin;
    }
    std::fs::create_dir_all(&root).expect("create the test cache folder");
    let lock = root.join("install.lock");
    loop {
        match std::fs::File::options()
            .write(true)
            .create_new(true)
            .open(&lock)
        {
            Ok(_) => break,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                std::thread::sleep(std::time::Duration::from_secs(1));
                if stamp.is_file() {
                    return bin;
                }
                // A lock left by a killed install (older than any real install takes) is stale.
                let stale = std::fs::metadata(&lock)
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|t| t.elapsed().ok())
                    .is_some_and(|age| age.as_secs() > 900);
                if stale {
                    let _ = std::fs::remove_file(&lock);
                }
            }
            Err(e) => panic!("cannot create `{}`: {e}", lock.display()),
        }
    }
    let _ = std::fs::remove_dir_all(&venv);
    uv(&["venv", "--quiet", "--python", "3.11"], &venv);
    let python = venv
        .join("bin")
        .join("python")
        .to_string_lossy()
        .into_owned();
    let pins: Vec<String> = ["dagster-dg-cli", "create-dagster", "dagster"]
        .iter()
        .map(|p| format!("{p}=={version}"))
        .collect();
    let mut args = vec!["pip", "install", "--quiet", "--python", python.as_str()];
    args.extend(pins.iter().map(String::as_str));
    uv(&args, Path::new(""));
    std::fs::write(&stamp, format!("{version}\n")).unwrap();
    let _ = std::fs::remove_file(&lock);
    bin
}

fn uv(args: &[&str], target: &Path) {
    let mut cmd = Command::new(dg_python::uv::uv_executable());
    cmd.args(args);
    if !target.as_os_str().is_empty() {
        cmd.arg(target);
    }
    cmd.env(env::UV_PYTHON_DOWNLOADS, "never");
    let out = cmd.output().expect("run uv");
    assert!(
        out.status.success(),
        "uv {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
