//! Dagster -> ours: a run made by real `dagster asset materialize` on the same home shows in our
//! `dg dev` (the runs API, the run's events and event stream, its run page), and our `dg launch`
//! of a downstream asset reads the upstream's output from the same `storage/` folder (the
//! default IO manager).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::servers::DgDev;
use crate::support::{probe_runs, skip_postgres, Backend, Instance};

#[test]
fn our_dg_reads_dagsters_runs_sqlite() {
    dagster_to_ours(Backend::Sqlite);
}

#[test]
fn our_dg_reads_dagsters_runs_postgres() {
    if skip_postgres() {
        return;
    }
    dagster_to_ours(Backend::Postgres);
}

fn dagster_to_ours(backend: Backend) {
    let inst = Instance::new(backend);
    inst.dagster_ok(&[
        "asset",
        "materialize",
        "-m",
        "inst_project.definitions",
        "--select",
        "upstream",
    ]);
    let probe = inst.probe();
    let runs = probe_runs(&probe);
    assert_eq!(runs.len(), 1, "{probe:#}");
    let run_id = runs[0]["run_id"].as_str().unwrap().to_owned();
    assert!(inst.home.join("storage/upstream").is_file());

    {
        let dev = DgDev::start(&inst);
        let list = dev.get_json("/api/runs");
        let listed = list["runs"].as_array().unwrap();
        let run = listed
            .iter()
            .find(|r| r["run_id"] == run_id.as_str())
            .unwrap_or_else(|| panic!("Dagster's run {run_id} not in GET /api/runs: {list:#}"));
        assert_eq!(run["status"], "SUCCESS", "{run}");
        assert_eq!(run["job_name"], "__ASSET_JOB", "{run}");

        let one = dev.get_json(&format!("/api/runs/{run_id}"));
        assert_eq!(one["run_id"], run_id.as_str(), "{one}");

        let events = dev.get_json(&format!("/api/runs/{run_id}/events?limit=10000"));
        let types: Vec<&str> = events["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["event"]["type"].as_str().unwrap_or_default())
            .collect();
        for expected in [
            "RUN_START",
            "STEP_START",
            "ASSET_MATERIALIZATION",
            "STEP_SUCCESS",
            "RUN_SUCCESS",
        ] {
            assert!(types.contains(&expected), "{expected} missing: {types:?}");
        }

        let stream = read_stream(&dev.addr, &format!("/api/runs/{run_id}/stream"));
        assert!(stream.contains("event: end"), "{stream}");
        assert!(stream.contains("ASSET_MATERIALIZATION"), "{stream}");

        let page = dev.get(&format!("/runs/{run_id}"));
        assert!(page.contains(&run_id), "the run page names its run");
        assert!(
            page.contains("Materialized value upstream"),
            "the run page shows Dagster's materialization:\n{page}"
        );
    }

    // Our downstream run reads what Dagster's run stored.
    let (_, stderr) = inst.launch_ok(&["--assets", "downstream"]);
    assert!(stderr.contains("downstream got [1, 2, 3]"), "{stderr}");
    let probe = inst.probe();
    let runs = probe_runs(&probe);
    assert_eq!(runs.len(), 2, "{probe:#}");
    assert_eq!(probe["latest_materialization"]["upstream"], run_id.as_str());
    assert_eq!(
        probe["latest_materialization"]["downstream"],
        runs[1]["run_id"]
    );
}

/// Reads a server-sent event stream of a finished run until its `end` event (at most 2 minutes).
fn read_stream(addr: &str, path: &str) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.0\r\nHost: {addr}\r\nAccept: text/event-stream\r\n\r\n"
    )
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut seen = Vec::new();
    let mut buf = [0u8; 65536];
    while Instant::now() < deadline {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => seen.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(e) => panic!("reading {path}: {e}"),
        }
        if String::from_utf8_lossy(&seen).contains("event: end") {
            break;
        }
    }
    String::from_utf8_lossy(&seen).into_owned()
}
