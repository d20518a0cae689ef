//! Test support: a workspace of two real projects (`alpha`, and `beta` whose asset depends on one
//! of alpha's) that load with real Python and the pinned `dagster`, from one shared environment
//! built once under `$DG_TEST_CACHE_DIR` with real uv; a host serving them with SQLite storage in
//! the test's temporary folder.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use dg_core::env as vars;
use dg_host::locations::LocationStatus;
use dg_location::LocationSpec;
use dg_server::{AppState, Host, HostOptions};

/// The shared environment's interpreter, built on first use (the one every test crate uses).
pub use dg_test::python::shared_python;

/// Alpha's definitions: two dependent assets, one that prints, and a slow one to cancel.
pub const ALPHA: &str = r#"import time

import dagster as dg


@dg.asset(group_name="raw", kinds={"python"}, description="<b>raw & unescaped</b>")
def alpha_raw(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    print("hello from alpha_raw")
    context.log.info("logged by alpha_raw")
    return dg.MaterializeResult(metadata={"rows": 3})


@dg.asset(deps=[alpha_raw], group_name="clean")
def alpha_clean() -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"rows": 2})


@dg.asset(group_name="slow")
def alpha_slow() -> dg.MaterializeResult:
    time.sleep(120)
    return dg.MaterializeResult()


defs = dg.Definitions(assets=[alpha_raw, alpha_clean, alpha_slow])
"#;

/// Beta's definitions: an asset that depends on alpha's `alpha_clean` (across locations).
pub const BETA: &str = r#"import dagster as dg


@dg.asset(deps=[dg.AssetKey("alpha_clean")], group_name="reports")
def beta_report() -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"pages": 1})


defs = dg.Definitions(assets=[beta_report])
"#;

/// Writes project `name` (flat layout, `definitions.py`) under `dir/projects/`, using the shared
/// environment through `.env`.
pub fn write_project(dir: &Path, name: &str, definitions: &str) -> PathBuf {
    let root = dir.join("projects").join(name);
    std::fs::create_dir_all(root.join(name)).unwrap();
    std::fs::write(
        root.join("pyproject.toml"),
        format!(
            "[project]\nname = \"{name}\"\nversion = \"0.1.0\"\nrequires-python = \">=3.10\"\n\
             dependencies = [\"dagster\"]\n\n[tool.dg]\ndirectory_type = \"project\"\n\n\
             [tool.dg.project]\nroot_module = \"{name}\"\n"
        ),
    )
    .unwrap();
    std::fs::write(root.join(name).join("__init__.py"), "").unwrap();
    std::fs::write(root.join(name).join("definitions.py"), definitions).unwrap();
    std::fs::write(
        root.join(".env"),
        format!(
            "{}={}\n",
            vars::DG_PROJECT_PYTHON_EXECUTABLE,
            shared_python().display()
        ),
    )
    .unwrap();
    root
}

/// Writes a workspace `dg.toml` listing alpha and beta, and both projects.
pub fn write_workspace(dir: &Path) {
    write_project(dir, "alpha", ALPHA);
    write_project(dir, "beta", BETA);
    std::fs::write(
        dir.join("dg.toml"),
        "directory_type = \"workspace\"\n\n[workspace]\n\n[[workspace.projects]]\npath = \"projects/alpha\"\n\n\
         [[workspace.projects]]\npath = \"projects/beta\"\n",
    )
    .unwrap();
}

/// A served workspace.
pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub host: Host,
    pub state: AppState,
}

impl Fixture {
    /// Writes the workspace, opens SQLite storage in it, and loads both locations (waits until
    /// both settled).
    pub async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        write_workspace(dir.path());
        Self::serve(dir).await
    }

    /// Serves the projects `alpha` and `beta` already written under `dir/projects/`, with SQLite
    /// storage in `dir/.dagster` (waits until both locations settled, and asserts they loaded).
    pub async fn serve(dir: tempfile::TempDir) -> Self {
        let specs = ["alpha", "beta"]
            .iter()
            .map(|n| LocationSpec::new(*n, dir.path().join("projects").join(n), *n))
            .collect();
        let home = dir.path().join(".dagster");
        let options = HostOptions {
            instance_home: Some(home.clone()),
            ..HostOptions::default()
        };
        let host = Host::new(specs, options);
        host.load_all();
        let config = dg_storage::InstanceConfig::load(&home).unwrap();
        let storage = dg_storage::open(&config).await.unwrap();
        let state = AppState::new(host.clone(), storage, home);
        let fixture = Self { dir, host, state };
        fixture
            .wait_for("both locations settle", |h| h.all_settled())
            .await;
        for loc in fixture.host.locations() {
            assert_eq!(loc.status, LocationStatus::Loaded, "{loc:?}");
        }
        fixture
    }

    /// Polls `check` on the host until it holds (at most three minutes: loading imports dagster).
    pub async fn wait_for(&self, what: &str, check: impl Fn(&Host) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(180);
        while !check(&self.host) {
            assert!(
                Instant::now() < deadline,
                "timed out waiting until {what}: {:#?}",
                self.host.locations()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Polls storage until the run is finished; returns its status.
    pub async fn wait_run(&self, run_id: &str) -> dg_storage::RunStatus {
        let deadline = Instant::now() + Duration::from_secs(180);
        loop {
            let run = self.state.storage.get_run(run_id).await.unwrap().unwrap();
            if run.status.is_terminal() {
                return run.status;
            }
            assert!(
                Instant::now() < deadline,
                "run {run_id} did not finish: {run:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The path of `file` in project `name`'s package.
    pub fn module_file(&self, name: &str, file: &str) -> PathBuf {
        self.dir
            .path()
            .join("projects")
            .join(name)
            .join(name)
            .join(file)
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        self.host.shutdown();
    }
}
