//! `dg dev` as a real process on a free port, serving a two-project workspace with real `dagster`:
//! it prints its address, loads both locations, serves a run, and on SIGTERM or SIGINT stops,
//! cancels the run still going and leaves no child process behind (agents and run workers).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use dg_test::procs::{alive, descendants};
use dg_test::python::use_shared_python;
use dg_test::TestContext;

const ALPHA: &str = "import time\n\nimport dagster as dg\n\n\n@dg.asset\ndef quick():\n    return dg.MaterializeResult()\n\n\n\
@dg.asset\ndef slow():\n    time.sleep(300)\n    return dg.MaterializeResult()\n\n\ndefs = dg.Definitions(assets=[quick, slow])\n";
const BETA: &str = "import dagster as dg\n\n\n@dg.asset(deps=[dg.AssetKey(\"quick\")])\ndef report():\n    return dg.MaterializeResult()\n\n\ndefs = dg.Definitions(assets=[report])\n";

fn workspace(ctx: &TestContext) -> std::path::PathBuf {
    let root = ctx.mkdir("ws");
    for (name, defs) in [("alpha", ALPHA), ("beta", BETA)] {
        let project = root.join("projects").join(name);
        std::fs::create_dir_all(project.join(name)).unwrap();
        std::fs::write(
            project.join("pyproject.toml"),
            format!("[project]\nname = \"{name}\"\nversion = \"0.1.0\"\ndependencies = [\"dagster\"]\n\n[tool.dg]\ndirectory_type = \"project\"\n\n[tool.dg.project]\nroot_module = \"{name}\"\n"),
        )
        .unwrap();
        std::fs::write(project.join(name).join("__init__.py"), "").unwrap();
        std::fs::write(project.join(name).join("definitions.py"), defs).unwrap();
        use_shared_python(&project);
    }
    std::fs::write(
        root.join("dg.toml"),
        "directory_type = \"workspace\"\n\n[workspace]\n\n[[workspace.projects]]\npath = \"projects/alpha\"\n\n[[workspace.projects]]\npath = \"projects/beta\"\n",
    )
    .unwrap();
    root
}

/// A running `dg dev` with its address, and its stderr lines as they come.
struct Dev {
    child: Child,
    addr: String,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Dev {
    fn start(ctx: &TestContext, dir: &Path) -> Self {
        let mut child = ctx
            .dg()
            .args(["dev", "--port", "0"])
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("dg runs");
        let stderr = child.stderr.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut dev = Self {
            child,
            addr: String::new(),
            lines,
            seen: Vec::new(),
        };
        let serving = dev.wait_line("Serving dg on http://");
        dev.addr = serving
            .split("http://")
            .nth(1)
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap()
            .to_owned();
        assert!(
            dev.addr.starts_with("127.0.0.1:"),
            "binds 127.0.0.1 by default: {serving}"
        );
        dev.wait_line("All 2 code locations ready");
        dev
    }

    fn wait_line(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(240);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(needle) {
                        return line;
                    }
                }
                Err(_) => panic!(
                    "no `{needle}` from dg dev; it said:\n{}",
                    self.seen.join("\n")
                ),
            }
        }
    }

    /// One HTTP request; returns the status code and body.
    fn http(&self, method: &str, path: &str, body: &str) -> (u16, String) {
        let mut stream = TcpStream::connect(&self.addr).unwrap();
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.addr,
            body.len()
        )
        .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        let status = response.split_whitespace().nth(1).unwrap().parse().unwrap();
        let body = response
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_owned())
            .unwrap_or_default();
        (status, body)
    }

    fn run_status(&self, id: &str) -> String {
        let (_, body) = self.http("GET", &format!("/api/runs/{id}"), "");
        let run: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
        run["status"].as_str().unwrap_or_default().to_owned()
    }
}

fn stop_and_check(signal: &str) {
    let ctx = TestContext::new();
    let root = workspace(&ctx);
    let mut dev = Dev::start(&ctx, &root);
    let (status, body) = dev.http("GET", "/api/locations", "");
    assert_eq!(status, 200);
    assert_eq!(body.matches("\"status\":\"loaded\"").count(), 2, "{body}");

    let (status, body) = dev.http("POST", "/api/runs", r#"{"selection":"quick"}"#);
    assert_eq!(status, 201, "{body}");
    let quick: serde_json::Value = serde_json::from_str(&body).unwrap();
    let quick = quick["run_id"].as_str().unwrap().to_owned();
    let (status, body) = dev.http("POST", "/api/runs", r#"{"selection":"slow"}"#);
    assert_eq!(status, 201, "{body}");
    let slow: serde_json::Value = serde_json::from_str(&body).unwrap();
    let slow = slow["run_id"].as_str().unwrap().to_owned();
    let deadline = Instant::now() + Duration::from_secs(120);
    while dev.run_status(&slow) != "STARTED" || dev.run_status(&quick) != "SUCCESS" {
        assert!(
            Instant::now() < deadline,
            "runs did not start: {} {}",
            dev.run_status(&slow),
            dev.run_status(&quick)
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    let pid = dev.child.id();
    let children = descendants(pid);
    // Two warm agents and the worker forked for the slow run.
    assert!(
        children.len() >= 3,
        "expected agents and a run worker under dg dev: {children:?}"
    );
    let status = std::process::Command::new("kill")
        .args([signal, &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    dev.wait_line("Stopped.");
    let exit = dev.child.wait().unwrap();
    assert_eq!(exit.code(), Some(0), "{}", dev.seen.join("\n"));

    // Killed processes disappear once the kernel has delivered the signals; wait for that.
    let deadline = Instant::now() + Duration::from_secs(30);
    while children.iter().any(|&p| alive(p)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let left: Vec<u32> = children.iter().copied().filter(|&p| alive(p)).collect();
    assert!(
        left.is_empty(),
        "processes left behind after {signal}: {left:?}"
    );

    // The run that was going was canceled and recorded as such.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let status = runtime.block_on(async {
        let config = dg_storage::InstanceConfig::load(&root.join(".dagster")).unwrap();
        let storage = dg_storage::open(&config).await.unwrap();
        storage.get_run(&slow).await.unwrap().unwrap().status
    });
    assert_eq!(status, dg_storage::RunStatus::Canceled);
}

#[test]
fn sigterm_stops_dg_dev_and_leaves_no_process() {
    stop_and_check("-TERM");
}

#[test]
fn ctrl_c_stops_dg_dev_and_leaves_no_process() {
    stop_and_check("-INT");
}
