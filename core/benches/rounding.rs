//! Rounding figures (a plain timed run, not criterion: one controlled
//! rounding takes seconds to a minute): random rounding of a 10^7-cell table,
//! and controlled rounding of a ~10^4-cell three-way hierarchical table (time
//! limit 120 s).
//! Run with `bench/rounding.sh` (or `cargo bench -p amparo-core --bench rounding`).

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use amparo::Policy;
use arrow_array::types::Int32Type;
use arrow_array::{ArrayRef, DictionaryArray, Int32Array, Int64Array, RecordBatch, RecordBatchIterator, StringArray};
use arrow_schema::{DataType, Field, Schema};

mod common;
use common::Xorshift;

/// One row per inner cell of the product of `codes`, dictionary-encoded.
fn inner_rows(names: &[&str], codes: &[Vec<String>], seed: u64) -> (Arc<Schema>, RecordBatch) {
    let total: usize = codes.iter().map(Vec::len).product();
    let dict = DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8));
    let mut fields: Vec<Field> = names.iter().map(|n| Field::new(*n, dict.clone(), false)).collect();
    fields.push(Field::new("n", DataType::Int64, false));
    let schema = Arc::new(Schema::new(fields));
    let mut columns: Vec<ArrayRef> = Vec::new();
    let mut stride = total;
    for c in codes {
        stride /= c.len();
        let keys: Int32Array = (0..total).map(|i| ((i / stride) % c.len()) as i32).collect();
        let values = Arc::new(StringArray::from(c.clone()));
        columns.push(Arc::new(DictionaryArray::<Int32Type>::try_new(keys, values).unwrap()));
    }
    let mut rng = Xorshift(seed);
    columns.push(Arc::new((0..total).map(|_| rng.count()).collect::<Int64Array>()));
    (schema.clone(), RecordBatch::try_new(schema, columns).unwrap())
}

fn run(policy: &str, names: &[&str], codes: &[Vec<String>], what: &str) {
    let p = Policy::from_toml(policy, Path::new(".")).unwrap();
    let (schema, batch) = inner_rows(names, codes, 7);
    let cube = amparo::build_cube(&p, &mut RecordBatchIterator::new(vec![Ok(batch)], schema)).unwrap();
    let started = Instant::now();
    let (marks, _, notes) = {
        let amparo::Protection::Round(config) = &p.protection else { panic!("{what}: a rounding policy") };
        let generator = config.section.draws_from_generator().then(|| amparo::random::generator(config.section.seed).unwrap());
        amparo::rounding::round_table(config, &cube, generator).unwrap()
    };
    let seconds = started.elapsed().as_secs_f64();
    let changed = (0..cube.len()).filter(|&c| marks.published[c] != Some(cube.value(c))).count();
    let deviation: i64 = (0..cube.len()).map(|c| (marks.published[c].unwrap() - cube.value(c)).abs()).sum();
    println!(
        "{what}: {} cells in {seconds:.2} s ({:.2} million cells/s), {changed} changed, total deviation {deviation}{}",
        cube.len(),
        cube.len() as f64 / seconds / 1e6,
        notes.iter().map(|(k, v)| format!("; {k}: {v}")).collect::<String>()
    );
}

fn main() {
    let codes = |prefix: &str, n: usize| -> Vec<String> { (0..n).map(|i| format!("{prefix}{i:04}")).collect() };
    let flat = "version = 1\n[input]\nkind = \"aggregated\"\ncount = \"n\"\n[dimensions.a]\n[dimensions.b]\n[dimensions.c]\n[rounding]\n";
    run(
        &format!("{flat}method = \"random\"\nbase = 5\nseed = 1\n"),
        &["a", "b", "c"],
        &[codes("a", 2000), codes("b", 100), codes("c", 50)],
        "random rounding to base 5, margins on their own",
    );
    // Municipalities nest in departments by code length: 99 in 12.
    let municipalities: Vec<String> = (0..99).map(|i| format!("{:02}{:03}", i % 12 + 1, i / 12 + 1)).collect();
    let hierarchical = "version = 1\n[input]\nkind = \"aggregated\"\ncount = \"n\"\n[dimensions.municipality]\ncode_lengths = [2, 5]\n\
                        [dimensions.nationality]\n[dimensions.age_band]\n[rounding]\nmethod = \"controlled\"\nbase = 5\n";
    // AMPARO_CONTROLLED_TIME_LIMIT (seconds, default 120) for shorter trials.
    let limit = std::env::var("AMPARO_CONTROLLED_TIME_LIMIT").unwrap_or_else(|_| "120".into());
    let hierarchical = format!("{hierarchical}time_limit = {limit}\n");
    run(
        &hierarchical,
        &["municipality", "nationality", "age_band"],
        &[municipalities, codes("N", 20), codes("age", 4)],
        "controlled rounding to base 5, municipality (99 in 12 departments) x nationality 20 x age band 4",
    );
}
