//! Scaffolding against real Python: projects synced by real `uv` with real `dagster` (from the
//! shared uv cache, so only the first run downloads), their definitions imported and executed by
//! the project's own interpreter, and compatibility with the real Dagster tools in both directions
//! (installed once, pinned, into `$DG_TEST_CACHE_DIR`).

use std::path::Path;
use std::process::Command;

use dg_config::env;
use dg_test::{dg_snapshot, TestContext};

mod scaffold_common;
use scaffold_common::{real_dagster_bin, tree};

/// Loads `<package>.definitions` the way a code location does and prints what it holds, then
/// materializes every asset (running their checks) in process.
const LOAD_AND_RUN: &str = r#"
import importlib, sys
package = sys.argv[1]
defs = importlib.import_module(f"{package}.definitions").defs()
repo = defs.get_repository_def()
graph = defs.resolve_asset_graph()
print("assets:", sorted(k.to_user_string() for k in graph.get_all_asset_keys()))
print("checks:", sorted(f"{c.asset_key.to_user_string()}:{c.name}" for c in graph.asset_check_keys))
print("jobs:", sorted(j.name for j in repo.get_all_jobs() if not j.name.startswith("__")))
print("schedules:", sorted(s.name for s in repo.schedule_defs))
print("sensors:", sorted(s.name for s in repo.sensor_defs))
result = defs.get_implicit_global_asset_job_def().execute_in_process()
print("materialized:", result.success,
      sorted(e.asset_key.to_user_string() for e in result.get_asset_materialization_events()))
print("checks passed:", sorted(e.check_name for e in result.get_asset_check_evaluations() if e.passed))
print("job run:", defs.get_job_def("nightly").execute_in_process().success)
"#;

fn run_ok(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn scaffold(ctx: &TestContext, project: &Path, args: &[&str]) {
    run_ok(
        ctx.dg()
            .args(["scaffold", "defs"])
            .args(args)
            .current_dir(project),
    );
}

#[test]
fn synced_project_imports_and_runs_its_definitions() {
    let ctx = TestContext::new();
    run_ok(
        ctx.create_dagster()
            .args(["project", "synced", "--uv-sync"]),
    );
    let proj = ctx.path("synced");
    assert!(proj.join("uv.lock").is_file());
    let python = proj.join(".venv/bin/python");
    assert!(python.is_file());
    scaffold(&ctx, &proj, &["dagster.asset", "orders.py"]);
    scaffold(
        &ctx,
        &proj,
        &[
            "dagster.asset_check",
            "orders_check.py",
            "--asset-key",
            "orders",
        ],
    );
    scaffold(&ctx, &proj, &["dagster.multi_asset", "sales/pair.py"]);
    scaffold(&ctx, &proj, &["dagster.job", "nightly.py"]);
    scaffold(&ctx, &proj, &["dagster.schedule", "daily.py"]);
    scaffold(&ctx, &proj, &["dagster.sensor", "watch.py"]);
    scaffold(&ctx, &proj, &["dagster.resources", "resources.py"]);
    let out = run_ok(
        ctx.command(&python)
            .args(["-c", LOAD_AND_RUN, "synced"])
            .current_dir(&proj),
    );
    insta::assert_snapshot!(out, @"
    assets: ['orders', 'pair/first_asset', 'pair/second_asset']
    checks: ['orders:orders_check']
    jobs: ['nightly']
    schedules: ['daily']
    sensors: ['watch']
    materialized: True ['orders', 'pair/first_asset', 'pair/second_asset']
    checks passed: ['orders_check']
    job run: True
    ");
    // `dagster` really is the pinned version, installed by uv into the project's own environment.
    let version = run_ok(
        ctx.command(&python)
            .args(["-c", "import dagster; print(dagster.__version__)"]),
    );
    assert_eq!(version.trim(), dg_config::DAGSTER_VERSION);
}

#[test]
fn failed_sync_keeps_the_project_and_says_how_to_retry() {
    let ctx = TestContext::new().with_filter(r"uv-offline-cache", "[UV_CACHE]");
    // Offline with an empty cache: uv cannot find `dagster` anywhere, as when the index is down.
    let empty_cache = ctx.cache_dir.join("uv-offline-cache");
    let out = ctx
        .create_dagster()
        .args(["project", "offline"])
        .env(env::UV_OFFLINE, "1")
        .env(env::UV_CACHE_DIR, &empty_cache)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    // uv's own lines (its version's wording) come in between; ours are the ones that matter here.
    let stderr = String::from_utf8_lossy(&out.stderr);
    let ours: Vec<&str> = stderr
        .lines()
        .filter(|l| {
            [
                "Created",
                "Running `uv sync`",
                "error: `",
                "  Caused by: project",
                "hint: The files",
            ]
            .iter()
            .any(|p| l.starts_with(p))
        })
        .collect();
    insta::assert_snapshot!(ctx.filter(&ours.join("\n")), @"
    Created the Dagster project `offline` at `offline` (Python package `offline`).
    Running `uv sync` in `offline`...
    error: `offline` was created at `offline`, but `uv sync` failed
      Caused by: project `offline`: `uv sync` failed in `[TEMP]/work/offline` (exit status: 1)
    hint: The files are in place. Fix the cause above (is the package index reachable?), then run `uv sync` in `offline`; dg also syncs it when a command first needs the environment.
    ");
    insta::assert_snapshot!(tree(&ctx.path("offline")), @"
    .gitignore
    README.md
    pyproject.toml
    src/offline/__init__.py
    src/offline/definitions.py
    src/offline/defs/__init__.py
    tests/__init__.py
    ");
}

#[test]
fn real_dagster_accepts_our_workspace() {
    let real = real_dagster_bin();
    let ctx = TestContext::new();
    run_ok(
        ctx.create_dagster()
            .args(["workspace", "ws", "--no-uv-sync"]),
    );
    let ws = ctx.path("ws");
    for (project, asset, upstream) in [
        ("sales", "orders", None),
        ("finance", "revenue", Some("orders")),
    ] {
        run_ok(
            ctx.create_dagster()
                .args(["project", &format!("projects/{project}"), "--uv-sync"])
                .current_dir(&ws),
        );
        let proj = ws.join("projects").join(project);
        scaffold(&ctx, &proj, &["dagster.asset", &format!("{asset}.py")]);
        if let Some(up) = upstream {
            // A dependency across projects, by asset key.
            let file = proj.join(format!("src/{project}/defs/{asset}.py"));
            let text = std::fs::read_to_string(&file)
                .unwrap()
                .replace("@dg.asset\n", &format!("@dg.asset(deps=[\"{up}\"])\n"));
            std::fs::write(&file, text).unwrap();
        }
    }
    let list = run_ok(
        ctx.command(real.join("dg"))
            .args(["list", "projects"])
            .current_dir(&ws),
    );
    insta::assert_snapshot!(list, @"
    projects/sales
    projects/finance
    ");
    let check = ctx
        .command(real.join("dg"))
        .args(["check", "defs"])
        .current_dir(&ws)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "real `dg check defs` rejected our workspace:\n{}\n{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
    // And ours agrees with theirs.
    dg_snapshot!(ctx, ctx.dg().args(["list", "projects"]).current_dir(&ws), @"
    success: true
    exit_code: 0
    ----- stdout -----
    projects/sales
    projects/finance

    ----- stderr -----
    ");
}

#[test]
fn our_dg_accepts_a_workspace_of_real_create_dagster() {
    let real = real_dagster_bin();
    let ctx = TestContext::new();
    run_ok(
        ctx.command(real.join("create-dagster"))
            .args(["workspace", "theirs", "--no-uv-sync"]),
    );
    let ws = ctx.path("theirs");
    for project in ["projects/alpha", "projects/beta-two"] {
        run_ok(
            ctx.command(real.join("create-dagster"))
                .args(["project", project, "--no-uv-sync"])
                .current_dir(&ws),
        );
    }
    dg_snapshot!(ctx, ctx.dg().args(["list", "projects"]).current_dir(&ws), @"
    success: true
    exit_code: 0
    ----- stdout -----
    projects/alpha
    projects/beta-two

    ----- stderr -----
    ");
    // Our scaffolding works inside their projects too.
    dg_snapshot!(ctx, ctx.dg().args(["scaffold", "defs", "dagster.asset", "first.py"]).current_dir(ws.join("projects/beta-two")), @"
    success: true
    exit_code: 0
    ----- stdout -----

    ----- stderr -----
    Created `src/beta_two/defs/first.py` with a `dagster.asset` named `first` in project `beta-two`.
    ");
}

#[test]
fn ctrl_c_during_uv_sync_ends_uv_and_keeps_the_project() {
    use std::os::unix::process::CommandExt;
    let ctx = TestContext::new();
    // `uv sync` waits on this index until the test presses Ctrl-C.
    let index = dg_test::procs::SilentIndex::new();
    let child = ctx
        .create_dagster()
        .args(["project", "slow-index", "--uv-sync"])
        .env(env::UV_DEFAULT_INDEX, &index.url)
        .env(env::UV_CACHE_DIR, ctx.cache_dir.join("empty-uv-cache"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        // Its own process group, as a terminal's foreground job: Ctrl-C goes to the whole group.
        .process_group(0)
        .spawn()
        .unwrap();
    // Before: create-dagster died at once and uv went on syncing in the background (parent pid 1).
    let out = index.interrupt_and_check(child, "create-dagster");
    assert_eq!(out.status.code(), Some(130));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let ours: Vec<&str> = stderr
        .lines()
        .filter(|l| {
            ["error: `", "  Caused by: `uv", "hint: "]
                .iter()
                .any(|p| l.starts_with(p))
        })
        .collect();
    insta::assert_snapshot!(ctx.filter(&ours.join("\n")), @"
    error: `slow-index` was created at `slow-index`, but `uv sync` was interrupted
      Caused by: `uv sync` ended by signal: 2 (SIGINT)
    hint: The files are in place. Run `uv sync` in `slow-index` to finish; dg also syncs it when a command first needs the environment.
    ");
    assert!(ctx.path("slow-index/pyproject.toml").is_file());
}
