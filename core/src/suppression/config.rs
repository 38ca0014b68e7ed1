//! `[primary]` and `[secondary]`, checked: what cell suppression runs with.

use crate::error::Fallible;
use crate::{err, fail};
use crate::policy::{PolicyFile, PrimarySection, SecondaryMethod, SecondarySection, SingletonPolicy};
use crate::rules::OutsiderPromise;

/// A checked suppression: the primary rules, the secondary method, and the
/// promise every hidden cell keeps for an outsider.
#[derive(Debug, Clone, PartialEq)]
pub struct SuppressionConfig {
    pub primary: PrimarySection,
    pub secondary: SecondarySection,
    /// `[primary] singletons = "protect"`.
    pub singletons: bool,
    /// None when no threshold applies (see [`OutsiderPromise::of`]).
    pub promise: Option<OutsiderPromise>,
}

impl SuppressionConfig {
    /// `[secondary]` checked against the rest of the policy (`[primary]`
    /// has its own checks in the policy file's, since the published audit
    /// reads it too).
    pub fn new(file: &PolicyFile) -> Fallible<SuppressionConfig> {
        let secondary = &file.secondary;
        let limit = secondary.time_limit;
        if !(limit.is_finite() && limit > 0.0) {
            fail!(Policy, "[secondary] time_limit = {limit} must be a positive number of seconds, e.g. `time_limit = 600`");
        }
        let name = secondary.method.name();
        if matches!(secondary.method, SecondaryMethod::Interval | SecondaryMethod::Optimal | SecondaryMethod::Modular | SecondaryMethod::Patterns) && !file.audit.enabled {
            fail!(Policy, "[secondary] method = \"{name}\" is checked by the audit, but [audit] enabled = false; enable the audit");
        }
        if matches!(secondary.method, SecondaryMethod::Fast | SecondaryMethod::Patterns) && !file.tables.is_empty() {
            return Err(one_table_only(secondary.method));
        }
        Ok(SuppressionConfig {
            primary: file.primary.clone(),
            secondary: secondary.clone(),
            singletons: file.primary.singletons == SingletonPolicy::Protect,
            promise: OutsiderPromise::of(&file.primary, file.input.magnitude.is_some()),
        })
    }
}

/// The refusal of a method that protects one table at a time (`fast`,
/// `patterns`) given linked tables: at load time, and again where linked
/// cubes reach it through the library.
pub fn one_table_only(method: SecondaryMethod) -> crate::Error {
    err!(Policy, "[secondary] method = \"{}\" protects one table at a time; linked tables need method = \"interval\", \"optimal\" or \"modular\"", method.name())
}
