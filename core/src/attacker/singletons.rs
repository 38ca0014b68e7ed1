//! The singleton's child: the attacker who also knows that a hidden cell of
//! 1 holds exactly 1 (its only child does), used by the audit's `singletons`
//! check and by the singleton rule of secondary suppression.

use super::Attacker;
use crate::error::Fallible;
use crate::table::Additive;

/// Tables up to this many cells get the singleton rule by LPs (see
/// [`crate::suppression::protect_from_singletons`]) and the audit's
/// `singletons` check: each hidden cell of 1 costs an attacker's
/// exploration of its part of the table, seconds on a 700-cell table with a
/// hundred singletons and minutes past a thousand cells. Larger tables get
/// the structural rule.
pub const SINGLETON_LP_LIMIT: usize = 1_000;

/// A sensitive cell that a singleton's child can narrow below its protection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SingletonFinding {
    /// The hidden cell of 1 whose child knows it.
    pub singleton: usize,
    /// The sensitive cell narrowed.
    pub cell: usize,
    pub value: i64,
    pub required: (i64, i64),
    /// How low the cell must be able to go for this child: its protection,
    /// but never below the child's own 1 when the cell contains the child.
    pub low: i64,
}

/// The `singletons` check: for each hidden cell of 1, the attacker who also
/// knows its value (its child does) must not narrow any other sensitive
/// cell below its protection. A cell already exposed to every outsider is a
/// finding of its own and is not repeated here.
pub fn singleton_findings(table: &dyn Additive, marks: &crate::marks::CellMarks) -> Fallible<Vec<SingletonFinding>> {
    singleton_findings_of(table, marks, None)
}

/// [`singleton_findings`] for the singletons `only` (all hidden cells of 1 when `None`).
pub fn singleton_findings_of(table: &dyn Additive, marks: &crate::marks::CellMarks, only: Option<&[usize]>) -> Fallible<Vec<SingletonFinding>> {
    let singles: Vec<usize> = match only {
        Some(cells) => cells.to_vec(),
        None => (0..table.len()).filter(|&c| marks.published[c].is_none() && table.value(c) == 1).collect(),
    };
    let needs: Vec<(usize, i64, i64)> = (0..table.len())
        .filter(|&c| marks.published[c].is_none())
        .filter_map(|c| marks.protection[c].map(|(lo, up)| (c, table.value(c).saturating_sub(lo), table.value(c).saturating_add(up))))
        .collect();
    if singles.is_empty() || needs.is_empty() {
        return Ok(Vec::new());
    }
    let mut attacker = Attacker::new(table, &marks.published)?;
    attacker.explore(&needs)?;
    let mut outside_exposed = std::collections::HashSet::new();
    for &(cell, low, high) in &needs {
        if !attacker.reaches(cell, low, high)? {
            outside_exposed.insert(cell);
        }
    }
    let needs: Vec<(usize, i64, i64)> = needs.into_iter().filter(|(c, _, _)| !outside_exposed.contains(c)).collect();
    // The totals each cell is a part of: a cell that contains the singleton's
    // child is known to the child to hold at least that 1, which is the
    // child's own knowledge, not a disclosure about others.
    // The cells inside the singleton's cell hold the child or nobody, which
    // the child knows by being alone: nothing about others, not checked.
    let mut totals_of: Vec<Vec<usize>> = vec![Vec::new(); table.len()];
    let mut parts_of: Vec<Vec<usize>> = vec![Vec::new(); table.len()];
    for con in table.constraints() {
        for &p in &con.parts {
            totals_of[p].push(con.total);
            parts_of[con.total].push(p);
        }
    }
    let reach = |from: usize, edges: &[Vec<usize>]| {
        let mut found = std::collections::HashSet::new();
        let mut stack = vec![from];
        while let Some(c) = stack.pop() {
            for &t in &edges[c] {
                if found.insert(t) {
                    stack.push(t);
                }
            }
        }
        found
    };
    let mut found = Vec::new();
    for (k, &s) in singles.iter().enumerate() {
        crate::progress::report("checking what singletons' children can tell", k as u64 + 1, Some(singles.len() as u64));
        let (containing, inside) = (reach(s, &totals_of), reach(s, &parts_of));
        let needs_here: Vec<(usize, i64, i64)> = needs
            .iter()
            .filter(|&&(c, _, _)| c != s && !inside.contains(&c) && attacker.linked(s, c))
            .map(|&(c, low, high)| if containing.contains(&c) { (c, low.max(1), high) } else { (c, low, high) })
            .collect();
        if needs_here.is_empty() {
            continue;
        }
        // The attacker with the child's knowledge: the singleton's cell published as 1.
        let mut known = marks.published.to_vec();
        known[s] = Some(1);
        let mut child = Attacker::new(table, &known)?;
        child.explore(&needs_here)?;
        for &(cell, low, high) in &needs_here {
            if !child.reaches(cell, low, high)? {
                let required = marks.protection[cell].expect("needs are sensitive cells");
                found.push(SingletonFinding { singleton: s, cell, value: table.value(cell), required, low });
            }
        }
    }
    Ok(found)
}
