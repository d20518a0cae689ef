//! Runs: `GET /api/runs` (filters), `POST /api/runs` (launch an asset selection or a job),
//! `GET /api/runs/{id}`, `GET /api/runs/{id}/events`, `POST /api/runs/{id}/cancel`.
//!
//! Runs launched by `dg launch` in another process share the instance, so they are listed too.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use dg_runs::{RunRequest, RunTarget};
use dg_storage::{EventRecord, Run, RunFilter, RunStatus};
use serde::{Deserialize, Serialize};

use super::assets::selected_keys;
use super::{ApiError, ApiResult};
use crate::runs::LaunchError;
use crate::state::AppState;

/// Query of `GET /api/runs`.
#[derive(Debug, Default, Deserialize)]
pub struct RunQuery {
    /// Comma-separated statuses (`STARTED,QUEUED`).
    pub status: Option<String>,
    pub location: Option<String>,
    /// At most this many (default 50, at most 1000).
    pub limit: Option<u32>,
    /// The last run id of the previous page.
    pub cursor: Option<String>,
}

/// The answer of `GET /api/runs`.
#[derive(Debug, Serialize)]
pub struct RunList {
    pub runs: Vec<Run>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// Body of `POST /api/runs`: either `selection` or `job`.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LaunchBody {
    /// An asset selection; its assets must belong to one location (or name it in `location`).
    pub selection: Option<String>,
    /// A job name.
    pub job: Option<String>,
    pub location: Option<String>,
    pub partition: Option<String>,
    /// Run config, a JSON object.
    pub config: Option<serde_json::Value>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

/// Query of `GET /api/runs/{id}/events`.
#[derive(Debug, Default, Deserialize)]
pub struct EventQuery {
    /// Only events stored after this storage id.
    pub after: Option<i64>,
    /// At most this many (default 1000, at most 10000).
    pub limit: Option<u32>,
}

/// The answer of `GET /api/runs/{id}/events`.
#[derive(Debug, Serialize)]
pub struct EventList {
    pub events: Vec<EventRecord>,
    /// The storage id to pass as `after` next.
    pub cursor: Option<i64>,
}

/// Runs, newest first.
pub async fn list(
    State(state): State<AppState>,
    Query(query): Query<RunQuery>,
) -> ApiResult<RunList> {
    let filter = run_filter(&query)?;
    let limit = filter.limit.unwrap_or(50) as usize;
    let runs = state.storage.list_runs(&filter).await?;
    let next_cursor = (runs.len() == limit)
        .then(|| runs.last().map(|r| r.run_id.clone()))
        .flatten();
    Ok(Json(RunList { runs, next_cursor }))
}

/// The storage filter of a runs query (shared with the HTML runs list).
pub fn run_filter(query: &RunQuery) -> Result<RunFilter, ApiError> {
    let mut statuses = Vec::new();
    for name in query
        .status
        .iter()
        .flat_map(|s| s.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        statuses.push(name.parse::<RunStatus>().map_err(|e| {
            ApiError::bad_request(e.to_string()).with_hint(Some(format!(
                "Use one of {}.",
                RunStatus::ALL.map(|s| s.as_str()).join(", ")
            )))
        })?);
    }
    Ok(RunFilter {
        statuses,
        location: query.location.clone().filter(|l| !l.is_empty()),
        tags: Vec::new(),
        limit: Some(limit_in(query.limit, 50, 1000)?),
        cursor: query.cursor.clone().filter(|c| !c.is_empty()),
    })
}

/// `limit` (else `default`) when it is between 1 and `max`, else a 400 saying so (the OpenAPI
/// document gives the same bounds).
fn limit_in(limit: Option<u32>, default: u32, max: u32) -> Result<u32, ApiError> {
    match limit.unwrap_or(default) {
        n @ 1.. if n <= max => Ok(n),
        n => Err(ApiError::bad_request(format!(
            "`limit` must be between 1 and {max}, not {n}"
        ))),
    }
}

/// One run.
pub async fn one(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Run> {
    get_run(&state, &id).await.map(Json)
}

/// The run `id` or a 404.
pub async fn get_run(state: &AppState, id: &str) -> Result<Run, ApiError> {
    state
        .storage
        .get_run(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("there is no run `{id}`")))
}

/// A run's events, oldest first.
pub async fn events(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<EventQuery>,
) -> ApiResult<EventList> {
    get_run(&state, &id).await?;
    let limit = limit_in(query.limit, 1000, 10_000)?;
    let events = state.storage.events_after(&id, query.after, limit).await?;
    let cursor = events.last().map(|e| e.storage_id).or(query.after);
    Ok(Json(EventList { events, cursor }))
}

/// What a client over the limit of runs at once is told to wait.
const RUNS_RETRY_AFTER: std::time::Duration = std::time::Duration::from_secs(5);

/// Launches a run; answers `201 Created` with the stored run.
pub async fn launch(
    State(state): State<AppState>,
    Json(body): Json<LaunchBody>,
) -> Result<(StatusCode, Json<Run>), ApiError> {
    let run = launch_run(&state, body).await?;
    Ok((StatusCode::CREATED, Json(run)))
}

/// Resolves and launches `body` (shared with the HTML launch form).
pub async fn launch_run(state: &AppState, body: LaunchBody) -> Result<Run, ApiError> {
    let request = resolve(state, body)?;
    let run_id = state.runs.launch(&state.host, request).await.map_err(|e| {
        use dg_core::Diagnostic;
        let hint = e.hint();
        let status = match &e {
            LaunchError::UnknownLocation(_) => StatusCode::NOT_FOUND,
            LaunchError::LocationFailed(_) => StatusCode::CONFLICT,
            LaunchError::ShuttingDown => StatusCode::SERVICE_UNAVAILABLE,
            LaunchError::TooManyRuns(_) => {
                return ApiError::too_many(e.to_string(), RUNS_RETRY_AFTER).with_hint(hint)
            }
            LaunchError::Run(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError::new(status, e.to_string()).with_hint(hint)
    })?;
    get_run(state, &run_id).await
}

fn resolve(state: &AppState, body: LaunchBody) -> Result<RunRequest, ApiError> {
    let config = match body.config {
        None | Some(serde_json::Value::Null) => serde_json::json!({}),
        Some(v @ serde_json::Value::Object(_)) => v,
        Some(_) => return Err(ApiError::bad_request("`config` must be a JSON object")),
    };
    let selection = body.selection.clone().filter(|s| !s.trim().is_empty());
    let (location, target) = match (&selection, &body.job) {
        (Some(_), Some(_)) | (None, None) => {
            return Err(ApiError::bad_request(
                "give exactly one of `selection` and `job`",
            ))
        }
        (Some(text), None) => {
            let view = state.host.view();
            let keys = selected_keys(&view, Some(text))?.unwrap_or_default();
            let owners_of = materializing_locations(state);
            let mut by_location: BTreeMap<String, Vec<Vec<String>>> = BTreeMap::new();
            let mut ambiguous = Vec::new();
            for key in keys {
                let owners = owners_of(&key);
                match (&body.location, &owners[..]) {
                    (Some(l), _) if owners.contains(l) => {
                        by_location.entry(l.clone()).or_default().push(key)
                    }
                    (Some(_), _) | (None, []) => {}
                    (None, [one]) => by_location.entry(one.clone()).or_default().push(key),
                    (None, _) => ambiguous.push((key.join("/"), owners)),
                }
            }
            // A key several locations materialize: which definition runs is the caller's choice.
            if let Some((key, owners)) = ambiguous.first() {
                let names: Vec<String> = owners.iter().map(|o| format!("`{o}`")).collect();
                return Err(ApiError::bad_request(format!(
                    "asset `{key}` is defined as executable in {} code locations: {}; a run \
                     needs one",
                    owners.len(),
                    names.join(", ")
                ))
                .with_hint(Some(format!(
                    "Name one with `location` ({}).",
                    names.join(" or ")
                ))));
            }
            let location = match (&body.location, by_location.len()) {
                (Some(l), _) => l.clone(),
                (None, 1) => by_location.keys().next().cloned().unwrap_or_default(),
                (None, 0) => {
                    return Err(ApiError::bad_request(format!(
                        "the selection `{text}` matches no materializable asset"
                    )))
                }
                (None, _) => {
                    return Err(ApiError::bad_request(format!(
                        "the selection `{text}` has assets in several code locations ({})",
                        by_location.keys().cloned().collect::<Vec<_>>().join(", ")
                    ))
                    .with_hint(Some("Launch one run per location with `location`.".into())))
                }
            };
            let keys = by_location.remove(&location).unwrap_or_default();
            if keys.is_empty() {
                return Err(ApiError::bad_request(format!(
                    "the selection `{text}` matches no materializable asset of `{location}`"
                )));
            }
            (
                location,
                RunTarget::Assets(keys.into_iter().map(dg_storage::AssetKey).collect()),
            )
        }
        (None, Some(job)) => {
            let location = match &body.location {
                Some(l) => l.clone(),
                None => {
                    let owners: Vec<String> = state
                        .host
                        .names()
                        .iter()
                        .filter(|n| {
                            state
                                .host
                                .snapshot(n)
                                .is_some_and(|s| s.jobs.iter().any(|j| &j.name == job))
                        })
                        .cloned()
                        .collect();
                    match owners.as_slice() {
                        [one] => one.clone(),
                        [] => return Err(ApiError::not_found(format!("there is no job `{job}`"))),
                        _ => {
                            return Err(ApiError::bad_request(format!(
                                "job `{job}` exists in several locations ({})",
                                owners.join(", ")
                            ))
                            .with_hint(Some("Name one with `location`.".into())))
                        }
                    }
                }
            };
            (location, RunTarget::Job(job.clone()))
        }
    };
    let mut request = RunRequest::new(location, target).with_config(config);
    request.selection = selection;
    request.partition = body.partition.filter(|p| !p.is_empty());
    request.tags = body.tags;
    Ok(request)
}

/// For an asset key, the loaded locations that define it as materializable (not a spec or stub
/// of it), in workspace order.
fn materializing_locations(state: &AppState) -> impl Fn(&[String]) -> Vec<String> {
    let snapshots: Vec<(String, std::sync::Arc<dg_location::DefinitionsSnapshot>)> = state
        .host
        .names()
        .iter()
        .filter_map(|n| state.host.snapshot(n).map(|s| (n.clone(), s)))
        .collect();
    move |key| {
        snapshots
            .iter()
            .filter(|(_, s)| {
                s.assets
                    .iter()
                    .any(|a| a.key == key && a.is_materializable && !a.is_auto_created_stub)
            })
            .map(|(name, _)| name.clone())
            .collect()
    }
}

/// The answer of `POST /api/runs/{id}/cancel`.
#[derive(Debug, Serialize)]
pub struct CancelAnswer {
    pub run_id: String,
    /// True when cancellation was requested now.
    pub canceling: bool,
}

/// Requests cancellation of a running run; `202 Accepted`.
pub async fn cancel(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<CancelAnswer>), ApiError> {
    let run = get_run(&state, &id).await?;
    if run.status.is_terminal() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("run `{id}` already finished ({})", run.status),
        ));
    }
    if !state.runs.cancel(&id) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("run `{id}` is not executed by this server"),
        )
        .with_hint(Some(
            "Runs started by `dg launch` are canceled with Ctrl-C in its terminal.".into(),
        )));
    }
    Ok((
        StatusCode::ACCEPTED,
        Json(CancelAnswer {
            run_id: id,
            canceling: true,
        }),
    ))
}
