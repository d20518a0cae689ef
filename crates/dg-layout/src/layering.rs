//! Assigns every node a layer (column) so that every DAG edge goes from a lower layer to a higher one.
//!
//! Longest-path layering puts each node right after its latest upstream node. That leaves sources
//! far to the left of the node they feed, so a balancing pass (a cheap stand-in for network
//! simplex) moves nodes with more downstream than upstream edges as far right as their successors
//! allow. Empty layers are then squeezed out.

use super::acyclic::Dag;

/// The layer of every node, and how many layers there are.
#[derive(Debug)]
pub(crate) struct Layers {
    /// Layer per node.
    pub of: Vec<u32>,
    /// Number of layers.
    pub count: usize,
}

/// Layers the DAG; every edge `u -> v` gets `of[u] < of[v]`.
pub(crate) fn assign_layers(dag: &Dag) -> Layers {
    let mut of = vec![0u32; dag.n];
    for &v in &dag.topo {
        let v = v as usize;
        of[v] = dag
            .preds(v)
            .iter()
            .map(|&p| of[p as usize] + 1)
            .max()
            .unwrap_or(0);
    }
    // Successors are final before their predecessors are looked at, so one pass suffices.
    for &v in dag.topo.iter().rev() {
        let v = v as usize;
        let succs = dag.succs(v);
        if succs.len() > dag.preds(v).len() {
            let latest = succs.iter().map(|&s| of[s as usize]).min().unwrap_or(0);
            of[v] = of[v].max(latest.saturating_sub(1));
        }
    }
    let count = squeeze(&mut of);
    Layers { of, count }
}

/// Renumbers layers so that none is empty; keeps their relative order. Returns the layer count.
fn squeeze(of: &mut [u32]) -> usize {
    let max = of.iter().copied().max().unwrap_or(0) as usize;
    let mut used = vec![false; max + 1];
    for &l in of.iter() {
        used[l as usize] = true;
    }
    let mut new_index = vec![0u32; max + 1];
    let mut next = 0;
    for (l, &u) in used.iter().enumerate() {
        new_index[l] = next;
        if u {
            next += 1;
        }
    }
    for l in of.iter_mut() {
        *l = new_index[*l as usize];
    }
    next as usize
}
