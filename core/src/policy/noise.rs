//! `[noise]`: differential privacy for counts (see [`crate::noise`], which
//! checks the section and its budget: `crate::noise::NoiseConfig`).

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};


/// Noise mechanisms.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum NoiseMethod {
    /// No noise (the default).
    #[default]
    None,
    /// Discrete Laplace (two-sided geometric) noise: pure epsilon-DP (`epsilon`).
    DiscreteLaplace,
    /// Discrete Gaussian noise: rho-zCDP (`rho`), as the US Census Bureau used for 2020.
    DiscreteGaussian,
}

/// After the noise.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Postprocess {
    /// Weighted least squares (weights: 1 / each measurement's variance) over
    /// non-negative tables that add up and keep the invariants, then
    /// controlled rounding to whole numbers (the default).
    #[default]
    Wls,
    /// The noisy inner cells as drawn (may be negative), margins their sums.
    None,
}

/// The smallest and largest budget (epsilon, rho, a share) given as a number.
pub const MIN_BUDGET: f64 = 1e-12;
pub const MAX_BUDGET: f64 = 1e6;

/// An exact positive number: `1`, `0.5`, or a fraction as text, `"1/3"`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(untagged)]
pub enum ExactNumber {
    Number(f64),
    Text(String),
}

/// A cell published exactly.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Invariant {
    /// The cell, by codes (`dimension = code`); dimensions left out are their totals.
    #[serde(default)]
    pub cell: IndexMap<String, String>,
    /// The value the input must give this cell, when known from elsewhere.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<i64>,
}

/// How the budget is split across the levels of one dimension's hierarchy.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct NoiseLevels {
    /// The dimension whose hierarchy levels are measured (e.g. geography).
    pub dimension: String,
    /// The share of the budget for each level, from the total (level 0) down
    /// to the leaves; exact numbers that sum to 1, e.g. `["1/5", "3/10", "1/2"]`.
    pub shares: Vec<ExactNumber>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct NoiseSection {
    /// `none` (default), `discrete_laplace` or `discrete_gaussian`.
    #[serde(default)]
    pub method: NoiseMethod,
    /// Pure differential privacy budget for `discrete_laplace`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epsilon: Option<ExactNumber>,
    /// Zero-concentrated differential privacy budget for `discrete_gaussian`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rho: Option<ExactNumber>,
    /// Delta of the reported (epsilon, delta) equivalent of the budget (default 1e-6).
    #[serde(default = "default_delta")]
    pub delta: f64,
    /// The most records one child may contribute (1 for a table of persons;
    /// for events, such as border crossings, the bound the publisher
    /// enforces). The noise is scaled to it. Default 1.
    #[serde(default = "default_contributions")]
    pub contributions: u64,
    /// Split the budget across the levels of a hierarchy (each level is
    /// measured with its share). Without it, the inner cells are measured
    /// with the whole budget.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub levels: Option<NoiseLevels>,
    /// Cells published exactly, without noise: `[{ cell = {} }]` is the
    /// grand total, `[{ cell = { geo = "BR" } }]` a country's total (a
    /// dimension left out is its total). With `value` (e.g. an official
    /// census total) the input is checked against it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub invariants: Vec<Invariant>,
    /// `wls` (default) or `none`.
    #[serde(default)]
    pub postprocess: Postprocess,
    /// Confidence of the per-cell interval in `lower`/`upper` (default 0.9).
    #[serde(default = "default_confidence")]
    pub confidence: f64,
    /// Simulations of the mechanism and the post-processing, run on the
    /// published table, that give each cell's error after post-processing
    /// (default 50; 0 states the noise's error only).
    #[serde(default = "default_simulations")]
    pub simulations: u32,
    /// Mark cells published below this as of low reliability (free: post-processing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub low_reliability_below: Option<i64>,
    /// A seed makes the noise reproducible (recorded: not for publication).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Seconds the post-processing's integer program may take (default 60).
    #[serde(default = "default_time_limit")]
    pub time_limit: f64,
}

fn default_delta() -> f64 {
    1e-6
}
fn default_contributions() -> u64 {
    1
}
fn default_confidence() -> f64 {
    0.9
}
fn default_simulations() -> u32 {
    50
}
fn default_time_limit() -> f64 {
    60.0
}

impl Default for NoiseSection {
    fn default() -> Self {
        NoiseSection {
            method: NoiseMethod::None,
            epsilon: None,
            rho: None,
            delta: default_delta(),
            contributions: default_contributions(),
            levels: None,
            invariants: Vec::new(),
            postprocess: Postprocess::Wls,
            confidence: default_confidence(),
            simulations: default_simulations(),
            low_reliability_below: None,
            seed: None,
            time_limit: default_time_limit(),
        }
    }
}
