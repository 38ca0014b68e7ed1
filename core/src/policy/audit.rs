//! The `[audit]` section: the audit of every run, and the written consent it takes to skip it.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::PolicyFile;
use crate::error::Fallible;
use crate::fail;

pub(super) fn validate_audit(file: &PolicyFile) -> Fallible<()> {
    let audit = &file.audit;
    match (&audit.skip, audit.enabled) {
        (Some(text), _) if text != AUDIT_SKIP_CONSENT => fail!(
            Policy,
            "[audit] skip = \"{text}\" is not the consent it asks for; to publish hidden cells without the audit, write exactly skip = \"{AUDIT_SKIP_CONSENT}\" (and enabled = false), or remove skip"
        ),
        (Some(_), true) => fail!(Policy, "[audit] skip is given but the audit is enabled; remove skip (the audit runs), or set enabled = false to skip it"),
        (None, false) if file.hides_cells() => fail!(
            Policy,
            "[audit] enabled = false would publish hidden cells that nobody checked: an outsider may recover them from the margins; \
             remove `enabled = false`, or, if you accept an unaudited table, add skip = \"{AUDIT_SKIP_CONSENT}\" to [audit]"
        ),
        _ => Ok(()),
    }
}

/// The only value of `[audit] skip` that switches the audit of a table
/// with hidden cells off: a producer must write it out, so that an
/// unaudited suppression is never published by accident.
pub const AUDIT_SKIP_CONSENT: &str = "I accept an unaudited table";

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AuditSection {
    /// Whether the LP audit runs after protection and fills `lower`/`upper`
    /// (default true). A policy that hides cells may switch it off only with
    /// `skip` as well.
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// To protect a table with hidden cells without the audit, set
    /// `enabled = false` and `skip = "I accept an unaudited table"`. The
    /// output then says NOT AUDITED, and `amparo audit` fails it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip: Option<String>,
    /// The most hidden cells for which the audit computes every exact
    /// interval (`lower`/`upper`, two LPs per cell; default 5,000). Above it
    /// the audit still decides, exactly, whether every sensitive cell keeps its
    /// protection, but fills `lower`/`upper` only with the exact intervals of
    /// the cells it reports on the whole table; a cell proven exposed by the
    /// constraints near it has a finding with a bound that contains its
    /// interval, and empty `lower`/`upper`. The metadata's `intervals` note
    /// says which cells carry one.
    #[serde(default = "default_interval_limit")]
    pub interval_limit: usize,
}

pub(super) fn default_interval_limit() -> usize {
    5_000
}

impl Default for AuditSection {
    fn default() -> Self {
        AuditSection { enabled: true, skip: None, interval_limit: default_interval_limit() }
    }
}

pub(super) fn default_true() -> bool {
    true
}
