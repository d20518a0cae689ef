//! The parser: tree shapes, precedence, keyword case, fallbacks, and positioned errors.

use dg_selection::{
    parse, parse_comma_separated, AssetKey, Attr, Depth, Expr, Function, IsValue, SelectionError,
};

fn key(pattern: &str) -> Expr {
    Expr::Attr(Attr::Key(pattern.into()))
}

fn b(expr: Expr) -> Box<Expr> {
    Box::new(expr)
}

fn syntax(text: &str) -> (usize, String) {
    match parse(text) {
        Err(SelectionError::Syntax(error)) => (error.column, error.message),
        other => panic!("{text:?} should be a syntax error, got {other:?}"),
    }
}

#[test]
fn or_binds_loosest_then_and_then_not() {
    assert_eq!(
        parse("key:a or key:b and key:c").unwrap(),
        Expr::Or(vec![key("a"), Expr::And(vec![key("b"), key("c")])])
    );
    assert_eq!(
        parse("not key:a and key:b").unwrap(),
        Expr::And(vec![Expr::Not(b(key("a"))), key("b")])
    );
    assert_eq!(
        parse("not not key:a").unwrap(),
        Expr::Not(b(Expr::Not(b(key("a")))))
    );
}

#[test]
fn a_chain_of_one_operator_is_one_node() {
    assert_eq!(
        parse("key:a and key:b and key:c").unwrap(),
        Expr::And(vec![key("a"), key("b"), key("c")])
    );
    assert_eq!(
        parse("key:a or key:b OR key:c").unwrap(),
        Expr::Or(vec![key("a"), key("b"), key("c")])
    );
    assert_eq!(
        parse("key:a or key:b and key:c and key:d or key:e").unwrap(),
        Expr::Or(vec![
            key("a"),
            Expr::And(vec![key("b"), key("c"), key("d")]),
            key("e")
        ])
    );
    // Parentheses keep their own node, so the tree prints back as written.
    assert_eq!(
        parse("(key:a or key:b) or key:c").unwrap(),
        Expr::Or(vec![Expr::Or(vec![key("a"), key("b")]), key("c")])
    );
    // 20,000 terms would be too many (`tests/limits.rs`); 4,000 are one node of 4,000 operands.
    let long = vec!["*"; 4_000].join(" or ");
    match parse(&long).unwrap() {
        Expr::Or(operands) => {
            assert_eq!(operands.len(), 4_000);
            assert!(operands.iter().all(|o| o == &Expr::All));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn parentheses_group_and_vanish_from_the_tree() {
    assert_eq!(
        parse("(key:a or key:b) and key:c").unwrap(),
        Expr::And(vec![Expr::Or(vec![key("a"), key("b")]), key("c")])
    );
    assert_eq!(parse("((key:a))").unwrap(), key("a"));
}

#[test]
fn traversals_take_optional_depths() {
    let traverse = |up, down| Expr::Traverse {
        up,
        expr: b(key("a")),
        down,
    };
    assert_eq!(
        parse("+key:a").unwrap(),
        traverse(Some(Depth::Unlimited), None)
    );
    assert_eq!(
        parse("key:a+").unwrap(),
        traverse(None, Some(Depth::Unlimited))
    );
    assert_eq!(
        parse("2+key:a+3").unwrap(),
        traverse(Some(Depth::Limited(2)), Some(Depth::Limited(3)))
    );
    assert_eq!(
        parse("1 + key:a + 0").unwrap(),
        traverse(Some(Depth::Limited(1)), Some(Depth::Limited(0)))
    );
    assert_eq!(
        parse("99999999999999999999999+key:a").unwrap(),
        traverse(Some(Depth::Limited(u64::MAX)), None)
    );
    assert_eq!(
        parse("+(key:a or key:b)").unwrap(),
        Expr::Traverse {
            up: Some(Depth::Unlimited),
            expr: b(Expr::Or(vec![key("a"), key("b")])),
            down: None
        }
    );
}

#[test]
fn functions_and_the_star() {
    assert_eq!(parse("*").unwrap(), Expr::All);
    assert_eq!(
        parse("sinks(*)").unwrap(),
        Expr::Call(Function::Sinks, b(Expr::All))
    );
    assert_eq!(
        parse("roots (key:a)").unwrap(),
        Expr::Call(Function::Roots, b(key("a")))
    );
    assert_eq!(parse("not *").unwrap(), Expr::Not(b(Expr::All)));
}

#[test]
fn attribute_values_quoted_unquoted_and_null() {
    assert_eq!(parse(r#"key:"a b/*""#).unwrap(), key("a b/*"));
    assert_eq!(parse("key:raw/*/x").unwrap(), key("raw/*/x"));
    assert_eq!(
        parse("tag:team=data").unwrap(),
        Expr::Attr(Attr::Tag {
            key: "team".into(),
            value: "data".into()
        })
    );
    assert_eq!(
        parse("tag:team=<null>").unwrap(),
        parse("tag:team").unwrap()
    );
    assert_eq!(parse("kind:<null>").unwrap(), Expr::Attr(Attr::Kind(None)));
    assert_eq!(
        parse("owner:\"team:data\"").unwrap(),
        Expr::Attr(Attr::Owner(Some("team:data".into())))
    );
    assert_eq!(
        parse("tag:job=sensor").unwrap(),
        Expr::Attr(Attr::Tag {
            key: "job".into(),
            value: "sensor".into()
        })
    );
    assert_eq!(
        parse("is:external").unwrap(),
        Expr::Attr(Attr::Is(IsValue::External))
    );
    assert_eq!(
        parse("code_location:loc").unwrap(),
        Expr::Attr(Attr::CodeLocation(Some("loc".into())))
    );
    assert_eq!(
        parse("status:<null>").unwrap(),
        Expr::Attr(Attr::Status(None))
    );
}

#[test]
fn keywords_are_lowercase_except_boolean_operators() {
    assert!(parse("key:a AND key:b").is_ok());
    assert!(parse("NOT key:a").is_ok());
    assert_eq!(syntax("key:a And key:b").0, 7);
    assert_eq!(
        syntax("key:a And key:b").1,
        "expected `and`, `or` or the end, found `And`; write `and` or `AND`"
    );
    assert!(syntax("a and b").1.ends_with("here write `key:a`"));
    assert_eq!(syntax("KEY:a"), (1, "expected a selection such as `key:name`, `tag:name`, `group:name`, `*`, `not`, `+` or `(`, found `KEY`; names are lowercase: `key`".into()));
    assert_eq!(syntax("SINKS(key:a)").0, 1);
}

#[test]
fn bare_keys_use_the_clause_form() {
    let clause = |up, k: &str, down| Expr::Clause {
        up,
        key: AssetKey::from_user_string(k),
        down,
    };
    assert_eq!(
        parse("raw/orders").unwrap(),
        clause(None, "raw/orders", None)
    );
    assert_eq!(
        parse("++my-asset*").unwrap(),
        clause(Some(Depth::Limited(2)), "my-asset", Some(Depth::Unlimited))
    );
    // Keywords of the grammar are keys when they stand alone.
    assert_eq!(parse("sinks").unwrap(), clause(None, "sinks", None));
    assert_eq!(parse("and").unwrap(), clause(None, "and", None));
}

#[test]
fn tag_fallback_accepts_what_the_grammar_cannot_quote() {
    assert_eq!(
        parse("tag:priority=1").unwrap(),
        Expr::Attr(Attr::Tag {
            key: "priority".into(),
            value: "1".into()
        })
    );
    assert_eq!(
        parse("tag:<null>").unwrap(),
        Expr::Attr(Attr::Tag {
            key: "<null>".into(),
            value: String::new()
        })
    );
    let (column, message) = syntax("tag:a=b=c");
    assert_eq!(column, 8);
    assert!(message.contains("at most one `=`"), "{message}");
}

#[test]
fn syntax_errors_name_the_column_and_what_was_expected() {
    let cases: &[(&str, usize, &str)] = &[
        ("", 1, "expected a selection"),
        ("key:a and", 10, "expected a selection"),
        ("(key:a", 7, "expected `)`, found end of input"),
        ("key:a)", 6, "unmatched `)`"),
        ("key:*", 5, "write `key:\"*\"`"),
        ("key:sinks", 5, "quote it: `\"sinks\"`"),
        ("group:mark*", 7, "quote it: `\"mark*\"`"),
        ("owner:1", 7, "quote it: `\"1\"`"),
        ("+*", 2, "add parentheses"),
        ("+not key:a", 2, "add parentheses"),
        ("owner:a@b", 8, "unexpected character `@`"),
        ("key:\"abc", 5, "unterminated quoted string"),
        (
            "key:a key:b",
            7,
            "expected `and`, `or` or the end, found keyword `key`",
        ),
        ("is:foo", 4, "`is:` takes `external` or `materializable`"),
        ("2 key:a", 3, "expected `+` after an upstream depth"),
        ("sinks key:a", 7, "expected `(` after `sinks`"),
        ("key a", 5, "expected `:` after `key`"),
    ];
    for (text, column, needle) in cases {
        let (got_column, message) = syntax(text);
        assert_eq!(got_column, *column, "{text:?}: {message}");
        assert!(message.contains(needle), "{text:?}: {message}");
    }
}

#[test]
fn error_display_shows_a_caret_under_the_column() {
    let error = parse("group:ingest and (key:a").unwrap_err();
    assert_eq!(
        error.to_string(),
        "invalid asset selection at column 24: expected `)`, found end of input\n  \
         group:ingest and (key:a\n                         ^"
    );
    assert_eq!(error.exit_code(), 2);
    assert!(error.hint().unwrap().contains("key:raw/orders"));
}

#[test]
fn comma_lists_split_everywhere_and_report_columns_in_the_whole_text() {
    let exprs = parse_comma_separated("raw/orders, key:b*").unwrap();
    assert_eq!(exprs.len(), 2);
    assert_eq!(exprs[1], key("b*"));
    match parse_comma_separated("a,key:x and").unwrap_err() {
        SelectionError::Syntax(error) => {
            assert_eq!(error.column, 12);
            assert_eq!(error.text, "a,key:x and");
        }
        other => panic!("{other:?}"),
    }
    // Dagster splits inside quotes too.
    assert!(parse_comma_separated("key:\"a,b\"").is_err());
}

#[test]
fn nesting_is_bounded_instead_of_overflowing_the_stack() {
    let deep = format!("{}key:a{}", "(".repeat(5000), ")".repeat(5000));
    assert!(syntax(&deep).1.contains("nests deeper"));
    let nots = format!("{}key:a", "not ".repeat(5000));
    assert!(parse(&nots).is_err());
}
