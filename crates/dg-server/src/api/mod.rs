//! The JSON API under `/api`, described by the OpenAPI document at `/api/openapi.json`.
//!
//! Errors are JSON objects `{"error": {"message", "hint"}}` with a 4xx/5xx status; every handler
//! returns [`ApiResult`]. A request over one of the server's limits (live streams, runs at once,
//! reloads) gets 429 with a `Retry-After` header (seconds). The error type is in [`error`], so that
//! every module here, [`sse`] (the live streams) included, imports it without importing this one.

pub mod assets;
pub mod error;
pub mod locations;
pub mod logs;
pub mod openapi;
pub mod runs;
pub mod sse;

use axum::routing::{get, post};
use axum::Router;

pub use error::{ApiError, ApiResult};

use crate::state::AppState;

/// The `/api` routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(openapi::document))
        .route("/locations", get(locations::list))
        .route("/locations/{name}", get(locations::one))
        .route("/locations/{name}/reload", post(locations::reload))
        .route("/assets", get(assets::list))
        .route("/assets/{*key}", get(assets::one))
        .route("/runs", get(runs::list).post(runs::launch))
        .route("/runs/{id}", get(runs::one))
        .route("/runs/{id}/events", get(runs::events))
        .route("/runs/{id}/logs", get(logs::logs))
        .route("/runs/{id}/cancel", post(runs::cancel))
        .route("/runs/{id}/stream", get(sse::run_stream))
        .route("/stream", get(sse::host_stream))
        .fallback(|| async { ApiError::not_found("no such API endpoint; see `/api/openapi.json`") })
}
