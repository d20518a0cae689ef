//! Run targets: a job, or an asset selection over the whole workspace, resolved to one run per
//! location, each location after the locations whose selected assets it depends on.
//!
//! Callers execute the runs in the order returned; `dg launch` and `POST /api/runs` start a run
//! only when the one before it succeeded.

use std::collections::{BTreeMap, BTreeSet};

use dg_core::RunTarget;
use dg_selection::AssetKey;

use crate::Workspace;

/// What to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A job, found in the one location that defines it (or in `location`).
    Job {
        name: String,
        location: Option<String>,
    },
    /// The assets an evaluated selection picked; `text` is the selection as written (for
    /// messages). With `location`, only what that location materializes runs, in one run.
    Selection {
        keys: BTreeSet<AssetKey>,
        text: String,
        location: Option<String>,
    },
}

/// One run of a resolved target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedRun {
    pub location: String,
    pub target: RunTarget,
}

/// Why a target resolves to no run. Messages name things in backticks; callers add their own
/// hints (a flag for the command line, a field for the API).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    #[error("no code location named `{location}` here")]
    UnknownLocation {
        location: String,
        /// The loaded locations.
        known: Vec<String>,
    },
    #[error("no job named `{job}`{}", location.as_ref().map(|l| format!(" in code location `{l}`")).unwrap_or_default())]
    UnknownJob {
        job: String,
        location: Option<String>,
        /// Jobs where it was looked for, sorted.
        known: Vec<String>,
    },
    #[error("job `{job}` is defined in several code locations: {}", ticks(owners))]
    JobInSeveralLocations { job: String, owners: Vec<String> },
    #[error("the selection `{text}` matches no asset that can be materialized")]
    NothingMaterializable { text: String },
    #[error(
        "the selection `{text}` matches no asset that code location `{location}` can materialize"
    )]
    NothingInLocation { text: String, location: String },
    /// Selected keys that several locations define as materializable; the first is the one
    /// the message names.
    #[error(
        "asset `{}` is defined as executable in {} code locations: {}; a run needs one",
        keys[0].0, keys[0].1.len(), ticks(&keys[0].1)
    )]
    Ambiguous {
        /// Each key (as users write it) with its owners.
        keys: Vec<(String, Vec<String>)>,
    },
}

/// `` `a`, `b` `` for names.
pub(crate) fn ticks(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Workspace {
    /// The runs that execute `target`: one per location, upstream locations first (ties, and
    /// locations that depend on each other, in name order).
    pub fn resolve_targets(&self, target: Target) -> Result<Vec<PlannedRun>, ResolveError> {
        let location = match &target {
            Target::Job { location, .. } | Target::Selection { location, .. } => location,
        };
        if let Some(location) = location {
            if !self.locations.contains(location) {
                return Err(ResolveError::UnknownLocation {
                    location: location.clone(),
                    known: self.locations.clone(),
                });
            }
        }
        match target {
            Target::Job { name, location } => self.job_target(name, location),
            Target::Selection {
                keys,
                text,
                location: Some(location),
            } => {
                let keys: Vec<AssetKey> = keys
                    .into_iter()
                    .filter(|k| self.owners(k).contains(&location))
                    .collect();
                if keys.is_empty() {
                    return Err(ResolveError::NothingInLocation { text, location });
                }
                Ok(vec![PlannedRun {
                    location,
                    target: RunTarget::Assets(keys),
                }])
            }
            Target::Selection {
                keys,
                text,
                location: None,
            } => {
                let ambiguous: Vec<(String, Vec<String>)> = keys
                    .iter()
                    .filter(|k| self.owners(k).len() > 1)
                    .map(|k| (k.to_user_string(), self.owners(k).to_vec()))
                    .collect();
                if !ambiguous.is_empty() {
                    return Err(ResolveError::Ambiguous { keys: ambiguous });
                }
                let runs = self.split(&keys);
                if runs.is_empty() {
                    return Err(ResolveError::NothingMaterializable { text });
                }
                Ok(runs)
            }
        }
    }

    fn job_target(
        &self,
        job: String,
        location: Option<String>,
    ) -> Result<Vec<PlannedRun>, ResolveError> {
        let in_scope = || {
            self.locations
                .iter()
                .filter(|l| location.as_ref().is_none_or(|want| want == *l))
        };
        let owners: Vec<String> = in_scope()
            .filter(|l| self.jobs[*l].contains(&job))
            .cloned()
            .collect();
        match &owners[..] {
            [one] => Ok(vec![PlannedRun {
                location: one.clone(),
                target: RunTarget::Job(job),
            }]),
            [] => {
                let known: BTreeSet<&String> = in_scope().flat_map(|l| &self.jobs[l]).collect();
                Err(ResolveError::UnknownJob {
                    job,
                    location,
                    known: known.into_iter().cloned().collect(),
                })
            }
            _ => Err(ResolveError::JobInSeveralLocations { job, owners }),
        }
    }

    /// Splits `selected` into one run per owning location (materializable assets only), each
    /// after the locations whose selected assets it depends on, directly or through unselected
    /// assets in between.
    fn split(&self, selected: &BTreeSet<AssetKey>) -> Vec<PlannedRun> {
        let mut per_location: BTreeMap<&str, Vec<AssetKey>> = BTreeMap::new();
        for key in selected {
            if let [owner] = self.owners(key) {
                per_location
                    .entry(owner.as_str())
                    .or_default()
                    .push(key.clone());
            }
        }
        let mut upstream_of: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for (location, keys) in &per_location {
            for key in keys {
                for up in self.upstream_closure(key) {
                    if let [up_location] = self.owners(&up) {
                        if up_location.as_str() != *location
                            && selected.contains(&up)
                            && per_location.contains_key(up_location.as_str())
                        {
                            upstream_of
                                .entry(*location)
                                .or_default()
                                .insert(up_location.as_str());
                        }
                    }
                }
            }
        }
        let mut order: Vec<&str> = Vec::new();
        while order.len() < per_location.len() {
            let remaining = || per_location.keys().filter(|l| !order.contains(l));
            let ready = remaining().find(|l| {
                upstream_of
                    .get(*l)
                    .is_none_or(|ups| ups.iter().all(|u| order.contains(u)))
            });
            // Locations that depend on each other: the first remaining by name.
            let next = *ready
                .or_else(|| remaining().next())
                .expect("a location remains");
            order.push(next);
        }
        order
            .into_iter()
            .map(|location| PlannedRun {
                location: location.to_owned(),
                target: RunTarget::Assets(per_location[location].clone()),
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
