//! The protection LPs (Fischetti & Salazar-González 2000, as tau-Argus's
//! optimal method; Hundepool et al. 2012, section 4.4.3): for each sensitive
//! cell, the cheapest set of further cells to hide so that an attacker's
//! interval reaches its protection levels, found as a flow of the cell's
//! change through the table's constraints.

use std::sync::Arc;

use highs::{Col, HighsModelStatus, RowProblem, Sense};

use super::nearby::{Near, Neighbourhoods};
use super::{cost, Deadline, FLOW_EPS};
use crate::attacker::witness::Witnesses;
use crate::attacker::Attacker;
use crate::error::Fallible;
use crate::marks::{CellMarks, Status, HEADLINE_REASON};
use crate::policy::CostKind;
use crate::table::{Additive, Constraint};
use crate::{err, fail};

/// What `modular` (see [`super::modular`]) asks of the protection LPs of one
/// subtable, indexed by the subtable's cells.
pub(super) struct Steering<'a> {
    /// Published by a subtable protected before this one: hiding it sends
    /// work back to that subtable, so it costs [`SETTLED_PENALTY`] times more.
    pub settled: &'a [bool],
    /// The subtable's cells as a grid (row-major, the last axis fastest;
    /// index 0 of each axis is its margin): lets each protection LP start
    /// from a few codes per axis around its target (see [`ProtectionLps`]).
    pub shape: &'a [usize],
}

/// Where each protection LP of [`protect_cells`] looks for its change.
#[derive(Clone, Copy)]
pub(super) enum Reach<'a> {
    /// The whole table: the cheapest change there is (`optimal`).
    Whole,
    /// On a large table, the target's neighbourhood first (see
    /// [`ProtectionLps`]): `modular`'s repairs after its subtables and
    /// the cells `patterns` left. On "medium" (29k cells) `modular` took
    /// 59 s instead of 114 s with 0.3% more secondaries, on B4 (103k
    /// linked cells) 230 s instead of never finishing. Not `optimal`'s:
    /// on "mid" (4,125 cells) it so hid 21% more secondaries.
    Neighbourhood,
    /// One of `modular`'s subtables, on its grid.
    Grid(&'a Steering<'a>),
}

/// What a cell published by an earlier subtable costs, times its own cost:
/// enough that a route inside the subtable wins when one exists, finite
/// because sometimes none does (then the earlier subtable is redone).
const SETTLED_PENALTY: f64 = 20.0;

/// Hide cells until each target's attacker interval reaches `lo` below and
/// `up` above its value; returns the number of cells hidden. `book`: where
/// the attackers here keep the tables they find on `table`, for the phases
/// after (see [`crate::attacker::witness`]).
#[allow(clippy::too_many_arguments)]
pub(super) fn protect_cells(
    table: &dyn Additive,
    marks: &mut CellMarks,
    targets: &[(usize, i64, i64)],
    reason: &str,
    cost_kind: CostKind,
    forced_published: &[bool],
    deadline: Deadline,
    reach: Reach<'_>,
    book: Option<&Arc<Witnesses>>,
) -> Fallible<usize> {
    let n = table.len();
    if targets.is_empty() {
        return Ok(0);
    }
    let values = table.values();
    let constraints = table.constraints();
    let reason: Arc<str> = Arc::from(reason);
    let mut hidden_now = 0;
    // done[k] = (upward protected, downward protected) for targets[k].
    let mut done: Vec<(bool, bool)> = targets.iter().map(|&(_, lo, up)| (up <= 0, lo <= 0)).collect();
    let headlines = table.headlines();
    let mut weights = flow_weights(marks, forced_published, values, cost_kind, &headlines);
    if let Reach::Grid(steering) = reach {
        for (w, _) in weights.iter_mut().zip(steering.settled).filter(|(_, &settled)| settled) {
            *w *= SETTLED_PENALTY;
        }
    }
    let mut lps = ProtectionLps::new(table, &constraints, weights, reach);
    let mut solves = 0usize;
    let mut rounds = 0usize;
    let mut pending: Vec<usize> = (0..targets.len()).collect();
    loop {
        // Which sensitive cells does the current pattern already protect? The
        // attacker's LPs answer that exactly and warm (cheaper than a protection
        // LP), so protection LPs are spent only on cells still exposed.
        pending.retain(|&t| !(done[t].0 && done[t].1));
        crate::progress::report("protecting sensitive cells", (targets.len() - pending.len()) as u64, Some(targets.len() as u64));
        if pending.is_empty() {
            break;
        }
        rounds += 1;
        let clock = std::time::Instant::now();
        let mut unsettled: Vec<(usize, i64, i64)> = pending.iter().map(|&t| (targets[t].0, values[targets[t].0] - targets[t].1, values[targets[t].0] + targets[t].2)).collect();
        // On large tables, attackers over regions of the table decide most
        // cells before the whole table's attacker is built (B4: each of its
        // sweeps took about 20 s). Their verdicts are the whole table's
        // (see `attacker::region`), so the output is the same. (Tables
        // found before settle none here: the cells still to check are the
        // ones shown exposed since, or given new levels by a breach.)
        let mut shown_exposed = std::collections::HashSet::new();
        if n > crate::attacker::region::REGIONS_ABOVE && !matches!(reach, Reach::Grid(_)) {
            let (safe, exposed) = crate::attacker::region::judge(table, &marks.published, &unsettled, deadline.at(), book)?;
            let before = unsettled.len();
            shown_exposed = unsettled.iter().zip(&exposed).filter(|(_, &e)| e).map(|(t, _)| t.0).collect();
            unsettled = unsettled.iter().zip(safe.iter().zip(&exposed)).filter(|(_, (&safe, &exposed))| !safe && !exposed).map(|(&target, _)| target).collect();
            if std::env::var_os("AMPARO_DEBUG").is_some() {
                eprintln!("protection check: of {before} cells, region attackers show {} safe and {} exposed in {:.2?}", safe.iter().filter(|&&s| s).count(), shown_exposed.len(), clock.elapsed());
            }
        }
        let mut attacker = match unsettled.is_empty() {
            true => None,
            false => {
                let mut attacker = Attacker::until(table, &marks.published, deadline.at())
                    .map_err(|e| deadline.blame(e, || out_of_time(deadline, table, format!("{} cells still exposed (or not yet rechecked)", pending.len()), &reason)))?;
                attacker.keep_in(book, None);
                attacker.settle(table, &marks.published, &mut unsettled)?;
                Some(attacker)
            }
        };
        let unsettled: std::collections::HashSet<usize> = unsettled.into_iter().map(|(cell, _, _)| cell).collect();
        let mut exposed = Vec::with_capacity(pending.len());
        for (k, &t) in pending.iter().enumerate() {
            // The attacker's checks of a large linked table take long too: the limit holds here as well.
            if deadline.passed() {
                return Err(out_of_time(deadline, table, format!("{} cells still exposed (or not yet rechecked)", pending.len() - k + exposed.len()), &reason));
            }
            let (cell, lo, up) = targets[t];
            let reaches = match attacker.as_mut() {
                _ if shown_exposed.contains(&cell) => false,
                Some(attacker) if unsettled.contains(&cell) => attacker.reaches(cell, values[cell] - lo, values[cell] + up).map_err(|e| {
                    deadline.blame(e, || out_of_time(deadline, table, format!("{} cells still exposed (or not yet rechecked)", pending.len() - k + exposed.len()), &reason))
                })?,
                _ => true,
            };
            if reaches {
                done[t] = (true, true);
            } else {
                exposed.push(t);
            }
        }
        drop(attacker);
        let checked = clock.elapsed();
        let solves_before = solves;
        pending = exposed;
        // Treat a share of the exposed cells, then look again: their new
        // secondaries often protect the rest.
        let batch = (pending.len() / 2).max(8);
        for &t in pending.iter().take(batch) {
            let (cell, lower_level, upper_level) = targets[t];
            for (up, level) in [(true, upper_level), (false, lower_level)] {
                if (up && done[t].0) || (!up && done[t].1) {
                    continue;
                }
                if deadline.passed() {
                    return Err(out_of_time(deadline, table, format!("{} of {} cells still exposed", pending.len(), targets.len()), &reason));
                }
                solves += 1;
                // An LP stopped by the limit says so the way every other phase does.
                let solved = lps
                    .solve(cell, up, level, deadline.left())
                    .map_err(|e| deadline.blame(e, || out_of_time(deadline, table, format!("{} of {} cells still exposed", pending.len(), targets.len()), &reason)))?;
                let Some(change) = solved else {
                    let forced: Vec<String> = (0..n).filter(|&c| forced_published[c]).map(|c| format!("({})", table.describe(c))).collect();
                    fail!(
                        Infeasible,
                        "cell ({}) cannot be protected by {} {level}{}: no set of hidden cells lets its value move that far{}; \
                         lower its protection level{}",
                        table.describe(cell),
                        if up { "upward" } else { "downward" },
                        if marks.status[cell] == Status::Primary || !reason.contains("sensitive") {
                            ""
                        } else {
                            " (a hidden cell that an outsider cannot tell from a small one gets the small cells' protection)"
                        },
                        if forced.is_empty() { String::new() } else { format!(" while the forced-published cells {} stay published", forced.join(", ")) },
                        if forced.is_empty() { " or allow more cells to be hidden" } else { " or remove cells from [secondary] force_published" }
                    );
                };
                for &(c, _) in &change {
                    if !marks.is_hidden(c) {
                        let reason = if headlines[c] { headline_reason(table, cell) } else { reason.clone() };
                        marks.hide(c, Status::Secondary, reason);
                        lps.hide(c);
                        hidden_now += 1;
                    }
                }
                mark_protected_by(&change, values, targets, &mut done);
            }
        }
        if std::env::var_os("AMPARO_DEBUG").is_some() && n > RESTRICT_ABOVE {
            eprintln!(
                "interval round {rounds} on {n} cells: {} exposed, checked in {checked:.2?}; {} protection LPs in {:.2?} ({} on the whole table)",
                pending.len(),
                solves - solves_before,
                clock.elapsed() - checked,
                lps.whole_so_far
            );
            for (target, up) in lps.unfit.drain(..).take(5) {
                eprintln!("  no neighbourhood held a change of ({}) {}", table.describe(target), if up { "up" } else { "down" });
            }
        }
    }
    if std::env::var_os("AMPARO_DEBUG").is_some() {
        eprintln!(
            "interval: {} sensitive cells, {rounds} rounds, {solves} protection LPs, {hidden_now} secondary cells",
            targets.len()
        );
    }
    Ok(hidden_now)
}

/// The error of protection LPs stopped by the time limit: how far they got,
/// and, for sensitive cells, the methods that would fit.
fn out_of_time(deadline: Deadline, table: &dyn Additive, still: String, reason: &str) -> crate::Error {
    let faster = if reason.contains("sensitive") { deadline.faster_methods(table) } else { String::new() };
    deadline.exceeded(&still, table.len(), &faster)
}

/// What a protection LP charges for flow through each cell: nothing for a
/// hidden cell, its cost for a published one, and a forced-published cell
/// can carry no flow (its weight is infinite).
pub(super) fn flow_weights(marks: &CellMarks, forced_published: &[bool], values: &[i64], cost_kind: CostKind, headlines: &[bool]) -> Vec<f64> {
    (0..values.len())
        .map(|c| match (marks.is_hidden(c), forced_published[c]) {
            (true, _) => 0.0,
            (false, true) => f64::INFINITY,
            (false, false) if headlines[c] => cost(cost_kind, values[c]) * HEADLINE_PENALTY,
            (false, false) => cost(cost_kind, values[c]),
        })
        .collect()
}

/// What a headline figure (the grand total, a first-level total: see
/// [`Additive::headlines`]) costs, times its own cost: the LP routes
/// through it only when every route around it costs more, which at this
/// factor means hiding hundreds of other cells. Not infinite: a table may
/// have no protection without it (a sparse table whose only complement is
/// the national total), and then it is hidden with a reason that says so.
const HEADLINE_PENALTY: f64 = 1_000.0;

/// The reason a headline figure was hidden: which sensitive cell needed it.
pub(super) fn headline_reason(table: &dyn Additive, target: usize) -> Arc<str> {
    Arc::from(format!("{HEADLINE_REASON} of ({})", table.describe(target)))
}

/// Result of one protection LP: the change y as (cell, y) pairs with y != 0.
type Change = Vec<(usize, f64)>;

/// The cheapest change y of the whole table with A y = 0, v + y >= 0 and
/// y[target] = +level (up) or -level, charging every published cell its
/// weight for any flow through it; `None` if there is none.
pub(super) fn protection_lp(
    values: &[i64],
    constraints: &[Constraint],
    weights: &[f64],
    target: usize,
    up: bool,
    level: i64,
    time_left: std::time::Duration,
) -> Fallible<Option<Change>> {
    let everything: Vec<usize> = (0..values.len()).collect();
    restricted_lp(values, constraints.iter(), weights, &everything, target, up, level, time_left)
}

/// Below this many cells a protection LP is solved whole: restricting it gains little.
const RESTRICT_ABOVE: usize = 2_000;

/// The protection LPs of one table. On a large grid (a subtable of
/// `modular`) each LP is first solved on the cells whose every coordinate
/// is the target's, the axis's margin or one of the two codes whose cell
/// next to the target (differing on that axis only) costs least: the
/// hypercubes of HiTaS's own subtable method (de Wolf 2002) and every
/// cheaper change among those cells, at most 4^dimensions cells. Only when
/// no change fits there does the LP widen (eight codes per axis, then
/// more, then the whole subtable). The change found is the cheapest among
/// those cells, not always the subtable's; the whole-table attacker checks
/// the result either way. On B3's subtables of 12,400 and 24,500 cells an
/// LP of the whole took 15-300 ms, one of these about 1 ms. Rejected:
/// pricing the cells left out with the LP's row duals until none could
/// lower the cost (column generation, which ends at the whole LP's
/// optimum): the degenerate duals of these LPs let 2,000-3,300 cells in
/// and each LP took 15-45 ms, no faster than the whole.
///
/// On a large table without a grid (the whole table or linked set after
/// `modular`'s subtables, or a cell `patterns` left) each LP is first
/// solved on the target's neighbourhoods (see [`super::nearby`]), the
/// repair "on that cell's neighbourhood" HiTaS's backtracking makes: a
/// change found there holds every other cell at its value, so it protects
/// the target in the whole table too.
pub(super) struct ProtectionLps<'a> {
    values: &'a [i64],
    constraints: &'a [Constraint],
    weights: Vec<f64>,
    /// The grid's codes per axis (row-major, the last axis fastest; code 0
    /// of each axis is its margin) when LPs are restricted.
    shape: Option<&'a [usize]>,
    /// When LPs start on neighbourhoods (a large table without a grid).
    nearby: Option<Neighbourhoods<'a>>,
    /// The neighbourhoods tried, in order ([`super::nearby::TRIED`]; tests try smaller ones).
    tried: &'static [Near],
    /// LPs solved on the whole table so far (none fitted a grid or neighbourhood).
    whole_so_far: usize,
    /// The targets (and directions) whose change no neighbourhood held, for `AMPARO_DEBUG`.
    unfit: Vec<(usize, bool)>,
}

impl<'a> ProtectionLps<'a> {
    pub(super) fn new(table: &'a dyn Additive, constraints: &'a [Constraint], weights: Vec<f64>, reach: Reach<'a>) -> ProtectionLps<'a> {
        let values = table.values();
        let large = values.len() > RESTRICT_ABOVE;
        let (shape, nearby) = match reach {
            Reach::Grid(steering) if large => (Some(steering.shape), None),
            Reach::Neighbourhood if large => (None, Some(Neighbourhoods::new(table, constraints))),
            _ => (None, None),
        };
        ProtectionLps { values, constraints, weights, shape, nearby, tried: &super::nearby::TRIED, whole_so_far: 0, unfit: Vec::new() }
    }

    /// Flow through hidden `cell` costs nothing from now on.
    pub(super) fn hide(&mut self, cell: usize) {
        if self.weights[cell].is_finite() {
            self.weights[cell] = 0.0;
        }
    }

    /// A cheapest change moving `target` up (or down) by `level`; `None`
    /// when no change can.
    pub(super) fn solve(&mut self, target: usize, up: bool, level: i64, time_left: std::time::Duration) -> Fallible<Option<Change>> {
        let started = std::time::Instant::now();
        if let Some(neighbourhoods) = &self.nearby {
            let mut tried = (0, 0);
            for &near in self.tried {
                let Some((cells, rows)) = neighbourhoods.cells(near, target, &self.weights, self.values) else { continue };
                // More codes per family than any family has: the same cells again.
                if (cells.len(), rows.len()) == tried {
                    continue;
                }
                tried = (cells.len(), rows.len());
                let left = time_left.saturating_sub(started.elapsed());
                let change = restricted_lp(self.values, rows.iter().map(|&r| &self.constraints[r]), &self.weights, &cells, target, up, level, left)?;
                if change.is_some() {
                    return Ok(change);
                }
            }
        }
        let Some(shape) = self.shape else {
            self.whole_so_far += 1;
            if self.nearby.is_some() {
                self.unfit.push((target, up));
            }
            let left = time_left.saturating_sub(started.elapsed());
            return protection_lp(self.values, self.constraints, &self.weights, target, up, level, left);
        };
        let mut codes = 2;
        loop {
            let cells = self.neighbourhood(shape, target, codes);
            let left = time_left.saturating_sub(started.elapsed());
            let change = restricted_lp(self.values, self.constraints.iter(), &self.weights, &cells, target, up, level, left)?;
            if change.is_some() || cells.len() == self.values.len() {
                self.whole_so_far += usize::from(cells.len() == self.values.len());
                return Ok(change);
            }
            codes *= 4;
        }
    }

    /// The cells whose every coordinate is the target's own, its axis's
    /// margin, or one of the `codes` codes whose cell next to the target
    /// costs least (ties: the first code).
    fn neighbourhood(&self, shape: &[usize], target: usize, codes: usize) -> Vec<usize> {
        let mut strides = vec![1usize; shape.len()];
        for d in (0..shape.len().saturating_sub(1)).rev() {
            strides[d] = strides[d + 1] * shape[d + 1];
        }
        let mut cells = vec![0usize];
        for (&len, &stride) in shape.iter().zip(&strides) {
            let own = (target / stride) % len;
            let line = target - own * stride;
            let mut others: Vec<usize> = (1..len).filter(|&j| j != own).collect();
            others.sort_by(|&a, &b| self.weights[line + a * stride].total_cmp(&self.weights[line + b * stride]).then(a.cmp(&b)));
            others.truncate(codes);
            let mut axis: Vec<usize> = [0, own].into_iter().chain(others).collect();
            axis.sort_unstable();
            axis.dedup();
            cells = cells.iter().flat_map(|&c| axis.iter().map(move |&j| c + j * stride)).collect();
        }
        cells
    }
}

/// The protection LP over `cells` only (every other cell's change held at
/// 0); `None` when no such change exists. `constraints` holds at least
/// every constraint with one of `cells` in it.
#[allow(clippy::too_many_arguments)]
fn restricted_lp<'c>(
    values: &[i64],
    constraints: impl Iterator<Item = &'c Constraint>,
    weights: &[f64],
    cells: &[usize],
    target: usize,
    up: bool,
    level: i64,
    time_left: std::time::Duration,
) -> Fallible<Option<Change>> {
    let constraints: Vec<&Constraint> = constraints.collect();
    let build = || {
        let mut pb = RowProblem::default();
        let mut column_of: Vec<Option<(Col, Col)>> = vec![None; values.len()];
        for &c in cells {
            column_of[c] = Some(columns(&mut pb, values, weights, c, target, up, level));
        }
        for con in &constraints {
            let mut terms: Vec<(Col, f64)> = Vec::new();
            if let Some((p, m)) = column_of[con.total] {
                terms.extend([(p, -1.0), (m, 1.0)]);
            }
            for &c in &con.parts {
                if let Some((p, m)) = column_of[c] {
                    terms.extend([(p, 1.0), (m, -1.0)]);
                }
            }
            if !terms.is_empty() {
                pb.add_row(0.0..=0.0, &terms);
            }
        }
        pb
    };
    let Some(solved) = run_lp(build, cells.len(), target, time_left)? else { return Ok(None) };
    let x = solved.get_solution().columns().to_vec();
    Ok(Some(cells.iter().zip(x.chunks_exact(2)).map(|(&c, pm)| (c, pm[0] - pm[1])).filter(|&(_, y)| y.abs() > FLOW_EPS).collect()))
}

/// The rise and fall columns of cell `c`; the target's are fixed at the level.
fn columns(pb: &mut RowProblem, values: &[i64], weights: &[f64], c: usize, target: usize, up: bool, level: i64) -> (Col, Col) {
    if c == target {
        let l = level as f64;
        if up {
            (pb.add_column(0.0, l..=l), pb.add_column(0.0, 0.0..=0.0))
        } else {
            (pb.add_column(0.0, 0.0..=0.0), pb.add_column(0.0, l..=l))
        }
    } else if weights[c].is_infinite() {
        (pb.add_column(0.0, 0.0..=0.0), pb.add_column(0.0, 0.0..=0.0))
    } else {
        (pb.add_column(weights[c], 0.0..), pb.add_column(weights[c], 0.0..=values[c] as f64))
    }
}

fn on_off(on: bool) -> &'static str {
    if on {
        "on"
    } else {
        "off"
    }
}

/// Solve the LP `build` makes within `time_left` (one LP of a large linked
/// table can take minutes); `None` when infeasible. `build` runs a second
/// time only when the first solve ends in a solver error.
pub(super) fn run_lp(build: impl Fn() -> RowProblem, cells: usize, target: usize, time_left: std::time::Duration) -> Fallible<Option<highs::SolvedModel>> {
    let clock = std::time::Instant::now();
    let model = |presolve: bool| {
        let mut model = build().optimise(Sense::Minimise);
        model.make_quiet();
        model.set_option("time_limit", time_left.saturating_sub(clock.elapsed()).as_secs_f64().max(1e-3));
        if !presolve {
            model.set_option("presolve", "off");
        }
        model
    };
    // Without presolve a small table's LP takes a third of the time (1.4k
    // cells: 3 ms instead of 10 ms); a large one's takes far longer (29k
    // cells: 34 s instead of 6 s), so presolve is kept above 5,000 cells.
    let presolve = cells > 5_000;
    // HiGHS 1.15's presolve can end in an error on a model it solves
    // without (B2: a 25,920-cell subtable's LP, which HiGHS 1.16 solves
    // with presolve too): such an LP is solved again the other way.
    let solved = match model(presolve).try_solve() {
        Ok(solved) => solved,
        Err(first) => {
            if std::env::var_os("AMPARO_DEBUG").is_some() {
                eprintln!("protection LP for cell #{target} over {cells} cells: HiGHS {first:?} with presolve {}; solved again with it {}", on_off(presolve), on_off(!presolve));
            }
            model(!presolve)
                .try_solve()
                .map_err(|e| err!(Infeasible, "the LP solver failed during secondary suppression (a protection LP over {cells} cells ended in {first:?}, and in {e:?} when solved again); try another [secondary] method (\"patterns\" or \"fast\" on a single table)"))?
        }
    };
    match solved.status() {
        HighsModelStatus::Optimal => Ok(Some(solved)),
        HighsModelStatus::Infeasible | HighsModelStatus::UnboundedOrInfeasible => Ok(None),
        HighsModelStatus::ReachedTimeLimit => fail!(
            Infeasible,
            "secondary suppression did not finish within [secondary] time_limit: a protection LP over {cells} cells ran past it; \
             raise time_limit, use method = \"fast\" (single tables), or publish a smaller table"
        ),
        other => fail!(Infeasible, "secondary suppression LP for cell #{target} ended with status {other:?}"),
    }
}

/// A solved change y (every cell hidden where y is non-zero, A y = 0) is a
/// certificate for every sensitive cell it moves far enough, in both
/// directions: t*y stays a non-negative table for t in [-t_down, t_up], where
/// t_up is limited by the cells y lowers and t_down by the cells y raises.
/// Mark those cells' directions as protected, so they need no LP of their own.
fn mark_protected_by(change: &[(usize, f64)], values: &[i64], targets: &[(usize, i64, i64)], done: &mut [(bool, bool)]) {
    let mut t_up = f64::INFINITY;
    let mut t_down = f64::INFINITY;
    let mut moved: std::collections::HashMap<usize, f64> = std::collections::HashMap::with_capacity(change.len());
    for &(c, y) in change {
        moved.insert(c, y);
        if y < -FLOW_EPS {
            t_up = t_up.min(values[c] as f64 / -y);
        } else if y > FLOW_EPS {
            t_down = t_down.min(values[c] as f64 / y);
        }
    }
    // Whole-number margin against rounding noise in the LP solution.
    let reaches = |amount: f64, level: i64| amount >= level as f64 - 1e-6;
    for (k, &(cell, lo, up)) in targets.iter().enumerate() {
        let y = moved.get(&cell).copied().unwrap_or(0.0);
        if y > FLOW_EPS {
            done[k].0 |= reaches(t_up * y, up);
            done[k].1 |= reaches(t_down * y, lo);
        } else if y < -FLOW_EPS {
            done[k].0 |= reaches(t_down * -y, up);
            done[k].1 |= reaches(t_up * -y, lo);
        }
    }
}

#[cfg(test)]
#[path = "lp_tests.rs"]
mod tests;
