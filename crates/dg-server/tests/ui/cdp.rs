//! A minimal Chrome DevTools Protocol client for the UI tests: starts Debian's headless Chromium
//! with a fresh profile and no network services, attaches to one page, and evaluates JavaScript.
//! Synchronous (tungstenite), since a test drives one page step by step.

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

/// A headless Chromium with one page attached.
pub struct Browser {
    child: Child,
    socket: WebSocket<MaybeTlsStream<TcpStream>>,
    session: String,
    next_id: u64,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts Chromium (`$DG_TEST_CHROMIUM`, default `chromium`) and opens a blank page.
    pub fn start() -> Self {
        let mut chromium = dg_test::chromium::HeadlessChromium::new(1280, 900);
        let mut child = chromium
            .command
            .arg("--remote-debugging-port=0")
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| chromium.start_failed(e));
        let stderr = child.stderr.take().unwrap();
        let mut lines = BufReader::new(stderr).lines();
        let url = loop {
            let line = lines
                .next()
                .expect("Chromium exited before printing its DevTools address")
                .unwrap();
            if let Some(url) = line.split("DevTools listening on ").nth(1) {
                break url.trim().to_owned();
            }
        };
        // Keep draining stderr so Chromium never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        let (socket, _) = tungstenite::connect(url.as_str()).expect("connect to DevTools");
        let mut browser = Self {
            child,
            socket,
            session: String::new(),
            next_id: 1,
            _profile: chromium.profile,
        };
        let target = browser.command("Target.createTarget", json!({"url": "about:blank"}));
        let target_id = target["targetId"].as_str().unwrap().to_owned();
        let attached = browser.command(
            "Target.attachToTarget",
            json!({"targetId": target_id, "flatten": true}),
        );
        browser.session = attached["sessionId"].as_str().unwrap().to_owned();
        browser.page_command("Page.enable", json!({}));
        // Every page collects its uncaught errors, from its first script on.
        browser.page_command(
            "Page.addScriptToEvaluateOnNewDocument",
            json!({"source": "window.__dgErrors = []; window.addEventListener('error', e => window.__dgErrors.push(String(e.message)));"}),
        );
        browser
    }

    fn send(&mut self, method: &str, params: Value, session: Option<&str>) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        let mut message = json!({"id": id, "method": method, "params": params});
        if let Some(session) = session {
            message["sessionId"] = json!(session);
        }
        self.socket
            .send(Message::text(message.to_string()))
            .expect("send to DevTools");
        loop {
            let Message::Text(text) = self.socket.read().expect("read from DevTools") else {
                continue;
            };
            let reply: Value = serde_json::from_str(&text).unwrap();
            if reply["id"].as_u64() == Some(id) {
                assert!(reply.get("error").is_none(), "{method} failed: {reply}");
                return reply["result"].clone();
            }
        }
    }

    fn command(&mut self, method: &str, params: Value) -> Value {
        self.send(method, params, None)
    }

    fn page_command(&mut self, method: &str, params: Value) -> Value {
        let session = self.session.clone();
        self.send(method, params, Some(&session))
    }

    /// Opens `url` and waits until its document has loaded.
    pub fn goto(&mut self, url: &str) {
        self.page_command("Page.navigate", json!({"url": url}));
        self.wait_for(
            &format!("{url} loads"),
            &format!(
                "document.readyState === 'complete' && location.href === {}",
                json!(url)
            ),
        );
    }

    /// Evaluates `expression` in the page; `None` when it threw or the page was navigating.
    pub fn eval(&mut self, expression: &str) -> Option<Value> {
        let result = self.page_command(
            "Runtime.evaluate",
            json!({"expression": expression, "returnByValue": true}),
        );
        if result.get("exceptionDetails").is_some() {
            return None;
        }
        Some(result["result"]["value"].clone())
    }

    /// Polls `condition` (a JavaScript expression) until it is `true`, at most three minutes
    /// (pages reload themselves while locations load).
    pub fn wait_for(&mut self, what: &str, condition: &str) {
        let deadline = Instant::now() + Duration::from_secs(180);
        loop {
            if self.eval(condition) == Some(Value::Bool(true)) {
                return;
            }
            if Instant::now() > deadline {
                let body = self.eval("document.body ? document.body.innerText : ''");
                panic!("timed out waiting until {what}; the page shows:\n{body:?}");
            }
            std::thread::sleep(Duration::from_millis(150));
        }
    }

    /// Uncaught script errors of the current page.
    pub fn errors(&mut self) -> Value {
        self.eval("window.__dgErrors || []").unwrap_or(Value::Null)
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
