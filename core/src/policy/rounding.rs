//! The `[rounding]` section: the rounding method, its bases and its randomness.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};


/// Rounding methods.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RoundingMethod {
    /// No rounding (the default).
    #[default]
    None,
    /// To the nearest multiple of `base` (a remainder of half the base or more rounds up).
    Deterministic,
    /// Unbiased random rounding: a count r above a multiple of `base` rounds
    /// up with probability r/base, otherwise down; multiples stay.
    Random,
    /// Random rounding whose base grows with the count (`steps`), as the ABS's
    /// graduated random rounding.
    Graduated,
    /// Controlled rounding (Cox 1987): every cell, margins included, to an
    /// adjacent multiple of `base` (multiples stay), and the table still adds
    /// up along every hierarchy; an integer program minimising the total
    /// deviation, within `time_limit`.
    Controlled,
    /// Small count rounding of the inner cells (Statistics Norway's
    /// PLSrounding): inner cells of 1 to `base` - 1 go to 0 or `base`,
    /// chosen so that the margins stay close to their truth; larger inner
    /// cells stay; every margin is the sum of the published inner cells, so
    /// the table adds up and no published cell is in 1 to `base` - 1.
    Pls,
}

/// Whether margins are rounded on their own or recomputed.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum MarginRounding {
    /// Every cell, margins included, is rounded on its own: each is within
    /// one base of its truth, but totals may differ from the sum of their
    /// rounded parts (the output metadata says so).
    #[default]
    Independent,
    /// Inner cells are rounded, margins are the sums of the rounded inner
    /// cells: the table adds up, but a margin may be several bases off.
    FromInner,
}

/// Where random rounding draws from.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RoundingRandomness {
    /// ChaCha20, seeded by the operating system or by `seed` (the default).
    #[default]
    Generator,
    /// The cell's key (sum of its records' keys, `[input] record_key`): the
    /// same cell rounds the same way in every table and every release.
    CellKey,
}

/// One step of graduated rounding: counts below `below` round to `base`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RoundingStep {
    pub below: i64,
    pub base: i64,
}

/// `[rounding]`: publish every cell rounded instead of hiding cells.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RoundingSection {
    /// `none` (default), `deterministic`, `random`, `graduated`, `controlled` or `pls`.
    #[serde(default)]
    pub method: RoundingMethod,
    /// The rounding base, at least 2 (default 5; for `graduated`, the base
    /// above the last step, default 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<i64>,
    /// `graduated`: counts below each `below` round to its `base`, e.g. the
    /// default `[{ below = 20, base = 3 }, { below = 100, base = 5 }]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steps: Option<Vec<RoundingStep>>,
    /// `independent` (default) or `from_inner`.
    #[serde(default)]
    pub margins: MarginRounding,
    /// A seed makes random rounding reproducible (the output records it, and
    /// that the result is not for publication as is); without one, the
    /// generator is seeded by the operating system.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// `controlled`: seconds the integer program may take before the run
    /// stops with an error (default 60).
    #[serde(default = "default_rounding_time_limit")]
    pub time_limit: f64,
    /// `generator` (default) or `cell_key` (microdata with `[input] record_key`).
    #[serde(default)]
    pub randomness: RoundingRandomness,
}

pub(super) fn default_rounding_time_limit() -> f64 {
    60.0
}

impl Default for RoundingSection {
    fn default() -> Self {
        RoundingSection {
            method: RoundingMethod::None,
            base: None,
            steps: None,
            margins: MarginRounding::Independent,
            seed: None,
            time_limit: default_rounding_time_limit(),
            randomness: RoundingRandomness::Generator,
        }
    }
}

impl RoundingSection {
    /// Whether the rounding draws from a generator (random or graduated
    /// rounding without cell keys): the pipeline then makes one.
    pub fn draws_from_generator(&self) -> bool {
        matches!(self.method, RoundingMethod::Random | RoundingMethod::Graduated | RoundingMethod::Pls) && self.randomness == RoundingRandomness::Generator
    }

    /// The base for a cell of `count`: `base` (default 5) or, for
    /// `graduated`, the first step the count is below, else the base above
    /// the steps (default 10).
    pub fn base_for(&self, count: i64) -> i64 {
        match self.method {
            RoundingMethod::Graduated => self.steps().iter().find(|s| count < s.below).map_or(self.base.unwrap_or(10), |s| s.base),
            _ => self.base.unwrap_or(5),
        }
    }

    /// Every base a published value may be a multiple of.
    pub fn bases(&self) -> Vec<i64> {
        let mut bases: Vec<i64> = match self.method {
            RoundingMethod::Graduated => self.steps().iter().map(|s| s.base).chain(std::iter::once(self.base_for(i64::MAX))).collect(),
            _ => vec![self.base_for(0)],
        };
        bases.sort_unstable();
        bases.dedup();
        bases
    }

    /// Graduated rounding's steps, the policy's or the default.
    fn steps(&self) -> &[RoundingStep] {
        self.steps.as_deref().unwrap_or(DEFAULT_ROUNDING_STEPS)
    }
}

pub const DEFAULT_ROUNDING_STEPS: &[RoundingStep] = &[RoundingStep { below: 20, base: 3 }, RoundingStep { below: 100, base: 5 }];
