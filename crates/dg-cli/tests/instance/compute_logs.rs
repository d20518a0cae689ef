//! Captured output where Dagster's compute log manager puts it: a run's stdout and stderr in
//! `<home>/storage/<run_id>/compute_logs/<key>.out|.err` (Dagster's default, local files), shown by
//! our API (`GET /api/runs/{id}/logs`) and run page, for our runs and for Dagster's.

use std::path::Path;

use crate::servers::DgDev;
use crate::support::{probe_runs, skip_postgres, Backend, Instance};

#[test]
fn stdout_goes_to_dagsters_compute_logs_sqlite() {
    compute_logs(Backend::Sqlite);
}

#[test]
fn stdout_goes_to_dagsters_compute_logs_postgres() {
    if skip_postgres() {
        return;
    }
    compute_logs(Backend::Postgres);
}

/// The text of every file of `dir` whose name ends with `suffix`, concatenated.
fn files_ending(dir: &Path, suffix: &str) -> String {
    let mut text = String::new();
    for entry in std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
    {
        if entry.file_name().to_string_lossy().ends_with(suffix) {
            text.push_str(&std::fs::read_to_string(entry.path()).unwrap());
        }
    }
    text
}

fn compute_logs(backend: Backend) {
    let inst = Instance::new(backend);
    inst.launch_ok(&["--assets", "upstream"]);
    // Real Dagster on the same home runs one too (its logs must show in our UI as well).
    if backend == Backend::Sqlite {
        inst.dagster_ok(&[
            "asset",
            "materialize",
            "-m",
            "inst_project.definitions",
            "--select",
            "upstream",
        ]);
    }
    let probe = inst.probe();
    let runs = probe_runs(&probe);
    let dev = DgDev::start(&inst);
    for run in &runs {
        let run_id = run["run_id"].as_str().unwrap();
        let dir = inst.home.join("storage").join(run_id).join("compute_logs");
        let out = files_ending(&dir, ".out");
        let err = files_ending(&dir, ".err");
        assert!(
            out.contains("hello stdout from upstream"),
            "{run_id}: {out:?}"
        );
        assert!(
            err.contains("hello stderr from upstream"),
            "{run_id}: {err:?}"
        );

        let logs = dev.get(&format!("/api/runs/{run_id}/logs"));
        assert!(
            logs.contains("hello stdout from upstream"),
            "{run_id}: {logs}"
        );
        assert!(
            logs.contains("hello stderr from upstream"),
            "{run_id}: {logs}"
        );
        let page = dev.get(&format!("/runs/{run_id}"));
        assert!(
            page.contains("hello stdout from upstream"),
            "{run_id}: {page}"
        );
    }
}
