//! The shared Python environment of tests that load real Dagster code: one virtual environment
//! with `dagster`, `dagster-webserver` and `dagster-postgres` (the pinned version, or
//! `$DG_TEST_DAGSTER_VERSION` for the compatibility pass; the list is `shared-env.txt`), built
//! once per machine under `$DG_TEST_CACHE_DIR` (default `~/.cache/dg-tests`) with real uv and
//! reused by every test, test binary and run. Its folder name carries a hash of its requirements,
//! so a changed list builds a new one.
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

/// The requirements of the shared environment, with `{dagster}` and `{dagster_postgres}` left to
/// fill in (`shared-env.txt`, read by `scripts/lib.sh` too).
const SHARED_ENV: &str = include_str!("../shared-env.txt");

/// The dagster-postgres released with dagster `version`: `0.<minor + 16>.<patch>` (0.29.27 for
/// 1.13.27, 0.28.22 for 1.12.22).
pub fn dagster_postgres_version(version: &str) -> String {
    let parts: Vec<&str> = version.split('.').collect();
    let minor: u32 = parts
        .get(1)
        .and_then(|m| m.parse().ok())
        .unwrap_or_else(|| panic!("a dagster version like 1.13.27, not `{version}`"));
    let patch = parts.get(2).copied().unwrap_or("0");
    format!("0.{}.{patch}", minor + 16)
}

/// The requirements of the shared environment for dagster `version`: `dagster`,
/// `dagster-webserver`, `dagster-postgres` and its PostgreSQL driver, pinned.
pub fn shared_env_packages(version: &str) -> Vec<String> {
    SHARED_ENV
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            l.replace("{dagster_postgres}", &dagster_postgres_version(version))
                .replace("{dagster}", version)
        })
        .collect()
}

/// The cache key of an environment: FNV-1a (32 bits) of its requirements, one a line, as hex
/// (`scripts/lib.sh: env_key` computes the same).
pub fn env_key(packages: &[String]) -> String {
    let mut hash: u32 = 0x811c_9dc5;
    for line in packages {
        for byte in line.bytes().chain(std::iter::once(b'\n')) {
            hash ^= u32::from(byte);
            hash = hash.wrapping_mul(0x0100_0193);
        }
    }
    format!("{hash:08x}")
}

/// The shared environment's interpreter (dagster, dagster-webserver, dagster-postgres and
/// psycopg2 at the versions of [`shared_env_packages`]), built on first use.
pub fn shared_python() -> &'static Path {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(|| build_env(&shared_env_packages(&dagster_version())))
}

/// An interpreter with `dagster` alone (no webserver, no dagster-postgres): what a project
/// environment without dagster-postgres looks like, and "a Python with only dagster". Built on
/// first use, like the shared one.
pub fn dagster_only_python() -> &'static Path {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(|| build_env(&[format!("dagster=={}", dagster_version())]))
}

/// The folder of the environment with `packages`:
/// `<cache>/dagster-<version>-py311-<env_key>`.
pub fn env_dir(packages: &[String]) -> PathBuf {
    test_cache_dir().join(format!(
        "dagster-{}-py311-{}",
        dagster_version(),
        env_key(packages)
    ))
}

fn build_env(packages: &[String]) -> PathBuf {
    let venv = env_dir(packages);
    let python = venv.join("bin").join("python");
    if python.exists() && venv.join(".complete").exists() {
        return python;
    }
    let root = test_cache_dir();
    // Build next to the final place, then rename: concurrent builders never see half an env.
    let name = venv.file_name().expect("a folder name").to_string_lossy();
    let tmp = root.join(format!("{name}.tmp{}", std::process::id()));
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
    let mut install = vec![
        "pip",
        "install",
        "--quiet",
        "--python",
        tmp_python.to_str().expect("UTF-8 cache path"),
    ];
    install.extend(packages.iter().map(String::as_str));
    uv(&install);
    std::fs::write(tmp.join(".complete"), b"").expect("mark the environment complete");
    if std::fs::rename(&tmp, &venv).is_err() {
        // Someone else finished first: use theirs.
        let _ = std::fs::remove_dir_all(&tmp);
    }
    // `bin/python` is a symlink to the base interpreter and `pyvenv.cfg` holds no path of the
    // environment itself, so the renamed environment works as is (its `bin/dagster` scripts are
    // started as `python -m dagster` by the tests, never by their shebang).
    assert!(python.exists(), "environment at {}", venv.display());
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packages_follow_the_dagster_version() {
        assert_eq!(dagster_postgres_version("1.13.27"), "0.29.27");
        assert_eq!(dagster_postgres_version("1.12.22"), "0.28.22");
        let packages = shared_env_packages("1.13.27");
        assert_eq!(
            &packages[..3],
            [
                "dagster==1.13.27",
                "dagster-webserver==1.13.27",
                "dagster-postgres==0.29.27"
            ]
        );
        assert!(packages.iter().any(|p| p.starts_with("psycopg2-binary==")));
        assert_ne!(env_key(&packages), env_key(&shared_env_packages("1.12.22")));
    }

    #[test]
    fn the_key_is_fnv1a_of_the_lines() {
        // The value `scripts/lib.sh: env_key` prints for the same line.
        assert_eq!(env_key(&["dagster==1.13.27".to_string()]), "f84430c7");
    }
}
