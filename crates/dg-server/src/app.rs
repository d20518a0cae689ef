//! The HTTP application: every route (pages, `/api`, `/static`), the `Host` check, cross-site
//! request protection, security headers, and [`serve`], which runs it on a listener until a
//! shutdown signal.
//!
//! API errors are always JSON: the plain-text rejections of axum's extractors are wrapped (see
//! `json_errors`).
//!
//! `Host` check (DNS rebinding): every request, whatever its method, must name this server in
//! `Host` (see [`crate::allowed_hosts`]), or it is refused with 403 and a message naming the host
//! and the fix (`--allowed-host`). It runs first, before the cross-site checks below, which rely on
//! it: once `Host` is one of ours, an `Origin` equal to it is really this server.
//!
//! Cross-site protection: a request that may change state (any method but `GET`, `HEAD`,
//! `OPTIONS`) is refused with 403 when the browser says it comes from another site
//! (`Sec-Fetch-Site` other than `same-origin`/`none`) or carries an `Origin` that is not this
//! server's; an API request with a body must be `application/json`, which a cross-site page cannot
//! send without a CORS preflight that this server never grants. Non-browser clients (no `Origin`,
//! no `Sec-Fetch-Site`) are not cross-site requests and pass.

use std::future::Future;

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use tokio::net::TcpListener;

use crate::allowed_hosts::AllowedHosts;
use crate::api::{self, ApiError};
use crate::pages;
use crate::render::assets::static_file;
use crate::state::AppState;

/// The live-update script of the overview and run pages (served at `/static/live.js`).
pub const LIVE_SCRIPT: &str = include_str!("../static/live.js");

/// The stylesheet of the server's pages (served at `/static/pages.css`).
pub const PAGES_STYLESHEET: &str = include_str!("../static/pages.css");

/// Every route of the server.
pub fn app(state: AppState) -> Router {
    Router::new()
        .nest(
            "/api",
            api::router().layer(middleware::from_fn(json_errors)),
        )
        .merge(pages::router())
        .route("/static/{name}", get(static_handler))
        // Each layer wraps the ones above it: security headers on every answer (refusals too),
        // then the `Host` check, then the cross-site checks.
        .layer(middleware::from_fn(cross_site_guard))
        .layer(middleware::from_fn_with_state(state.clone(), host_guard))
        .layer(middleware::from_fn(security_headers))
        .with_state(state)
}

/// Serves `app(state)` on `listener` until `shutdown` resolves; then live streams end, the
/// listener stops accepting and in-flight requests finish.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let streams = state.clone();
    axum::serve(listener, app(state))
        .with_graceful_shutdown(async move {
            shutdown.await;
            streams.end_streams();
        })
        .await
}

async fn static_handler(Path(name): Path<String>) -> Response {
    let (body, content_type, etag) = if name == "live.js" {
        (LIVE_SCRIPT, "text/javascript; charset=utf-8", None)
    } else if name == "pages.css" {
        (PAGES_STYLESHEET, "text/css; charset=utf-8", None)
    } else if let Some(file) = static_file(&name) {
        (file.body, file.content_type, Some(file.etag()))
    } else {
        return (StatusCode::NOT_FOUND, "no such file").into_response();
    };
    let mut response = Response::new(Body::from(body));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Some(etag) = etag.and_then(|e| HeaderValue::from_str(&e).ok()) {
        headers.insert(header::ETAG, etag);
    }
    response
}

/// Every API error is JSON (`{"error": {"message", "hint"}}`), also the answers axum gives by
/// itself in plain text (a query or body that does not parse, a body that is not JSON, a method
/// the route does not have): those are wrapped here with their status and headers (`Allow`). A
/// JSON body of the wrong shape is a 400 like every other invalid request (axum says 422).
async fn json_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, 64 * 1024)
        .await
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&bytes);
    let message = match text.trim() {
        "" => status
            .canonical_reason()
            .unwrap_or("request failed")
            .to_owned(),
        text => text.to_owned(),
    };
    let status = match status {
        StatusCode::UNPROCESSABLE_ENTITY => StatusCode::BAD_REQUEST,
        other => other,
    };
    let mut wrapped = ApiError::new(status, message)
        .with_hint(Some(
            "See `/api/openapi.json` for the parameters and body of each endpoint.".into(),
        ))
        .into_response();
    if let Some(allow) = parts.headers.get(header::ALLOW) {
        wrapped.headers_mut().insert(header::ALLOW, allow.clone());
    }
    wrapped
}

async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'self'; frame-ancestors 'none'; form-action 'self'"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    response
}

async fn host_guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if let Err(refusal) = check_host(&state, &request) {
        if request.uri().path().starts_with("/api/") {
            return refusal.into_response();
        }
        // A page: the browser shows this text as it is.
        let mut text = format!("403 Forbidden: {}\n", refusal.message);
        if let Some(hint) = &refusal.hint {
            text.push_str(&format!("hint: {hint}\n"));
        }
        return (StatusCode::FORBIDDEN, text).into_response();
    }
    next.run(request).await
}

/// Why a request is refused for the name it was sent to (`Host`, or the authority of an
/// absolute request target), if it is.
pub fn check_host(state: &AppState, request: &Request) -> Result<(), ApiError> {
    let allowed = &state.allowed_hosts;
    let mut asked: Vec<String> = Vec::new();
    for value in request.headers().get_all(header::HOST) {
        asked.push(String::from_utf8_lossy(value.as_bytes()).into_owned());
    }
    if let Some(authority) = request.uri().authority() {
        asked.push(authority.as_str().to_owned());
    }
    let Some(refused) = asked.into_iter().find(|host| !allowed.allows(host)) else {
        return Ok(());
    };
    let hint = match AllowedHosts::name_of(&refused) {
        Some(name) => format!(
            "If you opened dg dev under this name yourself, restart it with `--allowed-host {name}`. \
             Otherwise a page you visited may be trying to reach this server through its own name \
             (DNS rebinding)."
        ),
        None => "Send requests to this server under one of the names above.".to_owned(),
    };
    Err(ApiError::new(
        StatusCode::FORBIDDEN,
        format!(
            "request for host `{}` refused: this server answers only to {}",
            refused.escape_debug(),
            allowed.describe()
        ),
    )
    .with_hint(Some(hint)))
}

async fn cross_site_guard(request: Request, next: Next) -> Response {
    if let Err(refusal) = check_cross_site(&request) {
        return refusal.into_response();
    }
    next.run(request).await
}

/// Why a state-changing request is refused, if it is.
pub fn check_cross_site(request: &Request) -> Result<(), ApiError> {
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        return Ok(());
    }
    let headers = request.headers();
    let forbidden = || {
        ApiError::new(StatusCode::FORBIDDEN, "cross-site request refused").with_hint(Some(
            "Requests that change state must come from this server's own pages or a non-browser client."
                .into(),
        ))
    };
    if let Some(site) = headers.get("sec-fetch-site") {
        if !matches!(site.to_str(), Ok("same-origin") | Ok("none")) {
            return Err(forbidden());
        }
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
        let origin = origin.to_str().ok();
        let same = match (origin, host) {
            (Some(origin), Some(host)) => origin
                .strip_prefix("http://")
                .or_else(|| origin.strip_prefix("https://"))
                .is_some_and(|o| o.eq_ignore_ascii_case(host)),
            _ => false,
        };
        if !same {
            return Err(forbidden());
        }
    }
    if request.uri().path().starts_with("/api/") && has_body(request) {
        let json = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.trim_start()
                    .to_ascii_lowercase()
                    .starts_with("application/json")
            });
        if !json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "API requests with a body must be `application/json`",
            ));
        }
    }
    Ok(())
}

fn has_body(request: &Request) -> bool {
    let headers = request.headers();
    headers.contains_key(header::TRANSFER_ENCODING)
        || headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
            .is_some_and(|n| n > 0)
}
