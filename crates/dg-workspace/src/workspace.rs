//! [`Workspace`]: every asset of the loaded locations, one entry per key chosen by the stub rule
//! (see the crate docs), with downstream lists, owners and the selection graph.

use std::collections::{BTreeMap, HashMap};

use dg_location::snapshot::AssetSnapshot;
use dg_location::DefinitionsSnapshot;
use dg_selection::{AssetGraph, AssetKey, AssetNode, PartitionsKind};

/// The job Dagster puts every materializable asset in (shown in the UI, matched by `job:`).
pub const IMPLICIT_ASSET_JOB: &str = "__ASSET_JOB";

/// One asset and the location that defines it.
#[derive(Debug, Clone)]
pub struct WorkspaceAsset {
    /// The defining location (or the first one that mentions it, for a dependency nobody defines).
    pub location: String,
    pub asset: AssetSnapshot,
    /// Downstream assets (in any location), sorted by key.
    pub downstream: Vec<AssetKey>,
}

impl WorkspaceAsset {
    /// The key as shown: parts joined by `/`.
    pub fn key_string(&self) -> String {
        self.asset.key_string()
    }
}

/// The merged assets of the loaded locations, indexed by key, and their selection graph.
#[derive(Debug, Default)]
pub struct Workspace {
    /// One entry per key, sorted by key.
    pub assets: Vec<WorkspaceAsset>,
    index: HashMap<AssetKey, usize>,
    /// The graph the selection language evaluates on.
    pub graph: AssetGraph,
    /// Locations in the order given.
    pub(crate) locations: Vec<String>,
    /// For each key, the locations that define it as materializable (not a spec or stub), in the
    /// order given.
    pub(crate) owners: BTreeMap<AssetKey, Vec<String>>,
    /// Job names of each location.
    pub(crate) jobs: BTreeMap<String, Vec<String>>,
}

/// How strongly a definition claims its key: materializable, then external spec, then stub.
fn rank(asset: &AssetSnapshot) -> u8 {
    match (asset.is_auto_created_stub, asset.is_materializable) {
        (true, _) => 0,
        (false, false) => 1,
        (false, true) => 2,
    }
}

impl Workspace {
    /// Merges the snapshots of `locations` (name, snapshot); the order decides ties (the first
    /// of two materializable definitions is shown) and the order owners are listed in.
    pub fn new<'a>(
        locations: impl IntoIterator<Item = (&'a str, &'a DefinitionsSnapshot)>,
    ) -> Self {
        Self::build(locations, false)
    }

    /// [`Self::new`] as the UI sees it: every materializable asset is also in the implicit asset
    /// job ([`IMPLICIT_ASSET_JOB`]), as in Dagster's webserver.
    pub fn with_asset_job<'a>(
        locations: impl IntoIterator<Item = (&'a str, &'a DefinitionsSnapshot)>,
    ) -> Self {
        Self::build(locations, true)
    }

    fn build<'a>(
        locations: impl IntoIterator<Item = (&'a str, &'a DefinitionsSnapshot)>,
        asset_job: bool,
    ) -> Self {
        let mut names = Vec::new();
        let mut jobs = BTreeMap::new();
        let mut owners: BTreeMap<AssetKey, Vec<String>> = BTreeMap::new();
        // Every definition of each key, in the order given.
        let mut defs: BTreeMap<AssetKey, Vec<(&'a str, &'a AssetSnapshot)>> = BTreeMap::new();
        for (location, snapshot) in locations {
            names.push(location.to_owned());
            jobs.insert(
                location.to_owned(),
                snapshot.jobs.iter().map(|j| j.name.clone()).collect(),
            );
            for asset in &snapshot.assets {
                if rank(asset) == 2 {
                    let list = owners.entry(asset.key.clone()).or_default();
                    if !list.iter().any(|l| l == location) {
                        list.push(location.to_owned());
                    }
                }
                defs.entry(asset.key.clone())
                    .or_default()
                    .push((location, asset));
            }
        }
        let mut assets = Vec::with_capacity(defs.len());
        let mut nodes = Vec::new();
        for list in defs.values() {
            let best = list.iter().map(|(_, a)| rank(a)).max().unwrap_or(0);
            let &(location, asset) = list
                .iter()
                .find(|(_, a)| rank(a) == best)
                .expect("a key has a definition");
            assets.push(WorkspaceAsset {
                location: location.to_owned(),
                asset: asset.clone(),
                downstream: Vec::new(),
            });
            // The chosen definition first, so the graph keeps it; other real definitions (specs
            // of it elsewhere) add their deps and the jobs, sensors and schedules that target it.
            nodes.push(node(location, asset, asset_job));
            for &(other_location, other) in list {
                if !std::ptr::eq(other, asset) && (rank(other) > 0 || best == 0) {
                    nodes.push(node(other_location, other, asset_job));
                }
            }
        }
        let index: HashMap<AssetKey, usize> = assets
            .iter()
            .enumerate()
            .map(|(i, a)| (a.asset.key.clone(), i))
            .collect();
        let mut downstream: Vec<Vec<AssetKey>> = vec![Vec::new(); assets.len()];
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
            locations: names,
            owners,
            jobs,
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

    /// The locations, in the order given.
    pub fn locations(&self) -> &[String] {
        &self.locations
    }

    /// The locations that define `key` as materializable (not a spec or stub of it).
    pub fn owners(&self, key: &AssetKey) -> &[String] {
        self.owners.get(key).map(Vec::as_slice).unwrap_or_default()
    }

    /// Keys that several locations define as materializable, with those locations.
    pub fn ambiguous(&self) -> impl Iterator<Item = (&AssetKey, &[String])> {
        self.owners
            .iter()
            .filter(|(_, o)| o.len() > 1)
            .map(|(k, o)| (k, o.as_slice()))
    }
}

fn node(location: &str, asset: &AssetSnapshot, asset_job: bool) -> AssetNode {
    let mut node = asset_node(location, asset);
    // A stub stands for an asset defined elsewhere: never materializable here.
    node.is_materializable = asset.is_materializable && !asset.is_auto_created_stub;
    if asset_job && node.is_materializable {
        node.jobs.insert(IMPLICIT_ASSET_JOB.to_owned());
    }
    node
}

/// The selection graph's node for `asset` of `location`: the one place that maps an asset
/// snapshot (group, tags, kinds, owners, deps, partitions, and the jobs, sensors and schedules
/// that target it) to what selections match on.
pub fn asset_node(location: &str, asset: &AssetSnapshot) -> AssetNode {
    AssetNode {
        group: asset.group_name.clone(),
        tags: asset.tags.clone(),
        kinds: asset.kinds.iter().cloned().collect(),
        owners: asset.owners.clone(),
        code_location: location.to_owned(),
        deps: asset.deps.iter().cloned().collect(),
        is_materializable: asset.is_materializable,
        jobs: asset.job_names.iter().cloned().collect(),
        sensors: asset.targeting_sensor_names.iter().cloned().collect(),
        schedules: asset.targeting_schedule_names.iter().cloned().collect(),
        partitions: asset
            .partitions
            .as_ref()
            .and_then(|p| match p.kind.as_str() {
                "static" => Some(PartitionsKind::Static),
                "dynamic" => Some(PartitionsKind::Dynamic),
                "time_window" => Some(PartitionsKind::Time),
                "multi" => Some(PartitionsKind::Multipartitions),
                _ => None,
            }),
        ..AssetNode::new(asset.key.clone())
    }
}
