//! Parity with real Dagster: every selection string in `fixtures/parity.json` was evaluated by
//! Dagster's `AssetSelection.from_string` (or `from_coercible(text.split(","))` for comma cases)
//! over the workspace in `fixtures/parity_defs/`; this test evaluates the same strings over the
//! same graph and must give the same keys, or fail where Dagster fails, with the same kind of
//! error. Regenerate the fixture with `fixtures/generate_parity.py`.

use std::collections::BTreeSet;

use dg_selection::{
    parse, parse_comma_separated, select_any, AssetGraph, AssetNode, SelectOptions, SelectionError,
};
use serde::Deserialize;

#[derive(Deserialize)]
struct Fixture {
    dagster_version: String,
    nodes: Vec<AssetNode>,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    text: String,
    comma: bool,
    strict: Outcome,
    allow_missing: Outcome,
}

#[derive(Deserialize, Debug, PartialEq)]
#[serde(untagged)]
enum Outcome {
    Keys { keys: BTreeSet<String> },
    Error { error: String, message: String },
}

fn load() -> Fixture {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/parity.json");
    let text = std::fs::read_to_string(path).expect("fixture exists");
    serde_json::from_str(&text).expect("fixture parses")
}

fn error_kind(error: &SelectionError) -> &'static str {
    match error {
        SelectionError::Syntax(_) => "invalid_selection",
        SelectionError::UnknownKeys { .. } => "unknown_keys",
        SelectionError::NotSupported { .. } => "not_supported",
    }
}

fn ours(
    graph: &AssetGraph,
    case: &Case,
    options: SelectOptions,
) -> Result<BTreeSet<String>, String> {
    let exprs = if case.comma {
        parse_comma_separated(&case.text)
    } else {
        parse(&case.text).map(|e| vec![e])
    };
    let exprs = exprs.map_err(|e| error_kind(&e).to_owned())?;
    let keys = select_any(graph, &exprs, options).map_err(|e| error_kind(&e).to_owned())?;
    Ok(keys.iter().map(|k| k.to_user_string()).collect())
}

fn theirs(outcome: &Outcome) -> Result<BTreeSet<String>, String> {
    match outcome {
        Outcome::Keys { keys } => Ok(keys.clone()),
        Outcome::Error { error, .. } => Err(error.clone()),
    }
}

#[test]
fn every_case_matches_dagster() {
    let fixture = load();
    assert!(
        fixture.dagster_version.starts_with("1.13."),
        "{}",
        fixture.dagster_version
    );
    assert!(fixture.cases.len() > 200, "the fixture lost its cases");
    let graph = AssetGraph::new(fixture.nodes);
    let mut mismatches = Vec::new();
    for case in &fixture.cases {
        for (allow_missing, outcome) in [(false, &case.strict), (true, &case.allow_missing)] {
            let got = ours(&graph, case, SelectOptions { allow_missing });
            let want = theirs(outcome);
            if got != want {
                mismatches.push(format!(
                    "{:?} (comma: {}, allow_missing: {allow_missing})\n    dagster: {want:?}\n    ours:    {got:?}",
                    case.text, case.comma
                ));
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} of {} cases differ from Dagster:\n{}",
        mismatches.len(),
        fixture.cases.len(),
        mismatches.join("\n")
    );
}

#[test]
fn the_fixture_covers_each_outcome() {
    let fixture = load();
    let kinds: BTreeSet<&str> = fixture
        .cases
        .iter()
        .map(|c| match &c.strict {
            Outcome::Keys { keys } if keys.is_empty() => "empty",
            Outcome::Keys { .. } => "keys",
            Outcome::Error { error, .. } => error.as_str(),
        })
        .collect();
    assert_eq!(
        kinds,
        BTreeSet::from([
            "empty",
            "keys",
            "invalid_selection",
            "unknown_keys",
            "not_supported"
        ])
    );
}
