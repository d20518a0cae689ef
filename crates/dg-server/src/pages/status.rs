//! The status of every asset as the lineage graph and the catalog colour it, from storage:
//!
//! - materializing: a run in progress targets it (its selection picks the asset, or one of its
//!   steps for the asset has started) and has not materialized it yet;
//! - failed: the step of the asset failed in a recent run, later than its latest materialization;
//! - stale: materialized, but an upstream asset was materialized after it;
//! - materialized, or never materialized (stubs of other locations' assets and assets that
//!   cannot be materialized stay unknown).
//!
//! Only the most recent runs are read (their events only for runs in progress and failed runs),
//! and the staleness check needs one query per materialized asset, so it is skipped above
//! [`STALE_CHECK_LIMIT`] materialized assets.

use std::collections::{HashMap, HashSet};

use dg_host::locations::WorkspaceView;
use dg_layout::NodeStatus;
use dg_storage::{AssetKey, EventKind, RunFilter, RunStatus, Storage, Timestamp};

use crate::api::assets::selected_keys;
use crate::api::ApiError;

/// How many of the newest runs are looked at.
const RECENT_RUNS: u32 = 200;
/// How many failed runs' events are read to find the steps that failed.
const FAILED_RUNS_READ: usize = 20;
/// Events read per run.
const EVENTS_PER_RUN: u32 = 10_000;
/// Above this many materialized assets, staleness is not computed (one query each).
pub const STALE_CHECK_LIMIT: usize = 5_000;

/// Dagster's step key for an asset defined by its own op: the key's parts joined by `__`.
fn step_key(key: &[String]) -> String {
    key.join("__")
}

/// The status of every asset of `view` (of the asset `only`, when given), by key.
pub async fn asset_statuses(
    storage: &dyn Storage,
    view: &WorkspaceView,
    only: Option<&[String]>,
) -> Result<HashMap<AssetKey, NodeStatus>, ApiError> {
    let mut materialized: Vec<AssetKey> = storage.materialized_asset_keys().await?;
    if let Some(asset) = only.and_then(|key| view.get(key)) {
        // The asset and its upstream assets are all its status depends on.
        materialized.retain(|k| *k == asset.asset.key || asset.asset.deps.contains(k));
    }
    let mut materialized_at: HashMap<AssetKey, Timestamp> = HashMap::new();
    let check_stale = materialized.len() <= STALE_CHECK_LIMIT;
    for key in &materialized {
        let at = if check_stale {
            let records = storage.latest_materializations(key).await?;
            records
                .iter()
                .map(|r| r.event.timestamp)
                .max()
                .unwrap_or(Timestamp::MIN)
        } else {
            Timestamp::MIN
        };
        materialized_at.insert(key.clone(), at);
    }
    let by_step: HashMap<String, &AssetKey> = view
        .assets
        .iter()
        .filter(|a| !a.asset.is_auto_created_stub)
        .map(|a| (step_key(&a.asset.key), &a.asset.key))
        .collect();

    let runs = storage
        .list_runs(&RunFilter {
            limit: Some(RECENT_RUNS),
            ..RunFilter::default()
        })
        .await?;
    let mut running: HashSet<AssetKey> = HashSet::new();
    let mut failed_at: HashMap<AssetKey, Timestamp> = HashMap::new();
    let mut failed_read = 0;
    for run in &runs {
        let in_progress = !run.status.is_terminal();
        let failed = run.status == RunStatus::Failure && failed_read < FAILED_RUNS_READ;
        if !in_progress && !failed {
            continue;
        }
        let events = storage
            .events_after(&run.run_id, None, EVENTS_PER_RUN)
            .await?;
        if in_progress {
            let mut targets: HashSet<AssetKey> = HashSet::new();
            if let Ok(Some(keys)) = selected_keys(view, run.selection.as_deref()) {
                targets.extend(
                    keys.into_iter()
                        .filter(|k| view.get(k).is_some_and(|a| a.location == run.location)),
                );
            }
            for record in &events {
                let e = &record.event;
                match (&e.kind, &e.step_key) {
                    (EventKind::StepStart, Some(step)) => {
                        if let Some(key) = by_step.get(step) {
                            targets.insert((*key).clone());
                        }
                    }
                    (EventKind::AssetMaterialization { asset_key, .. }, _) => {
                        targets.remove(asset_key);
                    }
                    _ => {}
                }
            }
            running.extend(targets);
        } else {
            failed_read += 1;
            let at = run.ended_at.unwrap_or(run.updated_at);
            for record in &events {
                if let (EventKind::StepFailure { .. }, Some(step)) =
                    (&record.event.kind, &record.event.step_key)
                {
                    if let Some(key) = by_step.get(step) {
                        let entry = failed_at.entry((*key).clone()).or_insert(at);
                        *entry = (*entry).max(at);
                    }
                }
            }
        }
    }

    let mut out = HashMap::with_capacity(view.assets.len());
    for asset in &view.assets {
        let a = &asset.asset;
        if only.is_some_and(|key| *key != *a.key) {
            continue;
        }
        let done = materialized_at.get(&a.key).copied();
        let status = if running.contains(&a.key) {
            NodeStatus::Running
        } else if failed_at
            .get(&a.key)
            .is_some_and(|&f| done.is_none_or(|m| f > m))
        {
            NodeStatus::Failed
        } else if let Some(m) = done {
            let newer_upstream = check_stale
                && a.deps
                    .iter()
                    .any(|d| materialized_at.get(d).is_some_and(|&upstream| upstream > m));
            if newer_upstream {
                NodeStatus::Stale
            } else {
                NodeStatus::Materialized
            }
        } else if a.is_materializable && !a.is_auto_created_stub {
            NodeStatus::Missing
        } else {
            NodeStatus::Unknown
        };
        out.insert(a.key.clone(), status);
    }
    Ok(out)
}
