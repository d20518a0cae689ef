//! `GET /api/runs/{id}/logs`: a run's captured stdout and stderr, read from where the instance's
//! compute log manager (`compute_logs:` in `dagster.yaml`, Dagster's local files by default) keeps
//! them, one entry per capture (per process that executed steps) with the steps it covers. The
//! run page shows the same ([`crate::render::run_page`]) and `static/live.js` refreshes it while
//! the run goes on.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use dg_runs::compute_logs::{run_logs, ComputeLogsError, RunLogs};
use dg_storage::{ComputeLogsConfig, InstanceConfig};

use super::runs::get_run;
use super::{ApiError, ApiResult};
use crate::state::AppState;

/// A run's captured output.
pub async fn logs(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<RunLogs> {
    get_run(&state, &id).await?;
    read(&state, &id).await.map(Json)
}

/// The captured output of run `id` (which exists), as the instance config keeps it.
pub async fn read(state: &AppState, id: &str) -> Result<RunLogs, ApiError> {
    let config = compute_logs_config(state)?;
    run_logs(state.storage.as_ref(), &config, id)
        .await
        .map_err(|e| match e {
            ComputeLogsError::Storage(e) => e.into(),
            read @ ComputeLogsError::Read { .. } => {
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, read.to_string())
            }
        })
}

/// `compute_logs:` of the instance's `dagster.yaml`, read now (the file may have changed).
fn compute_logs_config(state: &AppState) -> Result<ComputeLogsConfig, ApiError> {
    InstanceConfig::load(&state.instance_home)
        .map(|config| config.compute_logs)
        .map_err(|e| {
            use dg_core::Diagnostic;
            let hint = e.hint();
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).with_hint(hint)
        })
}
