//! `[noise]`: differential privacy for counts (see [`crate::noise`]).

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::Fallible;
use crate::fail;
use crate::noise::sample::Fraction;

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

impl ExactNumber {
    /// As an exact fraction; `name` says which parameter, for the error.
    pub fn fraction(&self, name: &str) -> Fallible<Fraction> {
        let text = match self {
            ExactNumber::Number(x) if x.is_finite() && *x > 0.0 && !(MIN_BUDGET..=MAX_BUDGET).contains(x) => fail!(
                Policy,
                "[noise] {name} = {x:e} is outside the range of budgets Amparo takes ({MIN_BUDGET:e} to {MAX_BUDGET:e}): above it the noise \
                 protects nothing, below it the noise drowns every count; choose a budget in that range (e.g. `{name} = 1` or `{name} = \"1/3\"`)"
            ),
            ExactNumber::Number(x) if x.is_finite() && *x > 0.0 => format!("{x}"),
            ExactNumber::Number(x) => fail!(Policy, "[noise] {name} = {x} must be a positive finite number, e.g. `{name} = 1` or `{name} = \"1/3\"`"),
            ExactNumber::Text(t) => t.clone(),
        };
        match Fraction::parse(&text) {
            Some(f) => Ok(f),
            None => fail!(
                Policy,
                "[noise] {name} = {text:?} is not a positive exact number; write a decimal (`0.5`) or a fraction (`\"1/3\"`), above 0"
            ),
        }
    }
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

/// The checked budget: the mechanism's total and each level's exact share.
#[derive(Debug, Clone, PartialEq)]
pub struct NoiseBudget {
    /// epsilon (Laplace) or rho (Gaussian).
    pub total: Fraction,
    /// (level, share) from the total down; one entry (level None) without `levels`.
    pub shares: Vec<Fraction>,
}

impl NoiseSection {
    /// Check the section against the rest of the policy and return the budget.
    pub fn check(&self, dimensions: &[&str]) -> Fallible<Option<NoiseBudget>> {
        if self.method == NoiseMethod::None {
            if *self != NoiseSection::default() {
                fail!(Policy, "[noise] sets parameters but no method; add `method = \"discrete_gaussian\"` (or discrete_laplace), or remove the section");
            }
            return Ok(None);
        }
        let (name, given, other) = match self.method {
            NoiseMethod::DiscreteLaplace => ("epsilon", &self.epsilon, ("rho", &self.rho)),
            _ => ("rho", &self.rho, ("epsilon", &self.epsilon)),
        };
        let method = if self.method == NoiseMethod::DiscreteLaplace { "discrete_laplace" } else { "discrete_gaussian" };
        if other.1.is_some() {
            fail!(Policy, "[noise] method = \"{method}\" takes its budget as `{name}`, not `{}`; remove `{}`", other.0, other.0);
        }
        let Some(total) = given else {
            fail!(Policy, "[noise] method = \"{method}\" needs a budget: `{name} = ...` (e.g. `{name} = 1` or `{name} = \"1/2\"`)");
        };
        let total = total.fraction(name)?;
        if !(self.delta > 0.0 && self.delta < 1.0) {
            fail!(Policy, "[noise] delta = {} must be between 0 and 1 (exclusive), e.g. `delta = 1e-6`", self.delta);
        }
        if self.contributions == 0 {
            fail!(Policy, "[noise] contributions = 0: each child contributes at least one record; use 1 for a table of persons");
        }
        if !(self.confidence > 0.0 && self.confidence < 1.0) {
            fail!(Policy, "[noise] confidence = {} must be between 0 and 1 (exclusive), e.g. `confidence = 0.9`", self.confidence);
        }
        if !(self.time_limit.is_finite() && self.time_limit > 0.0) {
            fail!(Policy, "[noise] time_limit = {} must be a positive number of seconds", self.time_limit);
        }
        let shares = match &self.levels {
            None => vec![Fraction { num: 1, den: 1 }],
            Some(levels) => {
                if !dimensions.contains(&levels.dimension.as_str()) {
                    fail!(Policy, "[noise] levels names dimension `{}`, which the table does not have (dimensions: {})", levels.dimension, dimensions.join(", "));
                }
                if self.postprocess == Postprocess::None {
                    fail!(Policy, "[noise] levels measures margins and inner cells apart; they are reconciled by postprocess = \"wls\" (remove postprocess = \"none\")");
                }
                let shares = levels.shares.iter().enumerate().map(|(i, s)| s.fraction(&format!("levels.shares[{i}]"))).collect::<Fallible<Vec<_>>>()?;
                // The shares must sum to exactly 1: sum the fractions exactly.
                let (mut num, mut den) = (0u128, 1u128);
                for s in &shares {
                    num = num * s.den as u128 + s.num as u128 * den;
                    den *= s.den as u128;
                    let g = num_integer::gcd(num, den);
                    (num, den) = (num / g, den / g);
                }
                if num != den {
                    let texts: Vec<String> = shares.iter().map(Fraction::to_string).collect();
                    fail!(
                        Policy,
                        "[noise] levels.shares = [{}] sum to {num}/{den}, not 1; the shares split the whole budget, so they must add up to 1 exactly",
                        texts.join(", ")
                    );
                }
                shares
            }
        };
        Ok(Some(NoiseBudget { total, shares }))
    }
}
