//! The two servers the instance tests talk to, as real processes on 127.0.0.1: real
//! `dagster-webserver` (its GraphQL) and our `dg dev` (its JSON API and pages), each on the test's
//! home and stopped (its whole process group) when dropped. And a small HTTP/1.0 client.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::support::Instance;

/// One HTTP/1.0 request (so no chunked bodies); returns the status and the body.
pub fn http(addr: &str, method: &str, path: &str, body: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect to {addr}: {e}"));
    stream
        .set_read_timeout(Some(Duration::from_secs(300)))
        .unwrap();
    write!(
        stream,
        "{method} {path} HTTP/1.0\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let response = String::from_utf8_lossy(&response);
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// A free port on 127.0.0.1 (bound, read and released).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// Ends a server's process group (the server and what it started).
fn stop_group(child: &mut Child) {
    let _ = std::process::Command::new("kill")
        .args(["-TERM", "--", &format!("-{}", child.id())])
        .status();
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = std::process::Command::new("kill")
        .args(["-KILL", "--", &format!("-{}", child.id())])
        .status();
    let _ = child.wait();
}

/// Real `dagster-webserver` on the instance's home, serving the fixture project.
pub struct Webserver {
    child: Child,
    pub addr: String,
}

impl Webserver {
    /// Starts it and waits (at most 3 minutes) until `/server_info` answers.
    pub fn start(instance: &Instance) -> Self {
        let port = free_port();
        let log = std::fs::File::create(instance.ctx.path("webserver.log")).unwrap();
        let child = instance
            .python()
            .args(["-m", "dagster_webserver", "-h", "127.0.0.1", "-p"])
            .arg(port.to_string())
            .args(["-m", "inst_project.definitions"])
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .process_group(0)
            .spawn()
            .expect("dagster-webserver starts");
        let server = Self {
            child,
            addr: format!("127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(180);
        loop {
            if TcpStream::connect(&server.addr).is_ok()
                && http(&server.addr, "GET", "/server_info", "").0 == 200
            {
                return server;
            }
            assert!(
                Instant::now() < deadline,
                "dagster-webserver did not answer; its log:\n{}",
                instance.ctx.read("webserver.log")
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// A GraphQL query; returns its `data` (panics on errors).
    pub fn graphql(&self, query: &str) -> serde_json::Value {
        let body = serde_json::json!({ "query": query }).to_string();
        let (status, text) = http(&self.addr, "POST", "/graphql", &body);
        let answer: serde_json::Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("GraphQL answered {status} with no JSON ({e}): {text}"));
        assert!(
            status == 200 && answer.get("errors").is_none(),
            "GraphQL {status}: {answer}"
        );
        answer["data"].clone()
    }
}

impl Drop for Webserver {
    fn drop(&mut self) {
        stop_group(&mut self.child);
    }
}

/// Our `dg dev` on the instance's home, in the fixture project.
pub struct DgDev {
    child: Child,
    pub addr: String,
    lines: mpsc::Receiver<String>,
    pub seen: Vec<String>,
}

impl DgDev {
    /// Starts `dg dev --port 0` and waits until the project's location is loaded.
    pub fn start(instance: &Instance) -> Self {
        let mut child = instance
            .dg()
            .args(["dev", "--port", "0"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .process_group(0)
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
            .and_then(|s| s.split_whitespace().next())
            .unwrap_or_default()
            .trim_end_matches('/')
            .to_owned();
        dev.wait_line("ready");
        dev
    }

    /// Waits (at most 4 minutes) for a line of its stderr holding `needle`.
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

    /// `GET path`; panics unless 200. Returns the body.
    pub fn get(&self, path: &str) -> String {
        let (status, body) = http(&self.addr, "GET", path, "");
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }

    /// `GET path` as JSON; panics unless 200.
    pub fn get_json(&self, path: &str) -> serde_json::Value {
        let body = self.get(path);
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {path}: not JSON ({e}): {body}"))
    }
}

impl Drop for DgDev {
    fn drop(&mut self) {
        stop_group(&mut self.child);
    }
}
