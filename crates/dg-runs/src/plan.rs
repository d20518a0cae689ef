//! Turning an asset selection over a whole workspace into runs: one asset graph of every loaded
//! location (stubs that stand for another location's assets give way to the real ones), the
//! selection evaluated over it, and the selected assets split into one run per location, ordered
//! so that a location runs after the locations whose selected assets it depends on.

use std::collections::{BTreeMap, BTreeSet};

use dg_location::snapshot::AssetSnapshot;
use dg_location::DefinitionsSnapshot;
use dg_selection::{AssetGraph, AssetKey, AssetNode, PartitionsKind};

/// The snapshots of the loaded locations, by location name.
pub type Snapshots<'a> = BTreeMap<String, &'a DefinitionsSnapshot>;

/// One asset graph over every location, and which location owns each materializable asset.
pub struct WorkspaceGraph {
    /// The graph the selection is evaluated on.
    pub graph: AssetGraph,
    /// The location that defines each asset (not a stub of it).
    pub owner: BTreeMap<AssetKey, String>,
    /// Assets some location can materialize.
    pub materializable: BTreeSet<AssetKey>,
}

impl WorkspaceGraph {
    /// Builds the graph of `snapshots`.
    pub fn new(snapshots: &Snapshots<'_>) -> Self {
        let mut owner = BTreeMap::new();
        let mut materializable = BTreeSet::new();
        let mut nodes: BTreeMap<AssetKey, AssetNode> = BTreeMap::new();
        for (location, snapshot) in snapshots {
            for asset in snapshot.assets.iter().filter(|a| !a.is_auto_created_stub) {
                let key = AssetKey(asset.key.clone());
                // An external asset (`AssetSpec`) standing for another location's asset gives way
                // to the location that materializes it.
                if materializable.contains(&key) && !asset.is_materializable {
                    continue;
                }
                owner.insert(key.clone(), location.clone());
                if asset.is_materializable {
                    materializable.insert(key.clone());
                }
                nodes.insert(key, asset_node(location, asset));
            }
        }
        // Stubs only stand in for assets no loaded location defines.
        for (location, snapshot) in snapshots {
            for asset in snapshot.assets.iter().filter(|a| a.is_auto_created_stub) {
                let key = AssetKey(asset.key.clone());
                nodes
                    .entry(key)
                    .or_insert_with(|| asset_node(location, asset));
            }
        }
        Self {
            graph: AssetGraph::new(nodes.into_values()),
            owner,
            materializable,
        }
    }

    /// Splits `selected` into one list of assets per location (materializable ones only), in an
    /// order where each location comes after those it depends on; ties and cycles keep name order.
    pub fn split(&self, selected: &BTreeSet<AssetKey>) -> Vec<(String, Vec<AssetKey>)> {
        let mut per_location: BTreeMap<String, Vec<AssetKey>> = BTreeMap::new();
        for key in selected.iter().filter(|k| self.materializable.contains(*k)) {
            if let Some(location) = self.owner.get(key) {
                per_location
                    .entry(location.clone())
                    .or_default()
                    .push(key.clone());
            }
        }
        // Location-level edges: upstream location -> downstream location, through selected
        // assets and any unselected assets in between.
        let mut upstream_of: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (location, keys) in &per_location {
            for key in keys {
                for up in self.upstream_closure(key) {
                    if let Some(up_location) = self.owner.get(&up) {
                        if up_location != location
                            && selected.contains(&up)
                            && per_location.contains_key(up_location)
                        {
                            upstream_of
                                .entry(location.clone())
                                .or_default()
                                .insert(up_location.clone());
                        }
                    }
                }
            }
        }
        let mut order = Vec::new();
        let mut done = BTreeSet::new();
        while done.len() < per_location.len() {
            let ready = per_location.keys().find(|l| {
                !done.contains(*l)
                    && upstream_of
                        .get(*l)
                        .is_none_or(|ups| ups.iter().all(|u| done.contains(u)))
            });
            // A cycle between locations: take the first remaining by name.
            let next = ready
                .or_else(|| per_location.keys().find(|l| !done.contains(*l)))
                .expect("a location remains")
                .clone();
            done.insert(next.clone());
            order.push(next);
        }
        order
            .into_iter()
            .map(|l| {
                let keys = per_location.remove(&l).unwrap_or_default();
                (l, keys)
            })
            .collect()
    }

    fn upstream_closure(&self, key: &AssetKey) -> BTreeSet<AssetKey> {
        let mut seen = BTreeSet::new();
        let mut stack = vec![key.clone()];
        while let Some(k) = stack.pop() {
            if let Some(node) = self.graph.get(&k) {
                for dep in &node.deps {
                    if seen.insert(dep.clone()) {
                        stack.push(dep.clone());
                    }
                }
            }
        }
        seen
    }
}

/// The graph of every asset of `locations` (name, snapshot), as `dg list defs --assets` and
/// `dg check defs` see it: every asset of every location, a key defined in one location merged
/// with the stubs or specs others have for it (`AssetGraph::new`).
pub fn asset_graph<'a>(
    locations: impl IntoIterator<Item = (&'a str, &'a DefinitionsSnapshot)>,
) -> AssetGraph {
    AssetGraph::new(
        locations
            .into_iter()
            .flat_map(|(name, snapshot)| snapshot.assets.iter().map(move |a| asset_node(name, a))),
    )
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
        deps: asset.deps.iter().map(|d| AssetKey(d.clone())).collect(),
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
        ..AssetNode::new(AssetKey(asset.key.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dg_location::snapshot::LoadedFrom;

    fn asset(key: &str, deps: &[&str], materializable: bool) -> AssetSnapshot {
        serde_json::from_value(serde_json::json!({
            "key": [key], "group_name": "default", "deps": deps.iter().map(|d| vec![*d]).collect::<Vec<_>>(),
            "kinds": [], "description": null, "tags": {}, "owners": [], "metadata": {},
            "partitions": null, "automation_condition": null, "code_version": null,
            "is_executable": materializable, "is_materializable": materializable,
            "is_observable": false, "is_auto_created_stub": false, "source": null
        }))
        .unwrap()
    }

    fn snapshot(assets: Vec<AssetSnapshot>) -> DefinitionsSnapshot {
        DefinitionsSnapshot {
            schema_version: dg_location::snapshot::SCHEMA_VERSION,
            assets,
            asset_checks: vec![],
            jobs: vec![],
            schedules: vec![],
            sensors: vec![],
            resources: vec![],
            loaded_from: LoadedFrom {
                kind: "assets".into(),
                module: "m".into(),
                attribute: None,
            },
            dagster_version: "1.13.27".into(),
            python_version: "3.11".into(),
            import_dagster_seconds: 0.0,
            load_seconds: 0.0,
        }
    }

    #[test]
    fn splits_per_location_upstream_first_whatever_the_names() {
        // `a_down` sorts first but depends on `z_up`'s asset through an external spec.
        let down = snapshot(vec![asset("up", &[], false), asset("down", &["up"], true)]);
        let up = snapshot(vec![asset("up", &[], true), asset("other", &[], true)]);
        let snapshots: Snapshots<'_> =
            BTreeMap::from([("a_down".to_owned(), &down), ("z_up".to_owned(), &up)]);
        let graph = WorkspaceGraph::new(&snapshots);
        assert_eq!(graph.owner[&AssetKey::from_user_string("up")], "z_up");
        let expr = dg_selection::parse("*down").unwrap();
        let selected = dg_selection::select(&graph.graph, &expr).unwrap();
        let split = graph.split(&selected);
        let names: Vec<&str> = split.iter().map(|(l, _)| l.as_str()).collect();
        assert_eq!(names, ["z_up", "a_down"]);
        assert_eq!(split[0].1, vec![AssetKey::from_user_string("up")]);
        // Selecting only the downstream asset runs only its location.
        let selected = BTreeSet::from([AssetKey::from_user_string("down")]);
        assert_eq!(graph.split(&selected).len(), 1);
    }
}
