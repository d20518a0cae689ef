//! Edge paths: smooth curves from the right side of the upstream node, through the dummies of
//! the edge (one per column it passes), into the left side of the downstream node.
//!
//! Where an edge passes a column it runs straight across at its dummy's height, and between
//! columns it bends with horizontal tangents at both ends, so the path is smooth (C1) and every
//! curve stays inside the gap between two columns: no node is ever crossed, because nodes only
//! live inside columns and a dummy keeps clear of them. Consecutive dummies at one height merge
//! into one straight run. Edges against the flow (reversed to break a cycle) take the same route
//! backwards: out of the left side of their upstream node, into the right side of the other.

use super::dummies::Proper;
use super::{EdgePath, GraphInput, LayoutOptions, NodeBox, Point, Rect};

/// What routing needs from the earlier steps.
pub(crate) struct Routing<'a> {
    pub graph: &'a GraphInput,
    /// Per input edge: drawn against the flow.
    pub reversed: &'a [bool],
    pub proper: &'a Proper,
    pub nodes: &'a [NodeBox],
    /// Top y of every item (a dummy's edge runs at its top).
    pub item_y: &'a [f64],
    pub column_x: &'a [f64],
    pub column_width: &'a [f64],
    pub options: &'a LayoutOptions,
}

/// One path per input edge, in input order.
pub(crate) fn route(r: &Routing<'_>) -> Vec<EdgePath> {
    r.graph
        .edges
        .iter()
        .enumerate()
        .map(|(i, &(from, to))| {
            let reversed = r.reversed[i];
            let points = if from == to {
                self_loop(&r.nodes[from].rect, r.options)
            } else {
                let (left, right) = if reversed { (to, from) } else { (from, to) };
                let mut points = through(r, i, &r.nodes[left].rect, &r.nodes[right].rect);
                if reversed {
                    points.reverse();
                }
                points
            };
            EdgePath {
                from,
                to,
                points,
                reversed,
                cross_location: r.graph.nodes[from].location != r.graph.nodes[to].location,
            }
        })
        .collect()
}

/// The path from `left`'s right side through the dummies of edge `edge` to `right`'s left side.
fn through(r: &Routing<'_>, edge: usize, left: &Rect, right: &Rect) -> Vec<Point> {
    let start = Point {
        x: left.right(),
        y: left.y + left.height / 2.0,
    };
    let end = Point {
        x: right.x,
        y: right.y + right.height / 2.0,
    };
    // Straight runs across columns: (x in, x out, y), consecutive ones at one height merged.
    let mut runs: Vec<(f64, f64, f64)> = Vec::new();
    for d in r.proper.dummies_of(edge) {
        let layer = r.proper.layer[d as usize] as usize;
        let (x_in, x_out) = (r.column_x[layer], r.column_x[layer] + r.column_width[layer]);
        let y = r.item_y[d as usize];
        match runs.last_mut() {
            Some(run) if (run.2 - y).abs() < 0.5 => run.1 = x_out,
            _ => runs.push((x_in, x_out, y)),
        }
    }
    let mut points = Vec::with_capacity(1 + 6 * runs.len() + 3);
    points.push(start);
    for &(x_in, x_out, y) in &runs {
        bend(&mut points, Point { x: x_in, y });
        straight(&mut points, Point { x: x_out, y });
    }
    bend(&mut points, end);
    points
}

/// A cubic segment from the last point to `to`, leaving and arriving horizontally.
fn bend(points: &mut Vec<Point>, to: Point) {
    let from = *points.last().expect("a path starts with a point");
    let half = (to.x - from.x) / 2.0;
    points.push(Point {
        x: from.x + half,
        y: from.y,
    });
    points.push(Point {
        x: to.x - half,
        y: to.y,
    });
    points.push(to);
}

/// A straight cubic segment from the last point to `to`.
fn straight(points: &mut Vec<Point>, to: Point) {
    let from = *points.last().expect("a path starts with a point");
    let third = |k: f64| Point {
        x: from.x + (to.x - from.x) * k / 3.0,
        y: from.y + (to.y - from.y) * k / 3.0,
    };
    points.push(third(1.0));
    points.push(third(2.0));
    points.push(to);
}

/// A small loop out of the right side of a node that depends on itself and back into it; it stays
/// in the gap right of the node, level with it.
fn self_loop(rect: &Rect, options: &LayoutOptions) -> Vec<Point> {
    let (x, cy) = (rect.right(), rect.y + rect.height / 2.0);
    let reach = options.layer_gap / 3.0;
    let (spread, swell) = (rect.height / 6.0, rect.height / 4.0);
    vec![
        Point { x, y: cy - spread },
        Point {
            x: x + reach,
            y: cy - swell,
        },
        Point {
            x: x + reach,
            y: cy + swell,
        },
        Point { x, y: cy + spread },
    ]
}
