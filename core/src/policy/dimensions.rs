//! The `[dimensions.<name>]` sections: each dimension's codes and hierarchy, resolved to a [`HierarchySpec`] at load time.

use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{MAX_CODES_FILE_BYTES, PolicyFile, suggest_code};
use crate::error::Fallible;
use crate::{err, fail};

pub use crate::hierarchy::HierarchySpec;

/// One dimension of the table and its hierarchy of codes.
///
/// Exactly one of `codes`, `tree`, `codes_file`, `parents` and `code_lengths` may be
/// given; with none, the dimension is flat and its codes are those found in
/// the data, under a generated total.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DimensionSection {
    /// Input column holding this dimension's codes (default: the dimension's name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    /// Code of the generated total (default `Total`). Not used with `tree`,
    /// whose root is the code that is nobody's child, nor with a `codes_file`
    /// that has a single root row (that row is the total).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<String>,
    /// A flat list of codes, in publication order, under a generated total.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub codes: Option<Vec<String>>,
    /// An explicit tree: each key is a parent code, its value the list of its
    /// children in publication order. The root is the one code that is nobody's child.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tree: Option<IndexMap<String, Vec<String>>>,
    /// A codes table (CSV) with a code column and a parent column; rows with an
    /// empty parent hang from the generated total.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub codes_file: Option<CodesFile>,
    /// A codes table written inline: each code and its parent, in
    /// publication order (`{ "05" = "", "05001" = "05" }`); as with
    /// `codes_file`, an empty parent hangs a code from the generated total,
    /// and a single code with an empty parent is itself the total.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parents: Option<IndexMap<String, String>>,
    /// Code lengths from the top level down, for codes that nest by prefix
    /// (`[2, 5]`: department `05` contains municipality `05001`). Codes are
    /// taken from the data; every code must have one of these lengths.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_lengths: Option<Vec<usize>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CodesFile {
    /// Path to a CSV file, relative to the policy file.
    pub path: String,
    /// Column of the codes table holding the code (default `code`).
    #[serde(default = "default_code_column")]
    pub code: String,
    /// Column of the codes table holding the parent code (default `parent`).
    #[serde(default = "default_parent_column")]
    pub parent: String,
}

pub(super) fn default_code_column() -> String {
    "code".to_owned()
}

pub(super) fn default_parent_column() -> String {
    "parent".to_owned()
}

/// A validated dimension: its name, input column and hierarchy specification.
#[derive(Debug, Clone, PartialEq)]
pub struct DimensionPolicy {
    pub name: String,
    pub column: String,
    pub hierarchy: HierarchySpec,
}

/// Fail with `message(did-you-mean hint, the dimensions)` unless `name` is a dimension.
pub(super) fn check_dimension_named(file: &PolicyFile, name: &str, message: impl Fn(String, String) -> String) -> Fallible<()> {
    if file.dimensions.contains_key(name) {
        return Ok(());
    }
    let names: Vec<&str> = file.dimensions.keys().map(String::as_str).collect();
    fail!(Policy, "{}", message(suggest_code(name, names.iter().copied()), names.join(", ")))
}

pub(super) fn hierarchy_spec(name: &str, s: &DimensionSection, base_dir: &Path, hasher: &mut Sha256) -> Fallible<HierarchySpec> {
    let given: Vec<&str> = [
        ("codes", s.codes.is_some()),
        ("tree", s.tree.is_some()),
        ("codes_file", s.codes_file.is_some()),
        ("parents", s.parents.is_some()),
        ("code_lengths", s.code_lengths.is_some()),
    ]
    .iter()
    .filter(|(_, set)| *set)
    .map(|(k, _)| *k)
    .collect();
    if given.len() > 1 {
        fail!(
            Policy,
            "[dimensions.{name}] gives {}; a hierarchy is specified one way only: keep one of them",
            given.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(" and ")
        );
    }
    let total = s.total.clone().unwrap_or_else(|| "Total".to_owned());
    if total.is_empty() {
        fail!(Policy, "[dimensions.{name}] total = \"\" is not a usable code; name the total, e.g. `total = \"Total\"`");
    }
    if let Some(codes) = &s.codes {
        if codes.is_empty() {
            fail!(Policy, "[dimensions.{name}] codes = [] lists no codes; list them, or remove `codes` to take them from the data");
        }
        return Ok(HierarchySpec::FlatListed { total, codes: codes.clone() });
    }
    if let Some(tree) = &s.tree {
        if s.total.is_some() {
            fail!(Policy, "[dimensions.{name}] `total` is not used with `tree`: the tree's root (the code that is nobody's child) is the total; remove `total`");
        }
        if tree.is_empty() {
            fail!(Policy, "[dimensions.{name}] tree = {{}} is empty; give at least the root and its children, e.g. `tree = {{ \"0-17\" = [\"0-4\", \"5-11\", \"12-17\"] }}`");
        }
        return Ok(HierarchySpec::Tree { edges: tree.clone() });
    }
    if let Some(cf) = &s.codes_file {
        let path: PathBuf = base_dir.join(&cf.path);
        if !cf.path.to_ascii_lowercase().ends_with(".csv") {
            fail!(Policy, "[dimensions.{name}] codes_file = \"{}\" is not a CSV file; a codes table is a .csv with a code and a parent column", cf.path);
        }
        let text = crate::io::read_text_limited(&path, MAX_CODES_FILE_BYTES, &format!("[dimensions.{name}] codes_file"))
            .map_err(|e| err!(Io, "{}; the path is relative to the policy file", e.message))?
            .into_bytes();
        hasher.update(b"\0codes_file\0");
        hasher.update(cf.path.as_bytes());
        hasher.update(b"\0");
        hasher.update(&text);
        let pairs = crate::io::read_code_parent_pairs(&text, &cf.code, &cf.parent, &path.display().to_string())?;
        return Ok(HierarchySpec::Table { total: s.total.clone(), pairs, source: cf.path.clone() });
    }
    if let Some(parents) = &s.parents {
        if parents.is_empty() {
            fail!(Policy, "[dimensions.{name}] parents = {{}} lists no codes; give each code and its parent (\"\" for a top-level code)");
        }
        if parents.keys().any(|code| code.trim().is_empty()) {
            fail!(Hierarchy, "[dimensions.{name}] parents has an empty code; every code needs a name");
        }
        let pairs = parents.iter().map(|(code, parent)| (code.clone(), (!parent.trim().is_empty()).then(|| parent.clone()))).collect();
        return Ok(HierarchySpec::Table { total: s.total.clone(), pairs, source: format!("[dimensions.{name}] parents") });
    }
    if let Some(lengths) = &s.code_lengths {
        if lengths.is_empty() || lengths.contains(&0) || lengths.windows(2).any(|w| w[0] >= w[1]) {
            fail!(
                Policy,
                "[dimensions.{name}] code_lengths = {lengths:?} must be positive and strictly increasing, top level first, e.g. `[2, 5]` for department `05` > municipality `05001`"
            );
        }
        return Ok(HierarchySpec::CodeLengths { total, lengths: lengths.clone() });
    }
    Ok(HierarchySpec::FlatFromData { total })
}
