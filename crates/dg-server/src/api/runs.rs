//! Runs: `GET /api/runs` (filters), `POST /api/runs` (launch an asset selection or a job),
//! `GET /api/runs/{id}`, `GET /api/runs/{id}/events`, `POST /api/runs/{id}/cancel`.
//!
//! Runs launched by `dg launch` in another process share the instance, so they are listed too.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use dg_host::runs::LaunchError;
use dg_runs::{RunRequest, RunTarget};
use dg_storage::{EventRecord, Run, RunFilter, RunStatus};
use dg_workspace::{ResolveError, Target};
use serde::{Deserialize, Serialize};

use super::assets::selected_keys;
use super::{ApiError, ApiResult};
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
    /// An asset selection; spanning several locations, it runs as one run per location (upstream
    /// first), unless `location` names the one to run in.
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

/// The answer of `POST /api/runs`: the run launched now, and for a selection that spans
/// locations, the runs that follow it.
#[derive(Debug, Serialize)]
pub struct LaunchAnswer {
    #[serde(flatten)]
    pub run: Run,
    /// The runs of the other locations, in the order they are launched: each when the one before
    /// it succeeded (as `dg launch` does), none after a run that failed or was canceled. Absent
    /// when there is one run.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub next_runs: Vec<NextRun>,
}

/// A run that is launched after the one before it succeeds.
#[derive(Debug, Serialize)]
pub struct NextRun {
    pub location: String,
    /// Its asset keys, as written in selections (`a/b`).
    pub assets: Vec<String>,
}

/// Launches a run (or, for a selection spanning locations, one run per location, upstream
/// first); answers `201 Created` with the first stored run.
pub async fn launch(
    State(state): State<AppState>,
    Json(body): Json<LaunchBody>,
) -> Result<(StatusCode, Json<LaunchAnswer>), ApiError> {
    let (run, next) = launch_runs(&state, body).await?;
    let next_runs = next
        .iter()
        .map(|request| NextRun {
            location: request.location.clone(),
            assets: match &request.target {
                RunTarget::Assets(keys) => keys.iter().map(|k| k.to_user_string()).collect(),
                RunTarget::Job(_) => Vec::new(),
            },
        })
        .collect();
    Ok((StatusCode::CREATED, Json(LaunchAnswer { run, next_runs })))
}

/// Resolves and launches `body` (shared with the HTML launch form); the first run.
pub async fn launch_run(state: &AppState, body: LaunchBody) -> Result<Run, ApiError> {
    launch_runs(state, body).await.map(|(run, _)| run)
}

/// Launches the first run of `body` now and the others, if any, one after another as each
/// predecessor succeeds; the first run and the requests of the others.
async fn launch_runs(
    state: &AppState,
    body: LaunchBody,
) -> Result<(Run, Vec<RunRequest>), ApiError> {
    let mut requests = resolve(state, body)?.into_iter();
    let first = requests
        .next()
        .expect("a target resolves to at least one run");
    let next: Vec<RunRequest> = requests.collect();
    // Subscribed before the first run starts, so its end cannot be missed.
    let events = (!next.is_empty()).then(|| state.host.subscribe());
    let run_id = launch_one(state, first).await?;
    if let Some(events) = events {
        let (runs, host) = (state.runs.clone(), state.host.clone());
        let (after, next) = (run_id.clone(), next.clone());
        tokio::spawn(async move { runs.launch_after(&host, after, next, events).await });
    }
    Ok((get_run(state, &run_id).await?, next))
}

async fn launch_one(state: &AppState, request: RunRequest) -> Result<String, ApiError> {
    state.runs.launch(&state.host, request).await.map_err(|e| {
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
    })
}

/// The run requests of `body`: one, or one per location for a selection that spans several,
/// upstream locations first ([`dg_workspace::Workspace::resolve_targets`]).
fn resolve(state: &AppState, body: LaunchBody) -> Result<Vec<RunRequest>, ApiError> {
    let config = match body.config {
        None | Some(serde_json::Value::Null) => serde_json::json!({}),
        Some(v @ serde_json::Value::Object(_)) => v,
        Some(_) => return Err(ApiError::bad_request("`config` must be a JSON object")),
    };
    let selection = body.selection.clone().filter(|s| !s.trim().is_empty());
    let view = state.host.view();
    let target = match (&selection, &body.job) {
        (Some(_), Some(_)) | (None, None) => {
            return Err(ApiError::bad_request(
                "give exactly one of `selection` and `job`",
            ))
        }
        // A named location is taken as given: the run manager says if it is unknown or failed.
        (None, Some(_)) if body.location.is_some() => None,
        (None, Some(job)) => Some(Target::Job {
            name: job.clone(),
            location: None,
        }),
        (Some(text), None) => {
            let keys = selected_keys(&view, Some(text))?.unwrap_or_default();
            Some(Target::Selection {
                keys: keys.into_iter().collect(),
                text: text.clone(),
                location: body.location.clone(),
            })
        }
    };
    let runs: Vec<(String, RunTarget)> = match target {
        None => vec![(
            body.location.clone().unwrap_or_default(),
            RunTarget::Job(body.job.clone().unwrap_or_default()),
        )],
        Some(target) => view
            .resolve_targets(target)
            .map_err(|e| resolve_error(e, selection.as_deref()))?
            .into_iter()
            .map(|run| (run.location, run.target))
            .collect(),
    };
    let partition = body.partition.filter(|p| !p.is_empty());
    Ok(runs
        .into_iter()
        .map(|(location, target)| {
            let mut request = RunRequest::new(location, target).with_config(config.clone());
            request.selection = selection.clone();
            request.partition = partition.clone();
            request.tags = body.tags.clone();
            request
        })
        .collect())
}

/// A target that resolves to no run, as the API says it.
fn resolve_error(err: ResolveError, text: Option<&str>) -> ApiError {
    match err {
        ResolveError::UnknownJob { job, .. } => {
            ApiError::not_found(format!("there is no job `{job}`"))
        }
        ResolveError::JobInSeveralLocations { job, owners } => ApiError::bad_request(format!(
            "job `{job}` exists in several locations ({})",
            owners.join(", ")
        ))
        .with_hint(Some("Name one with `location`.".into())),
        ResolveError::NothingMaterializable { text } => ApiError::bad_request(format!(
            "the selection `{text}` matches no materializable asset"
        )),
        // An unknown location has nothing to materialize either (only selections name one here).
        ResolveError::NothingInLocation { location, .. }
        | ResolveError::UnknownLocation { location, .. } => ApiError::bad_request(format!(
            "the selection `{}` matches no materializable asset of `{location}`",
            text.unwrap_or_default()
        )),
        ResolveError::Ambiguous { ref keys } => {
            let names: Vec<String> = keys[0].1.iter().map(|o| format!("`{o}`")).collect();
            ApiError::bad_request(err.to_string()).with_hint(Some(format!(
                "Name one with `location` ({}).",
                names.join(" or ")
            )))
        }
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
