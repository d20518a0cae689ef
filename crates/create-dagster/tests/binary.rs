//! The `create-dagster` binary answers `--version` and `--help`. Having an integration test here
//! also makes `cargo test` build `target/<profile>/create-dagster`, which `dg-test` runs.

use std::process::Command;

#[test]
fn version_and_help() {
    let bin = env!("CARGO_BIN_EXE_create-dagster");
    let version = Command::new(bin).arg("--version").output().expect("run");
    assert!(version.status.success());
    let stdout = String::from_utf8_lossy(&version.stdout);
    assert!(stdout.starts_with("create-dagster "), "{stdout}");
    let help = Command::new(bin).arg("--help").output().expect("run");
    assert!(help.status.success());
    assert!(String::from_utf8_lossy(&help.stdout).contains("Usage"));
}
