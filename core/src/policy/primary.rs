//! The `[primary]` section: which cells are sensitive, and the protection levels each must keep.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::Fallible;
use crate::fail;
use super::MAX_COUNT;

/// How zero cells are treated by the frequency threshold rule.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ZeroPolicy {
    /// Zeros are published: an empty cell discloses nothing about a child.
    #[default]
    Publish,
    /// Zeros are hidden as primary suppressions, e.g. when "no child of this
    /// nationality in this district" is itself sensitive.
    Hide,
}

/// Singletons: a hidden cell of 1 child, whose child (or family) knows it.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum SingletonPolicy {
    /// The child alone in a hidden cell of 1 knows their own count: with it,
    /// they must not be able to narrow any other sensitive cell below its
    /// protection (tau-Argus manual 4.2, "singletons"; tau-Argus issue #194).
    /// Checked by LPs (an attacker who also knows that cell is 1) on tables
    /// up to 1,000 cells, where `interval` and `fast` hide cells until the
    /// check passes and the audit's `singletons` check judges it; above
    /// that, a structural rule: a constraint whose hidden cells are a
    /// singleton and one other cell gets a third hidden cell.
    #[default]
    Protect,
    /// No singleton rule: only the outside attacker is considered.
    Ignore,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PrimarySection {
    /// Frequency threshold: a non-zero cell with a count below this value is
    /// sensitive and hidden. Must be at least 1; omit for no threshold rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<i64>,
    /// Zero cells: `publish` (default) or `hide`.
    #[serde(default)]
    pub zeros: ZeroPolicy,
    /// Singletons: `protect` (default) or `ignore`.
    #[serde(default)]
    pub singletons: SingletonPolicy,
    /// Dimensions whose categories are sensitive (e.g. `["accompaniment"]`):
    /// where every child of a group falls in one category (all 7 children of
    /// one nationality in a district are unaccompanied), the cell of that
    /// category equals its group's total and discloses the category of every
    /// child in it; it becomes sensitive, and the attacker must not be able to
    /// rule out that at least one child is elsewhere (protection 1 below).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sensitive: Vec<String>,
    /// Dominance (n,k) rule, magnitude tables: a cell whose n largest
    /// contributions exceed k% of its total is sensitive (e.g. `{ n = 1, k = 85 }`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dominance: Option<DominanceRule>,
    /// p% rule, magnitude tables: a cell is sensitive when the second largest
    /// contributor could estimate the largest to within p% (the rest of the
    /// cell after the two largest is below p% of the largest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p_percent: Option<f64>,
    /// How wide the attacker's interval around each sensitive cell must stay.
    #[serde(default)]
    pub protection: ProtectionSection,
}

/// The dominance (n,k) rule's parameters.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DominanceRule {
    /// How many of the largest contributions (1 to 3).
    pub n: usize,
    /// Their share of the cell's total, in percent, above which the cell is sensitive.
    pub k: f64,
}

/// Protection levels: the attacker's interval for a sensitive cell of value v
/// must contain `[v - lower, v + upper]`.
///
/// With no key set (the default), the levels follow the threshold n: the
/// interval must reach 0 and n (`lower = v`, `upper = n - v`), so an attacker
/// can show neither that the cell is non-empty nor that it is below n. With
/// `lower`/`upper`, the levels are absolute; with `percent`, they are that
/// percentage of the value, at least `minimum`. A lower level never exceeds
/// the value (counts cannot go below 0).
///
/// An outsider sees which cells are hidden, not which are sensitive, so every
/// hidden cell whose interval admits a sensitive count is held to the levels
/// of each count it admits (with the default: reach 0 and n); `interval`
/// hides accordingly, and both audits check it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ProtectionSection {
    /// Absolute protection below the value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lower: Option<i64>,
    /// Absolute protection above the value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upper: Option<i64>,
    /// Protection as a percentage of the value, both ways.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percent: Option<f64>,
    /// With `percent`: the smallest protection level (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum: Option<i64>,
}

impl ProtectionSection {
    /// (lower, upper) protection levels for a sensitive cell of this value.
    pub fn levels(&self, value: i64, threshold: Option<i64>) -> (i64, i64) {
        if let Some(pct) = self.percent {
            let level = ((pct / 100.0) * value as f64).ceil() as i64;
            let level = level.max(self.minimum.unwrap_or(1));
            return (level.min(value), level);
        }
        if self.lower.is_some() || self.upper.is_some() {
            return (self.lower.unwrap_or(0).min(value), self.upper.unwrap_or(0));
        }
        match threshold {
            Some(n) => (value, (n - value).max(1)),
            None => (value, 1),
        }
    }
}

/// Refuse a count-like policy value outside the exact range of the LPs
/// (see [`MAX_COUNT`]): sums and levels past it lose exactness
/// or wrap around.
pub fn check_count_range(key: &str, v: i64) -> Fallible<()> {
    if v > MAX_COUNT {
        fail!(
            Policy,
            "{key} = {v} is above 2^53 ({}), the largest count the engine computes with exactly; use a value below it",
            MAX_COUNT
        );
    }
    Ok(())
}

pub(super) fn validate_protection(p: &ProtectionSection) -> Fallible<()> {
    let absolute = p.lower.is_some() || p.upper.is_some();
    if absolute && p.percent.is_some() {
        fail!(Policy, "[primary.protection] gives both absolute levels (`lower`/`upper`) and `percent`; keep one kind");
    }
    if p.minimum.is_some() && p.percent.is_none() {
        fail!(Policy, "[primary.protection] `minimum` goes with `percent`; add `percent` or remove `minimum`");
    }
    for (key, v) in [("lower", p.lower), ("upper", p.upper), ("minimum", p.minimum)] {
        if let Some(v) = v {
            if v < 0 {
                fail!(Policy, "[primary.protection] {key} = {v} is negative; protection levels are counts of at least 0");
            }
            check_count_range(&format!("[primary.protection] {key}"), v)?;
        }
    }
    if let Some(pct) = p.percent {
        if !(pct > 0.0 && pct <= 1000.0) {
            fail!(Policy, "[primary.protection] percent = {pct} must be above 0 (and at most 1000)");
        }
    }
    Ok(())
}
