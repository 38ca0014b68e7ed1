//! Small count rounding of the inner cells (Statistics Norway's
//! PLSrounding: Langsrud & Heldal 2018, "An Algorithm for Small Count
//! Rounding of Tabular Data", Privacy in Statistical Databases; Heldal
//! 2017 for the census hypercubes). Every inner cell of 1 to base - 1 goes
//! to 0 or to the base; larger inner cells and zeros stay; every margin is
//! the sum of the published inner cells, so the table adds up by
//! construction and no published cell, margin or inner, lies in 1 to
//! base - 1. It is as if the microdata were changed, so a margin never
//! contradicts its parts, but a margin may move by more than one base.
//!
//! Which small cells go up: as many as keep the grand total within half a
//! base (the small cells' sum over the base, to the nearest), chosen one at
//! a time, each time the cell whose cells above it (itself and every margin
//! that contains it) have the largest total shortfall, published less
//! true, each weighted by one over the square root of how many small cells
//! it holds ([`weighted`]). This is the reference's greedy step, inspired
//! by partial least squares, with that weight and without its later passes:
//! those find margins that are still small, and here every margin is
//! published, so none is left. Ties go by an order drawn from the run's
//! generator, as the reference draws its order, so the choice among equal
//! cells reveals nothing of their order in the table.

use std::collections::BinaryHeap;

use rand_core::Rng;

use crate::error::Fallible;
use crate::random::Generator;
use crate::table::Cube;

/// The published value of every cell of `cube`: inner cells of 1 to
/// `base` - 1 at 0 or `base`, other inner cells as they are, margins the
/// sums of the inner cells.
pub fn round_small_counts(cube: &Cube, base: i64, rng: &mut Generator) -> Fallible<Vec<i64>> {
    let values = cube.values();
    let small: Vec<usize> = (0..cube.len()).filter(|&c| cube.is_inner(c) && values[c] > 0 && values[c] < base).collect();
    let mut inner = vec![0i64; cube.len()];
    for c in (0..cube.len()).filter(|&c| cube.is_inner(c) && !(values[c] > 0 && values[c] < base)) {
        inner[c] = values[c];
    }
    let sum: i64 = small.iter().map(|&c| values[c]).sum();
    // The nearest whole number of bases to the small cells' sum (halves up).
    let ups = ((2 * sum + base) / (2 * base)) as usize;
    let order: Vec<u64> = small.iter().map(|_| rng.next_u64()).collect();
    let shortfall: Vec<f64> = (0..cube.len()).map(|c| if small.binary_search(&c).is_ok() { values[c] as f64 } else { 0.0 }).collect();
    for cell in choose_ups(cube, &small, ups, base as f64, shortfall, &order) {
        inner[cell] = base;
    }
    cube.margins_from_inner(&inner)
}

/// Which `ups` of the `candidates` (inner cells, in cell order) go up by
/// `step`: one at a time, the cell whose cells above have the largest total
/// weighted shortfall ([`weighted`]), ties by the larger `order`.
/// `shortfall` holds, per inner cell, what it falls short of its target at
/// the start (0 elsewhere); a margin's is the sum of its inner cells'.
pub(crate) fn choose_ups(cube: &Cube, candidates: &[usize], ups: usize, step: f64, mut shortfall: Vec<f64>, order: &[u64]) -> Vec<usize> {
    if ups == 0 {
        return Vec::new();
    }
    cube.add_up(&mut shortfall);
    let mut below = vec![0.0; cube.len()];
    for &c in candidates {
        below[c] = 1.0;
    }
    cube.add_up(&mut below);
    let above = CellsAbove::new(cube, candidates, below);
    // A lazy greedy: shortfalls only fall, so a cell's stored score bounds
    // its score now; the top is taken when its score is still the stored
    // one, else it goes back with its score now.
    let mut scratch = Vec::new();
    let mut heap: BinaryHeap<(i64, u64, usize)> = candidates.iter().zip(order).map(|(&c, &o)| (above.score(c, &shortfall, &mut scratch), o, c)).collect();
    let mut chosen = Vec::with_capacity(ups);
    while chosen.len() < ups {
        let Some((stored, o, cell)) = heap.pop() else { break };
        let now = above.score(cell, &shortfall, &mut scratch);
        if now < stored {
            heap.push((now, o, cell));
            continue;
        }
        above.for_each(cell, &mut scratch, |c| shortfall[c] -= step);
        chosen.push(cell);
    }
    chosen
}

/// The cells that contain an inner cell: itself and its margins, every
/// combination of its codes' ancestors. Cells that contain every small
/// cell add the same to every score and are left out.
struct CellsAbove<'c> {
    cube: &'c Cube,
    /// Per dimension and node: its chain of ancestors (itself first), as
    /// offsets along the dimension (node times stride).
    chains: Vec<Vec<Vec<usize>>>,
    /// Per dimension and node: whether it is an ancestor of every small cell's code.
    common: Vec<Vec<bool>>,
    /// Per cell: its weight's scale ([`scale`]).
    scale: Vec<f64>,
}

/// A cell's shortfall weighted by one over the square root of how many
/// small cells it holds, in fixed point (2^-24), so that scores are exact
/// integer sums and fall whenever a shortfall falls.
///
/// Amparo's change to the reference, which weighs every cell alike: there
/// a margin over many small cells outweighs everything below it, and on
/// B3 (115,700 cells) one department's refugee children went up by 373
/// while its other statuses went down. Weighted, the largest change of a
/// margin there is 39 and the root mean square 1.7 (3.8 unweighted; 1/n
/// gave 4.0, 1/n^0.25 1.8, 1/n^0.75 2.2).
pub(super) fn weighted(shortfall: f64, scale: f64) -> i64 {
    (shortfall * scale).round() as i64
}

/// The scale of a cell's weight, from how many candidates it holds.
pub(super) fn scale(candidates_below: f64) -> f64 {
    16_777_216.0 / candidates_below.max(1.0).sqrt()
}

impl<'c> CellsAbove<'c> {
    fn new(cube: &'c Cube, small: &[usize], below: Vec<f64>) -> CellsAbove<'c> {
        let dims = cube.dims();
        let chains: Vec<Vec<Vec<usize>>> = dims
            .iter()
            .zip(cube.strides())
            .map(|(dim, &stride)| {
                let h = &dim.hierarchy;
                (0..h.len() as u32)
                    .map(|node| std::iter::successors(Some(node), |&n| h.parent(n)).map(|n| n as usize * stride).collect())
                    .collect()
            })
            .collect();
        // A node is common when every small cell's chain passes through it.
        let common = (0..dims.len())
            .map(|d| {
                let mut through = vec![0usize; dims[d].hierarchy.len()];
                for &cell in small {
                    for &offset in &chains[d][cube.coord(cell, d) as usize] {
                        through[offset / cube.strides()[d]] += 1;
                    }
                }
                through.into_iter().map(|n| n == small.len()).collect()
            })
            .collect();
        CellsAbove { cube, chains, common, scale: below.into_iter().map(scale).collect() }
    }

    /// Calls `f` with every cell above inner cell `cell` that does not
    /// contain every candidate: the combinations of its codes' chains, built
    /// one dimension at a time in `scratch` (offset, and whether every code
    /// so far is common).
    fn for_each(&self, cell: usize, scratch: &mut Vec<(usize, bool)>, mut f: impl FnMut(usize)) {
        scratch.clear();
        scratch.push((0, true));
        for (d, &stride) in self.cube.strides().iter().enumerate() {
            let chain = &self.chains[d][self.cube.coord(cell, d) as usize];
            let before = scratch.len();
            for k in 0..before {
                let (offset, common) = scratch[k];
                for &step in &chain[1..] {
                    scratch.push((offset + step, common && self.common[d][step / stride]));
                }
                // The chain's first entry (the cell's own code) in place.
                scratch[k] = (offset + chain[0], common && self.common[d][chain[0] / stride]);
            }
        }
        for &(c, common) in scratch.iter() {
            if !common {
                f(c);
            }
        }
    }

    /// The total shortfall of the cells above inner cell `cell`.
    fn score(&self, cell: usize, shortfall: &[f64], scratch: &mut Vec<(usize, bool)>) -> i64 {
        let mut total = 0;
        self.for_each(cell, scratch, |c| total += weighted(shortfall[c], self.scale[c]));
        total
    }
}

#[cfg(test)]
#[path = "small_counts_tests.rs"]
mod tests;
