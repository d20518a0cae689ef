//! One instance home per test, on either backend, with the fixture project beside it: our `dg`
//! and real Dagster (the shared environment's `python -m dagster`, `DagsterInstance.get()`) both
//! pointed at it through `DAGSTER_HOME`. PostgreSQL instances live in a fresh database on the
//! server of `DG_TEST_POSTGRES_URL`, dropped when the test ends (also when it fails).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use dg_config::env as vars;
use dg_test::python::{copy_dir, shared_python, use_shared_python};
use dg_test::TestContext;

/// The admin URL of the shared test server when `DG_TEST_POSTGRES_URL` is not set.
const DEFAULT_ADMIN_URL: &str = "postgres://postgres:postgres@127.0.0.1:5432/postgres";

/// Where an instance keeps its runs and events.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// Dagster's default: SQLite files under the home.
    Sqlite,
    /// `storage: postgres:` in `dagster.yaml`, a fresh database.
    Postgres,
}

/// The fixtures folder of this test binary.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/instance_fixtures")
}

/// A test's instance: the temp folder, the project (pointed at the shared environment) and the
/// home (`DAGSTER_HOME`) with its `dagster.yaml`.
pub struct Instance {
    pub ctx: TestContext,
    pub project: PathBuf,
    pub home: PathBuf,
    pub db: Option<PgDatabase>,
}

impl Instance {
    /// A fresh, empty instance (nothing but `dagster.yaml`) on `backend`.
    pub fn new(backend: Backend) -> Self {
        let ctx = TestContext::new();
        let project = ctx.path("inst_project");
        copy_dir(&fixtures().join("inst_project"), &project);
        use_shared_python(&project);
        let home = ctx.mkdir("dagster_home");
        let db = (backend == Backend::Postgres).then(PgDatabase::create);
        let yaml = match &db {
            None => String::new(),
            Some(db) => format!(
                "storage:\n  postgres:\n    postgres_url: \"{}\"\n",
                db.dagster_url()
            ),
        };
        std::fs::write(home.join("dagster.yaml"), yaml).expect("write dagster.yaml");
        Self {
            ctx,
            project,
            home,
            db,
        }
    }

    /// Our `dg`, run in the project with this home.
    pub fn dg(&self) -> Command {
        let mut cmd = self.ctx.dg();
        cmd.current_dir(&self.project)
            .env(vars::DAGSTER_HOME, &self.home);
        cmd
    }

    /// `dg launch <args>`; panics with its output unless it exits 0. Returns (stdout, stderr).
    pub fn launch_ok(&self, args: &[&str]) -> (String, String) {
        let out = self
            .dg()
            .arg("launch")
            .args(args)
            .output()
            .expect("dg runs");
        let (stdout, stderr) = text(&out);
        assert_eq!(
            out.status.code(),
            Some(0),
            "dg launch {args:?} failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
        );
        (stdout, stderr)
    }

    /// The shared environment's Python (real `dagster`, `dagster-webserver`, `dagster-postgres`)
    /// with this home, run in the project (so `inst_project` imports).
    pub fn python(&self) -> Command {
        self.python_of(shared_python())
    }

    /// `python` (any interpreter) with this home, run in the project.
    pub fn python_of(&self, python: &Path) -> Command {
        let mut cmd = self.ctx.command(python);
        cmd.current_dir(&self.project)
            .env(vars::DAGSTER_HOME, &self.home)
            .env("PYTHONPATH", &self.project)
            .env("PYTHONDONTWRITEBYTECODE", "1");
        cmd
    }

    /// Real `dagster <args>` (the shared environment's CLI) on this home; asserts exit 0.
    pub fn dagster_ok(&self, args: &[&str]) -> (String, String) {
        let out = self
            .python()
            .args(["-m", "dagster"])
            .args(args)
            .output()
            .expect("python runs");
        let (stdout, stderr) = text(&out);
        assert!(
            out.status.success(),
            "dagster {args:?} failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
        );
        (stdout, stderr)
    }

    /// What real Dagster's `DagsterInstance.get()` sees in this instance (`probe.py`).
    pub fn probe(&self) -> serde_json::Value {
        self.probe_with(shared_python())
    }

    /// [`Instance::probe`] with another interpreter (one with only `dagster`, say).
    pub fn probe_with(&self, python: &Path) -> serde_json::Value {
        let out = self
            .python_of(python)
            .arg(fixtures().join("probe.py"))
            .output()
            .expect("python runs");
        let (stdout, stderr) = text(&out);
        assert!(
            out.status.success(),
            "probe.py (real Dagster) failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
        );
        serde_json::from_str(stdout.lines().last().unwrap_or_default())
            .unwrap_or_else(|e| panic!("probe.py printed no JSON ({e}):\n{stdout}"))
    }
}

/// Stdout and stderr as text.
pub fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The runs in a probe, as (run_id, run) pairs, oldest first.
pub fn probe_runs(probe: &serde_json::Value) -> Vec<serde_json::Value> {
    probe["runs"].as_array().cloned().unwrap_or_default()
}

/// The event types of one run in a probe, in order.
pub fn probe_events(probe: &serde_json::Value, run_id: &str) -> Vec<String> {
    probe["events"][run_id]
        .as_array()
        .map(|events| {
            events
                .iter()
                .map(|e| e["type"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// Whether PostgreSQL tests are turned off (`DG_TEST_SKIP_POSTGRES=1`, as in the other suites).
pub fn skip_postgres() -> bool {
    std::env::var_os(vars::DG_TEST_SKIP_POSTGRES).is_some_and(|v| !v.is_empty() && v != "0")
}

/// A database created for one test on the shared server, dropped (with its connections) on drop.
/// Created and dropped with psycopg2 from the shared environment (the driver Dagster uses here).
pub struct PgDatabase {
    admin_url: String,
    pub name: String,
}

impl PgDatabase {
    pub fn create() -> Self {
        let admin_url = std::env::var(vars::DG_TEST_POSTGRES_URL)
            .ok()
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| DEFAULT_ADMIN_URL.to_owned());
        let name = format!("dg_instance_{}", uuid_like());
        admin_sql(&admin_url, &format!("CREATE DATABASE {name}"));
        Self { admin_url, name }
    }

    /// The database's URL as libpq reads it (for psql, psycopg2 and our own config).
    pub fn url(&self) -> String {
        let (server, _) = self
            .admin_url
            .rsplit_once('/')
            .expect("URL with a database");
        format!("{server}/{}", self.name)
    }

    /// The database's URL for `dagster.yaml`, with psycopg2 named (see
    /// docs/dagster-instance-format.md, section 6).
    pub fn dagster_url(&self) -> String {
        let rest = self.url();
        let (_, rest) = rest.split_once("://").expect("URL with a scheme");
        format!("postgresql+psycopg2://{rest}")
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        admin_sql(
            &self.admin_url,
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        );
    }
}

/// Runs one statement on the admin database, in autocommit; panics with the server's answer.
fn admin_sql(admin_url: &str, sql: &str) {
    let out = Command::new(shared_python())
        .args([
            "-c",
            "import sys, psycopg2\nc = psycopg2.connect(sys.argv[1])\nc.autocommit = True\nc.cursor().execute(sys.argv[2])",
            admin_url,
            sql,
        ])
        .output()
        .expect("python runs");
    assert!(
        out.status.success() || std::thread::panicking(),
        "`{sql}` on {admin_url} failed (start PostgreSQL with `source scripts/lib.sh && \
         ensure_postgres`, or set {}=1):\n{}",
        vars::DG_TEST_SKIP_POSTGRES,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A unique lowercase name part: the process id and a counter and the time.
fn uuid_like() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!(
        "{}_{}_{nanos}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}
