//! The stub rule, specs against materializable definitions, ambiguity, run order and cycles
//! between locations, on hand-made snapshots.

use dg_location::snapshot::{AssetSnapshot, JobSnapshot, LoadedFrom};
use dg_location::DefinitionsSnapshot;
use dg_selection::AssetKey;

use crate::{PlannedRun, ResolveError, RunTarget, Target, Workspace};

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Materializable,
    Spec,
    Stub,
}
use Kind::*;

fn asset(key: &str, deps: &[&str], kind: Kind) -> AssetSnapshot {
    let materializable = kind == Materializable;
    serde_json::from_value(serde_json::json!({
        "key": [key], "group_name": "default",
        "deps": deps.iter().map(|d| vec![*d]).collect::<Vec<_>>(),
        "kinds": [], "description": null, "tags": {}, "owners": [], "metadata": {},
        "partitions": null, "automation_condition": null, "code_version": null,
        "is_executable": materializable, "is_materializable": materializable,
        "is_observable": false, "is_auto_created_stub": kind == Stub, "source": null
    }))
    .unwrap()
}

fn snapshot(assets: Vec<AssetSnapshot>, jobs: &[&str]) -> DefinitionsSnapshot {
    DefinitionsSnapshot {
        schema_version: dg_location::snapshot::SCHEMA_VERSION,
        assets,
        asset_checks: vec![],
        jobs: jobs
            .iter()
            .map(|name| JobSnapshot {
                name: (*name).to_owned(),
                description: None,
                tags: Default::default(),
                source: None,
            })
            .collect(),
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

fn workspace(locations: &[(&str, &DefinitionsSnapshot)]) -> Workspace {
    Workspace::new(locations.iter().map(|(n, s)| (*n, *s)))
}

fn key(text: &str) -> AssetKey {
    AssetKey::from_user_string(text)
}

fn select(ws: &Workspace, text: &str) -> Target {
    let expr = dg_selection::parse(text).unwrap();
    Target::Selection {
        keys: dg_selection::select(&ws.graph, &expr).unwrap(),
        text: text.to_owned(),
        location: None,
    }
}

fn assets(keys: &[&str]) -> RunTarget {
    RunTarget::Assets(keys.iter().map(|k| key(k)).collect())
}

fn run(location: &str, keys: &[&str]) -> PlannedRun {
    PlannedRun {
        location: location.to_owned(),
        target: assets(keys),
    }
}

#[test]
fn a_real_definition_wins_over_a_stub_whatever_the_order() {
    let user = snapshot(
        vec![
            asset("raw", &[], Stub),
            asset("report", &["raw"], Materializable),
        ],
        &[],
    );
    let owner = snapshot(vec![asset("raw", &[], Materializable)], &[]);
    let ws = workspace(&[("a_user", &user), ("z_owner", &owner)]);
    let raw = ws.get(&["raw".to_owned()]).unwrap();
    assert_eq!(raw.location, "z_owner");
    assert!(!raw.asset.is_auto_created_stub);
    assert_eq!(raw.downstream, vec![key("report")]);
    let node = ws.graph.get(&key("raw")).unwrap();
    assert!(node.is_materializable);
    assert_eq!(node.code_location, "z_owner");
    assert_eq!(ws.owners(&key("raw")), ["z_owner"]);
    // A stub nobody defines stays, under the location that mentions it, not materializable.
    let alone = workspace(&[("a_user", &user)]);
    assert_eq!(alone.get(&["raw".to_owned()]).unwrap().location, "a_user");
    assert!(!alone.graph.get(&key("raw")).unwrap().is_materializable);
    assert!(alone.owners(&key("raw")).is_empty());
}

#[test]
fn a_materializable_definition_wins_over_a_spec_and_the_spec_adds_its_deps() {
    let spec = snapshot(
        vec![
            asset("upstream_of_spec", &[], Materializable),
            asset("shared", &["upstream_of_spec"], Spec),
        ],
        &[],
    );
    let real = snapshot(vec![asset("shared", &[], Materializable)], &[]);
    let ws = workspace(&[("a_spec", &spec), ("b_real", &real)]);
    assert_eq!(ws.get(&["shared".to_owned()]).unwrap().location, "b_real");
    let node = ws.graph.get(&key("shared")).unwrap();
    assert!(node.is_materializable);
    assert_eq!(node.code_location, "b_real");
    assert!(node.deps.contains(&key("upstream_of_spec")));
    assert_eq!(ws.owners(&key("shared")), ["b_real"]);
    assert_eq!(ws.ambiguous().count(), 0);
    // Only the location that materializes it runs it.
    let runs = ws.resolve_targets(select(&ws, "shared")).unwrap();
    assert_eq!(runs, vec![run("b_real", &["shared"])]);
}

#[test]
fn a_key_two_locations_materialize_is_ambiguous_unless_a_location_is_named() {
    let a = snapshot(vec![asset("dup", &[], Materializable)], &[]);
    let b = snapshot(
        vec![
            asset("dup", &[], Materializable),
            asset("other", &[], Materializable),
        ],
        &[],
    );
    let ws = workspace(&[("b", &b), ("a", &a)]);
    // Owners in the order the locations were given; the first definition is shown.
    assert_eq!(ws.owners(&key("dup")), ["b", "a"]);
    assert_eq!(ws.get(&["dup".to_owned()]).unwrap().location, "b");
    assert_eq!(ws.ambiguous().count(), 1);
    let err = ws.resolve_targets(select(&ws, "*")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "asset `dup` is defined as executable in 2 code locations: `b`, `a`; a run needs one"
    );
    assert_eq!(
        err,
        ResolveError::Ambiguous {
            keys: vec![("dup".to_owned(), vec!["b".to_owned(), "a".to_owned()])]
        }
    );
    let Target::Selection { keys, text, .. } = select(&ws, "*") else {
        unreachable!()
    };
    let target = |location: &str| Target::Selection {
        keys: keys.clone(),
        text: text.clone(),
        location: Some(location.to_owned()),
    };
    assert_eq!(
        ws.resolve_targets(target("a")).unwrap(),
        vec![run("a", &["dup"])]
    );
    assert_eq!(
        ws.resolve_targets(target("b")).unwrap(),
        vec![run("b", &["dup", "other"])]
    );
    assert_eq!(
        ws.resolve_targets(target("c")).unwrap_err().to_string(),
        "no code location named `c` here"
    );
}

#[test]
fn runs_are_split_per_location_upstream_first_whatever_the_names() {
    // `a_down` sorts first but depends on `z_up`'s asset through an external spec, and on
    // `m_mid` through an unselected asset in between.
    let down = snapshot(
        vec![
            asset("up", &[], Spec),
            asset("down", &["up"], Materializable),
        ],
        &[],
    );
    let up = snapshot(
        vec![
            asset("up", &[], Materializable),
            asset("other", &[], Materializable),
        ],
        &[],
    );
    let ws = workspace(&[("a_down", &down), ("z_up", &up)]);
    let runs = ws.resolve_targets(select(&ws, "*down")).unwrap();
    assert_eq!(runs, vec![run("z_up", &["up"]), run("a_down", &["down"])]);
    // Selecting only the downstream asset runs only its location.
    let runs = ws.resolve_targets(select(&ws, "down")).unwrap();
    assert_eq!(runs, vec![run("a_down", &["down"])]);
    // Nothing materializable selected.
    let stub_only = snapshot(vec![asset("ext", &[], Spec)], &[]);
    let ws = workspace(&[("x", &stub_only)]);
    assert_eq!(
        ws.resolve_targets(select(&ws, "ext")).unwrap_err(),
        ResolveError::NothingMaterializable {
            text: "ext".to_owned()
        }
    );
}

#[test]
fn the_order_follows_unselected_assets_in_between() {
    // z_first.a -> m_middle.b (unselected) -> a_last.c
    let first = snapshot(vec![asset("a", &[], Materializable)], &[]);
    let middle = snapshot(vec![asset("b", &["a"], Materializable)], &[]);
    let last = snapshot(vec![asset("c", &["b"], Materializable)], &[]);
    let ws = workspace(&[
        ("a_last", &last),
        ("m_middle", &middle),
        ("z_first", &first),
    ]);
    let runs = ws.resolve_targets(select(&ws, "key:a or key:c")).unwrap();
    assert_eq!(runs, vec![run("z_first", &["a"]), run("a_last", &["c"])]);
}

#[test]
fn locations_that_depend_on_each_other_run_in_name_order() {
    // b.x0 -> a.y -> b.x1: each location is upstream of the other.
    let a = snapshot(vec![asset("y", &["x0"], Materializable)], &[]);
    let b = snapshot(
        vec![
            asset("x0", &[], Materializable),
            asset("x1", &["y"], Materializable),
        ],
        &[],
    );
    let ws = workspace(&[("b", &b), ("a", &a)]);
    let runs = ws.resolve_targets(select(&ws, "*")).unwrap();
    assert_eq!(runs, vec![run("a", &["y"]), run("b", &["x0", "x1"])]);
    // A third location downstream of both still comes after them.
    let c = snapshot(vec![asset("z", &["x1"], Materializable)], &[]);
    let ws = workspace(&[("c", &c), ("b", &b), ("a", &a)]);
    let runs = ws.resolve_targets(select(&ws, "*")).unwrap();
    let order: Vec<&str> = runs.iter().map(|r| r.location.as_str()).collect();
    assert_eq!(order, ["a", "b", "c"]);
}

#[test]
fn jobs_resolve_to_the_one_location_that_defines_them() {
    let a = snapshot(vec![], &["shared", "only_a"]);
    let b = snapshot(vec![], &["shared"]);
    let ws = workspace(&[("a", &a), ("b", &b)]);
    let job = |name: &str, location: Option<&str>| Target::Job {
        name: name.to_owned(),
        location: location.map(str::to_owned),
    };
    assert_eq!(
        ws.resolve_targets(job("only_a", None)).unwrap(),
        vec![PlannedRun {
            location: "a".to_owned(),
            target: RunTarget::Job("only_a".to_owned())
        }]
    );
    let err = ws.resolve_targets(job("shared", None)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "job `shared` is defined in several code locations: `a`, `b`"
    );
    assert_eq!(
        ws.resolve_targets(job("shared", Some("b"))).unwrap()[0].location,
        "b"
    );
    let err = ws.resolve_targets(job("only_a", Some("b"))).unwrap_err();
    assert_eq!(
        err.to_string(),
        "no job named `only_a` in code location `b`"
    );
    assert_eq!(
        err,
        ResolveError::UnknownJob {
            job: "only_a".to_owned(),
            location: Some("b".to_owned()),
            known: vec!["shared".to_owned()],
        }
    );
    let err = ws.resolve_targets(job("nope", None)).unwrap_err();
    let ResolveError::UnknownJob { known, .. } = err else {
        panic!("{err:?}")
    };
    assert_eq!(known, ["only_a", "shared"]);
}

#[test]
fn the_ui_workspace_puts_materializable_assets_in_the_implicit_job() {
    let s = snapshot(
        vec![asset("m", &[], Materializable), asset("e", &[], Spec)],
        &[],
    );
    let ui = Workspace::with_asset_job([("loc", &s)]);
    assert!(ui
        .graph
        .get(&key("m"))
        .unwrap()
        .jobs
        .contains("__ASSET_JOB"));
    assert!(!ui
        .graph
        .get(&key("e"))
        .unwrap()
        .jobs
        .contains("__ASSET_JOB"));
    let plain = Workspace::new([("loc", &s)]);
    assert!(plain.graph.get(&key("m")).unwrap().jobs.is_empty());
}
