//! The audit of a published table (see [`published`]), the CI gate's
//! report ([`report`]) and its explanations ([`explain`]); the audit of a
//! protected table at protect time ([`run`]) lives beside the attacker
//! ([`crate::attacker::audit`]) and is re-exported here.

pub mod explain;
mod html;
pub mod published;
pub mod report;

pub use crate::attacker::audit::{run, AuditReport, Finding};
pub use crate::attacker::{attacker_intervals, singleton_findings, singleton_findings_of, Attacker, Interval, SingletonFinding, SINGLETON_LP_LIMIT};
