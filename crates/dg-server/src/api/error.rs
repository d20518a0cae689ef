//! The API's error answer: a JSON object `{"error": {"message", "hint"}}` with a 4xx/5xx status,
//! and `Retry-After` (seconds) on 429.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

/// An error answer of the API.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    pub hint: Option<String>,
    /// Seconds after which the request may succeed (sent as `Retry-After`).
    pub retry_after: Option<u64>,
}

/// What API handlers return.
pub type ApiResult<T> = Result<Json<T>, ApiError>;

impl ApiError {
    /// An error with `status` and `message`.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            hint: None,
            retry_after: None,
        }
    }

    /// 429: the request is over one of the server's limits; it may succeed after `retry_after`
    /// (rounded up to whole seconds, at least one).
    pub fn too_many(message: impl Into<String>, retry_after: std::time::Duration) -> Self {
        let mut err = Self::new(StatusCode::TOO_MANY_REQUESTS, message);
        err.retry_after = Some(retry_after.as_secs_f64().ceil().max(1.0) as u64);
        err
    }

    /// 404 with `message`.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    /// 400 with `message`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// The same error with a hint.
    pub fn with_hint(mut self, hint: Option<String>) -> Self {
        self.hint = hint;
        self
    }
}

impl From<dg_storage::StorageError> for ApiError {
    fn from(err: dg_storage::StorageError) -> Self {
        use dg_core::Diagnostic;
        let hint = err.hint();
        Self::new(StatusCode::SERVICE_UNAVAILABLE, err.to_string()).with_hint(hint)
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: ErrorDetail<'a>,
}

#[derive(Serialize)]
struct ErrorDetail<'a> {
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    hint: Option<&'a str>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                message: &self.message,
                hint: self.hint.as_deref(),
            },
        };
        let mut response = (self.status, Json(body)).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, seconds.into());
        }
        response
    }
}
