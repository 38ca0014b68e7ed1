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

/// Vectors kept per dimension, the best first by the cells they put on the
/// target's own line.
const KEPT_PER_DIMENSION: usize = 24;

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
    /// The target's own count, when it differs from `values` (see
    /// [`keep_uncertified_around`]).
    target_values: Option<&'a [i64]>,
    strides: &'a [usize],
}

/// Scale of the counts of a feasible point given to the pattern finder:
/// patterns move whole steps, a point's counts are fractions.
const POINT_SCALE: f64 = 1024.0;

/// What a cell of a pattern space is to the table patterns certify.
#[derive(Clone, Copy)]
enum Slot {
    /// The table's cell with this index: it may move when hidden.
    Cell(usize),
    /// A cell of no table of a linked set: nobody publishes or constrains
    /// it, so it moves freely (see [`linked_space`]).
    Free,
    /// A cell that must not move (shared with a table the space leaves out).
    Fixed,
}

/// A count large enough for any move asked of a [`Slot::Free`] cell.
const FREE_COUNT: i64 = i64::MAX / 4;

/// Cells of the whole cube of a linked set, up to which [`linked_space`] builds it.
const LINKED_SPACE_CELLS: usize = 8_000_000;

/// The cubes whose hypercube patterns are certificates for `table`, each
/// with its cells' [`Slot`]s: a cube is its own; a linked set has one whole
/// cube when it can (see [`linked_space`]), otherwise each table's, where
/// only the cells no other table shares may move (such a pattern keeps its
/// own table's constraints and touches no other table's).
fn pattern_spaces<'a>(table: &'a dyn crate::table::Additive) -> Vec<(std::borrow::Cow<'a, Cube>, Vec<Slot>)> {
    use std::borrow::Cow;
    if let Some(cube) = table.as_cube() {
        return vec![(Cow::Borrowed(cube), (0..cube.len()).map(Slot::Cell).collect())];
    }
    let Some(linked) = table.as_linked() else { return Vec::new() };
    if let Some((cube, slots)) = linked_space(linked) {
        return vec![(Cow::Owned(cube), slots)];
    }
    let mut tables_holding = vec![0u8; table.len()];
    for ids in &linked.linked {
        for &id in ids {
            tables_holding[id] = tables_holding[id].saturating_add(1);
        }
    }
    linked
        .cubes
        .iter()
        .zip(&linked.linked)
        .map(|(cube, ids)| (Cow::Borrowed(cube), ids.iter().map(|&id| if tables_holding[id] == 1 { Slot::Cell(id) } else { Slot::Fixed }).collect()))
        .collect()
}

/// The linked tables as slices of one cube over all their dimensions: a
/// table is the slice where the dimensions it lacks are at their total, and
/// a cell two tables share is one cell of the whole cube. A pattern of the
/// whole cube (a product of vectors additive along each dimension) is, on
/// each table's slice, a multiple of a product of additive vectors, so it
/// keeps every table's constraints and moves a shared cell alike in each;
/// the cells of no table are nobody's and move freely. So a shared margin
/// gets a certificate too: (comuna, sex) in comuna x nationality x sex and
/// comuna x age x sex moves with a chain down the nationalities in one and
/// down the age bands in the other. (On B4 the set's whole check had
/// 24,471 sensitive cells without a certificate when linked sets had none,
/// 7,136 with patterns inside each table only.) `None` when two tables give
/// one dimension different codes, or the whole cube is too large.
fn linked_space(linked: &crate::table::LinkedTables) -> Option<(Cube, Vec<Slot>)> {
    let mut dims: Vec<crate::table::Dimension> = Vec::new();
    for cube in &linked.cubes {
        for dim in cube.dims() {
            match dims.iter().find(|d| d.name == dim.name) {
                Some(known) if known.hierarchy != dim.hierarchy => return None,
                Some(_) => {}
                None => dims.push(dim.clone()),
            }
        }
    }
    dims.iter().try_fold(1usize, |n, d| n.checked_mul(d.hierarchy.len()).filter(|&n| n <= LINKED_SPACE_CELLS))?;
    let mut whole = Cube::zeros(dims).ok()?;
    let mut slots = vec![Slot::Free; whole.len()];
    let roots: Vec<u32> = whole.dims().iter().map(|d| d.hierarchy.root()).collect();
    for (cube, ids) in linked.cubes.iter().zip(&linked.linked) {
        let position: Vec<usize> = cube.dims().iter().map(|dim| whole.dims().iter().position(|d| d.name == dim.name).unwrap_or(0)).collect();
        let mut coords = roots.clone();
        for (local, &id) in ids.iter().enumerate() {
            for (d, &at) in position.iter().enumerate() {
                coords[at] = cube.coord(local, d);
            }
            slots[whole.cell(&coords)] = Slot::Cell(id);
        }
    }
    let values = crate::table::Additive::values(linked);
    for (value, slot) in whole.values_mut().iter_mut().zip(&slots) {
        *value = match *slot {
            Slot::Cell(id) => values[id],
            Slot::Free => FREE_COUNT,
            Slot::Fixed => 0,
        };
    }
    Some((whole, slots))
}

/// Keep the targets `(cell, low, high)` of `table` that no certificate
/// covers: `uncertified_in(cube, slots)` gives, for a pattern space (see
/// [`pattern_spaces`]), the test asked with the cell's index there, `low`,
/// `high` and which of the space's cells may move; cells no space holds
/// are kept.
fn keep_targets<'a>(
    table: &'a dyn crate::table::Additive,
    published: &[Option<i64>],
    targets: &mut Vec<(usize, i64, i64)>,
    uncertified_in: impl for<'c> Fn(&'c Cube, &'c [Slot]) -> Box<dyn Fn(usize, i64, i64, &dyn Fn(usize) -> bool) -> bool + 'c>,
) {
    let spaces = pattern_spaces(table);
    let mut home: Vec<Option<(usize, usize)>> = vec![None; table.len()];
    for (s, (_, slots)) in spaces.iter().enumerate() {
        for (local, slot) in slots.iter().enumerate() {
            if let Slot::Cell(id) = *slot {
                home[id] = Some((s, local));
            }
        }
    }
    let uncertified: Vec<_> = spaces.iter().map(|(cube, slots)| uncertified_in(cube, slots)).collect();
    targets.retain(|&(cell, low, high)| {
        let Some((s, local)) = home[cell] else { return true };
        let slots = &spaces[s].1;
        let moves = |c: usize| match slots[c] {
            Slot::Cell(id) => published[id].is_none(),
            Slot::Free => true,
            Slot::Fixed => false,
        };
        uncertified[s](local, low, high, &moves)
    });
}

/// [`keep_uncertified`] around a table the attacker cannot rule out,
/// `point` (per cell; any feasible solution of the attacker's LP, such as
/// an average of the solutions its sweeps found), for the audit of a
/// published table, whose true values are unknown. A hypercube pattern of
/// hidden cells moves the point as it moves the true table: the target
/// reaches `low` and `high` when the cells the move lowers hold enough in
/// the point. Counts are scaled by [`POINT_SCALE`] so that patterns move
/// whole steps: each cell's scaled count is rounded down (it can give no
/// more than it holds), except the target's own, rounded up (the move asked
/// of it then reaches `low` and `high`; stopping the same pattern where the
/// target is exactly at them is a smaller move, so feasible too).
pub fn keep_uncertified_around(table: &dyn crate::table::Additive, published: &[Option<i64>], point: &[f64], targets: &mut Vec<(usize, i64, i64)>) {
    let scale = POINT_SCALE as i64;
    let scaled = |slots: &[Slot], round: fn(f64) -> f64| -> Vec<i64> {
        slots
            .iter()
            .map(|slot| match *slot {
                Slot::Cell(id) => round(point[id].max(0.0) * POINT_SCALE) as i64,
                Slot::Free => FREE_COUNT,
                Slot::Fixed => 0,
            })
            .collect()
    };
    keep_targets(table, published, targets, |cube, slots| {
        let (floor, ceil) = (scaled(slots, f64::floor), scaled(slots, f64::ceil));
        Box::new(move |local, low, high, moves| {
            let finder = PatternFinder { cube, values: &floor, target_values: Some(&ceil), strides: cube.strides() };
            let (lower, upper) = ((ceil[local] - low.saturating_mul(scale)).max(0), (high.saturating_mul(scale) - floor[local]).max(0));
            finder.certificate(local, lower, upper, moves).is_none()
        })
    });
}

/// Keep only the targets `(cell, low, high)` that no hypercube of hidden
/// cells (`published[c]` is `None`) shows able to reach both `low` and
/// `high`: a certificate settles a target by look-ups, so only the rest
/// need the attacker's LPs. In a linked set the patterns span its tables
/// (see [`pattern_spaces`]).
pub fn keep_uncertified(table: &dyn crate::table::Additive, published: &[Option<i64>], targets: &mut Vec<(usize, i64, i64)>) {
    keep_targets(table, published, targets, |cube, _| {
        let finder = PatternFinder::new(cube);
        Box::new(move |local, low, high, hidden| {
            let value = cube.value(local);
            finder.certificate(local, (value - low).max(0), (high - value).max(0), hidden).is_none()
        })
    });
}

impl<'a> PatternFinder<'a> {
    pub fn new(cube: &'a Cube) -> Self {
        PatternFinder { cube, values: cube.values(), target_values: None, strides: cube.strides() }
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
        if lower <= 0 && upper <= 0 {
            return Some(vec![target]);
        }
        let single = self.search(target, lower, upper, weight, &|c| self.value(target, c));
        if let Some(p) = single.as_ref().filter(|p| p.cost == 0.0) {
            return Some(p.cells.clone());
        }
        // A sum of smaller moves is often cheaper than one pattern that must
        // move everything at once (which, in a sparse table, is one that
        // rises through the totals): take the cheaper of the two.
        match (single, self.composite(target, lower, upper, weight)) {
            (Some(p), Some(cells)) => {
                let cost: f64 = cells.iter().map(|&c| weight(c)).sum();
                Some(if cost < p.cost { cells } else { p.cells })
            }
            (Some(p), None) => Some(p.cells),
            (None, composite) => composite,
        }
    }

    /// Each direction made of patterns through the target, added up.
    fn composite(&self, target: usize, lower: i64, upper: i64, weight: &dyn Fn(usize) -> f64) -> Option<Vec<usize>> {
        let mut picked: FxHashSet<usize> = FxHashSet::default();
        for (down, level) in [(true, lower), (false, upper)] {
            // What each cell can still give in this direction.
            let mut left: FxHashMap<usize, i64> = FxHashMap::default();
            let mut remaining = level;
            for _ in 0..COMPOSITE_PATTERNS {
                if remaining <= 0 {
                    break;
                }
                let value = |c: usize| left.get(&c).copied().unwrap_or_else(|| self.value(target, c));
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

    /// Cell `c`'s count in a search for `target`'s patterns.
    fn value(&self, target: usize, c: usize) -> i64 {
        match self.target_values {
            Some(own) if c == target => own[c],
            _ => self.values[c],
        }
    }

    /// Hidden cells (`hidden(cell)`) that protect `target`, if the search
    /// finds some: a certificate that `target` keeps its levels.
    pub fn certificate(&self, target: usize, lower: i64, upper: i64, hidden: &dyn Fn(usize) -> bool) -> Option<Vec<usize>> {
        self.cheapest(target, lower, upper, &|c| if hidden(c) { 0.0 } else { f64::INFINITY })
    }

    /// The cheapest single pattern found, with counts `value(cell)`.
    ///
    /// Depth-first over the dimensions with branch and bound: after choosing
    /// vectors for the first j dimensions, the cells where the other
    /// dimensions keep the target's codes are already cells of every pattern
    /// below (with their final signs), so a partial pattern that breaks a
    /// level or costs more than the best one found is cut there.
    fn search(&self, target: usize, lower: i64, upper: i64, weight: &dyn Fn(usize) -> f64, value: &dyn Fn(usize) -> i64) -> Option<Pattern> {
        let coords = self.cube.coords(target);
        let enough = |cell: usize, sign: i8| value(cell) >= if sign < 0 { upper } else { lower };
        let mut options: Vec<Vec<Vector>> = Vec::with_capacity(coords.len());
        for d in 0..coords.len() {
            // Rank each vector by the cells it puts on the target's line along
            // d: those cells are in every pattern built with it.
            let line = |node: u32| target - coords[d] as usize * self.strides[d] + node as usize * self.strides[d];
            let mut ranked: Vec<(f64, i64, bool, Vector)> = Vec::new();
            for (upward, vector) in self.vectors(d, coords[d], &|node| weight(line(node)), &|node| value(line(node))) {
                if !vector.iter().all(|&(node, sign)| enough(line(node), sign)) {
                    continue;
                }
                let cost: f64 = vector.iter().skip(1).map(|&(node, _)| weight(line(node))).sum();
                if cost.is_finite() {
                    let smallest = vector.iter().map(|&(node, _)| value(line(node))).min().unwrap_or(0);
                    ranked.push((cost, smallest, upward, vector));
                }
            }
            ranked.sort_by(|a, b| a.0.total_cmp(&b.0).then(b.1.cmp(&a.1)));
            // The best upward chain stays in the search whatever its rank: its
            // cells are margins, large enough for almost any level, so the
            // pattern upward in every dimension is the fallback.
            if let Some(k) = ranked.iter().position(|r| r.2).filter(|&k| k >= KEPT_PER_DIMENSION) {
                ranked.swap(KEPT_PER_DIMENSION - 1, k);
            }
            ranked.truncate(KEPT_PER_DIMENSION);
            if ranked.is_empty() {
                return None;
            }
            options.push(ranked.into_iter().map(|r| r.3).collect());
        }
        let mut search = Search { finder: self, coords: &coords, options: &options, weight, enough: &enough, best: None, budget: CELL_CHECKS };
        let mut cells = vec![(target, 1i8)];
        search.descend(0, &mut cells, 0.0);
        search.best
    }

    /// The additive vectors along dimension `d` through `node`, each with
    /// whether it is an upward chain: the upward chains (through each of a
    /// few leaves below `node` when it has children), then the sibling pairs
    /// (each through a few leaves below either side). `weight` and `value`
    /// are those of the cells on the target's line, to pick those leaves.
    fn vectors(&self, d: usize, node: u32, weight: &dyn Fn(u32) -> f64, value: &dyn Fn(u32) -> i64) -> Vec<(bool, Vector)> {
        let h = &self.cube.dims()[d].hierarchy;
        // Paths from below `start` down to its best leaves (preferring hidden,
        // then large cells), at most `limit`; one empty path for a leaf.
        let paths = |start: u32, limit: usize| -> Vec<Vec<u32>> {
            if h.is_leaf(start) {
                return vec![Vec::new()];
            }
            let mut leaves: Vec<u32> = Vec::new();
            let mut stack = vec![start];
            while let Some(at) = stack.pop() {
                for &child in h.children(at) {
                    if h.is_leaf(child) {
                        leaves.push(child);
                    } else {
                        stack.push(child);
                    }
                }
            }
            leaves.sort_by(|&a, &b| weight(a).total_cmp(&weight(b)).then(value(b).cmp(&value(a))).then(a.cmp(&b)));
            leaves.truncate(limit);
            leaves
                .into_iter()
                .map(|leaf| {
                    let mut path = vec![leaf];
                    let mut at = leaf;
                    while let Some(p) = h.parent(at).filter(|&p| p != start) {
                        path.push(p);
                        at = p;
                    }
                    path.reverse();
                    path
                })
                .collect()
        };
        let mut out = Vec::new();
        let ancestors: Vec<u32> = std::iter::successors(h.parent(node), |&a| h.parent(a)).collect();
        for path in paths(node, LEAF_PATHS) {
            let mut v = vec![(node, 1)];
            v.extend(path.iter().map(|&n| (n, 1)));
            v.extend(ancestors.iter().map(|&a| (a, 1)));
            out.push((true, v));
        }
        if let Some(parent) = h.parent(node) {
            let own = paths(node, SIBLING_LEAF_PATHS);
            for &sibling in h.children(parent).iter().filter(|&&s| s != node) {
                for theirs in paths(sibling, SIBLING_LEAF_PATHS) {
                    for mine in &own {
                        let mut v = vec![(node, 1)];
                        v.extend(mine.iter().map(|&n| (n, 1)));
                        v.push((sibling, -1));
                        v.extend(theirs.iter().map(|&n| (n, -1)));
                        out.push((false, v));
                    }
                }
            }
        }
        out
    }
}

/// How many cells one pattern search may look at before it settles for the
/// best pattern found so far.
const CELL_CHECKS: usize = 20_000;
/// Leaves below a code with children tried for its upward chains, and for
/// each side of a sibling pair.
const LEAF_PATHS: usize = 16;
const SIBLING_LEAF_PATHS: usize = 3;

/// One depth-first search for a pattern.
struct Search<'s> {
    finder: &'s PatternFinder<'s>,
    coords: &'s [u32],
    options: &'s [Vec<Vector>],
    weight: &'s dyn Fn(usize) -> f64,
    enough: &'s dyn Fn(usize, i8) -> bool,
    best: Option<Pattern>,
    budget: usize,
}

impl Search<'_> {
    /// Choose a vector for dimension `d`, given the partial pattern `cells`
    /// (every dimension from `d` on at the target's code) costing `cost`.
    fn descend(&mut self, d: usize, cells: &mut Vec<(usize, i8)>, cost: f64) {
        if d == self.options.len() {
            if self.best.as_ref().is_none_or(|b| cost < b.cost) {
                self.best = Some(Pattern { cells: cells.iter().map(|c| c.0).collect(), signs: cells.iter().map(|c| c.1).collect(), cost });
            }
            return;
        }
        let stride = self.finder.strides[d];
        let here = self.coords[d] as usize * stride;
        let options = self.options;
        for vector in &options[d] {
            let bound = self.best.as_ref().map_or(f64::INFINITY, |b| b.cost);
            if bound == 0.0 || self.budget == 0 {
                return;
            }
            let kept = cells.len();
            let mut total = cost;
            let mut possible = true;
            'grow: for i in 0..kept {
                let (cell, sign) = cells[i];
                let base = cell - here;
                for &(node, s) in &vector[1..] {
                    let c = base + node as usize * stride;
                    self.budget = self.budget.saturating_sub(1);
                    total += (self.weight)(c);
                    if !(self.enough)(c, sign * s) || total >= bound {
                        possible = false;
                        break 'grow;
                    }
                    cells.push((c, sign * s));
                }
            }
            if possible {
                self.descend(d + 1, cells, total);
            }
            cells.truncate(kept);
        }
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
