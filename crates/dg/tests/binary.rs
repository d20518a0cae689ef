//! The `dg` binary itself answers `--version` and `--help`. Having an integration test here also
//! makes `cargo test` build `target/<profile>/dg`, which `dg-test` runs for every CLI test.

use std::process::Command;

fn dg(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_dg"))
        .args(args)
        .output()
        .expect("run dg");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn version_names_the_dagster_version() {
    let (ok, stdout) = dg(&["--version"]);
    assert!(ok);
    assert!(stdout.starts_with("dg "), "{stdout}");
    assert!(stdout.contains(dg_version_of_dagster().trim()), "{stdout}");
}

#[test]
fn help_lists_commands() {
    let (ok, stdout) = dg(&["--help"]);
    assert!(ok);
    assert!(stdout.contains("list"), "{stdout}");
    assert!(stdout.contains("check"), "{stdout}");
}

fn dg_version_of_dagster() -> &'static str {
    include_str!("../../../.dagster-version")
}
