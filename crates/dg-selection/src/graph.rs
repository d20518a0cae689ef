//! The asset graph a selection is evaluated over.
//!
//! This crate does not depend on the rest of dg: callers turn their definitions snapshots into
//! [`AssetNode`]s and build an [`AssetGraph`] from all code locations at once, so dependencies
//! across locations connect by asset key, as in Dagster's workspace asset graph.
//!
//! Building the graph keeps Dagster's rules: a key defined in several places is one node (the
//! materializable definition provides its attributes, dependencies and job/sensor/schedule
//! targets are merged), and a dependency on a key that no location defines becomes an external
//! node in the `default` group, which Dagster's `Definitions` would create implicitly.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use dg_core::AssetKey;

/// Tags whose key starts with this prefix are Dagster's spelling of kinds.
pub const KIND_TAG_PREFIX: &str = "dagster/kind/";

/// The group Dagster puts assets in when they name none.
pub const DEFAULT_GROUP: &str = "default";

/// The repository name of a plain `Definitions` object.
pub const DEFAULT_REPOSITORY: &str = "__repository__";

/// What kind of partitions definition an asset has (`partitions:` matches on it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PartitionsKind {
    /// `StaticPartitionsDefinition`.
    Static,
    /// `DynamicPartitionsDefinition`.
    Dynamic,
    /// `TimeWindowPartitionsDefinition` and its daily, hourly, weekly and monthly forms.
    Time,
    /// `MultiPartitionsDefinition`.
    Multipartitions,
}

impl PartitionsKind {
    /// The word `partitions:` uses for this kind.
    pub fn as_str(self) -> &'static str {
        match self {
            PartitionsKind::Static => "static",
            PartitionsKind::Dynamic => "dynamic",
            PartitionsKind::Time => "time",
            PartitionsKind::Multipartitions => "multipartitions",
        }
    }
}

/// One asset, with every attribute the selection language can filter on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssetNode {
    /// The asset key.
    pub key: AssetKey,
    /// The group name (`default` when the definition names none).
    #[serde(default = "default_group")]
    pub group: String,
    /// User tags. Kinds may be given here as `dagster/kind/<kind>` tags, in [`Self::kinds`], or both.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// Kinds (`kinds={"python"}` in Dagster).
    #[serde(default)]
    pub kinds: BTreeSet<String>,
    /// Owners: `team:name` or e-mail addresses.
    #[serde(default)]
    pub owners: Vec<String>,
    /// Name of the code location that defines the asset.
    #[serde(default)]
    pub code_location: String,
    /// Name of the repository inside the location (`__repository__` for a `Definitions` object).
    #[serde(default = "default_repository")]
    pub repository: String,
    /// Keys of the assets this one depends on, in any location.
    #[serde(default)]
    pub deps: Vec<AssetKey>,
    /// Whether dg can materialize the asset. External assets (`AssetSpec`s, observable sources,
    /// implicit stubs of undefined dependencies) are not: `*`, `not`, upstream traversal, and the
    /// `tag:`, `kind:` and `group:` filters leave them out, as Dagster does.
    pub is_materializable: bool,
    /// The partitions definition, if the asset is partitioned.
    #[serde(default)]
    pub partitions: Option<PartitionsKind>,
    /// Jobs that materialize the asset (including Dagster's implicit `__ASSET_JOB`).
    #[serde(default)]
    pub jobs: BTreeSet<String>,
    /// Sensors that target the asset.
    #[serde(default)]
    pub sensors: BTreeSet<String>,
    /// Schedules that target the asset.
    #[serde(default)]
    pub schedules: BTreeSet<String>,
}

fn default_group() -> String {
    DEFAULT_GROUP.to_owned()
}

fn default_repository() -> String {
    DEFAULT_REPOSITORY.to_owned()
}

impl AssetNode {
    /// A materializable asset in the default group with no other attributes.
    pub fn new(key: impl Into<AssetKey>) -> Self {
        AssetNode {
            key: key.into(),
            group: default_group(),
            tags: BTreeMap::new(),
            kinds: BTreeSet::new(),
            owners: Vec::new(),
            code_location: String::new(),
            repository: default_repository(),
            deps: Vec::new(),
            is_materializable: true,
            partitions: None,
            jobs: BTreeSet::new(),
            sensors: BTreeSet::new(),
            schedules: BTreeSet::new(),
        }
    }

    /// Whether the asset is external (not materializable).
    pub fn is_external(&self) -> bool {
        !self.is_materializable
    }

    /// The value of a tag, counting kinds as `dagster/kind/<kind>` tags with an empty value.
    pub fn tag(&self, key: &str) -> Option<&str> {
        if let Some(value) = self.tags.get(key) {
            return Some(value);
        }
        let kind = key.strip_prefix(KIND_TAG_PREFIX)?;
        self.kinds.contains(kind).then_some("")
    }

    /// Whether the asset has this kind (from [`Self::kinds`] or a `dagster/kind/` tag).
    pub fn has_kind(&self, kind: &str) -> bool {
        self.kinds.contains(kind) || self.tags.contains_key(&format!("{KIND_TAG_PREFIX}{kind}"))
    }

    /// Whether the asset has any kind at all.
    pub fn has_any_kind(&self) -> bool {
        !self.kinds.is_empty() || self.tags.keys().any(|k| k.starts_with(KIND_TAG_PREFIX))
    }
}

/// Every asset of a workspace, indexed by key, with upstream and downstream edges.
#[derive(Debug, Clone, Default)]
pub struct AssetGraph {
    nodes: Vec<AssetNode>,
    index: HashMap<AssetKey, usize>,
    parents: Vec<Vec<usize>>,
    children: Vec<Vec<usize>>,
}

impl AssetGraph {
    /// Builds the graph from the nodes of all locations (see the module docs for merging rules).
    pub fn new(nodes: impl IntoIterator<Item = AssetNode>) -> Self {
        let mut graph = AssetGraph::default();
        for node in nodes {
            graph.insert(node);
        }
        graph.add_implicit_dependencies();
        graph.link();
        graph
    }

    fn insert(&mut self, node: AssetNode) {
        let Some(&at) = self.index.get(&node.key) else {
            self.index.insert(node.key.clone(), self.nodes.len());
            self.nodes.push(node);
            return;
        };
        let existing = &mut self.nodes[at];
        let mut merged = if node.is_materializable && !existing.is_materializable {
            node.clone()
        } else {
            existing.clone()
        };
        for other in [&*existing, &node] {
            for dep in &other.deps {
                if !merged.deps.contains(dep) {
                    merged.deps.push(dep.clone());
                }
            }
            merged.jobs.extend(other.jobs.iter().cloned());
            merged.sensors.extend(other.sensors.iter().cloned());
            merged.schedules.extend(other.schedules.iter().cloned());
        }
        *existing = merged;
    }

    fn add_implicit_dependencies(&mut self) {
        let mut missing = Vec::new();
        for node in &self.nodes {
            for dep in &node.deps {
                if !self.index.contains_key(dep) && !missing.iter().any(|(k, _)| k == dep) {
                    missing.push((dep.clone(), node));
                }
            }
        }
        let stubs: Vec<AssetNode> = missing
            .into_iter()
            .map(|(key, dependent)| AssetNode {
                code_location: dependent.code_location.clone(),
                repository: dependent.repository.clone(),
                is_materializable: false,
                ..AssetNode::new(key)
            })
            .collect();
        for stub in stubs {
            self.insert(stub);
        }
    }

    fn link(&mut self) {
        self.parents = vec![Vec::new(); self.nodes.len()];
        self.children = vec![Vec::new(); self.nodes.len()];
        for (child, node) in self.nodes.iter().enumerate() {
            for dep in &node.deps {
                let parent = self.index[dep];
                if !self.parents[child].contains(&parent) {
                    self.parents[child].push(parent);
                    self.children[parent].push(child);
                }
            }
        }
    }

    /// All nodes, in insertion order (implicit external dependencies last).
    pub fn nodes(&self) -> &[AssetNode] {
        &self.nodes
    }

    /// The node with this key.
    pub fn get(&self, key: &AssetKey) -> Option<&AssetNode> {
        self.index.get(key).map(|&i| &self.nodes[i])
    }

    /// Whether a node has this key.
    pub fn contains(&self, key: &AssetKey) -> bool {
        self.index.contains_key(key)
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether the graph has no nodes.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    pub(crate) fn index_of(&self, key: &AssetKey) -> Option<usize> {
        self.index.get(key).copied()
    }

    pub(crate) fn parents_of(&self, node: usize) -> &[usize] {
        &self.parents[node]
    }

    pub(crate) fn children_of(&self, node: usize) -> &[usize] {
        &self.children[node]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(key: &str, deps: &[&str]) -> AssetNode {
        AssetNode {
            deps: deps.iter().map(|d| AssetKey::from_user_string(d)).collect(),
            ..AssetNode::new(key)
        }
    }

    #[test]
    fn undefined_dependencies_become_external_nodes() {
        let graph = AssetGraph::new([node("b", &["up/stream"])]);
        let stub = graph.get(&AssetKey::new(["up", "stream"])).unwrap();
        assert!(stub.is_external());
        assert_eq!(stub.group, "default");
        assert_eq!(graph.len(), 2);
    }

    #[test]
    fn duplicate_keys_merge_preferring_the_materializable_definition() {
        let stub = AssetNode {
            is_materializable: false,
            code_location: "b".into(),
            ..node("x", &[])
        };
        let real = AssetNode {
            code_location: "a".into(),
            group: "g".into(),
            ..node("x", &["y"])
        };
        let graph = AssetGraph::new([stub, real, node("y", &[])]);
        let x = graph.get(&AssetKey::new(["x"])).unwrap();
        assert!(x.is_materializable);
        assert_eq!((x.code_location.as_str(), x.group.as_str()), ("a", "g"));
        assert_eq!(graph.len(), 2);
        let y = graph.index_of(&AssetKey::new(["y"])).unwrap();
        assert_eq!(graph.children_of(y).len(), 1);
    }

    #[test]
    fn kinds_read_from_the_set_or_from_kind_tags() {
        let mut n = AssetNode::new("a");
        n.kinds.insert("python".into());
        n.tags.insert("dagster/kind/dbt".into(), String::new());
        assert!(n.has_kind("python") && n.has_kind("dbt") && !n.has_kind("s3"));
        assert_eq!(n.tag("dagster/kind/python"), Some(""));
        assert_eq!(n.tag("dagster/kind/s3"), None);
        assert!(n.has_any_kind());
    }
}
