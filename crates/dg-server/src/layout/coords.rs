//! Final coordinates: vertical alignment inside bands, column positions, frames and edge curves.
//!
//! Vertical alignment moves every node towards the median of its neighbours while keeping the
//! order and spacing that crossing reduction chose, and keeping it inside its group band. For one
//! segment that is an isotonic regression (pool adjacent violators, linear time) whose solution is
//! then clamped into the band; order and spacing survive by construction, so nodes never overlap.

use super::acyclic::Dag;
use super::clusters::Packed;
use super::layering::Layers;
use super::ordering::Ordering;
use super::{ClusterBox, EdgePath, GraphInput, Layout, LayoutOptions, NodeBox, Point, Rect};

/// Passes of median alignment (alternating upstream and downstream neighbours).
const ALIGN_PASSES: usize = 4;

/// Everything the last step needs.
pub(crate) struct Inputs<'a> {
    pub graph: &'a GraphInput,
    pub dag: &'a Dag,
    pub layers: &'a Layers,
    pub packed: &'a Packed,
    pub order: &'a Ordering,
    pub options: &'a LayoutOptions,
}

/// Computes all coordinates and assembles the [`Layout`].
pub(crate) fn finish(inputs: Inputs<'_>) -> Layout {
    let Inputs {
        graph,
        dag,
        layers,
        packed,
        order,
        options,
    } = inputs;
    let y = align(dag, packed, order, options);

    let mut column_width = vec![options.min_node_width; layers.count];
    for (node, &layer) in graph.nodes.iter().zip(&layers.of) {
        let text = node.label.chars().count() as f64 * options.char_width;
        let width = (text + 2.0 * options.node_padding).clamp(
            options.min_node_width,
            options.max_node_width.max(options.min_node_width),
        );
        let column = &mut column_width[layer as usize];
        *column = column.max(width);
    }
    let frame = packed.group_padding + packed.location_padding;
    let mut column_x = Vec::with_capacity(layers.count);
    let mut x = options.margin + frame;
    for &w in &column_width {
        column_x.push(x);
        x += w + options.layer_gap;
    }
    let right = x - options.layer_gap;

    let mut nodes: Vec<NodeBox> = (0..graph.nodes.len())
        .map(|v| {
            let layer = layers.of[v] as usize;
            NodeBox {
                rect: Rect {
                    x: column_x[layer],
                    y: y[v],
                    width: column_width[layer],
                    height: options.node_height,
                },
                layer,
                order: 0,
            }
        })
        .collect();
    for range in &order.by_layer {
        let column = order.segments[range.clone()].iter().flat_map(|s| &s.nodes);
        for (rank, &v) in column.enumerate() {
            nodes[v as usize].order = rank;
        }
    }

    let edges = graph
        .edges
        .iter()
        .zip(&dag.reversed)
        .map(|(&(from, to), &reversed)| EdgePath {
            from,
            to,
            points: curve(&nodes[from].rect, &nodes[to].rect, from == to, options),
            reversed,
            cross_location: graph.nodes[from].location != graph.nodes[to].location,
        })
        .collect();

    let span = |first: usize, last: usize, pad: f64| {
        let left = column_x[first] - pad;
        (left, column_x[last] + column_width[last] + pad - left)
    };
    let groups = packed
        .groups
        .iter()
        .map(|g| {
            let (x, width) = span(g.min_layer, g.max_layer, packed.group_padding);
            ClusterBox {
                location: packed.locations[g.location].name.clone(),
                group: Some(g.name.clone()),
                rect: Rect {
                    x,
                    y: g.outer_top,
                    width,
                    height: g.outer_height,
                },
                node_count: g.node_count,
            }
        })
        .collect();
    let locations = packed
        .locations
        .iter()
        .map(|l| {
            let (x, width) = span(l.min_layer, l.max_layer, frame);
            ClusterBox {
                location: l.name.clone(),
                group: None,
                rect: Rect {
                    x,
                    y: l.outer_top,
                    width,
                    height: l.outer_height,
                },
                node_count: l.node_count,
            }
        })
        .collect();

    Layout {
        nodes,
        edges,
        groups,
        locations,
        width: right + frame + options.margin,
        height: packed.height,
        layer_count: layers.count,
    }
}

/// Median alignment passes; returns the top y of every node.
fn align(dag: &Dag, packed: &Packed, order: &Ordering, options: &LayoutOptions) -> Vec<f64> {
    let pitch = options.node_height + options.node_gap;
    let mut y = order.pos.clone();
    let mut wanted: Vec<f64> = Vec::new();
    let mut scratch: Vec<f64> = Vec::new();
    for pass in 0..ALIGN_PASSES {
        let downwards = pass % 2 == 0;
        let columns: Vec<usize> = if downwards {
            (0..order.by_layer.len()).collect()
        } else {
            (0..order.by_layer.len()).rev().collect()
        };
        for layer in columns {
            for segment in &order.segments[order.by_layer[layer].clone()] {
                wanted.clear();
                for &v in &segment.nodes {
                    let v = v as usize;
                    let neighbours = if downwards {
                        dag.preds(v)
                    } else {
                        dag.succs(v)
                    };
                    scratch.clear();
                    scratch.extend(neighbours.iter().map(|&u| y[u as usize]));
                    wanted.push(median(&mut scratch).unwrap_or(y[v]));
                }
                let band = &packed.groups[segment.group];
                let placed = place_in_band(&wanted, pitch, band.band_top, band.band_last);
                for (&v, top) in segment.nodes.iter().zip(placed) {
                    y[v as usize] = top;
                }
            }
        }
    }
    y
}

/// The median of `values` (mean of the two middle ones for an even count).
fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable_by(f64::total_cmp);
    let mid = values.len() / 2;
    Some(if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    })
}

/// Tops closest (least squares) to `wanted`, keeping order, `pitch` spacing and `[first, last]`.
pub(crate) fn place_in_band(wanted: &[f64], pitch: f64, first: f64, last: f64) -> Vec<f64> {
    // Substituting z_i = y_i - i * pitch turns spacing into "z is non-decreasing".
    let mut blocks: Vec<(f64, usize)> = Vec::with_capacity(wanted.len());
    for (i, &w) in wanted.iter().enumerate() {
        let mut sum = w - i as f64 * pitch;
        let mut count = 1;
        while let Some(&(prev_sum, prev_count)) = blocks.last() {
            if prev_sum / prev_count as f64 > sum / count as f64 {
                sum += prev_sum;
                count += prev_count;
                blocks.pop();
            } else {
                break;
            }
        }
        blocks.push((sum, count));
    }
    let highest = (last - (wanted.len().saturating_sub(1)) as f64 * pitch).max(first);
    let mut out = Vec::with_capacity(wanted.len());
    for (sum, count) in blocks {
        let z = (sum / count as f64).clamp(first, highest);
        for _ in 0..count {
            out.push(z + out.len() as f64 * pitch);
        }
    }
    out
}

/// A cubic Bézier from the right side of `from` to the left side of `to`.
fn curve(from: &Rect, to: &Rect, self_loop: bool, options: &LayoutOptions) -> Vec<Point> {
    let start = Point {
        x: from.right(),
        y: from.y + from.height / 2.0,
    };
    if self_loop {
        let reach = options.layer_gap / 3.0;
        return vec![
            start,
            Point {
                x: start.x + reach,
                y: start.y,
            },
            Point {
                x: start.x + reach,
                y: from.y - reach,
            },
            Point {
                x: from.right() - from.width / 4.0,
                y: from.y,
            },
        ];
    }
    let end = Point {
        x: to.x,
        y: to.y + to.height / 2.0,
    };
    let dx = end.x - start.x;
    let reach = if dx > 0.0 {
        (dx / 2.0).max(options.layer_gap / 3.0)
    } else {
        // Against the flow: swing out right and come back in from the left.
        options.layer_gap * 0.6 - dx * 0.15
    };
    vec![
        start,
        Point {
            x: start.x + reach,
            y: start.y,
        },
        Point {
            x: end.x - reach,
            y: end.y,
        },
        end,
    ]
}
