//! Evaluation of a parsed selection over an [`AssetGraph`], with Dagster's semantics.
//!
//! Rules that are easy to get wrong, all taken from Dagster:
//! * `*` and `not X` range over materializable assets only; `key:` ranges over every asset.
//! * `tag:`, `kind:` and `group:` skip external assets; `owner:`, `code_location:`, `partitions:`,
//!   `is:`, `job:`, `sensor:` and `schedule:` do not.
//! * An upstream traversal (`+X`) keeps only materializable assets, X included; a downstream one
//!   keeps everything. Traversals pass through external assets and count them as steps.
//! * `sinks(X)`: assets of X with no descendant in X; `roots(X)`: assets of X with no ancestor in X.
//! * A bare key (the clause form) must exist unless missing keys are allowed.
//!
//! Evaluation keeps its own stack of pending steps instead of recursing, so a tree of any depth
//! evaluates on any thread; operands are evaluated left to right and the first error wins, and an
//! `and`/`or` chain holds one partial result at a time, however many operands it has.

use std::collections::{BTreeSet, VecDeque};

use crate::ast::{Attr, Depth, Expr, Function, IsValue};
use crate::error::SelectionError;
use crate::graph::{AssetGraph, AssetNode};
use crate::suggest::similar_keys;
use crate::wildcard::wildcard_match;
use dg_core::AssetKey;

/// How [`crate::select_with`] treats unknown keys.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SelectOptions {
    /// Drop keys of the bare-key form that no location defines instead of failing (Dagster's
    /// `allow_missing=True`, used by `dagster asset list`).
    pub allow_missing: bool,
}

type Set = BTreeSet<usize>;

pub(crate) struct Evaluator<'g> {
    graph: &'g AssetGraph,
    options: SelectOptions,
}

impl<'g> Evaluator<'g> {
    pub(crate) fn new(graph: &'g AssetGraph, options: SelectOptions) -> Self {
        Evaluator { graph, options }
    }

    fn all_where(&self, keep: impl Fn(&AssetNode) -> bool) -> Set {
        (0..self.graph.len())
            .filter(|&i| keep(&self.graph.nodes()[i]))
            .collect()
    }

    fn materializable_where(&self, keep: impl Fn(&AssetNode) -> bool) -> Set {
        self.all_where(|n| n.is_materializable && keep(n))
    }

    /// The set `expr` selects. Post-order over the tree with an explicit stack: `Eval` pushes a
    /// node's result onto `results`, `Finish` turns its operand's result into the node's, `Join`
    /// merges the last two results of a chain.
    pub(crate) fn eval(&self, expr: &Expr) -> Result<Set, SelectionError> {
        enum Step<'e> {
            Eval(&'e Expr),
            Finish(&'e Expr),
            Join(&'e Expr),
        }
        let mut steps = vec![Step::Eval(expr)];
        let mut results: Vec<Set> = Vec::new();
        while let Some(step) = steps.pop() {
            match step {
                Step::Eval(expr) => match expr {
                    Expr::All => results.push(self.materializable_where(|_| true)),
                    Expr::Attr(attr) => results.push(self.attribute(attr)?),
                    Expr::Clause { up, key, down } => {
                        let base = self.exact_key(key)?;
                        results.push(self.traverse(&base, *up, *down));
                    }
                    Expr::Not(inner)
                    | Expr::Traverse { expr: inner, .. }
                    | Expr::Call(_, inner) => {
                        steps.push(Step::Finish(expr));
                        steps.push(Step::Eval(inner));
                    }
                    Expr::And(operands) | Expr::Or(operands) => match operands.split_first() {
                        None => results.push(Set::new()),
                        Some((first, rest)) => {
                            for operand in rest.iter().rev() {
                                steps.push(Step::Join(expr));
                                steps.push(Step::Eval(operand));
                            }
                            steps.push(Step::Eval(first));
                        }
                    },
                },
                Step::Finish(expr) => {
                    let inner = results.pop().expect("an operand's result");
                    results.push(match expr {
                        Expr::Not(_) => self
                            .materializable_where(|_| true)
                            .difference(&inner)
                            .copied()
                            .collect(),
                        Expr::Traverse { up, down, .. } => self.traverse(&inner, *up, *down),
                        Expr::Call(Function::Sinks, _) => self.sinks(&inner),
                        Expr::Call(Function::Roots, _) => self.roots(&inner),
                        _ => unreachable!("only unary nodes finish"),
                    });
                }
                Step::Join(expr) => {
                    let right = results.pop().expect("a right operand's result");
                    let left = results.last_mut().expect("a left operand's result");
                    match expr {
                        Expr::And(_) => left.retain(|i| right.contains(i)),
                        _ => left.extend(right),
                    }
                }
            }
        }
        Ok(results.pop().expect("the selection's result"))
    }

    fn exact_key(&self, key: &AssetKey) -> Result<Set, SelectionError> {
        match self.graph.index_of(key) {
            Some(i) => Ok(Set::from([i])),
            None if self.options.allow_missing => Ok(Set::new()),
            None => {
                let known = self.graph.nodes().iter().map(|n| &n.key);
                Err(SelectionError::UnknownKeys {
                    keys: vec![key.clone()],
                    suggestions: vec![(key.clone(), similar_keys(key, known))],
                })
            }
        }
    }

    /// `N+X+M` is the union of X's upstream (N steps) and downstream (M steps) closures.
    fn traverse(&self, base: &Set, up: Option<Depth>, down: Option<Depth>) -> Set {
        if up.is_none() && down.is_none() {
            return base.clone();
        }
        let mut out = Set::new();
        if let Some(depth) = up {
            if !base.is_empty() {
                let reached = self.walk(base, depth, |i| self.graph.parents_of(i));
                out.extend(
                    base.iter()
                        .chain(&reached)
                        .copied()
                        .filter(|&i| self.graph.nodes()[i].is_materializable),
                );
            }
        }
        if let Some(depth) = down {
            out.extend(base.iter().copied());
            out.extend(self.walk(base, depth, |i| self.graph.children_of(i)));
        }
        out
    }

    /// Breadth-first walk from `start`, at most `depth` steps; the start itself is not included
    /// unless reached again.
    fn walk<'a>(&'a self, start: &Set, depth: Depth, next: impl Fn(usize) -> &'a [usize]) -> Set {
        let limit = match depth {
            Depth::Unlimited => u64::MAX,
            Depth::Limited(n) => n,
        };
        let mut reached = Set::new();
        let mut frontier: VecDeque<usize> = start.iter().copied().collect();
        let mut steps = 0;
        while !frontier.is_empty() && steps < limit {
            let mut following = VecDeque::new();
            for node in frontier {
                for &other in next(node) {
                    if reached.insert(other) {
                        following.push_back(other);
                    }
                }
            }
            frontier = following;
            steps += 1;
        }
        reached
    }

    /// Assets of `within` that are not an ancestor of any asset of `within`: one walk up from
    /// the whole set (asset graphs are acyclic, so nothing is its own ancestor).
    fn sinks(&self, within: &Set) -> Set {
        let ancestors = self.walk(within, Depth::Unlimited, |n| self.graph.parents_of(n));
        within.difference(&ancestors).copied().collect()
    }

    /// Assets of `within` that are not a descendant of any asset of `within`.
    fn roots(&self, within: &Set) -> Set {
        let descendants = self.walk(within, Depth::Unlimited, |n| self.graph.children_of(n));
        within.difference(&descendants).copied().collect()
    }

    fn attribute(&self, attr: &Attr) -> Result<Set, SelectionError> {
        let named = |value: &Option<String>, field: &dyn Fn(&AssetNode) -> bool| match value {
            None => Set::new(),
            Some(_) => self.all_where(field),
        };
        Ok(match attr {
            Attr::Key(pattern) => {
                self.all_where(|n| wildcard_match(pattern, &n.key.to_user_string()))
            }
            Attr::Tag { key, value } => {
                self.materializable_where(|n| n.tag(key) == Some(value.as_str()))
            }
            Attr::Owner(owner) => named(owner, &|n| {
                n.owners.iter().any(|o| Some(o) == owner.as_ref())
            }),
            Attr::Group(None) => Set::new(),
            Attr::Group(Some(group)) if group.is_empty() => Set::new(),
            Attr::Group(Some(group)) if group.contains('*') => {
                self.materializable_where(|n| wildcard_match(group, &n.group))
            }
            Attr::Group(Some(group)) => self.materializable_where(|n| &n.group == group),
            Attr::Kind(None) => self.materializable_where(|n| !n.has_any_kind()),
            Attr::Kind(Some(kind)) => self.materializable_where(|n| n.has_kind(kind)),
            Attr::Is(IsValue::External) => self.all_where(AssetNode::is_external),
            Attr::Is(IsValue::Materializable) => self.all_where(|n| n.is_materializable),
            Attr::CodeLocation(None) => Set::new(),
            Attr::CodeLocation(Some(location)) => match location.split_once('@') {
                Some((repository, rest)) => {
                    // Dagster splits on every `@` and keeps the first two pieces.
                    let location = rest.split('@').next().unwrap_or_default();
                    self.all_where(|n| n.repository == repository && n.code_location == location)
                }
                None => self.all_where(|n| &n.code_location == location),
            },
            Attr::Partitions(kind) => {
                let kind = kind.as_deref().unwrap_or("none");
                self.all_where(|n| match n.partitions {
                    None => kind == "none",
                    Some(p) => p.as_str() == kind,
                })
            }
            Attr::Job(job) => named(job, &|n| {
                n.is_materializable && job.as_ref().is_some_and(|j| n.jobs.contains(j))
            }),
            Attr::Sensor(sensor) => named(sensor, &|n| {
                sensor.as_ref().is_some_and(|s| n.sensors.contains(s))
            }),
            Attr::Schedule(schedule) => named(schedule, &|n| {
                schedule.as_ref().is_some_and(|s| n.schedules.contains(s))
            }),
            Attr::Status(_) => return Err(unsupported(attr, "the run history of each asset")),
            Attr::Column(_) | Attr::TableName(_) | Attr::ColumnTag { .. } => {
                return Err(unsupported(
                    attr,
                    "column and table metadata from materializations",
                ))
            }
            Attr::ChangedInBranch(_) => {
                return Err(unsupported(attr, "a branch deployment to compare with"))
            }
            Attr::AutomationType(_) => {
                return Err(unsupported(attr, "the automation state of the instance"))
            }
        })
    }

    pub(crate) fn keys(&self, set: &Set) -> BTreeSet<AssetKey> {
        set.iter()
            .map(|&i| self.graph.nodes()[i].key.clone())
            .collect()
    }
}

fn unsupported(attr: &Attr, needs: &'static str) -> SelectionError {
    SelectionError::NotSupported {
        attribute: attr.name(),
        needs,
    }
}
