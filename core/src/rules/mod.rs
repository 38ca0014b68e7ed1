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
    for (cell, &value) in cube.values().iter().enumerate() {
        let reason = match (&below, primary.zeros) {
            (_, ZeroPolicy::Hide) if value == 0 => Some(zero.clone()),
            (Some((n, label)), _) if value > 0 && value < *n => Some(label.clone()),
            _ => None,
        };
        if let Some(reason) = reason {
            marks.hide(cell, Status::Primary, reason);
            marks.protection[cell] = Some(primary.protection.levels(value, primary.threshold));
            marked += 1;
        }
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
