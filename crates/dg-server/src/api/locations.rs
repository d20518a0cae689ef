//! `GET /api/locations`, `GET /api/locations/{name}`, `POST /api/locations/{name}/reload`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use dg_host::locations::{LocationInfo, ReloadRefused};
use serde::Serialize;

use super::{ApiError, ApiResult};
use crate::state::AppState;

/// The answer of `GET /api/locations`.
#[derive(Debug, Serialize)]
pub struct LocationList {
    pub locations: Vec<LocationInfo>,
}

/// Every code location with its status.
pub async fn list(State(state): State<AppState>) -> ApiResult<LocationList> {
    Ok(Json(LocationList {
        locations: state.host.locations(),
    }))
}

/// One code location.
pub async fn one(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> ApiResult<LocationInfo> {
    state
        .host
        .location(&name)
        .map(Json)
        .ok_or_else(|| unknown(&name))
}

/// Starts reloading a location; answers `202 Accepted` with its (loading) status, or 429 when a
/// reload of it was requested a moment ago and is still loading.
pub async fn reload(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<(StatusCode, Json<LocationInfo>), ApiError> {
    state.host.request_reload(&name).map_err(reload_error)?;
    let info = state.host.location(&name).ok_or_else(|| unknown(&name))?;
    Ok((StatusCode::ACCEPTED, Json(info)))
}

/// The API's answer to a refused reload.
pub fn reload_error(refused: ReloadRefused) -> ApiError {
    match refused {
        ReloadRefused::Unknown(name) => unknown(&name),
        ReloadRefused::ShuttingDown => {
            ApiError::new(StatusCode::SERVICE_UNAVAILABLE, refused.to_string())
        }
        ReloadRefused::TooSoon { retry_after, .. } => {
            ApiError::too_many(refused.to_string(), retry_after).with_hint(Some(
                "The load in flight already reads the files as they are; wait for it (`GET /api/locations`).".into(),
            ))
        }
    }
}

fn unknown(name: &str) -> ApiError {
    ApiError::not_found(format!("there is no code location `{name}`"))
        .with_hint(Some("`GET /api/locations` lists them.".into()))
}
