//! What `dg` refuses or leaves alone: an instance at an older schema revision (refused with
//! `dagster instance migrate`, not a byte changed), a PostgreSQL database real Dagster initialised
//! and used (every table and row as it was, apart from new runs and events), a previous dg's
//! `storage/dg.db` (untouched, one warning), and a PostgreSQL `dagster.yaml` with a project
//! environment that lacks `dagster-postgres` (an error naming the project and the fix).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use dg_config::env as vars;
use dg_test::python::dagster_only_python;

use crate::support::{fixtures, probe_runs, skip_postgres, text, Backend, Instance};

/// The revision before Dagster 1.13.27's head (`29b539ebc72a`): an instance stamped with it
/// needs `dagster instance migrate`.
const OLDER_REVISION: &str = "f495c27d5019";

/// Materializes `upstream` with real Dagster in-process on the instance (makes every file or
/// table Dagster makes on first use).
fn dagster_materializes_upstream(inst: &Instance) {
    run_python(
        inst,
        "import dagster as dg\nfrom inst_project.definitions import upstream\n\
         assert dg.materialize([upstream], instance=dg.DagsterInstance.get()).success",
    );
}

fn run_python(inst: &Instance, code: &str) -> String {
    let out = inst.python().args(["-c", code]).output().unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{code}\n{stdout}\n{stderr}");
    stdout
}

/// Every file under `dir` with its bytes.
fn files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(at) = stack.pop() {
        for entry in std::fs::read_dir(&at).unwrap().flatten() {
            let path = entry.path();
            if entry.file_type().unwrap().is_dir() {
                stack.push(path);
            } else {
                out.insert(
                    path.strip_prefix(dir).unwrap().to_path_buf(),
                    std::fs::read(&path).unwrap(),
                );
            }
        }
    }
    out
}

/// The database dump of `pg_dump.py`.
fn pg_dump(inst: &Instance) -> serde_json::Value {
    let url = inst.db.as_ref().expect("a PostgreSQL instance").url();
    let stdout = {
        let out = inst
            .python()
            .arg(fixtures().join("pg_dump.py"))
            .arg(&url)
            .output()
            .unwrap();
        let (stdout, stderr) = text(&out);
        assert!(out.status.success(), "pg_dump.py: {stderr}");
        stdout
    };
    serde_json::from_str(stdout.trim()).unwrap()
}

#[test]
fn an_older_revision_is_refused_and_left_as_it_was_sqlite() {
    older_revision(Backend::Sqlite);
}

#[test]
fn an_older_revision_is_refused_and_left_as_it_was_postgres() {
    if skip_postgres() {
        return;
    }
    older_revision(Backend::Postgres);
}

fn older_revision(backend: Backend) {
    let inst = Instance::new(backend);
    dagster_materializes_upstream(&inst);
    match backend {
        Backend::Sqlite => run_python(
            &inst,
            &format!(
                "import glob, os, sqlite3\n\
                 for path in glob.glob(os.path.join(os.environ['DAGSTER_HOME'], '**', '*.db'), recursive=True):\n    \
                 db = sqlite3.connect(path)\n    \
                 db.execute(\"UPDATE alembic_version SET version_num = '{OLDER_REVISION}'\")\n    \
                 db.commit()\n    db.close()\n"
            ),
        ),
        Backend::Postgres => run_python(
            &inst,
            &format!(
                "import psycopg2\nc = psycopg2.connect('{}')\n\
                 c.cursor().execute(\"UPDATE alembic_version SET version_num = '{OLDER_REVISION}'\")\n\
                 c.commit()\n",
                inst.db.as_ref().unwrap().url()
            ),
        ),
    };
    let before_files = files(&inst.home);
    let before_db = (backend == Backend::Postgres).then(|| pg_dump(&inst));

    let out = inst
        .dg()
        .args(["launch", "--assets", "downstream"])
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert_ne!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("dagster instance migrate"),
        "the refusal names the fix:\n{stderr}"
    );
    assert!(
        !stdout.contains("downstream got"),
        "nothing ran on the old instance: {stdout}"
    );
    let after_files = files(&inst.home);
    assert_eq!(
        before_files.keys().collect::<Vec<_>>(),
        after_files.keys().collect::<Vec<_>>(),
        "the home's files"
    );
    for (path, bytes) in &before_files {
        assert!(after_files[path] == *bytes, "{} changed", path.display());
    }
    if let Some(before) = before_db {
        assert_eq!(before, pg_dump(&inst), "the database changed");
    }
}

/// A database real Dagster initialised and used: after our runs, every table Dagster made has
/// its schema, and every row it had is still there unchanged, except `asset_keys` rows of the
/// assets our runs materialized (which Dagster's own runs update too). New rows only in the
/// tables a run writes; no table of ours but `dg_`-prefixed ones.
#[test]
fn a_database_dagster_made_keeps_its_tables_and_rows() {
    if skip_postgres() {
        return;
    }
    let inst = Instance::new(Backend::Postgres);
    dagster_materializes_upstream(&inst);
    run_python(
        &inst,
        "import dagster as dg\ndg.DagsterInstance.get().add_dynamic_partitions('fruits', ['apple'])",
    );
    let before = pg_dump(&inst);

    let (_, stderr) = inst.launch_ok(&["--assets", "downstream"]);
    assert!(stderr.contains("downstream got [1, 2, 3]"), "{stderr}");
    inst.launch_ok(&["--assets", "fruit", "--partition", "apple"]);
    let after = pg_dump(&inst);

    let changed_assets = ["downstream", "fruit"];
    let grows = [
        "runs",
        "run_tags",
        "snapshots",
        "event_logs",
        "asset_keys",
        "asset_event_tags",
    ];
    for (table, columns) in before["schema"].as_object().unwrap() {
        assert_eq!(columns, &after["schema"][table], "schema of `{table}`");
    }
    for table in after["schema"].as_object().unwrap().keys() {
        assert!(
            before["schema"].get(table).is_some() || table.starts_with("dg_"),
            "a table `{table}` was added to the user's database"
        );
    }
    for (table, rows) in before["rows"].as_object().unwrap() {
        let after_rows: Vec<&str> = after["rows"][table]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_str().unwrap())
            .collect();
        for row in rows.as_array().unwrap() {
            let row = row.as_str().unwrap();
            let exempt = table == "asset_keys"
                && changed_assets
                    .iter()
                    .any(|a| row.contains(&format!("\"asset_key\": \"[\\\"{a}\\\"]\"")));
            assert!(
                exempt || after_rows.contains(&row),
                "row of `{table}` changed or removed: {row}"
            );
        }
        if !grows.contains(&table.as_str()) {
            assert_eq!(
                rows.as_array().unwrap().len(),
                after_rows.len(),
                "rows added to `{table}`"
            );
        }
    }
    let probe = inst.probe();
    assert_eq!(probe_runs(&probe).len(), 3, "{probe:#}");
}

/// A previous dg kept its instance in `storage/dg.db`: it is left as it is, and `dg` says once
/// that it is no longer read.
#[test]
fn a_previous_dg_database_is_left_alone_with_one_warning() {
    let inst = Instance::new(Backend::Sqlite);
    let old = inst.home.join("storage").join("dg.db");
    std::fs::create_dir_all(old.parent().unwrap()).unwrap();
    std::fs::copy(fixtures().join("previous_dg/dg.db"), &old).unwrap();
    let bytes = std::fs::read(&old).unwrap();

    let (_, stderr) = inst.launch_ok(&["--assets", "upstream"]);
    assert_eq!(
        stderr.lines().filter(|l| l.contains("dg.db")).count(),
        1,
        "one warning naming the old file:\n{stderr}"
    );
    assert!(std::fs::read(&old).unwrap() == bytes, "dg.db changed");
    let siblings: Vec<_> = std::fs::read_dir(old.parent().unwrap())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("dg.db"))
        .collect();
    assert_eq!(siblings, ["dg.db"], "no journal of dg.db was left");
    // Real Dagster sees the new run only: the old history stays where it was.
    assert_eq!(probe_runs(&inst.probe()).len(), 1);
}

/// PostgreSQL storage needs `dagster-postgres` where the instance is opened, as in Dagster: a
/// project environment without it gives an error naming the project and the fix.
#[test]
fn a_project_env_without_dagster_postgres_is_named_with_the_fix() {
    if skip_postgres() {
        return;
    }
    let inst = Instance::new(Backend::Postgres);
    std::fs::write(
        inst.project.join(".env"),
        format!(
            "{}={}\n",
            vars::DG_PROJECT_PYTHON_EXECUTABLE,
            dagster_only_python().display()
        ),
    )
    .unwrap();
    let out = inst
        .dg()
        .args(["launch", "--assets", "upstream"])
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert_ne!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("inst_project"),
        "names the project:\n{stderr}"
    );
    assert!(
        stderr.contains("dagster-postgres"),
        "names the package to add:\n{stderr}"
    );
    assert!(
        !stdout.contains("hello stdout from upstream"),
        "nothing ran: {stdout}"
    );
}
