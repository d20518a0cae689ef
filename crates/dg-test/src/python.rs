//! The shared Python environment of tests that load real Dagster code: one virtual environment
//! with `dagster` (the pinned version, or `$DG_TEST_DAGSTER_VERSION` for the compatibility pass),
//! built once per machine under `$DG_TEST_CACHE_DIR` (default `~/.cache/dg-tests`) with real uv
//! and reused by every test, test binary and run.
//!
//! Fixture projects are copied into a test's folder and pointed at it through
//! `DG_PROJECT_PYTHON_EXECUTABLE` in their `.env` ([`use_shared_python`]), so no test builds an
//! environment of its own.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use dg_config::env as vars;

/// The folder where tests keep what they build once: `$DG_TEST_CACHE_DIR`, else
/// `~/.cache/dg-tests`.
pub fn test_cache_dir() -> PathBuf {
    std::env::var_os(vars::DG_TEST_CACHE_DIR)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os(vars::HOME).expect("HOME is set"))
                .join(".cache")
                .join("dg-tests")
        })
}

/// The `dagster` version tests load code with: `$DG_TEST_DAGSTER_VERSION`, else the pinned one.
pub fn dagster_version() -> String {
    std::env::var(vars::DG_TEST_DAGSTER_VERSION)
        .ok()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| dg_config::DAGSTER_VERSION.to_string())
}

/// Whether tests run against another `dagster` than the pinned one (the compatibility pass).
pub fn is_compat_run() -> bool {
    dagster_version() != dg_config::DAGSTER_VERSION
}

/// The shared environment's interpreter, built on first use.
pub fn shared_python() -> &'static Path {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(build_shared_env)
}

fn build_shared_env() -> PathBuf {
    let version = dagster_version();
    let root = test_cache_dir();
    let venv = root.join(format!("dagster-{version}-py311"));
    let python = venv.join("bin").join("python");
    if python.exists() && venv.join(".complete").exists() {
        return python;
    }
    // Build next to the final place, then rename: concurrent builders never see half an env.
    let tmp = root.join(format!("dagster-{version}-py311.tmp{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&root).expect("create the test cache folder");
    let uv = |args: &[&str]| {
        let status = Command::new("uv")
            .args(args)
            .env(vars::UV_PYTHON_DOWNLOADS, "never")
            .env_remove(vars::VIRTUAL_ENV)
            .status()
            .expect("uv runs (install it: https://docs.astral.sh/uv/)");
        assert!(status.success(), "uv {args:?} failed");
    };
    let tmp_str = tmp.to_str().expect("UTF-8 cache path");
    uv(&["venv", "--quiet", "--python", "3.11", tmp_str]);
    let tmp_python = tmp.join("bin").join("python");
    uv(&[
        "pip",
        "install",
        "--quiet",
        "--python",
        tmp_python.to_str().expect("UTF-8 cache path"),
        &format!("dagster=={version}"),
    ]);
    std::fs::write(tmp.join(".complete"), b"").expect("mark the environment complete");
    if std::fs::rename(&tmp, &venv).is_err() {
        // Someone else finished first: use theirs.
        let _ = std::fs::remove_dir_all(&tmp);
    }
    // `bin/python` is a symlink to the base interpreter and `pyvenv.cfg` holds no path of the
    // environment itself, so the renamed environment works as is.
    assert!(python.exists(), "shared environment at {}", venv.display());
    python
}

/// Copies `src` into `dst` recursively (leaving out `__pycache__`).
pub fn copy_dir(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).expect("create folder");
    for entry in std::fs::read_dir(src).expect("read fixture folder") {
        let entry = entry.expect("read fixture entry");
        if entry.file_name() == "__pycache__" {
            continue;
        }
        let to = dst.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &to);
        } else {
            std::fs::copy(entry.path(), &to).expect("copy fixture file");
        }
    }
}

/// Points the project at `root` to the shared environment: writes its `.env` with
/// `DG_PROJECT_PYTHON_EXECUTABLE` (replacing any `.env` it had).
pub fn use_shared_python(root: &Path) {
    std::fs::write(
        root.join(".env"),
        format!(
            "{}={}\n",
            vars::DG_PROJECT_PYTHON_EXECUTABLE,
            shared_python().display()
        ),
    )
    .expect("write the project's .env");
}
