//! Orders the nodes of every column to reduce edge crossings (barycenter heuristic).
//!
//! A column is cut into segments, one per group band; nodes only move inside their segment, so
//! frames stay where packing put them. Sweeps alternate left-to-right (sorting by the mean position
//! of upstream neighbours) and right-to-left (downstream neighbours). Neighbours in any column count,
//! so long edges pull too without dummy nodes. The number of sweeps is the budget divided by the
//! graph size, between two and `max_sweeps`: large graphs stay fast, small ones get polished.

use std::ops::Range;

use super::acyclic::Dag;
use super::clusters::Packed;
use super::layering::Layers;
use super::LayoutOptions;

/// The nodes of one column that belong to one group, top to bottom.
#[derive(Debug)]
pub(crate) struct Segment {
    /// Group index (into [`Packed::groups`]).
    pub group: usize,
    /// Node indices, top to bottom.
    pub nodes: Vec<u32>,
}

/// The order of nodes in every column, and their provisional top y.
#[derive(Debug)]
pub(crate) struct Ordering {
    /// All segments, column by column, top to bottom within a column.
    pub segments: Vec<Segment>,
    /// The segments of each column, as a range into `segments`.
    pub by_layer: Vec<Range<usize>>,
    /// Provisional top y of every node (its row in its band).
    pub pos: Vec<f64>,
    pitch: f64,
    band_tops: Vec<f64>,
}

impl Ordering {
    /// Initial order: by column, band, then topological rank (which keeps chains together).
    pub fn new(dag: &Dag, layers: &Layers, packed: &Packed, options: &LayoutOptions) -> Ordering {
        let mut rank = vec![0u32; dag.n];
        for (i, &v) in dag.topo.iter().enumerate() {
            rank[v as usize] = i as u32;
        }
        let band_tops: Vec<f64> = packed.groups.iter().map(|g| g.band_top).collect();
        let mut nodes: Vec<u32> = (0..dag.n as u32).collect();
        nodes.sort_unstable_by(|&a, &b| {
            let key = |v: u32| {
                let v = v as usize;
                (layers.of[v], packed.node_group[v], rank[v])
            };
            let (la, ga, ra) = key(a);
            let (lb, gb, rb) = key(b);
            la.cmp(&lb)
                .then(band_tops[ga as usize].total_cmp(&band_tops[gb as usize]))
                .then(ga.cmp(&gb))
                .then(ra.cmp(&rb))
        });
        let mut segments: Vec<Segment> = Vec::new();
        let mut by_layer = vec![0..0; layers.count];
        let mut start = 0;
        for chunk in nodes.chunk_by(|&a, &b| {
            layers.of[a as usize] == layers.of[b as usize]
                && packed.node_group[a as usize] == packed.node_group[b as usize]
        }) {
            let layer = layers.of[chunk[0] as usize] as usize;
            if by_layer[layer].is_empty() {
                by_layer[layer] = segments.len()..segments.len();
            }
            by_layer[layer].end = segments.len() + 1;
            segments.push(Segment {
                group: packed.node_group[chunk[0] as usize] as usize,
                nodes: chunk.to_vec(),
            });
            start += chunk.len();
        }
        debug_assert_eq!(start, dag.n);
        let mut ordering = Ordering {
            segments,
            by_layer,
            pos: vec![0.0; dag.n],
            pitch: options.node_height + options.node_gap,
            band_tops,
        };
        for s in 0..ordering.segments.len() {
            ordering.restack(s);
        }
        ordering
    }

    /// Runs the barycenter sweeps.
    pub fn reduce_crossings(&mut self, dag: &Dag, options: &LayoutOptions) {
        let size = dag.n + dag.edge_count();
        let sweeps = (options.sweep_budget / size.max(1)).clamp(2, options.max_sweeps.max(2));
        let mut keyed: Vec<(f64, u32, u32)> = Vec::new();
        for sweep in 0..sweeps {
            let downwards = sweep % 2 == 0;
            let columns: Vec<usize> = if downwards {
                (0..self.by_layer.len()).collect()
            } else {
                (0..self.by_layer.len()).rev().collect()
            };
            for layer in columns {
                for s in self.by_layer[layer].clone() {
                    if self.segments[s].nodes.len() < 2 {
                        continue;
                    }
                    keyed.clear();
                    for (i, &v) in self.segments[s].nodes.iter().enumerate() {
                        let v = v as usize;
                        let neighbours = if downwards {
                            dag.preds(v)
                        } else {
                            dag.succs(v)
                        };
                        let key = if neighbours.is_empty() {
                            self.pos[v]
                        } else {
                            let sum: f64 = neighbours.iter().map(|&u| self.pos[u as usize]).sum();
                            sum / neighbours.len() as f64
                        };
                        keyed.push((key, i as u32, v as u32));
                    }
                    keyed.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                    let segment = &mut self.segments[s];
                    for (slot, &(_, _, v)) in segment.nodes.iter_mut().zip(keyed.iter()) {
                        *slot = v;
                    }
                    self.restack(s);
                }
            }
        }
    }

    /// Puts the nodes of segment `s` on consecutive rows from the top of its band.
    fn restack(&mut self, s: usize) {
        let top = self.band_tops[self.segments[s].group];
        for (i, &v) in self.segments[s].nodes.iter().enumerate() {
            self.pos[v as usize] = top + i as f64 * self.pitch;
        }
    }
}
