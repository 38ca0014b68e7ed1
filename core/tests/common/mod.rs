//! Generated hierarchical tables shared by the property tests.

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

/// One row per inner cell, counts from `counts` (cycled).
pub fn table(dims: usize, counts: &[i64]) -> RecordBatchIterator<std::vec::IntoIter<Result<RecordBatch, arrow_schema::ArrowError>>> {
    let mut cols: Vec<Vec<&str>> = vec![Vec::new(); dims];
    let mut n = Vec::new();
    let total: usize = DIMS[..dims].iter().map(|d| d.len()).product();
    for i in 0..total {
        let mut rest = i;
        for d in (0..dims).rev() {
            cols[d].push(DIMS[d][rest % DIMS[d].len()]);
            rest /= DIMS[d].len();
        }
        n.push(counts[i % counts.len()]);
    }
    let mut fields: Vec<Field> = (0..dims).map(|d| Field::new(format!("d{d}"), DataType::Utf8, false)).collect();
    fields.push(Field::new("n", DataType::Int64, false));
    let schema = Arc::new(Schema::new(fields));
    let mut arrays: Vec<ArrayRef> = cols.into_iter().map(|c| Arc::new(StringArray::from(c)) as ArrayRef).collect();
    arrays.push(Arc::new(Int64Array::from(n)));
    let batch = RecordBatch::try_new(schema.clone(), arrays).unwrap();
    RecordBatchIterator::new(vec![Ok(batch)].into_iter(), schema)
}

