//! The HTML pages' handlers: they gather data (the same functions the API uses) and hand it to the
//! templates under `render/`. Forms post here (`/runs`, `/runs/{id}/cancel`,
//! `/locations/{name}/reload`) and redirect with `303 See Other`; the cross-site guard in
//! [`crate::app`] protects them.

mod lineage;
mod status;

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use dg_storage::RunFilter;
use maud::{html, Markup};
use serde::Deserialize;

use crate::api::assets::{asset_detail, select_assets, AssetQuery};
use crate::api::runs::{get_run, launch_run, run_filter, LaunchBody, RunQuery};
use crate::api::ApiError;
use crate::render::{catalog, overview, page, run_page, runs};
use crate::state::AppState;

/// The page routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(overview_page))
        .route("/locations/{name}/reload", post(reload))
        .route("/assets", get(catalog_page))
        .route("/assets/{*key}", get(asset_page))
        .route("/lineage", get(lineage::page))
        .route("/runs", get(runs_page).post(launch))
        .route("/runs/{id}", get(run_page))
        .route("/runs/{id}/cancel", post(cancel))
        .route("/launch", get(launch_page))
        .fallback(|| async { error_page(ApiError::not_found("no such page")) })
}

fn html(markup: Markup) -> Response {
    Html(markup.into_string()).into_response()
}

/// An error as a page (status kept).
fn error_page(err: ApiError) -> Response {
    let body = html! {
        h1 { "Error" }
        p.error-message { (err.message) }
        @if let Some(h) = &err.hint { p.hint { "hint: " (h) } }
    };
    (
        err.status,
        Html(page::page("Error", page::Nav::None, body).into_string()),
    )
        .into_response()
}

async fn overview_page(State(state): State<AppState>) -> Response {
    let filter = RunFilter {
        limit: Some(10),
        ..RunFilter::default()
    };
    match state.storage.list_runs(&filter).await {
        Ok(list) => {
            let rows: Vec<_> = list.iter().map(runs::run_row).collect();
            html(overview::overview(&state.host.locations(), &rows))
        }
        Err(e) => error_page(e.into()),
    }
}

async fn reload(State(state): State<AppState>, Path(name): Path<String>) -> Response {
    match state.host.request_reload(&name) {
        // Already reloading since a moment ago: the overview shows that load.
        Ok(()) | Err(dg_host::locations::ReloadRefused::TooSoon { .. }) => {
            Redirect::to("/").into_response()
        }
        Err(refused) => error_page(crate::api::locations::reload_error(refused)),
    }
}

async fn catalog_page(State(state): State<AppState>, Query(query): Query<AssetQuery>) -> Response {
    let selection = query.selection.unwrap_or_default();
    let statuses =
        match status::asset_statuses(state.storage.as_ref(), &state.host.view(), None).await {
            Ok(statuses) => statuses,
            Err(e) => return error_page(e),
        };
    match select_assets(&state, Some(&selection)).await {
        Ok(assets) => html(catalog::catalog(&selection, &assets, &statuses, None)),
        Err(e) if e.status == StatusCode::BAD_REQUEST => {
            let text = match &e.hint {
                Some(h) => format!("{}\n{h}", e.message),
                None => e.message.clone(),
            };
            (
                StatusCode::BAD_REQUEST,
                html(catalog::catalog(&selection, &[], &statuses, Some(&text))),
            )
                .into_response()
        }
        Err(e) => error_page(e),
    }
}

async fn asset_page(State(state): State<AppState>, Path(key): Path<String>) -> Response {
    let result = async {
        let detail = asset_detail(&state, &key).await?;
        let view = state.host.view();
        let only = Some(detail.asset.path.as_slice());
        let statuses = status::asset_statuses(state.storage.as_ref(), &view, only).await?;
        let status = statuses
            .get(detail.asset.path.as_slice())
            .copied()
            .unwrap_or(dg_layout::NodeStatus::Unknown);
        Ok::<_, ApiError>((detail, status))
    }
    .await;
    match result {
        Ok((detail, status)) => html(catalog::asset_page(&detail, status)),
        Err(e) => error_page(e),
    }
}

async fn runs_page(State(state): State<AppState>, Query(query): Query<RunQuery>) -> Response {
    let result = async {
        let filter = run_filter(&query)?;
        Ok::<_, ApiError>(state.storage.list_runs(&filter).await?)
    }
    .await;
    match result {
        Ok(list) => {
            let rows: Vec<_> = list.iter().map(runs::run_row).collect();
            html(runs::runs_list(
                &rows,
                query.status.as_deref().unwrap_or(""),
                query.location.as_deref().unwrap_or(""),
                state.host.names(),
            ))
        }
        Err(e) => error_page(e),
    }
}

async fn run_page(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let result = async {
        let run = get_run(&state, &id).await?;
        let events = state.storage.events_after(&id, None, 10_000).await?;
        // Output that cannot be read is said in its section; the rest of the page still shows.
        let logs = crate::api::logs::read(&state, &id)
            .await
            .map_err(|e| e.message);
        Ok::<_, ApiError>((run, events, logs))
    }
    .await;
    match result {
        Ok((run, events, logs)) => html(run_page::run_page(
            &run,
            &events,
            state.runs.is_active(&id),
            &logs,
        )),
        Err(e) => error_page(e),
    }
}

async fn cancel(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    state.runs.cancel(&id);
    Redirect::to(&format!("/runs/{id}")).into_response()
}

/// Query of the launch form: prefilled values.
#[derive(Debug, Default, Deserialize)]
struct LaunchQuery {
    selection: Option<String>,
    location: Option<String>,
}

async fn launch_page(State(state): State<AppState>, Query(query): Query<LaunchQuery>) -> Response {
    let form = runs::LaunchForm {
        selection: query.selection.unwrap_or_default(),
        location: query.location.unwrap_or_default(),
        ..runs::LaunchForm::default()
    };
    html(runs::launch_page(&form, state.host.names()))
}

/// The fields of the launch form and of an asset page's materialize button.
#[derive(Debug, Default, Deserialize)]
struct LaunchFields {
    #[serde(default)]
    asset: String,
    #[serde(default)]
    selection: String,
    #[serde(default)]
    job: String,
    #[serde(default)]
    location: String,
    #[serde(default)]
    partition: String,
    #[serde(default)]
    config: String,
    #[serde(default)]
    tags: String,
}

async fn launch(State(state): State<AppState>, Form(fields): Form<LaunchFields>) -> Response {
    let mut form = runs::LaunchForm {
        selection: fields.selection.clone(),
        job: fields.job.clone(),
        location: fields.location.clone(),
        partition: fields.partition.clone(),
        config: fields.config.clone(),
        tags: fields.tags.clone(),
        error: None,
    };
    let body = match launch_body(fields) {
        Ok(body) => body,
        Err(message) => {
            form.error = Some(message);
            return (
                StatusCode::BAD_REQUEST,
                html(runs::launch_page(&form, state.host.names())),
            )
                .into_response();
        }
    };
    match launch_run(&state, body).await {
        Ok(run) => Redirect::to(&format!("/runs/{}", run.run_id)).into_response(),
        Err(e) => {
            form.error = Some(match &e.hint {
                Some(h) => format!("{} ({h})", e.message),
                None => e.message.clone(),
            });
            (e.status, html(runs::launch_page(&form, state.host.names()))).into_response()
        }
    }
}

fn launch_body(fields: LaunchFields) -> Result<LaunchBody, String> {
    let selection = if fields.asset.is_empty() {
        fields.selection
    } else {
        // An exact key: quoted so that characters of the language in a key name are literal.
        format!("key:\"{}\"", fields.asset)
    };
    let config = match fields.config.trim() {
        "" => None,
        text => Some(
            serde_json::from_str::<serde_json::Value>(text)
                .map_err(|e| format!("the run config is not valid JSON: {e}"))?,
        ),
    };
    let mut tags = BTreeMap::new();
    for line in fields.tags.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let (k, v) = line
            .split_once('=')
            .ok_or_else(|| format!("tag line `{line}` is not `key=value`"))?;
        tags.insert(k.trim().to_owned(), v.trim().to_owned());
    }
    let none_if_empty = |s: String| Some(s).filter(|s| !s.trim().is_empty());
    Ok(LaunchBody {
        selection: none_if_empty(selection),
        job: none_if_empty(fields.job),
        location: none_if_empty(fields.location),
        partition: none_if_empty(fields.partition),
        config,
        tags,
    })
}
