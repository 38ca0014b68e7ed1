//! Reading and writing: every format round-trips the output with its metadata;
//! inputs are never overwritten; a failed write leaves no file behind.

use std::path::Path;

use amparo::{ErrorKind, OutputOptions, Policy};
use arrow_array::cast::AsArray;
use arrow_array::RecordBatch;

fn example() -> (Policy, std::path::PathBuf) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    (Policy::from_file(root.join("examples/policy.toml")).unwrap(), root.join("examples/children.csv"))
}

fn protected(policy: &Policy, input: &Path) -> (RecordBatch, amparo::Metadata) {
    let mut reader = amparo::io::read_table(input).unwrap();
    let result = amparo::protect(policy, &mut *reader).unwrap();
    (result.to_record_batch(OutputOptions { keep_original: true }), result.metadata)
}

fn read_all(path: &Path) -> RecordBatch {
    let reader = amparo::io::read_table(path).unwrap();
    let schema = reader.schema();
    let batches: Vec<RecordBatch> = reader.map(Result::unwrap).collect();
    arrow_select::concat::concat_batches(&schema, &batches).unwrap()
}

#[test]
fn parquet_and_arrow_outputs_round_trip_with_metadata() {
    let (policy, input) = example();
    let (batch, meta) = protected(&policy, &input);
    let dir = tempfile::tempdir().unwrap();
    for name in ["out.parquet", "out.arrow", "out.arrows"] {
        let path = dir.path().join(name);
        amparo::io::write_table(&batch, &path, Some(&meta)).unwrap();
        let back = read_all(&path);
        assert_eq!(back.num_rows(), batch.num_rows(), "{name}");
        assert_eq!(back.columns(), batch.columns(), "{name}");
        assert_eq!(back.schema().metadata().get("amparo.policy_sha256"), Some(&policy.sha256), "{name}");
    }
}

#[test]
fn protecting_a_parquet_copy_of_the_input_gives_the_same_table() {
    let (policy, input) = example();
    let (from_csv, _) = protected(&policy, &input);
    let dir = tempfile::tempdir().unwrap();
    let pq = dir.path().join("children.parquet");
    amparo::io::write_table(&read_all(&input), &pq, None).unwrap();
    let (from_parquet, _) = protected(&policy, &pq);
    assert_eq!(from_csv, from_parquet);
}

#[test]
fn csv_output_gets_its_metadata_beside_it() {
    let (policy, input) = example();
    let (batch, meta) = protected(&policy, &input);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.csv");
    amparo::io::write_table(&batch, &path, Some(&meta)).unwrap();
    let side: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.path().join("out.csv.meta.json")).unwrap()).unwrap();
    assert_eq!(side["amparo.policy_sha256"], policy.sha256.as_str());
    // `interval` names the method it ran, and why, in the metadata.
    let method = side["amparo.method"].as_str().unwrap();
    let ran = method.strip_prefix("primary:threshold+secondary:").unwrap_or_default();
    assert!(ran == "optimal" || ran == "patterns", "{method}");
    assert!(side["amparo.secondary"].as_str().unwrap().starts_with(&format!("interval chose {ran}: ")), "{}", side["amparo.secondary"]);
    assert!(side["amparo.audit"].as_str().unwrap().starts_with("passed"));
    // CSV keeps codes as text: leading zeros survive.
    let back = read_all(&path);
    assert!(back.column(0).as_string::<i32>().iter().any(|c| c == Some("01001")));
}

#[test]
fn output_path_equal_to_an_input_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.csv");
    std::fs::write(&input, "a,n\nx,1\n").unwrap();
    let same = dir.path().join(".").join("in.csv");
    let e = amparo::io::check_output_path(&same, &[&input], false).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Io);
    assert!(e.message.contains("never overwrites"), "{}", e.message);
    assert!(amparo::io::check_output_path(&dir.path().join("out.csv"), &[&input], false).is_ok());
}

#[test]
fn a_failed_write_leaves_no_file_behind() {
    let (policy, input) = example();
    let (batch, meta) = protected(&policy, &input);
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("missing-folder").join("out.parquet");
    let e = amparo::io::write_table(&batch, &target, Some(&meta)).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Io);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    let e = amparo::io::write_table(&batch, &dir.path().join("out.xlsx"), None).unwrap_err();
    assert!(e.message.contains(".parquet"), "{}", e.message);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn unreadable_inputs_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let e = amparo::io::read_table(&dir.path().join("nope.csv")).err().unwrap();
    assert_eq!(e.kind, ErrorKind::Io);
    assert!(e.message.contains("nope.csv"));
    let fake = dir.path().join("fake.parquet");
    std::fs::write(&fake, "not parquet").unwrap();
    let e = amparo::io::read_table(&fake).err().unwrap();
    assert!(e.message.contains("not a readable Parquet file"), "{}", e.message);
    let ragged = dir.path().join("ragged.csv");
    std::fs::write(&ragged, "a,b\nx,y\nz\n").unwrap();
    let policy = Policy::from_toml("version = 1\n[input]\nkind = \"microdata\"\n[dimensions.a]\n", Path::new(".")).unwrap();
    let mut reader = amparo::io::read_table(&ragged).unwrap();
    let e = amparo::protect(&policy, &mut *reader).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Data, "{}", e.message);
}

mod no_panic {
    use super::*;
    use proptest::prelude::*;

    const POLICIES: [&str; 2] = [
        "version = 1\n[input]\nkind = \"aggregated\"\ncount = \"n\"\n[dimensions.a]\ncode_lengths = [1, 2]\n[dimensions.b]\ncodes = [\"x\", \"y\"]\n[primary]\nthreshold = 3\n",
        "version = 1\n[input]\nkind = \"microdata\"\nweight = \"n\"\n[dimensions.a]\n[dimensions.b]\ntree = { T = [\"x\", \"y\"] }\n",
    ];

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

        /// Whatever a CSV holds, reading and protecting it returns a result or a
        /// clear error; it never panics, and a success has additive margins.
        #[test]
        fn arbitrary_csv_never_panics(body in "(a,b,n\n)?([0-9xyT\"; .,\\-]{0,8}\n){0,12}", which in 0..2usize) {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("in.csv");
            std::fs::write(&path, &body).unwrap();
            let policy = Policy::from_toml(POLICIES[which], Path::new(".")).unwrap();
            if let Ok(mut reader) = amparo::io::read_table(&path) {
                if let Ok(out) = amparo::protect(&policy, &mut *reader) {
                    prop_assert!(out.cube.first_violation(out.cube.values()).is_none());
                }
            }
        }
    }
}

/// The example's records as three Parquet files in a folder (with Spark's
/// `_SUCCESS` marker beside them) give the same table as the one CSV.
#[test]
fn a_folder_of_parquet_files_is_one_table() {
    let (policy, input) = example();
    let (want, _) = protected(&policy, &input);
    let whole = read_all(&input);
    let dir = tempfile::tempdir().unwrap();
    let n = whole.num_rows();
    for (k, (a, b)) in [(0, n / 3), (n / 3, 2 * n / 3), (2 * n / 3, n)].into_iter().enumerate() {
        amparo::io::write_table(&whole.slice(a, b - a), &dir.path().join(format!("part-{k}.parquet")), None).unwrap();
    }
    std::fs::write(dir.path().join("_SUCCESS"), "").unwrap();
    let (got, _) = protected(&policy, dir.path());
    assert_eq!(got.columns(), want.columns());
}

#[test]
fn a_folder_whose_files_differ_in_columns_is_refused_naming_both_files() {
    let (policy, input) = example();
    let whole = read_all(&input);
    let dir = tempfile::tempdir().unwrap();
    amparo::io::write_table(&whole, &dir.path().join("a.parquet"), None).unwrap();
    amparo::io::write_table(&whole.project(&[0, 1]).unwrap(), &dir.path().join("b.parquet"), None).unwrap();
    let mut reader = amparo::io::read_table(dir.path()).unwrap();
    let e = amparo::protect(&policy, &mut *reader).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Schema, "{e}");
    assert!(e.message.contains("b.parquet") && e.message.contains("a.parquet") && e.message.contains("same columns"), "{e}");
}

#[test]
fn a_folder_without_parquet_files_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("country=MEX")).unwrap();
    let e = amparo::io::read_table(dir.path()).err().unwrap();
    assert_eq!(e.kind, ErrorKind::Io);
    assert!(e.message.contains("no .parquet files") && e.message.contains("partitionBy"), "{e}");
}
