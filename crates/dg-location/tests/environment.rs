//! The project environment with real uv: a project without `.venv` is synced on first load (like
//! `uv run`), not again while nothing changed, and again after `pyproject.toml` changes; the
//! project's `.env` reaches user code.

mod common;

use std::time::{Duration, SystemTime};

use dg_location::{load_location, CacheMode, LoadOptions, LocationSpec, SnapshotCache};
use dg_python::{EnvSource, PythonEnvironment};

#[test]
fn a_project_without_venv_is_synced_with_uv_and_its_env_file_is_loaded() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("uv_project");
    common::copy_dir(&common::fixture("uv_project"), &root);
    std::fs::rename(root.join(".env.example"), root.join(".env")).unwrap();
    let spec = LocationSpec::new("uv_project", &root, "uv_project");
    let opts = LoadOptions {
        cache_mode: CacheMode::Off,
        cache: Some(SnapshotCache::new(dir.path().join("cache"))),
        timeout: Duration::from_secs(300),
        ..LoadOptions::default()
    };

    let loaded = load_location(&spec, &opts).unwrap();
    assert!(loaded.environment.synced, "the missing .venv was created");
    assert_eq!(loaded.environment.source, EnvSource::ProjectVenv);
    assert!(root.join(".venv/bin/python").exists());
    assert_eq!(
        loaded.snapshot.assets[0].description.as_deref(),
        Some("hello from .env")
    );

    let again = PythonEnvironment::resolve("uv_project", &root, &opts.env).unwrap();
    assert!(!again.synced, "nothing changed, so no sync");

    // Editing `pyproject.toml` makes the environment stale, as with `uv run`.
    let later = SystemTime::now() + Duration::from_secs(5);
    std::fs::File::options()
        .write(true)
        .open(root.join("pyproject.toml"))
        .unwrap()
        .set_modified(later)
        .unwrap();
    let resynced = PythonEnvironment::resolve("uv_project", &root, &opts.env).unwrap();
    assert!(resynced.synced);
}
