//! The `[perturbation]` section: the cell key method and its perturbation
//! table (built, or read and hashed, once at load time by
//! `crate::cellkey::CellKeyConfig`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};


/// Perturbation methods.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum PerturbationMethod {
    /// No perturbation (the default).
    #[default]
    None,
    /// The cell key method: each cell's count n is published as n + v, v
    /// looked up from the cell's key (the sum of its records' keys) in a
    /// perturbation table built from `max_deviation`, `variance`, `js`.
    CellKey,
}

/// `[perturbation]`: publish every cell perturbed by the cell key method.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct PerturbationSection {
    /// `none` (default) or `cell_key`.
    #[serde(default)]
    pub method: PerturbationMethod,
    /// Maximum deviation D: |v| <= D (default 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_deviation: Option<i64>,
    /// Variance V of the noise (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variance: Option<f64>,
    /// No published value in 1..js (default 0: small values may appear).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub js: Option<i64>,
    /// Probability that a count is left as it is, in every row (optional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p_stay: Option<f64>,
    /// A perturbation table given as a CSV file (columns `i`, `v`, `p`: the
    /// probability p of adding v to a count i; rows i = 0, 1, ... up to the
    /// row used for every larger count), instead of the parameters above.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ptable_file: Option<String>,
}
