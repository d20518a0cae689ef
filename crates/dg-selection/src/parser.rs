//! Recursive-descent parser for Dagster's selection grammar.
//!
//! Precedence, loosest first: `or`, `and`, `not`, then the primaries (`*`, traversals, attributes,
//! calls, parentheses). `and` and `or` associate to the left. Traversal marks (`N+`, `+N`) apply
//! only to an attribute, a call or a parenthesized selection, so `+not key:a` and `+*` are errors,
//! as in Dagster. A failure here is not final: [`crate::parse`] then tries the older whole-string
//! forms before reporting it.

use crate::ast::{Attr, Depth, Expr, Function, IsValue};
use crate::lexer::{Tok, Token, KEYWORDS};

/// Why the grammar rejected the text: a position and a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failure {
    pub at: usize,
    pub message: String,
}

type PResult<T> = Result<T, Failure>;

const EXPECTED_SELECTION: &str =
    "expected a selection such as `key:name`, `tag:name`, `group:name`, `*`, `not`, `+` or `(`";

pub(crate) struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    depth: usize,
}

/// Deeper nesting than this is refused instead of risking the stack.
const MAX_NESTING: usize = 200;

impl Parser {
    pub(crate) fn new(tokens: Vec<Token>) -> Self {
        Parser {
            tokens,
            pos: 0,
            depth: 0,
        }
    }

    /// `start: expr EOF`.
    pub(crate) fn parse_all(mut self) -> PResult<Expr> {
        let expr = self.or()?;
        match self.peek() {
            Tok::Eof => Ok(expr),
            Tok::RParen => Err(self.fail("unmatched `)`".into())),
            other => {
                let advice = match other {
                    Tok::Word(w) if ["and", "or", "not"].contains(&w.to_lowercase().as_str()) => {
                        format!("; write `{}` or `{}`", w.to_lowercase(), w.to_uppercase())
                    }
                    _ => String::new(),
                };
                let message = format!("expected `and`, `or` or the end, found {other}{advice}");
                Err(self.fail(message))
            }
        }
    }

    fn peek(&self) -> &Tok {
        &self.tokens[self.pos].tok
    }

    fn peek_at(&self, offset: usize) -> &Tok {
        let last = self.tokens.len() - 1;
        &self.tokens[(self.pos + offset).min(last)].tok
    }

    fn here(&self) -> usize {
        self.tokens[self.pos].at
    }

    fn bump(&mut self) -> Tok {
        let tok = self.tokens[self.pos].tok.clone();
        if self.pos + 1 < self.tokens.len() {
            self.pos += 1;
        }
        tok
    }

    fn fail(&self, message: String) -> Failure {
        Failure {
            at: self.here(),
            message,
        }
    }

    fn expect(&mut self, want: &Tok, what: &str) -> PResult<()> {
        if self.peek() == want {
            self.bump();
            Ok(())
        } else {
            Err(self.fail(format!("expected {what}, found {}", self.peek())))
        }
    }

    fn or(&mut self) -> PResult<Expr> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(self.fail(format!("selection nests deeper than {MAX_NESTING} levels")));
        }
        let mut left = self.and()?;
        while self.peek() == &Tok::Or {
            self.bump();
            let right = self.and()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        self.depth -= 1;
        Ok(left)
    }

    fn and(&mut self) -> PResult<Expr> {
        let mut left = self.unary()?;
        while self.peek() == &Tok::And {
            self.bump();
            let right = self.unary()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self) -> PResult<Expr> {
        if self.peek() == &Tok::Not {
            self.bump();
            self.depth += 1;
            if self.depth > MAX_NESTING {
                return Err(self.fail(format!("selection nests deeper than {MAX_NESTING} levels")));
            }
            let inner = self.unary()?;
            self.depth -= 1;
            return Ok(Expr::Not(Box::new(inner)));
        }
        self.primary()
    }

    fn primary(&mut self) -> PResult<Expr> {
        let up = match (self.peek().clone(), self.peek_at(1)) {
            (Tok::Star, _) => {
                self.bump();
                return Ok(Expr::All);
            }
            (Tok::Digits(digits), Tok::Plus) => {
                self.bump();
                self.bump();
                Some(Depth::Limited(depth_of(&digits)))
            }
            (Tok::Digits(_), _) => {
                self.bump();
                return Err(self.fail(format!(
                    "expected `+` after an upstream depth, found {}",
                    self.peek()
                )));
            }
            (Tok::Plus, _) => {
                self.bump();
                Some(Depth::Unlimited)
            }
            _ => None,
        };
        let expr = self.traversable(up.is_some())?;
        let down = if self.peek() == &Tok::Plus {
            self.bump();
            match self.peek().clone() {
                Tok::Digits(digits) => {
                    self.bump();
                    Some(Depth::Limited(depth_of(&digits)))
                }
                _ => Some(Depth::Unlimited),
            }
        } else {
            None
        };
        if up.is_none() && down.is_none() {
            return Ok(expr);
        }
        Ok(Expr::Traverse {
            up,
            expr: Box::new(expr),
            down,
        })
    }

    /// `traversalAllowedExpr`: an attribute, `sinks(...)`/`roots(...)`, or `( expr )`.
    fn traversable(&mut self, after_plus: bool) -> PResult<Expr> {
        match self.peek().clone() {
            Tok::LParen => {
                self.bump();
                let inner = self.or()?;
                self.expect(&Tok::RParen, "`)`")?;
                Ok(inner)
            }
            Tok::Keyword(name @ ("sinks" | "roots")) => {
                self.bump();
                let function = if name == "sinks" {
                    Function::Sinks
                } else {
                    Function::Roots
                };
                self.expect(&Tok::LParen, &format!("`(` after `{name}`"))?;
                let inner = self.or()?;
                self.expect(&Tok::RParen, "`)`")?;
                Ok(Expr::Call(function, Box::new(inner)))
            }
            Tok::Keyword(name) => {
                self.bump();
                self.expect(&Tok::Colon, &format!("`:` after `{name}`"))?;
                self.attribute(name).map(Expr::Attr)
            }
            Tok::Star | Tok::Not if after_plus => Err(self.fail(format!(
                "a traversal applies to an attribute, a function or parentheses, not {}; add parentheses",
                self.peek()
            ))),
            other => {
                let advice = match &other {
                    Tok::Word(word) | Tok::Wildcard(word) => KEYWORDS
                        .iter()
                        .find(|k| word.eq_ignore_ascii_case(k))
                        .map(|k| format!("; names are lowercase: `{k}`"))
                        .unwrap_or_else(|| {
                            format!("; a bare key works only as the whole selection, here write `key:{word}`")
                        }),
                    _ => String::new(),
                };
                Err(self.fail(format!("{EXPECTED_SELECTION}, found {other}{advice}")))
            }
        }
    }

    fn attribute(&mut self, name: &'static str) -> PResult<Attr> {
        let value_at = self.here();
        Ok(match name {
            "key" => Attr::Key(self.key_value()?),
            "tag" | "column_tag" => {
                let key = self.value()?.ok_or_else(|| Failure {
                    at: value_at,
                    message: format!("`{name}:` needs a tag key, not `<null>`"),
                })?;
                let value = if self.peek() == &Tok::Equal {
                    self.bump();
                    self.value()?.unwrap_or_default()
                } else {
                    String::new()
                };
                if name == "tag" {
                    Attr::Tag { key, value }
                } else {
                    Attr::ColumnTag { key, value }
                }
            }
            "is" => match self.value()?.as_deref() {
                Some("external") => Attr::Is(IsValue::External),
                Some("materializable") => Attr::Is(IsValue::Materializable),
                _ => {
                    return Err(Failure {
                        at: value_at,
                        message: "`is:` takes `external` or `materializable`".into(),
                    })
                }
            },
            "owner" => Attr::Owner(self.value()?),
            "group" => Attr::Group(self.value()?),
            "kind" => Attr::Kind(self.value()?),
            "code_location" => Attr::CodeLocation(self.value()?),
            "status" => Attr::Status(self.value()?),
            "column" => Attr::Column(self.value()?),
            "table_name" => Attr::TableName(self.value()?),
            "changed_in_branch" => Attr::ChangedInBranch(self.value()?),
            "partitions" => Attr::Partitions(self.value()?),
            "automation_type" => Attr::AutomationType(self.value()?),
            "sensor" => Attr::Sensor(self.value()?),
            "schedule" => Attr::Schedule(self.value()?),
            "job" => Attr::Job(self.value()?),
            other => unreachable!("`{other}` is not an attribute keyword"),
        })
    }

    /// `keyValue: QUOTED_STRING | UNQUOTED_STRING | UNQUOTED_WILDCARD_STRING`.
    fn key_value(&mut self) -> PResult<String> {
        match self.peek().clone() {
            Tok::Quoted(text) | Tok::Word(text) | Tok::Wildcard(text) => {
                self.bump();
                Ok(text)
            }
            Tok::Star => Err(self.fail(
                "expected a key pattern, found `*`; write `key:\"*\"` to match every key".into(),
            )),
            other => Err(self.fail(format!(
                "expected a key pattern (a name, a name with `*`, or a quoted string), found {other}{}",
                quote_advice(&other)
            ))),
        }
    }

    /// `value: NULL_STRING | QUOTED_STRING | UNQUOTED_STRING | SENSOR | SCHEDULE | JOB`.
    fn value(&mut self) -> PResult<Option<String>> {
        match self.peek().clone() {
            Tok::Null => {
                self.bump();
                Ok(None)
            }
            Tok::Quoted(text) | Tok::Word(text) => {
                self.bump();
                Ok(Some(text))
            }
            Tok::Keyword(word @ ("sensor" | "schedule" | "job")) => {
                self.bump();
                Ok(Some(word.to_owned()))
            }
            other => Err(self.fail(format!(
                "expected a value (a name, a quoted string or `<null>`), found {other}{}",
                quote_advice(&other)
            ))),
        }
    }
}

/// A suggestion to quote a token that is valid inside quotes.
fn quote_advice(tok: &Tok) -> String {
    let text = match tok {
        Tok::Keyword(word) => word.to_string(),
        Tok::Wildcard(word) | Tok::Digits(word) => word.clone(),
        Tok::And | Tok::Or | Tok::Not => return "; quote it to use it as a value".into(),
        _ => return String::new(),
    };
    format!("; quote it: `\"{text}\"`")
}

/// Depths beyond `u64::MAX` mean the same as `u64::MAX` in any real graph.
fn depth_of(digits: &str) -> u64 {
    digits.parse().unwrap_or(u64::MAX)
}
