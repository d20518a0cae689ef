//! Seeded random asset graphs shaped like real ones, for benchmarks, tests and the layout demo.
//!
//! Nodes are split into code locations and groups in contiguous blocks; most edges join an asset
//! to one of the few assets defined just before it (pipelines are mostly local), a few reach far back
//! (cross-group and cross-location dependencies). Edges always go from a lower to a higher index, so
//! the graph is acyclic unless [`SampleSpec::cycles`] asks for back edges. The same spec always
//! gives the same graph (a SplitMix64 generator, no global state).

use crate::{GraphInput, NodeIn, NodeStatus};

/// What graph to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleSpec {
    /// Number of assets.
    pub nodes: usize,
    /// Number of dependencies.
    pub edges: usize,
    /// Number of code locations.
    pub locations: usize,
    /// Groups per code location.
    pub groups_per_location: usize,
    /// Number of edges pointing backwards (creating cycles).
    pub cycles: usize,
    /// Random seed.
    pub seed: u64,
}

impl SampleSpec {
    /// `nodes` assets with one and a half dependencies each, three locations of three groups.
    pub fn new(nodes: usize, seed: u64) -> SampleSpec {
        SampleSpec {
            nodes,
            edges: nodes * 3 / 2,
            locations: 3,
            groups_per_location: 3,
            cycles: 0,
            seed,
        }
    }
}

const LOCATIONS: [&str; 6] = ["ingest", "analytics", "ml", "finance", "marketing", "ops"];
const GROUPS: [&str; 6] = ["raw", "staging", "marts", "features", "reports", "exports"];
const WORDS: [&str; 12] = [
    "orders",
    "customers",
    "payments",
    "events",
    "sessions",
    "products",
    "inventory",
    "revenue",
    "users",
    "clicks",
    "refunds",
    "shipments",
];

/// A small, fast, seedable generator (SplitMix64).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator started from `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..bound` (`bound` > 0).
    pub fn below(&mut self, bound: usize) -> usize {
        (self.next_u64() % bound as u64) as usize
    }
}

/// Generates the graph described by `spec`.
pub fn sample_graph(spec: &SampleSpec) -> GraphInput {
    let mut rng = Rng::new(spec.seed);
    let n = spec.nodes;
    let locations = spec.locations.max(1);
    let groups = spec.groups_per_location.max(1);
    let nodes: Vec<NodeIn> = (0..n)
        .map(|i| {
            let block = i * locations * groups / n.max(1);
            let (loc, group) = (block / groups, block % groups);
            let location = name(&LOCATIONS, loc);
            let group = name(&GROUPS, group);
            let word = WORDS[rng.below(WORDS.len())];
            let id = format!("{location}/{group}/{word}_{i}");
            NodeIn {
                label: format!("{word}_{i}"),
                id,
                group,
                location,
                status: status(&mut rng),
            }
        })
        .collect();
    let mut edges = Vec::with_capacity(spec.edges + spec.cycles);
    // Real graphs grow wider, not only deeper, as they grow: the window of likely upstream assets
    // widens with the size of a group.
    let window = (n / (locations * groups) / 4).max(12);
    if n >= 2 {
        for _ in 0..spec.edges {
            let to = 1 + rng.below(n - 1);
            let from = if rng.below(10) == 0 {
                rng.below(to)
            } else {
                to - 1 - rng.below(to.min(window))
            };
            edges.push((from, to));
        }
        for _ in 0..spec.cycles {
            let from = 1 + rng.below(n - 1);
            let to = from - 1 - rng.below(from.min(6));
            edges.push((from, to));
        }
    }
    GraphInput { nodes, edges }
}

fn name(names: &[&str], i: usize) -> String {
    if i < names.len() {
        names[i].to_owned()
    } else {
        format!("{}_{}", names[i % names.len()], i / names.len())
    }
}

fn status(rng: &mut Rng) -> NodeStatus {
    match rng.below(20) {
        0..=10 => NodeStatus::Materialized,
        11..=13 => NodeStatus::Missing,
        14..=15 => NodeStatus::Stale,
        16 => NodeStatus::Failed,
        17 => NodeStatus::Running,
        _ => NodeStatus::Unknown,
    }
}
