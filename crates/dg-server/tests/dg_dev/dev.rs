//! A real `dg dev` process on a free port of 127.0.0.1 serving a demo-like workspace: its two
//! projects (`ingest` and `reports`, the assets of `scripts/demo-workspace.sh` with their
//! cross-project dependency), written with the server tests' fixture writer and loaded with the
//! shared environment's real `dagster`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use dg_test::TestContext;

use crate::common::write_project;

/// The demo's `ingest` project: two raw tables, a cleaned one built from them, and its check.
const INGEST: &str = r#"import dagster as dg


@dg.asset(group_name="raw", kinds={"python"})
def raw_orders(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    """Orders as they arrive from the shop, one row per order."""
    rows = [{"id": i, "customer": i % 3, "amount": 10.0 * i} for i in range(1, 11)]
    context.log.info(f"Loaded {len(rows)} orders")
    return dg.MaterializeResult(metadata={"rows": len(rows)})


@dg.asset(group_name="raw", kinds={"python"})
def raw_customers(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    """The customer list, one row per customer."""
    context.log.info("Loaded 3 customers")
    return dg.MaterializeResult(metadata={"rows": 3})


@dg.asset(deps=[raw_orders, raw_customers], group_name="clean", kinds={"python"})
def cleaned_orders(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    """Orders joined with their customers, without test orders."""
    context.log.info("Cleaned 9 orders")
    return dg.MaterializeResult(metadata={"rows": 9})


@dg.asset_check(asset=cleaned_orders)
def cleaned_orders_check() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=True)


defs = dg.Definitions(
    assets=[raw_orders, raw_customers, cleaned_orders], asset_checks=[cleaned_orders_check]
)
"#;

/// The demo's `reports` project: built from `ingest`'s assets by key, with a nightly schedule.
const REPORTS: &str = r#"import dagster as dg


@dg.asset(deps=["cleaned_orders"], group_name="reports", kinds={"python"})
def daily_revenue(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    """Revenue per day, from the cleaned orders of the `ingest` project."""
    context.log.info("Revenue: 550.0")
    return dg.MaterializeResult(metadata={"revenue": 550.0})


@dg.asset(deps=[daily_revenue, "raw_customers"], group_name="reports", kinds={"python"})
def customer_report(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    """Revenue per customer."""
    context.log.info("Report for 3 customers")
    return dg.MaterializeResult(metadata={"customers": 3})


@dg.schedule(cron_schedule="0 2 * * *", target=dg.AssetSelection.groups("reports"))
def nightly_reports(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    """Rebuilds the reports every night at 02:00."""
    return dg.RunRequest()


defs = dg.Definitions(assets=[daily_revenue, customer_report], schedules=[nightly_reports])
"#;

/// Writes the demo-like workspace under the test's folder; returns its root.
pub fn demo_workspace(ctx: &TestContext) -> PathBuf {
    let root = ctx.mkdir("demo");
    write_project(&root, "ingest", INGEST);
    write_project(&root, "reports", REPORTS);
    std::fs::write(
        root.join("dg.toml"),
        "directory_type = \"workspace\"\n\n[workspace]\n\n[[workspace.projects]]\npath = \"projects/ingest\"\n\n\
         [[workspace.projects]]\npath = \"projects/reports\"\n",
    )
    .unwrap();
    root
}

/// A running `dg dev`, its address, and its stderr lines as they come.
pub struct Dev {
    child: Child,
    /// `127.0.0.1:<port>`.
    pub addr: String,
    /// The port it listens on.
    pub port: u16,
    lines: mpsc::Receiver<String>,
    /// Every line read so far.
    pub seen: Vec<String>,
}

impl Dev {
    /// Starts `dg dev --port 0 <args>` in `dir` and waits until both locations are loaded.
    pub fn start(ctx: &TestContext, dir: &Path, args: &[&str]) -> Self {
        let mut child = ctx
            .dg()
            .args(["dev", "--port", "0"])
            .args(args)
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
            port: 0,
            lines,
            seen: Vec::new(),
        };
        let serving = dev.wait_line("Serving dg on http://");
        dev.addr = serving
            .split("http://")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap()
            .to_owned();
        assert!(dev.addr.starts_with("127.0.0.1:"), "{serving}");
        dev.port = dev.addr.rsplit(':').next().unwrap().parse().unwrap();
        let ready = dev.wait_line("code locations ready");
        assert!(ready.contains("(0 failed)"), "{}", dev.seen.join("\n"));
        dev
    }

    /// Reads stderr until a line contains `needle` (four minutes at most: loading imports dagster).
    pub fn wait_line(&mut self, needle: &str) -> String {
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

    /// One HTTP/1.1 request with `Host: host` (a POST as the server's own page sends it: same
    /// `Origin`, JSON body); returns the status code and body.
    pub fn request(&self, method: &str, path: &str, host: &str, body: &str) -> (u16, String) {
        let mut stream = TcpStream::connect(&self.addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(120)))
            .unwrap();
        let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
        if method == "POST" {
            head.push_str(&format!(
                "Origin: http://{host}\r\nSec-Fetch-Site: same-origin\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
                body.len()
            ));
        }
        write!(stream, "{head}\r\n{body}").unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        let status = response
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no status line: {response}"));
        let body = response
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_owned())
            .unwrap_or_default();
        (status, body)
    }

    /// `request` under the server's own address.
    pub fn call(&self, method: &str, path: &str, body: &str) -> (u16, String) {
        self.request(method, path, &self.addr, body)
    }

    /// Launches `body` and waits until the run succeeded; returns its id.
    pub fn run_to_success(&self, body: &str) -> String {
        let (status, text) = self.call("POST", "/api/runs", body);
        assert_eq!(status, 201, "{body}: {text}");
        let run: serde_json::Value = serde_json::from_str(&text).unwrap();
        let id = run["run_id"].as_str().unwrap().to_owned();
        let deadline = Instant::now() + Duration::from_secs(180);
        loop {
            let (_, text) = self.call("GET", &format!("/api/runs/{id}"), "");
            let run: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
            match run["status"].as_str() {
                Some("SUCCESS") => return id,
                Some("FAILURE" | "CANCELED") => panic!("run {id} of {body} failed: {run}"),
                _ => {}
            }
            assert!(Instant::now() < deadline, "run {id} did not finish: {run}");
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// SIGTERM; asserts that `dg dev` stops cleanly (exit 0) and returns everything it printed.
    pub fn stop(mut self) -> Vec<String> {
        let pid = self.child.id().to_string();
        let status = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap();
        assert!(status.success());
        self.wait_line("Stopped.");
        let exit = self.child.wait().unwrap();
        // The reader thread ends with the process: take what it read after `Stopped.`.
        self.seen.extend(self.lines.try_iter());
        assert_eq!(exit.code(), Some(0), "{}", self.seen.join("\n"));
        std::mem::take(&mut self.seen)
    }
}

impl Drop for Dev {
    fn drop(&mut self) {
        // A failed assertion must not leave the server (or its agents) running: SIGTERM lets it
        // end its children; SIGKILL only if it does not stop.
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = std::process::Command::new("kill")
                .args(["-TERM", &self.child.id().to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(30);
            while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}
