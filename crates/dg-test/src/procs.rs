//! Processes seen through `/proc` (Linux): what a command under test started, and whether those
//! processes are still running, so tests can prove that nothing is left behind after Ctrl-C.

use std::collections::{BTreeSet, HashMap};

/// Every live process whose parent chain leads to `root`.
pub fn descendants(root: u32) -> BTreeSet<u32> {
    let mut parents = HashMap::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return BTreeSet::new();
    };
    for entry in entries.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        if let Some(ppid) = stat_field(pid, 1).and_then(|p| p.parse::<u32>().ok()) {
            parents.insert(pid, ppid);
        }
    }
    parents
        .keys()
        .copied()
        .filter(|&pid| {
            let mut at = pid;
            // A bounded walk: pid reuse cannot make it loop.
            for _ in 0..64 {
                match parents.get(&at) {
                    Some(&p) if p == root => return true,
                    Some(&p) if p > 1 => at = p,
                    _ => return false,
                }
            }
            false
        })
        .collect()
}

/// Whether `pid` is a running process (a zombie waiting for its parent counts as ended).
pub fn alive(pid: u32) -> bool {
    stat_field(pid, 0).is_some_and(|state| state != "Z" && state != "X")
}

/// Field `n` after the command name of `/proc/<pid>/stat` (0: state, 1: parent pid). The name
/// may hold spaces and parentheses, so fields are counted after its last `)`.
fn stat_field(pid: u32, n: usize) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = stat.rsplit_once(')')?;
    rest.split_whitespace().nth(n).map(str::to_owned)
}

/// A package index that accepts connections and never answers: a `uv sync` against it waits
/// until the test interrupts it, and its accepted connection says that uv is running (no sleeps).
pub struct SilentIndex {
    listener: std::net::TcpListener,
    /// The index URL, for `UV_DEFAULT_INDEX`.
    pub url: String,
}

impl SilentIndex {
    /// Listens on a free local port.
    pub fn new() -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a local port");
        let url = format!(
            "http://{}/simple",
            listener.local_addr().expect("local address")
        );
        Self { listener, url }
    }

    /// Waits for the first client and keeps its connection (hold it until the test ends).
    pub fn accept(&self) -> std::net::TcpStream {
        self.listener.accept().expect("a client connects").0
    }
}

impl SilentIndex {
    /// The Ctrl-C check shared by the sync tests: waits until `child` (spawned with
    /// `process_group(0)` and this index as `UV_DEFAULT_INDEX`) has uv waiting on the index,
    /// presses Ctrl-C on its process group, and asserts that none of the processes it had started
    /// is left. Returns the child's output for the caller's own assertions.
    pub fn interrupt_and_check(
        &self,
        child: std::process::Child,
        who: &str,
    ) -> std::process::Output {
        let _held = self.accept();
        let started = descendants(child.id());
        assert!(!started.is_empty(), "uv runs under {who}");
        interrupt_group(child.id());
        let out = child
            .wait_with_output()
            .expect("wait for the interrupted command");
        let left: Vec<u32> = started.into_iter().filter(|&p| alive(p)).collect();
        assert!(left.is_empty(), "processes left after Ctrl-C: {left:?}");
        out
    }
}

impl Default for SilentIndex {
    fn default() -> Self {
        Self::new()
    }
}

/// Sends `SIGINT` to the process group led by `pid`, as a terminal's Ctrl-C does to its
/// foreground job (spawn the command with `process_group(0)`).
pub fn interrupt_group(pid: u32) {
    let status = std::process::Command::new("kill")
        .args(["-INT", "--", &format!("-{pid}")])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -INT -{pid} failed");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_child_is_a_descendant_until_it_ends() {
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let me = std::process::id();
        assert!(descendants(me).contains(&child.id()));
        assert!(alive(child.id()));
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(!alive(child.id()));
    }
}
