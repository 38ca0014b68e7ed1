//! Cell key perturbation of microdata (a plain timed run): 10^7 records with
//! record keys aggregated into a table of about 10^5 cells (cube building
//! with the keys summed per cell), then the ptable lookup for every cell.
//! Run with `bench/cellkey.sh`.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use amparo::Policy;
use arrow_array::types::Int32Type;
use arrow_array::{ArrayRef, DictionaryArray, Float64Array, Int32Array, RecordBatch, RecordBatchIterator, StringArray};
use arrow_schema::{DataType, Field, Schema};

const POLICY: &str = "version = 1\n[input]\nkind = \"microdata\"\nrecord_key = \"rkey\"\n\
[dimensions.municipality]\ncode_lengths = [2, 5]\n[dimensions.nationality]\n[dimensions.age_band]\n[dimensions.sex]\n\
[perturbation]\nmethod = \"cell_key\"\nmax_deviation = 2\nvariance = 1\njs = 1\n";

fn main() {
    const ROWS: usize = 10_000_000;
    const BATCH: usize = 65_536;
    // 300 municipalities in 20 departments x 40 nationalities x 4 age bands x 2 sexes:
    // (320 x 41 x 5 x 3) = 196,800 cells with margins, 96,000 inner.
    let municipalities: Vec<String> = (0..300).map(|i| format!("{:02}{:03}", i % 20 + 1, i / 20 + 1)).collect();
    let nationalities: Vec<String> = (0..40).map(|i| format!("N{i:02}")).collect();
    let ages: Vec<String> = ["0-4", "5-11", "12-14", "15-17"].map(String::from).to_vec();
    let sexes: Vec<String> = ["F", "M"].map(String::from).to_vec();
    let dicts = [municipalities, nationalities, ages, sexes];
    let names = ["municipality", "nationality", "age_band", "sex"];
    let dtype = DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8));
    let mut fields: Vec<Field> = names.iter().map(|n| Field::new(*n, dtype.clone(), false)).collect();
    fields.push(Field::new("rkey", DataType::Float64, false));
    let schema = Arc::new(Schema::new(fields));
    let mut state = 42u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut batches = Vec::new();
    let mut left = ROWS;
    while left > 0 {
        let n = left.min(BATCH);
        let mut columns: Vec<ArrayRef> = Vec::new();
        for d in &dicts {
            // Skewed codes: the square of a uniform favours the first codes.
            let keys: Int32Array = (0..n)
                .map(|_| {
                    let u = (next() >> 11) as f64 / (1u64 << 53) as f64;
                    ((u * u) * d.len() as f64) as i32
                })
                .collect();
            columns.push(Arc::new(DictionaryArray::<Int32Type>::try_new(keys, Arc::new(StringArray::from(d.clone()))).unwrap()));
        }
        columns.push(Arc::new((0..n).map(|_| (next() >> 11) as f64 / (1u64 << 53) as f64).collect::<Float64Array>()));
        batches.push(Ok(RecordBatch::try_new(schema.clone(), columns).unwrap()));
        left -= n;
    }
    let policy = Policy::from_toml(POLICY, Path::new(".")).unwrap();
    let started = Instant::now();
    let out = amparo::protect(&policy, &mut RecordBatchIterator::new(batches, schema)).unwrap();
    let seconds = started.elapsed().as_secs_f64();
    let moved = (0..out.cube.len()).filter(|&c| out.marks.published[c] != Some(out.cube.value(c))).count();
    println!(
        "cell key perturbation: {ROWS} records into {} cells in {seconds:.2} s ({:.1} million records/s), {moved} cells moved",
        out.cube.len(),
        ROWS as f64 / seconds / 1e6
    );
}
