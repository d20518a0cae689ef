//! What every handler shares: the code locations, the instance's storage and the runs of this
//! host. Cheap to clone (everything is behind `Arc`).

use std::path::PathBuf;
use std::sync::Arc;

use dg_host::locations::Host;
use dg_host::runs::RunManager;
use dg_storage::Storage;

use crate::allowed_hosts::AllowedHosts;

/// The state of one `dg dev` server.
#[derive(Clone)]
pub struct AppState {
    /// Code locations with their snapshots and warm agents.
    pub host: Host,
    /// The instance's storage (shared with `dg launch`).
    pub storage: Arc<dyn Storage>,
    /// The instance home.
    pub instance_home: PathBuf,
    /// Runs executed by this host.
    pub runs: RunManager,
    /// Flips to `true` when the server stops: live streams end so connections can close.
    pub stopping: tokio::sync::watch::Receiver<bool>,
    /// The `Host` names requests must use (loopback names unless set with
    /// [`AppState::with_allowed_hosts`]).
    pub allowed_hosts: Arc<AllowedHosts>,
    /// One permit per open live stream ([`crate::api::sse::MAX_STREAMS`]).
    pub streams: Arc<tokio::sync::Semaphore>,
    stop: Arc<tokio::sync::watch::Sender<bool>>,
}

impl AppState {
    /// State for `host`, recording runs in `storage` under `instance_home`.
    pub fn new(host: Host, storage: Arc<dyn Storage>, instance_home: PathBuf) -> Self {
        let runs = RunManager::new(storage.clone(), instance_home.clone());
        let (stop, stopping) = tokio::sync::watch::channel(false);
        Self {
            host,
            storage,
            instance_home,
            runs,
            stopping,
            allowed_hosts: Arc::new(AllowedHosts::default()),
            streams: crate::api::sse::stream_slots(),
            stop: Arc::new(stop),
        }
    }

    /// The same state answering to `hosts` (the server's bind address and `--allowed-host`).
    pub fn with_allowed_hosts(mut self, hosts: AllowedHosts) -> Self {
        self.allowed_hosts = Arc::new(hosts);
        self
    }

    /// Ends every live stream (called when the server starts shutting down).
    pub fn end_streams(&self) {
        let _ = self.stop.send(true);
    }
}
