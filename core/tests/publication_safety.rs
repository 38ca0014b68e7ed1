//! Publication safety: what a published file says, the arithmetic the audit
//! trusts, and outputs that are all or nothing.

use std::path::Path;

use amparo::Policy;

mod common;

const TWO_WAY: &str = "version = 1\n[input]\nkind = \"aggregated\"\ncount = \"n\"\n[dimensions.r]\ncodes = [\"a\", \"b\"]\n[dimensions.c]\ncodes = [\"x\", \"y\", \"z\"]\n[primary]\nthreshold = 5\n[secondary]\nmethod = \"interval\"\n";
const TWO_WAY_INPUT: &str = "r,c,n\na,x,3\na,y,10\na,z,12\nb,x,8\nb,y,9\nb,z,20\n";

fn policy(text: &str) -> amparo::Fallible<Policy> {
    Policy::from_toml(text, Path::new("."))
}

fn protect_csv(policy: &Policy, csv: &str) -> amparo::Fallible<amparo::Protected> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("in.csv");
    std::fs::write(&path, csv).unwrap();
    amparo::protect(policy, &mut *amparo::io::read_table(&path)?)
}

#[test]
fn counts_in_text_follow_one_rule_and_never_silently_become_zero() {
    let p = policy(TWO_WAY).unwrap();
    let total = |n: &str| protect_csv(&p, &format!("r,c,n\na,x,{n}\na,y,10\na,z,12\nb,x,8\nb,y,9\nb,z,20\n")).map(|r| r.cube.values()[0]);
    // Digits, with a leading + or a decimal point followed by zeros, are counts.
    assert_eq!(total("3").unwrap(), 62);
    assert_eq!(total("+3").unwrap(), 62);
    assert_eq!(total("3.00").unwrap(), 62);
    // Anything else is refused, naming the row and the value.
    for bad in ["1e-400", "1e3", "\"1,000\"", "0x10", "3.5", "-3", "", "2e0"] {
        let e = total(bad).unwrap_err();
        assert_eq!(e.kind, amparo::ErrorKind::Data, "{bad}: {e}");
        assert!(e.message.contains("row 1") && e.message.contains("`n`"), "{bad}: {e}");
    }
    // Above 2^53 the LPs are not exact: refused, in text and as numbers.
    let e = total("9007199254740993").unwrap_err();
    assert!(e.message.contains("above 2^53"), "{e}");
    // A table whose total passes 2^53 is refused too (each count below it).
    let big = 1i64 << 52;
    let e = protect_csv(&p, &format!("r,c,n\na,x,{big}\na,y,{big}\na,z,{big}\nb,x,8\nb,y,9\nb,z,20\n")).unwrap_err();
    assert!(e.message.contains("the table's total") && e.message.contains("above 2^53"), "{e}");
}

#[test]
fn policy_values_past_the_exact_range_are_refused_rather_than_wrapping() {
    for (section, key) in [
        ("[primary.protection]\nupper = 9223372036854775805\n", "[primary.protection] upper"),
        ("[primary.protection]\nlower = 9223372036854775805\n", "[primary.protection] lower"),
    ] {
        let e = policy(&format!("{TWO_WAY}{section}")).unwrap_err();
        assert!(e.message.contains(key) && e.message.contains("above 2^53"), "{e}");
    }
    let e = policy(&TWO_WAY.replace("threshold = 5", "threshold = 9223372036854775807")).unwrap_err();
    assert!(e.message.contains("[primary] threshold") && e.message.contains("above 2^53"), "{e}");
    let rounding = "version = 1\n[input]\nkind = \"aggregated\"\ncount = \"n\"\n[dimensions.r]\n[rounding]\nmethod = \"deterministic\"\nbase = 9223372036854775000\n";
    let e = policy(rounding).unwrap_err();
    assert!(e.message.contains("[rounding] base") && e.message.contains("above 2^53"), "{e}");
    // The largest level in range works, with arithmetic that never wraps: the
    // primary keeps an interval with no upper bound (the grand total is hidden).
    let p = policy(&format!("{TWO_WAY}[primary.protection]\nupper = 9007199254740992\n")).unwrap();
    let result = protect_csv(&p, TWO_WAY_INPUT).unwrap();
    assert_eq!(result.metadata.audit_outcome, amparo::AuditOutcome::Passed);
    let primary = result.marks.status.iter().position(|&s| s == amparo::Status::Primary).unwrap();
    assert_eq!(result.marks.upper[primary], None, "{:?}", result.marks);
}

#[test]
fn an_unaudited_suppression_needs_the_producers_written_consent_and_says_not_audited() {
    let no_audit = format!("{}[audit]\nenabled = false\n", TWO_WAY.replace("[secondary]\nmethod = \"interval\"\n", ""));
    let e = policy(&no_audit).unwrap_err();
    assert!(e.message.contains("skip = \"I accept an unaudited table\""), "{e}");
    let e = policy(&format!("{no_audit}skip = \"yes\"\n")).unwrap_err();
    assert!(e.message.contains("is not the consent"), "{e}");
    let p = policy(&format!("{no_audit}skip = \"I accept an unaudited table\"\n")).unwrap();
    let result = protect_csv(&p, TWO_WAY_INPUT).unwrap();
    assert_eq!(result.metadata.audit_outcome, amparo::AuditOutcome::NotAudited);
    assert!(result.metadata.audit.starts_with("NOT AUDITED"), "{}", result.metadata.audit);
    assert!(result.summary().to_string().contains("NOT AUDITED"));
    // A policy that hides nothing needs no audit.
    let plain = "version = 1\n[input]\nkind = \"aggregated\"\ncount = \"n\"\n[dimensions.r]\n[audit]\nenabled = false\n";
    let result = protect_csv(&policy(plain).unwrap(), "r,n\na,3\nb,4\n").unwrap();
    assert_eq!(result.metadata.audit_outcome, amparo::AuditOutcome::NotApplicable);
}

#[test]
fn linked_table_names_stay_inside_the_output_folder() {
    for name in ["\"../x\"", "\"/etc/x\"", "\".hidden\"", "\"a/b\""] {
        let text = format!(
            "version = 1\n[input]\nkind = \"microdata\"\n[dimensions.d]\n[dimensions.s]\n[primary]\nthreshold = 5\n[tables.{name}]\ndimensions = [\"d\"]\n"
        );
        let e = policy(&text).unwrap_err();
        assert!(e.message.contains("becomes its file name"), "{name}: {e}");
    }
}

#[test]
fn staged_outputs_are_owner_only_until_in_place_and_leave_nothing_on_failure() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.csv");
    let staged = amparo::io::stage_bytes(&path, b"a,b\n1,2\n").unwrap();
    let temps: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(temps.len(), 1);
    let name = temps[0].file_name().unwrap().to_string_lossy().into_owned();
    assert!(name.starts_with(".out.csv.amparo-") && name.ends_with(".tmp"), "{name}");
    assert_eq!(std::fs::metadata(&temps[0]).unwrap().permissions().mode() & 0o777, 0o600);
    assert!(!path.exists(), "nothing is in place before the commit");
    // Dropped without a commit (an error on the way): the temporary file goes.
    drop(staged);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    // Committed: in place, with the usual permissions.
    amparo::io::write_bytes(&path, b"a,b\n1,2\n").unwrap();
    let umask = std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("Umask:").map(|m| u32::from_str_radix(m.trim(), 8).unwrap()))
        .unwrap();
    assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o666 & !umask);
    // A missing folder is named as the folder, not by a temporary file.
    let e = amparo::io::write_bytes(&dir.path().join("no/such/out.csv"), b"x").unwrap_err();
    assert!(e.message.contains("the folder") && e.message.contains("does not exist") && !e.message.contains(".amparo-"), "{e}");
}

#[test]
fn a_csv_beside_the_metadata_of_another_run_fails_the_metadata_check() {
    let dir = tempfile::tempdir().unwrap();
    let p = policy(TWO_WAY).unwrap();
    let result = protect_csv(&p, TWO_WAY_INPUT).unwrap();
    let internal = dir.path().join("internal.csv");
    amparo::io::write_table(&result.to_record_batch(Default::default()), &internal, Some(&result.metadata)).unwrap();
    let published = dir.path().join("published.csv");
    amparo::publish::publish_files(&p, None, &[internal.clone()], &published, &Default::default()).unwrap();
    let audit = |path: &Path| amparo::audit::report::audit_files(&p, &[path.to_path_buf()], None, None, amparo::i18n::Lang::EN).unwrap();
    assert!(audit(&published).passed);
    // Another run's file under the same name (a run killed between its two
    // renames, or two runs writing one path): its bytes are not the recorded ones.
    let text = std::fs::read_to_string(&published).unwrap();
    let edited = text.replace("Total,Total,62\n", "Total,Total,63\n");
    assert_ne!(edited, text);
    std::fs::write(&published, edited).unwrap();
    let report = audit(&published);
    assert!(!report.passed);
    assert!(report.findings.iter().any(|f| f.key == "finding.metadata_data"), "{:?}", report.findings);
}

const ONE_WAY: &str = "version = 1\n[input]\nkind = \"aggregated\"\ncount = \"n\"\n[dimensions.r]\n";

/// The error of protecting `input` (bytes of a CSV) with `policy`.
fn error_of(policy_text: &str, input: &[u8]) -> amparo::Error {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("in.csv");
    std::fs::write(&path, input).unwrap();
    let run = || -> amparo::Fallible<()> {
        let p = Policy::from_toml(policy_text, dir.path())?;
        amparo::protect(&p, &mut *amparo::io::read_table(&path)?).map(|_| ())
    };
    run().expect_err("the input is refused")
}

#[test]
fn codes_are_read_one_way_everywhere_trimmed_and_in_unicode_nfc() {
    // "a " and "a" are one code; so are the two ways of typing Panamá.
    for input in ["r,n\na ,5\na,6\n", "r,n\nPanam\u{e1},5\nPanama\u{301},6\n"] {
        let e = error_of(ONE_WAY, input.as_bytes());
        assert!(e.message.contains("rows 1 and 2 are both the cell"), "{e}");
    }
    // The policy's codes, the data's and the published table's meet.
    let policy = Policy::from_toml(&format!("{ONE_WAY}codes = [\"Panam\u{e1}\", \"Bogot\u{e1} \"]\n"), Path::new(".")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("in.csv");
    std::fs::write(&path, "r,n\nPanama\u{301},5\n Bogot\u{e1},6\n").unwrap();
    let result = amparo::protect(&policy, &mut *amparo::io::read_table(&path).unwrap()).unwrap();
    assert_eq!(result.cube.values(), &[11, 5, 6]);
    let published = dir.path().join("published.csv");
    std::fs::write(&published, "r,n\nTotal,11\nPanama\u{301} ,5\nBogot\u{e1},6\n").unwrap();
    let report = amparo::audit::report::audit_files(&policy, &[published], None, None, amparo::i18n::Lang::EN).unwrap();
    assert!(report.passed, "{:?}", report.findings);
}

#[test]
fn inputs_that_mislead_get_messages_naming_the_real_cause() {
    let e = error_of(ONE_WAY, b"r,n\na,\"10\nb,3\n");
    assert!(e.message.contains("the quote opened on line 2 is never closed"), "{e}");
    let e = error_of(ONE_WAY, b"\"r\nx\",n\na,5\n");
    assert!(e.message.contains("line break inside a quoted column name"), "{e}");
    let e = error_of(ONE_WAY, b"r,n\nb,6\nPanam\xe1,5\n");
    assert!(e.message.contains("not UTF-8 text at row 2") && e.message.contains("save it as CSV UTF-8"), "{e}");
    let e = error_of(ONE_WAY, b"r,n\n\xe9,5\n");
    assert!(e.message.contains("save it as CSV UTF-8"), "{e}");
    let e = error_of("version = 1\n[input]\nkind = \"microdata\"\n[dimensions.r]\ntotal = \"a\"\n", b"r\na\nb\n");
    assert!(e.message.contains("also the name of the total of dimension `r`") && e.message.contains("total = \"All\""), "{e}");
    let mut long = b"r,n\n".to_vec();
    long.extend(std::iter::repeat_n(b'a', amparo::io::MAX_CSV_LINE_BYTES + 10));
    let e = error_of(ONE_WAY, &long);
    assert!(e.message.contains("line 2 is longer than 16 MB"), "{e}");
    // A tab-separated export is read as such.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tabs.csv");
    std::fs::write(&path, "r\tn\na\t5\nb\t6\n").unwrap();
    let p = policy(ONE_WAY).unwrap();
    assert_eq!(amparo::protect(&p, &mut *amparo::io::read_table(&path).unwrap()).unwrap().cube.values(), &[11, 5, 6]);
}

#[test]
fn policies_that_mislead_get_messages_naming_the_real_cause() {
    let dir = tempfile::tempdir().unwrap();
    let e = Policy::from_toml(&format!("{ONE_WAY}codes_file = {{ path = \"/etc/passwd\" }}\n"), dir.path()).unwrap_err();
    assert!(e.message.contains("is not a CSV file") && !e.message.contains("root"), "{e}");
    for (key, value) in [("epsilon", "1e300"), ("epsilon", "1e-300")] {
        let e = policy(&format!("{ONE_WAY}[noise]\nmethod = \"discrete_laplace\"\n{key} = {value}\n")).unwrap_err();
        assert!(e.message.contains("outside the range of budgets"), "{e}");
    }
    let e = policy(&format!("{ONE_WAY}[noise]\nmethod = \"discrete_gaussian\"\nrho = 1e-300\n")).unwrap_err();
    assert!(e.message.contains("rho = 1e-300 is outside the range of budgets"), "{e}");
    // A policy file that never ends stops at a stated limit.
    let e = Policy::from_file("/dev/zero").unwrap_err();
    assert!(e.message.contains("larger than 16 MB"), "{e}");
}

#[test]
fn unreadable_table_files_are_refused_before_they_cost_memory_or_guesses() {
    let dir = tempfile::tempdir().unwrap();
    // A 72-byte Arrow stream declaring a 2 GB message.
    let stream = dir.path().join("t.arrows");
    let mut bytes = vec![0xff, 0xff, 0xff, 0xff];
    bytes.extend(0x7fff_fff0u32.to_le_bytes());
    bytes.extend([0u8; 64]);
    std::fs::write(&stream, &bytes).unwrap();
    let e = amparo::io::read_table(&stream).map(|_| ()).unwrap_err();
    assert!(e.message.contains("declares 2147483632 bytes") && e.message.contains("only 64 left"), "{e}");
    // A Parquet file with two columns of one name.
    use amparo::arrow::array::{ArrayRef, RecordBatch, StringArray};
    use amparo::arrow::schema::{DataType, Field, Schema};
    let schema = std::sync::Arc::new(Schema::new(vec![Field::new("r", DataType::Utf8, true), Field::new("r", DataType::Utf8, true)]));
    let column: ArrayRef = std::sync::Arc::new(StringArray::from(vec!["a"]));
    let batch = RecordBatch::try_new(schema, vec![column.clone(), column]).unwrap();
    let parquet = dir.path().join("t.parquet");
    amparo::io::write_table(&batch, &parquet, None).unwrap();
    let e = amparo::io::read_table(&parquet).map(|_| ()).unwrap_err();
    assert!(e.message.contains("two columns named `r`"), "{e}");
    // One file given for two linked tables.
    let linked = Policy::from_toml(
        "version = 1\n[input]\nkind = \"microdata\"\n[dimensions.a]\n[dimensions.b]\n[primary]\nthreshold = 3\n[tables.t1]\ndimensions = [\"a\"]\n[tables.t2]\ndimensions = [\"b\"]\n",
        Path::new("."),
    )
    .unwrap();
    let table = dir.path().join("t1.csv");
    std::fs::write(&table, "a,published\nTotal,5\nx,5\n").unwrap();
    let e = amparo::audit::report::audit_files(&linked, &[table.clone(), table], None, None, amparo::i18n::Lang::EN).unwrap_err();
    assert!(e.message.contains("is given twice"), "{e}");
}

mod property {
    use super::*;
    use proptest::prelude::*;

    /// A two-way aggregated table: rows × columns counts (many small ones).
    fn table() -> impl Strategy<Value = (usize, usize, Vec<i64>, i64)> {
        (2usize..5, 2usize..5, 3i64..6).prop_flat_map(|(rows, cols, threshold)| {
            (Just(rows), Just(cols), proptest::collection::vec(prop_oneof![0i64..4, 0i64..30], rows * cols), Just(threshold))
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

        /// For random protected tables: the publication passes `amparo
        /// audit`, and the same file with any one internal column of the
        /// producer's table added fails the `columns` check.
        #[test]
        fn the_publication_passes_the_audit_and_any_internal_column_fails_it((rows, cols, counts, threshold) in table()) {
            let text = format!(
                "version = 1\n[input]\nkind = \"aggregated\"\ncount = \"n\"\n[dimensions.r]\n[dimensions.c]\n[primary]\nthreshold = {threshold}\n[secondary]\nmethod = \"interval\"\n"
            );
            let p = policy(&text).unwrap();
            let csv = counts_csv(cols, &counts);
            let _ = rows;
            let result = protect_csv(&p, &csv).unwrap();
            prop_assume!(result.metadata.audit_outcome == amparo::AuditOutcome::Passed);
            let dir = tempfile::tempdir().unwrap();
            let internal = dir.path().join("internal.csv");
            let batch = result.to_record_batch(amparo::OutputOptions { keep_original: true });
            amparo::io::write_table(&batch, &internal, Some(&result.metadata)).unwrap();
            let published = dir.path().join("published.parquet");
            amparo::publish::publish_files(&p, None, &[internal], &published, &Default::default()).unwrap();
            let audit = |path: &Path| amparo::audit::report::audit_files(&p, &[path.to_path_buf()], None, None, amparo::i18n::Lang::EN).unwrap();
            let report = audit(&published);
            prop_assert!(report.passed, "{:?}", report.findings);
            let publication = amparo::io::read_table(&published).unwrap().next().unwrap().unwrap();
            for column in ["value", "status", "reason", "lower", "upper"] {
                let index = batch.schema().index_of(column).unwrap();
                let mut fields: Vec<_> = publication.schema().fields().iter().map(|f| f.as_ref().clone()).collect();
                fields.push(batch.schema().field(index).clone());
                let mut columns = publication.columns().to_vec();
                columns.push(batch.column(index).clone());
                let leaky = amparo::arrow::array::RecordBatch::try_new(std::sync::Arc::new(amparo::arrow::schema::Schema::new(fields)), columns).unwrap();
                let path = dir.path().join(format!("leaky_{column}.parquet"));
                amparo::io::write_table(&leaky, &path, None).unwrap();
                let report = audit(&path);
                let failed: Vec<_> = report.checks.iter().filter(|c| !c.passed).map(|c| c.check).collect();
                prop_assert_eq!(failed, vec![amparo::audit::published::Check::Columns], "{}", column);
            }
        }

        /// Both audits check one promise: for any pattern of hidden cells
        /// (every small cell among them), the protect-time audit, which knows
        /// the values, and `amparo audit` of the published values, which does
        /// not, find the same cells narrowed (item 7 of issue 19), at both
        /// interval_limit settings (every interval, or sweeps and bounds).
        #[test]
        fn the_protect_time_audit_and_the_published_audit_find_the_same_cells(drawn in hidden_pattern()) {
            let (p, cube, marks) = scattered(drawn);
            let promise = amparo::rules::OutsiderPromise::of(&p.file.primary, false);
            // The published values, as `amparo publish` writes them.
            let mut csv = String::from("r,c,published\n");
            for c in 0..cube.len() {
                let codes: Vec<&str> = (0..2).map(|d| cube.dims()[d].hierarchy.code(cube.coord(c, d))).collect();
                csv += &format!("{},{},{}\n", codes[0], codes[1], marks.published[c].map_or("x".to_owned(), |v| v.to_string()));
            }
            let (_, published) = amparo::audit_published(&p, &mut *amparo::io::read_table(&write_temp(&csv)).unwrap(), None, None).unwrap();
            let mut outside: Vec<usize> = published.findings.iter().filter(|f| f.check == amparo::audit::published::Check::Protection).map(|f| f.cell).collect();
            outside.sort();
            for interval_limit in [usize::MAX, 0] {
                let report = amparo::audit::run(&cube, &mut marks.clone(), interval_limit, false, promise.as_ref(), None).unwrap();
                let mut inside: Vec<usize> = report.findings.iter().map(|f| f.cell).collect();
                inside.sort();
                prop_assert_eq!(&inside, &outside, "interval_limit {}", interval_limit);
            }
        }

        /// The protect-time audit given a book of tables found while
        /// protecting (see `attacker::witness`) reports what it reports
        /// without one, finding for finding and interval for interval, at
        /// both interval_limit settings (every interval, or verdicts, where
        /// a finding's interval may be proven by another route); the book holds tables an attacker
        /// found on this publication and on one with fewer hidden cells,
        /// and tables that do not fit: every hidden cell at 0, or moved
        /// far up, which break the sums, and the same for the hidden inner
        /// cells with every margin their sum, which moves published
        /// margins. Taking any of those as shown would hide findings.
        #[test]
        fn the_audit_with_a_book_of_tables_reports_what_it_reports_without(
            drawn in hidden_pattern(),
            ends in proptest::collection::vec((0i64..6, 0i64..6), 1..8),
        ) {
            let (p, cube, marks) = scattered(drawn);
            let promise = amparo::rules::OutsiderPromise::of(&p.file.primary, false);
            let values = amparo::Additive::values(&cube);
            let book = std::sync::Arc::new(amparo::attacker::witness::Witnesses::new(values));
            // An attacker on fewer hidden cells (the first hidden cell
            // published again), and one on these, each pushing every hidden
            // cell towards drawn ends.
            let mut fewer = marks.published.clone();
            if let Some(first) = fewer.iter().position(Option::is_none) {
                fewer[first] = Some(values[first]);
            }
            for published in [&fewer, &marks.published] {
                if let Ok(mut attacker) = amparo::audit::Attacker::new(&cube, published) {
                    attacker.keep_in(Some(&book), None);
                    attacker.explore(&crate::common::ends_around_values(&cube, published, &ends)).unwrap();
                }
            }
            let hidden: Vec<u32> = (0..cube.len()).filter(|&c| marks.published[c].is_none()).map(|c| c as u32).collect();
            book.keep(&hidden, &vec![0.0; hidden.len()]);
            book.keep(&hidden, &hidden.iter().map(|&c| (2 * values[c as usize] + 9) as f64).collect::<Vec<f64>>());
            // Tables that add up but move published margins: the hidden
            // inner cells at 0, or moved far up, and every margin their sum.
            for moved in [0, 9] {
                let inner: Vec<i64> = (0..cube.len()).map(|c| if cube.is_inner(c) && marks.published[c].is_none() { moved * (values[c] + 1) } else { values[c] }).collect();
                let table = cube.margins_from_inner(&inner).unwrap();
                let all: Vec<u32> = (0..cube.len() as u32).collect();
                book.keep(&all, &table.iter().map(|&v| v as f64).collect::<Vec<f64>>());
            }
            for interval_limit in [usize::MAX, 0] {
                let (mut without, mut with) = (marks.clone(), marks.clone());
                let expected = amparo::audit::run(&cube, &mut without, interval_limit, false, promise.as_ref(), None).unwrap();
                let report = amparo::audit::run(&cube, &mut with, interval_limit, false, promise.as_ref(), Some(&*book)).unwrap();
                // What each finding says; whether its interval is known exact,
                // and the published cells named as pinning it (one of several
                // sets, by the LP's last basis), may come from another proof.
                let said = |r: &amparo::audit::AuditReport| -> Vec<_> { r.findings.iter().map(|f| (f.cell, f.interval, f.required, f.outsider)).collect() };
                prop_assert_eq!(said(&report), said(&expected), "interval_limit {}", interval_limit);
                prop_assert_eq!(report.passed(), expected.passed());
                // With every interval computed, each is exact and in the marks.
                if interval_limit == usize::MAX {
                    prop_assert!(report.findings.iter().all(|f| f.exact));
                    prop_assert_eq!((&with.lower, &with.upper), (&without.lower, &without.upper));
                }
            }
        }
    }

    /// The input CSV of a two-way table of `counts`, `cols` to a row.
    fn counts_csv(cols: usize, counts: &[i64]) -> String {
        let mut csv = String::from("r,c,n\n");
        for (k, n) in counts.iter().enumerate() {
            csv += &format!("r{},c{},{n}\n", k / cols, k % cols);
        }
        csv
    }

    /// A table (see [`table`]) and a pattern of hidden cells: bytes that
    /// draw them, the share of cells hidden, and whether zeros are hidden.
    type HiddenPattern = ((usize, usize, Vec<i64>, i64), Vec<u8>, u8, bool);

    fn hidden_pattern() -> impl Strategy<Value = HiddenPattern> {
        (table(), proptest::collection::vec(0u8..100, 1..40), 5u8..60, any::<bool>())
    }

    /// The drawn two-way table with its small cells hidden (by its
    /// threshold) and a scattered share of the others.
    fn scattered(((rows, cols, counts, threshold), hide, share, zeros_hidden): HiddenPattern) -> (Policy, amparo::Cube, amparo::output::CellMarks) {
        let zeros = if zeros_hidden { "hide" } else { "publish" };
        let text = format!(
            "version = 1\n[input]\nkind = \"aggregated\"\ncount = \"n\"\n[dimensions.r]\n[dimensions.c]\n[primary]\nthreshold = {threshold}\nzeros = \"{zeros}\"\nsingletons = \"ignore\"\n"
        );
        let p = policy(&text).unwrap();
        let csv = counts_csv(cols, &counts);
        let _ = rows;
        let cube = amparo::build_cube(&p, &mut *amparo::io::read_table(&write_temp(&csv)).unwrap()).unwrap();
        let mut marks = amparo::output::CellMarks::publish_all(&cube);
        amparo::rules::apply_threshold(&cube, &p.file.primary, &mut marks);
        for c in 0..cube.len() {
            if !marks.is_hidden(c) && hide[c % hide.len()].wrapping_add((c * 37 % 100) as u8) % 100 < share {
                marks.hide(c, amparo::output::Status::Secondary, "chosen".into());
            }
        }
        (p, cube, marks)
    }

    /// A CSV in a temporary file that lives as long as the test process.
    fn write_temp(text: &str) -> std::path::PathBuf {
        let dir = tempfile::tempdir().unwrap().keep();
        let path = dir.join("t.csv");
        std::fs::write(&path, text).unwrap();
        path
    }
}

/// The issue's case: a secondary cell (7) that a rectangle of complements
/// leaves in [4, 13] looks like a sensitive 4 that lost its protection to
/// an outsider, who cannot see which hidden cell is which. Both audits fail
/// that pattern on that cell; `interval` hides so that both pass.
#[test]
fn a_secondary_that_looks_like_an_unprotected_small_cell_fails_both_audits_and_interval_avoids_it() {
    let head = "version = 1\nname = \"t\"\n[input]\nkind = \"aggregated\"\ncount = \"n\"\n[dimensions.d]\ncodes = [\"D1\", \"D2\", \"D3\"]\n[dimensions.s]\ncodes = [\"F\", \"M\"]\n[primary]\nthreshold = 5\n";
    let input = "d,s,n\nD1,F,3\nD1,M,12\nD2,F,8\nD2,M,9\nD3,F,6\nD3,M,7\n";
    // The rectangle (D1,F), (D1,M), (D3,F), (D3,M), chosen by hand.
    let by_hand = policy(&format!(
        "{head}[secondary]\nforce_hidden = [{{ d = \"D1\", s = \"M\" }}, {{ d = \"D3\", s = \"F\" }}, {{ d = \"D3\", s = \"M\" }}]\n"
    ))
    .unwrap();
    let result = protect_csv(&by_hand, input).unwrap();
    let audit = result.audit.as_ref().unwrap();
    let named: Vec<String> = audit.findings.iter().map(|f| result.cube.describe(f.cell)).collect();
    assert_eq!(named, ["d=D3, s=M"], "{audit:?}");
    let finding = &audit.findings[0];
    assert!(finding.outsider && finding.exact);
    assert_eq!((finding.interval.lower, finding.interval.upper), (4, Some(13)));
    assert_eq!((finding.value - finding.required.0, finding.value + finding.required.1), (0, 5));
    assert!(audit.verdict().contains("1 other hidden cells cannot be told from sensitive ones"), "{}", audit.verdict());
    // `amparo audit` of the published values finds the same cell.
    let published = "d,s,published\nTotal,Total,45\nTotal,F,17\nTotal,M,28\nD1,Total,15\nD1,F,x\nD1,M,x\nD2,Total,17\nD2,F,8\nD2,M,9\nD3,Total,13\nD3,F,x\nD3,M,x\n";
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("published.csv");
    std::fs::write(&path, published).unwrap();
    let report = amparo::audit::report::audit_files(&by_hand, &[path.clone()], None, None, amparo::i18n::Lang::EN).unwrap();
    assert!(!report.passed);
    let texts: Vec<&str> = report.findings.iter().map(|f| f.message.as_str()).collect();
    assert_eq!(texts, ["hidden cell (d=D3, s=M) can be shown to lie in [4, 13]; an outsider cannot tell it from a sensitive cell, whose protection needs [0, 5] or wider"]);
    // `interval` keeps the promise for every hidden cell: both audits pass.
    let chosen = policy(&format!("{head}[secondary]\nmethod = \"interval\"\n")).unwrap();
    let result = protect_csv(&chosen, input).unwrap();
    assert!(result.audit.as_ref().unwrap().passed());
    let intervals = amparo::audit::attacker_intervals(&result.cube, &result.marks.published).unwrap();
    for iv in intervals.iter().flatten() {
        assert!(iv.lower == 0 || iv.lower >= 5, "{iv:?}");
        assert!(iv.upper.is_none_or(|u| u >= 5), "{iv:?}");
    }
}

/// A table with many exposed cells, more than either audit checks on one
/// core: both name every one of them, whichever core checked it. Each row
/// hides only its small cell, which its total and the row's other cells give
/// exactly.
#[test]
fn both_audits_name_every_exposed_cell_when_there_are_many() {
    let rows: Vec<String> = (1..=24).map(|r| format!("D{r:02}")).collect();
    let quoted: Vec<String> = rows.iter().map(|r| format!("\"{r}\"")).collect();
    let text = format!(
        "version = 1\nname = \"t\"\n[input]\nkind = \"aggregated\"\ncount = \"n\"\n[dimensions.d]\ncodes = [{}]\n[dimensions.s]\ncodes = [\"a\", \"b\", \"c\"]\n[primary]\nthreshold = 5\nsingletons = \"ignore\"\n[secondary]\nmethod = \"none\"\n[audit]\ninterval_limit = 0\n",
        quoted.join(", ")
    );
    let p = policy(&text).unwrap();
    let mut input = String::from("d,s,n\n");
    for (k, r) in rows.iter().enumerate() {
        input += &format!("{r},a,{}\n{r},b,{}\n{r},c,{}\n", 1 + k % 4, 10 + k % 7, 20 + k % 5);
    }
    let result = protect_csv(&p, &input).unwrap();
    let small: Vec<String> = rows.iter().map(|r| format!("d={r}, s=a")).collect();
    let mut inside: Vec<String> = result.audit.as_ref().unwrap().findings.iter().map(|f| result.cube.describe(f.cell)).collect();
    inside.sort();
    assert_eq!(inside, small);
    let mut published = String::from("d,s,published\n");
    for c in 0..result.cube.len() {
        let codes: Vec<&str> = (0..2).map(|d| result.cube.dims()[d].hierarchy.code(result.cube.coord(c, d))).collect();
        published += &format!("{},{},{}\n", codes[0], codes[1], result.marks.published[c].map_or("x".to_owned(), |v| v.to_string()));
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("published.csv");
    std::fs::write(&path, published).unwrap();
    let report = amparo::audit::report::audit_files(&p, &[path], None, None, amparo::i18n::Lang::EN).unwrap();
    let mut outside: Vec<String> = report.findings.iter().filter(|f| f.check == amparo::audit::published::Check::Protection).map(|f| f.cell.clone()).collect();
    outside.sort();
    assert_eq!(outside, small);
}

/// Above [audit] interval_limit, lower/upper hold only exact attacker
/// intervals; a finding proven from the constraints near a cell says it
/// bounds the interval, and the metadata says which cells carry one.
#[test]
fn lower_and_upper_are_exact_intervals_or_empty_and_the_metadata_says_which() {
    let text = "version = 1\n[input]\nkind = \"aggregated\"\ncount = \"n\"\n[dimensions.r]\n[dimensions.c]\n[primary]\nthreshold = 5\n[audit]\ninterval_limit = 0\n";
    let p = policy(text).unwrap();
    let mut csv = String::from("r,c,n\n");
    for r in 0..6 {
        for c in 0..5 {
            csv += &format!("r{r},c{c},{}\n", if (r + c) % 4 == 0 { 2 } else { 7 + r + c });
        }
    }
    let result = protect_csv(&p, &csv).unwrap();
    let audit = result.audit.as_ref().unwrap();
    assert!(!audit.passed() && !audit.intervals_computed);
    assert!(audit.findings.iter().any(|f| !f.exact), "the constraints near a cell prove some findings");
    let exact = amparo::audit::attacker_intervals(&result.cube, &result.marks.published).unwrap();
    for f in &audit.findings {
        assert_eq!(result.marks.lower[f.cell].is_some(), f.exact, "{f:?}");
        let truth = exact[f.cell].unwrap();
        if f.exact {
            assert_eq!((result.marks.lower[f.cell], result.marks.upper[f.cell]), (Some(truth.lower), truth.upper));
        } else {
            // The bound contains the attacker's exact interval.
            assert!(f.interval.lower <= truth.lower && truth.upper.zip(f.interval.upper).is_none_or(|(t, b)| t <= b), "{f:?} {truth:?}");
        }
    }
    let note = result.metadata.notes.iter().find(|(k, _)| k == "intervals").map(|(_, v)| v.clone()).unwrap();
    assert!(note.contains("exact interval of") && note.contains("interval_limit"), "{note}");
    // Cells with findings are described as bounds where they are bounds.
    let summary = result.summary().to_string();
    assert!(summary.contains("an attacker infers") || summary.contains("narrows it to within"), "{summary}");
}

/// The summary (what protection cost, from the true values) travels with
/// the producer's table, agrees with its cells, and never reaches the
/// publication: its children hidden would tell an outsider the sum of the
/// hidden cells.
#[test]
fn the_summary_stays_with_the_producers_table_and_agrees_with_its_cells() {
    let dir = tempfile::tempdir().unwrap();
    let p = policy(TWO_WAY).unwrap();
    let result = protect_csv(&p, TWO_WAY_INPUT).unwrap();
    let summary = result.summary();
    let hidden: Vec<usize> = (0..result.cube.len()).filter(|&c| result.marks.is_hidden(c)).collect();
    assert_eq!(summary.hidden, hidden.len());
    assert_eq!(summary.primary + summary.secondary, hidden.len());
    assert!(summary.primary >= 1 && summary.changes.is_none());
    let loss = summary.loss.as_ref().unwrap();
    let inner_hidden: i64 = hidden.iter().filter(|&&c| result.cube.is_inner(c)).map(|&c| result.cube.value(c)).sum();
    assert_eq!((loss.children, loss.children_hidden), (62, inner_hidden));
    assert_eq!(summary.by_reason.iter().filter(|r| r.status == "primary" || r.status == "secondary").map(|r| r.cells).sum::<usize>(), hidden.len());
    let measures = &summary.tables()[0].1;
    assert_eq!(measures.num_rows(), 9);

    let internal = dir.path().join("internal.parquet");
    amparo::io::write_table(&result.to_record_batch(Default::default()), &internal, Some(&result.metadata)).unwrap();
    let read = amparo::publish::read_table_with_metadata(&internal).unwrap();
    assert_eq!(amparo::Summary::from_metadata(read.schema().metadata()).unwrap(), summary);
    let published = dir.path().join("published.parquet");
    amparo::publish::publish_files(&p, None, &[internal], &published, &Default::default()).unwrap();
    let publication = amparo::publish::read_table_with_metadata(&published).unwrap();
    let keys: Vec<&String> = publication.schema_ref().metadata().keys().collect();
    assert!(!keys.iter().any(|k| k.as_str() == "amparo.summary" || k.as_str() == "amparo.loss"), "{keys:?}");
    let e = amparo::Summary::from_metadata(publication.schema().metadata()).unwrap_err();
    assert!(e.message.contains("publication, which never carries one"), "{e}");
    let audit = |path: &Path| amparo::audit::report::audit_files(&p, &[path.to_path_buf()], None, None, amparo::i18n::Lang::EN).unwrap();
    assert!(audit(&published).passed);

    // Published by hand: the producer's table with only the dimensions and
    // the published values kept, but its metadata too (as a pandas frame's
    // attrs follow a selection of its columns). The audit refuses it.
    let table = result.to_record_batch(Default::default());
    let by_hand = table.project(&[0, 1, 2]).unwrap();
    let schema = by_hand.schema();
    assert_eq!(schema.fields().iter().map(|f| f.name().as_str()).collect::<Vec<_>>(), ["r", "c", "published"]);
    let leaky = dir.path().join("by_hand.parquet");
    amparo::io::write_table(&by_hand, &leaky, Some(&result.metadata)).unwrap();
    let report = audit(&leaky);
    assert!(!report.passed);
    let finding = report.findings.iter().find(|f| f.key == "finding.metadata_producer").expect("the producer's summary is found");
    assert!(finding.message.contains("amparo.summary, amparo.loss") && finding.message.contains("amparo publish"), "{}", finding.message);
}
