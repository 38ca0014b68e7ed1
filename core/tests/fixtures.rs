//! Runs every case of `tests/fixtures/` through the core: good cases must give
//! the expected CSV byte for byte; bad cases must fail with the expected kind
//! and a message naming what is wrong.

use std::path::{Path, PathBuf};

use amparo::{OutputOptions, Policy};

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures")
}

fn cases() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(fixtures_dir())
        .expect("tests/fixtures exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.join("case.toml").exists())
        .collect();
    v.sort();
    v
}

fn case_toml(dir: &Path) -> toml::Table {
    std::fs::read_to_string(dir.join("case.toml")).unwrap().parse().unwrap()
}

/// The output file(s) of a case: `expected.csv`, or `expected.<table>.csv`
/// for each linked table a case lists in `tables`.
fn run(dir: &Path, keep_original: bool) -> amparo::Fallible<Vec<(String, Vec<u8>)>> {
    let policy = Policy::from_file(dir.join("policy.toml"))?;
    let mut input = amparo::io::read_table(&dir.join("input.csv"))?;
    let results = if policy.file.tables.is_empty() {
        vec![("expected.csv".to_owned(), amparo::protect(&policy, &mut *input)?)]
    } else {
        amparo::protect_tables(&policy, &mut *input)?.into_iter().map(|(name, r)| (format!("expected.{name}.csv"), r)).collect()
    };
    let out = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for (name, result) in results {
        let batch = result.to_record_batch(OutputOptions { keep_original });
        let path = out.path().join("out.csv");
        amparo::io::write_table(&batch, &path, Some(&result.metadata))?;
        files.push((name, std::fs::read(&path).unwrap()));
    }
    Ok(files)
}

#[test]
fn every_fixture_case_gives_its_expected_output_or_error() {
    let all = cases();
    assert!(all.len() >= 17, "expected the shared fixture cases, found {}", all.len());
    for dir in all {
        let case = case_toml(&dir);
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        let keep = case.get("keep_original").and_then(|v| v.as_bool()).unwrap_or(false);
        match case.get("error") {
            None => {
                for (file, got) in run(&dir, keep).unwrap_or_else(|e| panic!("{name}: {e}")) {
                    let want = std::fs::read(dir.join(&file)).unwrap();
                    assert_eq!(String::from_utf8_lossy(&got), String::from_utf8_lossy(&want), "{name}/{file}");
                }
            }
            Some(error) => {
                let e = run(&dir, keep).expect_err(&name);
                assert_eq!(e.kind.name(), error["kind"].as_str().unwrap(), "{name}: {e}");
                for s in error["contains"].as_array().unwrap() {
                    let s = s.as_str().unwrap();
                    assert!(e.message.contains(s), "{name}: message lacks {s:?}: {}", e.message);
                }
            }
        }
    }
}

/// A case's input in three pieces aggregated apart (as Spark partitions
/// are), two of the pieces' sums merged, and the table protected from the
/// sums: the same CSV, byte for byte, as from the whole input; a bad case
/// fails with the same kind of error.
#[test]
fn every_fixture_case_gives_the_same_output_from_partial_aggregates() {
    use amparo::arrow::array::RecordBatch;
    for dir in cases() {
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        let case = case_toml(&dir);
        let Ok(policy) = Policy::from_file(dir.join("policy.toml")) else { continue };
        if !policy.file.tables.is_empty() {
            continue;
        }
        let keep = case.get("keep_original").and_then(|v| v.as_bool()).unwrap_or(false);
        let from_partials = || -> amparo::Fallible<Vec<u8>> {
            let input = amparo::io::read_table(&dir.join("input.csv"))?;
            let schema = input.schema();
            let batches = input.collect::<Result<Vec<_>, _>>().map_err(|e| amparo::io::arrow_read_error(e, "input"))?;
            let whole = amparo::arrow::select::concat::concat_batches(&schema, &batches).unwrap();
            let n = whole.num_rows();
            let pieces: Vec<RecordBatch> = [(0, n / 3), (n / 3, n / 2), (n / 2, n)].iter().map(|&(a, b)| whole.slice(a, b - a)).collect();
            let sums = pieces
                .into_iter()
                .map(|p| amparo::aggregate_partials(&policy, &mut *amparo::io::batches_reader(schema.clone(), vec![p])))
                .collect::<amparo::Fallible<Vec<_>>>()?;
            let sums_schema = sums[0].schema();
            let merged = amparo::merge_partials(&policy, &mut *amparo::io::batches_reader(sums_schema.clone(), sums[..2].to_vec()))?;
            let result = amparo::protect_partials(&policy, &mut *amparo::io::batches_reader(sums_schema, vec![merged, sums[2].clone()]))?;
            let out = tempfile::tempdir().unwrap();
            let path = out.path().join("out.csv");
            amparo::io::write_table(&result.to_record_batch(OutputOptions { keep_original: keep }), &path, Some(&result.metadata))?;
            Ok(std::fs::read(&path).unwrap())
        };
        match case.get("error") {
            None => {
                let got = from_partials().unwrap_or_else(|e| panic!("{name}: {e}"));
                let want = std::fs::read(dir.join("expected.csv")).unwrap();
                assert_eq!(String::from_utf8_lossy(&got), String::from_utf8_lossy(&want), "{name}");
            }
            Some(error) => {
                let e = from_partials().expect_err(&name);
                assert_eq!(e.kind.name(), error["kind"].as_str().unwrap(), "{name}: {e}");
            }
        }
    }
}

#[test]
fn a_table_that_is_not_a_partial_aggregate_is_refused_by_name() {
    let dir = fixtures_dir().join("aggregated_tree_zeros_hidden");
    let policy = Policy::from_file(dir.join("policy.toml")).unwrap();
    let mut input = amparo::io::read_table(&dir.join("input.csv")).unwrap();
    let e = amparo::protect_partials(&policy, &mut *input).unwrap_err();
    assert_eq!(e.kind, amparo::ErrorKind::Schema);
    assert!(e.message.contains("_amparo_records") && e.message.contains("not a partial aggregate"), "{e}");
}

/// What `output_schema` declares before reading any data (a Spark job's
/// return type) is the schema every good case's output has.
#[test]
fn the_declared_output_schema_is_the_outputs() {
    for dir in cases() {
        let case = case_toml(&dir);
        let Ok(policy) = Policy::from_file(dir.join("policy.toml")) else { continue };
        if case.get("error").is_some() || !policy.file.tables.is_empty() {
            continue;
        }
        let options = OutputOptions { keep_original: case.get("keep_original").and_then(|v| v.as_bool()).unwrap_or(false) };
        let mut input = amparo::io::read_table(&dir.join("input.csv")).unwrap();
        let batch = amparo::protect(&policy, &mut *input).unwrap().to_record_batch(options);
        let declared = amparo::output_schema(&policy, options);
        assert_eq!(batch.schema().fields(), declared.fields(), "{}", dir.display());
    }
}

/// The `publish_*` cases (`[publish]` in case.toml): the protected table
/// made ready for publication, in the case's layout and format, gives the
/// expected file byte for byte (`expected.<output>`; a workbook is read
/// back, its table's sheet as CSV, `expected.<output>.csv`). The
/// publication passes the audit of a published table.
#[test]
fn publish_cases_give_their_expected_publication() {
    let mut seen = 0;
    for dir in cases() {
        let case = case_toml(&dir);
        let Some(publish) = case.get("publish") else { continue };
        seen += 1;
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        let output = publish["output"].as_str().unwrap();
        let layout = publish.get("layout").map(|l| amparo::policy::Layout::from_name(l.as_str().unwrap()).unwrap());
        let policy = Policy::from_file(dir.join("policy.toml")).unwrap();
        let out = tempfile::tempdir().unwrap();
        let internal = out.path().join("internal.csv");
        let result = amparo::protect(&policy, &mut *amparo::io::read_table(&dir.join("input.csv")).unwrap()).unwrap();
        amparo::io::write_table(&result.to_record_batch(OutputOptions::default()), &internal, Some(&result.metadata)).unwrap();
        let target = out.path().join(output);
        let options = amparo::publish::PublishOptions { layout, ..Default::default() };
        amparo::publish::publish_files(&policy, None, &[internal], &target, &options).unwrap_or_else(|e| panic!("{name}: {e}"));
        if output.ends_with(".xlsx") {
            let want = std::fs::read_to_string(dir.join(format!("expected.{output}.csv"))).unwrap();
            assert_eq!(first_sheet_as_csv(&target), want, "{name}");
        } else {
            let want = std::fs::read_to_string(dir.join(format!("expected.{output}"))).unwrap();
            assert_eq!(std::fs::read_to_string(&target).unwrap(), want, "{name}");
            let report = amparo::audit::report::audit_files(&policy, &[target], None, None, amparo::i18n::Lang::EN).unwrap();
            assert!(report.passed, "{name}: {:?}", report.findings);
        }
    }
    assert!(seen >= 4, "the publish_* cases: long, wide, SDMX-CSV, Excel");
}

/// The first sheet of a workbook as CSV text: every cell as it reads
/// (whole numbers without a decimal point), rows in order.
fn first_sheet_as_csv(path: &Path) -> String {
    use calamine::{Data, Reader};
    let mut book = calamine::open_workbook_auto(path).unwrap();
    let sheet = book.sheet_names()[0].clone();
    let range = book.worksheet_range(&sheet).unwrap();
    let mut text = String::new();
    for row in range.rows() {
        let cells: Vec<String> = row
            .iter()
            .map(|c| match c {
                Data::Float(f) if f.fract() == 0.0 => format!("{}", *f as i64),
                Data::Int(i) => i.to_string(),
                other => other.to_string(),
            })
            .collect();
        text += &cells.join(",");
        text.push('\n');
    }
    text
}
