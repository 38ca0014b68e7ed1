//! Primary rules: which cells are sensitive.
//!
//! Frequency threshold (Hundepool et al. 2012, section 4.2.1; tau-Argus manual,
//! "minimum frequency rule"): a cell with a count of at least 1 and below n
//! identifies too few children and is hidden. Zero cells are published by
//! default, since an empty cell describes no child; `zeros = "hide"` hides them
//! when absence itself is sensitive. The rule applies to every cell, margins
//! included: a district total of 3 is as revealing as an inner cell of 3.
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
