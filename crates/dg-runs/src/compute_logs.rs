//! A run's captured stdout and stderr, read back from where Dagster's compute log manager wrote
//! them. Dagster keeps captured output out of the event log: each process executing steps writes
//! one `LOGS_CAPTURED` event naming its file key and steps, and its local compute log manager
//! writes `<base_dir>/<run_id>/compute_logs/<file_key>.out` and `.err`, and touches `.complete`
//! once capturing ended.
//!
//! [`run_logs`] lists a run's captures: those its `LOGS_CAPTURED` events name (with their steps), in
//! event order, then any other file key found in the run's folder (steps unknown: a storage that
//! does not return Dagster's event text, or a capture whose event is not stored yet). Each stream is
//! read up to its last [`MAX_SHOWN_BYTES`], as UTF-8 (invalid bytes replaced).

use std::collections::BTreeSet;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use dg_storage::dagster::serdes::PyValue;
use dg_storage::{ComputeLogsConfig, Storage};
use serde::Serialize;

/// The most bytes of one stream returned (its end).
pub const MAX_SHOWN_BYTES: u64 = 1024 * 1024;
/// The longest file key read: Dagster names the files of a longer one (whose `<key>.complete`
/// would pass 255 bytes) by a hash of the key, which dg does not follow.
pub const MAX_FILE_KEY: usize = 246;
/// Dagster's event type of the event announcing a capture.
pub const LOGS_CAPTURED: &str = "LOGS_CAPTURED";

/// What a `LOGS_CAPTURED` event says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capture {
    /// The last part of Dagster's log key (`[run_id, "compute_logs", file_key]`): the file name.
    pub file_key: String,
    /// The steps whose output it holds.
    pub step_keys: Vec<String>,
}

impl Capture {
    /// Reads a serialised `EventLogEntry` of a `LOGS_CAPTURED` event (`None` for another event, or
    /// one without a usable file key). Dagster stores the field `file_key` under its old name
    /// `log_key`; both are read.
    pub fn from_dagster_json(json: &str) -> Option<Self> {
        let entry = PyValue::parse(json).ok()?;
        let event = entry.get("dagster_event")?;
        if event.get("event_type_value")?.as_str()? != LOGS_CAPTURED {
            return None;
        }
        let data = event.get("event_specific_data")?;
        let file_key = data
            .get("log_key")
            .or_else(|| data.get("file_key"))?
            .as_str()?;
        if !is_file_name(file_key) {
            return None;
        }
        let step_keys = data
            .get("step_keys")
            .and_then(PyValue::as_list)
            .unwrap_or_default()
            .iter()
            .filter_map(|s| s.as_str().map(str::to_owned))
            .collect();
        Some(Self {
            file_key: file_key.to_owned(),
            step_keys,
        })
    }
}

/// The output of one capture.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CapturedLog {
    /// Its file key.
    pub log_key: String,
    /// The steps whose output it holds (empty when no `LOGS_CAPTURED` event names it).
    pub step_keys: Vec<String>,
    /// Captured standard output.
    pub stdout: String,
    /// Captured standard error.
    pub stderr: String,
    /// Whether capturing ended (Dagster's `.complete` file exists).
    pub complete: bool,
    /// Whether a stream was longer than [`MAX_SHOWN_BYTES`] and only its end is given.
    pub truncated: bool,
}

/// A run's captured output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum RunLogs {
    /// Read from the local compute log manager's files.
    Shown {
        /// The folder read (`<base_dir>/<run_id>/compute_logs`).
        directory: PathBuf,
        /// One entry per capture.
        logs: Vec<CapturedLog>,
    },
    /// The instance's compute log manager keeps nothing dg reads.
    NotShown {
        /// Why.
        reason: String,
    },
}

/// Why captured output could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ComputeLogsError {
    /// Storage failed listing the run's `LOGS_CAPTURED` events.
    #[error(transparent)]
    Storage(#[from] dg_storage::StorageError),
    /// A file could not be read.
    #[error("reading captured output `{path}`: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// The captured output of run `run_id`, as `config` keeps it; its `LOGS_CAPTURED` events come from
/// `storage`.
pub async fn run_logs(
    storage: &dyn Storage,
    config: &ComputeLogsConfig,
    run_id: &str,
) -> Result<RunLogs, ComputeLogsError> {
    if let Some(reason) = config.not_shown() {
        return Ok(RunLogs::NotShown { reason });
    }
    let captures: Vec<Capture> = storage
        .dagster_events(run_id, LOGS_CAPTURED)
        .await?
        .iter()
        .filter_map(|json| Capture::from_dagster_json(json))
        .collect();
    let config = config.clone();
    let run_id = run_id.to_owned();
    tokio::task::spawn_blocking(move || read_run_logs(&config, &run_id, &captures))
        .await
        .unwrap_or_else(|panic| {
            Err(ComputeLogsError::Read {
                path: PathBuf::new(),
                source: std::io::Error::other(format!("the reader panicked: {panic}")),
            })
        })
}

/// [`run_logs`] with the captures known: reads the files.
pub fn read_run_logs(
    config: &ComputeLogsConfig,
    run_id: &str,
    captures: &[Capture],
) -> Result<RunLogs, ComputeLogsError> {
    let base_dir = match config {
        ComputeLogsConfig::Local { base_dir } => base_dir,
        other => {
            return Ok(RunLogs::NotShown {
                reason: other.not_shown().unwrap_or_default(),
            })
        }
    };
    let directory = if is_file_name(run_id) {
        base_dir.join(run_id).join("compute_logs")
    } else {
        // Not a run id Dagster would make a folder of: nothing to read.
        return Ok(RunLogs::Shown {
            directory: base_dir.clone(),
            logs: Vec::new(),
        });
    };
    let mut seen = BTreeSet::new();
    let mut logs = Vec::new();
    for capture in captures {
        if seen.insert(capture.file_key.clone()) {
            logs.push(read_capture(
                &directory,
                &capture.file_key,
                &capture.step_keys,
            )?);
        } else if let Some(log) = logs.iter_mut().find(|l| l.log_key == capture.file_key) {
            // The same file named twice (a resumed step): its steps together.
            for step in &capture.step_keys {
                if !log.step_keys.contains(step) {
                    log.step_keys.push(step.clone());
                }
            }
        }
    }
    for key in file_keys_in(&directory)? {
        if seen.insert(key.clone()) {
            logs.push(read_capture(&directory, &key, &[])?);
        }
    }
    Ok(RunLogs::Shown { directory, logs })
}

/// The file keys with a `.out`, `.err` or `.complete` file in `directory`, sorted (none when the
/// folder does not exist).
fn file_keys_in(directory: &Path) -> Result<BTreeSet<String>, ComputeLogsError> {
    let entries = match std::fs::read_dir(directory) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeSet::new()),
        Err(source) => {
            return Err(ComputeLogsError::Read {
                path: directory.to_path_buf(),
                source,
            })
        }
    };
    let mut keys = BTreeSet::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        for ext in [".out", ".err", ".complete"] {
            if let Some(stem) = name.strip_suffix(ext) {
                if is_file_name(stem) {
                    keys.insert(stem.to_owned());
                }
            }
        }
    }
    Ok(keys)
}

fn read_capture(
    directory: &Path,
    file_key: &str,
    step_keys: &[String],
) -> Result<CapturedLog, ComputeLogsError> {
    let (stdout, out_cut) = read_tail(&directory.join(format!("{file_key}.out")))?;
    let (stderr, err_cut) = read_tail(&directory.join(format!("{file_key}.err")))?;
    Ok(CapturedLog {
        log_key: file_key.to_owned(),
        step_keys: step_keys.to_vec(),
        stdout,
        stderr,
        complete: directory.join(format!("{file_key}.complete")).exists(),
        truncated: out_cut || err_cut,
    })
}

/// The last [`MAX_SHOWN_BYTES`] of `path` as text (empty when it does not exist yet), and whether
/// its start was left out.
fn read_tail(path: &Path) -> Result<(String, bool), ComputeLogsError> {
    let err = |source| ComputeLogsError::Read {
        path: path.to_path_buf(),
        source,
    };
    let mut file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((String::new(), false)),
        Err(e) => return Err(err(e)),
    };
    let size = file.metadata().map_err(err)?.len();
    let start = size.saturating_sub(MAX_SHOWN_BYTES);
    file.seek(SeekFrom::Start(start)).map_err(err)?;
    let mut bytes = Vec::new();
    file.take(MAX_SHOWN_BYTES)
        .read_to_end(&mut bytes)
        .map_err(err)?;
    let mut text = &bytes[..];
    if start > 0 {
        // Start at a character, not in the middle of one.
        let skip = text
            .iter()
            .take(3)
            .take_while(|b| (**b & 0xC0) == 0x80)
            .count();
        text = &text[skip..];
    }
    Ok((String::from_utf8_lossy(text).into_owned(), start > 0))
}

/// Whether `name` can only name a file inside its folder (no separator, not `.` or `..`) and is
/// not longer than [`MAX_FILE_KEY`].
fn is_file_name(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && !name.contains(['/', '\\', '\0'])
        && name.len() <= MAX_FILE_KEY
}

#[cfg(test)]
mod tests;
