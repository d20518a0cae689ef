//! Limits: long `and`/`or` chains are one node and evaluate without recursion; deeper nesting,
//! more terms or more text than the limits are refused with a positioned syntax error. Nothing
//! here may overflow a thread's stack: each case runs on a thread with a stack smaller than a
//! tokio worker's (2 MiB), so a regression aborts this test binary instead of `dg dev`.

use std::collections::BTreeSet;

use dg_selection::{parse, select, AssetGraph, AssetKey, AssetNode, SelectionError};

/// Runs `f` on a thread with a 512 KiB stack (a quarter of a tokio worker's).
fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(512 * 1024)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap()
}

/// `n0 <- n1 <- ... <- n{count-1}`: each asset depends on the previous one.
fn chain_graph(count: usize) -> AssetGraph {
    AssetGraph::new((0..count).map(|i| AssetNode {
        deps: if i == 0 {
            vec![]
        } else {
            vec![AssetKey::new([format!("n{}", i - 1)])]
        },
        ..AssetNode::new(format!("n{i}").as_str())
    }))
}

fn names(keys: &BTreeSet<AssetKey>) -> BTreeSet<String> {
    keys.iter().map(|k| k.to_string()).collect()
}

/// The column and message of a syntax error (panics on anything else).
fn syntax(text: &str) -> (usize, String) {
    match parse(text) {
        Err(SelectionError::Syntax(error)) => {
            let shown = SelectionError::Syntax(error.clone()).to_string();
            assert!(
                shown.len() < 1_000,
                "the message quotes at most a window of the text: {} bytes",
                shown.len()
            );
            (error.column, error.message)
        }
        Err(other) => panic!("expected a syntax error, got {other}"),
        Ok(_) => panic!("a {}-character selection was accepted", text.len()),
    }
}

#[test]
fn a_700_term_or_chain_evaluates_on_a_small_stack() {
    let selected = on_small_stack(|| {
        let graph = chain_graph(700);
        let text: Vec<String> = (0..700).map(|i| format!("key:n{i}")).collect();
        let expr = parse(&text.join(" or ")).unwrap();
        let all = select(&graph, &expr).unwrap();
        let stars = parse(&vec!["*"; 700].join(" and ")).unwrap();
        assert_eq!(select(&graph, &stars).unwrap(), all);
        let mixed: Vec<String> = (0..700)
            .map(|i| format!("key:n{i} and +key:n{i}"))
            .collect();
        assert_eq!(
            select(&graph, &parse(&mixed.join(" OR ")).unwrap()).unwrap(),
            all
        );
        names(&all)
    });
    assert_eq!(selected.len(), 700);
    assert!(selected.contains("n0") && selected.contains("n699"));
}

#[test]
fn a_20000_term_or_chain_is_refused_where_it_gets_too_long() {
    // 100 KB: the request that ended a release build of `dg dev` with a stack overflow.
    let (column, message) = on_small_stack(|| syntax(&vec!["*"; 20_000].join(" or ")));
    assert_eq!(column, 65_537, "{message}");
    assert!(message.contains("65536 characters"), "{message}");
}

#[test]
fn more_terms_than_the_limit_are_refused_at_the_first_one_too_many() {
    let (column, message) = on_small_stack(|| syntax(&vec!["*"; 4_097].join(" or ")));
    // Each `* or ` is five characters; the 4097th term starts after 4096 of them.
    assert_eq!(column, 4_096 * 5 + 1, "{message}");
    assert!(message.contains("4096 terms"), "{message}");
    let (column, _) = on_small_stack(|| syntax(&vec!["key:a"; 5_000].join(" and ")));
    assert_eq!(column, 4_096 * 10 + 1);
    let accepted = on_small_stack(|| parse(&vec!["*"; 4_096].join(" or ")).is_ok());
    assert!(accepted, "4096 terms are within the limit");
}

#[test]
fn deep_nesting_is_refused_at_the_level_too_deep() {
    let deep =
        |open: &str, close: &str, n: usize| format!("{}key:a{}", open.repeat(n), close.repeat(n));
    let (column, message) = on_small_stack(move || syntax(&deep("(", ")", 10_000)));
    assert_eq!(column, 201, "{message}");
    assert!(message.contains("deeper than 200"), "{message}");
    let (column, _) = on_small_stack(move || syntax(&deep("not ", "", 10_000)));
    assert_eq!(column, 200 * 4 + 1);
    let (column, _) = on_small_stack(move || syntax(&deep("sinks(", ")", 5_000)));
    assert_eq!(column, 200 * 6 + 1);
    let (column, _) = on_small_stack(move || syntax(&deep("+(", ")+", 10_000)));
    assert_eq!(column, 200 * 2 + 2, "at the `(` that opens level 201");
}

#[test]
fn the_deepest_accepted_nesting_parses_evaluates_and_prints_on_a_small_stack() {
    // Each level is a `not` and a call: two of the 200 levels; `or`, `and` and traversals too.
    let mut text = "key:n0".to_owned();
    for i in 0..66 {
        text = format!("key:n{i} or not +roots(key:n{i} and ({text}))+");
    }
    let (selected, printed) = on_small_stack(move || {
        let graph = chain_graph(120);
        let expr = parse(&text).unwrap();
        let printed = expr.to_string();
        assert_eq!(parse(&printed).unwrap(), expr);
        (names(&select(&graph, &expr).unwrap()), printed)
    });
    assert!(selected.contains("n0"), "{printed}");
}

#[test]
fn text_longer_than_the_limit_is_refused_at_the_first_character_past_it() {
    let long_key = format!("key:{}", "a".repeat(70_000));
    let (column, message) = on_small_stack(move || syntax(&long_key));
    assert_eq!(column, 65_537, "{message}");
    // Characters, not bytes: 65,536 two-byte characters are within the limit.
    let wide = format!("key:\"{}\"", "é".repeat(65_536 - 7));
    assert!(on_small_stack(move || parse(&wide).is_ok()));
}

#[test]
fn a_long_token_is_quoted_shortened_in_the_message() {
    // Found by fuzzing: the message quoted a 1,000-character word twice.
    let word = "w".repeat(5_000);
    for text in [
        format!("sinks({word}"),
        format!("key:a or {word}"),
        format!("group:{word}*"),
    ] {
        let (_, message) = syntax(&text);
        assert!(message.contains("wwwww...`"), "{message}");
    }
    let (_, message) = syntax(&format!("key:a or group:{}", "9".repeat(5_000)));
    assert!(message.contains("99999...`"), "{message}");
}
