//! The commands on user code that is hard on them (dg-runs' `unruly_runs` fixture): metadata with
//! NaN and infinities on a definition and in a materialization, a lone surrogate in a log message,
//! and a progress bar that prints 128 MB with `\r` and never a newline, under `dg list defs`,
//! `dg check defs` and `dg launch`.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use dg_storage::{EventKind, InstanceConfig};
use dg_test::python::{copy_dir, use_shared_python};
use dg_test::TestContext;
use serde_json::json;

fn project() -> (TestContext, PathBuf) {
    let ctx = TestContext::new();
    let root = ctx.path("unruly_runs");
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../dg-runs/tests/fixtures/unruly_runs");
    copy_dir(&fixture, &root);
    use_shared_python(&root);
    (ctx, root)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn list_and_check_defs_load_a_project_with_nan_metadata() {
    let (ctx, root) = project();
    // The `odd_values` asset's definition has `float("nan")` and `float("inf")` metadata.
    let out = ctx
        .dg()
        .args(["list", "defs"])
        .current_dir(&root)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("odd_values"),
        "{}",
        text(&out.stdout)
    );

    let out = ctx
        .dg()
        .args(["list", "defs", "--json"])
        .current_dir(&root)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let keys: Vec<&str> = doc["assets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["asset_key"].as_str().unwrap())
        .collect();
    assert_eq!(
        keys,
        [
            "malformed_events",
            "odd_values",
            "progress_bar",
            "writes_fd3"
        ]
    );

    let out = ctx
        .dg()
        .args(["check", "defs", "--no-cache"])
        .current_dir(&root)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "All definitions loaded successfully.\n");
}

#[test]
fn launch_stores_nan_infinity_and_a_lone_surrogate() {
    let (ctx, root) = project();
    let out = ctx
        .dg()
        .args(["launch", "--assets", "odd_values"])
        .current_dir(&root)
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("LOG - INFO - a lone surrogate: \u{FFFD}, and a pair: \u{1F600}"),
        "{stderr}"
    );
    assert!(stderr.contains("succeeded"), "{stderr}");

    // The materialization is stored with its metadata as Dagster shows it.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let metadata = rt.block_on(async {
        let storage = dg_storage::open(&InstanceConfig::default_for(&root.join(".dagster")))
            .await
            .unwrap();
        let runs = storage.list_runs(&Default::default()).await.unwrap();
        assert_eq!(runs.len(), 1);
        let events = storage
            .events_after(&runs[0].run_id, None, 10_000)
            .await
            .unwrap();
        events
            .into_iter()
            .find_map(|e| match e.event.kind {
                EventKind::AssetMaterialization { metadata, .. } => Some(metadata),
                _ => None,
            })
            .expect("the materialization is stored")
    });
    assert_eq!(metadata["nan"], json!("nan"));
    assert_eq!(metadata["inf"], json!("inf"));
    assert_eq!(metadata["ninf"], json!("-inf"));
    assert_eq!(metadata["score"], json!("nan"));
    assert_eq!(metadata["text"], json!("b\u{FFFD}"));
}

/// `dg launch` streams what the asset prints while it runs, and its own memory stays far below
/// the size of the output: 128 MB printed with `\r` and no newline arrive as bounded pieces.
#[test]
fn a_progress_bar_without_newlines_keeps_dg_launch_memory_bounded() {
    const MEGABYTES: usize = 128;
    let (ctx, root) = project();
    let written = ctx.path("written");
    let release = ctx.path("release");
    let config = json!({"ops": {"progress_bar": {"config": {
        "megabytes": MEGABYTES,
        "written_file": written,
        "release_file": release,
    }}}});
    let mut child = ctx
        .dg()
        .args(["launch", "--assets", "progress_bar", "--config-json"])
        .arg(config.to_string())
        .current_dir(&root)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    // Reads dg's stdout as it comes, counting bytes.
    let received = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn({
        let received = received.clone();
        let done = done.clone();
        move || {
            let mut buf = vec![0; 1 << 16];
            while let Ok(n) = stdout.read(&mut buf) {
                if n == 0 {
                    break;
                }
                received.fetch_add(n, Ordering::Relaxed);
            }
            done.store(true, Ordering::Relaxed);
        }
    });
    let mut stderr = child.stderr.take().unwrap();
    let errors = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    // While the asset waits (after printing everything), dg must have printed it all but the
    // last, unfinished piece (at most 16 KiB, held until a newline or the end of the step):
    // output is streamed, not held until the step ends.
    let expected = MEGABYTES * 1_000_000 - 16 * 1024;
    let deadline = std::time::Instant::now() + Duration::from_secs(600);
    while received.load(Ordering::Relaxed) < expected {
        assert!(
            std::time::Instant::now() < deadline && !done.load(Ordering::Relaxed),
            "dg printed {} of {expected} bytes while the asset was still running",
            received.load(Ordering::Relaxed)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(written.exists(), "the asset printed everything");
    // `VmHWM`: the most memory dg itself (not its Python children) ever had resident.
    let peak_kib: usize = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    std::fs::write(&release, "").unwrap();
    let status = child.wait().unwrap();
    reader.join().unwrap();
    let stderr = errors.join().unwrap();
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("succeeded"), "{stderr}");
    let peak_mib = peak_kib / 1024;
    assert!(
        peak_mib < MEGABYTES * 3 / 4,
        "dg's memory peaked at {peak_mib} MiB for {MEGABYTES} MB of output"
    );
}
