//! The test context itself: isolation of the environment, filters, and running the real `dg`.

use dg_test::{dg_snapshot, TestContext};

#[test]
fn commands_get_an_isolated_home_and_no_colour() {
    let ctx = TestContext::new();
    dg_snapshot!(ctx, ctx.command("sh").args(["-c", "echo \"$HOME|$XDG_CONFIG_HOME|$XDG_CACHE_HOME|$NO_COLOR|$PWD\"; echo oops >&2; exit 3"]), @r"
    success: false
    exit_code: 3
    ----- stdout -----
    [TEMP]/home|[TEMP]/home/.config|[TEMP]/cache|1|[TEMP]/work

    ----- stderr -----
    oops
    ");
}

#[test]
fn write_creates_folders_and_paths_are_filtered() {
    let ctx = TestContext::new();
    let file = ctx.write("a/b/c.txt", "hello");
    assert_eq!(ctx.read("a/b/c.txt"), "hello");
    assert_eq!(
        ctx.filter(&file.display().to_string()),
        "[TEMP]/work/a/b/c.txt"
    );
    let user = ctx.write_user_config("[cli]\nverbose = true\n");
    assert_eq!(
        ctx.filter(&user.display().to_string()),
        "[TEMP]/home/.config/dg.toml"
    );
}

#[test]
fn optional_filters() {
    let ctx = TestContext::new()
        .with_filtered_durations()
        .with_filtered_ports()
        .with_filtered_run_ids()
        .with_filter(r"secret-\d+", "[SECRET]");
    let text = "run 0f8fad5b-d9cb-469f-a165-70867728950e took 1.25s on 127.0.0.1:34567 (secret-42)";
    assert_eq!(
        ctx.filter(text),
        "run [RUN_ID] took [TIME] on 127.0.0.1:[PORT] ([SECRET])"
    );
}

#[test]
fn runs_the_real_dg_binary() {
    let ctx = TestContext::new().with_filter(r"dg \d+\.\d+\.\d+", "dg [VERSION]");
    dg_snapshot!(ctx, ctx.dg().arg("--version"), @r"
    success: true
    exit_code: 0
    ----- stdout -----
    dg [VERSION] (for dagster 1.13.27)

    ----- stderr -----
    ");
}
