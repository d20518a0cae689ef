//! The host-agent protocol: JSON objects, one per line, on the private channel (a Unix socket the
//! host passes to the agent as an inherited file descriptor, never the agent's stdout).
//!
//! Every message carries the protocol version `v`. Requests carry an `id` the response echoes.
//! The agent speaks first (`ready`); then the host sends requests one at a time. See the crate's
//! README for the full table. New requests (`execute_run`, `fork`) are added as new variants; an
//! agent that does not know a request answers `unsupported` instead of failing.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::snapshot::DefinitionsSnapshot;
use crate::traceback::UserError;

/// Version of the protocol; the agent's `PROTOCOL_VERSION` must match.
pub const PROTOCOL_VERSION: u32 = 1;

/// A request from the host, as sent on the wire.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RequestEnvelope {
    pub v: u32,
    pub id: u64,
    #[serde(flatten)]
    pub request: Request,
}

/// What the host asks the agent to do.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Request {
    /// Answered with `pong`; checks the agent is alive without importing anything.
    Ping,
    /// Import the location's code and answer with its snapshot (`loaded`) or error (`load_failed`).
    Load { target: LoadTarget },
    /// Answer `bye` and exit.
    Shutdown,
    /// Execute a run in the agent's own process (after `load`), streaming its events to
    /// `run.events_socket`; answered `run_finished` when it is over (or `run_rejected`).
    ExecuteRun { run: RunSpec },
    /// Fork a run worker that executes the run (after `load`); answered `run_forked` at once.
    ForkRun { run: RunSpec },
    /// Execute an empty job once so that later forked runs start warm; answered `warmed_up`.
    WarmUp {
        /// The instance home of the runs to come: the agent makes their run instance now, so
        /// forked workers inherit it instead of making one each.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        instance_home: Option<PathBuf>,
    },
}

/// What a run worker executes (see `agent/_dg_agent/run.py`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSpec {
    /// The run id, used as Dagster's run id too.
    pub run_id: String,
    /// The Unix socket the worker connects to and writes its events on.
    pub events_socket: PathBuf,
    /// The instance home: the run executes with its persistent `DagsterInstance` (`DAGSTER_HOME`
    /// in the worker), so outputs of Dagster's default IO manager and compute logs go under
    /// `<home>/storage` unless its `dagster.yaml` says otherwise.
    pub instance_home: PathBuf,
    /// The assets to materialize (Dagster's implicit asset job); `None` runs `job_name`.
    pub asset_selection: Option<Vec<Vec<String>>>,
    /// The job to run when there is no asset selection.
    pub job_name: Option<String>,
    /// The partition key.
    pub partition: Option<String>,
    /// First and last partition key of a single-run partition range.
    pub partition_range: Option<(String, String)>,
    /// Run config (a JSON object).
    pub run_config: serde_json::Value,
    /// Run tags.
    pub tags: std::collections::BTreeMap<String, String>,
}

/// What to load: the location's modules, as configured by the project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoadTarget {
    /// The project root (also where source paths are made relative to).
    pub root: PathBuf,
    /// The folder put first on `sys.path` (the project root, as Dagster's working directory).
    pub working_directory: PathBuf,
    /// The project's root module (`my_project`).
    pub root_module: String,
    /// The module holding the definitions; default `<root_module>.definitions`.
    pub target_module: Option<String>,
    /// The defs folder's module, loaded when the target module does not exist; default
    /// `<root_module>.defs`.
    pub defs_module: Option<String>,
}

/// A message from the agent, as received on the wire.
#[derive(Debug, Clone, Deserialize)]
pub struct ResponseEnvelope {
    pub v: u32,
    /// The request this answers (absent on `ready`).
    #[serde(default)]
    pub id: Option<u64>,
    #[serde(flatten)]
    pub response: Response,
}

/// What the agent says.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Response {
    /// Sent once when the agent starts.
    Ready {
        pid: u32,
        python_version: String,
        python_executable: String,
    },
    Pong,
    Loaded {
        snapshot: Box<DefinitionsSnapshot>,
    },
    LoadFailed {
        error: UserError,
        load_seconds: f64,
    },
    /// The agent does not know the request (an older agent); `request` names it.
    Unsupported {
        request: String,
        protocol: u32,
    },
    Bye,
    /// `execute_run` is over; `success` is the run's outcome.
    RunFinished {
        pid: u32,
        success: bool,
    },
    /// `fork_run` started a worker with this pid.
    RunForked {
        pid: u32,
    },
    /// The run could not be started (no definitions loaded, the run code failed to compile).
    RunRejected {
        error: UserError,
    },
    /// `warm_up` is done.
    WarmedUp,
}

impl Response {
    /// The message type, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Ready { .. } => "ready",
            Self::Pong => "pong",
            Self::Loaded { .. } => "loaded",
            Self::LoadFailed { .. } => "load_failed",
            Self::Unsupported { .. } => "unsupported",
            Self::Bye => "bye",
            Self::RunFinished { .. } => "run_finished",
            Self::RunForked { .. } => "run_forked",
            Self::RunRejected { .. } => "run_rejected",
            Self::WarmedUp => "warmed_up",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_flat_tagged_objects() {
        let req = RequestEnvelope {
            v: PROTOCOL_VERSION,
            id: 7,
            request: Request::Ping,
        };
        assert_eq!(
            serde_json::to_string(&req).unwrap(),
            r#"{"v":1,"id":7,"type":"ping"}"#
        );
    }

    #[test]
    fn responses_parse() {
        let msg: ResponseEnvelope = serde_json::from_str(
            r#"{"type":"ready","pid":4,"python_version":"3.11.7","python_executable":"/p","v":1}"#,
        )
        .unwrap();
        assert!(msg.id.is_none());
        assert!(matches!(msg.response, Response::Ready { pid: 4, .. }));
    }
}
