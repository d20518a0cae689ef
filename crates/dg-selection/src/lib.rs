//! Dagster's asset selection language: parser and evaluator.
//!
//! ```
//! use dg_selection::{parse, select, AssetGraph, AssetKey, AssetNode};
//!
//! let raw = AssetNode { group: "ingest".into(), ..AssetNode::new("raw/orders") };
//! let summary = AssetNode { deps: vec![AssetKey::from_user_string("raw/orders")], ..AssetNode::new("summary") };
//! let graph = AssetGraph::new([raw, summary]);
//! let expr = parse("group:ingest+").unwrap();
//! let keys = select(&graph, &expr).unwrap();
//! assert_eq!(keys.len(), 2);
//! ```
//!
//! [`parse`] accepts exactly what Dagster 1.13's `AssetSelection.from_string` accepts: the
//! grammar (attributes, traversals, `and`/`or`/`not`, `sinks()`/`roots()`), and when that fails,
//! the older whole-string forms (a bare key with `+`/`*` marks, `tag:` with anything after it).
//! [`parse_comma_separated`] is the `dg launch --assets a,b` form. [`select`] evaluates with
//! Dagster's rules; see the `eval` module docs for the subtle ones.
//!
//! Selections come from web requests too, so they are bounded: at most [`MAX_LENGTH`] characters,
//! [`MAX_TERMS`] terms and [`MAX_NESTING`] levels of nesting, each refused with a syntax error at
//! the column that went too far. A chain of `and`/`or` is one node however long, parsing and
//! evaluation keep their own stacks instead of recursing, and the other walks of a parsed tree
//! (`Clone`, `Eq`, `Drop`, `Display`) recurse a few calls per nesting level, so no selection can
//! overflow a thread's stack (`tests/limits.rs` runs each case on a 512 KiB stack).

mod ast;
mod error;
mod eval;
mod graph;
mod legacy;
mod lexer;
mod parser;
mod suggest;
mod wildcard;

use std::collections::BTreeSet;

pub use ast::{Attr, Depth, Expr, Function, IsValue};
pub use dg_core::AssetKey;
pub use error::{SelectionError, SyntaxError, EXIT_USAGE};
pub use eval::SelectOptions;
pub use graph::{
    AssetGraph, AssetNode, PartitionsKind, DEFAULT_GROUP, DEFAULT_REPOSITORY, KIND_TAG_PREFIX,
};
pub use parser::{MAX_NESTING, MAX_TERMS};
pub use wildcard::wildcard_match;

/// Characters allowed in one selection (and in a whole comma-separated list).
pub const MAX_LENGTH: usize = 65_536;

/// Parses one selection, as Dagster's `AssetSelection.from_string` does.
///
/// A syntax error names the column of the first token the grammar could not accept (or of the
/// first character no token can start with) and says what was expected there. Text beyond the
/// limits ([`MAX_LENGTH`], [`MAX_TERMS`], [`MAX_NESTING`]) is refused the same way.
pub fn parse(text: &str) -> Result<Expr, SelectionError> {
    check_length(text)?;
    let failure = match lexer::tokenize(text) {
        Ok(tokens) => match parser::Parser::new(tokens).parse_all() {
            Ok(expr) => return Ok(expr),
            Err(failure) => failure,
        },
        Err(lex) => parser::Failure {
            at: lex.at,
            message: lex.message,
            over_limit: false,
        },
    };
    if failure.over_limit {
        return Err(SelectionError::syntax(text, failure.at, failure.message));
    }
    if let Some(clause) = legacy::parse_clause(text) {
        return Ok(clause);
    }
    match legacy::parse_tag_string(text) {
        Some(Ok(tag)) => Ok(tag),
        Some(Err(at)) => Err(SelectionError::syntax(
            text,
            at,
            "a `tag:` selection has at most one `=`; quote the key and value: `tag:\"key\"=\"value\"`",
        )),
        None => Err(SelectionError::syntax(text, failure.at, failure.message)),
    }
}

/// Refuses text longer than [`MAX_LENGTH`] characters, at the first character past it.
fn check_length(text: &str) -> Result<(), SelectionError> {
    if text.len() <= MAX_LENGTH {
        return Ok(());
    }
    match text.char_indices().nth(MAX_LENGTH) {
        None => Ok(()),
        Some(_) => Err(SelectionError::syntax(
            text,
            MAX_LENGTH,
            format!(
                "the selection is longer than {MAX_LENGTH} characters; select by group, tag, \
                 kind or owner instead of listing keys"
            ),
        )),
    }
}

/// Whether the grammar alone (without the whole-string fallbacks) accepts `text`.
pub(crate) fn grammar_accepts(text: &str) -> bool {
    lexer::tokenize(text).is_ok_and(|tokens| parser::Parser::new(tokens).parse_all().is_ok())
}

/// Parses a comma-separated list of selections (`dg launch --assets a,b`), each with [`parse`].
///
/// Like Dagster, the text is split on every comma, even inside quotes. A syntax error's column
/// and snippet refer to the whole text.
pub fn parse_comma_separated(text: &str) -> Result<Vec<Expr>, SelectionError> {
    check_length(text)?;
    let mut exprs = Vec::new();
    let mut offset = 0;
    for part in text.split(',') {
        match parse(part) {
            Ok(expr) => exprs.push(expr),
            Err(SelectionError::Syntax(mut error)) => {
                error.text = text.to_owned();
                error.column += offset;
                return Err(SelectionError::Syntax(error));
            }
            Err(other) => return Err(other),
        }
        offset += part.chars().count() + 1;
    }
    Ok(exprs)
}

/// The keys `expr` selects in `graph`; a bare key that no location defines is an error.
pub fn select(graph: &AssetGraph, expr: &Expr) -> Result<BTreeSet<AssetKey>, SelectionError> {
    select_with(graph, expr, SelectOptions::default())
}

/// The keys `expr` selects in `graph`, with options.
pub fn select_with(
    graph: &AssetGraph,
    expr: &Expr,
    options: SelectOptions,
) -> Result<BTreeSet<AssetKey>, SelectionError> {
    let evaluator = eval::Evaluator::new(graph, options);
    let set = evaluator.eval(expr)?;
    Ok(evaluator.keys(&set))
}

/// The union of what each selection selects, evaluated in order (the first error wins).
pub fn select_any(
    graph: &AssetGraph,
    exprs: &[Expr],
    options: SelectOptions,
) -> Result<BTreeSet<AssetKey>, SelectionError> {
    let mut keys = BTreeSet::new();
    for expr in exprs {
        keys.extend(select_with(graph, expr, options)?);
    }
    Ok(keys)
}
