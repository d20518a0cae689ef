//! Parser for Dagster's selection grammar: one loop with its own stack of open groups, so that
//! no text makes it recurse.
//!
//! Precedence, loosest first: `or`, `and`, `not`, then the primaries (`*`, traversals, attributes,
//! calls, parentheses). A chain of `and` (or of `or`) is one node with every operand, so its length
//! costs no depth. Traversal marks (`N+`, `+N`) apply only to an attribute, a call or a
//! parenthesized selection, so `+not key:a` and `+*` are errors, as in Dagster. A failure here is
//! not final: [`crate::parse`] then tries the older whole-string forms before reporting it.
//!
//! Bounds, so that no text can exhaust the stack or make evaluation unreasonably long: at most
//! [`MAX_NESTING`] levels of parentheses, calls and `not` (the tree's derived `Clone`, `Eq`,
//! `Drop` and its `Display` recurse a few calls per level), and at most [`MAX_TERMS`] terms. Going
//! past either is a failure at the token that went too far, and is final.

use crate::ast::{Attr, Depth, Expr, Function, IsValue};
use crate::lexer::{shorten, Tok, Token, KEYWORDS};

/// Why the grammar rejected the text: a position and a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failure {
    pub at: usize,
    pub message: String,
    /// The text went past a limit: final, the whole-string forms are not tried.
    pub over_limit: bool,
}

type PResult<T> = Result<T, Failure>;

const EXPECTED_SELECTION: &str =
    "expected a selection such as `key:name`, `tag:name`, `group:name`, `*`, `not`, `+` or `(`";

pub(crate) struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    /// Levels of parentheses, calls and `not` open at `pos`.
    depth: usize,
    /// Primaries (`*`, attributes, calls, parentheses) parsed so far.
    terms: usize,
}

/// Levels of parentheses, calls and `not` allowed inside each other (Dagster itself gives up
/// after about 160 parentheses).
pub const MAX_NESTING: usize = 200;

/// Terms (`*`, attributes, calls, parenthesized selections) allowed in one selection.
pub const MAX_TERMS: usize = 4096;

impl Parser {
    pub(crate) fn new(tokens: Vec<Token>) -> Self {
        Parser {
            tokens,
            pos: 0,
            depth: 0,
            terms: 0,
        }
    }

    /// Opens one level of nesting at the current token (a `(`, `not` or function name).
    fn enter(&mut self) -> PResult<()> {
        if self.depth == MAX_NESTING {
            return Err(self.over_limit(format!(
                "the selection nests deeper than {MAX_NESTING} levels of parentheses, \
                 functions and `not`"
            )));
        }
        self.depth += 1;
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    /// `start: expr EOF`.
    pub(crate) fn parse_all(mut self) -> PResult<Expr> {
        let expr = self.expr()?;
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
            over_limit: false,
        }
    }

    fn over_limit(&self, message: String) -> Failure {
        Failure {
            over_limit: true,
            ..self.fail(message)
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

    /// `expr: andChain ('or' andChain)*`, `andChain: unary ('and' unary)*`,
    /// `unary: 'not'* primary`, `primary: '*' | (N? '+')? traversable ('+' N?)?`,
    /// `traversable: attribute | function '(' expr ')' | '(' expr ')'`.
    ///
    /// One loop with its own stack instead of one call per rule, so nesting costs no native
    /// stack: a `(` (or a function's name) saves the enclosing expression's partial state on
    /// `open` and starts a fresh one; the matching `)` restores it with the finished group as its
    /// next operand. One [`Expr::Or`] holds a whole `or` chain, one [`Expr::And`] each `and` chain.
    /// Stops at the first token that cannot continue the outermost expression.
    fn expr(&mut self) -> PResult<Expr> {
        let mut open: Vec<Group> = Vec::new();
        let mut chains = Chains::default();
        'operand: loop {
            let mut nots = 0;
            while self.peek() == &Tok::Not {
                self.enter()?;
                self.bump();
                nots += 1;
            }
            self.count_term()?;
            let mut operand = if self.peek() == &Tok::Star {
                self.bump();
                Expr::All
            } else {
                let up = self.upstream_marks()?;
                if matches!(self.peek(), Tok::LParen | Tok::Keyword("sinks" | "roots")) {
                    let function = self.open_group()?;
                    open.push(Group {
                        outer: std::mem::take(&mut chains),
                        nots,
                        up,
                        function,
                    });
                    continue 'operand;
                }
                let attribute = self.attribute_term(up.is_some())?;
                self.finish_primary(up, attribute)
            };
            operand = self.negate(operand, nots);
            loop {
                chains.ands.push(operand);
                match self.peek() {
                    Tok::And => {
                        self.bump();
                        continue 'operand;
                    }
                    Tok::Or => {
                        self.bump();
                        chains.end_and();
                        continue 'operand;
                    }
                    _ => {}
                }
                let expr = chains.finish();
                let Some(group) = open.pop() else {
                    return Ok(expr);
                };
                self.expect(&Tok::RParen, "`)`")?;
                self.leave();
                let inner = match group.function {
                    Some(function) => Expr::Call(function, Box::new(expr)),
                    None => expr,
                };
                chains = group.outer;
                operand = self.finish_primary(group.up, inner);
                operand = self.negate(operand, group.nots);
            }
        }
    }

    /// Downstream marks after a traversable expression, and the traversal if there are marks.
    fn finish_primary(&mut self, up: Option<Depth>, expr: Expr) -> Expr {
        let down = self.downstream_marks();
        if up.is_none() && down.is_none() {
            return expr;
        }
        Expr::Traverse {
            up,
            expr: Box::new(expr),
            down,
        }
    }

    /// `expr` under `nots` levels of `not`, which close here.
    fn negate(&mut self, mut expr: Expr, nots: usize) -> Expr {
        for _ in 0..nots {
            expr = Expr::Not(Box::new(expr));
            self.leave();
        }
        expr
    }

    fn count_term(&mut self) -> PResult<()> {
        if self.terms == MAX_TERMS {
            return Err(self.over_limit(format!(
                "the selection has more than {MAX_TERMS} terms; select by group, tag, kind or \
                 owner, or launch several runs"
            )));
        }
        self.terms += 1;
        Ok(())
    }

    /// `N+` or `+` before a traversable expression.
    fn upstream_marks(&mut self) -> PResult<Option<Depth>> {
        match (self.peek().clone(), self.peek_at(1)) {
            (Tok::Digits(digits), Tok::Plus) => {
                self.bump();
                self.bump();
                Ok(Some(Depth::Limited(depth_of(&digits))))
            }
            (Tok::Digits(_), _) => {
                self.bump();
                Err(self.fail(format!(
                    "expected `+` after an upstream depth, found {}",
                    self.peek()
                )))
            }
            (Tok::Plus, _) => {
                self.bump();
                Ok(Some(Depth::Unlimited))
            }
            _ => Ok(None),
        }
    }

    /// `+N` or `+` after a traversable expression.
    fn downstream_marks(&mut self) -> Option<Depth> {
        if self.peek() != &Tok::Plus {
            return None;
        }
        self.bump();
        match self.peek().clone() {
            Tok::Digits(digits) => {
                self.bump();
                Some(Depth::Limited(depth_of(&digits)))
            }
            _ => Some(Depth::Unlimited),
        }
    }

    /// Consumes `(`, `sinks(` or `roots(`, a level of nesting; the function, if any.
    fn open_group(&mut self) -> PResult<Option<Function>> {
        self.enter()?;
        let function = match self.bump() {
            Tok::Keyword("sinks") => Some(Function::Sinks),
            Tok::Keyword("roots") => Some(Function::Roots),
            _ => None,
        };
        if let Some(function) = function {
            self.expect(&Tok::LParen, &format!("`(` after `{}`", function.name()))?;
        }
        Ok(function)
    }

    /// A traversable expression that does not nest: `name:value`, or an error.
    fn attribute_term(&mut self, after_plus: bool) -> PResult<Expr> {
        match self.peek().clone() {
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
                            format!(
                                "; a bare key works only as the whole selection, here write `key:{}`",
                                shorten(word)
                            )
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
                    over_limit: false,
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
                        over_limit: false,
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

/// The operands of an expression being parsed: the finished `and` chains of its `or` chain, and
/// the operands of the `and` chain being read.
#[derive(Default)]
struct Chains {
    ors: Vec<Expr>,
    ands: Vec<Expr>,
}

impl Chains {
    /// An `or` ends the current `and` chain.
    fn end_and(&mut self) {
        let ands = std::mem::take(&mut self.ands);
        self.ors.push(chain(Expr::And, ands));
    }

    /// The whole expression.
    fn finish(mut self) -> Expr {
        self.end_and();
        chain(Expr::Or, self.ors)
    }
}

/// A `(` or a function call whose selection is being parsed.
struct Group {
    /// The enclosing expression's operands so far.
    outer: Chains,
    /// `not`s before the group.
    nots: usize,
    /// Upstream marks before the group.
    up: Option<Depth>,
    /// `Some` for `sinks(`/`roots(`, `None` for a plain `(`.
    function: Option<Function>,
}

/// The only operand of a one-operand chain, else the chain.
fn chain(make: fn(Vec<Expr>) -> Expr, mut operands: Vec<Expr>) -> Expr {
    if operands.len() == 1 {
        operands.pop().expect("one operand")
    } else {
        make(operands)
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
    format!("; quote it: `\"{}\"`", shorten(&text))
}

/// Depths beyond `u64::MAX` mean the same as `u64::MAX` in any real graph.
fn depth_of(digits: &str) -> u64 {
    digits.parse().unwrap_or(u64::MAX)
}
