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

pub use crate::attacker::hypercube;
pub use crate::attacker::SINGLETON_LP_LIMIT;

pub use config::SuppressionConfig;

use std::sync::Arc;

use highs::{Col, HighsModelStatus, RowProblem, Sense};

use crate::attacker::Attacker;
use crate::error::Fallible;
use crate::marks::{CellMarks, Status};
use crate::policy::CostKind;
use crate::rules::OutsiderPromise;
use crate::table::{Additive, Constraint};
use crate::{err, fail};

/// When secondary suppression must stop: `[secondary] time_limit` from the
/// start of the run, shared by every phase, and stated as the policy gave it
/// in messages (never as the time a later phase had left).
#[derive(Debug, Clone, Copy)]
pub struct Deadline {
    started: std::time::Instant,
    limit: std::time::Duration,
}

impl Deadline {
    /// A deadline `seconds` from now; a limit too large for a Duration means none.
    pub fn after(seconds: f64) -> Deadline {
        let limit = std::time::Duration::try_from_secs_f64(seconds).unwrap_or(std::time::Duration::MAX);
        Deadline { started: std::time::Instant::now(), limit }
    }

    pub fn passed(&self) -> bool {
        self.started.elapsed() > self.limit
    }

    pub fn left(&self) -> std::time::Duration {
        self.limit.saturating_sub(self.started.elapsed())
    }

    /// The policy's time limit, in seconds, for messages.
    pub fn seconds(&self) -> f64 {
        self.limit.as_secs_f64()
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

/// Hide complementary cells until every sensitive cell's protection levels hold.
/// Returns the number of cells hidden as secondary suppressions.
pub fn interval(
    table: &dyn Additive,
    marks: &mut CellMarks,
    cost_kind: CostKind,
    forced_published: &[bool],
    deadline: Deadline,
    lp_limit: usize,
) -> Fallible<usize> {
    let targets: Vec<(usize, i64, i64)> = (0..table.len()).filter_map(|c| marks.protection[c].map(|(lo, up)| (c, lo, up))).collect();
    let reason = "protects a sensitive cell";
    match table.as_cube() {
        Some(cube) if cube.len() > lp_limit => {
            let (hidden, left) = protect_by_patterns(cube, marks, &targets, reason, cost_kind, forced_published, deadline)?;
            // Cells no pattern could protect (a sparse corner of the table)
            // get protection LPs: slow at this size, but few; in the time left.
            Ok(hidden + protect_cells(table, marks, &left, reason, cost_kind, forced_published, deadline)?)
        }
        _ => protect_cells(table, marks, &targets, reason, cost_kind, forced_published, deadline),
    }
}

/// The outsider's promise (see [`OutsiderPromise`]) for the cells hidden so
/// far: a hidden cell an outsider cannot tell from a sensitive one (its
/// interval admits a sensitive count) must not be narrowed below that
/// count's protection, whatever it really holds; a secondary 7 narrowed to
/// [4, 13] looks like a sensitive 4 that lost its protection. Each cell
/// that breaks it gets levels covering the promise's whole range (with the
/// default levels: reach 0 and the threshold), so the next pass of
/// [`interval`] makes it keep the promise whatever it holds. Returns how
/// many cells got levels.
pub fn protect_outsider_view(table: &dyn Additive, marks: &mut CellMarks, promise: &OutsiderPromise) -> Fallible<usize> {
    let (low, high) = promise.range();
    let mut targets: Vec<(usize, i64, i64)> = (0..table.len()).filter(|&c| marks.is_hidden(c)).map(|c| (c, low, high)).collect();
    // A hypercube of hidden cells that lets a cell reach both ends proves
    // it keeps the promise by look-ups (most small cells and their
    // complements); the rest are judged by the attacker.
    hypercube::keep_uncertified(table, &marks.published, &mut targets);
    let clock = std::time::Instant::now();
    // Cells shown to hold the threshold or more keep it too; left out of
    // the sweeps, which they would only pull away from the others.
    let local = crate::attacker::local::LocalAttacker::new(table, &marks.published);
    targets.retain(|&(cell, _, _)| !local.shown_at_least(cell, promise.threshold()));
    if targets.is_empty() {
        return Ok(0);
    }
    let mut attacker = Attacker::new(table, &marks.published)?;
    attacker.explore(&targets)?;
    let explored = clock.elapsed();
    let mut added = 0;
    for (k, &(cell, _, _)) in targets.iter().enumerate() {
        crate::progress::report("checking what outsiders can tell", k as u64 + 1, Some(targets.len() as u64));
        if crate::attacker::outsider_breach(&mut attacker, &local, promise, cell)?.is_none() {
            continue;
        }
        let value = table.value(cell);
        let (lower, upper) = marks.protection[cell].unwrap_or((0, 0));
        marks.protection[cell] = Some((lower.max(value - low).clamp(0, value.max(0)), upper.max(high - value).max(0)));
        added += 1;
    }
    if std::env::var_os("AMPARO_DEBUG").is_some() {
        eprintln!("outsider's promise: {added} hidden cells get protection levels (sweeps {explored:.1?}, all {:.1?})", clock.elapsed());
    }
    Ok(added)
}

/// Tables up to this many cells get `fast`'s bound repair with LPs over the
/// whole table; above it each LP costs seconds (29k cells: 6 s). `interval`
/// switches to patterns at the policy's `lp_limit` (default the same).
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
        err!(
            Infeasible,
            "secondary suppression did not finish within [secondary] time_limit = {} s: hypercube patterns {phase} for {done} of {of} sensitive cells \
             on a table of {} cells; raise time_limit, use method = \"fast\", or publish a smaller table",
            deadline.seconds(),
            cube.len()
        )
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
    // only when no pattern found avoids it.
    let largest = values.iter().copied().max().unwrap_or(0).max(1) as f64;
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
            marks.hide(cell, Status::Secondary, reason.clone());
            count += 1;
        }
    }
    if std::env::var_os("AMPARO_DEBUG").is_some() {
        eprintln!("patterns: {} targets, {} cells hidden then {count} kept, {} targets without a pattern", order.len(), added.len(), left.len());
    }
    Ok((count, left))
}

/// The singleton rule of `fast` on tables too large for LPs, a heuristic: in
/// every constraint whose hidden cells are exactly two and one of them is a
/// primary cell of 1 child, hide one more cell (the cheapest published one
/// there), until no constraint is left like that. It is not a guarantee
/// (the child can still combine several constraints): the audit's
/// `singletons` check judges, and [`protect_from_singletons`] is the rule
/// wherever LPs are affordable.
pub fn protect_singletons(table: &dyn Additive, marks: &mut CellMarks, cost_kind: CostKind, forced_published: &[bool]) -> Fallible<usize> {
    let values = table.values();
    let constraints = table.constraints();
    let reason: Arc<str> = Arc::from("keeps a singleton's child from recovering a cell");
    let mut added = 0;
    loop {
        let mut changed = false;
        for con in &constraints {
            let cells = || std::iter::once(con.total).chain(con.parts.iter().copied());
            let hidden: Vec<usize> = cells().filter(|&c| marks.is_hidden(c)).collect();
            let singleton = |c: usize| marks.status[c] == Status::Primary && values[c] == 1;
            if hidden.len() != 2 || !hidden.iter().any(|&c| singleton(c)) {
                continue;
            }
            let cheapest = cells()
                .filter(|&c| !marks.is_hidden(c) && !forced_published[c] && values[c] > 0)
                .min_by(|&a, &b| cost(cost_kind, values[a]).total_cmp(&cost(cost_kind, values[b])).then(a.cmp(&b)));
            let Some(extra) = cheapest else {
                // Every other cell is a published zero: the two hidden cells are
                // the same children, and the singleton's child learns nothing new.
                if cells().all(|c| marks.is_hidden(c) || values[c] == 0) {
                    continue;
                }
                fail!(
                    Infeasible,
                    "the singleton ({}) shares a constraint with one other hidden cell and no other non-empty cell there may be hidden \
                     (total: {}); allow one of its cells to be hidden, or set [primary] singletons = \"ignore\"",
                    table.describe(*hidden.iter().find(|&&c| singleton(c)).expect("checked")),
                    table.describe(con.total)
                );
            };
            marks.hide(extra, Status::Secondary, reason.clone());
            added += 1;
            changed = true;
        }
        if !changed {
            return Ok(added);
        }
    }
}

/// The singleton rule of `interval`, checked as the audit checks it: for
/// each hidden cell of 1, the attacker who also knows its value (the child
/// alone in it knows it is 1) must not narrow any other sensitive cell below
/// its protection. Where it can, a protection LP in which the singleton's
/// cell carries no change (its value is known) finds the cheapest cells to
/// hide so the sensitive cell can move again; the cells it hides move along
/// that change, so none of them is computable exactly. Repeated until the
/// check passes (see [`crate::attacker::singleton_findings`]). Returns the
/// number of cells hidden.
pub fn protect_from_singletons(
    table: &dyn Additive,
    marks: &mut CellMarks,
    cost_kind: CostKind,
    forced_published: &[bool],
    deadline: Deadline,
) -> Fallible<usize> {
    let values = table.values();
    let constraints = table.constraints();
    let reason: Arc<str> = Arc::from("keeps a singleton's child from recovering a cell");
    let mut added = 0;
    // Hiding more cells only widens what any attacker can tell, so after a
    // round only the singletons with findings are checked again; but a cell
    // an outsider could narrow (not a singleton's concern) may be protected
    // from outsiders now, so the rule ends only after a check of them all.
    let mut singles: Option<Vec<usize>> = None;
    loop {
        let findings = crate::attacker::singleton_findings_of(table, marks, singles.as_deref())?;
        if findings.is_empty() {
            if singles.take().is_none() {
                return Ok(added);
            }
            continue;
        }
        let mut again: Vec<usize> = findings.iter().map(|f| f.singleton).collect();
        again.sort_unstable();
        again.dedup();
        singles = Some(again);
        if deadline.passed() {
            fail!(
                Infeasible,
                "secondary suppression did not finish within [secondary] time_limit = {} s: {} sensitive cells can still be narrowed by the child \
                 alone in a hidden cell of 1; raise time_limit, or set [primary] singletons = \"ignore\"",
                deadline.seconds(),
                findings.len()
            );
        }
        let before = added;
        for f in &findings {
            // Cells hidden for an earlier finding this round may already protect this one.
            // The singleton's cell carries no change: its child knows it.
            let mut weights = flow_weights(marks, forced_published, values, cost_kind);
            weights[f.singleton] = f64::INFINITY;
            // Down only as far as this child's check asks (not below the child's own 1).
            for (up, level) in [(true, f.required.1), (false, f.value - f.low)] {
                if level <= 0 {
                    continue;
                }
                let Some(change) = protection_lp(values, &constraints, &weights, f.cell, up, level, deadline.left())? else {
                    fail!(
                        Infeasible,
                        "cell ({}) cannot be protected from the child alone in the hidden cell ({}), who knows it is 1: no set of hidden cells lets \
                         it move {} by {level} without that cell; lower its protection level, allow more cells to be hidden, or set [primary] singletons = \"ignore\"",
                        table.describe(f.cell),
                        table.describe(f.singleton),
                        if up { "up" } else { "down" }
                    );
                };
                for &(c, _) in &change {
                    if !marks.is_hidden(c) {
                        marks.hide(c, Status::Secondary, reason.clone());
                        weights[c] = 0.0;
                        added += 1;
                    }
                }
            }
        }
        if added == before {
            // Every LP found a change through cells already hidden, yet the
            // check still fails: a whole-number effect the LP cannot see.
            fail!(
                Infeasible,
                "cell ({}) stays narrowed by the child alone in the hidden cell ({}) although a change through hidden cells exists; \
                 set [primary] singletons = \"ignore\" or report this table",
                table.describe(findings[0].cell),
                table.describe(findings[0].singleton)
            );
        }
    }
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
        let repaired = protect_cells(cube, marks, &pinned, "keeps a hidden cell from being computed", cost_kind, forced_published, deadline)?;
        hidden_now += added + repaired;
        if repaired == 0 {
            return Ok(hidden_now);
        }
    }
}

/// Hide cells until each target's attacker interval reaches `lo` below and
/// `up` above its value; returns the number of cells hidden.
fn protect_cells(
    table: &dyn Additive,
    marks: &mut CellMarks,
    targets: &[(usize, i64, i64)],
    reason: &str,
    cost_kind: CostKind,
    forced_published: &[bool],
    deadline: Deadline,
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
    let mut weights = flow_weights(marks, forced_published, values, cost_kind);
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
        let mut attacker = Attacker::new(table, &marks.published)?;
        let needs: Vec<(usize, i64, i64)> = pending.iter().map(|&t| (targets[t].0, values[targets[t].0] - targets[t].1, values[targets[t].0] + targets[t].2)).collect();
        attacker.explore(&needs)?;
        let mut exposed = Vec::with_capacity(pending.len());
        for (k, &t) in pending.iter().enumerate() {
            // The attacker's checks of a large linked table take long too: the limit holds here as well.
            if deadline.passed() {
                fail!(
                    Infeasible,
                    "secondary suppression did not finish within [secondary] time_limit = {} s: {} cells still exposed \
                     (or not yet rechecked) on a table of {n} cells; raise time_limit, or publish a smaller table",
                    deadline.seconds(),
                    pending.len() - k + exposed.len()
                );
            }
            let (cell, lo, up) = targets[t];
            if attacker.reaches(cell, values[cell] - lo, values[cell] + up)? {
                done[t] = (true, true);
            } else {
                exposed.push(t);
            }
        }
        drop(attacker);
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
                    fail!(
                        Infeasible,
                        "secondary suppression did not finish within [secondary] time_limit = {} s: {} of {} cells still exposed \
                         on a table of {n} cells; raise time_limit{}, or publish a smaller table",
                        deadline.seconds(),
                        if reason.contains("sensitive") {
                            format!(", set [secondary] lp_limit below {n} (hypercube patterns: much faster, more cells hidden), use method = \"fast\"")
                        } else {
                            String::new()
                        },
                        pending.len(),
                        targets.len()
                    );
                }
                solves += 1;
                let Some(change) = protection_lp(values, &constraints, &weights, cell, up, level, deadline.left())? else {
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
                        marks.hide(c, Status::Secondary, reason.clone());
                        weights[c] = 0.0;
                        hidden_now += 1;
                    }
                }
                mark_protected_by(&change, values, &targets, &mut done);
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

/// What a protection LP charges for flow through each cell: nothing for a
/// hidden cell, its cost for a published one, and a forced-published cell
/// can carry no flow (its weight is infinite).
fn flow_weights(marks: &CellMarks, forced_published: &[bool], values: &[i64], cost_kind: CostKind) -> Vec<f64> {
    (0..values.len())
        .map(|c| match (marks.is_hidden(c), forced_published[c]) {
            (true, _) => 0.0,
            (false, true) => f64::INFINITY,
            (false, false) => cost(cost_kind, values[c]),
        })
        .collect()
}

/// Result of one protection LP: the change y as (cell, y) pairs with y != 0.
type Change = Vec<(usize, f64)>;

/// The cheapest change y of the whole table with A y = 0, v + y >= 0 and
/// y[target] = +level (up) or -level, charging every published cell its
/// weight for any flow through it; `None` if there is none.
fn protection_lp(
    values: &[i64],
    constraints: &[Constraint],
    weights: &[f64],
    target: usize,
    up: bool,
    level: i64,
    time_left: std::time::Duration,
) -> Fallible<Option<Change>> {
    let mut pb = RowProblem::default();
    let cols: Vec<(Col, Col)> = (0..values.len()).map(|c| columns(&mut pb, values, weights, c, target, up, level)).collect();
    for con in constraints {
        let (p, m) = cols[con.total];
        let mut terms: Vec<(Col, f64)> = vec![(p, -1.0), (m, 1.0)];
        for &c in &con.parts {
            let (p, m) = cols[c];
            terms.push((p, 1.0));
            terms.push((m, -1.0));
        }
        pb.add_row(0.0..=0.0, &terms);
    }
    let Some(solved) = run_lp(pb, values, target, time_left)? else { return Ok(None) };
    let x = solved.get_solution().columns().to_vec();
    Ok(Some(
        x.chunks_exact(2).map(|pm| pm[0] - pm[1]).enumerate().filter(|&(_, y)| y.abs() > FLOW_EPS).collect(),
    ))
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

/// Solve within `time_left` (one LP of a large linked table can take
/// minutes); `None` when infeasible.
fn run_lp(pb: RowProblem, values: &[i64], target: usize, time_left: std::time::Duration) -> Fallible<Option<highs::SolvedModel>> {
    let mut model = pb.optimise(Sense::Minimise);
    model.make_quiet();
    model.set_option("time_limit", time_left.as_secs_f64().max(1e-3));
    // Without presolve a small table's LP takes a third of the time (1.4k
    // cells: 3 ms instead of 10 ms); a large one's takes far longer (29k
    // cells: 34 s instead of 6 s), so presolve is kept above 5,000 cells.
    if values.len() <= 5_000 {
        model.set_option("presolve", "off");
    }
    let solved = model.try_solve().map_err(|e| err!(Infeasible, "the LP solver failed during secondary suppression: {e:?}"))?;
    match solved.status() {
        HighsModelStatus::Optimal => Ok(Some(solved)),
        HighsModelStatus::Infeasible | HighsModelStatus::UnboundedOrInfeasible => Ok(None),
        HighsModelStatus::ReachedTimeLimit => fail!(
            Infeasible,
            "secondary suppression did not finish within [secondary] time_limit: a protection LP on a table of {} cells ran past it; \
             raise time_limit, use method = \"fast\" (single tables), or publish a smaller table",
            values.len()
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
