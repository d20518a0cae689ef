//! Splits every edge that spans more than one layer into a chain of virtual (dummy) nodes, one per
//! layer in between, so that the graph the later steps see is *proper*: every edge joins two
//! neighbouring layers.
//!
//! Items `0..real` are the input nodes, items `real..count` the dummies. Dummies take part in
//! crossing reduction and coordinate assignment like nodes (with no height), and the drawn edge
//! passes through them, so a long edge goes around the nodes in between instead of over them.
//! Edges that share an end share their dummies on that end's half (see [`Proper::new`]): a fan
//! out of or into a node is drawn as one trunk that branches, and the number of dummies stays
//! close to the number of layers a fan crosses rather than its size times that.

use super::acyclic::{csr, Dag};
use super::layering::Layers;

/// The proper layered graph of nodes and dummies.
#[derive(Debug)]
pub(crate) struct Proper {
    /// Number of input nodes (items below this index are nodes, the rest dummies).
    pub real: usize,
    /// Number of items (nodes and dummies).
    pub count: usize,
    /// Layer of every item.
    pub layer: Vec<u32>,
    /// Per dummy (index `item - real`): an upstream and a downstream node of the edges through it,
    /// in DAG orientation (the upstream one is on the left); the farthest ones for a shared trunk.
    pub ends: Vec<(u32, u32)>,
    /// Per input edge, the dummies it passes (left to right): a run of its upstream node's trunk,
    /// then a run of its downstream node's trunk; empty for self-loops and short edges.
    edge_chain: Vec<[std::ops::Range<u32>; 2]>,
    /// Topological rank of every item (a dummy gets its trunk owner's).
    pub rank: Vec<u32>,
    succ_start: Vec<u32>,
    succ: Vec<u32>,
    pred_start: Vec<u32>,
    pred: Vec<u32>,
}

/// Where an edge leaves the trunk of its upstream node for the trunk of its downstream node:
/// the last layer on the upstream side.
fn split(lx: u32, ly: u32) -> u32 {
    (lx + ly) / 2
}

impl Proper {
    /// Builds the proper graph of `dag` layered by `layers`; `edges` are the input edges.
    ///
    /// Every node owns two trunks: a run of dummies leaving it to the right (as long as its
    /// farthest long out-edge needs, up to that edge's midpoint) and a run arriving at it from
    /// the left. A long edge uses the first half of its upstream node's outgoing trunk and the
    /// second half of its downstream node's incoming trunk: fans out of and into a node are
    /// bundled, and the number of dummies stays near the number of nodes times the layers a
    /// typical edge spans, without any hashing.
    pub fn new(dag: &Dag, layers: &Layers, edges: &[(usize, usize)]) -> Proper {
        let real = dag.n;
        let of = &layers.of;
        let oriented = |i: usize| {
            let (a, b) = edges[i];
            if dag.reversed[i] {
                (b, a)
            } else {
                (a, b)
            }
        };
        // Farthest reach of every node's outgoing and incoming trunks, and the edges that set it.
        let mut out_len = vec![0u32; real];
        let mut out_far = vec![u32::MAX; real];
        let mut in_len = vec![0u32; real];
        let mut in_far = vec![u32::MAX; real];
        for i in 0..edges.len() {
            let (x, y) = oriented(i);
            if x == y {
                continue;
            }
            let (lx, ly) = (of[x], of[y]);
            let m = split(lx, ly);
            if m - lx > out_len[x] {
                out_len[x] = m - lx;
                out_far[x] = y as u32;
            }
            if ly - m - 1 > in_len[y] {
                in_len[y] = ly - m - 1;
                in_far[y] = x as u32;
            }
        }
        let mut layer: Vec<u32> = of.clone();
        let mut ends: Vec<(u32, u32)> = Vec::new();
        let mut rank = vec![0u32; real];
        for (i, &v) in dag.topo.iter().enumerate() {
            rank[v as usize] = i as u32;
        }
        let mut links: Vec<(u32, u32)> = Vec::new();
        // Outgoing trunk of x: layers of[x]+1 ..= of[x]+out_len; incoming trunk of y: layers
        // of[y]-in_len .. of[y]. Both are numbered left to right.
        let mut out_start = vec![0u32; real];
        let mut in_start = vec![0u32; real];
        for v in 0..real {
            out_start[v] = layer.len() as u32;
            for k in 0..out_len[v] {
                let id = layer.len() as u32;
                layer.push(of[v] + 1 + k);
                ends.push((v as u32, out_far[v]));
                rank.push(rank[v]);
                links.push((if k == 0 { v as u32 } else { id - 1 }, id));
            }
            in_start[v] = layer.len() as u32;
            for k in 0..in_len[v] {
                let id = layer.len() as u32;
                layer.push(of[v] - in_len[v] + k);
                ends.push((in_far[v], v as u32));
                rank.push(rank[v]);
                links.push((id, if k + 1 == in_len[v] { v as u32 } else { id + 1 }));
            }
        }
        let mut edge_chain = Vec::with_capacity(edges.len());
        for i in 0..edges.len() {
            let (x, y) = oriented(i);
            if x == y {
                edge_chain.push([0..0, 0..0]);
                continue;
            }
            let (lx, ly) = (of[x], of[y]);
            let m = split(lx, ly);
            let outgoing = out_start[x]..out_start[x] + (m - lx);
            let skip = in_len[y] - (ly - m - 1);
            let incoming = in_start[y] + skip..in_start[y] + in_len[y];
            let last_out = if outgoing.is_empty() {
                x as u32
            } else {
                outgoing.end - 1
            };
            let first_in = if incoming.is_empty() {
                y as u32
            } else {
                incoming.start
            };
            links.push((last_out, first_in));
            edge_chain.push([outgoing, incoming]);
        }
        // Duplicate input edges give duplicate links; like duplicate DAG edges they only weigh
        // more in the barycenters.
        let count = layer.len();
        let (succ_start, succ) = csr(count, links.iter().map(|&(a, b)| (a as usize, b as usize)));
        let (pred_start, pred) = csr(count, links.iter().map(|&(a, b)| (b as usize, a as usize)));
        Proper {
            real,
            count,
            layer,
            ends,
            edge_chain,
            rank,
            succ_start,
            succ,
            pred_start,
            pred,
        }
    }

    /// Whether `item` is a dummy.
    pub fn is_dummy(&self, item: usize) -> bool {
        item >= self.real
    }

    /// Downstream neighbours of `item`.
    pub fn succs(&self, item: usize) -> &[u32] {
        &self.succ[self.succ_start[item] as usize..self.succ_start[item + 1] as usize]
    }

    /// Upstream neighbours of `item`.
    pub fn preds(&self, item: usize) -> &[u32] {
        &self.pred[self.pred_start[item] as usize..self.pred_start[item + 1] as usize]
    }

    /// Number of links between neighbouring layers.
    pub fn link_count(&self) -> usize {
        self.succ.len()
    }

    /// The dummies input edge `edge` passes, left to right.
    pub fn dummies_of(&self, edge: usize) -> impl Iterator<Item = u32> + '_ {
        let [outgoing, incoming] = &self.edge_chain[edge];
        outgoing.clone().chain(incoming.clone())
    }
}

/// Heights of items and the gaps between neighbours in a column.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Spacing {
    node_height: f64,
    node_gap: f64,
    edge_spacing: f64,
}

impl Spacing {
    /// The spacing of `options`.
    pub fn new(options: &super::LayoutOptions) -> Spacing {
        Spacing {
            node_height: options.node_height,
            node_gap: options.node_gap,
            edge_spacing: options.edge_spacing,
        }
    }

    /// Height of an item: a node's, or nothing for a dummy (the edge runs through its top).
    pub fn height(&self, dummy: bool) -> f64 {
        if dummy {
            0.0
        } else {
            self.node_height
        }
    }

    /// The gap between two neighbours in a column: the node gap between nodes, the edge spacing
    /// when an edge is involved.
    pub fn gap(&self, a_dummy: bool, b_dummy: bool) -> f64 {
        if a_dummy || b_dummy {
            self.edge_spacing
        } else {
            self.node_gap
        }
    }

    /// Offset of every item's top from the first item's top when they are packed tightly.
    pub fn offsets(&self, dummy: impl Iterator<Item = bool>, out: &mut Vec<f64>) {
        out.clear();
        let mut next = 0.0;
        let mut previous: Option<bool> = None;
        for d in dummy {
            if let Some(p) = previous {
                next += self.gap(p, d);
            }
            out.push(next);
            next += self.height(d);
            previous = Some(d);
        }
    }
}
