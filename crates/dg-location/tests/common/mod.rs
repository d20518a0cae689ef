//! Test support: one shared Python environment with the pinned `dagster`, built once (per machine,
//! under `$DG_TEST_CACHE_DIR`) with real uv and reused by every test and run; fixture projects
//! copied to temporary folders and pointed at it through `DG_PROJECT_PYTHON_EXECUTABLE` in `.env`.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use dg_config::env as vars;
use dg_location::LocationSpec;

/// The shared environment's interpreter, built on first use.
pub fn shared_python() -> &'static Path {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(build_shared_env)
}

fn cache_root() -> PathBuf {
    std::env::var_os(vars::DG_TEST_CACHE_DIR)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os(vars::HOME).expect("HOME is set"))
                .join(".cache")
                .join("dg-tests")
        })
}

fn build_shared_env() -> PathBuf {
    let version = dg_config::DAGSTER_VERSION;
    let venv = cache_root().join(format!("dagster-{version}-py311"));
    let python = venv.join("bin").join("python");
    if python.exists() && venv.join(".complete").exists() {
        return python;
    }
    // Build next to the final place, then rename: concurrent builders never see half an env.
    let tmp = cache_root().join(format!("dagster-{version}-py311.tmp{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(cache_root()).unwrap();
    let uv = |args: &[&str]| {
        let status = Command::new("uv")
            .args(args)
            .env(vars::UV_PYTHON_DOWNLOADS, "never")
            .env_remove(vars::VIRTUAL_ENV)
            .status()
            .expect("uv runs (install it: https://docs.astral.sh/uv/)");
        assert!(status.success(), "uv {args:?} failed");
    };
    let tmp_str = tmp.to_str().unwrap();
    uv(&["venv", "--quiet", "--python", "3.11", tmp_str]);
    let tmp_python = tmp.join("bin").join("python");
    uv(&[
        "pip",
        "install",
        "--quiet",
        "--python",
        tmp_python.to_str().unwrap(),
        &format!("dagster=={version}"),
    ]);
    std::fs::write(tmp.join(".complete"), b"").unwrap();
    if std::fs::rename(&tmp, &venv).is_err() {
        // Someone else finished first: use theirs.
        let _ = std::fs::remove_dir_all(&tmp);
    }
    // A venv is tied to its path: uv venv wrote `tmp` into scripts, but `bin/python` is a symlink
    // to the base interpreter and `pyvenv.cfg` holds no path, so the moved env works as is.
    assert!(python.exists(), "shared environment at {}", venv.display());
    python
}

/// The fixture folder `name`.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("fixtures")
        .join(name)
}

/// Copies `src` into `dst` recursively.
pub fn copy_dir(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).unwrap();
    for entry in std::fs::read_dir(src).unwrap() {
        let entry = entry.unwrap();
        let to = dst.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &to);
        } else {
            std::fs::copy(entry.path(), &to).unwrap();
        }
    }
}

/// Copies fixture `name` into `dir` and points it at the shared environment; returns its spec.
pub fn project(dir: &Path, name: &str) -> LocationSpec {
    let root = dir.join(name);
    copy_dir(&fixture(name), &root);
    std::fs::write(
        root.join(".env"),
        format!(
            "{}={}\n",
            vars::DG_PROJECT_PYTHON_EXECUTABLE,
            shared_python().display()
        ),
    )
    .unwrap();
    LocationSpec::new(name, &root, name)
}
