//! The asset selection language: arbitrary text is parsed (one selection, and the comma-separated
//! `dg launch --assets` form) and whatever parses is evaluated, strict and with missing keys
//! allowed, on a small graph that has every attribute the language filters on.
//!
//! Besides "no panic, no stack overflow, no hang": a syntax error points inside the text (or one
//! past its end), and a parsed tree prints as text that parses back to the same tree whenever the
//! printed text is within the length limit (quoting makes it longer than the input).

#![no_main]

use std::sync::OnceLock;

use dg_selection::{
    parse, parse_comma_separated, select_any, select_with, AssetGraph, AssetNode,
    SelectOptions, SelectionError, MAX_LENGTH,
};
use libfuzzer_sys::fuzz_target;

/// Two locations, a chain across them, an external source, tags, kinds, owners, partitions and
/// job/sensor/schedule targets.
fn graph() -> &'static AssetGraph {
    static GRAPH: OnceLock<AssetGraph> = OnceLock::new();
    GRAPH.get_or_init(|| {
        let nodes: Vec<AssetNode> = serde_json::from_value(serde_json::json!([
            {"key": ["raw", "orders"], "group": "ingest", "kinds": ["python"],
             "tags": {"team": "data", "dagster/kind/csv": ""}, "owners": ["me@example.com"],
             "code_location": "alpha", "deps": [["source"]], "is_materializable": true,
             "partitions": "static", "jobs": ["__ASSET_JOB", "daily"]},
            {"key": ["source"], "code_location": "alpha", "is_materializable": false},
            {"key": ["stg_orders"], "group": "staging", "kinds": ["dbt"], "owners": ["team:data"],
             "code_location": "alpha", "deps": [["raw", "orders"]], "is_materializable": true,
             "partitions": "time", "sensors": ["on_raw"]},
            {"key": ["summary"], "group": "marts", "tags": {"priority": "1", "team": ""},
             "code_location": "beta", "repository": "repo", "deps": [["stg_orders"], ["missing"]],
             "is_materializable": true, "partitions": "multipartitions", "schedules": ["nightly"],
             "jobs": ["daily"]},
            {"key": ["my-asset.v2[0]?"], "code_location": "beta", "is_materializable": true,
             "partitions": "dynamic"}
        ]))
        .expect("the fuzz graph is valid");
        AssetGraph::new(nodes)
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let strict = SelectOptions::default();
    let lenient = SelectOptions {
        allow_missing: true,
    };
    match parse(text) {
        Ok(expr) => {
            for options in [strict, lenient] {
                if let Err(err) = select_with(graph(), &expr, options) {
                    let _ = (err.to_string(), err.hint(), err.exit_code());
                }
            }
            let printed = expr.to_string();
            if printed.chars().count() <= MAX_LENGTH {
                let back = parse(&printed);
                assert_eq!(
                    back.as_ref().ok(),
                    Some(&expr),
                    "{text:?} printed as {printed:?} parses as {back:?}"
                );
            }
        }
        Err(SelectionError::Syntax(error)) => {
            let chars = text.chars().count();
            assert!(
                error.column >= 1 && error.column <= chars + 1,
                "column {} of a {chars}-character text",
                error.column
            );
            let shown = SelectionError::Syntax(error).to_string();
            assert!(shown.len() < 2_000, "the message quotes a window of the text");
        }
        Err(other) => panic!("parsing alone gave a non-syntax error: {other}"),
    }
    if let Ok(exprs) = parse_comma_separated(text) {
        let _ = select_any(graph(), &exprs, lenient);
    }
});
