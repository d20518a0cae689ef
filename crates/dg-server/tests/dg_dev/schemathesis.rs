//! Schemathesis against `/api/openapi.json` of a live `dg dev`: every operation, every check of
//! Schemathesis (`schemathesis.toml` beside this file names the few exceptions and why), no 5xx,
//! no crash, and the server still answers and stops cleanly afterwards.
//!
//! Two modes (`DG_TEST_SCHEMATHESIS_MODE`): `short` (the default, run by `scripts/test`: ten
//! examples per operation with a fixed seed, so CI sees the same cases each time; about two
//! minutes) and `full` (`scripts/schemathesis full`: a hundred examples per operation, a new seed
//! each time, printed for replay). Traffic goes to the server on 127.0.0.1 only; proxies from the
//! environment are ignored.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use dg_core::env::{DG_TEST_SCHEMATHESIS, DG_TEST_SCHEMATHESIS_MODE};
use dg_test::TestContext;

use crate::dev::{demo_workspace, Dev};

/// How much Schemathesis generates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Short,
    Full,
}

impl Mode {
    fn from_env() -> Self {
        match std::env::var(DG_TEST_SCHEMATHESIS_MODE).as_deref() {
            Ok("full") => Self::Full,
            Ok("short") | Ok("") | Err(_) => Self::Short,
            Ok(other) => panic!("{DG_TEST_SCHEMATHESIS_MODE}={other}: use `short` or `full`"),
        }
    }

    fn args(self) -> &'static [&'static str] {
        match self {
            Self::Short => &["--max-examples", "10", "--seed", "20261204"],
            Self::Full => &["--max-examples", "100"],
        }
    }
}

/// The `st` command: `$DG_TEST_SCHEMATHESIS`, else installed (once, cached) by
/// `scripts/lib.sh`'s `ensure_schemathesis`, as `scripts/test` does.
fn schemathesis() -> PathBuf {
    if let Some(st) = std::env::var_os(DG_TEST_SCHEMATHESIS).filter(|v| !v.is_empty()) {
        return PathBuf::from(st);
    }
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let output = Command::new("bash")
        .arg("-c")
        .arg("source scripts/lib.sh && ensure_uv >&2 && ensure_schemathesis >&2 && printf %s \"$DG_TEST_SCHEMATHESIS\"")
        .current_dir(&repo)
        .output()
        .expect("bash runs");
    assert!(
        output.status.success(),
        "cannot install schemathesis with scripts/lib.sh (`ensure_schemathesis`):\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    PathBuf::from(String::from_utf8(output.stdout).unwrap())
}

/// What the run's NDJSON report recorded: requests by status code, and checks run.
#[derive(Debug, Default)]
struct Recorded {
    statuses: BTreeMap<u64, usize>,
    checks: usize,
}

fn read_report(dir: &Path) -> Recorded {
    let mut recorded = Recorded::default();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        if entry.path().extension().is_none_or(|e| e != "ndjson") {
            continue;
        }
        for line in std::fs::read_to_string(entry.path()).unwrap().lines() {
            let event: serde_json::Value = serde_json::from_str(line).unwrap();
            let recorder = &event["ScenarioFinished"]["recorder"];
            for interaction in recorder["interactions"].as_object().into_iter().flatten() {
                if let Some(code) = interaction.1["response"]["status_code"].as_u64() {
                    *recorded.statuses.entry(code).or_default() += 1;
                }
            }
            for checks in recorder["checks"].as_object().into_iter().flatten() {
                recorded.checks += checks.1.as_array().map_or(0, Vec::len);
            }
        }
    }
    recorded
}

/// Prints the run's output and numbers (for docs/reliability.md; shown with `--nocapture`):
/// they are this test's report, not diagnostics of dg.
#[allow(clippy::print_stdout)]
fn report(text: &str) {
    println!("{text}");
}

pub fn schemathesis_finds_nothing_wrong_with_the_api() {
    let mode = Mode::from_env();
    let st = schemathesis();
    let ctx = TestContext::new();
    let root = demo_workspace(&ctx);
    let dev = Dev::start(&ctx, &root, &[]);
    // Real data behind the lists, events, streams and materializations.
    dev.run_to_success(r#"{"selection": "*", "location": "ingest"}"#);
    dev.run_to_success(r#"{"selection": "*", "location": "reports"}"#);

    let reports = ctx.mkdir("schemathesis");
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/dg_dev/schemathesis.toml");
    let started = Instant::now();
    let output = Command::new(&st)
        .arg("--config-file")
        .arg(&config)
        .arg("run")
        .arg(format!("http://{}/api/openapi.json", dev.addr))
        .args(mode.args())
        .args(["--no-color", "--report", "ndjson", "--report-dir"])
        .arg(&reports)
        .current_dir(&reports)
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env_remove("HTTP_PROXY")
        .env_remove("HTTPS_PROXY")
        .env_remove("ALL_PROXY")
        .env_remove("http_proxy")
        .env_remove("https_proxy")
        .env_remove("all_proxy")
        .output()
        .unwrap_or_else(|e| panic!("cannot run `{}`: {e}", st.display()));
    let seconds = started.elapsed().as_secs_f64();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let recorded = read_report(&reports);
    let requests: usize = recorded.statuses.values().sum();
    let cases = text
        .lines()
        .skip_while(|l| !l.starts_with("Test cases:"))
        .nth(1)
        .unwrap_or("")
        .trim();
    report(&format!(
        "{text}\nschemathesis {mode:?}: {seconds:.0} s, {cases}, {requests} requests recorded, {} \
         checks; status codes {:?}",
        recorded.checks, recorded.statuses
    ));

    assert!(
        output.status.success(),
        "schemathesis found problems:\n{text}"
    );
    let operations = dg_server::api::openapi::spec()["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|path| path.as_object().unwrap().len())
        .sum::<usize>();
    assert!(
        text.contains(&format!("Selected: {operations}/{operations}"))
            && text.contains(&format!("Tested: {operations}")),
        "every one of the {operations} operations is tested:\n{text}"
    );
    assert!(requests > 0, "the report recorded no request:\n{text}");
    assert!(
        recorded.statuses.keys().all(|&code| code < 500),
        "server errors: {:?}",
        recorded.statuses
    );

    // The server is still there, answers, and stops cleanly without a panic.
    // (Reloads it was asked for may still be going: wait until both locations are back.)
    let deadline = Instant::now() + std::time::Duration::from_secs(240);
    loop {
        let (status, body) = dev.call("GET", "/api/locations", "");
        assert_eq!(status, 200, "{body}");
        if body.matches("\"status\":\"loaded\"").count() == 2 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "locations did not load again: {body}"
        );
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    let said = dev.stop();
    assert!(
        !said
            .iter()
            .any(|l| l.contains("panicked") || l.contains("overflow")),
        "{}",
        said.join("\n")
    );
}
