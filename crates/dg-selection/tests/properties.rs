//! Properties of the parser: it never panics, and printing a tree then parsing the text gives the
//! same tree back (for generated trees and for whatever random text happens to parse).

use dg_selection::{
    parse, parse_comma_separated, select_with, AssetGraph, AssetKey, AssetNode, Attr, Depth, Expr,
    Function, IsValue, SelectOptions,
};
use proptest::prelude::*;

/// Text that can be quoted: anything but `"`, `\` and line breaks.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z_][a-z0-9_/]{0,6}",
        "[ -!#-\\[\\]-~]{0,8}",
        Just(String::new()),
        Just("<null>".to_owned()),
        Just("and".to_owned()),
        Just("key".to_owned()),
    ]
}

fn opt_value() -> impl Strategy<Value = Option<String>> {
    prop_oneof![1 => Just(None), 4 => value().prop_map(Some)]
}

fn attr() -> impl Strategy<Value = Attr> {
    prop_oneof![
        value().prop_map(Attr::Key),
        (value(), value()).prop_map(|(key, value)| Attr::Tag { key, value }),
        (value(), value()).prop_map(|(key, value)| Attr::ColumnTag { key, value }),
        opt_value().prop_map(Attr::Owner),
        opt_value().prop_map(Attr::Group),
        opt_value().prop_map(Attr::Kind),
        prop_oneof![Just(IsValue::External), Just(IsValue::Materializable)].prop_map(Attr::Is),
        opt_value().prop_map(Attr::CodeLocation),
        opt_value().prop_map(Attr::Status),
        opt_value().prop_map(Attr::Column),
        opt_value().prop_map(Attr::TableName),
        opt_value().prop_map(Attr::ChangedInBranch),
        opt_value().prop_map(Attr::Partitions),
        opt_value().prop_map(Attr::AutomationType),
        opt_value().prop_map(Attr::Sensor),
        opt_value().prop_map(Attr::Schedule),
        opt_value().prop_map(Attr::Job),
    ]
}

fn depth() -> impl Strategy<Value = Depth> {
    prop_oneof![
        Just(Depth::Unlimited),
        (0u64..5).prop_map(Depth::Limited),
        Just(Depth::Limited(u64::MAX)),
    ]
}

fn expr() -> impl Strategy<Value = Expr> {
    let leaf = prop_oneof![Just(Expr::All), attr().prop_map(Expr::Attr)];
    leaf.prop_recursive(6, 48, 2, |inner| {
        prop_oneof![
            inner.clone().prop_map(|e| Expr::Not(Box::new(e))),
            proptest::collection::vec(inner.clone(), 2..5).prop_map(Expr::And),
            proptest::collection::vec(inner.clone(), 2..5).prop_map(Expr::Or),
            (
                proptest::option::of(depth()),
                inner.clone(),
                proptest::option::of(depth())
            )
                .prop_filter("a traversal has a side", |(up, _, down)| up.is_some()
                    || down.is_some())
                .prop_map(|(up, e, down)| Expr::Traverse {
                    up,
                    expr: Box::new(e),
                    down
                }),
            (
                prop_oneof![Just(Function::Sinks), Just(Function::Roots)],
                inner
            )
                .prop_map(|(f, e)| Expr::Call(f, Box::new(e))),
        ]
    })
}

/// The whole-selection clause form (`++raw/orders*`).
fn clause() -> impl Strategy<Value = Expr> {
    let marks = proptest::option::of(prop_oneof![
        Just(Depth::Unlimited),
        (1u64..4).prop_map(Depth::Limited)
    ]);
    (
        marks.clone(),
        "[a-zA-Z0-9_.\\[\\]?-]{1,5}(/[a-z0-9_-]{1,4}){0,2}",
        marks,
    )
        .prop_map(|(up, key, down)| Expr::Clause {
            up,
            key: AssetKey::from_user_string(&key),
            down,
        })
}

/// Text made mostly of the language's own pieces, so random strings often parse.
fn selection_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("key:"),
        Just("tag:"),
        Just("group:"),
        Just("owner:"),
        Just("kind:"),
        Just("is:"),
        Just("sinks("),
        Just("roots("),
        Just("("),
        Just(")"),
        Just(" and "),
        Just(" or "),
        Just("not "),
        Just("AND "),
        Just("+"),
        Just("2"),
        Just("*"),
        Just("a"),
        Just("raw/x"),
        Just("\""),
        Just("="),
        Just("<null>"),
        Just(","),
        Just(" "),
        Just("external"),
        Just("é"),
        Just("-"),
        Just("\n"),
        Just("job"),
    ];
    proptest::collection::vec(piece, 0..14).prop_map(|pieces| pieces.concat())
}

fn small_graph() -> AssetGraph {
    let b = AssetNode {
        deps: vec![AssetKey::new(["a"])],
        ..AssetNode::new("b")
    };
    AssetGraph::new([AssetNode::new("a"), b, AssetNode::new("raw/x")])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn printing_then_parsing_gives_the_same_tree(e in prop_oneof![4 => expr(), 1 => clause()]) {
        let text = e.to_string();
        let back = parse(&text);
        prop_assert_eq!(back.as_ref().ok(), Some(&e), "printed as {:?}: {:?}", text, back);
    }

    #[test]
    fn a_chain_selects_the_union_or_intersection_of_its_operands(
        operands in proptest::collection::vec(expr(), 2..5),
    ) {
        let graph = small_graph();
        let options = SelectOptions { allow_missing: true };
        let each: Vec<_> = operands
            .iter()
            .map(|e| select_with(&graph, e, options))
            .collect();
        let union = select_with(&graph, &Expr::Or(operands.clone()), options);
        let intersection = select_with(&graph, &Expr::And(operands.clone()), options);
        // The first error wins, evaluated left to right, as in Dagster.
        match each.iter().find_map(|r| r.as_ref().err()) {
            Some(first) => {
                prop_assert_eq!(union.as_ref().err(), Some(first));
                prop_assert_eq!(intersection.as_ref().err(), Some(first));
            }
            None => {
                let sets: Vec<_> = each.into_iter().map(Result::unwrap).collect();
                let all: std::collections::BTreeSet<_> = sets.iter().flatten().cloned().collect();
                let common: std::collections::BTreeSet<_> = all
                    .iter()
                    .filter(|k| sets.iter().all(|s| s.contains(*k)))
                    .cloned()
                    .collect();
                prop_assert_eq!(union.unwrap(), all);
                prop_assert_eq!(intersection.unwrap(), common);
            }
        }
        // Grouping the first two operands selects the same.
        let mut nested = operands.clone();
        let first_two: Vec<Expr> = nested.drain(..2).collect();
        nested.insert(0, Expr::Or(first_two));
        prop_assert_eq!(
            select_with(&graph, &Expr::Or(nested), options).ok(),
            select_with(&graph, &Expr::Or(operands), options).ok()
        );
    }

    #[test]
    fn never_panics_on_arbitrary_text(text in "\\PC{0,40}") {
        let _ = parse(&text);
        let _ = parse_comma_separated(&text);
    }

    #[test]
    fn whatever_parses_prints_back_to_itself_and_evaluates(text in selection_text()) {
        if let Ok(e) = parse(&text) {
            let printed = e.to_string();
            let back = parse(&printed);
            prop_assert_eq!(back.as_ref().ok(), Some(&e), "{:?} printed as {:?}", text, printed);
            let _ = select_with(&small_graph(), &e, SelectOptions { allow_missing: true });
        }
        if let Err(dg_selection::SelectionError::Syntax(error)) = parse(&text) {
            prop_assert!(error.column >= 1 && error.column <= text.chars().count() + 1);
        }
    }
}
