//! The `[secondary]` section: how complementary cells are chosen, at what cost, within what time.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Secondary suppression methods.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum SecondaryMethod {
    /// No secondary suppression: only primary cells are hidden (the audit will
    /// usually find them recoverable).
    #[default]
    None,
    /// The best of `optimal` and `patterns` that fits: `optimal` on tables
    /// of up to `lp_limit` cells (and on linked tables), `patterns` on
    /// larger ones. The output's metadata names the one that ran, and why.
    Interval,
    /// Protection LPs over the whole table (Fischetti & Salazar-Gonzalez
    /// 2001, LP heuristic, as tau-Argus's optimal method): the fewest hidden
    /// cells; each LP costs seconds above about 5,000 cells.
    Optimal,
    /// The protection LPs of `optimal` on the subtables of a hierarchical
    /// table (one level of each dimension's tree with its margin), top-down,
    /// then a check of the whole table (de Wolf 2002, as tau-Argus's modular
    /// method, HiTaS): close to `optimal`'s cells at a fraction of its time.
    /// Linked tables: each table's subtables, with one status per shared cell.
    Modular,
    /// Hypercube patterns (Repsilber 1994, as tau-Argus's GHMITER), then
    /// protection LPs for the few cells no pattern protects: scales to
    /// 10^5-10^6 cells but hides more, often through large margins. One table at a time.
    Patterns,
    /// Hide complementary cells until no hidden cell can be computed exactly
    /// from the published ones (Gaussian elimination, as GaussSuppression);
    /// scales to large tables, but intervals may stay narrow.
    Fast,
}

impl SecondaryMethod {
    /// The method's name in the policy file.
    pub fn name(self) -> &'static str {
        match self {
            SecondaryMethod::None => "none",
            SecondaryMethod::Interval => "interval",
            SecondaryMethod::Optimal => "optimal",
            SecondaryMethod::Modular => "modular",
            SecondaryMethod::Patterns => "patterns",
            SecondaryMethod::Fast => "fast",
        }
    }
}

/// What hiding a cell costs, for secondary suppression to minimise.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum CostKind {
    /// Every hidden cell costs 1: hide as few cells as possible.
    #[default]
    Unit,
    /// A cell costs its count (at least 1): hide as few children as possible.
    Value,
    /// A cell costs 1 + ln(1 + count): between the two.
    Log,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SecondarySection {
    /// `none` (default), `interval`, `optimal`, `modular`, `patterns` or `fast`.
    #[serde(default)]
    pub method: SecondaryMethod,
    /// Cost of hiding a cell: `unit` (default), `value` or `log`.
    #[serde(default)]
    pub cost: CostKind,
    /// Seconds secondary suppression may take before the run stops with an
    /// error rather than running on (default 600).
    #[serde(default = "default_time_limit")]
    pub time_limit: f64,
    /// `interval` protects tables of up to this many cells (margins included)
    /// with `optimal` (protection LPs over the whole table, which hide the
    /// fewest cells), and larger tables with `patterns` (hypercube
    /// patterns, which scale to 10^5-10^6 cells but hide more); default
    /// 5000, 0 means patterns always.
    #[serde(default = "default_lp_limit")]
    pub lp_limit: usize,
    /// Cells that must stay published, each named by its codes, e.g.
    /// `{ district = "National", nationality = "VEN" }` (a dimension left out
    /// means its total). Secondary suppression never picks them; if protection
    /// is impossible without them, the run fails naming them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub force_published: Vec<IndexMap<String, String>>,
    /// Cells that must be hidden whatever their value (e.g. a municipality the
    /// publisher never shows); they are not protected themselves.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub force_hidden: Vec<IndexMap<String, String>>,
}

pub(super) fn default_time_limit() -> f64 {
    600.0
}

pub(super) fn default_lp_limit() -> usize {
    5_000
}

impl Default for SecondarySection {
    fn default() -> Self {
        SecondarySection {
            method: SecondaryMethod::None,
            cost: CostKind::Unit,
            time_limit: default_time_limit(),
            lp_limit: default_lp_limit(),
            force_published: Vec::new(),
            force_hidden: Vec::new(),
        }
    }
}
