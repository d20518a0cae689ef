//! Test support: the shared Python environment with real `dagster` (built once by `dg-test`'s
//! `python` module and reused by every test binary), and fixture projects copied to temporary
//! folders and pointed at it through `DG_PROJECT_PYTHON_EXECUTABLE` in `.env`.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use dg_location::LocationSpec;

pub use dg_test::python::copy_dir;

/// The fixture folder `name`.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("fixtures")
        .join(name)
}

/// Copies fixture `name` into `dir` and points it at the shared environment; returns its spec.
pub fn project(dir: &Path, name: &str) -> LocationSpec {
    let root = dir.join(name);
    copy_dir(&fixture(name), &root);
    dg_test::python::use_shared_python(&root);
    LocationSpec::new(name, &root, name)
}
