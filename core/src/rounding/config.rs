//! `[rounding]`, checked: what the rounding methods of this folder run with.

use crate::error::Fallible;
use crate::fail;
use crate::policy::{check_count_range, InputKind, MarginRounding, PolicyFile, RoundingMethod, RoundingRandomness, RoundingSection, SecondaryMethod};

/// A checked `[rounding]`: its section, and the record key column the cell
/// key randomness reads.
#[derive(Debug, Clone, PartialEq)]
pub struct RoundingConfig {
    pub section: RoundingSection,
    pub record_key: Option<String>,
}

impl RoundingConfig {
    /// `[rounding]` checked against the rest of the policy; None when the
    /// policy does not round.
    pub fn new(file: &PolicyFile) -> Fallible<Option<RoundingConfig>> {
        let r = &file.rounding;
        if r.method == RoundingMethod::None {
            if r.base.is_some() || r.steps.is_some() || r.seed.is_some() || r.margins != MarginRounding::Independent {
                fail!(Policy, "[rounding] sets parameters but no method; add `method = \"random\"` (or deterministic, graduated), or remove the section");
            }
            return Ok(None);
        }
        if !(r.time_limit.is_finite() && r.time_limit > 0.0) {
            fail!(Policy, "[rounding] time_limit = {} must be a positive number of seconds, e.g. `time_limit = 60`", r.time_limit);
        }
        if r.method == RoundingMethod::Controlled && r.margins != MarginRounding::Independent {
            fail!(Policy, "[rounding] method = \"controlled\" rounds the margins too and keeps the table adding up; remove `margins`");
        }
        if r.method == RoundingMethod::Pls && r.margins != MarginRounding::Independent {
            fail!(Policy, "[rounding] method = \"pls\" always publishes each margin as the sum of its rounded inner cells; remove `margins`");
        }
        if let Some(b) = r.base {
            check_count_range("[rounding] base", b)?;
        }
        for (k, step) in r.steps.iter().flatten().enumerate() {
            check_count_range(&format!("[rounding] steps[{k}] base"), step.base)?;
            check_count_range(&format!("[rounding] steps[{k}] below"), step.below)?;
        }
        if let Some(b) = r.base.filter(|&b| b < 2) {
            fail!(Policy, "[rounding] base = {b}: a rounding base must be at least 2 (e.g. 3, 5 or 10)");
        }
        match (&r.steps, r.method) {
            (Some(_), m) if m != RoundingMethod::Graduated => {
                fail!(Policy, "[rounding] steps go with method = \"graduated\"; remove `steps` or change the method")
            }
            (Some(steps), _) => {
                if steps.is_empty() {
                    fail!(Policy, "[rounding] steps is empty; list at least one step, e.g. `steps = [{{ below = 20, base = 3 }}]`, or leave it out for the default");
                }
                for (k, s) in steps.iter().enumerate() {
                    if s.base < 2 {
                        fail!(Policy, "[rounding] steps[{k}] has base = {}: a rounding base must be at least 2", s.base);
                    }
                    if k > 0 && s.below <= steps[k - 1].below {
                        fail!(
                            Policy,
                            "[rounding] steps must have increasing `below`: steps[{k}] has below = {} after below = {}; sort the steps",
                            s.below,
                            steps[k - 1].below
                        );
                    }
                }
            }
            _ => {}
        }
        if r.seed.is_some() && matches!(r.method, RoundingMethod::Deterministic | RoundingMethod::Controlled) {
            fail!(Policy, "[rounding] seed has no effect with method = \"{}\" (it draws no random numbers); remove the seed", if r.method == RoundingMethod::Controlled { "controlled" } else { "deterministic" });
        }
        if r.randomness == RoundingRandomness::CellKey {
            if !matches!(r.method, RoundingMethod::Random | RoundingMethod::Graduated) {
                fail!(Policy, "[rounding] randomness = \"cell_key\" goes with method = \"random\" or \"graduated\"; remove it or change the method");
            }
            if r.seed.is_some() {
                fail!(Policy, "[rounding] randomness = \"cell_key\" draws from the record keys, not from a seed; remove the seed");
            }
            if file.input.kind != InputKind::Microdata || file.input.record_key.is_none() {
                fail!(Policy, "[rounding] randomness = \"cell_key\" needs microdata with record keys: set [input] kind = \"microdata\" and record_key");
            }
        }
        if file.secondary.method != SecondaryMethod::None {
            fail!(
                Policy,
                "[rounding] and [secondary] method = \"{}\" both protect the table (one rounds every cell, the other hides cells); keep one of them",
                file.secondary.method.name()
            );
        }
        if let Some(n) = file.primary.threshold {
            fail!(Policy, "[rounding] rounds every cell, but [primary] threshold = {n} would hide cells too; remove the threshold (or the [rounding] section)");
        }
        if !file.tables.is_empty() && matches!(r.method, RoundingMethod::Controlled | RoundingMethod::Pls) {
            fail!(
                Policy,
                "[rounding] method = \"{}\" chooses each cell's rounding from the whole table, so a cell shared by linked tables \
                 ([tables]) could round differently in each; use method = \"random\" with randomness = \"cell_key\" (and [input] \
                 record_key), or protect the tables one policy at a time",
                if r.method == RoundingMethod::Pls { "pls" } else { "controlled" }
            );
        }
        if !file.tables.is_empty() && r.randomness != RoundingRandomness::CellKey {
            fail!(
                Policy,
                "[rounding] of linked tables ([tables]) needs randomness = \"cell_key\" (with [input] record_key), so that a cell shared by \
                 two tables rounds the same way in each; or protect the tables one policy at a time"
            );
        }
        Ok(Some(RoundingConfig { section: r.clone(), record_key: file.input.record_key.clone() }))
    }
}
