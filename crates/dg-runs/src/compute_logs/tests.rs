use super::*;

/// A `LOGS_CAPTURED` event as real Dagster 1.13.27 stored it (`dagster asset materialize`).
const REAL: &str = r#"{"__class__": "EventLogEntry", "dagster_event": {"__class__": "DagsterEvent", "event_specific_data": {"__class__": "ComputeLogsCaptureData", "external_stderr_url": null, "external_stdout_url": null, "external_url": null, "log_key": "mtyptvcf", "shell_cmd": null, "step_keys": ["hello"]}, "event_type_value": "LOGS_CAPTURED", "logging_tags": {}, "message": "Capturing logs for process (pid: 5377).", "pid": 5377, "pipeline_name": "__ASSET_JOB", "solid_handle": null, "step_handle": null, "step_key": null, "step_kind_value": null}, "error_info": null, "level": 10, "message": "", "pipeline_name": "__ASSET_JOB", "run_id": "d3916b0f-d4b1-409b-b6bc-7b1a57f8da69", "step_key": null, "timestamp": 1796490266.3363159, "user_message": "Capturing logs for process (pid: 5377)."}"#;
const RUN: &str = "d3916b0f-d4b1-409b-b6bc-7b1a57f8da69";

fn capture(key: &str, steps: &[&str]) -> Capture {
    Capture {
        file_key: key.into(),
        step_keys: steps.iter().map(|s| s.to_string()).collect(),
    }
}

/// Writes Dagster's files for `key` of `RUN` under `base`.
fn write(base: &Path, key: &str, out: &[u8], err: Option<&[u8]>, complete: bool) {
    let dir = base.join(RUN).join("compute_logs");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("{key}.out")), out).unwrap();
    if let Some(err) = err {
        std::fs::write(dir.join(format!("{key}.err")), err).unwrap();
    }
    if complete {
        std::fs::write(dir.join(format!("{key}.complete")), b"").unwrap();
    }
}

fn logs(result: RunLogs) -> Vec<CapturedLog> {
    match result {
        RunLogs::Shown { logs, .. } => logs,
        other => panic!("not shown: {other:?}"),
    }
}

#[test]
fn reads_dagsters_logs_captured_event() {
    assert_eq!(
        Capture::from_dagster_json(REAL),
        Some(capture("mtyptvcf", &["hello"]))
    );
    // The same event as dg-storage writes it.
    let ours = dg_storage::dagster::serdes::logs_captured_to_dagster_json(
        RUN,
        "job",
        dg_storage::now(),
        "abcdefgh",
        &["a".into(), "b".into()],
    );
    assert_eq!(
        Capture::from_dagster_json(&ours),
        Some(capture("abcdefgh", &["a", "b"]))
    );
    // Another event, and a key that would leave the folder, are not captures.
    assert_eq!(
        Capture::from_dagster_json(&REAL.replace("\"LOGS_CAPTURED\"", "\"STEP_START\"")),
        None
    );
    assert_eq!(
        Capture::from_dagster_json(&REAL.replace("mtyptvcf", "../../etc")),
        None
    );
    assert_eq!(Capture::from_dagster_json("not json"), None);
}

#[test]
fn reads_each_capture_with_its_steps_then_files_no_event_names() {
    let base = tempfile::tempdir().unwrap();
    write(
        base.path(),
        "mtyptvcf",
        b"out line\n",
        Some(b"err <b>line</b>\n"),
        true,
    );
    write(base.path(), "zzzzzzzz", b"still running\n", None, false);
    let config = ComputeLogsConfig::Local {
        base_dir: base.path().to_path_buf(),
    };
    let got = logs(read_run_logs(&config, RUN, &[capture("mtyptvcf", &["hello"])]).unwrap());
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[0].log_key, "mtyptvcf");
    assert_eq!(got[0].step_keys, ["hello"]);
    assert_eq!(got[0].stdout, "out line\n");
    assert_eq!(got[0].stderr, "err <b>line</b>\n");
    assert!(got[0].complete && !got[0].truncated);
    assert_eq!(got[1].log_key, "zzzzzzzz");
    assert!(got[1].step_keys.is_empty());
    assert_eq!(got[1].stdout, "still running\n");
    assert_eq!(got[1].stderr, "");
    assert!(!got[1].complete);
    // A capture announced before its files exist reads as empty and not complete.
    let got = logs(read_run_logs(&config, RUN, &[capture("notyet", &["s"])]).unwrap());
    assert_eq!(got[0].log_key, "notyet");
    assert_eq!((got[0].stdout.as_str(), got[0].complete), ("", false));
}

#[test]
fn a_run_without_files_has_no_logs_and_other_managers_say_why() {
    let base = tempfile::tempdir().unwrap();
    let config = ComputeLogsConfig::Local {
        base_dir: base.path().to_path_buf(),
    };
    assert!(logs(read_run_logs(&config, RUN, &[]).unwrap()).is_empty());
    assert!(logs(read_run_logs(&config, "..", &[]).unwrap()).is_empty());
    let RunLogs::NotShown { reason } = read_run_logs(&ComputeLogsConfig::NoOp, RUN, &[]).unwrap()
    else {
        panic!("shown")
    };
    assert!(reason.contains("NoOpComputeLogManager"), "{reason}");
}

#[test]
fn long_output_gives_its_end_from_a_character() {
    let base = tempfile::tempdir().unwrap();
    // 'é' is two bytes: the cut falls inside one of them.
    let mut out = "é".repeat(MAX_SHOWN_BYTES as usize).into_bytes();
    out.extend_from_slice(b"x\xff\n");
    write(base.path(), "big", &out, None, true);
    let config = ComputeLogsConfig::Local {
        base_dir: base.path().to_path_buf(),
    };
    let got = logs(read_run_logs(&config, RUN, &[]).unwrap());
    assert!(got[0].truncated);
    assert!(got[0].stdout.starts_with('é'), "starts at a character");
    assert!(
        got[0].stdout.ends_with("x\u{fffd}\n"),
        "invalid bytes replaced"
    );
    assert!(got[0].stdout.len() as u64 <= MAX_SHOWN_BYTES + 2);
}
