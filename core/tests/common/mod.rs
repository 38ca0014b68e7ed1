//! Generated hierarchical tables shared by the property tests.

// Each test file compiles its own copy and uses part of it.
#![allow(dead_code)]

use std::sync::Arc;

use arrow_array::{ArrayRef, Int64Array, RecordBatch, RecordBatchIterator, StringArray};
use arrow_schema::{DataType, Field, Schema};

/// Leaf codes per dimension; dimension 0 nests by code length (`1` > `1a`).
pub const DIMS: [&[&str]; 5] = [&["1a", "1b", "2a", "2b", "2c"], &["x", "y", "z"], &["F", "M"], &["p", "q", "r"], &["u", "v"]];

/// The policy's input and dimension sections for the first `dims` dimensions.
pub fn policy_head(dims: usize) -> String {
    let mut text = String::from("version = 1\n[input]\nkind = \"aggregated\"\ncount = \"n\"\n[dimensions.d0]\ncode_lengths = [1, 2]\n");
    for d in 1..dims {
        let codes: Vec<String> = DIMS[d].iter().map(|c| format!("\"{c}\"")).collect();
        text.push_str(&format!("[dimensions.d{d}]\ncodes = [{}]\n", codes.join(", ")));
    }
    text
}

/// Aggregated input rows, as a reader of one batch.
pub type Rows = RecordBatchIterator<std::vec::IntoIter<Result<RecordBatch, arrow_schema::ArrowError>>>;

/// One row per inner cell, counts from `counts` (cycled).
pub fn table(dims: usize, counts: &[i64]) -> Rows {
    let mut cols: Vec<Vec<String>> = vec![Vec::new(); dims];
    let mut n = Vec::new();
    let total: usize = DIMS[..dims].iter().map(|d| d.len()).product();
    for i in 0..total {
        let mut rest = i;
        for d in (0..dims).rev() {
            cols[d].push(DIMS[d][rest % DIMS[d].len()].to_owned());
            rest /= DIMS[d].len();
        }
        n.push(counts[i % counts.len()]);
    }
    rows(cols.into_iter().enumerate().map(|(d, codes)| (format!("d{d}"), codes)).collect(), n)
}

/// Rows with one text column per (name, codes) and the counts in column `n`.
pub fn rows(columns: Vec<(String, Vec<String>)>, n: Vec<i64>) -> Rows {
    let mut fields: Vec<Field> = columns.iter().map(|(name, _)| Field::new(name.as_str(), DataType::Utf8, false)).collect();
    fields.push(Field::new("n", DataType::Int64, false));
    let schema = Arc::new(Schema::new(fields));
    let mut arrays: Vec<ArrayRef> = columns.into_iter().map(|(_, codes)| Arc::new(StringArray::from(codes)) as ArrayRef).collect();
    arrays.push(Arc::new(Int64Array::from(n)));
    let batch = RecordBatch::try_new(schema.clone(), arrays).unwrap();
    RecordBatchIterator::new(vec![Ok(batch)].into_iter(), schema)
}

/// Targets (cell, low, high) for every hidden cell of `table`: its value
/// moved down and up by `ends`, taken in turn by cell.
pub fn ends_around_values(table: &dyn amparo::Additive, published: &[Option<i64>], ends: &[(i64, i64)]) -> Vec<(usize, i64, i64)> {
    (0..table.len())
        .filter(|&c| published[c].is_none())
        .map(|c| {
            let (down, up) = ends[c % ends.len()];
            (c, table.value(c) - down, table.value(c) + up)
        })
        .collect()
}
