//! Properties of the cube and the threshold rule, on generated tables.

use std::path::Path;
use std::sync::Arc;

use amparo::Policy;
use amparo::{ErrorKind, Status};
use arrow_array::{ArrayRef, Int64Array, RecordBatch, RecordBatchIterator, StringArray};
use arrow_schema::{DataType, Field, Schema};
use proptest::prelude::*;

const POLICY_MICRO: &str = r#"
version = 1
[input]
kind = "microdata"
[dimensions.geo]
code_lengths = [1, 3]
[dimensions.age]
tree = { "0-17" = ["0-4", "5-11", "12-17"] }
[dimensions.sex]
codes = ["F", "M"]
[primary]
threshold = 5
"#;

const GEO: [&str; 5] = ["1A1", "1A2", "2B1", "3C1", "3C2"];
const AGE: [&str; 3] = ["0-4", "5-11", "12-17"];
const SEX: [&str; 2] = ["F", "M"];

fn micro_reader(rows: &[(usize, usize, usize)]) -> RecordBatchIterator<std::vec::IntoIter<Result<RecordBatch, arrow_schema::ArrowError>>> {
    let col = |f: &dyn Fn(&(usize, usize, usize)) -> &'static str| -> ArrayRef { Arc::new(StringArray::from(rows.iter().map(f).collect::<Vec<_>>())) };
    let schema = Arc::new(Schema::new(vec![
        Field::new("geo", DataType::Utf8, false),
        Field::new("age", DataType::Utf8, false),
        Field::new("sex", DataType::Utf8, false),
    ]));
    let batch = RecordBatch::try_new(schema.clone(), vec![col(&|r| GEO[r.0]), col(&|r| AGE[r.1]), col(&|r| SEX[r.2])]).unwrap();
    // Split in two batches to exercise streaming.
    let half = batch.num_rows() / 2;
    let batches = vec![Ok(batch.slice(0, half)), Ok(batch.slice(half, batch.num_rows() - half))];
    RecordBatchIterator::new(batches.into_iter(), schema)
}

fn policy(text: &str) -> Policy {
    Policy::from_toml(text, Path::new(".")).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    /// Every margin equals the sum of its children along every dimension, and
    /// the grand total is the number of records.
    #[test]
    fn margins_add_up_along_every_hierarchy(rows in prop::collection::vec((0..GEO.len(), 0..3usize, 0..2usize), 1..300)) {
        let p = policy(POLICY_MICRO);
        let cube = amparo::build_cube(&p, &mut micro_reader(&rows)).unwrap();
        prop_assert!(cube.first_violation(cube.values()).is_none());
        prop_assert_eq!(cube.value(0), rows.len() as i64);
        // Each inner cell holds exactly its records.
        for (g, a, s) in [(0usize, 0usize, 0usize), (3, 2, 1)] {
            let want = rows.iter().filter(|r| **r == (g, a, s)).count() as i64;
            // Geography codes come from the data: an absent district has no cell and no records.
            match cube.dims()[0].hierarchy.node(GEO[g]) {
                Some(geo) => {
                    let h = |d: usize, code: &str| cube.dims()[d].hierarchy.node(code).unwrap();
                    let cell = cube.cell(&[geo, h(1, AGE[a]), h(2, SEX[s])]);
                    prop_assert_eq!(cube.value(cell), want);
                }
                None => prop_assert_eq!(want, 0),
            }
        }
    }

    /// No published cell is between 1 and threshold-1; every cell below it is hidden as primary.
    #[test]
    fn threshold_hides_exactly_the_small_nonzero_cells(rows in prop::collection::vec((0..GEO.len(), 0..3usize, 0..2usize), 1..200)) {
        let p = policy(POLICY_MICRO);
        let out = amparo::protect(&p, &mut micro_reader(&rows)).unwrap();
        for (cell, &v) in out.cube.values().iter().enumerate() {
            let small = v > 0 && v < 5;
            prop_assert_eq!(out.marks.status[cell] == Status::Primary, small);
            prop_assert_eq!(out.marks.published[cell], if small { None } else { Some(v) });
        }
    }

    /// Aggregating microdata first, or giving the engine the aggregated cells, gives the same cube.
    #[test]
    fn microdata_and_aggregated_input_give_the_same_cube(rows in prop::collection::vec((0..GEO.len(), 0..3usize, 0..2usize), 1..200)) {
        let p = policy(POLICY_MICRO);
        let from_micro = amparo::build_cube(&p, &mut micro_reader(&rows)).unwrap();
        let mut counts = std::collections::BTreeMap::new();
        for r in &rows { *counts.entry(*r).or_insert(0i64) += 1; }
        let (mut g, mut a, mut s, mut n) = (vec![], vec![], vec![], vec![]);
        for ((gi, ai, si), c) in counts { g.push(GEO[gi]); a.push(AGE[ai]); s.push(SEX[si]); n.push(c); }
        let schema = Arc::new(Schema::new(vec![
            Field::new("geo", DataType::Utf8, false), Field::new("age", DataType::Utf8, false),
            Field::new("sex", DataType::Utf8, false), Field::new("n", DataType::Int64, false),
        ]));
        let batch = RecordBatch::try_new(schema.clone(), vec![
            Arc::new(StringArray::from(g)), Arc::new(StringArray::from(a)), Arc::new(StringArray::from(s)), Arc::new(Int64Array::from(n)),
        ]).unwrap();
        let agg_policy = policy(&POLICY_MICRO.replace("kind = \"microdata\"", "kind = \"aggregated\"\ncount = \"n\""));
        let from_agg = amparo::build_cube(&agg_policy, &mut RecordBatchIterator::new(vec![Ok(batch)], schema)).unwrap();
        prop_assert_eq!(from_micro.values(), from_agg.values());
    }
}

#[test]
fn constraints_cover_every_internal_node_along_every_dimension() {
    let p = policy(POLICY_MICRO);
    let cube = amparo::build_cube(&p, &mut micro_reader(&[(0, 0, 0), (4, 2, 1)])).unwrap();
    // geo codes come from the data: Total, 1, 1A1, 3, 3C2 = 5 nodes, 3 internal;
    // age 4 nodes, 1 internal; sex 3 nodes, 1 internal.
    assert_eq!(cube.shape(), &[5, 4, 3]);
    let constraints = cube.constraints();
    assert_eq!(constraints.len(), 3 * (4 * 3) + 5 * 3 + 5 * 4);
    for c in &constraints {
        assert_eq!(cube.value(c.total), c.parts.iter().map(|&p| cube.value(p)).sum::<i64>());
    }
    let mut broken = cube.values().to_vec();
    broken[0] += 1;
    let v = cube.first_violation(&broken).expect("changing the total breaks a constraint");
    assert_eq!(v.total, 0);
}

#[test]
fn weights_are_summed_and_must_be_whole() {
    let text = POLICY_MICRO.replace("kind = \"microdata\"", "kind = \"microdata\"\nweight = \"w\"");
    let p = policy(&text);
    let schema = Arc::new(Schema::new(vec![
        Field::new("geo", DataType::Utf8, false),
        Field::new("age", DataType::Utf8, false),
        Field::new("sex", DataType::Utf8, false),
        Field::new("w", DataType::Float64, false),
    ]));
    let make = |w: Vec<f64>| {
        let batch = RecordBatch::try_new(schema.clone(), vec![
            Arc::new(StringArray::from(vec!["1A1", "1A1"])), Arc::new(StringArray::from(vec!["0-4", "0-4"])),
            Arc::new(StringArray::from(vec!["F", "F"])), Arc::new(arrow_array::Float64Array::from(w)),
        ]).unwrap();
        RecordBatchIterator::new(vec![Ok(batch)], schema.clone())
    };
    let cube = amparo::build_cube(&p, &mut make(vec![3.0, 4.0])).unwrap();
    assert_eq!(cube.value(0), 7);
    let e = amparo::build_cube(&p, &mut make(vec![3.0, 0.5])).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Data);
    assert!(e.message.contains("row 2") && e.message.contains("`w`"), "{}", e.message);
}

#[test]
fn a_table_too_large_for_memory_is_refused_before_allocating() {
    let text = r#"
version = 1
[input]
kind = "microdata"
[dimensions.a]
[dimensions.b]
[dimensions.c]
"#;
    let p = policy(text);
    // 601^3 cells with margins: over MAX_CELLS.
    let codes: Vec<String> = (0..600).map(|i| format!("c{i:03}")).collect();
    let col = || -> ArrayRef { Arc::new(StringArray::from(codes.clone())) };
    let schema = Arc::new(Schema::new(["a", "b", "c"].map(|n| Field::new(n, DataType::Utf8, false)).to_vec()));
    let batch = RecordBatch::try_new(schema.clone(), vec![col(), col(), col()]).unwrap();
    let e = amparo::build_cube(&p, &mut RecordBatchIterator::new(vec![Ok(batch)], schema)).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Policy);
    assert!(e.message.contains("cells"), "{}", e.message);
}

#[test]
fn policy_validation_refuses_impossible_combinations_with_the_fix() {
    let cases = [
        ("version = 2\n[input]\nkind = \"microdata\"\n[dimensions.a]\n", "version = 1"),
        ("version = 1\n[input]\nkind = \"aggregated\"\n[dimensions.a]\n", "needs `count`"),
        ("version = 1\n[input]\nkind = \"microdata\"\n", "missing"),
        ("version = 1\n[input]\nkind = \"microdata\"\n[dimensions.status]\n", "output column"),
        ("version = 1\n[input]\nkind = \"microdata\"\n[dimensions.a]\ncodes = [\"x\"]\ncode_lengths = [1]\n", "one way only"),
        ("version = 1\n[input]\nkind = \"microdata\"\n[dimensions.a]\ncode_lengths = [5, 2]\n", "strictly increasing"),
        ("version = 1\n[input]\nkind = \"microdata\"\n[dimensions.a]\n[noise]\nmethod = \"cell_key\"\n", "valid values here: `none`, `discrete_laplace`, `discrete_gaussian`"),
        ("version = 1\n[input]\nkind = \"microdata\"\n[dimensions.a]\n[secondary]\nmethod = \"intervl\"\n", "did you mean `interval`"),
        ("version = 1\n[input]\nkind = \"microdata\"\n[dimensions.a]\n[primary]\nzeros = \"hid\"\n", "did you mean `hide`"),
        ("version = 1\n[input]\nkind = \"microdta\"\n[dimensions.a]\n", "did you mean `microdata`"),
        ("version = 1\n[inputs]\nkind = \"microdata\"\n[dimensions.a]\n", "did you mean `input`"),
    ];
    for (text, needle) in cases {
        let e = Policy::from_toml(text, Path::new(".")).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Policy, "{text}");
        assert!(e.message.contains(needle), "{needle:?} not in: {}", e.message);
    }
}

#[test]
fn policy_hash_covers_codes_tables() {
    let dir = tempfile::tempdir().unwrap();
    let text = "version = 1\n[input]\nkind = \"microdata\"\n[dimensions.a]\ncodes_file = { path = \"codes.csv\" }\n";
    std::fs::write(dir.path().join("codes.csv"), "code,parent\nx,\ny,\n").unwrap();
    let first = Policy::from_toml(text, dir.path()).unwrap().sha256.clone();
    std::fs::write(dir.path().join("codes.csv"), "code,parent\nx,\nz,\n").unwrap();
    let second = Policy::from_toml(text, dir.path()).unwrap().sha256.clone();
    assert_ne!(first, second);
    assert_eq!(first.len(), 64);
}

#[test]
fn committed_json_schema_matches_the_policy_types() {
    let committed = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../schema/policy.schema.json")).unwrap();
    assert_eq!(committed, amparo::policy::json_schema(), "regenerate with `amparo schema > schema/policy.schema.json`");
}

#[test]
fn example_policy_and_data_bundled_in_the_r_package_match_examples() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for f in ["children.csv", "policy.toml"] {
        let a = std::fs::read(root.join("examples").join(f)).unwrap();
        let b = std::fs::read(root.join("r/inst/extdata").join(f)).unwrap();
        assert!(a == b, "r/inst/extdata/{f} differs from examples/{f}: copy it again");
    }
}
