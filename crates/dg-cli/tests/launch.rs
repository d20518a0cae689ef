//! `dg launch` end to end: the real binary, real `dagster` in the shared environment, a real
//! SQLite instance at the project or workspace root. Runs in a project (success, failure with the
//! user's traceback, config files, a second run reading the first's outputs), across a workspace
//! (one run per location, upstream first), usage errors, and Ctrl-C canceling a run.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use dg_test::python::{copy_dir, use_shared_python};
use dg_test::TestContext;

fn runs_fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../dg-runs/tests/fixtures/runs_project")
}

/// A test folder holding the runs fixture project, pointed at the shared environment.
fn project() -> (TestContext, PathBuf) {
    let ctx = TestContext::new();
    let root = ctx.path("runs_project");
    copy_dir(&runs_fixture(), &root);
    use_shared_python(&root);
    (ctx, root)
}

fn launch(ctx: &TestContext, dir: &Path, args: &[&str]) -> Output {
    ctx.dg()
        .arg("launch")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("dg runs")
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn launch_in_a_project_records_runs_that_share_outputs() {
    let (ctx, root) = project();
    let out = launch(&ctx, &root, &["--assets", "first,second"]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("first - STEP_START - Started execution of step \"first\"."));
    assert!(stderr.contains("second - ASSET_MATERIALIZATION - Materialized value second."));
    assert!(stderr.contains("succeeded"), "{stderr}");
    // The instance is Dagster's own layout in the home.
    assert!(root.join(".dagster/history/runs.db").is_file());
    assert!(root.join(".dagster/history/runs/index.db").is_file());
    assert!(!root.join(".dagster/storage/dg.db").exists());
    assert!(!stderr.contains("no longer read"), "{stderr}");

    // A previous dg's database is named once and left as it was.
    std::fs::create_dir_all(root.join(".dagster/storage")).unwrap();
    std::fs::write(root.join(".dagster/storage/dg.db"), b"an earlier dg").unwrap();
    let out = launch(&ctx, &root, &["--assets", "third"]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("LOG - INFO - third got 2"), "{stderr}");
    assert_eq!(stderr.matches("no longer read").count(), 1, "{stderr}");
    assert!(stderr.contains("warning: "), "{stderr}");
    assert_eq!(
        std::fs::read(root.join(".dagster/storage/dg.db")).unwrap(),
        b"an earlier dg"
    );
}

#[test]
fn a_failing_run_exits_1_with_the_users_traceback() {
    let (ctx, root) = project();
    let out = launch(&ctx, &root, &["--assets", "failing"]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("failed: ValueError: the failing asset failed on purpose"),
        "{stderr}"
    );
    assert!(stderr.contains("definitions.py\", line"), "{stderr}");
    assert!(stderr.contains("raise ValueError(\"the failing asset failed on purpose\")"));
    assert!(stderr.contains("error: materialization failed"), "{stderr}");
}

#[test]
fn config_files_prints_and_jobs() {
    let (ctx, root) = project();
    ctx.write(
        "a.yaml",
        "ops:\n  configured:\n    config:\n      name: first file\n      times: 2\n",
    );
    ctx.write(
        "b.yaml",
        "ops:\n  configured:\n    config:\n      name: cli\n",
    );
    let out = launch(
        &ctx,
        &root,
        &[
            "--assets",
            "configured",
            "-c",
            ctx.path("a.yaml").to_str().unwrap(),
            "--config",
            ctx.path("b.yaml").to_str().unwrap(),
        ],
    );
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(stderr.matches("INFO - hello cli").count(), 2, "{stderr}");

    // User code's prints go to stdout as printed; its stderr to stderr.
    let out = launch(&ctx, &root, &["--assets", "noisy"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stdout.contains("printed to stdout\n"), "{stdout}");
    assert!(stdout.contains("from a subprocess\n"), "{stdout}");
    assert!(stderr.contains("printed to stderr\n"), "{stderr}");

    let out = launch(&ctx, &root, &["--job", "chain_job"]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(
        stderr.matches("- ASSET_MATERIALIZATION - ").count(),
        3,
        "{stderr}"
    );

    let out = launch(&ctx, &root, &["--assets", "parted", "--partition", "x"]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("Materialized value parted (partition `x`)."));
}

#[test]
fn two_dg_launch_processes_share_one_instance() {
    let (ctx, root) = project();
    let spawn = |asset: &str| {
        ctx.dg()
            .args(["launch", "--assets", asset])
            .current_dir(&root)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn("first"), spawn("noisy"));
    for out in [a.wait_with_output().unwrap(), b.wait_with_output().unwrap()] {
        let (_, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(0), "{stderr}");
        assert!(stderr.contains("succeeded"), "{stderr}");
    }
}

#[test]
fn usage_errors_exit_2() {
    let (ctx, root) = project();
    let out = launch(&ctx, &root, &[]);
    assert_eq!(out.status.code(), Some(2));
    let out = launch(&ctx, &root, &["--assets", "a", "--job", "j"]);
    assert_eq!(out.status.code(), Some(2));
    let out = launch(
        &ctx,
        &root,
        &["--assets", "first", "--config-json", "{nope"],
    );
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr.contains("`--config-json` is not valid JSON"),
        "{stderr}"
    );
    let out = launch(
        &ctx,
        &root,
        &["--assets", "first", "--partition-range", "a..b"],
    );
    assert_eq!(out.status.code(), Some(2));
    let out = launch(&ctx, &root, &["--assets", "no_such_asset"]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("no_such_asset"), "{stderr}");
}

#[test]
fn a_workspace_selection_runs_once_per_location_upstream_first() {
    let ctx = TestContext::new();
    let ws = ctx.path("ws");
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/launch_fixtures/ws"),
        &ws,
    );
    for project in ["ws_up", "ws_down"] {
        use_shared_python(&ws.join("projects").join(project));
    }
    let out = launch(&ctx, &ws, &["--assets", "*down"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let up = stderr
        .find("Launching a run in code location `ws_up`")
        .expect(&stderr);
    let down = stderr
        .find("Launching a run in code location `ws_down`")
        .expect(&stderr);
    assert!(up < down, "{stderr}");
    // The downstream location read what the upstream one stored, through the shared instance.
    assert!(
        stdout.contains("up ran\n") && stdout.contains("down got 20\n"),
        "{stdout}"
    );
    assert_eq!(stderr.matches("succeeded in").count(), 2, "{stderr}");
    assert!(ws.join(".dagster/history/runs.db").is_file());
}

/// A key that two locations both define (as materializable) is ambiguous to launch: the command
/// names both locations and asks for `--location`, which runs that location's definition; keys
/// defined once run as before. (`dg check defs` only warns about the same workspace.)
#[test]
fn launching_a_key_defined_in_two_locations_asks_which() {
    let ctx = TestContext::new();
    let ws = ctx.path("ws");
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/launch_fixtures/ws"),
        &ws,
    );
    let dup = ws.join("projects/ws_dup");
    ctx.write(
        dup.join("pyproject.toml"),
        "[project]\nname = \"ws_dup\"\nversion = \"0.1.0\"\n\n[tool.dg]\ndirectory_type = \"project\"\n\n[tool.dg.project]\nroot_module = \"ws_dup\"\n",
    );
    ctx.write(dup.join("ws_dup/__init__.py"), "");
    ctx.write(
        dup.join("ws_dup/definitions.py"),
        "import dagster as dg\n\n\n@dg.asset\ndef up():\n    print(\"dup up ran\")\n    return 30\n\n\ndefs = dg.Definitions(assets=[up])\n",
    );
    let toml = std::fs::read_to_string(ws.join("dg.toml")).unwrap();
    std::fs::write(
        ws.join("dg.toml"),
        format!("{toml}\n[[workspace.projects]]\npath = \"projects/ws_dup\"\n"),
    )
    .unwrap();
    for project in ["ws_up", "ws_down", "ws_dup"] {
        use_shared_python(&ws.join("projects").join(project));
    }

    let checked = ctx
        .dg()
        .args(["check", "defs"])
        .current_dir(&ws)
        .output()
        .unwrap();
    assert_eq!(checked.status.code(), Some(0), "{}", text(&checked).1);

    for selection in ["up", "*down"] {
        let out = launch(&ctx, &ws, &["--assets", selection]);
        let (stdout, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains(
                "error: asset `up` is defined as executable in 2 code locations: `ws_dup`, \
                 `ws_up`; a run needs one\n\
                 hint: Choose where it runs with `--location ws_dup` or `--location ws_up`."
            ),
            "{stderr}"
        );
        assert!(!stdout.contains("up ran"), "nothing ran: {stdout}");
    }
    let out = launch(&ctx, &ws, &["--assets", "up", "--location", "ws_dup"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stdout.contains("dup up ran\n") && !stdout.contains("\nup ran"),
        "{stdout}"
    );
    assert!(stderr.contains("code location `ws_dup`"), "{stderr}");
    let out = launch(&ctx, &ws, &["--assets", "up", "--location", "ws_up"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stdout.starts_with("up ran\n"), "{stdout}");
    // Only `down` selected: nothing ambiguous (it reads what `ws_up` stored).
    let out = launch(&ctx, &ws, &["--assets", "down"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stdout.contains("down got 20\n"), "{stdout}");

    let out = launch(&ctx, &ws, &["--assets", "up", "--location", "nowhere"]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("error: no code location named `nowhere` here"),
        "{stderr}"
    );
    assert!(
        stderr.contains("hint: Code locations here: `ws_down`, `ws_dup`, `ws_up`."),
        "{stderr}"
    );
}

#[test]
fn ctrl_c_cancels_the_run_and_ends_its_processes() {
    let (ctx, root) = project();
    let pid_file = ctx.path("slow.pid");
    let config = format!(
        r#"{{"ops": {{"slow": {{"config": {{"pid_file": "{}"}}}}}}}}"#,
        pid_file.display()
    );
    let mut child = ctx
        .dg()
        .args(["launch", "--assets", "slow", "--config-json", &config])
        .current_dir(&root)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(300);
    let worker: i32 = loop {
        if let Some(pid) = std::fs::read_to_string(&pid_file)
            .ok()
            .and_then(|t| t.trim().parse().ok())
        {
            break pid;
        }
        assert!(Instant::now() < deadline, "the slow asset never started");
        assert!(child.try_wait().unwrap().is_none(), "dg exited early");
        std::thread::sleep(Duration::from_millis(50));
    };
    // What a terminal's Ctrl-C sends (to dg only: the worker leads its own process group).
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("RUN_CANCELED"), "{stderr}");
    assert!(stderr.contains("was canceled"), "{stderr}");
    assert!(!alive(worker), "the run worker {worker} survived");
}

fn alive(pid: i32) -> bool {
    let zombie = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| s.split(") ").nth(1).is_some_and(|r| r.starts_with('Z')))
        .unwrap_or(true);
    Path::new(&format!("/proc/{pid}")).exists() && !zombie
}
