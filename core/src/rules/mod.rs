//! Primary rules: which cells are sensitive.
//!
//! Frequency threshold (Hundepool et al. 2012, section 4.2.1; tau-Argus manual,
//! "minimum frequency rule"): a cell with a count of at least 1 and below n
//! identifies too few children and is hidden. Zero cells are published by
//! default, since an empty cell describes no child; `zeros = "hide"` hides them
//! when absence itself is sensitive. The rule applies to every cell, margins
//! included: a district total of 3 is as revealing as an inner cell of 3.
//!
//! Attribute disclosure (Hundepool et al. 2012, section 5.2.2, "group
//! disclosure"; GaussSuppression's K-disclosure): along a dimension the policy
//! marks sensitive, a group whose children all fall in one category discloses
//! that category for each of them, so that category's cell is sensitive.
//!
//! Each sensitive cell gets protection levels (see
//! [`ProtectionSection::levels`](crate::policy::ProtectionSection::levels)):
//! by default its attacker interval must reach 0 and the threshold.

use std::sync::Arc;

use crate::output::{CellMarks, Status};
use crate::policy::{PrimarySection, ZeroPolicy};
use crate::table::Cube;

/// Mark the cells the frequency threshold makes sensitive; returns how many.
pub fn apply_threshold(cube: &Cube, primary: &PrimarySection, marks: &mut CellMarks) -> usize {
    let below: Option<(i64, Arc<str>)> = primary.threshold.map(|n| (n, Arc::from(format!("threshold<{n}"))));
    let zero: Arc<str> = Arc::from("zero");
    let mut marked = 0;
    // In a magnitude table the threshold counts contributors, not the sum.
    let contributors = cube.contributions().map(|c| &c.records);
    for (cell, &value) in cube.values().iter().enumerate() {
        let frequency = contributors.map_or(value, |r| r[cell]);
        let reason = match (&below, primary.zeros) {
            (_, ZeroPolicy::Hide) if frequency == 0 => Some(zero.clone()),
            (Some((n, label)), _) if frequency > 0 && frequency < *n => Some(label.clone()),
            _ => None,
        };
        if let Some(reason) = reason {
            marks.hide(cell, Status::Primary, reason);
            let levels_threshold = if contributors.is_some() { None } else { primary.threshold };
            marks.protection[cell] = Some(primary.protection.levels(value, levels_threshold));
            marked += 1;
        }
    }
    marked
}

/// Dominance (n,k) and p% rules on a magnitude table (Hundepool et al. 2012,
/// sections 4.2.2-4.2.3; tau-Argus manual 4.4). With x1 >= x2 >= x3 the
/// largest contributions and T the cell's total:
/// - (n,k): sensitive when x1 + .. + xn > k% of T; protection, both ways,
///   (100 / k) (x1 + .. + xn) - T, so the attacker cannot show the share above k%;
/// - p%: sensitive when T - x1 - x2 < p% of x1 (the second contributor could
///   estimate the first to within p%); protection p% x1 - (T - x1 - x2).
///
/// Levels are whole numbers, at least 1, and never below 0 downwards.
pub fn apply_magnitude_rules(cube: &Cube, primary: &crate::policy::PrimarySection, marks: &mut CellMarks) -> usize {
    let Some(contributions) = cube.contributions() else { return 0 };
    let dominance = primary.dominance.map(|r| (r, Arc::<str>::from(format!("dominance({},{})", r.n, r.k))));
    let p_rule = primary.p_percent.map(|p| (p, Arc::<str>::from(format!("p%({p})"))));
    let mut marked = 0;
    for (cell, &total) in cube.values().iter().enumerate() {
        if total <= 0 {
            continue;
        }
        let x = contributions.largest[cell];
        let mut needed: Option<(f64, Arc<str>)> = None;
        if let Some((rule, label)) = &dominance {
            let top: i64 = x[..rule.n].iter().sum();
            if top as f64 > rule.k / 100.0 * total as f64 {
                needed = Some((100.0 / rule.k * top as f64 - total as f64, label.clone()));
            }
        }
        if let Some((p, label)) = &p_rule {
            let rest = (total - x[0] - x[1]) as f64;
            if rest < p / 100.0 * x[0] as f64 {
                let level = p / 100.0 * x[0] as f64 - rest;
                if needed.as_ref().is_none_or(|(l, _)| level > *l) {
                    needed = Some((level, label.clone()));
                }
            }
        }
        let Some((level, label)) = needed else { continue };
        let level = (level - 1e-9).ceil().max(1.0) as i64;
        if !marks.is_hidden(cell) {
            marks.hide(cell, Status::Primary, label);
            marked += 1;
        }
        let (lo, up) = marks.protection[cell].unwrap_or((0, 0));
        marks.protection[cell] = Some((lo.max(level.min(total)), up.max(level)));
    }
    marked
}

/// Mark cells that keep a whole group's sensitive category from being
/// disclosed. Along dimension `d`, a total above 0 whose only non-empty part
/// holds all of it tells that every child there is in that category, because
/// the other categories are published as 0. The first of those empty
/// categories becomes sensitive with protection 1 above: the attacker must
/// not be able to rule out that one child of the group is in it.
pub fn apply_attribute_disclosure(cube: &Cube, d: usize, marks: &mut CellMarks) -> usize {
    let dim = &cube.dims()[d];
    let mut marked = 0;
    cube.for_each_constraint(|along, total, parts| {
        if along != d || parts.len() < 2 {
            return;
        }
        let t = cube.value(total);
        let mut nonzero = parts.iter().filter(|&&p| cube.value(p) > 0);
        let (Some(&only), None) = (nonzero.next(), nonzero.next()) else { return };
        if t == 0 || cube.value(only) != t {
            return;
        }
        let empty = *parts.iter().find(|&&p| p != only).expect("two parts or more");
        let code = dim.hierarchy.code(cube.coord(only, d));
        if !marks.is_hidden(empty) {
            marks.hide(empty, Status::Primary, Arc::from(format!("all {t} of the group are {}={code}", dim.name)));
            marked += 1;
        }
        let (lo, up) = marks.protection[empty].unwrap_or((0, 0));
        marks.protection[empty] = Some((lo, up.max(1)));
    });
    marked
}
