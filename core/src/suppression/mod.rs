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
//! All LPs share one model (the constraint matrix never changes; only the
//! bounds of the target cell and the costs of newly hidden cells do), which
//! HiGHS re-solves from the previous basis.

use std::sync::Arc;

use highs::{Col, HighsModelStatus, Model, RowProblem, Sense};

use crate::error::Fallible;
use crate::output::{CellMarks, Status};
use crate::policy::CostKind;
use crate::table::Cube;
use crate::{err, fail};

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
pub fn interval(cube: &Cube, marks: &mut CellMarks, cost_kind: CostKind) -> Fallible<usize> {
    let n = cube.len();
    let targets: Vec<(usize, i64, i64)> = (0..n).filter_map(|c| marks.protection[c].map(|(lo, up)| (c, lo, up))).collect();
    if targets.is_empty() {
        return Ok(0);
    }
    let values = cube.values();
    let mut pb = RowProblem::default();
    let mut plus: Vec<Col> = Vec::with_capacity(n);
    let mut minus: Vec<Col> = Vec::with_capacity(n);
    for c in 0..n {
        let w = if marks.is_hidden(c) { 0.0 } else { cost(cost_kind, values[c]) };
        plus.push(pb.add_column(w, 0.0..));
        minus.push(pb.add_column(w, 0.0..=values[c] as f64));
    }
    cube.for_each_constraint(|_, total, parts| {
        let mut terms: Vec<(Col, f64)> = Vec::with_capacity(2 * parts.len() + 2);
        terms.push((plus[total], -1.0));
        terms.push((minus[total], 1.0));
        for &p in parts {
            terms.push((plus[p], 1.0));
            terms.push((minus[p], -1.0));
        }
        pb.add_row(0.0..=0.0, &terms);
    });
    let mut model = pb.optimise(Sense::Minimise);
    model.make_quiet();
    model.set_option("presolve", "off");
    let reason: Arc<str> = Arc::from("protects a sensitive cell");
    let mut hidden_now = 0;
    // done[k] = (upward protected, downward protected) for targets[k].
    let mut done: Vec<(bool, bool)> = targets.iter().map(|&(_, lo, up)| (up <= 0, lo <= 0)).collect();
    let mut solves = 0usize;
    for t in 0..targets.len() {
        let (cell, lower_level, upper_level) = targets[t];
        for (direction, level) in [(1.0f64, upper_level), (-1.0, lower_level)] {
            if (direction > 0.0 && done[t].0) || (direction < 0.0 && done[t].1) {
                continue;
            }
            solves += 1;
            let (push, hold) = if direction > 0.0 { (plus[cell], minus[cell]) } else { (minus[cell], plus[cell]) };
            model.change_column_bounds(push, level as f64..=level as f64);
            model.change_column_bounds(hold, 0.0..=0.0);
            let solved = model.try_solve().map_err(|e| err!(Infeasible, "the LP solver failed during secondary suppression: {e:?}"))?;
            match solved.status() {
                HighsModelStatus::Optimal => {}
                HighsModelStatus::Infeasible => fail!(
                    Infeasible,
                    "cell ({}) cannot be protected by {} {level}: no set of hidden cells lets its value move that far; \
                     lower its protection level or allow more cells to be hidden",
                    cube.describe(cell),
                    if direction > 0.0 { "upward" } else { "downward" }
                ),
                other => fail!(Infeasible, "secondary suppression LP for cell ({}) ended with status {other:?}", cube.describe(cell)),
            }
            let solution = solved.get_solution();
            let columns = solution.columns();
            let mut newly: Vec<usize> = Vec::new();
            for c in 0..n {
                if !marks.is_hidden(c) && columns[2 * c] + columns[2 * c + 1] > FLOW_EPS {
                    newly.push(c);
                }
            }
            let change: Vec<f64> = (0..n).map(|c| columns[2 * c] - columns[2 * c + 1]).collect();
            mark_protected_by(&change, values, &targets, &mut done);
            model = Model::from(solved);
            // Restore the target's bounds: it is an ordinary (hidden) cell for the next LPs.
            model.change_column_bounds(plus[cell], 0.0..);
            model.change_column_bounds(minus[cell], 0.0..=values[cell] as f64);
            for c in newly {
                marks.hide(c, Status::Secondary, reason.clone());
                model.change_column_cost(plus[c], 0.0);
                model.change_column_cost(minus[c], 0.0);
                hidden_now += 1;
            }
        }
    }
    if std::env::var_os("AMPARO_DEBUG").is_some() {
        eprintln!("interval: {} sensitive cells, {solves} protection LPs, {hidden_now} secondary cells", targets.len());
    }
    Ok(hidden_now)
}

/// A solved change y (every cell hidden where y is non-zero, A y = 0) is a
/// certificate for every sensitive cell it moves far enough, in both
/// directions: t*y stays a non-negative table for t in [-t_down, t_up], where
/// t_up is limited by the cells y lowers and t_down by the cells y raises.
/// Mark those cells' directions as protected, so they need no LP of their own.
fn mark_protected_by(change: &[f64], values: &[i64], targets: &[(usize, i64, i64)], done: &mut [(bool, bool)]) {
    let mut t_up = f64::INFINITY;
    let mut t_down = f64::INFINITY;
    for (c, &y) in change.iter().enumerate() {
        if y < -FLOW_EPS {
            t_up = t_up.min(values[c] as f64 / -y);
        } else if y > FLOW_EPS {
            t_down = t_down.min(values[c] as f64 / y);
        }
    }
    // Whole-number margin against rounding noise in the LP solution.
    let reaches = |amount: f64, level: i64| amount >= level as f64 - 1e-6;
    for (k, &(cell, lo, up)) in targets.iter().enumerate() {
        let y = change[cell];
        if y > FLOW_EPS {
            done[k].0 |= reaches(t_up * y, up);
            done[k].1 |= reaches(t_down * y, lo);
        } else if y < -FLOW_EPS {
            done[k].0 |= reaches(t_down * -y, up);
            done[k].1 |= reaches(t_up * -y, lo);
        }
    }
}
