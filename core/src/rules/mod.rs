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

use crate::marks::{CellMarks, Status};
use crate::policy::{PrimarySection, ProtectionSection, ZeroPolicy};
use crate::table::Cube;

/// The promise a published table keeps to an outsider, who sees which cells
/// are hidden but not why or what they hold: no hidden cell that may hold a
/// sensitive count (1 to n - 1 under a threshold n; 0 too when zeros are
/// hidden) can be narrowed below the protection levels of any sensitive count
/// it may hold. An outsider cannot tell a secondary cell narrowed to [4, 13]
/// from a sensitive 4 narrowed there, so the promise binds every hidden cell,
/// and `amparo audit` of the published file checks it without the true values
/// (the protect-time audit checks it too, besides each sensitive cell's own
/// levels). With the default levels it asks what they ask of a sensitive
/// cell: reach 0 and n. A cell shown to hold n or more keeps it trivially.
///
/// Only frequency tables with a threshold make this promise: a magnitude
/// table's sensitivity depends on its contributions, which an outsider never
/// sees, so its published audit checks that no hidden cell is exact.
#[derive(Debug, Clone, PartialEq)]
pub struct OutsiderPromise {
    smallest: i64,
    threshold: i64,
    protection: ProtectionSection,
}

impl OutsiderPromise {
    pub fn of(primary: &PrimarySection, magnitude: bool) -> Option<Self> {
        let threshold = primary.threshold.filter(|_| !magnitude)?;
        let smallest = if primary.zeros == ZeroPolicy::Hide { 0 } else { 1 };
        (smallest < threshold).then(|| OutsiderPromise { smallest, threshold, protection: primary.protection.clone() })
    }

    /// The promise of the tables `policy` protects.
    pub fn of_policy(policy: &crate::policy::CheckedPolicy) -> Option<Self> {
        OutsiderPromise::of(&policy.file.primary, policy.file.input.magnitude.is_some())
    }

    pub fn threshold(&self) -> i64 {
        self.threshold
    }

    /// The smallest sensitive count (1, or 0 when zeros are hidden).
    pub fn smallest(&self) -> i64 {
        self.smallest
    }

    /// What the interval of a sensitive cell of `value` must contain.
    fn reach(&self, value: i64) -> (i64, i64) {
        let (lower, upper) = self.protection.levels(value, Some(self.threshold));
        (value - lower, value.saturating_add(upper))
    }

    /// The range that any sensitive count's protection stays inside: a
    /// hidden cell able to reach both ends keeps the promise whatever it holds.
    pub fn range(&self) -> (i64, i64) {
        self.needed(self.smallest, self.threshold - 1)
    }

    /// The levels reach(v) grow with v at both ends (absolute, percentage
    /// and threshold levels alike), so the smallest and largest count give
    /// the range for every count between them.
    fn needed(&self, smallest: i64, largest: i64) -> (i64, i64) {
        let (a, b) = (self.reach(smallest), self.reach(largest));
        (a.0.min(b.0), a.1.max(b.1))
    }

    /// What an attacker's interval `[lower, upper]` (`None`: unbounded above)
    /// must contain, if it admits a sensitive count; `None` if it admits none.
    pub fn required(&self, lower: i64, upper: Option<i64>) -> Option<(i64, i64)> {
        let smallest = lower.max(self.smallest);
        let largest = upper.map_or(self.threshold - 1, |u| u.min(self.threshold - 1));
        (smallest <= largest).then(|| self.needed(smallest, largest))
    }

    /// Whether a hidden cell with this attacker interval keeps the promise.
    pub fn holds(&self, lower: i64, upper: Option<i64>) -> bool {
        self.required(lower, upper).is_none_or(|(low, high)| lower <= low && upper.is_none_or(|u| u >= high))
    }
}

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
            marks.protection.set(cell, Some(primary.protection.levels(value, levels_threshold)));
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
        marks.protection.set(cell, Some((lo.max(level.min(total)), up.max(level))));
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
        marks.protection.set(empty, Some((lo, up.max(1))));
    });
    marked
}

#[cfg(test)]
mod tests {
    use super::*;

    fn promise(text: &str) -> OutsiderPromise {
        let primary: PrimarySection = toml::from_str(text).unwrap();
        OutsiderPromise::of(&primary, false).unwrap()
    }

    #[test]
    fn the_default_levels_ask_every_cell_that_may_be_small_to_reach_0_and_the_threshold() {
        let p = promise("threshold = 5");
        assert_eq!(p.range(), (0, 5));
        // May hold 1 to 4: must reach 0 and 5.
        assert!(p.holds(0, Some(5)) && p.holds(0, None));
        assert!(!p.holds(1, Some(8)) && !p.holds(4, Some(13)) && !p.holds(0, Some(4)));
        // Shown to hold 5 or more, or exactly 0 (zeros are published): nothing small to protect.
        assert!(p.holds(5, Some(5)) && p.holds(6, Some(40)) && p.holds(0, Some(0)));
        assert_eq!(p.required(4, Some(13)), Some((0, 5)));
        assert_eq!(p.required(5, Some(9)), None);
    }

    #[test]
    fn hidden_zeros_are_sensitive_counts_too() {
        let p = promise("threshold = 3\nzeros = \"hide\"");
        assert_eq!(p.smallest(), 0);
        assert!(!p.holds(0, Some(0)) && !p.holds(0, Some(2)) && p.holds(0, Some(3)));
    }

    #[test]
    fn absolute_and_percentage_levels_protect_every_count_the_interval_admits() {
        // Absolute: a count v needs [v - 1, v + 2]; the interval [2, 6] admits 2 to 4,
        // so it must reach 1 (for 2) and 6 (for 4).
        let p = promise("threshold = 5\n[protection]\nlower = 1\nupper = 2");
        assert_eq!(p.required(2, Some(6)), Some((1, 6)));
        assert!(!p.holds(2, Some(6)));
        // Reaching 1 is not enough: [1, 6] admits 1 too, which needs 0.
        assert!(!p.holds(1, Some(6)) && p.holds(0, Some(6)) && !p.holds(0, Some(5)));
        assert_eq!(p.range(), (0, 6));
        // No protection below: an interval starting at 3 keeps the promise for 3 and 4.
        let p = promise("threshold = 5\n[protection]\nupper = 2");
        assert!(p.holds(3, Some(6)) && !p.holds(3, Some(5)));
        // 50% (at least 1): 4 needs [2, 6], 1 needs [0, 2].
        let p = promise("threshold = 5\n[protection]\npercent = 50.0");
        assert_eq!(p.range(), (0, 6));
        assert_eq!(p.required(3, Some(10)), Some((1, 6)));
    }

    #[test]
    fn magnitude_tables_and_tables_without_a_threshold_make_no_such_promise() {
        let primary: PrimarySection = toml::from_str("threshold = 5").unwrap();
        assert!(OutsiderPromise::of(&primary, true).is_none());
        assert!(OutsiderPromise::of(&PrimarySection::default(), false).is_none());
        let one: PrimarySection = toml::from_str("threshold = 1").unwrap();
        assert!(OutsiderPromise::of(&one, false).is_none(), "a threshold of 1 makes no count sensitive");
    }
}
