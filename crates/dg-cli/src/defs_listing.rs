//! The definitions `dg list defs` shows, gathered from the snapshots of one or more code locations,
//! and their `--json` form.
//!
//! The JSON has exactly the shape and field names of Dagster's `dg list defs --json` (its
//! `DgDefinitionMetadataSchema`, dumped with `exclude_none` and an indent of 4): absent instead of
//! `null`, `tags` left out when there are none, owners as `{"team": ..}` / `{"email": ..}`, tags
//! without Dagster's `dagster/kind/*` tags, a schedule's several crons joined by `, `. From a
//! workspace root every item also has `code_location`, which Dagster (project-only) never prints.

use std::collections::BTreeMap;

use dg_location::snapshot::{
    AssetCheckSnapshot, AssetSnapshot, JobSnapshot, ResourceSnapshot, ScheduleSnapshot,
    SensorSnapshot,
};
use serde::Serialize;

/// One definition and the code location it comes from.
#[derive(Debug, Clone, Copy)]
pub struct Located<'a, T> {
    pub location: &'a str,
    pub item: &'a T,
}

/// Every definition to show, each kind sorted as Dagster sorts it (by key or name).
#[derive(Debug, Default)]
pub struct Listing<'a> {
    pub assets: Vec<Located<'a, AssetSnapshot>>,
    pub asset_checks: Vec<Located<'a, AssetCheckSnapshot>>,
    pub jobs: Vec<Located<'a, JobSnapshot>>,
    pub schedules: Vec<Located<'a, ScheduleSnapshot>>,
    pub sensors: Vec<Located<'a, SensorSnapshot>>,
    pub resources: Vec<Located<'a, ResourceSnapshot>>,
}

impl Listing<'_> {
    /// Nothing at all to show.
    pub fn is_empty(&self) -> bool {
        self.assets.is_empty()
            && self.asset_checks.is_empty()
            && self.jobs.is_empty()
            && self.schedules.is_empty()
            && self.sensors.is_empty()
            && self.resources.is_empty()
    }

    /// Sorts every kind by its key (then location), the order of Dagster's tables.
    pub fn sort(&mut self) {
        self.assets
            .sort_by_key(|a| (a.item.key_string(), a.location.to_string()));
        self.asset_checks
            .sort_by_key(|c| (c.item.key_string(), c.location.to_string()));
        self.jobs
            .sort_by_key(|j| (j.item.name.clone(), j.location.to_string()));
        self.schedules
            .sort_by_key(|s| (s.item.name.clone(), s.location.to_string()));
        self.sensors
            .sort_by_key(|s| (s.item.name.clone(), s.location.to_string()));
        self.resources
            .sort_by_key(|r| (r.item.name.clone(), r.location.to_string()));
    }

    /// The `--json` document; `with_location` adds `code_location` to every item.
    pub fn to_json(&self, with_location: bool) -> String {
        let loc = |l: &str| with_location.then(|| l.to_string());
        let doc = DefinitionsJson {
            assets: self
                .assets
                .iter()
                .map(|a| AssetJson::new(a.item, loc(a.location)))
                .collect(),
            asset_checks: self
                .asset_checks
                .iter()
                .map(|c| CheckJson::new(c.item, loc(c.location)))
                .collect(),
            jobs: self
                .jobs
                .iter()
                .map(|j| JobJson {
                    name: j.item.name.clone(),
                    description: j.item.description.clone(),
                    source: j.item.source.clone(),
                    code_location: loc(j.location),
                })
                .collect(),
            resources: self
                .resources
                .iter()
                .map(|r| ResourceJson {
                    name: r.item.name.clone(),
                    type_name: r.item.type_name.clone(),
                    code_location: loc(r.location),
                })
                .collect(),
            schedules: self
                .schedules
                .iter()
                .map(|s| ScheduleJson {
                    name: s.item.name.clone(),
                    cron_schedule: s.item.cron_schedule.join(", "),
                    source: s.item.source.clone(),
                    code_location: loc(s.location),
                })
                .collect(),
            sensors: self
                .sensors
                .iter()
                .map(|s| SensorJson {
                    name: s.item.name.clone(),
                    source: s.item.source.clone(),
                    code_location: loc(s.location),
                })
                .collect(),
        };
        to_json_4(&doc)
    }
}

/// JSON with an indent of four spaces, as Python's `model_dump_json(indent=4)`.
pub fn to_json_4(value: &impl Serialize) -> String {
    let mut out = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut out, formatter);
    value
        .serialize(&mut ser)
        .expect("definitions serialize to JSON");
    String::from_utf8(out).expect("serde_json writes UTF-8")
}

/// Dagster's implicit asset job and the jobs it makes for schedules and sensors that target
/// assets directly: never listed or counted, as in Dagster.
pub fn is_reserved_job(name: &str) -> bool {
    name == "__ASSET_JOB" || name.starts_with("__anonymous_asset_job")
}

/// Tags as Dagster lists them: sorted by key, kinds (`dagster/kind/*`) left out.
pub fn user_tags(asset: &AssetSnapshot) -> Vec<(&str, &str)> {
    asset
        .tags
        .iter()
        .filter(|(k, _)| !k.starts_with("dagster/kind"))
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect()
}

#[derive(Serialize)]
struct DefinitionsJson {
    assets: Vec<AssetJson>,
    asset_checks: Vec<CheckJson>,
    jobs: Vec<JobJson>,
    resources: Vec<ResourceJson>,
    schedules: Vec<ScheduleJson>,
    sensors: Vec<SensorJson>,
}

#[derive(Serialize)]
struct AssetJson {
    asset_key: String,
    asset_key_parts: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    group_name: String,
    kinds: Vec<String>,
    dependency_keys: Vec<String>,
    owners: Vec<BTreeMap<&'static str, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tags: Option<Vec<TagJson>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    automation_condition: Option<AutomationJson>,
    is_executable: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    code_location: Option<String>,
}

impl AssetJson {
    fn new(a: &AssetSnapshot, code_location: Option<String>) -> Self {
        let tags: Vec<TagJson> = user_tags(a)
            .into_iter()
            .map(|(k, v)| TagJson {
                key: k.to_string(),
                value: v.to_string(),
            })
            .collect();
        Self {
            asset_key: a.key_string(),
            asset_key_parts: a.key.to_vec(),
            description: a.description.clone(),
            group_name: a.group_name.clone(),
            kinds: a.kinds.clone(),
            dependency_keys: a.deps.iter().map(|d| d.to_user_string()).collect(),
            owners: a
                .owners
                .iter()
                .map(|o| match o.strip_prefix("team:") {
                    Some(team) => BTreeMap::from([("team", team.to_string())]),
                    None => BTreeMap::from([("email", o.clone())]),
                })
                .collect(),
            tags: (!tags.is_empty()).then_some(tags),
            automation_condition: a.automation_condition.as_ref().map(|c| AutomationJson {
                label: c.label.clone(),
                expanded_label: c.expanded_label.clone(),
            }),
            is_executable: a.is_executable,
            source: a.source.clone(),
            code_location,
        }
    }
}

#[derive(Serialize)]
struct TagJson {
    key: String,
    value: String,
}

#[derive(Serialize)]
struct AutomationJson {
    #[serde(skip_serializing_if = "Option::is_none")]
    label: Option<String>,
    expanded_label: Vec<String>,
}

#[derive(Serialize)]
struct CheckJson {
    key: String,
    asset_key: String,
    name: String,
    additional_deps: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    code_location: Option<String>,
}

impl CheckJson {
    fn new(c: &AssetCheckSnapshot, code_location: Option<String>) -> Self {
        Self {
            key: c.key_string(),
            asset_key: c.asset_key.to_user_string(),
            name: c.name.clone(),
            additional_deps: c
                .additional_deps
                .iter()
                .map(|d| d.to_user_string())
                .collect(),
            description: c.description.clone(),
            source: c.source.clone(),
            code_location,
        }
    }
}

#[derive(Serialize)]
struct JobJson {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    code_location: Option<String>,
}

#[derive(Serialize)]
struct ResourceJson {
    name: String,
    #[serde(rename = "type")]
    type_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    code_location: Option<String>,
}

#[derive(Serialize)]
struct ScheduleJson {
    name: String,
    cron_schedule: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    code_location: Option<String>,
}

#[derive(Serialize)]
struct SensorJson {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    code_location: Option<String>,
}
