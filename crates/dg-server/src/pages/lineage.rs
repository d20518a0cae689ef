//! The lineage page: the graph of every loaded location (or of a selection), laid out by
//! [`dg_layout`] and drawn by [`crate::render::graph`], nodes coloured by their status
//! (materializing, failed, stale, materialized, never; see [`super::status`]).

use std::collections::BTreeSet;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use dg_layout::{layout, GraphInput, LayoutOptions, NodeIn, NodeStatus};
use maud::html;

use super::status::asset_statuses;
use crate::api::assets::{selected_keys, AssetQuery};
use crate::render::catalog::{selection_error, selection_form};
use crate::render::fmt::page_assets;
use crate::render::graph::lineage_view;
use crate::render::page::{page as shell, Nav};
use crate::state::AppState;

/// `GET /lineage?selection=`.
pub async fn page(State(state): State<AppState>, Query(query): Query<AssetQuery>) -> Response {
    let selection = query.selection.unwrap_or_default();
    let view = state.host.view();
    let (keys, error) = match selected_keys(&view, Some(&selection)) {
        Ok(keys) => (keys, None),
        Err(e) => {
            let text = match &e.hint {
                Some(hint) => format!("{}\n{hint}", e.message),
                None => e.message,
            };
            (Some(BTreeSet::new()), Some(text))
        }
    };
    let statuses = match asset_statuses(state.storage.as_ref(), &view, None).await {
        Ok(statuses) => statuses,
        Err(e) => return super::error_page(e),
    };
    let mut graph = GraphInput::default();
    let mut index = std::collections::HashMap::new();
    for asset in &view.assets {
        if keys.as_ref().is_some_and(|k| !k.contains(&asset.asset.key)) {
            continue;
        }
        let key = asset.key_string();
        let status = statuses
            .get(&asset.asset.key)
            .copied()
            .unwrap_or(NodeStatus::Unknown);
        index.insert(asset.asset.key.clone(), graph.nodes.len());
        graph.nodes.push(NodeIn {
            label: asset.asset.key.last().cloned().unwrap_or_default(),
            id: key,
            group: asset.asset.group_name.clone(),
            location: asset.location.clone(),
            status,
        });
    }
    for asset in &view.assets {
        let Some(&to) = index.get(&asset.asset.key) else {
            continue;
        };
        for dep in &asset.asset.deps {
            if let Some(&from) = index.get(dep) {
                graph.edges.push((from, to));
            }
        }
    }
    let options = LayoutOptions::default();
    let placed = match layout(&graph, &options) {
        Ok(placed) => placed,
        Err(e) => return (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    };
    let body = html! {
        (page_assets())
        (selection_form("/lineage", &selection))
        @if let Some(e) = &error { (selection_error(e)) }
        (lineage_view(&graph, &placed, &options))
    };
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    (
        status,
        Html(shell("Lineage", Nav::Lineage, body).into_string()),
    )
        .into_response()
}
