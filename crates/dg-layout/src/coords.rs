//! Final coordinates: vertical alignment inside bands, column positions, frames and edge paths.
//!
//! Vertical alignment moves every item (node or dummy) towards the median of its neighbours while
//! keeping the order and spacing that crossing reduction chose, and keeping it inside its group
//! band. For one segment that is an isotonic regression (pool adjacent violators, linear time)
//! whose solution is then clamped into the band; order and spacing survive by construction, so
//! nodes never overlap and a dummy never touches a node. Dummies outside every band are placed
//! in the gaps between group frames ([`place_around`]), so no edge runs across a node.

use super::clusters::Packed;
use super::dummies::{Proper, Spacing};
use super::edges::{route, Routing};
use super::ordering::Ordering;
use super::{ClusterBox, GraphInput, Layout, LayoutOptions, NodeBox, Rect};

/// Most passes of median alignment (alternating upstream and downstream neighbours); big graphs
/// get fewer, down to two, from the same budget as crossing reduction.
const ALIGN_PASSES: usize = 4;

/// Everything the last step needs.
pub(crate) struct Inputs<'a> {
    pub graph: &'a GraphInput,
    pub reversed: &'a [bool],
    pub proper: &'a Proper,
    pub layer_count: usize,
    pub packed: &'a Packed,
    pub order: &'a Ordering,
    pub options: &'a LayoutOptions,
}

/// Computes all coordinates and assembles the [`Layout`].
pub(crate) fn finish(inputs: Inputs<'_>) -> Layout {
    let Inputs {
        graph,
        reversed,
        proper,
        layer_count,
        packed,
        order,
        options,
    } = inputs;
    let (y, lowest_free) = align(proper, packed, order, options);

    let mut column_width = vec![options.min_node_width; layer_count];
    for (node, &layer) in graph.nodes.iter().zip(&proper.layer) {
        let text = node.label.chars().count() as f64 * options.char_width;
        let width = (text + 2.0 * options.node_padding).clamp(
            options.min_node_width,
            options.max_node_width.max(options.min_node_width),
        );
        let column = &mut column_width[layer as usize];
        *column = column.max(width);
    }
    let frame = packed.group_padding + packed.location_padding;
    let mut column_x = Vec::with_capacity(layer_count);
    let mut x = options.margin + frame;
    for &w in &column_width {
        column_x.push(x);
        x += w + options.layer_gap;
    }
    let right = x - options.layer_gap;

    let mut nodes: Vec<NodeBox> = (0..graph.nodes.len())
        .map(|v| {
            let layer = proper.layer[v] as usize;
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
        let real = column.filter(|&&v| !proper.is_dummy(v as usize));
        for (rank, &v) in real.enumerate() {
            nodes[v as usize].order = rank;
        }
    }

    let edges = route(&Routing {
        graph,
        reversed,
        proper,
        nodes: &nodes,
        item_y: &y,
        column_x: &column_x,
        column_width: &column_width,
        options,
    });

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
        height: packed.height.max(lowest_free + options.margin),
        layer_count,
    }
}

/// Median alignment passes; returns the top y of every item and the lowest free dummy's y.
fn align(
    proper: &Proper,
    packed: &Packed,
    order: &Ordering,
    options: &LayoutOptions,
) -> (Vec<f64>, f64) {
    let spacing = Spacing::new(options);
    let blocked = blocked_intervals(packed, order.by_layer.len(), options.edge_spacing / 2.0);
    // Tops from the ordering's centres (a dummy has no height: top and centre coincide).
    let mut y: Vec<f64> = (0..proper.count)
        .map(|v| order.pos[v] - spacing.height(proper.is_dummy(v)) / 2.0)
        .collect();
    let centre = |y: &[f64], v: usize| y[v] + spacing.height(proper.is_dummy(v)) / 2.0;
    let mut wanted: Vec<f64> = Vec::new();
    let mut offsets: Vec<f64> = Vec::new();
    let mut scratch: Vec<f64> = Vec::new();
    let mut free: Vec<(f64, u32)> = Vec::new();
    let mut lowest = 0.0f64;
    let size = proper.count + proper.link_count();
    let passes = (options.sweep_budget / size.max(1)).clamp(2, ALIGN_PASSES);
    for pass in 0..passes {
        let downwards = pass % 2 == 0;
        let columns: Vec<usize> = if downwards {
            (0..order.by_layer.len()).collect()
        } else {
            (0..order.by_layer.len()).rev().collect()
        };
        let mut median_of = |y: &[f64], v: usize| {
            let neighbours = if downwards {
                proper.preds(v)
            } else {
                proper.succs(v)
            };
            match neighbours {
                [] => centre(y, v),
                [u] => centre(y, *u as usize),
                [u, w] => (centre(y, *u as usize) + centre(y, *w as usize)) / 2.0,
                _ => {
                    scratch.clear();
                    scratch.extend(neighbours.iter().map(|&u| centre(y, u as usize)));
                    median(&mut scratch).unwrap_or_else(|| centre(y, v))
                }
            }
        };
        for layer in columns {
            for segment in &order.segments[order.by_layer[layer].clone()] {
                wanted.clear();
                for &v in &segment.nodes {
                    let v = v as usize;
                    let half = spacing.height(proper.is_dummy(v)) / 2.0;
                    wanted.push(median_of(&y, v) - half);
                }
                let dummies = segment.nodes.iter().map(|&v| proper.is_dummy(v as usize));
                spacing.offsets(dummies, &mut offsets);
                let band = &packed.groups[segment.group];
                let last_item = *segment.nodes.last().unwrap_or(&0) as usize;
                let last = band.band_bottom - spacing.height(proper.is_dummy(last_item));
                let placed = place_in_band(&wanted, &offsets, band.band_top, last);
                for (&v, top) in segment.nodes.iter().zip(placed) {
                    y[v as usize] = top;
                }
            }
            if !order.free[layer].is_empty() {
                free.clear();
                for &d in &order.free[layer] {
                    free.push((median_of(&y, d as usize), d));
                }
                free.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                let placed = place_around(&free, &blocked[layer], options.edge_spacing);
                for (&(_, d), top) in free.iter().zip(placed) {
                    y[d as usize] = top;
                    lowest = lowest.max(top);
                }
            }
        }
    }
    (y, lowest)
}

/// Per column, the y ranges taken by group frames (grown by `clearance`, overlaps merged), top
/// to bottom.
fn blocked_intervals(packed: &Packed, layer_count: usize, clearance: f64) -> Vec<Vec<(f64, f64)>> {
    let mut blocked = vec![Vec::new(); layer_count];
    for g in &packed.groups {
        let span = (
            g.outer_top - clearance,
            g.outer_top + g.outer_height + clearance,
        );
        for column in &mut blocked[g.min_layer..=g.max_layer] {
            column.push(span);
        }
    }
    for column in &mut blocked {
        column.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
        let mut merged: Vec<(f64, f64)> = Vec::with_capacity(column.len());
        for &(a, b) in column.iter() {
            match merged.last_mut() {
                Some(last) if a <= last.1 => last.1 = last.1.max(b),
                _ => merged.push((a, b)),
            }
        }
        *column = merged;
    }
    blocked
}

/// Places free dummies (sorted by wanted y) at least `spacing` apart, each outside the blocked
/// ranges: at the wanted y when it is free, else at the nearer edge of the range it falls in.
pub(crate) fn place_around(
    wanted: &[(f64, u32)],
    blocked: &[(f64, f64)],
    spacing: f64,
) -> Vec<f64> {
    let mut out = Vec::with_capacity(wanted.len());
    let mut prev = f64::NEG_INFINITY;
    let mut j = 0;
    for &(w, _) in wanted {
        let mut y = w.max(prev + spacing);
        while j < blocked.len() && blocked[j].1 <= y {
            j += 1;
        }
        if let Some(&(a, b)) = blocked.get(j) {
            if a < y {
                if y - a < b - y && a >= prev + spacing {
                    y = a;
                } else {
                    y = b;
                    j += 1;
                }
            }
        }
        out.push(y);
        prev = y;
    }
    out
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

/// Tops closest (least squares) to `wanted`, keeping order, the gaps given by `offsets` (each
/// item's top relative to the first's when packed tightly), the first top at or below `first` and
/// the last at or above `last`.
pub(crate) fn place_in_band(wanted: &[f64], offsets: &[f64], first: f64, last: f64) -> Vec<f64> {
    // Substituting z_i = y_i - offset_i turns spacing into "z is non-decreasing".
    let mut blocks: Vec<(f64, usize)> = Vec::with_capacity(wanted.len());
    for (&w, &offset) in wanted.iter().zip(offsets) {
        let mut sum = w - offset;
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
    let highest = (last - offsets.last().copied().unwrap_or(0.0)).max(first);
    let mut out = Vec::with_capacity(wanted.len());
    for (sum, count) in blocks {
        let z = (sum / count as f64).clamp(first, highest);
        for _ in 0..count {
            out.push(z + offsets[out.len()]);
        }
    }
    out
}
