//! Orders the items (nodes and dummies) of every column to reduce edge crossings (barycenter
//! heuristic).
//!
//! A column is cut into segments, one per group band; items only move inside their segment, so
//! frames stay where packing put them. Dummies outside every band (see [`super::clusters::FREE`])
//! are kept per column and follow their neighbours. Sweeps alternate left-to-right (sorting by the
//! mean position of upstream neighbours) and right-to-left (downstream neighbours); the graph is
//! proper, so every neighbour is in the next column and long edges pull through their dummies.
//! The number of sweeps is the budget divided by the graph size, between two and `max_sweeps`:
//! large graphs stay fast, small ones get polished.

use std::ops::Range;

use super::clusters::{Packed, FREE};
use super::dummies::{Proper, Spacing};
use super::LayoutOptions;

/// The items of one column that belong to one group, top to bottom.
#[derive(Debug)]
pub(crate) struct Segment {
    /// Group index (into [`Packed::groups`]).
    pub group: usize,
    /// Item indices, top to bottom.
    pub nodes: Vec<u32>,
}

/// The order of items in every column, and their provisional centre y.
#[derive(Debug)]
pub(crate) struct Ordering {
    /// All segments, column by column, top to bottom within a column.
    pub segments: Vec<Segment>,
    /// The segments of each column, as a range into `segments`.
    pub by_layer: Vec<Range<usize>>,
    /// The dummies of each column that live outside every band.
    pub free: Vec<Vec<u32>>,
    /// Provisional centre y of every item.
    pub pos: Vec<f64>,
    spacing: Spacing,
    band_tops: Vec<f64>,
    offsets: Vec<f64>,
}

impl Ordering {
    /// Initial order: by column, band, then topological rank (which keeps chains together).
    pub fn new(
        proper: &Proper,
        layer_count: usize,
        packed: &Packed,
        options: &LayoutOptions,
    ) -> Ordering {
        let band_tops: Vec<f64> = packed.groups.iter().map(|g| g.band_top).collect();
        let group = &packed.node_group;
        let mut free = vec![Vec::new(); layer_count];
        // Bands top to bottom (ties by index), as a rank per group.
        let mut by_top: Vec<usize> = (0..band_tops.len()).collect();
        by_top.sort_unstable_by(|&a, &b| band_tops[a].total_cmp(&band_tops[b]).then(a.cmp(&b)));
        let mut band_rank = vec![0u32; band_tops.len()];
        for (r, &g) in by_top.iter().enumerate() {
            band_rank[g] = r as u32;
        }
        // Bucket by layer, then sort each layer by (band, rank): an item's rank is its own or its
        // trunk owner's, and an owner has at most one dummy per layer, so keys are unique.
        let mut per_layer: Vec<Vec<(u64, u32)>> = vec![Vec::new(); layer_count];
        for (i, &g) in group.iter().enumerate() {
            let l = proper.layer[i] as usize;
            if g == FREE {
                free[l].push(i as u32);
            } else {
                let key = (u64::from(band_rank[g as usize]) << 32) | u64::from(proper.rank[i]);
                per_layer[l].push((key, i as u32));
            }
        }
        let mut items: Vec<u32> = Vec::with_capacity(proper.count);
        for mut column in per_layer {
            column.sort_unstable();
            items.extend(column.into_iter().map(|(_, i)| i));
        }
        let mut segments: Vec<Segment> = Vec::new();
        let mut by_layer = vec![0..0; layer_count];
        for chunk in items.chunk_by(|&a, &b| {
            proper.layer[a as usize] == proper.layer[b as usize]
                && group[a as usize] == group[b as usize]
        }) {
            let layer = proper.layer[chunk[0] as usize] as usize;
            if by_layer[layer].is_empty() {
                by_layer[layer] = segments.len()..segments.len();
            }
            by_layer[layer].end = segments.len() + 1;
            segments.push(Segment {
                group: group[chunk[0] as usize] as usize,
                nodes: chunk.to_vec(),
            });
        }
        let mut ordering = Ordering {
            segments,
            by_layer,
            free,
            pos: vec![0.0; proper.count],
            spacing: Spacing::new(options),
            band_tops,
            offsets: Vec::new(),
        };
        for s in 0..ordering.segments.len() {
            ordering.restack(s, proper);
        }
        // Free dummies start on the straight line between the two ends of their chain.
        for layer in 0..layer_count {
            for &d in &ordering.free[layer] {
                let (u, v) = proper.ends[d as usize - proper.real];
                let (lu, lv) = (proper.layer[u as usize], proper.layer[v as usize]);
                let t = (layer as f64 - lu as f64) / (lv as f64 - lu as f64);
                let (pu, pv) = (ordering.pos[u as usize], ordering.pos[v as usize]);
                ordering.pos[d as usize] = pu + t * (pv - pu);
            }
            ordering.free[layer].sort_unstable_by(|&a, &b| {
                let (pa, pb) = (ordering.pos[a as usize], ordering.pos[b as usize]);
                pa.total_cmp(&pb).then(a.cmp(&b))
            });
        }
        ordering
    }

    /// Runs the barycenter sweeps.
    pub fn reduce_crossings(&mut self, proper: &Proper, options: &LayoutOptions) {
        let size = proper.count + proper.link_count();
        let sweeps = (options.sweep_budget / size.max(1)).clamp(2, options.max_sweeps.max(2));
        let mut keyed: Vec<(f64, u32, u32)> = Vec::new();
        for sweep in 0..sweeps {
            let downwards = sweep % 2 == 0;
            let columns: Vec<usize> = if downwards {
                (0..self.by_layer.len()).collect()
            } else {
                (0..self.by_layer.len()).rev().collect()
            };
            let barycenter = |pos: &[f64], v: usize| {
                let neighbours = if downwards {
                    proper.preds(v)
                } else {
                    proper.succs(v)
                };
                if neighbours.is_empty() {
                    pos[v]
                } else {
                    let sum: f64 = neighbours.iter().map(|&u| pos[u as usize]).sum();
                    sum / neighbours.len() as f64
                }
            };
            for layer in columns {
                for s in self.by_layer[layer].clone() {
                    if self.segments[s].nodes.len() < 2 {
                        continue;
                    }
                    keyed.clear();
                    for (i, &v) in self.segments[s].nodes.iter().enumerate() {
                        keyed.push((barycenter(&self.pos, v as usize), i as u32, v));
                    }
                    keyed.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                    let segment = &mut self.segments[s];
                    for (slot, &(_, _, v)) in segment.nodes.iter_mut().zip(keyed.iter()) {
                        *slot = v;
                    }
                    self.restack(s, proper);
                }
                if !self.free[layer].is_empty() {
                    keyed.clear();
                    for (i, &v) in self.free[layer].iter().enumerate() {
                        keyed.push((barycenter(&self.pos, v as usize), i as u32, v));
                    }
                    keyed.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                    for (slot, &(key, _, v)) in self.free[layer].iter_mut().zip(keyed.iter()) {
                        *slot = v;
                        self.pos[v as usize] = key;
                    }
                }
            }
        }
    }

    /// Puts the items of segment `s` tightly one below the other from the top of its band.
    fn restack(&mut self, s: usize, proper: &Proper) {
        let top = self.band_tops[self.segments[s].group];
        let nodes = &self.segments[s].nodes;
        self.spacing.offsets(
            nodes.iter().map(|&v| proper.is_dummy(v as usize)),
            &mut self.offsets,
        );
        for (&v, &offset) in nodes.iter().zip(&self.offsets) {
            let h = self.spacing.height(proper.is_dummy(v as usize));
            self.pos[v as usize] = top + offset + h / 2.0;
        }
    }
}
