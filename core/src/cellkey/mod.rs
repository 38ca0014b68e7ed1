//! The cell key method (ABS TableBuilder; Eurostat and ONS census 2021):
//! each record carries a random key in [0, 1); a cell's key is the sum of
//! its records' keys modulo 1, and the cell's count n is published as n + v,
//! where v is looked up from the cell key in the perturbation table's row
//! for n. The same records give the same key, so the same cell gets the same
//! value in every table.
//!
//! Keys are kept in fixed point, 32 bits after the point: a record key k in
//! [0, 1) is floor(k * 2^32), and a cell key is the wrapping sum of its
//! records' keys. The sum modulo 1 is then exact and does not depend on the
//! order the records arrive in, so a margin's key is the sum of its parts'
//! keys however the cube is built.
//!
//! The policy asks for it with `[perturbation] method = "cell_key"` and
//! `[input] record_key`; the cube sums the keys as it reads the records
//! ([`crate::table::Cube::cell_keys`]) and [`perturb`] publishes every cell.

mod config;
pub mod ptable;

pub use config::{ptable_parameters, CellKeyConfig};

use crate::error::Fallible;
use crate::fail;

pub use crate::table::Key;

/// The noise v for a cell of count `count` with cell key `key`: the value
/// whose interval of the row's cumulative distribution holds the key
/// (ABS/Eurostat lookup; counts past the last row use the last row). A zero
/// count stays zero.
pub fn noise_for(table: &ptable::Ptable, count: i64, key: Key) -> i64 {
    if count <= 0 {
        return 0;
    }
    let row = table.row(count);
    let k = key.as_f64();
    let mut cumulative = 0.0;
    for &(v, p) in &row.noise {
        cumulative += p;
        if k < cumulative {
            return v;
        }
    }
    // Rounding in the last digits of the cumulative sum: the last value.
    row.noise.last().map_or(0, |&(v, _)| v)
}

/// Perturb every cell of `cube` (built with record keys) with the ptable:
/// the marks, every cell `perturbed` to its count plus the looked-up noise.
pub fn perturb(cube: &crate::table::Cube, table: &ptable::Ptable, reason: &str) -> Fallible<crate::marks::CellMarks> {
    let Some(keys) = cube.cell_keys() else {
        fail!(Policy, "the cell key method needs record keys: set [input] record_key to the column that holds them");
    };
    // Each column made once, rather than every cell published as is and
    // then overwritten.
    let n = cube.len();
    let published = cube.values().iter().zip(keys).map(|(&count, &key)| Some(count + noise_for(table, count, Key(key)))).collect();
    Ok(crate::marks::CellMarks::with(vec![crate::marks::Status::Perturbed; n], crate::marks::Reasons::all(n, std::sync::Arc::from(reason)), published))
}

/// Record keys for microdata that has none: a new Float64 column `column`
/// of uniform keys in [0, 1) (32 random bits each, exact in Float64 and in
/// text), appended to every batch of `input`. Generate them once, write the
/// result to a new file, and keep that file: the cell key method protects
/// across releases only when the same records keep the same keys.
///
/// The keys come from the secure generator unless `seed` is given; which is
/// recorded in the schema's metadata under `amparo:record_keys` (Parquet and
/// Arrow files keep it) and returned.
pub fn add_record_keys(
    input: crate::io::BatchReader,
    column: &str,
    seed: Option<u64>,
) -> Fallible<(crate::io::BatchReader, crate::random::Randomness)> {
    use arrow_schema::{DataType, Field, Schema};
    let schema = input.schema();
    if column.trim().is_empty() {
        fail!(Policy, "the record key column needs a name, e.g. `record_key`");
    }
    if schema.column_with_name(column).is_some() {
        fail!(
            Schema,
            "the input already has a column `{column}`; record keys are generated once and then kept: use that column as [input] record_key, \
             or name the new column differently"
        );
    }
    let (mut rng, randomness) = crate::random::generator(seed)?;
    let mut fields: Vec<Field> = schema.fields().iter().map(|f| f.as_ref().clone()).collect();
    fields.push(Field::new(column, DataType::Float64, false));
    let mut metadata = schema.metadata().clone();
    metadata.insert("amparo:record_keys".to_owned(), randomness.describe());
    let keyed = std::sync::Arc::new(Schema::new_with_metadata(fields, metadata));
    let out_schema = keyed.clone();
    let batches = input.map(move |batch| {
        let batch = batch?;
        let keys: arrow_array::Float64Array =
            (0..batch.num_rows()).map(|_| Some(rand_core::Rng::next_u32(&mut rng) as f64 / 4_294_967_296.0)).collect();
        let mut columns = batch.columns().to_vec();
        columns.push(std::sync::Arc::new(keys));
        arrow_array::RecordBatch::try_new(keyed.clone(), columns)
    });
    Ok((Box::new(arrow_array::RecordBatchIterator::new(batches, out_schema)), randomness))
}

/// [`add_record_keys`] from file to file: `output` must be a new file, since
/// a keyed file replaced by fresh keys would break the consistency the keys
/// exist for (the input is never overwritten either).
pub fn add_record_keys_to_file(
    input: &std::path::Path,
    output: &std::path::Path,
    column: &str,
    seed: Option<u64>,
    overwrite: bool,
) -> Fallible<crate::random::Randomness> {
    // Record keys are kept across releases: a file of keys is replaced only when asked.
    crate::io::check_output_path(output, &[input], overwrite)?;
    let (mut keyed, randomness) = add_record_keys(crate::io::read_table(input)?, column, seed)?;
    crate::io::write_stream(&mut *keyed, output, None)?;
    Ok(randomness)
}
