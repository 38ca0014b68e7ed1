//! A dimension's `[dimensions.<name>]` keys built from what an analyst
//! already holds: nested codes (a Python dict, an R named list), a codes
//! table with a parent column, or code lengths. The frontends only convert
//! their objects (to JSON, to Arrow) and call these, so every language builds
//! the same section and gets the same errors.

use arrow_array::cast::AsArray;
use arrow_array::{Array, RecordBatchReader};
use arrow_schema::DataType;
use indexmap::IndexMap;
use serde::Deserialize;

use super::DimensionSection;
use crate::error::Fallible;
use crate::{err, fail};

/// One node of nested codes: nothing below (null), a list of leaf codes,
/// codes each with what is below them, or one leaf code (R writes a list
/// of one leaf as a single string).
#[derive(Deserialize)]
#[serde(untagged)]
enum Below {
    Nothing(()),
    Leaves(Vec<serde_json::Value>),
    Codes(IndexMap<String, Below>),
    Leaf(serde_json::Value),
}

fn code_text(value: &serde_json::Value) -> Fallible<String> {
    match value {
        serde_json::Value::String(s) => Ok(s.clone()),
        serde_json::Value::Number(n) => Ok(n.to_string()),
        other => fail!(Policy, "a code must be text or a number, not {other}; write codes as text, e.g. \"05001\""),
    }
}

fn walk(code: &str, below: &Below, edges: &mut IndexMap<String, Vec<String>>) -> Fallible<()> {
    match below {
        Below::Nothing(()) => {}
        Below::Leaves(leaves) => {
            edges.insert(code.to_owned(), leaves.iter().map(code_text).collect::<Fallible<_>>()?);
        }
        Below::Leaf(leaf) => {
            edges.insert(code.to_owned(), vec![code_text(leaf)?]);
        }
        Below::Codes(children) => {
            edges.insert(code.to_owned(), children.keys().cloned().collect());
            for (child, grandchildren) in children {
                walk(child, grandchildren, edges)?;
            }
        }
    }
    Ok(())
}

/// The section of a hierarchy given as nested codes, as JSON: each key a
/// code, its value the codes under it (an object to go deeper, a list of
/// leaves, or null for a leaf); the outer key is the total. Returns the
/// section as JSON (`{"tree": {...}}`), edges in the order given.
pub fn hierarchy_from_tree(json: &str) -> Fallible<String> {
    let tree: IndexMap<String, Below> = serde_json::from_str(json).map_err(|e| {
        err!(Policy, "the tree must map each code to the codes under it (a dict/named list to go deeper, a list of leaves, or None/NULL for a leaf): {e}")
    })?;
    if tree.len() != 1 {
        fail!(Policy, "the tree has {} codes at the top ({}); give one, the total, with every other code under it", tree.len(), tree.keys().cloned().collect::<Vec<_>>().join(", "));
    }
    let mut edges = IndexMap::new();
    for (root, below) in &tree {
        walk(root, below, &mut edges)?;
    }
    section_json(DimensionSection { tree: Some(edges), ..DimensionSection::default() })
}

/// The section of a hierarchy given as a codes table: `code` and `parent`
/// columns (an empty or missing parent hangs a code from the total or, for
/// a single such row, makes it the total, as `codes_file` does).
pub fn hierarchy_from_table(codes: &mut dyn RecordBatchReader, code: &str, parent: &str, total: Option<&str>) -> Fallible<String> {
    let schema = codes.schema();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    let index = |column: &str, role: &str| {
        schema.index_of(column).map_err(|_| {
            err!(Schema, "the codes table has no column `{column}` (its columns: {}); name the {role} column with {role}=...", names.join(", "))
        })
    };
    let (code_at, parent_at) = (index(code, "code")?, index(parent, "parent")?);
    let mut parents = IndexMap::new();
    for batch in codes {
        let batch = batch.map_err(|e| crate::io::arrow_read_error(e, "the codes table"))?;
        let text = |at: usize| arrow_cast::cast(batch.column(at), &DataType::Utf8).map_err(|e| err!(Schema, "the codes table's column `{}` cannot be read as text: {e}", names[at]));
        let (codes, parent_codes) = (text(code_at)?, text(parent_at)?);
        let (codes, parent_codes) = (codes.as_string::<i32>(), parent_codes.as_string::<i32>());
        for row in 0..batch.num_rows() {
            if codes.is_null(row) {
                fail!(Data, "the codes table's row {} has no code in column `{code}`; give every row a code", row + 1);
            }
            let p = if parent_codes.is_null(row) { "" } else { parent_codes.value(row) };
            if parents.insert(codes.value(row).to_owned(), p.to_owned()).is_some() {
                fail!(Data, "the codes table lists code `{}` twice; list each code once", codes.value(row));
            }
        }
    }
    section_json(DimensionSection { parents: Some(parents), total: total.map(str::to_owned), ..DimensionSection::default() })
}

/// The section of codes that nest by prefix (`[2, 5]`: department `05`
/// contains municipality `05001`), codes taken from the data.
pub fn hierarchy_from_code_lengths(lengths: &[i64], total: Option<&str>) -> Fallible<String> {
    let lengths = lengths
        .iter()
        .map(|&n| usize::try_from(n).ok().filter(|&n| n > 0).ok_or_else(|| err!(Policy, "code length {n} is impossible: code lengths are positive whole numbers, e.g. [2, 5]")))
        .collect::<Fallible<Vec<_>>>()?;
    section_json(DimensionSection { code_lengths: Some(lengths), total: total.map(str::to_owned), ..DimensionSection::default() })
}

fn section_json(section: DimensionSection) -> Fallible<String> {
    serde_json::to_string(&section).map_err(|e| err!(Policy, "the dimension cannot be written as JSON: {e}"))
}
