//! The `[publication]` section (what the published file looks like) and the sections a later engine fills.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{PolicyFile, check_dimension_named};
use crate::error::Fallible;
use crate::{err, fail};

/// A method section that a later version of the engine fills. This version
/// accepts `method = "none"` only, so that a policy asking for a method the
/// engine does not have fails at the start rather than publishing unprotected data.
///
/// (Rounding has its own section, [`RoundingSection`].)
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MethodSection {
    /// The method; this engine version implements `none` only.
    #[serde(default = "default_method")]
    pub method: String,
}

impl Default for MethodSection {
    fn default() -> Self {
        MethodSection { method: default_method() }
    }
}

pub(super) fn default_method() -> String {
    "none".to_owned()
}

/// How the publication file lays out its cells.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Layout {
    /// One row per cell: the dimension columns, then the published value.
    #[default]
    Long,
    /// As tables are printed in reports: one dimension (`across`) across the
    /// columns, one column per code; the other dimensions down the rows.
    Wide,
}

/// The file people publish (`amparo publish`, Python `amparo.publish`, R
/// `publish`): the dimension columns (and labels) and the published values,
/// every hidden cell carrying one marker, and nothing else an outsider may
/// not know (no status, reason, interval or original count).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PublicationSection {
    /// The mark of every hidden cell, primary or secondary alike (default `x`).
    /// Zeros are published as 0 unless `[primary] zeros = "hide"`.
    #[serde(default = "default_hidden_marker")]
    pub hidden_marker: String,
    /// `long` (default: a row per cell) or `wide` (one dimension across the columns).
    #[serde(default)]
    pub layout: Layout,
    /// With `layout = "wide"`: the dimension whose codes become the columns
    /// (default: the last dimension).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub across: Option<String>,
    /// Name of the column of published values in the long layout (default:
    /// `[input] count`, else `count`). `amparo audit` reads it by this name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_column: Option<String>,
    /// Columns besides the dimensions and the published values that a
    /// published table may carry without failing the audit's `columns` check
    /// (e.g. a footnote column a producer adds). Never the internal columns
    /// (`value`, `status`, `reason`, `lower`, `upper`, `sd`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extra_columns: Vec<String>,
    /// Labels of codes, per dimension: `[publication.labels.sex] F = "Female"`.
    /// A dimension with labels gets a `<dimension>_label` column beside its
    /// codes (a code without a label shows the code).
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub labels: IndexMap<String, IndexMap<String, String>>,
    /// SDMX-CSV output: the `DATAFLOW` column, `AGENCY:ID(VERSION)` (default
    /// `AMPARO:<table name>(1.0)`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataflow: Option<String>,
}

impl Layout {
    /// The layout named `long` or `wide`.
    pub fn from_name(name: &str) -> Fallible<Layout> {
        match name {
            "long" => Ok(Layout::Long),
            "wide" => Ok(Layout::Wide),
            other => Err(err!(Policy, "unknown layout `{other}`; use long (a row per cell) or wide (one dimension across the columns)")),
        }
    }
}

pub(super) fn default_hidden_marker() -> String {
    "x".to_owned()
}

impl Default for PublicationSection {
    fn default() -> Self {
        PublicationSection {
            hidden_marker: default_hidden_marker(),
            layout: Layout::Long,
            across: None,
            value_column: None,
            extra_columns: Vec::new(),
            labels: IndexMap::new(),
            dataflow: None,
        }
    }
}

/// Internal columns of a protected table that a publication never carries:
/// each tells an outsider something the protection hides.
pub const INTERNAL_COLUMNS: [&str; 6] = ["value", "status", "reason", "lower", "upper", "sd"];

/// Whether a spreadsheet would run this text as a formula (OWASP's CSV
/// injection list: `=`, `+`, `-`, `@`, tab, carriage return at the start).
pub fn looks_like_formula(text: &str) -> bool {
    text.starts_with(['=', '+', '-', '@', '\t', '\r'])
}

pub(super) fn validate_publication(file: &PolicyFile) -> Fallible<()> {
    let p = &file.publication;
    let marker = p.hidden_marker.as_str();
    if marker.trim().parse::<f64>().is_ok() {
        fail!(Policy, "[publication] hidden_marker = \"{marker}\" reads as a number, so a hidden cell would look published; use a mark such as \"x\", \"..\" or \"c\"");
    }
    if marker != "-" && looks_like_formula(marker) {
        fail!(Policy, "[publication] hidden_marker = \"{marker}\" starts like a spreadsheet formula (=, +, -, @); use a mark such as \"x\", \"..\" or \"c\"");
    }
    if marker.chars().any(char::is_control) || marker.chars().count() > 16 {
        fail!(Policy, "[publication] hidden_marker must be at most 16 characters on one line (e.g. \"x\"); it is written in every hidden cell");
    }
    if marker != marker.trim() {
        fail!(Policy, "[publication] hidden_marker = \"{marker}\" has spaces around it, which readers drop; write \"{}\"", marker.trim());
    }
    let dimension_columns: Vec<&str> = file
        .dimensions
        .iter()
        .flat_map(|(name, d)| [name.as_str(), d.column.as_deref().unwrap_or(name)])
        .collect();
    if let Some(across) = &p.across {
        check_dimension_named(file, across, |hint, names| {
            format!("[publication] across = \"{across}\" is not a dimension{hint}; name the dimension whose codes become the columns ({names})")
        })?;
    }
    if let Some(column) = &p.value_column {
        if column.trim().is_empty() || INTERNAL_COLUMNS.contains(&column.as_str()) || dimension_columns.contains(&column.as_str()) {
            fail!(
                Policy,
                "[publication] value_column = \"{column}\" cannot name the published values: it is empty, a dimension, or an internal column ({}); use e.g. \"children\"",
                INTERNAL_COLUMNS.join(", ")
            );
        }
    }
    for column in &p.extra_columns {
        if INTERNAL_COLUMNS.contains(&column.as_str()) || column == "published" {
            fail!(
                Policy,
                "[publication] extra_columns lists `{column}`, an internal column of the protected table: published, it tells an outsider what the protection hides; remove it"
            );
        }
    }
    for name in p.labels.keys() {
        check_dimension_named(file, name, |hint, names| {
            format!("[publication.labels.{name}] gives labels for `{name}`, which is not a dimension{hint}; label one of: {names}")
        })?;
    }
    if let Some(flow) = &p.dataflow {
        let ok = flow.split_once(':').and_then(|(agency, rest)| rest.strip_suffix(')').and_then(|r| r.split_once('(')).map(|(id, v)| (agency, id, v)));
        if !ok.is_some_and(|(a, id, v)| !a.is_empty() && !id.is_empty() && !v.is_empty() && flow.chars().all(|c| c.is_ascii_alphanumeric() || "_-.:()@".contains(c))) {
            fail!(Policy, "[publication] dataflow = \"{flow}\" is not an SDMX dataflow reference; write AGENCY:ID(VERSION), e.g. \"UNICEF:CHILD_MIGRATION(1.0)\"");
        }
    }
    Ok(())
}
