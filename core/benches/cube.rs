//! Cube building from microdata: records per second for 10^6 and 10^7 rows
//! with 5 dimensions (municipality by code length, nationality, age band,
//! sex, accompaniment), as Utf8 columns (CSV, pyarrow) and as dictionaries
//! (pandas categoricals, R factors). Run with `cargo bench -p amparo-core --bench cube`.

use std::path::Path;
use std::sync::Arc;

use amparo::Policy;
use arrow_array::{ArrayRef, DictionaryArray, RecordBatch, RecordBatchIterator, StringArray};
use arrow_array::types::Int32Type;
use arrow_schema::{DataType, Field, Schema};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

const POLICY: &str = r#"
version = 1
[input]
kind = "microdata"
[dimensions.municipality]
code_lengths = [2, 5]
[dimensions.nationality]
[dimensions.age_band]
tree = { "0-17" = ["0-4", "5-9", "10-14", "15-17"] }
[dimensions.sex]
codes = ["F", "M", "U"]
[dimensions.accompaniment]
codes = ["accompanied", "separated", "unaccompanied"]
"#;

mod common;
use common::Xorshift;

fn dictionaries() -> Vec<Vec<String>> {
    // 33 departments x 34 municipalities = 1,122, as in Colombia.
    let municipalities = (1..=33).flat_map(|d| (1..=34).map(move |m| format!("{d:02}{m:03}"))).collect();
    let nationalities = (0..60).map(|i| format!("N{i:02}")).collect();
    let ages = ["0-4", "5-9", "10-14", "15-17"].map(String::from).to_vec();
    let sexes = ["F", "M", "U"].map(String::from).to_vec();
    let acc = ["accompanied", "separated", "unaccompanied"].map(String::from).to_vec();
    vec![municipalities, nationalities, ages, sexes, acc]
}

/// Batches of 65,536 rows; `dictionary` chooses the column encoding.
fn microdata(rows: usize, dictionary: bool) -> (Arc<Schema>, Vec<RecordBatch>) {
    let dicts = dictionaries();
    let names = ["municipality", "nationality", "age_band", "sex", "accompaniment"];
    let dtype = if dictionary { DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8)) } else { DataType::Utf8 };
    let schema = Arc::new(Schema::new(names.iter().map(|n| Field::new(*n, dtype.clone(), false)).collect::<Vec<_>>()));
    let mut rng = Xorshift(0x9E37_79B9_7F4A_7C15);
    let mut batches = Vec::new();
    let mut left = rows;
    while left > 0 {
        let n = left.min(65_536);
        let cols: Vec<ArrayRef> = dicts
            .iter()
            .map(|d| {
                let idx: Vec<i32> = (0..n).map(|_| rng.skewed(d.len()) as i32).collect();
                if dictionary {
                    let values = Arc::new(StringArray::from(d.clone()));
                    Arc::new(DictionaryArray::<Int32Type>::try_new(idx.into(), values).unwrap()) as ArrayRef
                } else {
                    Arc::new(StringArray::from_iter_values(idx.iter().map(|&i| d[i as usize].as_str()))) as ArrayRef
                }
            })
            .collect();
        batches.push(RecordBatch::try_new(schema.clone(), cols).unwrap());
        left -= n;
    }
    (schema, batches)
}

fn bench(c: &mut Criterion) {
    let policy = Policy::from_toml(POLICY, Path::new(".")).unwrap();
    let mut group = c.benchmark_group("cube_from_microdata");
    group.sample_size(10);
    for &rows in &[1_000_000usize, 10_000_000] {
        for dictionary in [false, true] {
            let (schema, batches) = microdata(rows, dictionary);
            group.throughput(Throughput::Elements(rows as u64));
            let label = if dictionary { "dictionary" } else { "utf8" };
            group.bench_with_input(BenchmarkId::new(label, rows), &rows, |b, _| {
                b.iter(|| {
                    let mut reader = RecordBatchIterator::new(batches.clone().into_iter().map(Ok), schema.clone());
                    let cube = amparo::build_cube(&policy, &mut reader).unwrap();
                    assert_eq!(cube.value(0), rows as i64);
                    cube
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
