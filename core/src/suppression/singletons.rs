//! Singletons: a hidden cell whose count comes from one child (or one
//! family) can be recovered by that child, who knows their own count; the
//! structural rule and the LP rule protect against it.

use std::sync::Arc;

use super::lp::{flow_weights, protection_lp};
use super::{cost, Deadline};
use crate::error::Fallible;
use crate::marks::{CellMarks, Status};
use crate::policy::CostKind;
use crate::table::Additive;
use crate::fail;

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
    let headlines = table.headlines();
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
            let mut weights = flow_weights(marks, forced_published, values, cost_kind, &headlines);
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
