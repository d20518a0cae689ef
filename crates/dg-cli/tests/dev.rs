//! `dg dev` as a real process on a free port, serving a two-project workspace with real `dagster`:
//! it prints its address, loads both locations, serves a run, and on SIGTERM or SIGINT stops,
//! cancels the run still going and leaves no child process behind (agents and run workers). Ctrl-C
//! also ends what is still starting: a `uv sync` waiting on the network, an agent importing code.
//! Runs an earlier host left running are marked failed when `dg dev` starts.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use dg_test::procs::{alive, descendants, interrupt_group, SilentIndex};
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
        let mut dev = Self::spawn(ctx, dir, &[]);
        dev.wait_line("All 2 code locations ready");
        dev
    }

    /// Starts `dg dev` in `dir` (its own process group, as a terminal's foreground job) with
    /// `envs`, and waits until it serves.
    fn spawn(ctx: &TestContext, dir: &Path, envs: &[(&str, &std::ffi::OsStr)]) -> Self {
        use std::os::unix::process::CommandExt;
        let mut command = ctx.dg();
        command
            .args(["dev", "--port", "0"])
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .process_group(0);
        for (key, value) in envs {
            command.env(key, value);
        }
        let mut child = command.spawn().expect("dg runs");
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
        dev
    }

    /// Presses Ctrl-C (on the whole group, as a terminal does) and checks that `dg dev` stops
    /// cleanly (exit 0, as `dagster dev` once it serves) and that no process in `seen` is left.
    fn interrupt_and_check(mut self, seen: &Seen) {
        interrupt_group(self.child.id());
        self.wait_line("Stopped.");
        let exit = self.child.wait().unwrap();
        assert_eq!(exit.code(), Some(0), "{}", self.seen.join("\n"));
        let deadline = Instant::now() + Duration::from_secs(30);
        while !seen.survivors().is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
        }
        let left = seen.survivors();
        assert!(
            left.is_empty(),
            "processes left after Ctrl-C: {left:?}\n{}",
            self.seen.join("\n")
        );
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

/// Processes seen under `dg dev`, each with its start time: a pid reused by an unrelated process
/// later is not taken for a survivor.
#[derive(Default)]
struct Seen(std::collections::BTreeMap<u32, String>);

impl Seen {
    /// Adds every current descendant of `root`.
    fn record(&mut self, root: u32) {
        for pid in descendants(root) {
            if let Some(start) = start_time(pid) {
                self.0.entry(pid).or_insert(start);
            }
        }
    }

    /// Those still running.
    fn survivors(&self) -> Vec<u32> {
        self.0
            .iter()
            .filter(|(pid, start)| alive(**pid) && start_time(**pid).as_ref() == Some(start))
            .map(|(pid, _)| *pid)
            .collect()
    }
}

/// Field 22 of `/proc/<pid>/stat` (start time), counted after the command name.
fn start_time(pid: u32) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = stat.rsplit_once(')')?;
    rest.split_whitespace().nth(19).map(str::to_owned)
}

/// A project that needs `uv sync` (no `.env` pointing at the shared environment), against an index
/// that never answers: uv waits until the test presses Ctrl-C.
#[test]
fn ctrl_c_while_uv_syncs_leaves_no_process() {
    use dg_config::env;
    let ctx = TestContext::new();
    let root = ctx.mkdir("needs_sync");
    std::fs::create_dir_all(root.join("needs_sync")).unwrap();
    std::fs::write(root.join("needs_sync/__init__.py"), "").unwrap();
    std::fs::write(
        root.join("needs_sync/definitions.py"),
        "import dagster as dg\n\ndefs = dg.Definitions()\n",
    )
    .unwrap();
    std::fs::write(
        root.join("pyproject.toml"),
        "[project]\nname = \"needs_sync\"\nversion = \"0.1.0\"\nrequires-python = \">=3.10\"\n\
         dependencies = [\"dagster\"]\n\n[tool.dg]\ndirectory_type = \"project\"\n\n\
         [tool.dg.project]\nroot_module = \"needs_sync\"\n",
    )
    .unwrap();
    let index = SilentIndex::new();
    let cache = ctx.cache_dir.join("empty-uv-cache");
    let dev = Dev::spawn(
        &ctx,
        &root,
        &[
            (env::UV_DEFAULT_INDEX, index.url.as_ref()),
            (env::UV_CACHE_DIR, cache.as_os_str()),
        ],
    );
    // uv is waiting on the index now.
    let _held = index.accept();
    let mut seen = Seen::default();
    seen.record(dev.child.id());
    assert!(!seen.0.is_empty(), "uv runs under dg dev");
    dev.interrupt_and_check(&seen);
}

/// Ctrl-C while a location's agent imports code that takes minutes (the first load): the agent is
/// ended too, not left to finish on its own. Also: a run an earlier host left `STARTED` (its
/// worker is gone) is marked failed as soon as `dg dev` starts.
#[test]
fn ctrl_c_while_code_imports_leaves_no_process_and_orphans_are_failed() {
    let ctx = TestContext::new();
    let root = ctx.mkdir("hangs");
    std::fs::create_dir_all(root.join("hangs")).unwrap();
    std::fs::write(root.join("hangs/__init__.py"), "").unwrap();
    let marker = root.join("importing");
    std::fs::write(
        root.join("hangs/definitions.py"),
        format!(
            "import time\n\nimport dagster as dg\n\nopen({:?}, 'w').close()\ntime.sleep(300)\n\
             defs = dg.Definitions()\n",
            marker.display().to_string()
        ),
    )
    .unwrap();
    std::fs::write(
        root.join("pyproject.toml"),
        "[project]\nname = \"hangs\"\nversion = \"0.1.0\"\ndependencies = [\"dagster\"]\n\n\
         [tool.dg]\ndirectory_type = \"project\"\n\n[tool.dg.project]\nroot_module = \"hangs\"\n",
    )
    .unwrap();
    use_shared_python(&root);
    let orphan = left_running(&root.join(".dagster"));

    let dev = Dev::spawn(&ctx, &root, &[]);
    let deadline = Instant::now() + Duration::from_secs(120);
    while dev.run_status(&orphan) != "FAILURE" {
        assert!(
            Instant::now() < deadline,
            "the orphaned run is {}",
            dev.run_status(&orphan)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let deadline = Instant::now() + Duration::from_secs(240);
    while !marker.exists() {
        assert!(Instant::now() < deadline, "the import never started");
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut seen = Seen::default();
    seen.record(dev.child.id());
    assert!(!seen.0.is_empty(), "the agent runs under dg dev");
    let (_, body) = dev.http("GET", "/api/locations", "");
    assert!(body.contains("\"status\":\"loading\""), "{body}");
    dev.interrupt_and_check(&seen);
}

/// Stores a run in `STARTED` whose worker (on this host) is gone, as a host killed hard leaves it.
fn left_running(home: &Path) -> String {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let config = dg_storage::InstanceConfig::load(home).unwrap();
        let storage = dg_storage::open(&config).await.unwrap();
        let mut gone = std::process::Command::new("true").spawn().unwrap();
        let pid = gone.id();
        gone.wait().unwrap();
        let run_id = dg_storage::new_run_id();
        let now = dg_storage::now();
        storage
            .create_run(&dg_storage::NewRun {
                run_id: run_id.clone(),
                location: "hangs".into(),
                job_name: "__ASSET_JOB".into(),
                selection: None,
                partition: None,
                config: serde_json::json!({}),
                tags: Default::default(),
                status: dg_storage::RunStatus::NotStarted,
                created_at: now,
            })
            .await
            .unwrap();
        storage
            .set_run_status(&run_id, dg_storage::RunStatus::Started, now)
            .await
            .unwrap();
        let worker = dg_storage::Worker {
            pid,
            hostname: dg_storage::this_host(),
        };
        storage
            .record_heartbeat(&run_id, &worker, now)
            .await
            .unwrap();
        run_id
    })
}
