//! Ctrl-C on the host ends its children: the test re-runs its own binary as a "host" that installs
//! signal forwarding and starts a child in its own process group, then interrupts the host.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use dg_core::env as vars;
use dg_python::process::{install_signal_forwarding, ChildSpec, ManagedChild};

/// The host half, run (as an ignored test) only by `sigint_on_the_host_ends_its_children`.
#[test]
#[ignore = "helper process of sigint_on_the_host_ends_its_children"]
fn host_mode() {
    let pid_file = std::env::var_os(vars::DG_TEST_SIGNAL_HOST).expect("run by the signal test");
    install_signal_forwarding(Duration::from_secs(2)).unwrap();
    let mut cmd = Command::new("sleep");
    cmd.arg("300");
    let child = ManagedChild::spawn(ChildSpec::new(cmd)).unwrap();
    std::fs::write(&pid_file, child.id().to_string()).unwrap();
    std::thread::sleep(Duration::from_secs(120));
    panic!("the host was not interrupted");
}

#[test]
fn sigint_on_the_host_ends_its_children() {
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("child.pid");
    let mut host = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "host_mode", "--ignored", "--nocapture"])
        .env(vars::DG_TEST_SIGNAL_HOST, &pid_file)
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let child_pid: i32 = loop {
        if let Ok(text) = std::fs::read_to_string(&pid_file) {
            if let Ok(pid) = text.trim().parse() {
                break pid;
            }
        }
        assert!(
            Instant::now() < deadline,
            "the host never started its child"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(alive(child_pid));
    // SAFETY: sending a signal to a process we started.
    #[allow(unsafe_code)]
    unsafe {
        libc::kill(host.id() as i32, libc::SIGINT);
    }
    let status = host.wait().unwrap();
    assert_eq!(status.code(), Some(128 + libc::SIGINT), "{status}");
    let gone = (0..500).any(|_| {
        std::thread::sleep(Duration::from_millis(10));
        !alive(child_pid)
    });
    assert!(gone, "child {child_pid} outlived its host");
}

fn alive(pid: i32) -> bool {
    let stat = format!("/proc/{pid}/stat");
    Path::new(&stat).exists()
        && !std::fs::read_to_string(&stat)
            .map(|s| s.split(") ").nth(1).is_some_and(|r| r.starts_with('Z')))
            .unwrap_or(true)
}
