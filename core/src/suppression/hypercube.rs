//! Hypercube patterns: protection certificates that need no LP.
//!
//! The hypercube method of Repsilber (1994), GHMITER in tau-Argus (manual
//! section 2.5.4): a sensitive cell is safe when it is a corner of a set of
//! hidden cells that can all change together, alternately up and down,
//! without changing any published cell or breaking additivity. Here the set
//! is the product, over the dimensions, of one small vector per dimension
//! that is itself additive along that dimension's hierarchy:
//!
//! - a sibling pair: the cell's code +1, a sibling code -1 (their parent is
//!   unchanged), or
//! - an upward chain: the code and every ancestor up to the total, all +1,
//!
//! where a code with children also carries a downward chain to a leaf with
//! its own sign (a department changes only if one of its municipalities
//! does). The product of additive vectors is additive along every dimension
//! of the whole hierarchical table, so moving the cells by `t` times their
//! signs leaves every published cell and every constraint intact: an
//! attacker cannot tell the true table from the moved one. The move is
//! possible for t in [-lower, +upper] when every cell signed against the
//! target holds at least `upper` and every cell signed with it at least
//! `lower` (counts stay non-negative), and it is whole, so integrality does
//! not help the attacker either. A pattern is thus a certificate that the
//! target's interval reaches its protection levels, whatever else is hidden.
//!
//! Finding a pattern costs a few thousand cell look-ups, against seconds for
//! an LP over a table of 10^5 cells: this is what lets `interval` and the
//! audit scale. Patterns may hide more cells than the LP optimum would.

use std::cmp::Ordering;

use rustc_hash::{FxHashMap, FxHashSet};

use crate::table::Cube;

/// How many pattern combinations one search may look at: the options kept
/// per dimension are the largest number whose product stays within this.
const COMBINATIONS: usize = 2_000;

/// A per-dimension vector: (node, sign) pairs, the target's code first with +1.
type Vector = Vec<(u32, i8)>;

/// How many patterns one direction of a composite protection may add up.
const COMPOSITE_PATTERNS: usize = 64;

/// A pattern found: its cells with their signs, and the cost of those not yet hidden.
struct Pattern {
    cells: Vec<usize>,
    signs: Vec<i8>,
    cost: f64,
}

/// Searches patterns in one cube.
pub struct PatternFinder<'a> {
    cube: &'a Cube,
    values: &'a [i64],
    strides: Vec<usize>,
    kept_per_dimension: usize,
}

impl<'a> PatternFinder<'a> {
    pub fn new(cube: &'a Cube) -> Self {
        let k = cube.dims().len().max(1) as f64;
        let kept = (COMBINATIONS as f64).powf(1.0 / k).floor().max(2.0) as usize;
        let mut strides = vec![1usize; cube.shape().len()];
        for d in (0..strides.len().saturating_sub(1)).rev() {
            strides[d] = strides[d + 1] * cube.shape()[d + 1];
        }
        PatternFinder { cube, values: cube.values(), strides, kept_per_dimension: kept }
    }

    /// The cells of the cheapest protection found for `target`, moving it
    /// `lower` down and `upper` up, where `weight(cell)` is 0 for hidden
    /// cells, the cost of hiding a published one, and infinite for cells that
    /// must stay published. `None` when the search finds none.
    ///
    /// One pattern when one can carry both moves. Otherwise each direction is
    /// made of several patterns, each through the target, added up: a margin
    /// of 4 children in 4 different municipalities goes down to 0 only along
    /// 4 chains, one per municipality. Each added pattern carries as much as
    /// the cells it lowers still hold (they are charged for it), so the sum
    /// is a change that keeps every count non-negative, like a single pattern.
    pub fn cheapest(&self, target: usize, lower: i64, upper: i64, weight: &dyn Fn(usize) -> f64) -> Option<Vec<usize>> {
        let values = self.values;
        if lower <= 0 && upper <= 0 {
            return Some(vec![target]);
        }
        if let Some(p) = self.search(target, lower, upper, weight, &|c| values[c]) {
            return Some(p.cells);
        }
        let mut picked: FxHashSet<usize> = FxHashSet::default();
        for (down, level) in [(true, lower), (false, upper)] {
            // What each cell can still give in this direction.
            let mut left: FxHashMap<usize, i64> = FxHashMap::default();
            let mut remaining = level;
            for _ in 0..COMPOSITE_PATTERNS {
                if remaining <= 0 {
                    break;
                }
                let value = |c: usize| left.get(&c).copied().unwrap_or(values[c]);
                let w = |c: usize| if picked.contains(&c) { 0.0 } else { weight(c) };
                let (need_down, need_up) = if down { (1, 0) } else { (0, 1) };
                let p = self.search(target, need_down, need_up, &w, &value)?;
                // The cells this direction lowers: signed with the target going
                // down, against it going up.
                let lowered = |sign: i8| if down { sign > 0 } else { sign < 0 };
                let moved: Vec<(usize, i64)> = p.cells.iter().zip(&p.signs).filter(|&(_, &s)| lowered(s)).map(|(&c, _)| (c, value(c))).collect();
                // A pattern that lowers nothing (every cell rising) carries any amount.
                let amount = moved.iter().map(|&(_, v)| v).min().unwrap_or(remaining).min(remaining);
                for (c, v) in moved {
                    left.insert(c, v - amount);
                }
                picked.extend(p.cells);
                remaining -= amount;
            }
            if remaining > 0 {
                return None;
            }
        }
        let mut cells: Vec<usize> = picked.into_iter().collect();
        cells.sort_unstable();
        Some(cells)
    }

    /// Hidden cells (`hidden(cell)`) that protect `target`, if the search
    /// finds some: a certificate that `target` keeps its levels.
    pub fn certificate(&self, target: usize, lower: i64, upper: i64, hidden: &dyn Fn(usize) -> bool) -> Option<Vec<usize>> {
        self.cheapest(target, lower, upper, &|c| if hidden(c) { 0.0 } else { f64::INFINITY })
    }

    /// The cheapest single pattern found, with counts `value(cell)`.
    fn search(&self, target: usize, lower: i64, upper: i64, weight: &dyn Fn(usize) -> f64, value: &dyn Fn(usize) -> i64) -> Option<Pattern> {
        let coords = self.cube.coords(target);
        let enough = |cell: usize, sign: i8| value(cell) >= if sign < 0 { upper } else { lower };
        let mut options: Vec<Vec<Vector>> = Vec::with_capacity(coords.len());
        for d in 0..coords.len() {
            // Rank each vector by the cells it puts on the target's line along
            // d: those cells are in every pattern built with it.
            let line = |node: u32| target - coords[d] as usize * self.strides[d] + node as usize * self.strides[d];
            let mut ranked: Vec<(f64, i64, Vector)> = Vec::new();
            let mut upward = None;
            for (k, vector) in self.vectors(d, coords[d], &|node| weight(line(node)), &|node| value(line(node))).into_iter().enumerate() {
                if !vector.iter().all(|&(node, sign)| enough(line(node), sign)) {
                    continue;
                }
                let cost: f64 = vector.iter().skip(1).map(|&(node, _)| weight(line(node))).sum();
                if cost.is_finite() {
                    let smallest = vector.iter().map(|&(node, _)| value(line(node))).min().unwrap_or(0);
                    if k == 0 {
                        upward = Some(vector.clone());
                    }
                    ranked.push((cost, smallest, vector));
                }
            }
            if ranked.is_empty() {
                return None;
            }
            ranked.sort_by(|a, b| a.0.total_cmp(&b.0).then(b.1.cmp(&a.1)));
            ranked.truncate(self.kept_per_dimension);
            // The upward chain stays in the search whatever its rank: its
            // cells are margins, large enough for almost any level, so the
            // pattern upward in every dimension is the fallback.
            if let Some(up) = upward.filter(|up| !ranked.iter().any(|r| &r.2 == up)) {
                ranked.pop();
                ranked.push((f64::INFINITY, 0, up));
            }
            options.push(ranked.into_iter().map(|(_, _, v)| v).collect());
        }
        let mut best: Option<Pattern> = None;
        let mut choice = vec![0usize; options.len()];
        let mut cells: Vec<(usize, i8)> = Vec::new();
        let mut next: Vec<(usize, i8)> = Vec::new();
        'combinations: loop {
            cells.clear();
            cells.push((0, 1));
            for (d, vectors) in options.iter().enumerate() {
                next.clear();
                for &(offset, sign) in &cells {
                    for &(node, s) in &vectors[choice[d]] {
                        next.push((offset + node as usize * self.strides[d], sign * s));
                    }
                }
                std::mem::swap(&mut cells, &mut next);
            }
            let bound = best.as_ref().map_or(f64::INFINITY, |b| b.cost);
            let mut cost = 0.0;
            let mut possible = true;
            for &(cell, sign) in &cells {
                cost += weight(cell);
                if !enough(cell, sign) || cost >= bound {
                    possible = false;
                    break;
                }
            }
            if possible {
                best = Some(Pattern { cells: cells.iter().map(|&(c, _)| c).collect(), signs: cells.iter().map(|&(_, s)| s).collect(), cost });
                if cost == 0.0 {
                    break 'combinations;
                }
            }
            // Next combination, mixed-radix.
            let mut d = options.len();
            loop {
                if d == 0 {
                    break 'combinations;
                }
                d -= 1;
                choice[d] += 1;
                if choice[d] < options[d].len() {
                    break;
                }
                choice[d] = 0;
            }
        }
        best
    }

    /// The additive vectors along dimension `d` through `node`: the upward
    /// chain first, then one per sibling. `weight` and `value` are those of the
    /// cells on the target's line, used to pick downward chains.
    fn vectors(&self, d: usize, node: u32, weight: &dyn Fn(u32) -> f64, value: &dyn Fn(u32) -> i64) -> Vec<Vector> {
        let h = &self.cube.dims()[d].hierarchy;
        let mut out = Vec::new();
        let down = |start: u32, sign: i8, v: &mut Vector| {
            let mut at = start;
            while !h.is_leaf(at) {
                // Prefer a child already hidden, then the largest.
                at = *h
                    .children(at)
                    .iter()
                    .min_by(|&&a, &&b| weight(a).total_cmp(&weight(b)).then(value(b).cmp(&value(a))).then(a.cmp(&b)))
                    .expect("a node that is not a leaf has children");
                v.push((at, sign));
            }
        };
        match h.parent(node) {
            None => {
                // The total: it moves with one of its children's chains (the
                // first, with the preferred child, counts as its upward chain).
                let mut children: Vec<u32> = h.children(node).to_vec();
                children.sort_by(|&a, &b| weight(a).total_cmp(&weight(b)).then(value(b).cmp(&value(a))).then(a.cmp(&b)));
                for child in children {
                    let mut v = vec![(node, 1), (child, 1)];
                    down(child, 1, &mut v);
                    out.push(v);
                }
            }
            Some(parent) => {
                let mut v = vec![(node, 1)];
                down(node, 1, &mut v);
                let mut at = Some(parent);
                while let Some(a) = at {
                    v.push((a, 1));
                    at = h.parent(a);
                }
                out.push(v);
                for &sibling in h.children(parent).iter().filter(|&&s| s != node) {
                    let mut v = vec![(node, 1)];
                    down(node, 1, &mut v);
                    v.push((sibling, -1));
                    down(sibling, -1, &mut v);
                    out.push(v);
                }
            }
        }
        out
    }
}

/// Order in which sensitive cells get their patterns: higher levels of the
/// hierarchies first (their patterns reach down into the cells below, as
/// HiTaS works top-down), then smaller values, then cell order.
pub(crate) fn processing_order(cube: &Cube, cells: &mut [usize]) {
    let depth = |c: usize| -> u32 { (0..cube.dims().len()).map(|d| cube.dims()[d].hierarchy.depth(cube.coord(c, d))).sum() };
    cells.sort_by(|&a, &b| match depth(a).cmp(&depth(b)) {
        Ordering::Equal => cube.value(a).cmp(&cube.value(b)).then(a.cmp(&b)),
        other => other,
    });
}
