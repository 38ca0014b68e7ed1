//! Secondary (complementary) suppression: hide more cells so that no
//! sensitive cell can be narrowed below its protection level.
//!
//! `interval` follows the protection LPs of Fischetti & Salazar-Gonzalez
//! (2001), "Solving the cell suppression problem on tabular data with linear
//! constraints", Management Science 47(7), solved as LP relaxations one
//! sensitive cell and direction at a time (the heuristic that tau-Argus's
//! Modular and sdcTable build on):
//!
//! For a sensitive cell i that must be able to rise by `upper`, find a change
//! y of the whole table with y_i = +upper, every additivity constraint still
//! holding (A y = 0), every cell still non-negative (y_j >= -v_j), and y_j = 0
//! on published cells: such a y is a table the attacker cannot tell from the
//! true one in which cell i is `upper` larger, so the attacker's maximum is at
//! least v_i + upper. Writing y = p - m (p, m >= 0, m_j <= v_j) and charging
//! every currently published cell its cost for any flow through it, the LP
//! finds the cheapest set of cells to hide: every published cell with flow
//! becomes a secondary suppression. Each certificate y stays valid when more
//! cells are hidden later, so after every sensitive cell and both directions
//! have been treated, every protection level holds (the audit confirms it).
//!
//! Protection LPs are spent only on cells still exposed: in rounds, the
//! attacker's LPs (see [`Attacker`], cheap and warm) find which sensitive cells
//! the current pattern leaves exposed, half of those get protection LPs, and
//! the rest are looked at again. One LP solution often protects other
//! sensitive cells too (see `mark_protected_by`). Each LP is built afresh
//! with the current costs: on a 2,112-cell table that was 3.5 times faster
//! than re-solving one model warm. Rejected (see bench/RESULTS.md): LPs
//! restricted to a neighbourhood of the target (twice the secondaries) and
//! column generation with penalised artificials (slower, more LPs).
//!
//! Above the policy's `lp_limit` cells (default 5,000), where one LP over
//! the whole table costs seconds, `interval` protects each sensitive cell with
//! a hypercube pattern instead (see [`hypercube`]): a certificate too, found
//! by look-ups, at the price of more hidden cells (measured on a 4,125-cell
//! table: LPs 550 secondaries in 37 s, patterns 1,094 in 0.2 s).
//!
//! `fast` (see `gauss`) guarantees that no hidden cell is computable, and the
//! singleton rule (`protect_singletons`) guards against a singleton's child
//! recovering another cell from a constraint with two hidden cells.

mod config;
mod gauss;
mod lp;
mod modular;
mod nearby;
mod singletons;

pub use crate::attacker::hypercube;
pub use crate::attacker::SINGLETON_LP_LIMIT;

pub use config::{one_table_only, SuppressionConfig};
pub use singletons::{protect_from_singletons, protect_singletons};
use lp::{protect_cells, Reach};

use std::sync::Arc;

use crate::attacker::witness::Witnesses;
use crate::attacker::Attacker;
use crate::error::Fallible;
use crate::marks::{CellMarks, Status};
use crate::policy::{CostKind, SecondaryMethod};
use crate::rules::OutsiderPromise;
use crate::table::Additive;
use crate::{err, fail};

/// When secondary suppression must stop: `[secondary] time_limit` from the
/// start of the run, shared by every phase, and stated as the policy gave it
/// in messages (never as the time a later phase had left).
#[derive(Debug, Clone, Copy)]
pub struct Deadline {
    started: std::time::Instant,
    limit: std::time::Duration,
    /// The method that runs (`None`: `fast`), so that a phase stopped by
    /// the limit suggests only methods faster than it.
    method: Option<Complements>,
}

impl Deadline {
    /// A deadline `seconds` from now; a limit too large for a Duration means none.
    pub fn after(seconds: f64) -> Deadline {
        let limit = std::time::Duration::try_from_secs_f64(seconds).unwrap_or(std::time::Duration::MAX);
        Deadline { started: std::time::Instant::now(), limit, method: None }
    }

    /// This deadline, for a run of `method`.
    pub fn running(self, method: Complements) -> Deadline {
        Deadline { method: Some(method), ..self }
    }

    /// The methods faster than the one that runs, as advice ending an
    /// out-of-time message (", use ..."); nothing for linked tables, which
    /// patterns and fast cannot protect together (only more time helps
    /// there), or when nothing is faster.
    pub(crate) fn faster_methods(&self, table: &dyn Additive) -> String {
        let cells = table.len();
        match self.method {
            _ if table.as_cube().is_none() => String::new(),
            Some(Complements::Optimal) => format!(
                ", use [secondary] method = \"patterns\" (hypercube patterns: much faster, more cells hidden; or lp_limit below {cells} with \"interval\") or \"fast\""
            ),
            Some(Complements::Modular) => ", use [secondary] method = \"patterns\" (much faster, more cells hidden) or \"fast\"".to_owned(),
            Some(Complements::Patterns) => ", use [secondary] method = \"fast\" (no hidden cell computable exactly, but narrower intervals allowed)".to_owned(),
            None => String::new(),
        }
    }

    pub fn passed(&self) -> bool {
        self.started.elapsed() > self.limit
    }

    /// The moment the limit passes (`None`: no limit).
    pub fn at(&self) -> Option<std::time::Instant> {
        self.started.checked_add(self.limit)
    }

    pub fn left(&self) -> std::time::Duration {
        self.limit.saturating_sub(self.started.elapsed())
    }

    /// The policy's time limit, in seconds, for messages.
    pub fn seconds(&self) -> f64 {
        self.limit.as_secs_f64()
    }

    /// `error`, or, when the limit has passed (an LP stopped by it fails),
    /// the phase's out-of-time error from `out_of_time`.
    pub fn blame(&self, error: crate::Error, out_of_time: impl FnOnce() -> crate::Error) -> crate::Error {
        if self.passed() {
            out_of_time()
        } else {
            error
        }
    }

    /// The error of a phase stopped by the limit: how far it got
    /// (`progress`), on how large a table, and the methods that would fit
    /// (`faster`, from [`faster_methods`](Self::faster_methods), or empty).
    pub fn exceeded(&self, progress: &str, cells: usize, faster: &str) -> crate::Error {
        err!(
            Infeasible,
            "secondary suppression did not finish within [secondary] time_limit = {} s: {progress} on a table of {cells} cells; \
             raise time_limit{faster}, or publish a smaller table",
            self.seconds()
        )
    }
}

/// Flow below this is solver noise, not a reason to hide a cell.
const FLOW_EPS: f64 = 1e-7;

fn cost(kind: CostKind, value: i64) -> f64 {
    match kind {
        CostKind::Unit => 1.0,
        CostKind::Value => value.max(1) as f64,
        CostKind::Log => 1.0 + (1.0 + value as f64).ln(),
    }
}

/// The secondary method that runs: `[secondary] method`, with `interval`
/// resolved for the table at hand (see [`choose`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Complements {
    /// Protection LPs over the whole table.
    Optimal,
    /// Protection LPs subtable by subtable, then for the cells still
    /// exposed on each one's neighbourhood (the whole table when none fits).
    Modular,
    /// Hypercube patterns, then protection LPs for the cells no pattern protects.
    Patterns,
}

impl Complements {
    pub fn name(self) -> &'static str {
        match self {
            Complements::Optimal => "optimal",
            Complements::Modular => "modular",
            Complements::Patterns => "patterns",
        }
    }
}

/// Which method `method` runs on `table`, and why, in words for the
/// metadata. The rule for `interval`: `optimal` (the fewest hidden cells)
/// when the table has at most `lp_limit` cells or is a set of linked tables
/// (patterns need one table), `patterns` (which scale) above it.
pub fn choose(method: SecondaryMethod, table: &dyn Additive, lp_limit: usize) -> Fallible<(Complements, String)> {
    let cells = table.len();
    Ok(match method {
        SecondaryMethod::Optimal => (Complements::Optimal, format!("optimal, as the policy asks ({cells} cells)")),
        SecondaryMethod::Patterns if table.as_cube().is_none() => return Err(one_table_only(method)),
        SecondaryMethod::Modular => (Complements::Modular, format!("modular, as the policy asks ({cells} cells)")),
        SecondaryMethod::Patterns => (Complements::Patterns, format!("patterns, as the policy asks ({cells} cells)")),
        SecondaryMethod::Interval if table.as_cube().is_none() => {
            (Complements::Optimal, format!("interval chose optimal: linked tables ({cells} cells), which patterns cannot take"))
        }
        SecondaryMethod::Interval if cells > lp_limit => {
            (Complements::Patterns, format!("interval chose patterns: {cells} cells, above [secondary] lp_limit = {lp_limit}"))
        }
        SecondaryMethod::Interval => (Complements::Optimal, format!("interval chose optimal: {cells} cells, within [secondary] lp_limit = {lp_limit}")),
        SecondaryMethod::None | SecondaryMethod::Fast => fail!(Policy, "[secondary] method = \"{}\" hides no complements by protection levels", method.name()),
    })
}

/// Hide complementary cells, by `complements`, until every sensitive cell's
/// protection levels hold. Returns the number of cells hidden as secondary
/// suppressions.
///
/// `proven` (one entry per cell, kept by the caller across calls) holds the
/// levels each cell was last shown to keep: hiding more cells only widens
/// an attacker's intervals, so a cell whose levels have not grown since is
/// not looked at again.
///
/// `book` holds the tables attackers find on `table` (see
/// [`crate::attacker::witness`]): the attackers here keep theirs in it for
/// the phases after.
#[allow(clippy::too_many_arguments)]
pub fn protect_sensitive(
    table: &dyn Additive,
    marks: &mut CellMarks,
    complements: Complements,
    cost_kind: CostKind,
    forced_published: &[bool],
    promise: Option<&OutsiderPromise>,
    proven: &mut [Option<(i64, i64)>],
    deadline: Deadline,
    book: Option<&Arc<Witnesses>>,
) -> Fallible<usize> {
    let targets = unproven(marks, proven);
    let reason = "protects a sensitive cell";
    let hidden = match (complements, table.as_cube()) {
        (Complements::Patterns, Some(cube)) => {
            let (hidden, left) = protect_by_patterns(cube, marks, &targets, reason, cost_kind, forced_published, deadline)?;
            // Cells no pattern could protect (a sparse corner of the table)
            // get protection LPs: slow at this size, but few; in the time left.
            hidden + protect_cells(table, marks, &left, reason, cost_kind, forced_published, deadline, Reach::Neighbourhood, book)?
        }
        (Complements::Modular, _) => {
            let parts: Vec<(&crate::table::Cube, Option<&[usize]>)> = match (table.as_cube(), table.as_linked()) {
                (Some(cube), _) => vec![(cube, None)],
                (None, Some(linked)) => linked.cubes.iter().zip(&linked.linked).map(|(cube, ids)| (cube, Some(ids.as_slice()))).collect(),
                (None, None) => return Err(one_table_only(SecondaryMethod::Modular)),
            };
            let clock = std::time::Instant::now();
            let hidden = modular::protect_by_subtables(table, parts, marks, reason, cost_kind, forced_published, promise, deadline)?;
            if std::env::var_os("AMPARO_DEBUG").is_some() {
                eprintln!("modular: subtables {:.2?}", clock.elapsed());
            }
            // Certificates glued across subtables may not hold together: the
            // whole table's attacker looks at every sensitive cell (and every
            // hidden cell the subtables gave levels for the outsider's
            // promise), and the ones still exposed get protection LPs on
            // their neighbourhoods (see `lp::Reach`). Cells a hypercube of hidden cells already
            // protects need no attacker (look-ups, not LPs).
            let values = table.values();
            let mut bounds: Vec<(usize, i64, i64)> = unproven(marks, proven).into_iter().map(|(c, lo, up)| (c, values[c] - lo, values[c] + up)).collect();
            hypercube::keep_uncertified(table, &marks.published, &mut bounds);
            let targets: Vec<(usize, i64, i64)> = bounds.into_iter().map(|(c, low, high)| (c, values[c] - low, high - values[c])).collect();
            if std::env::var_os("AMPARO_DEBUG").is_some() {
                eprintln!("modular: {} sensitive cells without a hypercube certificate, checked over the whole table", targets.len());
            }
            hidden + protect_cells(table, marks, &targets, reason, cost_kind, forced_published, deadline, Reach::Neighbourhood, book)?
        }
        (Complements::Patterns, None) => return Err(one_table_only(SecondaryMethod::Patterns)),
        (Complements::Optimal, _) => protect_cells(table, marks, &targets, reason, cost_kind, forced_published, deadline, Reach::Whole, book)?,
    };
    for (was, now) in proven.iter_mut().zip(marks.protection.iter()) {
        *was = now;
    }
    Ok(hidden)
}

/// Publish again every secondary cell that the published cells determine
/// exactly (its attacker interval, rounded inwards to whole numbers, is its
/// value): hiding it protects nothing, and publishing it leaves the tables
/// an attacker cannot rule out, so every other cell's interval, as they
/// were. One pass settles all of them: publishing one such cell changes no
/// other cell's interval. Cells the policy hides stay hidden. Returns how
/// many were published. (Issue 20 found 203 such cells across `interval`
/// outputs; GaussSuppression never keeps one.) A table attackers found
/// before (in `book`, see [`crate::attacker::witness`]) that still fits and
/// moves a cell by a whole unit shows it is not exact, without an LP.
pub fn republish_exact_secondaries(table: &dyn Additive, marks: &mut CellMarks, deadline: Deadline, book: Option<&Arc<Witnesses>>) -> Fallible<usize> {
    let values = table.values();
    let clock = std::time::Instant::now();
    let found = book.map(|book| book.reach(table, &marks.published));
    let mut targets: Vec<(usize, i64, i64)> = (0..table.len())
        .filter(|&c| marks.status[c] == Status::Secondary && marks.reason[c].as_deref() != Some(crate::marks::POLICY_HIDDEN_REASON))
        .filter(|&c| !found.as_ref().is_some_and(|found| found.moves_a_unit(c, values[c])))
        .map(|c| (c, values[c] - 1, values[c] + 1))
        .collect();
    if std::env::var_os("AMPARO_DEBUG").is_some() {
        if let Some(found) = &found {
            eprintln!("exact secondaries: {} secondaries left by {} of {} tables found before, at {:.2?}", targets.len(), found.fitting, found.kept, clock.elapsed());
        }
    }
    if targets.is_empty() {
        return Ok(0);
    }
    let mut attacker = Attacker::until(table, &marks.published, deadline.at())
        .map_err(|e| deadline.blame(e, || deadline.exceeded(&format!("checking which of {} secondary cells the published cells determine exactly", targets.len()), table.len(), "")))?;
    attacker.keep_in(book, None);
    attacker.saw(|cell| values[cell]);
    let built = clock.elapsed();
    // Cells seen a whole number away from their value on either side are
    // not exact; the sweeps push the others both ways first.
    let not_exact = |attacker: &Attacker, c: usize| {
        let (low, high) = attacker.seen(c);
        low <= (values[c] - 1) as f64 + crate::attacker::EPS || high >= (values[c] + 1) as f64 - crate::attacker::EPS
    };
    targets.retain(|&(c, _, _)| !not_exact(&attacker, c));
    // A hypercube of hidden cells that moves a cell one down, or one up,
    // proves it is not exact by look-ups.
    let mut down: Vec<(usize, i64, i64)> = targets.iter().map(|&(c, _, _)| (c, values[c] - 1, values[c])).collect();
    hypercube::keep_uncertified(table, &marks.published, &mut down);
    let mut up: Vec<(usize, i64, i64)> = down.iter().map(|&(c, _, _)| (c, values[c], values[c] + 1)).collect();
    hypercube::keep_uncertified(table, &marks.published, &mut up);
    targets = up.iter().map(|&(c, _, _)| (c, values[c] - 1, values[c] + 1)).collect();
    attacker.settle(table, &marks.published, &mut targets)?;
    // A neighbourhood's interval contains the whole table's: when it is one
    // value, so is the whole table's, without an LP over the whole table
    // (on B3, 1,904 of the 1,928 cells left here were exact).
    let settled = clock.elapsed();
    let local = crate::attacker::local::LocalAttacker::new(table, &marks.published);
    let local = &local;
    let total = targets.len();
    // Each cell's verdict is exact whichever attacker gives it: shared
    // between two attackers, one per core. (cell, by a whole-table LP) per exact cell.
    let check = |attacker: &mut Attacker, share: &[(usize, i64, i64)], _report: bool| -> Fallible<Vec<(usize, bool)>> {
        let mut exact = Vec::new();
        for (k, &(cell, _, _)) in share.iter().enumerate() {
            let out_of_time = || {
                let left = total as u64 - crate::attacker::done_of_all(k, share.len(), total) + 1;
                let progress = format!("checking which secondary cells the published cells determine exactly (about {left} of {total} left)");
                deadline.exceeded(&progress, table.len(), "")
            };
            if deadline.passed() {
                return Err(out_of_time());
            }
            if not_exact(attacker, cell) {
                continue;
            }
            if local.prove(cell, |interval| interval.upper == Some(interval.lower))?.is_some() {
                exact.push((cell, false));
                continue;
            }
            let interval = attacker.interval(cell).map_err(|e| deadline.blame(e, out_of_time))?;
            if interval.upper == Some(interval.lower) {
                exact.push((cell, true));
            }
        }
        Ok(exact)
    };
    let found = crate::attacker::on_two_cores(&mut attacker, table, &marks.published, &targets, PARALLEL_CHECKS, "the check for secondaries computable exactly", check)?;
    let whole_lps = found.iter().filter(|&&(_, by_lp)| by_lp).count();
    let mut exact: Vec<usize> = found.into_iter().map(|(cell, _)| cell).collect();
    exact.sort_unstable();
    if std::env::var_os("AMPARO_DEBUG").is_some() {
        eprintln!(
            "exact secondaries: attacker {built:.2?}, {} left after the sweeps at {settled:.2?}, {} exact ({whole_lps} of them by whole-table LPs) at {:.2?}",
            targets.len(),
            exact.len(),
            clock.elapsed()
        );
    }
    for &cell in &exact {
        marks.republish(cell, values[cell]);
    }
    Ok(exact.len())
}

/// Cells with protection levels beyond the ones last shown to hold, as
/// (cell, lower, upper) targets.
fn unproven(marks: &CellMarks, proven: &[Option<(i64, i64)>]) -> Vec<(usize, i64, i64)> {
    (0..marks.protection.len())
        .filter_map(|c| {
            let (lo, up) = marks.protection[c]?;
            let (was_lo, was_up) = proven[c].unwrap_or((0, 0));
            (proven[c].is_none() || lo > was_lo || up > was_up).then_some((c, lo, up))
        })
        .collect()
}

/// The outsider's promise (see [`OutsiderPromise`]) for the cells hidden so
/// far: a hidden cell an outsider cannot tell from a sensitive one (its
/// interval admits a sensitive count) must not be narrowed below that
/// count's protection, whatever it really holds; a secondary 7 narrowed to
/// [4, 13] looks like a sensitive 4 that lost its protection. Each cell
/// that breaks it gets levels covering the promise's whole range (with the
/// default levels: reach 0 and the threshold), so the next pass of
/// [`protect_sensitive`] makes it keep the promise whatever it holds. Returns how
/// many cells got levels.
///
/// `reached` (one entry per cell, kept by the caller across calls) marks the
/// hidden cells shown able to reach both ends of the promise's range, by a
/// hypercube or a solution the attacker found: hiding more cells keeps both
/// feasible, so they are not looked at again. (A cell kept by being shown
/// to hold the threshold or more is looked at again: once more cells are
/// hidden it may admit a small count.)
///
/// `book`: as for [`protect_sensitive`]; a table found before that still
/// fits and takes a cell to both ends also shows it reaches them.
pub fn protect_outsider_view(
    table: &dyn Additive,
    marks: &mut CellMarks,
    promise: &OutsiderPromise,
    reached: &mut [bool],
    deadline: Deadline,
    book: Option<&Arc<Witnesses>>,
) -> Fallible<usize> {
    let (low, high) = promise.range();
    let clock = std::time::Instant::now();
    let found = book.map(|book| book.reach(table, &marks.published));
    for (cell, reached) in reached.iter_mut().enumerate() {
        *reached |= marks.is_hidden(cell) && found.as_ref().is_some_and(|found| found.reaches(cell, low, high));
    }
    let mut targets: Vec<(usize, i64, i64)> = (0..table.len()).filter(|&c| marks.is_hidden(c) && !reached[c]).map(|c| (c, low, high)).collect();
    // A hypercube of hidden cells that lets a cell reach both ends proves
    // it keeps the promise by look-ups (most small cells and their
    // complements); the rest are judged by the attacker.
    for &(cell, _, _) in &targets {
        reached[cell] = true;
    }
    hypercube::keep_uncertified(table, &marks.published, &mut targets);
    for &(cell, _, _) in &targets {
        reached[cell] = false;
    }
    // Cells shown to hold the threshold or more keep it too; left out of
    // the sweeps, which they would only pull away from the others.
    let local = crate::attacker::local::LocalAttacker::new(table, &marks.published);
    targets.retain(|&(cell, _, _)| !local.shown_at_least(cell, promise.threshold()));
    // Attackers over regions of a large table show most of the rest reach
    // both ends (see `attacker::region`), before the whole table's sweeps.
    if table.len() > crate::attacker::region::REGIONS_ABOVE && !targets.is_empty() {
        let (safe, _) = crate::attacker::region::judge(table, &marks.published, &targets, deadline.at(), book)?;
        for (&(cell, _, _), _) in targets.iter().zip(&safe).filter(|(_, &safe)| safe) {
            reached[cell] = true;
        }
        targets = targets.iter().zip(&safe).filter(|(_, &safe)| !safe).map(|(&target, _)| target).collect();
    }
    if std::env::var_os("AMPARO_DEBUG").is_some() {
        eprintln!("outsider's promise: {} hidden cells left by tables found before, certificates, bounds and regions at {:.1?}", targets.len(), clock.elapsed());
    }
    if targets.is_empty() {
        return Ok(0);
    }
    let mut attacker = Attacker::until(table, &marks.published, deadline.at()).map_err(|e| {
        deadline.blame(e, || deadline.exceeded(&format!("the check that hidden cells keep the outsider's promise had {} hidden cells to look at", targets.len()), table.len(), &deadline.faster_methods(table)))
    })?;
    attacker.keep_in(book, None);
    attacker.saw(|cell| table.value(cell));
    // Cells the sweeps or certificates around their solutions settle reach both ends.
    for &(cell, _, _) in &targets {
        reached[cell] = true;
    }
    attacker.settle(table, &marks.published, &mut targets)?;
    for &(cell, _, _) in &targets {
        reached[cell] = false;
    }
    let explored = clock.elapsed();
    // Each cell's verdict is exact whichever attacker gives it, so the cells
    // are split between two attackers, one per core (the second built
    // from the same cells and told what the first saw); on B3 a round of
    // 2,400 checks took 35 s on one.
    let local = &local;
    let check = |attacker: &mut Attacker, share: &[(usize, i64, i64)], report: bool| -> Fallible<Vec<(usize, bool, bool)>> {
        let mut verdicts = Vec::with_capacity(share.len());
        for (k, &(cell, _, _)) in share.iter().enumerate() {
            if report {
                crate::progress::report("checking what outsiders can tell", crate::attacker::done_of_all(k, share.len(), targets.len()), Some(targets.len() as u64));
            }
            let out_of_time = || {
                let progress = format!("the check that hidden cells keep the outsider's promise had looked at about {} of {} hidden cells", 2 * k, targets.len());
                deadline.exceeded(&progress, table.len(), &deadline.faster_methods(table))
            };
            if deadline.passed() {
                return Err(out_of_time());
            }
            let breaks = crate::attacker::breaks_promise(attacker, local, promise, cell).map_err(|e| deadline.blame(e, out_of_time))?;
            verdicts.push((cell, breaks, false));
        }
        for verdict in &mut verdicts {
            verdict.2 = attacker.seen_reaching(verdict.0, low, high);
        }
        Ok(verdicts)
    };
    let verdicts = crate::attacker::on_two_cores(&mut attacker, table, &marks.published, &targets, PARALLEL_CHECKS, "the outsider's-promise check", check)?;
    let mut added = 0;
    for (cell, breaks, reaches_both) in verdicts {
        reached[cell] = reaches_both;
        if breaks {
            let value = table.value(cell);
            let (lower, upper) = marks.protection[cell].unwrap_or((0, 0));
            marks.protection.set(cell, Some((lower.max(value - low).clamp(0, value.max(0)), upper.max(high - value).max(0))));
            added += 1;
        }
    }
    if std::env::var_os("AMPARO_DEBUG").is_some() {
        eprintln!("outsider's promise: {added} hidden cells get protection levels (sweeps {explored:.1?}, all {:.1?})", clock.elapsed());
    }
    Ok(added)
}

/// From this many cells to check, the outsider's-promise check uses both
/// cores (the second attacker's first LP costs a second or two on 10^5 cells).
const PARALLEL_CHECKS: usize = 256;

/// Tables up to this many cells get `fast`'s bound repair with LPs over the
/// whole table; above it each LP costs seconds (29k cells: 6 s). `interval`
/// switches to patterns at the policy's `lp_limit` (default the same; see [`choose`]).
pub const LP_TABLE_LIMIT: usize = 5_000;

/// Protect each target with the cheapest hypercube pattern found (see
/// [`hypercube`]), then publish again every new secondary cell whose
/// targets all find another pattern among the cells still hidden. Returns
/// the number of cells hidden and the targets left without a pattern.
fn protect_by_patterns(
    cube: &crate::table::Cube,
    marks: &mut CellMarks,
    targets: &[(usize, i64, i64)],
    reason: &str,
    cost_kind: CostKind,
    forced_published: &[bool],
    deadline: Deadline,
) -> Fallible<(usize, Vec<(usize, i64, i64)>)> {
    let out_of_time = |done: usize, of: usize, phase: &str| {
        deadline.exceeded(&format!("hypercube patterns {phase} for {done} of {of} sensitive cells"), cube.len(), ", use method = \"fast\"")
    };
    let values = cube.values();
    let finder = hypercube::PatternFinder::new(cube);
    let mut hidden: Vec<bool> = (0..cube.len()).map(|c| marks.is_hidden(c)).collect();
    let mut order: Vec<usize> = (0..targets.len()).filter(|&t| targets[t].1 > 0 || targets[t].2 > 0).collect();
    let position: std::collections::HashMap<usize, usize> = targets.iter().enumerate().map(|(t, &(c, _, _))| (c, t)).collect();
    let mut cells: Vec<usize> = order.iter().map(|&t| targets[t].0).collect();
    hypercube::processing_order(cube, &mut cells);
    order = cells.iter().map(|c| position[c]).collect();
    let mut certificates: Vec<Vec<usize>> = vec![Vec::new(); targets.len()];
    // Per cell: the targets whose certificate may use it (stale entries are
    // checked against the certificate before use).
    let mut users: Vec<Vec<u32>> = vec![Vec::new(); cube.len()];
    let mut added: Vec<usize> = Vec::new();
    let mut left = Vec::new();
    // Between patterns of equal cost, the one with smaller cells: each cell
    // adds less than 1 by its share of the largest, so that hiding the grand
    // total costs about as much as two small cells (a pattern decides for
    // one target, and routes through the totals far more than an LP would).
    // The grand total, the figure every reader looks for first, is hidden
    // only when no pattern found avoids it. (The same for every headline
    // total hid 3.5% more cells on bench "medium" and still all 36 of them:
    // patterns cannot route around them; `optimal`'s LPs can.)
    let largest = values.iter().copied().max().unwrap_or(0).max(1) as f64;
    let headlines = cube.headlines();
    let grand_total = cube.cell(&cube.dims().iter().map(|d| d.hierarchy.root()).collect::<Vec<_>>());
    let last_resort = cube.len() as f64;
    for (k, &t) in order.iter().enumerate() {
        crate::progress::report("protecting sensitive cells", k as u64, Some(order.len() as u64));
        if deadline.passed() {
            return Err(out_of_time(k, order.len(), "were found"));
        }
        let (cell, lo, up) = targets[t];
        let weight = |c: usize| match (hidden[c], forced_published[c]) {
            (true, _) => 0.0,
            (false, true) => f64::INFINITY,
            (false, false) if c == grand_total => last_resort,
            (false, false) => cost(cost_kind, values[c]) + values[c] as f64 / largest,
        };
        let Some(pattern) = finder.cheapest(cell, lo, up, &weight) else {
            left.push(targets[t]);
            continue;
        };
        for &c in &pattern {
            if !hidden[c] {
                hidden[c] = true;
                added.push(c);
            }
            users[c].push(t as u32);
        }
        certificates[t] = pattern;
    }
    // Publish again what is not needed, most costly first.
    added.sort_by(|&a, &b| cost(cost_kind, values[b]).total_cmp(&cost(cost_kind, values[a])).then(values[b].cmp(&values[a])).then(a.cmp(&b)));
    for (k, &cell) in added.iter().enumerate() {
        if deadline.passed() {
            return Err(out_of_time(k, added.len(), "were being pruned (complementary cells rechecked)"));
        }
        hidden[cell] = false;
        let dependent: Vec<u32> = users[cell].iter().copied().filter(|&t| certificates[t as usize].contains(&cell)).collect();
        let mut replacements = Vec::with_capacity(dependent.len());
        for &t in &dependent {
            let (target, lo, up) = targets[t as usize];
            match finder.certificate(target, lo, up, &|c| hidden[c]) {
                Some(cells) => replacements.push((t, cells)),
                None => break,
            }
        }
        if replacements.len() < dependent.len() {
            hidden[cell] = true;
            continue;
        }
        users[cell].clear();
        for (t, cells) in replacements {
            for &c in &cells {
                users[c].push(t);
            }
            certificates[t as usize] = cells;
        }
    }
    let reason: Arc<str> = Arc::from(reason);
    let mut count = 0;
    for &cell in &added {
        if hidden[cell] {
            // A headline total's reason names a cell whose pattern needs it.
            let needs = users[cell].iter().filter(|&&t| headlines[cell] && certificates[t as usize].contains(&cell)).map(|&t| targets[t as usize].0).next();
            marks.hide(cell, Status::Secondary, needs.map_or_else(|| reason.clone(), |target| lp::headline_reason(cube, target)));
            count += 1;
        }
    }
    if std::env::var_os("AMPARO_DEBUG").is_some() {
        eprintln!("patterns: {} targets, {} cells hidden then {count} kept, {} targets without a pattern", order.len(), added.len(), left.len());
    }
    Ok((count, left))
}

/// `fast`: Gaussian elimination (no hidden cell is a linear combination of
/// published ones), then, on tables up to 5,000 cells, a repair with
/// protection LPs for the hidden cells that non-negativity and whole numbers
/// still pin to one value (a hidden cell squeezed into [2.5, 3.5] is 3).
/// Returns the number of secondary cells.
pub fn fast(
    cube: &crate::table::Cube,
    marks: &mut CellMarks,
    cost_kind: CostKind,
    forced_published: &[bool],
    singletons: bool,
    deadline: Deadline,
) -> Fallible<usize> {
    let mut hidden_now = gauss::eliminate_exact_disclosure(cube, marks, forced_published, deadline)?;
    if cube.len() > LP_TABLE_LIMIT {
        // Whole-table LPs cost seconds each at this size (29k cells: 6 s), so
        // only the linear guarantee holds; the audit reports narrow intervals.
        // (A repair with hypercube patterns was tried: certificates are only
        // sufficient, so it hid 1,570 more cells on the 29k-cell table, as
        // many as `interval`, which protects every level there.)
        if singletons {
            loop {
                let added = protect_singletons(cube, marks, cost_kind, forced_published)?;
                if added == 0 {
                    break;
                }
                // The singletons' extra cells must not be computable either.
                hidden_now += added + gauss::eliminate_exact_disclosure(cube, marks, forced_published, deadline)?;
            }
        }
        return Ok(hidden_now);
    }
    let values = cube.values();
    // The singleton rule and the repair can each hide cells the other must
    // look at again; both only ever add hidden cells, so this ends.
    loop {
        let added = match singletons {
            true if cube.len() <= SINGLETON_LP_LIMIT => protect_from_singletons(cube, marks, cost_kind, forced_published, deadline)?,
            true => protect_singletons(cube, marks, cost_kind, forced_published)?,
            false => 0,
        };
        let mut attacker = Attacker::new(cube, &marks.published)?;
        let hidden: Vec<(usize, i64, i64)> = (0..cube.len()).filter(|&c| marks.is_hidden(c)).map(|c| (c, values[c], values[c] + 1)).collect();
        attacker.explore(&hidden)?;
        let mut pinned = Vec::new();
        for &(cell, v, _) in &hidden {
            if !attacker.reaches(cell, v, v + 1)? && !attacker.reaches(cell, v - 1, v)? {
                pinned.push((cell, 0, 1));
            }
        }
        drop(attacker);
        if std::env::var_os("AMPARO_DEBUG").is_some() {
            eprintln!("fast: {hidden_now} secondary cells so far, {added} for singletons, {} hidden cells pinned by bounds", pinned.len());
        }
        let repaired = protect_cells(cube, marks, &pinned, "keeps a hidden cell from being computed", cost_kind, forced_published, deadline, Reach::Whole, None)?;
        hidden_now += added + repaired;
        if repaired == 0 {
            return Ok(hidden_now);
        }
    }
}
