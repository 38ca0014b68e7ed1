//! The attacker on regions of a large table: verdicts without an LP over
//! the whole of it.
//!
//! A sensitive cell's protection after `modular` is a flow through its own
//! subtable and the ones holding that subtable's margins, not a hypercube
//! pattern; the whole table's attacker finds it, but each of its sweeps is
//! an LP over every hidden cell (B4, 103k linked cells: about 20 s a sweep).
//! Here the cells are grouped by region: in each dimension with many codes,
//! the code's branch at the level where the hierarchy first branches (a
//! department and everything under it), with that level and the ones above
//! it; dimensions with few codes are taken whole. A region holds its targets' subtables and the
//! ones above them. Two attackers over a region's hidden cells and every
//! constraint they are in decide most targets exactly:
//!
//! - *inner*: every cell outside the region held at its true value. Each
//!   solution is a table the whole attacker cannot rule out either, so a
//!   target reaching its levels here reaches them in the whole table.
//! - *outer*: hidden cells outside the region free, the constraints that
//!   hold none of the region's hidden cells dropped: a relaxation, so a
//!   target short of its levels here is short of them in the whole table.
//!
//! A target neither decides is left to the whole table's attacker, so the
//! verdicts, and the cells hidden after them, are the whole table's.
//! (Dantzig-Wolfe-like splits are exact but need the whole LP's duals;
//! these need nothing beyond the region.)

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use super::witness::Witnesses;
use super::Attacker;
use crate::error::Fallible;
use crate::table::{Additive, Constraint, Dimension};

/// Tables of more cells than this are judged by regions first (on smaller
/// ones the whole table's attacker is as quick).
pub const REGIONS_ABOVE: usize = 2_000;

/// A dimension with more codes than this is split into regions.
const SMALL_DIMENSION: usize = 64;

/// A region with more than this share of the table's cells is left to the
/// whole table's attacker (a target at a total spans the table anyway).
const LARGEST_REGION: f64 = 0.25;

/// Per target of `targets` (cell, low, high): whether the region attackers
/// show it reaches both `low` and `high` (`safe`) or shows it cannot
/// (`exposed`); both false when neither decides. The table's values are
/// the true ones (protect time). Targets not judged by `until` stay
/// undecided. The inner attackers' solutions are tables the whole attacker
/// cannot rule out: kept in `book` when there is one (see [`super::witness`]).
pub fn judge(
    table: &dyn Additive,
    published: &[Option<i64>],
    targets: &[(usize, i64, i64)],
    until: Option<std::time::Instant>,
    book: Option<&Arc<Witnesses>>,
) -> Fallible<(Vec<bool>, Vec<bool>)> {
    judge_regions(table, published, targets, until, (SMALL_DIMENSION, LARGEST_REGION), Centre::Truth(book))
}

/// [`judge`], splitting every dimension with more than `small` codes and
/// judging regions of up to `largest` of the table's cells (tests judge
/// small tables with it).
pub fn judge_splitting(
    table: &dyn Additive,
    published: &[Option<i64>],
    targets: &[(usize, i64, i64)],
    until: Option<std::time::Instant>,
    small: usize,
    largest: f64,
) -> Fallible<(Vec<bool>, Vec<bool>)> {
    judge_regions(table, published, targets, until, (small, largest), Centre::Truth(None))
}

/// Per target of `targets` (cell, low, high): whether the region attackers
/// show it reaches both `low` and `high`, on a publication whose true
/// values are unknown (`amparo audit`). The inner attackers hold the cells
/// outside their region at `centre` (one value per cell), a table the
/// attacker cannot rule out (`amparo audit` takes the interior point's,
/// see [`super::interior_table`]): each solution is then one too, as at
/// protect time. There is no outer attacker here (it
/// needs no true table, but its verdicts prove only findings, which the
/// whole table's attacker gives with their intervals). `centre` serves
/// best away from the bounds, where cells have room to move both ways.
pub fn judge_around(table: &dyn Additive, published: &[Option<i64>], targets: &[(usize, i64, i64)], until: Option<std::time::Instant>, centre: &[f64]) -> Fallible<Vec<bool>> {
    judge_around_splitting(table, published, targets, until, centre, SMALL_DIMENSION, LARGEST_REGION)
}

/// [`judge_around`], splitting as [`judge_splitting`] does.
pub fn judge_around_splitting(
    table: &dyn Additive,
    published: &[Option<i64>],
    targets: &[(usize, i64, i64)],
    until: Option<std::time::Instant>,
    centre: &[f64],
    small: usize,
    largest: f64,
) -> Fallible<Vec<bool>> {
    judge_regions(table, published, targets, until, (small, largest), Centre::Table(centre)).map(|(safe, _)| safe)
}

/// The table the cells outside a region are held at.
#[derive(Clone, Copy)]
enum Centre<'a> {
    /// The true one (protect time), with the book the inner attackers'
    /// solutions are kept in, if any.
    Truth(Option<&'a Arc<Witnesses>>),
    /// A table the attacker cannot rule out (a publication's audit).
    Table(&'a [f64]),
}

/// [`judge`], splitting every dimension with more than `small` codes and
/// judging regions of up to `largest` of the table's cells.
fn judge_regions(
    table: &dyn Additive,
    published: &[Option<i64>],
    targets: &[(usize, i64, i64)],
    until: Option<std::time::Instant>,
    (small, largest): (usize, f64),
    centre: Centre<'_>,
) -> Fallible<(Vec<bool>, Vec<bool>)> {
    let mut safe = vec![false; targets.len()];
    let mut exposed = vec![false; targets.len()];
    let Some(keys) = region_keys(table, small) else { return Ok((safe, exposed)) };
    let constraints = table.constraints();
    let of_cell = super::constraints_of_cells(&constraints, table.len());
    // Small regions first; what they leave undecided, in larger ones
    // (the dimensions with fewest codes no longer split).
    let started = std::time::Instant::now();
    for split in (1..=keys.split).rev() {
        let mut groups: BTreeMap<Vec<u32>, Vec<usize>> = BTreeMap::new();
        for (t, &(cell, _, _)) in targets.iter().enumerate().filter(|&(t, target)| published[target.0].is_none() && !safe[t] && !exposed[t]) {
            groups.entry(keys.of(cell)[..split].iter().map(|&k| k & !TOP).collect()).or_default().push(t);
        }
        let groups: Vec<(Vec<u32>, Vec<usize>)> = groups.into_iter().collect();
        let context = Context { table, published, constraints: &constraints, of_cell: &of_cell, keys: &keys, until, largest, centre };
        // Regions are independent: one share on each core.
        let verdicts = std::thread::scope(|scope| -> Fallible<Vec<(usize, bool, bool)>> {
            let context = &context;
            let targets_of = |share: usize| -> Vec<Group<'_>> {
                groups.iter().skip(share).step_by(2).map(|(key, ts)| (key.as_slice(), ts.iter().map(|&t| (t, targets[t])).collect())).collect()
            };
            let (first, second) = (targets_of(0), targets_of(1));
            let other = scope.spawn(move || context.judge_all(&second));
            let mut verdicts = context.judge_all(&first)?;
            verdicts.extend(other.join().map_err(|_| crate::err!(Infeasible, "the region attackers failed on their second core"))??);
            Ok(verdicts)
        })?;
        for (t, is_safe, is_exposed) in verdicts {
            safe[t] = is_safe;
            exposed[t] = is_exposed;
        }
        if std::env::var_os("AMPARO_DEBUG").is_some() {
            eprintln!("regions split by {split} dimensions: {} groups, {} safe so far, {:.1?}", groups.len(), safe.iter().filter(|&&s| s).count(), started.elapsed());
        }
    }
    Ok((safe, exposed))
}

/// A region's key and its targets: (index among the caller's targets, the target).
type Group<'k> = (&'k [u32], Vec<(usize, (usize, i64, i64))>);

struct Context<'a> {
    table: &'a dyn Additive,
    published: &'a [Option<i64>],
    constraints: &'a [Constraint],
    of_cell: &'a [Vec<u32>],
    keys: &'a RegionKeys,
    until: Option<std::time::Instant>,
    largest: f64,
    centre: Centre<'a>,
}

impl Context<'_> {
    /// Verdicts (target index, safe, exposed) for each region's targets.
    fn judge_all(&self, groups: &[Group<'_>]) -> Fallible<Vec<(usize, bool, bool)>> {
        let mut verdicts = Vec::new();
        for (key, targets) in groups {
            if self.until.is_some_and(|t| std::time::Instant::now() >= t) {
                break;
            }
            match self.judge_region(key, targets) {
                Ok(region) => verdicts.extend(region),
                // An LP stopped by the time limit: the region's targets stay undecided.
                Err(_) if self.until.is_some_and(|t| std::time::Instant::now() >= t) => break,
                // A region held at a centre the LP solver finds a hair off
                // its constraints: its targets go to the whole table's attacker.
                Err(_) if matches!(self.centre, Centre::Table(_)) => continue,
                Err(e) => return Err(e),
            }
        }
        Ok(verdicts)
    }

    fn judge_region(&self, key: &[u32], targets: &[(usize, (usize, i64, i64))]) -> Fallible<Vec<(usize, bool, bool)>> {
        let n = self.table.len();
        let hidden: Vec<usize> = (0..n).filter(|&c| self.published[c].is_none() && self.keys.holds(key, c)).collect();
        if hidden.len() as f64 > self.largest * n as f64 {
            return Ok(Vec::new());
        }
        let mut rows: Vec<u32> = hidden.iter().flat_map(|&c| self.of_cell[c].iter().copied()).collect();
        rows.sort_unstable();
        rows.dedup();
        let mut local: HashMap<usize, usize> = hidden.iter().enumerate().map(|(i, &c)| (c, i)).collect();
        let mut cells = hidden.clone();
        let mut constraints = Vec::with_capacity(rows.len());
        for &k in &rows {
            let con = &self.constraints[k as usize];
            let mut index = |c: usize| {
                *local.entry(c).or_insert_with(|| {
                    cells.push(c);
                    cells.len() - 1
                })
            };
            let total = index(con.total);
            let parts = con.parts.iter().map(|&p| index(p)).collect();
            constraints.push(Constraint { dimension: con.dimension, total, parts });
        }
        let values = self.table.values();
        let region = Region { table: self.table, values: cells.iter().map(|&c| values[c]).collect(), cells, constraints };
        let inside = hidden.len();
        let mut local_targets: Vec<(usize, i64, i64)> = targets.iter().map(|&(_, (cell, low, high))| (local[&cell], low, high)).collect();
        let mut inner_attacker = match self.centre {
            Centre::Truth(book) => {
                let inner: Vec<Option<i64>> = (0..region.cells.len()).map(|i| (i >= inside).then(|| values[region.cells[i]])).collect();
                let mut inner_attacker = Attacker::until(&region, &inner, self.until)?;
                inner_attacker.keep_in(book, Some(&region.cells));
                inner_attacker.saw(|i| region.values[i]);
                inner_attacker.settle(&region, &inner, &mut local_targets)?;
                inner_attacker
            }
            Centre::Table(centre) => {
                let held: Vec<Option<f64>> = (0..region.cells.len()).map(|i| (i >= inside).then(|| centre[region.cells[i]])).collect();
                let mut inner_attacker = Attacker::fixing(&region, &held, self.until)?;
                inner_attacker.saw_between(|i| (centre[region.cells[i]], centre[region.cells[i]]));
                inner_attacker.explore(&local_targets)?;
                inner_attacker
            }
        };
        let mut left: Vec<(usize, i64, i64)> = Vec::new();
        for &(i, low, high) in &local_targets {
            if !inner_attacker.reaches(i, low, high)? {
                left.push((i, low, high));
            }
        }
        drop(inner_attacker);
        let mut short = std::collections::HashSet::new();
        if !left.is_empty() && matches!(self.centre, Centre::Truth(_)) {
            let outer: Vec<Option<i64>> = region.cells.iter().map(|&c| self.published[c]).collect();
            let mut outer_attacker = Attacker::until(&region, &outer, self.until)?;
            for &(i, low, high) in &left {
                if !outer_attacker.reaches(i, low, high)? {
                    short.insert(i);
                }
            }
        }
        let undecided: std::collections::HashSet<usize> = left.iter().map(|t| t.0).collect();
        Ok(targets
            .iter()
            .map(|&(t, (cell, _, _))| {
                let i = local[&cell];
                (t, !undecided.contains(&i), short.contains(&i))
            })
            .collect())
    }
}

/// A region's cells as a table of their own: its hidden cells, every
/// constraint they are in, and the other cells of those constraints.
struct Region<'a> {
    table: &'a dyn Additive,
    /// The table's index of each of the region's cells.
    cells: Vec<usize>,
    values: Vec<i64>,
    constraints: Vec<Constraint>,
}

impl Additive for Region<'_> {
    fn len(&self) -> usize {
        self.cells.len()
    }
    fn values(&self) -> &[i64] {
        &self.values
    }
    fn constraints(&self) -> Vec<Constraint> {
        self.constraints.clone()
    }
    fn describe(&self, cell: usize) -> String {
        self.table.describe(self.cells[cell])
    }
    fn headlines(&self) -> Vec<bool> {
        vec![false; self.cells.len()]
    }
}

/// Marks, in a cell's key, a code at the total or the first level.
const TOP: u32 = 1 << 31;

/// Each cell's region key: per dimension with many codes (most codes
/// first), the cell's branch at the level where the dimension first
/// branches, with [`TOP`] for cells at that level or above (the total for
/// those above: their region spans every branch).
struct RegionKeys {
    /// Per cell, one entry per split dimension.
    keys: Vec<u32>,
    split: usize,
    /// Per split dimension: its total's node.
    roots: Vec<u32>,
}

impl RegionKeys {
    fn of(&self, cell: usize) -> &[u32] {
        &self.keys[cell * self.split..(cell + 1) * self.split]
    }

    /// Whether the region of `key` (the first dimensions' entries of a
    /// cell's key, without [`TOP`]) holds `cell`: in each of them the cell
    /// is at the branching level or above (the subtable above every branch:
    /// a branch's protection runs through its siblings' totals) or in the
    /// key's branch (every code, where the key is the total).
    fn holds(&self, key: &[u32], cell: usize) -> bool {
        self.of(cell).iter().zip(key).zip(&self.roots).all(|((&own, &k), &root)| k == root || own & TOP != 0 || own == k)
    }
}

/// The region keys of every cell of `table` (one cube, or linked tables
/// whose dimensions of one name have the same codes); `None` when no
/// dimension has enough codes to split, or the tables' codes differ.
fn region_keys(table: &dyn Additive, small: usize) -> Option<RegionKeys> {
    let parts: Vec<(&crate::table::Cube, Vec<usize>)> = match (table.as_cube(), table.as_linked()) {
        (Some(cube), _) => vec![(cube, (0..cube.len()).collect())],
        (None, Some(linked)) => linked.cubes.iter().zip(&linked.linked).map(|(cube, ids)| (cube, ids.clone())).collect(),
        (None, None) => return None,
    };
    let mut split: Vec<(&Dimension, u32)> = Vec::new();
    for (cube, _) in &parts {
        for dim in cube.dims() {
            match split.iter().find(|(d, _)| d.name == dim.name) {
                Some((known, _)) if known.hierarchy != dim.hierarchy => return None,
                Some(_) => {}
                None if dim.hierarchy.len() > small => split.extend(branch_level(&dim.hierarchy).map(|level| (dim, level))),
                None => {}
            }
        }
    }
    if split.is_empty() {
        return None;
    }
    split.sort_by_key(|(d, _)| std::cmp::Reverse(d.hierarchy.len()));
    // Per split dimension and node: its branch (its ancestor at the
    // branching level), or, at or above that level, itself with TOP (the
    // total where it is above: its region spans every branch).
    let first_level: Vec<Vec<u32>> = split
        .iter()
        .map(|(dim, level)| {
            let h = &dim.hierarchy;
            (0..h.len() as u32)
                .map(|own| match h.depth(own) {
                    d if d < *level => h.root() | TOP,
                    d if d == *level => own | TOP,
                    _ => {
                        let mut node = own;
                        while h.depth(node) > *level {
                            node = h.parent(node).unwrap_or(node);
                        }
                        node
                    }
                })
                .collect()
        })
        .collect();
    let roots: Vec<u32> = split.iter().map(|(d, _)| d.hierarchy.root()).collect();
    let mut keys = vec![0u32; table.len() * split.len()];
    for (cube, ids) in &parts {
        let position: Vec<Option<usize>> = split.iter().map(|(s, _)| cube.dims().iter().position(|d| d.name == s.name)).collect();
        for (local, &id) in ids.iter().enumerate() {
            for (k, at) in position.iter().enumerate() {
                keys[id * split.len() + k] = at.map_or(roots[k] | TOP, |d| first_level[k][cube.coord(local, d) as usize]);
            }
        }
    }
    Some(RegionKeys { keys, split: split.len(), roots })
}

/// The level at which a hierarchy first branches (the shallowest depth
/// with two codes or more: a country level above the departments does
/// not), when codes lie below it; `None` for a flat or unbranched one.
fn branch_level(h: &crate::hierarchy::Hierarchy) -> Option<u32> {
    let deepest = (0..h.len() as u32).map(|n| h.depth(n)).max()?;
    let level = (1..deepest).find(|&d| (0..h.len() as u32).filter(|&n| h.depth(n) == d).count() >= 2)?;
    Some(level)
}
