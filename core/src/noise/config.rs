//! `[noise]`, checked: the mechanism's budget as exact fractions (the
//! total, and each level's share, which must add up to exactly 1).

use super::sample::Fraction;
use crate::error::Fallible;
use crate::fail;
use crate::policy::{ExactNumber, NoiseMethod, NoiseSection, Postprocess, MAX_BUDGET, MIN_BUDGET};

/// `number` as an exact fraction; `name` says which parameter, for the error.
pub fn exact_fraction(number: &ExactNumber, name: &str) -> Fallible<Fraction> {
    let text = match number {
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

/// The checked budget: the mechanism's total and each level's exact share.
#[derive(Debug, Clone, PartialEq)]
pub struct NoiseBudget {
    /// epsilon (Laplace) or rho (Gaussian).
    pub total: Fraction,
    /// (level, share) from the total down; one entry (level None) without `levels`.
    pub shares: Vec<Fraction>,
}

/// A checked `[noise]`: its section and its budget.
#[derive(Debug, Clone, PartialEq)]
pub struct NoiseConfig {
    pub section: NoiseSection,
    pub budget: NoiseBudget,
}

impl NoiseConfig {
    /// `[noise]` checked against the table's `dimensions`, with its budget;
    /// None when the policy adds no noise.
    pub fn new(section: &NoiseSection, dimensions: &[&str]) -> Fallible<Option<NoiseConfig>> {
        let this = section;
        if this.method == NoiseMethod::None {
            if *this != NoiseSection::default() {
                fail!(Policy, "[noise] sets parameters but no method; add `method = \"discrete_gaussian\"` (or discrete_laplace), or remove the section");
            }
            return Ok(None);
        }
        let (name, given, other) = match this.method {
            NoiseMethod::DiscreteLaplace => ("epsilon", &this.epsilon, ("rho", &this.rho)),
            _ => ("rho", &this.rho, ("epsilon", &this.epsilon)),
        };
        let method = if this.method == NoiseMethod::DiscreteLaplace { "discrete_laplace" } else { "discrete_gaussian" };
        if other.1.is_some() {
            fail!(Policy, "[noise] method = \"{method}\" takes its budget as `{name}`, not `{}`; remove `{}`", other.0, other.0);
        }
        let Some(total) = given else {
            fail!(Policy, "[noise] method = \"{method}\" needs a budget: `{name} = ...` (e.g. `{name} = 1` or `{name} = \"1/2\"`)");
        };
        let total = exact_fraction(total, name)?;
        if !(this.delta > 0.0 && this.delta < 1.0) {
            fail!(Policy, "[noise] delta = {} must be between 0 and 1 (exclusive), e.g. `delta = 1e-6`", this.delta);
        }
        if this.contributions == 0 {
            fail!(Policy, "[noise] contributions = 0: each child contributes at least one record; use 1 for a table of persons");
        }
        if !(this.confidence > 0.0 && this.confidence < 1.0) {
            fail!(Policy, "[noise] confidence = {} must be between 0 and 1 (exclusive), e.g. `confidence = 0.9`", this.confidence);
        }
        if !(this.time_limit.is_finite() && this.time_limit > 0.0) {
            fail!(Policy, "[noise] time_limit = {} must be a positive number of seconds", this.time_limit);
        }
        let shares = match &this.levels {
            None => vec![Fraction { num: 1, den: 1 }],
            Some(levels) => {
                if !dimensions.contains(&levels.dimension.as_str()) {
                    fail!(Policy, "[noise] levels names dimension `{}`, which the table does not have (dimensions: {})", levels.dimension, dimensions.join(", "));
                }
                if this.postprocess == Postprocess::None {
                    fail!(Policy, "[noise] levels measures margins and inner cells apart; they are reconciled by postprocess = \"wls\" (remove postprocess = \"none\")");
                }
                let shares = levels.shares.iter().enumerate().map(|(i, s)| exact_fraction(s, &format!("levels.shares[{i}]"))).collect::<Fallible<Vec<_>>>()?;
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
        Ok(Some(NoiseConfig { section: section.clone(), budget: NoiseBudget { total, shares } }))
    }
}
