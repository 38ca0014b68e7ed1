//! `modular`: the protection LPs of `optimal` run on small subtables of a
//! hierarchical table instead of the whole of it, as tau-Argus's modular
//! method (HiTaS: de Wolf 2002, "HiTaS: a heuristic approach to cell
//! suppression in hierarchical tables", Inference Control in Statistical
//! Databases, LNCS 2316; the tau-Argus manual's Modular method).
//!
//! A subtable takes one node with children from each dimension (its head)
//! and holds the cells whose every coordinate is that head or one of its
//! children: a table without hierarchy, with its own margins. Every
//! additivity constraint of the whole table lies in some subtable, and every
//! cell belongs to one to 2^dimensions subtables; it is decided first by the
//! subtable that holds it below its heads (its owner, the one nearest the
//! top), and the others, further down, hold it as one of their margins.
//!
//! Subtables are protected top-down (by the summed depth of their heads):
//! a sensitive cell, or a hidden cell the outsider's promise gave levels,
//! is a target in every subtable holding it, and a margin published above costs more
//! to hide below (`SETTLED_PENALTY`). When a subtable still hides a cell
//! another subtable holds, or gives one protection levels, every subtable
//! holding it is looked at again (HiTaS's backtracking); hidden cells and
//! levels only grow, so this ends. Subtables at one depth share only cells
//! decided above them, so they run side by side on every core.
//!
//! Linked tables (tables sharing cells) are decomposed table by table, and
//! a shared cell's subtables in every table are requeued when it changes.
//!
//! Certificates glued across subtables need not agree on the cells they
//! share, so the caller checks the whole table with the attacker afterwards
//! and repairs the cells still exposed with protection LPs on each one's
//! neighbourhood, widening to the whole table only when none fits there
//! (`lp::Reach::Neighbourhood`; on bench "mid" 2-5 of 1,500 sensitive cells). Rejected: carrying how far each
//! certificate moved a shared cell down as protection levels of that cell
//! (exact gluing in the limit): 6% more hidden cells on "mid" and 6% more
//! secondaries over 40 random tables, for repairs the check does cheaply.

use std::collections::BTreeSet;

use super::lp::{protect_cells, Reach, Steering};
use super::Deadline;
use crate::error::Fallible;
use crate::marks::CellMarks;
use crate::policy::CostKind;
use crate::rules::OutsiderPromise;
use crate::table::{Additive, Constraint, Cube};

/// The subtables of a cube, numbered in mixed radix over each dimension's heads.
struct Subtables<'a> {
    cube: &'a Cube,
    /// Per dimension: the nodes that head a subtable (those with children,
    /// or the root alone in a dimension that has a single code).
    heads: Vec<Vec<u32>>,
    /// Per dimension and node: its index among the heads (when it is one).
    head_index: Vec<Vec<u32>>,
    count: usize,
}

impl<'a> Subtables<'a> {
    fn new(cube: &'a Cube) -> Subtables<'a> {
        let mut heads = Vec::new();
        let mut head_index = Vec::new();
        for dim in cube.dims() {
            let h = &dim.hierarchy;
            let mut own: Vec<u32> = (0..h.len() as u32).filter(|&n| !h.is_leaf(n)).collect();
            if own.is_empty() {
                own.push(h.root());
            }
            let mut index = vec![u32::MAX; h.len()];
            for (k, &node) in own.iter().enumerate() {
                index[node as usize] = k as u32;
            }
            heads.push(own);
            head_index.push(index);
        }
        let count = heads.iter().map(Vec::len).product();
        Subtables { cube, heads, head_index, count }
    }

    /// The head node of subtable `id` in each dimension (the last dimension varies fastest).
    fn heads_of(&self, mut id: usize) -> Vec<u32> {
        let mut out = vec![0; self.heads.len()];
        for d in (0..self.heads.len()).rev() {
            out[d] = self.heads[d][id % self.heads[d].len()];
            id /= self.heads[d].len();
        }
        out
    }

    fn id_of(&self, indices: impl Iterator<Item = u32>) -> usize {
        indices.zip(&self.heads).fold(0, |id, (k, heads)| id * heads.len() + k as usize)
    }

    /// How far down the table subtable `id` lies: its heads' summed depth.
    fn depth(&self, id: usize) -> u32 {
        self.heads_of(id).iter().zip(self.cube.dims()).map(|(&node, dim)| dim.hierarchy.depth(node)).sum()
    }

    /// Every subtable holding `cell`: in each dimension, its own node (when
    /// it heads subtables) or its parent.
    fn containing(&self, cell: usize) -> Vec<usize> {
        let options: Vec<Vec<u32>> = self
            .cube
            .dims()
            .iter()
            .enumerate()
            .map(|(d, dim)| {
                let node = self.cube.coord(cell, d);
                let own = Some(self.head_index[d][node as usize]).filter(|&k| k != u32::MAX && !dim.hierarchy.is_leaf(node));
                let parent = dim.hierarchy.parent(node).map(|p| self.head_index[d][p as usize]);
                let mut found: Vec<u32> = own.into_iter().chain(parent).collect();
                if found.is_empty() {
                    found.push(0);
                }
                found
            })
            .collect();
        let mut ids = vec![0usize];
        for (d, opts) in options.iter().enumerate() {
            ids = ids.iter().flat_map(|&id| opts.iter().map(move |&k| id * self.heads[d].len() + k as usize)).collect();
        }
        ids
    }

    /// The subtable that decides `cell` first: the one holding it below its
    /// heads wherever it can (the nearest the top of those holding it).
    fn owner(&self, cell: usize) -> usize {
        self.id_of(self.cube.dims().iter().enumerate().map(|(d, dim)| {
            let node = self.cube.coord(cell, d);
            let head = dim.hierarchy.parent(node).unwrap_or(node);
            self.head_index[d][head as usize]
        }))
    }

    /// Subtable `id`, its cells named by `ids` (a linked table's cells
    /// among all the linked cells; None for a table on its own).
    fn build(&self, id: usize, ids: Option<&[usize]>, headlines: &[bool]) -> Subtable<'a> {
        let cube = self.cube;
        let axes: Vec<Vec<u32>> = self
            .heads_of(id)
            .into_iter()
            .zip(cube.dims())
            .map(|(head, dim)| std::iter::once(head).chain(dim.hierarchy.children(head).iter().copied()).collect())
            .collect();
        let shape: Vec<usize> = axes.iter().map(Vec::len).collect();
        let mut strides = vec![1usize; shape.len()];
        for d in (0..shape.len().saturating_sub(1)).rev() {
            strides[d] = strides[d + 1] * shape[d + 1];
        }
        let len: usize = shape.iter().product();
        let cube_cells: Vec<usize> = (0..len)
            .map(|k| (0..shape.len()).map(|d| axes[d][(k / strides[d]) % shape[d]] as usize * cube.strides()[d]).sum())
            .collect();
        let cells: Vec<usize> = match ids {
            Some(ids) => cube_cells.iter().map(|&c| ids[c]).collect(),
            None => cube_cells.clone(),
        };
        let mut constraints = Vec::new();
        for d in (0..shape.len()).filter(|&d| shape[d] > 1) {
            for k in (0..len).filter(|&k| (k / strides[d]) % shape[d] == 0) {
                constraints.push(Constraint { dimension: d, total: k, parts: (1..shape[d]).map(|j| k + j * strides[d]).collect() });
            }
        }
        Subtable {
            cube,
            shape,
            values: cube_cells.iter().map(|&c| cube.value(c)).collect(),
            headlines: cells.iter().map(|&c| headlines[c]).collect(),
            cube_cells,
            cells,
            constraints,
        }
    }
}

/// The subtables of every table being protected (one, or each of a set
/// of linked tables), numbered one after the other.
struct Layout<'a> {
    tables: Vec<(Subtables<'a>, Option<&'a [usize]>)>,
    /// The number of the first subtable of each table.
    offsets: Vec<usize>,
    count: usize,
    /// Linked tables: per linked cell, each (table, cell of its cube) it is.
    appears: Vec<Vec<(usize, usize)>>,
}

impl<'a> Layout<'a> {
    fn new(parts: Vec<(&'a Cube, Option<&'a [usize]>)>, cells: usize) -> Layout<'a> {
        let mut appears = Vec::new();
        if parts.iter().any(|(_, ids)| ids.is_some()) {
            appears = vec![Vec::new(); cells];
            for (t, (cube, ids)) in parts.iter().enumerate() {
                for c in 0..cube.len() {
                    appears[ids.map_or(c, |ids| ids[c])].push((t, c));
                }
            }
        }
        let tables: Vec<(Subtables<'a>, Option<&'a [usize]>)> = parts.into_iter().map(|(cube, ids)| (Subtables::new(cube), ids)).collect();
        let mut offsets = Vec::with_capacity(tables.len());
        let mut count = 0;
        for (subtables, _) in &tables {
            offsets.push(count);
            count += subtables.count;
        }
        Layout { tables, offsets, count, appears }
    }

    /// (table, subtable of its cube) of subtable `global`.
    fn locate(&self, global: usize) -> (usize, usize) {
        let t = self.offsets.partition_point(|&o| o <= global) - 1;
        (t, global - self.offsets[t])
    }

    fn depth(&self, global: usize) -> u32 {
        let (t, id) = self.locate(global);
        self.tables[t].0.depth(id)
    }

    fn build(&self, global: usize, headlines: &[bool]) -> Subtable<'a> {
        let (t, id) = self.locate(global);
        self.tables[t].0.build(id, self.tables[t].1, headlines)
    }

    /// Each (table, cube cell) that `cell` is.
    fn occurrences(&self, cell: usize) -> Vec<(usize, usize)> {
        if self.appears.is_empty() {
            vec![(0, cell)]
        } else {
            self.appears[cell].clone()
        }
    }

    /// Every subtable, of every table, holding `cell`.
    fn containing(&self, cell: usize) -> Vec<usize> {
        self.occurrences(cell).into_iter().flat_map(|(t, c)| self.tables[t].0.containing(c).into_iter().map(move |id| self.offsets[t] + id)).collect()
    }

    /// The subtable protected first of those holding `cell`.
    fn owner(&self, cell: usize) -> usize {
        self.occurrences(cell)
            .into_iter()
            .map(|(t, c)| self.offsets[t] + self.tables[t].0.owner(c))
            .min_by_key(|&global| (self.depth(global), global))
            .expect("every cell is in some table")
    }
}

/// One subtable: its cells (in its cube, and in the table being
/// protected), values and constraints.
struct Subtable<'a> {
    cube: &'a Cube,
    /// Codes per axis: the head, then its children (cells in row-major order).
    shape: Vec<usize>,
    cube_cells: Vec<usize>,
    cells: Vec<usize>,
    values: Vec<i64>,
    constraints: Vec<Constraint>,
    headlines: Vec<bool>,
}

impl Additive for Subtable<'_> {
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
        self.cube.describe(self.cube_cells[cell])
    }
    fn headlines(&self) -> Vec<bool> {
        self.headlines.clone()
    }
}

/// A subtable's cells and their marks after its protection (None: it had nothing to protect).
type SubtableOutcome = Fallible<Option<(Vec<usize>, CellMarks)>>;

/// What one subtable's protection needs besides its own cells.
struct Run<'a> {
    layout: &'a Layout<'a>,
    headlines: &'a [bool],
    reason: &'a str,
    cost_kind: CostKind,
    forced_published: &'a [bool],
    promise: Option<&'a OutsiderPromise>,
    deadline: Deadline,
}

impl Run<'_> {
    /// Protect the sensitive and hidden cells of subtable `id` as `marks`
    /// stand; returns its cells and their marks afterwards, or None when it
    /// has nothing to protect.
    fn protect(&self, id: usize, marks: &CellMarks) -> SubtableOutcome {
        let sub = self.layout.build(id, self.headlines);
        let mut targets: Vec<(usize, i64, i64)> = sub
            .cells
            .iter()
            .enumerate()
            .filter(|&(_, &g)| marks.is_hidden(g))
            .filter_map(|(k, &g)| marks.protection[g].filter(|&(lo, up)| lo > 0 || up > 0).map(|(lo, up)| (k, lo, up)))
            .collect();
        if targets.is_empty() {
            return Ok(None);
        }
        let mut local = marks.select(&sub.cells);
        let forced: Vec<bool> = sub.cells.iter().map(|&g| self.forced_published[g]).collect();
        let settled: Vec<bool> = sub.cells.iter().map(|&g| !marks.is_hidden(g) && self.layout.owner(g) != id).collect();
        let steering = Steering { settled: &settled, shape: &sub.shape };
        // The subtable's attacker knows less than the whole table's, so a
        // hidden cell it can narrow below the outsider's promise is narrowed
        // in the whole table too: kept here, where it is cheap, rather than
        // in rounds over the whole table.
        let mut reached = vec![false; sub.len()];
        loop {
            protect_cells(&sub, &mut local, &targets, self.reason, self.cost_kind, &forced, self.deadline, Reach::Grid(&steering), None)?;
            let Some(promise) = self.promise else { break };
            let before = local.protection.clone();
            if super::protect_outsider_view(&sub, &mut local, promise, &mut reached, self.deadline, None)? == 0 {
                break;
            }
            targets = (0..sub.len()).filter(|&k| local.protection[k] != before[k]).filter_map(|k| local.protection[k].map(|(lo, up)| (k, lo, up))).collect();
        }
        Ok(Some((sub.cells, local)))
    }
}

/// Protect every sensitive cell's levels subtable by subtable (see the
/// module's note). Returns the number of cells hidden; the caller checks
/// the whole table afterwards.
#[allow(clippy::too_many_arguments)]
pub(super) fn protect_by_subtables(
    table: &dyn Additive,
    parts: Vec<(&Cube, Option<&[usize]>)>,
    marks: &mut CellMarks,
    reason: &str,
    cost_kind: CostKind,
    forced_published: &[bool],
    promise: Option<&OutsiderPromise>,
    deadline: Deadline,
) -> Fallible<usize> {
    let layout = Layout::new(parts, table.len());
    let headlines = table.headlines();
    let run = Run { layout: &layout, headlines: &headlines, reason, cost_kind, forced_published, promise, deadline };
    let reason_text: std::sync::Arc<str> = std::sync::Arc::from(reason);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut queue: BTreeSet<(u32, usize)> = (0..layout.count).map(|id| (layout.depth(id), id)).collect();
    let mut hidden_now = 0;
    let mut solved = 0usize;
    while let Some(&(depth, _)) = queue.first() {
        crate::progress::report("protecting subtables", solved as u64, Some((solved + queue.len()) as u64));
        if deadline.passed() {
            return Err(out_of_time(deadline, table, solved, queue.len(), layout.count));
        }
        // Subtables at one depth share only cells decided above them, so
        // they are protected side by side from the same marks, on every
        // core, and merged in a fixed order: the result does not depend on
        // the number of cores.
        let mut batch = Vec::new();
        while queue.first().is_some_and(|&(d, _)| d == depth) {
            batch.extend(queue.pop_first().map(|(_, id)| id));
        }
        let snapshot: &CellMarks = marks;
        let results: Vec<SubtableOutcome> = if threads > 1 && batch.len() > 1 {
            let mut slots: Vec<Option<SubtableOutcome>> = (0..batch.len()).map(|_| None).collect();
            std::thread::scope(|scope| {
                let handles: Vec<_> = (0..threads.min(batch.len()))
                    .map(|t| {
                        let (run, batch) = (&run, &batch);
                        scope.spawn(move || (t..batch.len()).step_by(threads).map(|k| (k, run.protect(batch[k], snapshot))).collect::<Vec<_>>())
                    })
                    .collect();
                for handle in handles {
                    for (k, result) in handle.join().expect("a subtable's protection panicked") {
                        slots[k] = Some(result);
                    }
                }
            });
            slots.into_iter().map(|r| r.expect("every subtable of the batch ran")).collect()
        } else {
            batch.iter().map(|&id| run.protect(id, snapshot)).collect()
        };
        for (position, (&id, result)) in batch.iter().zip(results).enumerate() {
            solved += 1;
            let left = queue.len() + batch.len() - position;
            let Some((cells, local)) = result.map_err(|e| if deadline.passed() { out_of_time(deadline, table, solved - 1, left, layout.count) } else { e })?
            else {
                continue;
            };
            for (k, &g) in cells.iter().enumerate() {
                let mut changed = false;
                if let Some((lo, up)) = local.protection[k].filter(|&p| Some(p) != marks.protection[g]) {
                    let (was_lo, was_up) = marks.protection[g].unwrap_or((0, 0));
                    changed = lo > was_lo || up > was_up;
                    marks.protection.set(g, Some((lo.max(was_lo), up.max(was_up))));
                }
                if local.is_hidden(k) && !marks.is_hidden(g) {
                    marks.hide(g, local.status[k], local.reason[k].clone().unwrap_or_else(|| reason_text.clone()));
                    hidden_now += 1;
                    changed = true;
                }
                if changed {
                    queue.extend(layout.containing(g).into_iter().filter(|&other| other != id).map(|other| (layout.depth(other), other)));
                }
            }
        }
    }
    if std::env::var_os("AMPARO_DEBUG").is_some() {
        eprintln!("modular: {} subtables, {solved} protected (with the ones looked at again), {hidden_now} cells hidden", layout.count);
    }
    Ok(hidden_now)
}

fn out_of_time(deadline: Deadline, table: &dyn Additive, done: usize, left: usize, count: usize) -> crate::Error {
    let progress = format!("method \"modular\" had protected {done} subtables (with the ones looked at again; {left} still to do, of {count})");
    deadline.exceeded(&progress, table.len(), &deadline.faster_methods(table))
}
