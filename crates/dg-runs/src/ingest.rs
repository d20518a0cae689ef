//! The run socket: a Unix socket the host listens on, one per run, that the run's worker connects
//! to and writes its messages on. A reader task parses each line and hands it to the executor over
//! a bounded channel, so a worker that writes faster than storage keeps up is slowed down rather
//! than buffered without limit.

use std::path::{Path, PathBuf};

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::UnixListener;
use tokio::sync::mpsc;

use crate::error::RunError;
use crate::wire::WorkerMessage;

/// How many parsed messages may wait for storage.
const QUEUE: usize = 8192;

/// What the reader task reports.
#[derive(Debug)]
pub(crate) enum Incoming {
    /// The worker connected.
    Connected,
    /// A message.
    Message(WorkerMessage),
    /// A line that is not a message (a bug on one side): kept for the error.
    Garbled(String),
}

/// A listening run socket; the file is removed on drop.
pub(crate) struct RunSocket {
    path: PathBuf,
    listener: Option<UnixListener>,
}

impl RunSocket {
    /// Binds a fresh socket for `run_id` in the temporary folder (short paths: Unix sockets are
    /// limited to about 100 bytes).
    pub fn bind(run_id: &str) -> Result<Self, RunError> {
        let short: String = run_id.chars().filter(|c| *c != '-').take(12).collect();
        let path = std::env::temp_dir().join(format!("dg-run-{}-{short}.sock", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let listener = UnixListener::bind(&path).map_err(|source| RunError::Socket {
            path: path.clone(),
            source,
        })?;
        Ok(Self {
            path,
            listener: Some(listener),
        })
    }

    /// The socket's path, for the worker.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Starts the reader task: it accepts one connection and forwards every message; the channel
    /// closes at the worker's end of stream.
    pub fn start_reader(&mut self) -> mpsc::Receiver<Incoming> {
        let (tx, rx) = mpsc::channel(QUEUE);
        let listener = self.listener.take().expect("reader started once");
        tokio::spawn(async move {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            if tx.send(Incoming::Connected).await.is_err() {
                return;
            }
            let mut lines = BufReader::with_capacity(1 << 16, stream).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                if line.trim().is_empty() {
                    continue;
                }
                let item = match WorkerMessage::parse(&line) {
                    Ok(message) => Incoming::Message(message),
                    Err(e) => Incoming::Garbled(format!(
                        "{e}: `{}`",
                        line.chars().take(200).collect::<String>()
                    )),
                };
                if tx.send(item).await.is_err() {
                    return;
                }
            }
        });
        rx
    }
}

impl Drop for RunSocket {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}
