//! Turns any edge list into a DAG by reversing back edges, and keeps it as compact adjacency lists.
//!
//! The depth-first search is iterative (no recursion depth limit on long chains) and visits roots
//! and successors in index order, so the set of reversed edges is deterministic. Self-loops are
//! left out of the DAG; they are drawn separately.

/// Compressed adjacency of the acyclic graph.
#[derive(Debug)]
pub(crate) struct Dag {
    /// Number of nodes.
    pub n: usize,
    succ_start: Vec<u32>,
    succ: Vec<u32>,
    pred_start: Vec<u32>,
    pred: Vec<u32>,
    /// Per input edge: it points against the layout direction (back edge or self-loop).
    pub reversed: Vec<bool>,
    /// Nodes in a topological order of the DAG.
    pub topo: Vec<u32>,
}

impl Dag {
    /// Builds the DAG of `n` nodes from `(from, to)` edges whose indices are all `< n`.
    pub fn new(n: usize, edges: &[(usize, usize)]) -> Dag {
        let (start, targets) = csr(n, edges.iter().map(|&(a, b)| (a, b)));
        let reversed = back_edges(n, edges, &start, &targets);
        let oriented: Vec<(usize, usize)> = edges
            .iter()
            .zip(&reversed)
            .filter(|(&(a, b), _)| a != b)
            .map(|(&(a, b), &rev)| if rev { (b, a) } else { (a, b) })
            .collect();
        let (succ_start, succ) = csr(n, oriented.iter().copied());
        let (pred_start, pred) = csr(n, oriented.iter().map(|&(a, b)| (b, a)));
        let mut dag = Dag {
            n,
            succ_start,
            succ,
            pred_start,
            pred,
            reversed,
            topo: Vec::new(),
        };
        dag.topo = dag.topological_order();
        dag
    }

    /// Downstream neighbours of `v` in the DAG.
    pub fn succs(&self, v: usize) -> &[u32] {
        &self.succ[self.succ_start[v] as usize..self.succ_start[v + 1] as usize]
    }

    /// Upstream neighbours of `v` in the DAG.
    pub fn preds(&self, v: usize) -> &[u32] {
        &self.pred[self.pred_start[v] as usize..self.pred_start[v + 1] as usize]
    }

    /// Kahn's algorithm, lowest index first among ready nodes of one wave.
    fn topological_order(&self) -> Vec<u32> {
        let mut indegree: Vec<u32> = (0..self.n).map(|v| self.preds(v).len() as u32).collect();
        let mut order: Vec<u32> = (0..self.n as u32)
            .filter(|&v| indegree[v as usize] == 0)
            .collect();
        let mut head = 0;
        while head < order.len() {
            let v = order[head] as usize;
            head += 1;
            for &s in self.succs(v) {
                indegree[s as usize] -= 1;
                if indegree[s as usize] == 0 {
                    order.push(s);
                }
            }
        }
        debug_assert_eq!(order.len(), self.n, "back edges were not all reversed");
        order
    }
}

/// Counting sort of edges by source into `(start offsets, targets)`.
pub(crate) fn csr(
    n: usize,
    edges: impl Iterator<Item = (usize, usize)> + Clone,
) -> (Vec<u32>, Vec<u32>) {
    let mut start = vec![0u32; n + 1];
    for (a, _) in edges.clone() {
        start[a + 1] += 1;
    }
    for i in 0..n {
        start[i + 1] += start[i];
    }
    let mut fill = start.clone();
    let mut targets = vec![0u32; start[n] as usize];
    for (a, b) in edges {
        targets[fill[a] as usize] = b as u32;
        fill[a] += 1;
    }
    (start, targets)
}

/// Marks the edges that close a cycle in a depth-first search (self-loops included).
fn back_edges(n: usize, edges: &[(usize, usize)], start: &[u32], targets: &[u32]) -> Vec<bool> {
    const WHITE: u8 = 0;
    const GREY: u8 = 1;
    const BLACK: u8 = 2;
    let mut colour = vec![WHITE; n];
    // Back edges are found as (from, to) pairs; duplicates of one pair are all reversed.
    let mut back: Vec<(u32, u32)> = Vec::new();
    let mut stack: Vec<(u32, u32)> = Vec::new();
    for root in 0..n {
        if colour[root] != WHITE {
            continue;
        }
        colour[root] = GREY;
        stack.push((root as u32, start[root]));
        while let Some(top) = stack.last_mut() {
            let v = top.0 as usize;
            if top.1 < start[v + 1] {
                let w = targets[top.1 as usize] as usize;
                top.1 += 1;
                match colour[w] {
                    WHITE => {
                        colour[w] = GREY;
                        stack.push((w as u32, start[w]));
                    }
                    GREY => back.push((v as u32, w as u32)),
                    _ => {}
                }
            } else {
                colour[v] = BLACK;
                stack.pop();
            }
        }
    }
    back.sort_unstable();
    edges
        .iter()
        .map(|&(a, b)| back.binary_search(&(a as u32, b as u32)).is_ok())
        .collect()
}
