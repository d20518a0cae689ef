//! Evaluation of every operator and attribute over a small hand-built graph.
//!
//! ```text
//!   src (external) ──> a ──> b ──> c ──> d        loc1: src a b c
//!                            └───> e              loc2: d e  (d and e depend across locations)
//!   lone
//! ```

use std::collections::BTreeSet;

use dg_selection::{
    parse, parse_comma_separated, select, select_any, select_with, AssetGraph, AssetKey, AssetNode,
    PartitionsKind, SelectOptions, SelectionError,
};

fn node(key: &str, deps: &[&str], location: &str) -> AssetNode {
    AssetNode {
        deps: deps.iter().map(|d| AssetKey::from_user_string(d)).collect(),
        code_location: location.into(),
        ..AssetNode::new(key)
    }
}

fn graph() -> AssetGraph {
    let src = AssetNode {
        is_materializable: false,
        group: "ingest".into(),
        tags: [("team".to_owned(), "data".to_owned())].into(),
        ..node("src", &[], "loc1")
    };
    let a = AssetNode {
        group: "ingest".into(),
        tags: [("team".to_owned(), "data".to_owned())].into(),
        kinds: ["python".to_owned()].into(),
        owners: vec!["team:data".into()],
        jobs: ["nightly".to_owned()].into(),
        sensors: ["on_file".to_owned()].into(),
        ..node("raw/a", &["src"], "loc1")
    };
    let b = AssetNode {
        group: "staging".into(),
        tags: [("pii".to_owned(), String::new())].into(),
        partitions: Some(PartitionsKind::Time),
        schedules: ["daily".to_owned()].into(),
        ..node("b", &["raw/a"], "loc1")
    };
    let c = AssetNode {
        group: "marts".into(),
        kinds: ["dbt".to_owned()].into(),
        ..node("c", &["b"], "loc1")
    };
    let d = node("d", &["c"], "loc2");
    let e = AssetNode {
        repository: "other".into(),
        ..node("e", &["b"], "loc2")
    };
    let lone = node("lone", &[], "loc2");
    AssetGraph::new([src, a, b, c, d, e, lone])
}

fn keys(text: &str) -> Vec<String> {
    let expr = parse(text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
    let selected = select(&graph(), &expr).unwrap_or_else(|e| panic!("{text:?}: {e}"));
    selected.iter().map(AssetKey::to_user_string).collect()
}

fn check(cases: &[(&str, &[&str])]) {
    for (text, want) in cases {
        assert_eq!(keys(text), *want, "{text:?}");
    }
}

const MATERIALIZABLE: &[&str] = &["b", "c", "d", "e", "lone", "raw/a"];

#[test]
fn star_and_not_range_over_materializable_assets() {
    check(&[
        ("*", MATERIALIZABLE),
        ("not *", &[]),
        ("not key:b", &["c", "d", "e", "lone", "raw/a"]),
        ("not key:src", MATERIALIZABLE),
    ]);
}

#[test]
fn and_or() {
    check(&[
        ("key:b or key:c", &["b", "c"]),
        ("* and group:ingest", &["raw/a"]),
        ("key:b or key:c and key:d", &["b"]),
        ("(key:b or key:c) and key:c", &["c"]),
    ]);
}

#[test]
fn key_patterns_match_every_asset_including_external_ones() {
    check(&[
        ("key:src", &["src"]),
        ("key:raw/*", &["raw/a"]),
        ("key:\"*\"", &["b", "c", "d", "e", "lone", "raw/a", "src"]),
        ("key:*a*", &["raw/a"]),
        ("key:nothing", &[]),
    ]);
}

#[test]
fn upstream_keeps_materializable_assets_and_counts_steps() {
    check(&[
        ("+key:c", &["b", "c", "raw/a"]),
        ("1+key:c", &["b", "c"]),
        ("0+key:c", &["c"]),
        ("+key:src", &[]),
        ("2+key:d", &["b", "c", "d"]),
    ]);
}

#[test]
fn downstream_keeps_everything_it_reaches() {
    check(&[
        ("key:src+", &["b", "c", "d", "e", "raw/a", "src"]),
        ("key:src+1", &["raw/a", "src"]),
        ("key:b+1", &["b", "c", "e"]),
        ("1+key:b+1", &["b", "c", "e", "raw/a"]),
        ("key:d+", &["d"]),
    ]);
}

#[test]
fn sinks_and_roots_look_through_the_whole_graph() {
    check(&[
        ("sinks(*)", &["d", "e", "lone"]),
        ("roots(*)", &["lone", "raw/a"]),
        ("roots(key:b or key:d)", &["b"]),
        ("sinks(key:b or key:d)", &["d"]),
        ("roots(key:src+)", &["src"]),
    ]);
}

#[test]
fn attribute_filters() {
    check(&[
        ("tag:team=data", &["raw/a"]),
        ("tag:team", &[]),
        ("tag:pii", &["b"]),
        ("tag:dagster/kind/python", &["raw/a"]),
        ("owner:\"team:data\"", &["raw/a"]),
        ("owner:<null>", &[]),
        ("group:ingest", &["raw/a"]),
        ("group:\"*ing*\"", &["b", "raw/a"]),
        ("group:<null>", &[]),
        ("kind:dbt", &["c"]),
        ("kind:<null>", &["b", "d", "e", "lone"]),
        ("is:external", &["src"]),
        ("is:materializable", MATERIALIZABLE),
        ("code_location:loc2", &["d", "e", "lone"]),
        ("code_location:\"other@loc2\"", &["e"]),
        (
            "code_location:\"__repository__@loc1\"",
            &["b", "c", "raw/a", "src"],
        ),
        ("job:nightly", &["raw/a"]),
        ("sensor:on_file", &["raw/a"]),
        ("schedule:daily", &["b"]),
        ("partitions:time", &["b"]),
        ("partitions:none", &["c", "d", "e", "lone", "raw/a", "src"]),
    ]);
}

#[test]
fn runtime_attributes_are_reported_as_not_supported() {
    for text in [
        "status:healthy",
        "column:id",
        "not automation_type:eager",
        "+changed_in_branch:x",
    ] {
        let err = select(&graph(), &parse(text).unwrap()).unwrap_err();
        assert!(
            matches!(err, SelectionError::NotSupported { .. }),
            "{text}: {err}"
        );
        assert!(
            err.to_string().contains("cannot be evaluated by dg"),
            "{err}"
        );
    }
}

#[test]
fn bare_keys_must_exist_unless_missing_keys_are_allowed() {
    check(&[
        ("raw/a", &["raw/a"]),
        ("+c", &["b", "c"]),
        ("b*", &["b", "c", "d", "e"]),
    ]);
    let expr = parse("lonee").unwrap();
    match select(&graph(), &expr).unwrap_err() {
        SelectionError::UnknownKeys { keys, suggestions } => {
            assert_eq!(keys, vec![AssetKey::from_user_string("lonee")]);
            assert_eq!(suggestions[0].1, vec![AssetKey::from_user_string("lone")]);
        }
        other => panic!("{other}"),
    }
    let allowed = select_with(
        &graph(),
        &expr,
        SelectOptions {
            allow_missing: true,
        },
    )
    .unwrap();
    assert!(allowed.is_empty());
    // An attribute filter that matches nothing is not an error.
    assert!(select(&graph(), &parse("key:raw/aa").unwrap())
        .unwrap()
        .is_empty());
}

#[test]
fn comma_lists_are_unions() {
    let exprs = parse_comma_separated("raw/a,key:c+").unwrap();
    let got = select_any(&graph(), &exprs, SelectOptions::default()).unwrap();
    let want: BTreeSet<AssetKey> = ["raw/a", "c", "d"].map(AssetKey::from_user_string).into();
    assert_eq!(got, want);
}
