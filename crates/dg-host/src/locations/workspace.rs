//! The assets of every loaded location as one workspace: the combined asset graph that selections
//! are evaluated on and that the lineage page draws, rebuilt whenever a location's snapshot changes.
//!
//! An asset defined in one location and referenced by another (Dagster's auto-created stub) is
//! listed once, under the location that defines it, so dependencies cross locations by key.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use dg_location::snapshot::AssetSnapshot;
use dg_location::DefinitionsSnapshot;
use dg_selection::{AssetGraph, AssetNode};

/// One asset and the location that defines it.
#[derive(Debug, Clone)]
pub struct WorkspaceAsset {
    /// The defining location (or the first one that mentions it, for a dependency nobody defines).
    pub location: String,
    pub asset: AssetSnapshot,
    /// Downstream assets (in any location), sorted by key.
    pub downstream: Vec<Vec<String>>,
}

impl WorkspaceAsset {
    /// The key as shown: parts joined by `/`.
    pub fn key_string(&self) -> String {
        self.asset.key_string()
    }
}

/// All assets of the loaded snapshots, indexed by key, and their selection graph.
#[derive(Debug, Default)]
pub struct WorkspaceView {
    /// Sorted by key.
    pub assets: Vec<WorkspaceAsset>,
    index: HashMap<Vec<String>, usize>,
    /// The graph the selection language evaluates on.
    pub graph: AssetGraph,
}

impl WorkspaceView {
    /// Combines the snapshots (location name, snapshot) in workspace order.
    pub fn build(snapshots: &[(String, Arc<DefinitionsSnapshot>)]) -> Self {
        let mut merged: BTreeMap<Vec<String>, WorkspaceAsset> = BTreeMap::new();
        let mut nodes = Vec::new();
        for (location, snapshot) in snapshots {
            for asset in &snapshot.assets {
                nodes.push(node(location, asset));
                let replace = match merged.get(&asset.key) {
                    None => true,
                    Some(existing) => {
                        existing.asset.is_auto_created_stub && !asset.is_auto_created_stub
                    }
                };
                if replace {
                    merged.insert(
                        asset.key.clone(),
                        WorkspaceAsset {
                            location: location.clone(),
                            asset: asset.clone(),
                            downstream: Vec::new(),
                        },
                    );
                }
            }
        }
        let mut assets: Vec<WorkspaceAsset> = merged.into_values().collect();
        let index: HashMap<Vec<String>, usize> = assets
            .iter()
            .enumerate()
            .map(|(i, a)| (a.asset.key.clone(), i))
            .collect();
        let mut downstream: Vec<Vec<Vec<String>>> = vec![Vec::new(); assets.len()];
        for a in &assets {
            for dep in &a.asset.deps {
                if let Some(&i) = index.get(dep) {
                    downstream[i].push(a.asset.key.clone());
                }
            }
        }
        for (a, mut down) in assets.iter_mut().zip(downstream) {
            down.sort();
            down.dedup();
            a.downstream = down;
        }
        Self {
            assets,
            index,
            graph: AssetGraph::new(nodes),
        }
    }

    /// The asset with this key.
    pub fn get(&self, key: &[String]) -> Option<&WorkspaceAsset> {
        self.index.get(key).map(|&i| &self.assets[i])
    }

    /// Index of an asset in [`Self::assets`].
    pub fn position(&self, key: &[String]) -> Option<usize> {
        self.index.get(key).copied()
    }
}

/// The shared selection node ([`dg_runs::plan::asset_node`]); in the UI an auto-created stub is
/// never materializable here, and every materializable asset is in the implicit asset job.
fn node(location: &str, asset: &AssetSnapshot) -> AssetNode {
    let mut node = dg_runs::plan::asset_node(location, asset);
    node.is_materializable = asset.is_materializable && !asset.is_auto_created_stub;
    if node.is_materializable {
        node.jobs.insert("__ASSET_JOB".to_owned());
    }
    node
}
