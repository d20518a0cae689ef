//! Dagster's older whole-string forms, tried when the grammar rejects a selection.
//!
//! Dagster's `AssetSelection.from_string` falls back to them, and `dg launch --assets` relies on it
//! for bare keys:
//!
//! * a clause: optional `*` and `+` marks, an exact key, optional `+` and `*` marks (`raw/orders`,
//!   `++summary`, `*summary+`). Each `+` is one step, `*` is unlimited. The key's characters are
//!   letters, digits, `_`, `.`, `/`, `[`, `]`, `?` and `-`; spaces around the clause are ignored.
//! * `tag:` followed by anything: the rest split on `=` is a tag key and value, so
//!   `tag:priority=1` (a number is not a value in the grammar) still selects by tag.

use crate::ast::{Attr, Depth, Expr};
use dg_core::AssetKey;

/// The clause form, or `None` if `text` is not one.
pub(crate) fn parse_clause(text: &str) -> Option<Expr> {
    let text = text.trim();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    let up_start = i;
    if chars.first() == Some(&'*') {
        i += 1;
    }
    while chars.get(i) == Some(&'+') {
        i += 1;
    }
    let up = marks_depth(&chars[up_start..i]);
    let key_start = i;
    while chars.get(i).is_some_and(|c| is_clause_key_char(*c)) {
        i += 1;
    }
    if i == key_start {
        return None;
    }
    let key: String = chars[key_start..i].iter().collect();
    let down_start = i;
    while chars.get(i) == Some(&'+') {
        i += 1;
    }
    if chars.get(i) == Some(&'*') {
        i += 1;
    }
    if i != chars.len() {
        return None;
    }
    Some(Expr::Clause {
        up,
        key: AssetKey::from_user_string(&key),
        down: marks_depth(&chars[down_start..]),
    })
}

/// Python's `\w` (letters, digits, underscore in any script) plus `./[]?-`. Rust's
/// `is_alphanumeric` stands in for `\w`; the two differ only on rare combining marks.
fn is_clause_key_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '.' | '/' | '[' | ']' | '?' | '-')
}

fn marks_depth(marks: &[char]) -> Option<Depth> {
    if marks.contains(&'*') {
        Some(Depth::Unlimited)
    } else if marks.is_empty() {
        None
    } else {
        Some(Depth::Limited(marks.len() as u64))
    }
}

/// The `tag:` fallback. `Err` holds the character offset of a second `=`.
pub(crate) fn parse_tag_string(text: &str) -> Option<Result<Expr, usize>> {
    let rest = text.strip_prefix("tag:")?;
    let mut parts = rest.split('=');
    let key = parts.next().unwrap_or_default().to_owned();
    let value = parts.next().unwrap_or_default().to_owned();
    if parts.next().is_some() {
        let second = text
            .char_indices()
            .filter(|(_, c)| *c == '=')
            .nth(1)
            .map(|(byte, _)| text[..byte].chars().count())
            .unwrap_or_default();
        return Some(Err(second));
    }
    Some(Ok(Expr::Attr(Attr::Tag { key, value })))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clause(up: Option<Depth>, key: &str, down: Option<Depth>) -> Option<Expr> {
        Some(Expr::Clause {
            up,
            key: AssetKey::from_user_string(key),
            down,
        })
    }

    #[test]
    fn clauses_count_plus_marks_and_treat_star_as_unlimited() {
        use Depth::*;
        assert_eq!(
            parse_clause(" raw/orders "),
            clause(None, "raw/orders", None)
        );
        assert_eq!(
            parse_clause("++a+"),
            clause(Some(Limited(2)), "a", Some(Limited(1)))
        );
        assert_eq!(
            parse_clause("*+a*"),
            clause(Some(Unlimited), "a", Some(Unlimited))
        );
        assert_eq!(
            parse_clause("my-asset.v2[0]?"),
            clause(None, "my-asset.v2[0]?", None)
        );
        assert_eq!(parse_clause("ключ"), clause(None, "ключ", None));
        for bad in ["", "+", "**a", "+*a", "a b", "a+b", "key:a", "a*+"] {
            assert_eq!(parse_clause(bad), None, "{bad}");
        }
    }

    #[test]
    fn tag_strings_split_on_one_equals_sign() {
        let tag = |key: &str, value: &str| {
            Some(Ok(Expr::Attr(Attr::Tag {
                key: key.into(),
                value: value.into(),
            })))
        };
        assert_eq!(parse_tag_string("tag:priority=1"), tag("priority", "1"));
        assert_eq!(parse_tag_string("tag:a b"), tag("a b", ""));
        assert_eq!(parse_tag_string("tag:"), tag("", ""));
        assert_eq!(parse_tag_string("tag:a=b=c"), Some(Err(7)));
        assert_eq!(parse_tag_string("key:a"), None);
    }
}
