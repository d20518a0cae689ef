//! The syntax tree of a selection, and its canonical text.
//!
//! [`Expr`]'s `Display` prints text that parses back to the same tree: parentheses appear exactly
//! where precedence needs them, values are quoted, depths are written out. Two forms only exist
//! for a whole selection (Dagster accepts them only there): [`Expr::Clause`], the older
//! `+key_name*` syntax, and a `tag:` written with characters that cannot be quoted.

use std::fmt;

use dg_core::AssetKey;

/// How far a traversal goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Depth {
    /// `+` without digits (or `*` in a clause): every ancestor or descendant.
    Unlimited,
    /// `2+`, `+2`: at most this many steps.
    Limited(u64),
}

/// The function-call forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Function {
    /// `sinks(X)`: assets in X with nothing downstream of them in X.
    Sinks,
    /// `roots(X)`: assets in X with nothing upstream of them in X.
    Roots,
}

impl Function {
    /// The function's name in the language.
    pub fn name(self) -> &'static str {
        match self {
            Function::Sinks => "sinks",
            Function::Roots => "roots",
        }
    }
}

/// Values of `is:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IsValue {
    /// `is:external`: assets that cannot be materialized.
    External,
    /// `is:materializable`.
    Materializable,
}

/// An attribute filter. `None` is the literal `<null>` (for example `kind:<null>` selects assets
/// with no kind).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Attr {
    /// `key:pattern`; `*` matches any run of characters, `/` included.
    Key(String),
    /// `tag:key` or `tag:key=value`; an empty value matches tags whose value is empty.
    Tag {
        /// The tag key.
        key: String,
        /// The tag value (`""` when none was given).
        value: String,
    },
    /// `owner:name`.
    Owner(Option<String>),
    /// `group:name`, with `*` wildcards when quoted.
    Group(Option<String>),
    /// `kind:name`.
    Kind(Option<String>),
    /// `is:external` or `is:materializable`.
    Is(IsValue),
    /// `code_location:name` or `code_location:"repository@location"`.
    CodeLocation(Option<String>),
    /// `status:` (needs run history).
    Status(Option<String>),
    /// `column:` (needs column metadata).
    Column(Option<String>),
    /// `table_name:` (needs table metadata).
    TableName(Option<String>),
    /// `column_tag:key` or `column_tag:key=value` (needs column metadata).
    ColumnTag {
        /// The column tag key.
        key: String,
        /// The column tag value (`""` when none was given).
        value: String,
    },
    /// `changed_in_branch:` (needs branch deployments).
    ChangedInBranch(Option<String>),
    /// `partitions:none|static|dynamic|time|multipartitions`.
    Partitions(Option<String>),
    /// `automation_type:` (needs automation metadata).
    AutomationType(Option<String>),
    /// `sensor:name`.
    Sensor(Option<String>),
    /// `schedule:name`.
    Schedule(Option<String>),
    /// `job:name`.
    Job(Option<String>),
}

impl Attr {
    /// The attribute's name, as written before the colon.
    pub fn name(&self) -> &'static str {
        match self {
            Attr::Key(_) => "key",
            Attr::Tag { .. } => "tag",
            Attr::Owner(_) => "owner",
            Attr::Group(_) => "group",
            Attr::Kind(_) => "kind",
            Attr::Is(_) => "is",
            Attr::CodeLocation(_) => "code_location",
            Attr::Status(_) => "status",
            Attr::Column(_) => "column",
            Attr::TableName(_) => "table_name",
            Attr::ColumnTag { .. } => "column_tag",
            Attr::ChangedInBranch(_) => "changed_in_branch",
            Attr::Partitions(_) => "partitions",
            Attr::AutomationType(_) => "automation_type",
            Attr::Sensor(_) => "sensor",
            Attr::Schedule(_) => "schedule",
            Attr::Job(_) => "job",
        }
    }
}

/// A parsed selection.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Expr {
    /// `*`: every materializable asset.
    All,
    /// An attribute filter.
    Attr(Attr),
    /// `not X`: every materializable asset that is not in X.
    Not(Box<Expr>),
    /// `X and Y and ...`: one node for a whole chain, so a long chain is wide, not deep. The
    /// parser gives two or more operands; a parenthesized `and` inside is an operand of its own.
    /// No operands selects nothing.
    And(Vec<Expr>),
    /// `X or Y or ...`, one node per chain like [`Expr::And`]. No operands selects nothing.
    Or(Vec<Expr>),
    /// `N+X`, `X+N`, `N+X+M`: X with its ancestors and/or descendants. At least one side is set.
    Traverse {
        /// Upstream depth (`+X`), if any.
        up: Option<Depth>,
        /// The selection traversed from.
        expr: Box<Expr>,
        /// Downstream depth (`X+`), if any.
        down: Option<Depth>,
    },
    /// `sinks(X)`, `roots(X)`.
    Call(Function, Box<Expr>),
    /// The older whole-selection syntax: an exact key with `+`/`*` traversal marks, such as
    /// `raw/orders`, `+stg_orders`, `*summary+`. The key must exist.
    Clause {
        /// Upstream depth: one per leading `+`, unlimited for `*`.
        up: Option<Depth>,
        /// The exact key.
        key: AssetKey,
        /// Downstream depth: one per trailing `+`, unlimited for `*`.
        down: Option<Depth>,
    },
}

/// Binding strength when printing; higher binds tighter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Prec {
    Or,
    And,
    Not,
    Primary,
    /// What a traversal applies to: an attribute, a call, or parentheses.
    Traversable,
}

impl Expr {
    fn prec(&self) -> Prec {
        match self {
            Expr::Or(..) => Prec::Or,
            Expr::And(..) => Prec::And,
            Expr::Not(_) => Prec::Not,
            Expr::All | Expr::Traverse { .. } | Expr::Clause { .. } => Prec::Primary,
            Expr::Attr(_) | Expr::Call(..) => Prec::Traversable,
        }
    }

    fn write_at(&self, f: &mut fmt::Formatter<'_>, min: Prec) -> fmt::Result {
        if self.prec() < min {
            f.write_str("(")?;
            self.write_at(f, Prec::Or)?;
            return f.write_str(")");
        }
        match self {
            Expr::All => f.write_str("*"),
            Expr::Attr(attr) => write!(f, "{attr}"),
            Expr::Not(inner) => {
                f.write_str("not ")?;
                inner.write_at(f, Prec::Not)
            }
            // An operand that is itself a chain of the same operator is parenthesized, so the
            // text parses back to the same tree (the parser makes one node per chain).
            Expr::And(operands) => write_chain(f, operands, " and ", Prec::Not),
            Expr::Or(operands) => write_chain(f, operands, " or ", Prec::And),
            Expr::Traverse { up, expr, down } => {
                match up {
                    Some(Depth::Unlimited) => f.write_str("+")?,
                    Some(Depth::Limited(n)) => write!(f, "{n}+")?,
                    None => {}
                }
                expr.write_at(f, Prec::Traversable)?;
                match down {
                    Some(Depth::Unlimited) => f.write_str("+"),
                    Some(Depth::Limited(n)) => write!(f, "+{n}"),
                    None => Ok(()),
                }
            }
            Expr::Call(function, inner) => {
                write!(f, "{}(", function.name())?;
                inner.write_at(f, Prec::Or)?;
                f.write_str(")")
            }
            Expr::Clause { up, key, down } => {
                write_clause_marks(f, *up)?;
                write!(f, "{key}")?;
                write_clause_marks(f, *down)
            }
        }
    }
}

fn write_chain(
    f: &mut fmt::Formatter<'_>,
    operands: &[Expr],
    separator: &str,
    min: Prec,
) -> fmt::Result {
    for (i, operand) in operands.iter().enumerate() {
        if i > 0 {
            f.write_str(separator)?;
        }
        operand.write_at(f, min)?;
    }
    Ok(())
}

fn write_clause_marks(f: &mut fmt::Formatter<'_>, depth: Option<Depth>) -> fmt::Result {
    match depth {
        None => Ok(()),
        Some(Depth::Unlimited) => f.write_str("*"),
        Some(Depth::Limited(n)) => (0..n).try_for_each(|_| f.write_str("+")),
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // A tag that only the whole-string fallback can produce is printed the same way.
            // A tag that only the whole-string fallback can produce is printed in that form. With
            // an empty value, `tag:K=` is used when the grammar would read `tag:K` differently.
            Expr::Attr(Attr::Tag { key, value }) if !quotable(key) || !quotable(value) => {
                let bare = format!("tag:{key}");
                if !value.is_empty() {
                    write!(f, "{bare}={value}")
                } else if crate::grammar_accepts(&bare) {
                    write!(f, "{bare}=")
                } else {
                    f.write_str(&bare)
                }
            }
            _ => self.write_at(f, Prec::Or),
        }
    }
}

/// Whether a value can be written as a quoted string (which has no escapes).
pub(crate) fn quotable(value: &str) -> bool {
    !value.contains(['"', '\\', '\r', '\n'])
}

fn write_value(f: &mut fmt::Formatter<'_>, value: &Option<String>) -> fmt::Result {
    match value {
        None => f.write_str("<null>"),
        Some(text) => write!(f, "\"{text}\""),
    }
}

impl fmt::Display for Attr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:", self.name())?;
        match self {
            Attr::Key(pattern) => write!(f, "\"{pattern}\""),
            Attr::Tag { key, value } | Attr::ColumnTag { key, value } => {
                write!(f, "\"{key}\"")?;
                if !value.is_empty() {
                    write!(f, "=\"{value}\"")?;
                }
                Ok(())
            }
            Attr::Is(IsValue::External) => f.write_str("external"),
            Attr::Is(IsValue::Materializable) => f.write_str("materializable"),
            Attr::Owner(v)
            | Attr::Group(v)
            | Attr::Kind(v)
            | Attr::CodeLocation(v)
            | Attr::Status(v)
            | Attr::Column(v)
            | Attr::TableName(v)
            | Attr::ChangedInBranch(v)
            | Attr::Partitions(v)
            | Attr::AutomationType(v)
            | Attr::Sensor(v)
            | Attr::Schedule(v)
            | Attr::Job(v) => write_value(f, v),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(pattern: &str) -> Expr {
        Expr::Attr(Attr::Key(pattern.into()))
    }

    #[test]
    fn prints_parentheses_only_where_precedence_needs_them() {
        let or = Expr::Or(vec![key("a"), key("b")]);
        let and = Expr::And(vec![or.clone(), key("c")]);
        assert_eq!(and.to_string(), r#"(key:"a" or key:"b") and key:"c""#);
        let not = Expr::Not(Box::new(Expr::And(vec![key("a"), key("b"), key("c")])));
        assert_eq!(not.to_string(), r#"not (key:"a" and key:"b" and key:"c")"#);
        let nested = Expr::Or(vec![or.clone(), key("c")]);
        assert_eq!(nested.to_string(), r#"(key:"a" or key:"b") or key:"c""#);
        let right = Expr::Or(vec![key("a"), Expr::Or(vec![key("b"), key("c")])]);
        assert_eq!(right.to_string(), r#"key:"a" or (key:"b" or key:"c")"#);
        let up = Expr::Traverse {
            up: Some(Depth::Limited(2)),
            expr: Box::new(Expr::All),
            down: Some(Depth::Unlimited),
        };
        assert_eq!(up.to_string(), "2+(*)+");
    }

    #[test]
    fn prints_clauses_and_nulls() {
        let clause = Expr::Clause {
            up: Some(Depth::Limited(2)),
            key: AssetKey::from_user_string("a/b"),
            down: Some(Depth::Unlimited),
        };
        assert_eq!(clause.to_string(), "++a/b*");
        assert_eq!(Expr::Attr(Attr::Kind(None)).to_string(), "kind:<null>");
        let tag = Expr::Attr(Attr::Tag {
            key: "a\"b".into(),
            value: String::new(),
        });
        assert_eq!(tag.to_string(), "tag:a\"b");
    }
}
