//! A running agent: the embedded Python package (see [`crate::package`]) started with a location's
//! interpreter, spoken to
//! over the private channel. Long-lived: one agent answers many requests until `shutdown` or drop
//! (dropping kills its whole process group).
//!
//! Every answer must carry the id of the request it answers and fit in [`MAX_MESSAGE_BYTES`]; an
//! agent that breaks either rule is killed and the request fails with a clear error, so a channel
//! that is out of step is never trusted again.

use std::io::{BufRead, BufReader, ErrorKind, Write};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use dg_core::env as vars;
use dg_python::process::{Captured, ChildSpec, LineSink, ManagedChild, Output, CHANNEL_FD};
use dg_python::PythonEnvironment;

use crate::error::LoadError;
use crate::protocol::{LoadTarget, Request, Response, ResponseEnvelope, PROTOCOL_VERSION};
use crate::snapshot::DefinitionsSnapshot;

/// The largest message the host reads from an agent (a snapshot of many definitions with large
/// metadata is the largest there is); a longer one fails the request.
pub const MAX_MESSAGE_BYTES: usize = 256 * 1024 * 1024;

/// What the agent said about itself when it started.
#[derive(Debug, Clone)]
pub struct AgentInfo {
    pub pid: u32,
    pub python_version: String,
    pub python_executable: String,
}

/// A running agent for one code location.
pub struct Agent {
    location: String,
    root: std::path::PathBuf,
    child: ManagedChild,
    reader: BufReader<UnixStream>,
    writer: UnixStream,
    next_id: u64,
    info: AgentInfo,
    /// The part of the next message received so far (it survives a read timeout).
    partial: Vec<u8>,
    max_message: usize,
}

impl Agent {
    /// Starts the agent for `location` in `env` and waits (at most `timeout`) until it is ready.
    /// `sink` receives each line user code prints, as it is printed.
    pub fn start(
        location: &str,
        env: &PythonEnvironment,
        sink: Option<LineSink>,
        timeout: Duration,
    ) -> Result<Self, LoadError> {
        let package = crate::package::install().map_err(|source| LoadError::AgentPackage {
            location: location.to_owned(),
            source,
        })?;
        let mut cmd = env.command();
        crate::package::configure(&mut cmd, &package);
        cmd.env(vars::DG_AGENT_FD, CHANNEL_FD.to_string());
        // Logs arrive as they are printed, not when a buffer fills.
        cmd.env("PYTHONUNBUFFERED", "1");
        let spec = ChildSpec {
            command: cmd,
            stdout: Output::Capture,
            stderr: Output::Capture,
            sink,
            channel: true,
        };
        let mut child = ManagedChild::spawn(spec).map_err(|source| LoadError::Spawn {
            location: location.to_owned(),
            interpreter: env.interpreter.clone(),
            source,
        })?;
        let channel = child.take_channel().expect("channel was requested");
        let writer = channel.try_clone().map_err(|source| LoadError::Spawn {
            location: location.to_owned(),
            interpreter: env.interpreter.clone(),
            source,
        })?;
        let mut agent = Self {
            location: location.to_owned(),
            root: env.project_root.clone(),
            child,
            reader: BufReader::new(channel),
            writer,
            next_id: 1,
            info: AgentInfo {
                pid: 0,
                python_version: String::new(),
                python_executable: String::new(),
            },
            partial: Vec::new(),
            max_message: MAX_MESSAGE_BYTES,
        };
        match agent.receive(None, Instant::now() + timeout, timeout)? {
            Response::Ready {
                pid,
                python_version,
                python_executable,
            } => {
                agent.info = AgentInfo {
                    pid,
                    python_version,
                    python_executable,
                };
                Ok(agent)
            }
            other => Err(agent.protocol(format!("expected `ready`, got `{}`", other.kind()))),
        }
    }

    /// What the agent reported when it started.
    pub fn info(&self) -> &AgentInfo {
        &self.info
    }

    /// Lowers the largest message accepted from this agent (tests of the limit).
    pub fn set_max_message_bytes(&mut self, bytes: usize) {
        self.max_message = bytes;
    }

    /// The output user code printed so far.
    pub fn logs(&self) -> Captured {
        self.child.captured()
    }

    /// Sends `request` and waits at most `timeout` for the answer; on timeout the agent is killed.
    pub fn request(&mut self, request: Request, timeout: Duration) -> Result<Response, LoadError> {
        let message = serde_json::to_value(&request).expect("requests serialize");
        self.request_json(message, timeout)
    }

    /// Sends a request given as a JSON object (its `type` and fields; `v` and `id` are added), for
    /// requests this host has no variant for (tests of forward compatibility, debugging).
    pub fn request_json(
        &mut self,
        mut message: serde_json::Value,
        timeout: Duration,
    ) -> Result<Response, LoadError> {
        let id = self.next_id;
        self.next_id += 1;
        if let Some(object) = message.as_object_mut() {
            object.insert("v".into(), PROTOCOL_VERSION.into());
            object.insert("id".into(), id.into());
        }
        let mut line = serde_json::to_vec(&message).expect("JSON serializes");
        line.push(b'\n');
        if self.writer.write_all(&line).is_err() {
            return Err(self.crashed());
        }
        self.receive(Some(id), Instant::now() + timeout, timeout)
    }

    /// Checks that the agent answers.
    pub fn ping(&mut self, timeout: Duration) -> Result<(), LoadError> {
        match self.request(Request::Ping, timeout)? {
            Response::Pong => Ok(()),
            other => Err(self.protocol(format!("expected `pong`, got `{}`", other.kind()))),
        }
    }

    /// Loads the location's definitions.
    pub fn load(
        &mut self,
        target: &LoadTarget,
        timeout: Duration,
    ) -> Result<DefinitionsSnapshot, LoadError> {
        let request = Request::Load {
            target: target.clone(),
        };
        match self.request(request, timeout)? {
            Response::Loaded { snapshot } => Ok(*snapshot),
            Response::LoadFailed { error, .. } => Err(LoadError::UserCode {
                location: self.location.clone(),
                root: self.root.clone(),
                error: Box::new(error),
                stderr: self.child.captured().stderr_tail(50),
            }),
            other => Err(self.protocol(format!("expected `loaded`, got `{}`", other.kind()))),
        }
    }

    /// Asks the agent to exit, waits `grace`, then kills what is left of its process group.
    pub fn shutdown(mut self, grace: Duration) -> Captured {
        let _ = self.request(Request::Shutdown, grace);
        let _ = self.child.terminate(grace);
        self.child.captured()
    }

    /// Reads the next message, which must answer request `id` (`None`: the `ready` message).
    fn receive(
        &mut self,
        id: Option<u64>,
        deadline: Instant,
        timeout: Duration,
    ) -> Result<Response, LoadError> {
        let line = self.read_message(deadline, timeout)?;
        let envelope: ResponseEnvelope = match serde_json::from_slice(&line) {
            Ok(envelope) => envelope,
            Err(e) => {
                let start = String::from_utf8_lossy(&line[..line.len().min(200)]).into_owned();
                return Err(self.out_of_step(format!("{e} in `{start}`")));
            }
        };
        if envelope.v != PROTOCOL_VERSION {
            return Err(self.out_of_step(format!(
                "protocol version {} (expected {PROTOCOL_VERSION})",
                envelope.v
            )));
        }
        if envelope.id != id {
            let said =
                |id: Option<u64>| id.map_or("no request".to_owned(), |i| format!("request {i}"));
            return Err(self.out_of_step(format!(
                "`{}` answers {}, but the host waits for the answer to {}",
                envelope.response.kind(),
                said(envelope.id),
                said(id)
            )));
        }
        Ok(envelope.response)
    }

    /// Reads one line of at most `max_message` bytes (without its newline).
    fn read_message(&mut self, deadline: Instant, timeout: Duration) -> Result<Vec<u8>, LoadError> {
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(self.timed_out(timeout));
            }
            let _ = self.reader.get_ref().set_read_timeout(Some(left));
            let available = match self.reader.fill_buf() {
                Ok([]) => return Err(self.crashed()),
                Ok(available) => available,
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    return Err(self.timed_out(timeout))
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(_) => return Err(self.crashed()),
            };
            let newline = available.iter().position(|b| *b == b'\n');
            let taken = newline.map_or(available.len(), |at| at + 1);
            if self.partial.len() + taken > self.max_message + 1 {
                let size = self.partial.len() + taken;
                self.partial.clear();
                return Err(self.too_large(size));
            }
            self.partial.extend_from_slice(&available[..taken]);
            self.reader.consume(taken);
            if newline.is_some() {
                self.partial.pop();
                let line = std::mem::take(&mut self.partial);
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                return Ok(line);
            }
        }
    }

    /// A message over the limit: the agent is stopped (the rest of the message is never read).
    fn too_large(&mut self, size: usize) -> LoadError {
        self.child.kill();
        let _ = self.child.wait_timeout(Duration::from_secs(5));
        LoadError::MessageTooLarge {
            location: self.location.clone(),
            root: self.root.clone(),
            limit: self.max_message,
            size_at_least: size,
        }
    }

    /// The channel cannot be trusted any more: the agent is stopped and `detail` returned.
    fn out_of_step(&mut self, detail: String) -> LoadError {
        self.child.kill();
        let _ = self.child.wait_timeout(Duration::from_secs(5));
        self.protocol(detail)
    }

    fn timed_out(&mut self, timeout: Duration) -> LoadError {
        self.child.kill();
        let _ = self.child.wait();
        LoadError::Timeout {
            location: self.location.clone(),
            root: self.root.clone(),
            seconds: timeout.as_secs(),
            stderr: self.child.captured().stderr_tail(20),
        }
    }

    fn crashed(&mut self) -> LoadError {
        let status = match self.child.wait_timeout(Duration::from_secs(5)) {
            Ok(Some(status)) => status.to_string(),
            _ => {
                self.child.kill();
                "closed its channel".to_owned()
            }
        };
        let _ = self.child.wait();
        LoadError::Crashed {
            location: self.location.clone(),
            root: self.root.clone(),
            status,
            stderr: self.child.captured().stderr_tail(20),
        }
    }

    fn protocol(&self, detail: String) -> LoadError {
        LoadError::Protocol {
            location: self.location.clone(),
            detail,
        }
    }
}
