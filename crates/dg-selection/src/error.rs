//! Errors of parsing and evaluating a selection.
//!
//! A syntax error carries the selection text and the 1-based character column of the problem, so
//! its message can show the text with a caret under that column. The variants carry enough for
//! callers to choose: an unknown key in the bare-key form is an error by default (as in `dg launch`)
//! but [`crate::SelectOptions::allow_missing`] drops it instead; attribute filters never fail on
//! names that match nothing.
//!
//! This crate does not depend on `dg-config`; [`SelectionError::hint`] and
//! [`SelectionError::exit_code`] give what its `Diagnostic` trait asks for.

use std::fmt;

use dg_core::AssetKey;

/// Exit code for usage errors (bad selection text, unknown keys).
pub const EXIT_USAGE: u8 = 2;

/// What went wrong with a selection.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectionError {
    /// The text is not a valid selection.
    #[error("{0}")]
    Syntax(SyntaxError),
    /// The bare-key form named keys that no code location defines.
    #[error("{}", unknown_keys_message(keys))]
    UnknownKeys {
        /// The missing keys, sorted.
        keys: Vec<AssetKey>,
        /// For each missing key, existing keys that look alike (may be empty).
        suggestions: Vec<(AssetKey, Vec<AssetKey>)>,
    },
    /// The attribute needs state the asset graph does not have (run history, column metadata).
    #[error("`{attribute}:` selections cannot be evaluated by dg: they need {needs}")]
    NotSupported {
        /// The attribute, such as `status`.
        attribute: &'static str,
        /// What the attribute would need.
        needs: &'static str,
    },
}

/// A syntax error at a position in the selection text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// The whole selection text.
    pub text: String,
    /// 1-based character column of the problem (one past the end for "unexpected end").
    pub column: usize,
    /// What was wrong, such as "expected `)`, found end of input".
    pub message: String,
}

/// Characters of a long selection that a snippet shows on each side of the column.
const SNIPPET_CONTEXT: usize = 40;

impl SyntaxError {
    /// The selection on one line (line breaks and tabs shown as spaces) and a caret under the
    /// column, each line indented by two spaces. A long selection is cut to the
    /// [`SNIPPET_CONTEXT`] characters on each side of the column, with `...` where it was cut.
    pub fn snippet(&self) -> String {
        let total = self.text.chars().count();
        let at = self.column.saturating_sub(1);
        let (start, end) = if total <= 2 * SNIPPET_CONTEXT {
            (0, total)
        } else {
            let start = at
                .saturating_sub(SNIPPET_CONTEXT)
                .min(total - 2 * SNIPPET_CONTEXT);
            (start, start + 2 * SNIPPET_CONTEXT)
        };
        let before = if start > 0 { "..." } else { "" };
        let after = if end < total { "..." } else { "" };
        let line: String = self
            .text
            .chars()
            .skip(start)
            .take(end - start)
            .map(|c| if c.is_whitespace() { ' ' } else { c })
            .collect();
        let caret = " ".repeat(before.len() + at - start);
        format!("  {before}{line}{after}\n  {caret}^")
    }
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid asset selection at column {}: {}\n{}",
            self.column,
            self.message,
            self.snippet()
        )
    }
}

fn unknown_keys_message(keys: &[AssetKey]) -> String {
    let names: Vec<String> = keys.iter().map(|k| format!("`{k}`")).collect();
    let noun = if keys.len() == 1 { "key" } else { "keys" };
    format!(
        "no code location defines the asset {noun} {}",
        names.join(", ")
    )
}

impl SelectionError {
    /// The fix, phrased as an instruction.
    pub fn hint(&self) -> Option<String> {
        match self {
            SelectionError::Syntax(_) => Some(
                "write a selection like `key:raw/orders`, `tag:team=data`, `group:ingest+`, \
                 `+key:\"my-asset\" and not kind:dbt`; quote values with other characters: \
                 `owner:\"me@example.com\"`"
                    .into(),
            ),
            SelectionError::UnknownKeys { suggestions, .. } => {
                let alike: Vec<String> = suggestions
                    .iter()
                    .filter(|(_, similar)| !similar.is_empty())
                    .map(|(key, similar)| {
                        let names: Vec<String> = similar.iter().map(|s| format!("`{s}`")).collect();
                        format!("for `{key}` did you mean {}?", names.join(", "))
                    })
                    .collect();
                if alike.is_empty() {
                    Some("run `dg list defs` to see the asset keys of the project".into())
                } else {
                    Some(alike.join("; "))
                }
            }
            SelectionError::NotSupported { .. } => Some(
                "select the assets by key, tag, group, kind, owner or code location instead".into(),
            ),
        }
    }

    /// The process exit code this error maps to: all of them are usage errors.
    pub fn exit_code(&self) -> u8 {
        EXIT_USAGE
    }

    pub(crate) fn syntax(text: &str, at: usize, message: impl Into<String>) -> Self {
        SelectionError::Syntax(SyntaxError {
            text: text.to_owned(),
            column: at + 1,
            message: message.into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syntax_errors_point_at_the_column() {
        let err = SelectionError::syntax("(key:a\tor", 9, "expected an expression");
        assert_eq!(
            err.to_string(),
            "invalid asset selection at column 10: expected an expression\n  (key:a or\n           ^"
        );
        assert_eq!(err.exit_code(), 2);
    }

    #[test]
    fn long_selections_show_a_window_around_the_column() {
        let text = format!("{}(x{}", "a ".repeat(100), " b".repeat(100));
        let err = SelectionError::syntax(&text, 200, "unexpected `(`");
        let SelectionError::Syntax(syntax) = &err else {
            unreachable!()
        };
        let snippet = syntax.snippet();
        let lines: Vec<&str> = snippet.lines().collect();
        assert_eq!(
            lines[0],
            format!("  ...{}(x{}...", "a ".repeat(20), " b".repeat(19))
        );
        assert_eq!(lines[1].find('^'), lines[0].find('('));
        // At the end: the caret one past the last character, nothing cut after it.
        let end = SelectionError::syntax(&text, text.chars().count(), "expected `)`");
        let SelectionError::Syntax(syntax) = &end else {
            unreachable!()
        };
        let snippet = syntax.snippet();
        let lines: Vec<&str> = snippet.lines().collect();
        assert!(lines[0].starts_with("  ...") && lines[0].ends_with(" b b"));
        assert_eq!(lines[1].len(), lines[0].len() + 1, "{snippet}");
    }

    #[test]
    fn unknown_keys_suggest_similar_names() {
        let err = SelectionError::UnknownKeys {
            keys: vec![AssetKey::new(["ordrs"])],
            suggestions: vec![(AssetKey::new(["ordrs"]), vec![AssetKey::new(["orders"])])],
        };
        assert_eq!(
            err.to_string(),
            "no code location defines the asset key `ordrs`"
        );
        assert_eq!(err.hint().unwrap(), "for `ordrs` did you mean `orders`?");
    }
}
