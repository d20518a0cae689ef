//! `GET /api/assets` (optionally filtered by an asset selection) and `GET /api/assets/{key}`
//! (definition, neighbours and materialization history).

use std::collections::{BTreeMap, BTreeSet};

use axum::extract::{Path, Query, State};
use axum::Json;
use dg_host::locations::{WorkspaceAsset, WorkspaceView};
use dg_location::snapshot::{AssetSnapshot, MetadataEntry, PartitionsSnapshot};
use dg_storage::{AssetKey, EventKind, EventRecord, HistoryFilter};
use serde::{Deserialize, Serialize};

use super::{ApiError, ApiResult};
use crate::state::AppState;

/// Query of `GET /api/assets`.
#[derive(Debug, Default, Deserialize)]
pub struct AssetQuery {
    /// An asset selection (`group:raw`, `+key:orders`, ...); all assets when absent or blank.
    pub selection: Option<String>,
}

/// The latest materialization of an asset.
#[derive(Debug, Clone, Serialize)]
pub struct Materialization {
    pub run_id: String,
    pub timestamp: dg_storage::Timestamp,
    pub partition: Option<String>,
    pub metadata: dg_storage::Metadata,
    pub storage_id: i64,
}

/// An asset as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct AssetJson {
    /// The key as shown (`raw/orders`).
    pub key: String,
    /// The key's parts.
    pub path: Vec<String>,
    pub location: String,
    pub group: String,
    pub description: Option<String>,
    pub kinds: Vec<String>,
    pub tags: BTreeMap<String, String>,
    pub owners: Vec<String>,
    /// Upstream keys.
    pub deps: Vec<String>,
    /// Downstream keys.
    pub downstream: Vec<String>,
    pub is_materializable: bool,
    /// Defined by no loaded location (a dependency on something missing), or external.
    pub is_external: bool,
    pub partitions: Option<PartitionsSnapshot>,
    pub code_version: Option<String>,
    pub source: Option<String>,
    pub automation_condition: Option<String>,
    pub latest_materialization: Option<Materialization>,
}

/// The answer of `GET /api/assets`.
#[derive(Debug, Serialize)]
pub struct AssetList {
    /// The selection applied, if any.
    pub selection: Option<String>,
    pub assets: Vec<AssetJson>,
}

/// The answer of `GET /api/assets/{key}`.
#[derive(Debug, Serialize)]
pub struct AssetDetail {
    pub asset: AssetJson,
    pub metadata: BTreeMap<String, MetadataEntry>,
    /// Newest first.
    pub materializations: Vec<Materialization>,
}

/// The assets matching a selection, as API objects (shared with the HTML catalog).
pub async fn select_assets(
    state: &AppState,
    selection: Option<&str>,
) -> Result<Vec<AssetJson>, ApiError> {
    let view = state.host.view();
    let keys = selected_keys(&view, selection)?;
    let materialized: BTreeSet<AssetKey> = state
        .storage
        .materialized_asset_keys()
        .await?
        .into_iter()
        .collect();
    let mut out = Vec::new();
    for asset in &view.assets {
        if keys.as_ref().is_some_and(|k| !k.contains(&asset.asset.key)) {
            continue;
        }
        let key = asset.asset.key.clone();
        let latest = if materialized.contains(&key) {
            latest(state, &key).await?
        } else {
            None
        };
        out.push(asset_json(asset, latest));
    }
    Ok(out)
}

/// `None` for every asset, else the keys the selection picks.
pub fn selected_keys(
    view: &WorkspaceView,
    selection: Option<&str>,
) -> Result<Option<BTreeSet<AssetKey>>, ApiError> {
    let Some(text) = selection.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    let expr = dg_selection::parse(text).map_err(selection_error)?;
    let keys = dg_selection::select(&view.graph, &expr).map_err(selection_error)?;
    Ok(Some(keys.into_iter().collect()))
}

/// 400 with the error; a syntax error (also one past a limit: too long, too many terms, too
/// deep) already says "invalid asset selection at column N" and shows a window of the text there.
fn selection_error(err: dg_selection::SelectionError) -> ApiError {
    let hint = err.hint();
    let message = match &err {
        dg_selection::SelectionError::Syntax(_) => err.to_string(),
        _ => format!("invalid asset selection: {err}"),
    };
    ApiError::bad_request(message).with_hint(hint)
}

/// Assets, optionally filtered by `?selection=`.
pub async fn list(
    State(state): State<AppState>,
    Query(query): Query<AssetQuery>,
) -> ApiResult<AssetList> {
    let assets = select_assets(&state, query.selection.as_deref()).await?;
    Ok(Json(AssetList {
        selection: query.selection.filter(|s| !s.trim().is_empty()),
        assets,
    }))
}

/// One asset: `/api/assets/raw/orders` is the key `raw/orders`.
pub async fn one(State(state): State<AppState>, Path(key): Path<String>) -> ApiResult<AssetDetail> {
    asset_detail(&state, &key).await.map(Json)
}

/// The detail of the asset `key` (`a/b`), shared with the HTML asset page.
pub async fn asset_detail(state: &AppState, key: &str) -> Result<AssetDetail, ApiError> {
    let parts: Vec<String> = key.split('/').map(str::to_owned).collect();
    let view = state.host.view();
    let asset = view.get(&parts).ok_or_else(|| {
        ApiError::not_found(format!(
            "there is no asset `{key}` in the loaded code locations"
        ))
        .with_hint(Some("`GET /api/assets` lists them.".into()))
    })?;
    let history = state
        .storage
        .materialization_history(
            &asset.asset.key,
            &HistoryFilter {
                limit: Some(100),
                ..HistoryFilter::default()
            },
        )
        .await?;
    let materializations: Vec<Materialization> =
        history.iter().filter_map(materialization).collect();
    Ok(AssetDetail {
        asset: asset_json(asset, materializations.first().cloned()),
        metadata: asset.asset.metadata.clone(),
        materializations,
    })
}

async fn latest(state: &AppState, key: &AssetKey) -> Result<Option<Materialization>, ApiError> {
    let records = state.storage.latest_materializations(key).await?;
    Ok(records.first().and_then(materialization))
}

fn materialization(record: &EventRecord) -> Option<Materialization> {
    match &record.event.kind {
        EventKind::AssetMaterialization {
            partition,
            metadata,
            ..
        } => Some(Materialization {
            run_id: record.run_id.clone(),
            timestamp: record.event.timestamp,
            partition: partition.clone(),
            metadata: metadata.clone(),
            storage_id: record.storage_id,
        }),
        _ => None,
    }
}

fn asset_json(asset: &WorkspaceAsset, latest: Option<Materialization>) -> AssetJson {
    let a: &AssetSnapshot = &asset.asset;
    AssetJson {
        key: a.key_string(),
        path: a.key.to_vec(),
        location: asset.location.clone(),
        group: a.group_name.clone(),
        description: a.description.clone(),
        kinds: a.kinds.clone(),
        tags: a
            .tags
            .iter()
            .filter(|(k, _)| !k.starts_with("dagster/kind/"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        owners: a.owners.clone(),
        deps: a.deps.iter().map(|d| d.to_user_string()).collect(),
        downstream: asset
            .downstream
            .iter()
            .map(|d| d.to_user_string())
            .collect(),
        is_materializable: a.is_materializable && !a.is_auto_created_stub,
        is_external: !a.is_materializable || a.is_auto_created_stub,
        partitions: a.partitions.clone(),
        code_version: a.code_version.clone(),
        source: a.source.clone(),
        automation_condition: a
            .automation_condition
            .as_ref()
            .and_then(|c| c.label.clone()),
        latest_materialization: latest,
    }
}
