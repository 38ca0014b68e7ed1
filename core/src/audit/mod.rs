//! The audit of a published table (see [`published`]), the CI gate's
//! report ([`report`]) and its explanations ([`explain`]); the audit of a
//! protected table at protect time ([`run`]) lives beside the attacker
//! ([`crate::attacker::audit`]) and is re-exported here.

pub mod explain;
mod html;
pub mod published;
mod read;
pub mod report;

pub use crate::attacker::audit::{run, AuditReport, Finding};
pub use crate::attacker::{attacker_intervals, singleton_findings, singleton_findings_of, Attacker, Interval, SingletonFinding, SINGLETON_LP_LIMIT};

use arrow_array::RecordBatchReader;

use crate::error::Fallible;
use crate::fail;
use crate::policy::CheckedPolicy;

/// Audit a table as published (hidden cells null, marked by one of
/// `hidden_symbols` (default [`published::DEFAULT_HIDDEN_SYMBOLS`]),
/// or left out): see [`published`].
pub fn audit_published(
    policy: &CheckedPolicy,
    input: &mut dyn RecordBatchReader,
    value_column: Option<&str>,
    hidden_symbols: Option<&[String]>,
) -> Fallible<(published::PublishedTable, published::PublishedAudit)> {
    let table = published::read_published(policy, input, value_column, hidden_symbols)?;
    let report = published::audit_published(policy, &table)?;
    Ok((table, report))
}

/// Audit several published linked tables at once: the policy's `[tables]`,
/// one input each, in its order (see [`published::audit_published_linked`]).
pub fn audit_published_tables(
    policy: &CheckedPolicy,
    inputs: Vec<Box<dyn RecordBatchReader + Send>>,
    value_column: Option<&str>,
    hidden_symbols: Option<&[String]>,
) -> Fallible<published::PublishedAudit> {
    let published = read_published_tables(policy, inputs, value_column, hidden_symbols)?;
    published::audit_published_linked(policy, &published)
}

/// Read the published tables a policy describes: one, or one per linked
/// table (its `[tables]`, in order), each placed on its hierarchy.
pub fn read_published_tables(
    policy: &CheckedPolicy,
    inputs: Vec<Box<dyn RecordBatchReader + Send>>,
    value_column: Option<&str>,
    hidden_symbols: Option<&[String]>,
) -> Fallible<Vec<published::PublishedTable>> {
    let tables = policy.linked_tables();
    if tables.is_empty() && inputs.len() != 1 {
        fail!(Policy, "{} tables were given, but the policy describes one table (it has no [tables])", inputs.len());
    }
    if !tables.is_empty() && tables.len() != inputs.len() {
        let names: Vec<&str> = tables.iter().map(|(n, _)| n.as_str()).collect();
        fail!(
            Policy,
            "the policy lists {} linked tables ({}) but {} published tables were given; give one per table, in that order",
            tables.len(),
            names.join(", "),
            inputs.len()
        );
    }
    let policies: Vec<&CheckedPolicy> = if tables.is_empty() { vec![policy] } else { tables.iter().map(|(_, p)| p).collect() };
    policies
        .into_iter()
        .zip(inputs)
        .map(|(p, mut input)| published::read_published(p, &mut *input, value_column, hidden_symbols))
        .collect()
}

