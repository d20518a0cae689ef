//! The run socket: a Unix socket the host listens on, one per run, that the run's worker connects
//! to and writes its messages on. A reader task parses each line and hands it to the executor over
//! a bounded channel, so a worker that writes faster than storage keeps up is slowed down rather
//! than buffered without limit. The host answers on the same connection ([`Acks`]): after each
//! batch storage committed, `{"t":"stored","through":N}`.
//!
//! What it guarantees, whatever the worker writes:
//! - memory stays bounded: a line is read up to [`MAX_LINE_BYTES`] (the rest of a longer one is
//!   skipped, never held) and at most [`QUEUE_BYTES`] of parsed messages wait for storage;
//! - the run's events stay numbered 1, 2, 3, ... without a gap, so storage never refuses a batch:
//!   an event line that cannot be read (invalid JSON, a shape this host does not know, bytes that
//!   are not UTF-8, a line too long) becomes a stored `ENGINE_EVENT` in its place that names the
//!   problem and shows the start of the line; a number the worker skipped is filled the same way.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::time::Duration;

use dg_storage::{now, Event, EventKind, SequencedEvent, Timestamp};
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::unix::OwnedWriteHalf;
use tokio::net::UnixListener;
use tokio::sync::{mpsc, watch};

use crate::error::RunError;
use crate::wire::{HostMessage, WorkerMessage};

/// How many parsed messages may wait for storage.
const QUEUE: usize = 8192;
/// How many bytes of parsed messages may wait for storage.
pub const QUEUE_BYTES: usize = 2 * 1024 * 1024;
/// The longest line read from a worker; a longer one becomes a replacement event.
pub const MAX_LINE_BYTES: usize = 64 * 1024 * 1024;
/// How much of an unreadable line is kept to find its number and to show in the replacement.
const HEAD_BYTES: usize = 4096;
/// How much of an unreadable line the replacement event shows.
const SHOWN_CHARS: usize = 200;
/// The most numbers one gap is filled with; a larger jump is passed on as written (and refused by
/// storage, with its own error), never turned into millions of events.
const MAX_GAP: i64 = 10_000;

/// What the reader task reports.
#[derive(Debug)]
pub(crate) enum Incoming {
    /// The worker connected; acknowledgements go back through this.
    Connected(Acks),
    /// The worker's `hello`: its wire version and pid.
    Hello { v: u32, pid: u32 },
    /// An event, converted from the wire to the stored form.
    Event(SequencedEvent),
    /// The worker's `end`.
    End { success: bool },
    /// A line that is not a message and not an event (a bug on one side): kept for the error.
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
            let (read, write) = stream.into_split();
            let mut queue = Queue::new(tx);
            if !queue.send(Incoming::Connected(Acks::start(write)), 0).await {
                return;
            }
            let mut reader = BufReader::with_capacity(1 << 16, read);
            let mut sequencer = Sequencer::default();
            let mut line = Vec::new();
            while let Ok(Some(read)) = read_line(&mut reader, &mut line, MAX_LINE_BYTES).await {
                let size = line.len();
                for item in sequencer.accept(read, &line) {
                    if !queue.send(item, size).await {
                        return;
                    }
                }
            }
            if let Some(problem) = sequencer.pending.take() {
                queue.send(Incoming::Garbled(problem), 0).await;
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

/// The host's acknowledgements to the worker, written by a task of their own on the socket's write
/// half, so that writing never blocks reading the worker's messages nor storing them. Only the
/// latest number waits to be written (acknowledgements are cumulative): while the worker does not
/// read, the task waits on its write and newer numbers replace older ones, so nothing piles up
/// and ingestion goes on. The task ends when the worker closes the socket or this is dropped.
#[derive(Debug)]
pub(crate) struct Acks {
    through: watch::Sender<i64>,
    task: tokio::task::JoinHandle<()>,
}

impl Acks {
    fn start(mut write: OwnedWriteHalf) -> Self {
        let (through, mut rx) = watch::channel(0i64);
        let task = tokio::spawn(async move {
            let mut sent = 0i64;
            while rx.changed().await.is_ok() {
                let latest = *rx.borrow_and_update();
                if latest <= sent {
                    continue;
                }
                let line = HostMessage::Stored { through: latest }.line();
                if write.write_all(line.as_bytes()).await.is_err() {
                    // The worker closed its side (it exited, or speaks a wire without replies).
                    return;
                }
                sent = latest;
            }
        });
        Self { through, task }
    }

    /// Every event numbered `through` or lower is stored.
    pub fn stored(&self, through: i64) {
        self.through.send_if_modified(|current| {
            let newer = through > *current;
            if newer {
                *current = through;
            }
            newer
        });
    }
}

impl Drop for Acks {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The sending side of the queue, keeping the bytes of messages not yet taken below
/// [`QUEUE_BYTES`]. The receiver is the executor's; what it has taken is read off the channel's
/// free capacity, so the executor needs to know nothing of this.
struct Queue {
    tx: mpsc::Sender<Incoming>,
    /// Sizes of the messages sent, oldest first, as long as they may still be in the channel.
    sizes: VecDeque<usize>,
    bytes: usize,
}

impl Queue {
    fn new(tx: mpsc::Sender<Incoming>) -> Self {
        Self {
            tx,
            sizes: VecDeque::new(),
            bytes: 0,
        }
    }

    /// Sends `item` (of about `size` bytes); false when the executor is gone.
    async fn send(&mut self, item: Incoming, size: usize) -> bool {
        loop {
            let waiting = QUEUE - self.tx.capacity();
            while self.sizes.len() > waiting {
                if let Some(taken) = self.sizes.pop_front() {
                    self.bytes -= taken;
                }
            }
            if self.bytes == 0 || self.bytes + size <= QUEUE_BYTES || self.tx.is_closed() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        if self.tx.send(item).await.is_err() {
            return false;
        }
        self.sizes.push_back(size);
        self.bytes += size;
        true
    }
}

/// What [`read_line`] read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Read {
    /// A whole line (its newline removed).
    Line,
    /// The first [`HEAD_BYTES`] of a line of at least this many bytes, more than the limit; the
    /// rest of the line was skipped.
    TooLong(usize),
}

/// Reads the next line into `line` (at most `max` bytes of it); `None` at end of stream. A
/// last line without its newline counts as a line.
async fn read_line<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    line: &mut Vec<u8>,
    max: usize,
) -> std::io::Result<Option<Read>> {
    line.clear();
    // Once the line is over `max`: its whole size so far (`line` then keeps only its head).
    let mut skipped = 0usize;
    loop {
        let available = reader.fill_buf().await?;
        if available.is_empty() {
            return Ok(match (skipped, line.is_empty()) {
                (0, true) => None,
                (0, false) => Some(Read::Line),
                (size, _) => Some(Read::TooLong(size)),
            });
        }
        let newline = available.iter().position(|b| *b == b'\n');
        let taken = newline.map_or(available.len(), |at| at + 1);
        let data = &available[..newline.unwrap_or(available.len())];
        if skipped > 0 {
            skipped += data.len();
        } else if line.len() + data.len() > max {
            skipped = line.len() + data.len();
            let head = HEAD_BYTES.min(max);
            let room = head.saturating_sub(line.len()).min(data.len());
            line.extend_from_slice(&data[..room]);
            line.truncate(head);
            line.shrink_to(head);
        } else {
            line.extend_from_slice(data);
        }
        reader.consume(taken);
        if newline.is_some() {
            return Ok(Some(match skipped {
                0 => Read::Line,
                size => Read::TooLong(size),
            }));
        }
    }
}

/// Keeps the worker's event numbers gap-free (see the module header).
#[derive(Default)]
struct Sequencer {
    /// The number of the last event passed on.
    last: i64,
    /// The problem of an unreadable line that named no event number, for the gap it leaves.
    pending: Option<String>,
}

impl Sequencer {
    /// The messages `line` (as `read`) stands for.
    fn accept(&mut self, read: Read, line: &[u8]) -> Vec<Incoming> {
        let problem = match read {
            Read::TooLong(size) => format!(
                "the line is {size} bytes or more, longer than the {} MiB a run worker may write",
                MAX_LINE_BYTES / (1024 * 1024)
            ),
            Read::Line if line.iter().all(u8::is_ascii_whitespace) => return Vec::new(),
            Read::Line => match std::str::from_utf8(line) {
                Err(e) => format!("the line is not UTF-8 ({e})"),
                Ok(text) => match WorkerMessage::parse(text) {
                    Ok(WorkerMessage::Event {
                        seq,
                        event,
                        dagster,
                    }) => {
                        let mut out = self.fill_gap(seq);
                        self.last = self.last.max(seq);
                        out.push(Incoming::Event(SequencedEvent {
                            seq,
                            event: event.into(),
                            dagster_json: dagster,
                        }));
                        return out;
                    }
                    Ok(WorkerMessage::Hello { v, pid }) => return vec![Incoming::Hello { v, pid }],
                    Ok(WorkerMessage::End { success }) => return vec![Incoming::End { success }],
                    Err(e) => e.to_string(),
                },
            },
        };
        let shown = String::from_utf8_lossy(&line[..line.len().min(HEAD_BYTES)])
            .chars()
            .take(SHOWN_CHARS)
            .collect::<String>();
        let problem = format!("{problem}: `{shown}`");
        let peek = Peek::of(line);
        match peek.seq {
            Some(seq) if seq > self.last && seq - self.last <= MAX_GAP => {
                let mut out = self.fill_gap(seq);
                self.last = seq;
                out.push(replacement(seq, &peek, &problem));
                out
            }
            _ => {
                if let Some(earlier) = self.pending.replace(problem) {
                    return vec![Incoming::Garbled(earlier)];
                }
                Vec::new()
            }
        }
    }

    /// Replacement events for the numbers between the last event and `seq`.
    fn fill_gap(&mut self, seq: i64) -> Vec<Incoming> {
        let missing = seq - self.last - 1;
        if missing <= 0 || missing > MAX_GAP {
            return Vec::new();
        }
        (self.last + 1..seq)
            .map(|number| {
                let problem = self.pending.take().unwrap_or_else(|| {
                    "the run worker skipped it (nothing was received for this number)".to_owned()
                });
                replacement(number, &Peek::default(), &problem)
            })
            .collect()
    }
}

/// What can be made out of an unreadable event line.
#[derive(Debug, Default)]
struct Peek {
    seq: Option<i64>,
    timestamp: Option<f64>,
    step_key: Option<String>,
    event_type: Option<String>,
}

impl Peek {
    fn of(line: &[u8]) -> Self {
        if let Ok(value) = serde_json::from_slice::<serde_json::Value>(line) {
            if value["t"] != "event" {
                return Self::default();
            }
            let event = &value["event"];
            return Self {
                seq: value["seq"].as_i64(),
                timestamp: event["timestamp"].as_f64(),
                step_key: event["step_key"].as_str().map(str::to_owned),
                event_type: event["type"].as_str().map(str::to_owned),
            };
        }
        // Not JSON at all (a `NaN`, a cut line): the worker writes `t` and `seq` first.
        let prefix = br#"{"t":"event","seq":"#;
        let seq = line.strip_prefix(prefix.as_slice()).and_then(|rest| {
            let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
            std::str::from_utf8(&rest[..digits]).ok()?.parse().ok()
        });
        Self {
            seq,
            ..Self::default()
        }
    }
}

/// The event stored in place of event `seq`, which could not be read.
fn replacement(seq: i64, peek: &Peek, problem: &str) -> Incoming {
    let what = peek
        .event_type
        .as_ref()
        .map(|t| format!(" (`{t}`)"))
        .unwrap_or_default();
    Incoming::Event(SequencedEvent {
        seq,
        event: Event {
            timestamp: peek
                .timestamp
                .and_then(Timestamp::try_from_secs_f64)
                .unwrap_or_else(now),
            step_key: peek.step_key.clone(),
            kind: EventKind::EngineEvent {
                message: format!(
                    "dg could not read event {seq}{what} of the run worker and stores this one in \
                     its place: {problem}"
                ),
            },
        },
        dagster_json: None,
    })
}

#[cfg(test)]
mod tests;
