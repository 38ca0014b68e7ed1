//! The `amparo` binary on the shared fixtures: same bytes as the core, exit
//! codes, and inputs never overwritten.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The binary, in English whatever the machine's locale (tests that want another set it).
fn amparo() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_amparo"));
    command.env("LC_ALL", "C");
    command
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures")
}

#[test]
fn protect_writes_the_expected_fixture_bytes_and_prints_a_summary() {
    let dir = tempfile::tempdir().unwrap();
    let mut cases: Vec<String> = std::fs::read_dir(fixtures())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("expected.csv").exists())
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    cases.sort();
    assert!(cases.len() >= 5);
    for case in &cases {
        let c = fixtures().join(case);
        let spec = std::fs::read_to_string(c.join("case.toml")).unwrap();
        let keep = spec.contains("keep_original = true");
        let audit_passes = spec.contains("audit = \"passed\"");
        let out = dir.path().join(format!("{case}.csv"));
        let mut cmd = amparo();
        cmd.args(["protect", "--policy"]).arg(c.join("policy.toml")).arg(c.join("input.csv")).arg("-o").arg(&out);
        if keep {
            cmd.arg("--keep-original");
        }
        let run = cmd.output().unwrap();
        // Exit 1: written, but the audit found recoverable sensitive cells.
        assert_eq!(run.status.code(), Some(if audit_passes { 0 } else { 1 }), "{case}: {}", String::from_utf8_lossy(&run.stderr));
        let stdout = String::from_utf8_lossy(&run.stdout);
        assert!(stdout.contains("hidden:") && stdout.contains("cells:") && stdout.contains("audit:"), "{stdout}");
        if !audit_passes {
            assert!(stdout.contains("FAILED") && stdout.contains("an attacker infers"), "{stdout}");
            assert!(String::from_utf8_lossy(&run.stderr).contains("not safe to publish"));
        }
        assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(c.join("expected.csv")).unwrap(), "{case}");
        assert!(dir.path().join(format!("{case}.csv.meta.json")).exists());
        // The cells as an outsider sees them, audited, get the same verdict.
        let view = dir.path().join(format!("{case}.outsider.csv"));
        std::fs::write(&view, outsider_view(&std::fs::read_to_string(c.join("expected.csv")).unwrap())).unwrap();
        let audit = amparo().args(["audit", "-p"]).arg(c.join("policy.toml")).arg(&view).output().unwrap();
        assert_eq!(audit.status.code(), Some(if audit_passes { 0 } else { 1 }), "{case}: {}", String::from_utf8_lossy(&audit.stdout));
        // The publication step publishes a safe table, and refuses an unsafe one.
        let published = dir.path().join(format!("{case}.published.csv"));
        let publish = amparo().args(["publish", "-p"]).arg(c.join("policy.toml")).arg(&out).arg("-o").arg(&published).output().unwrap();
        if audit_passes {
            assert_eq!(publish.status.code(), Some(0), "{case}: {}", String::from_utf8_lossy(&publish.stderr));
            let audit = amparo().args(["audit", "-p"]).arg(c.join("policy.toml")).arg(&published).output().unwrap();
            assert_eq!(audit.status.code(), Some(0), "{case}: {}", String::from_utf8_lossy(&audit.stdout));
        } else {
            assert_eq!(publish.status.code(), Some(2), "{case}");
            assert!(String::from_utf8_lossy(&publish.stderr).contains("the audit of this table failed"), "{case}");
            assert!(!published.exists());
        }
    }
}

/// The cells of a protected table as an outsider would see them: the
/// dimension columns and `published` (hidden cells empty), nothing else.
fn outsider_view(internal: &str) -> String {
    let mut lines = internal.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let published = header.iter().position(|&h| h == "published").unwrap();
    let dims = header.iter().position(|&h| h == "value" || h == "published").unwrap();
    let keep = |fields: &[&str]| -> String { fields[..dims].iter().chain(std::iter::once(&fields[published])).copied().collect::<Vec<_>>().join(",") };
    let mut out = keep(&header) + "\n";
    for line in lines {
        let fields: Vec<&str> = line.split(',').collect();
        out += &(keep(&fields) + "\n");
    }
    out
}

#[test]
fn audit_reads_a_publishers_own_hidden_marks_and_names_what_leaks() {
    let dir = tempfile::tempdir().unwrap();
    let c = fixtures().join("secondary_interval_two_way");
    // Totals published, (a,x) = 3 marked `x`: the row total gives it away. (b,y) = 9, marked `..`, is
    // computable too, but at or above the threshold it is not sensitive: no finding.
    let table = dir.path().join("published.csv");
    std::fs::write(&table, "r,c,n\nTotal,Total,62\nTotal,x,11\nTotal,y,19\nTotal,z,32\na,Total,25\na,x,x\na,y,10\na,z,12\nb,Total,37\nb,x,8\nb,y,..\nb,z,20\n").unwrap();
    let run = amparo().args(["audit", "-p"]).arg(c.join("policy.toml")).arg(&table).output().unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert_eq!(run.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("hidden cell (r=a, c=x) can be computed exactly: it is 3"), "{stdout}");
    assert!(!stdout.contains("r=b, c=y"), "{stdout}");
    // A visible small cell breaks the threshold; an unknown mark is an error naming the row.
    std::fs::write(&table, "r,c,n\na,x,3\na,y,10\nb,x,8\nb,y,?\n").unwrap();
    let run = amparo().args(["audit", "-p"]).arg(c.join("policy.toml")).arg(&table).output().unwrap();
    assert_eq!(run.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&run.stderr).contains("row 4: column `n` has `?`"), "{}", String::from_utf8_lossy(&run.stderr));
    let run = amparo().args(["audit", "-p"]).arg(c.join("policy.toml")).arg(&table).args(["--hidden-symbols", "?"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert_eq!(run.status.code(), Some(1));
    assert!(stdout.contains("(r=a, c=x) is published as 3, below the threshold of 5"), "{stdout}");
}

#[test]
fn bad_input_exits_2_with_the_message_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let c = fixtures().join("bad_negative_count");
    let out = dir.path().join("out.csv");
    let run = amparo().args(["protect", "-p"]).arg(c.join("policy.toml")).arg(c.join("input.csv")).arg("-o").arg(&out).output().unwrap();
    assert_eq!(run.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains("data error") && stderr.contains("row 2") && stderr.contains("`n`"), "{stderr}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn output_equal_to_input_is_refused_and_the_input_is_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let c = fixtures().join("threshold_microdata");
    let input = dir.path().join("input.csv");
    std::fs::copy(c.join("input.csv"), &input).unwrap();
    let before = std::fs::read(&input).unwrap();
    let run = amparo().args(["protect", "-p"]).arg(c.join("policy.toml")).arg(&input).arg("-o").arg(&input).output().unwrap();
    assert_eq!(run.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&run.stderr).contains("never overwrites"));
    assert_eq!(std::fs::read(&input).unwrap(), before);
}

#[test]
fn validate_describes_the_table_and_changes_nothing() {
    let c = fixtures().join("code_lengths_geography");
    let before: Vec<_> = std::fs::read_dir(&c).unwrap().map(|e| e.unwrap().path()).collect();
    let run = amparo().args(["validate", "-p"]).arg(c.join("policy.toml")).arg(c.join("input.csv")).output().unwrap();
    assert!(run.status.success());
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(stdout.contains("dimension geo: 6 codes (3 detailed, 3 margins)"), "{stdout}");
    assert!(stdout.contains("36 cells"), "{stdout}");
    let after: Vec<_> = std::fs::read_dir(&c).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(before, after);
}

#[test]
fn schema_prints_the_committed_json_schema() {
    let run = amparo().arg("schema").output().unwrap();
    let committed = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("../schema/policy.schema.json")).unwrap();
    assert!(run.stdout == committed, "regenerate with `amparo schema > schema/policy.schema.json`");
}

#[test]
fn the_bundled_example_is_safe_no_small_cell_visible_and_every_hidden_small_cell_keeps_0_to_5() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.csv");
    let run = amparo()
        .args(["protect", "-p"])
        .arg(root.join("examples/policy.toml"))
        .arg(root.join("examples/children.csv"))
        .arg("-o")
        .arg(&out)
        .arg("--keep-original")
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let text = std::fs::read_to_string(&out).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (vi, pi, si, li, ui) = (col("value"), col("published"), col("status"), col("lower"), col("upper"));
    let (mut rows, mut secondaries) = (0, 0);
    for line in lines {
        let f: Vec<&str> = line.split(',').collect();
        let value: i64 = f[vi].parse().unwrap();
        match (f[pi], f[si]) {
            ("", "primary") => {
                assert!(value > 0 && value < 5, "{line}");
                // The default protection: the attacker's interval reaches 0 and the threshold.
                assert_eq!(f[li], "0", "{line}");
                assert!(f[ui].is_empty() || f[ui].parse::<i64>().unwrap() >= 5, "{line}");
            }
            ("", "secondary") => secondaries += 1,
            (p, "published") => assert!(p.parse::<i64>().unwrap() == value && (value == 0 || value >= 5), "{line}"),
            other => panic!("unexpected {other:?} in {line}"),
        }
        rows += 1;
    }
    assert_eq!(rows, 16 * 11 * 4);
    assert!(secondaries > 0);
}

#[test]
fn linked_fixture_tables_are_written_as_expected() {
    let c = fixtures().join("linked_tables");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let run = amparo().args(["protect", "-p"]).arg(c.join("policy.toml")).arg(c.join("input.csv")).arg("-o").arg(&out).arg("--keep-original").output().unwrap();
    assert_eq!(run.status.code(), Some(0), "{}", String::from_utf8_lossy(&run.stderr));
    for table in ["by_sex", "by_age"] {
        assert_eq!(std::fs::read(out.join(format!("{table}.csv"))).unwrap(), std::fs::read(c.join(format!("expected.{table}.csv"))).unwrap(), "{table}");
    }
}

#[test]
fn linked_tables_are_written_one_file_each_and_share_their_common_cells() {
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let policy = dir.path().join("linked.toml");
    std::fs::write(
        &policy,
        "version = 1\n[input]\nkind = \"microdata\"\n[dimensions.district]\ncode_lengths = [2, 5]\ntotal = \"National\"\n\
         [dimensions.nationality]\n[dimensions.age_band]\ntree = { \"0-17\" = [\"0-4\", \"5-11\", \"12-17\"] }\n\
         [primary]\nthreshold = 5\n[secondary]\nmethod = \"interval\"\n\
         [tables.by_nationality]\ndimensions = [\"district\", \"nationality\"]\n[tables.by_age]\ndimensions = [\"district\", \"age_band\"]\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    let run = amparo().args(["protect", "-p"]).arg(&policy).arg(root.join("examples/children.csv")).arg("-o").arg(&out).output().unwrap();
    assert_eq!(run.status.code(), Some(0), "{}", String::from_utf8_lossy(&run.stderr));
    let read = |name: &str| -> std::collections::HashMap<(String, String), String> {
        let text = std::fs::read_to_string(out.join(format!("{name}.csv"))).unwrap();
        text.lines()
            .skip(1)
            .map(|l| {
                let f: Vec<&str> = l.split(',').collect();
                ((f[0].to_owned(), f[1].to_owned()), f[2].to_owned())
            })
            .collect()
    };
    let (by_nat, by_age) = (read("by_nationality"), read("by_age"));
    // Every district total is in both tables, with the same published value (or hidden in both).
    let mut shared = 0;
    for ((district, code), published) in &by_nat {
        if code == "Total" {
            assert_eq!(by_age.get(&(district.clone(), "0-17".to_owned())), Some(published), "district {district}");
            shared += 1;
        }
    }
    assert!(shared > 10);
    assert!(by_nat.values().any(|p| p.is_empty()), "small nationality cells are hidden");
    assert!(out.join("by_age.csv.meta.json").exists());
}

#[test]
fn audit_of_linked_published_tables_finds_differencing_between_them() {
    let c = fixtures().join("linked_tables");
    let dir = tempfile::tempdir().unwrap();
    let view = |table: &str, text: &str| {
        let path = dir.path().join(format!("{table}.csv"));
        std::fs::write(&path, outsider_view(text)).unwrap();
        path
    };
    let internal_by_age = std::fs::read_to_string(c.join("expected.by_age.csv")).unwrap();
    let by_sex = view("by_sex", &std::fs::read_to_string(c.join("expected.by_sex.csv")).unwrap());
    let by_age = view("by_age", &internal_by_age);
    let run = amparo().args(["audit", "-p"]).arg(c.join("policy.toml")).arg(&by_sex).arg(&by_age).output().unwrap();
    assert_eq!(run.status.code(), Some(0), "{}", String::from_utf8_lossy(&run.stdout));
    // Publishing (1a, Total) and (1a, B) in the age table gives (1a, F) = 13 - 11 away through the sex table.
    let text = internal_by_age
        .replace("1a,Total,13,,secondary,protects a sensitive cell,11,20", "1a,Total,13,13,published,,,")
        .replace("1a,B,7,,secondary,protects a sensitive cell,0,15", "1a,B,7,7,published,,,");
    assert_eq!(text.matches(",published,,,").count(), internal_by_age.matches(",published,,,").count() + 2, "the fixture's lines changed: update the test");
    let leaky = view("leaky_by_age", &text);
    let run = amparo().args(["audit", "-p"]).arg(c.join("policy.toml")).arg(&by_sex).arg(&leaky).output().unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert_eq!(run.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("hidden cell (district=1a, sex=F) can be computed exactly: it is 2"), "{stdout}");
    // One table per linked table, in order.
    let run = amparo().args(["audit", "-p"]).arg(c.join("policy.toml")).arg(&by_sex).output().unwrap();
    assert_eq!(run.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&run.stderr).contains("2 linked tables (by_sex, by_age) but 1 published tables"));
}

#[test]
fn keys_writes_a_new_keyed_file_that_the_cell_key_method_reads_and_never_replaces_it() {
    let dir = tempfile::tempdir().unwrap();
    let case = fixtures().join("cell_key_microdata");
    // The fixture's records without their keys.
    let records: String = std::fs::read_to_string(case.join("input.csv"))
        .unwrap()
        .lines()
        .map(|l| format!("{}\n", l.rsplit_once(',').unwrap().0))
        .collect();
    let plain = dir.path().join("records.csv");
    std::fs::write(&plain, &records).unwrap();
    let keys = |output: &Path| amparo().args(["keys", "--column", "rkey", "--seed", "5", "-o"]).arg(output).arg(&plain).output().unwrap();

    let keyed = dir.path().join("keyed.csv");
    let run = keys(&keyed);
    assert_eq!(run.status.code(), Some(0), "{}", String::from_utf8_lossy(&run.stderr));
    assert!(String::from_utf8_lossy(&run.stdout).contains("ChaCha20 from seed 5"));
    assert_eq!(std::fs::read_to_string(&plain).unwrap(), records, "the input is untouched");
    let text = std::fs::read_to_string(&keyed).unwrap();
    assert!(text.starts_with("district,sex,age_band,rkey\n"));
    assert_eq!(text.lines().count(), records.lines().count());
    for line in text.lines().skip(1) {
        let key: f64 = line.rsplit_once(',').unwrap().1.parse().unwrap();
        assert!((0.0..1.0).contains(&key), "{line}");
    }
    // The same seed gives the same keys.
    let again = dir.path().join("again.csv");
    assert_eq!(keys(&again).status.code(), Some(0));
    assert_eq!(std::fs::read(&again).unwrap(), text.as_bytes());

    // The keyed file is input to the cell key method.
    let out = dir.path().join("out.csv");
    let run = amparo().args(["protect", "--keep-original", "-p"]).arg(case.join("policy.toml")).arg(&keyed).arg("-o").arg(&out).output().unwrap();
    assert_eq!(run.status.code(), Some(0), "{}", String::from_utf8_lossy(&run.stderr));
    for line in std::fs::read_to_string(&out).unwrap().lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let (value, published): (i64, i64) = (f[3].parse().unwrap(), f[4].parse().unwrap());
        assert!((published - value).abs() <= 2 && published != 1 && published >= 0, "{line}");
    }

    // A file of keys is never replaced.
    let run = keys(&keyed);
    assert_eq!(run.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&run.stderr).contains("already exists"));
    assert_eq!(std::fs::read_to_string(&keyed).unwrap(), text);
}

/// The `publish_*` fixture cases through `amparo protect` then `amparo
/// publish`: the expected publication byte for byte (a workbook: a zip
/// holding the table's sheet and a notes sheet); the publication passes
/// `amparo audit`, and the producer's table does not.
#[test]
fn publish_cases_write_the_expected_publication() {
    let dir = tempfile::tempdir().unwrap();
    let mut seen = 0;
    for entry in std::fs::read_dir(fixtures()).unwrap() {
        let c = entry.unwrap().path();
        let spec = std::fs::read_to_string(c.join("case.toml")).unwrap_or_default();
        let Some(output) = spec.lines().find_map(|l| l.strip_prefix("output = \"").and_then(|o| o.strip_suffix('"'))) else { continue };
        seen += 1;
        let case = c.file_name().unwrap().to_string_lossy().into_owned();
        let internal = dir.path().join(format!("{case}.internal.parquet"));
        let run = amparo().args(["protect", "-p"]).arg(c.join("policy.toml")).arg(c.join("input.csv")).arg("-o").arg(&internal).output().unwrap();
        assert_eq!(run.status.code(), Some(0), "{case}: {}", String::from_utf8_lossy(&run.stderr));
        let target = dir.path().join(format!("{case}.{output}"));
        let run = amparo().args(["publish", "-p"]).arg(c.join("policy.toml")).arg(&internal).arg("-o").arg(&target).output().unwrap();
        assert_eq!(run.status.code(), Some(0), "{case}: {}", String::from_utf8_lossy(&run.stderr));
        if output.ends_with(".xlsx") {
            let bytes = std::fs::read(&target).unwrap();
            assert!(bytes.starts_with(b"PK\x03\x04"), "{case}: an xlsx is a zip");
            let names = String::from_utf8_lossy(&bytes);
            assert!(names.contains("xl/worksheets/sheet1.xml") && names.contains("xl/worksheets/sheet2.xml"), "{case}: a table sheet and a notes sheet");
            continue;
        }
        assert_eq!(std::fs::read_to_string(&target).unwrap(), std::fs::read_to_string(c.join(format!("expected.{output}"))).unwrap(), "{case}");
        // The loss report sums hidden counts: the producer's, never published.
        let side = std::fs::read_to_string(format!("{}.meta.json", target.display())).unwrap();
        assert!(!side.contains("amparo.loss") && !side.contains("hidden inner cells"), "{case}: {side}");
        let audit = amparo().args(["audit", "-p"]).arg(c.join("policy.toml")).arg(&target).output().unwrap();
        assert_eq!(audit.status.code(), Some(0), "{case}: {}", String::from_utf8_lossy(&audit.stdout));
        let audit = amparo().args(["audit", "-p"]).arg(c.join("policy.toml")).arg(&internal).output().unwrap();
        assert_eq!(audit.status.code(), Some(1), "{case}: the producer's table is not for publication");
        // Publishing again over the file is refused, unless asked.
        let again = amparo().args(["publish", "-p"]).arg(c.join("policy.toml")).arg(&internal).arg("-o").arg(&target).output().unwrap();
        assert_eq!(again.status.code(), Some(2), "{case}");
        assert!(String::from_utf8_lossy(&again.stderr).contains("already exists; give --overwrite"), "{case}");
        let again = amparo().args(["publish", "--overwrite", "-p"]).arg(c.join("policy.toml")).arg(&internal).arg("-o").arg(&target).output().unwrap();
        assert_eq!(again.status.code(), Some(0), "{case}");
    }
    assert!(seen >= 4);
}

/// Outputs follow one rule in every command: never a file the run reads
/// (the input, the policy, its codes tables), and an existing file only
/// with --overwrite.
#[test]
fn outputs_never_replace_what_the_run_reads_and_replace_other_files_only_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let c = fixtures().join("secondary_interval_two_way");
    let policy = c.join("policy.toml");
    let codes = dir.path().join("geo.csv");
    std::fs::write(&codes, "code,parent\n05,\n05001,05\n").unwrap();
    // A policy naming a codes table: that file is never an output.
    let with_codes = dir.path().join("with_codes.toml");
    std::fs::write(&with_codes, "version = 1\n[input]\nkind = \"aggregated\"\ncount = \"n\"\n[dimensions.geo]\ncodes_file = { path = \"geo.csv\" }\n").unwrap();
    let input = dir.path().join("geo_input.csv");
    std::fs::write(&input, "geo,n\n05001,7\n").unwrap();
    let run = amparo().args(["protect", "-p"]).arg(&with_codes).arg(&input).arg("-o").arg(&codes).output().unwrap();
    assert_eq!(run.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&run.stderr).contains("is also a file this run reads"), "{}", String::from_utf8_lossy(&run.stderr));
    assert_eq!(std::fs::read_to_string(&codes).unwrap(), "code,parent\n05,\n05001,05\n");
    // An existing output: refused, then replaced with --overwrite.
    let out = dir.path().join("out.csv");
    let protect = |extra: &[&str]| amparo().args(["protect", "-p"]).arg(&policy).arg(c.join("input.csv")).arg("-o").arg(&out).args(extra).output().unwrap();
    assert_eq!(protect(&[]).status.code(), Some(0));
    let run = protect(&[]);
    assert_eq!(run.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&run.stderr).contains("already exists; give --overwrite"));
    assert_eq!(protect(&["--overwrite"]).status.code(), Some(0));
    // synth's codes table too (it once overwrote -o's neighbour silently).
    let records = dir.path().join("records.csv");
    let nationalities = dir.path().join("nationalities.csv");
    std::fs::write(&nationalities, "keep me\n").unwrap();
    let synth = |extra: &[&str]| {
        amparo().args(["synth", "-n", "100", "-o"]).arg(&records).arg("--nationality-codes").arg(&nationalities).args(extra).output().unwrap()
    };
    let run = synth(&[]);
    assert_eq!(run.status.code(), Some(2));
    assert_eq!(std::fs::read_to_string(&nationalities).unwrap(), "keep me\n");
    assert!(!records.exists());
    assert_eq!(synth(&["--overwrite"]).status.code(), Some(0));
    assert!(std::fs::read_to_string(&nationalities).unwrap().starts_with("code,parent\n"));
    // Nothing but outputs is left in the folder: no temporary files.
    assert!(std::fs::read_dir(dir.path()).unwrap().all(|e| !e.unwrap().file_name().to_string_lossy().contains(".amparo-")));
}

/// A skipped audit is the producer's explicit choice, and it shows: protect
/// and publish exit 1, and the gate fails the published table.
#[test]
fn an_unaudited_suppression_never_exits_0_and_fails_the_gate() {
    let dir = tempfile::tempdir().unwrap();
    let c = fixtures().join("secondary_interval_two_way");
    let policy = dir.path().join("policy.toml");
    let base = std::fs::read_to_string(c.join("policy.toml")).unwrap().replace("[secondary]\nmethod = \"interval\"\ncost = \"value\"\n", "");
    std::fs::write(&policy, format!("{base}[audit]\nenabled = false\n")).unwrap();
    let out = dir.path().join("out.csv");
    let run = amparo().args(["protect", "-p"]).arg(&policy).arg(c.join("input.csv")).arg("-o").arg(&out).output().unwrap();
    assert_eq!(run.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&run.stderr).contains("I accept an unaudited table"));
    assert!(!out.exists());
    std::fs::write(&policy, format!("{base}[audit]\nenabled = false\nskip = \"I accept an unaudited table\"\n")).unwrap();
    let run = amparo().args(["protect", "-p"]).arg(&policy).arg(c.join("input.csv")).arg("-o").arg(&out).output().unwrap();
    assert_eq!(run.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&run.stdout).contains("NOT AUDITED"));
    let published = dir.path().join("published.csv");
    let run = amparo().args(["publish", "-p"]).arg(&policy).arg(&out).arg("-o").arg(&published).output().unwrap();
    assert_eq!(run.status.code(), Some(1), "{}", String::from_utf8_lossy(&run.stderr));
    let audit = amparo().args(["audit", "-p"]).arg(&policy).arg(&published).output().unwrap();
    assert_eq!(audit.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&audit.stdout).contains("NOT AUDITED"), "{}", String::from_utf8_lossy(&audit.stdout));
}

/// Ctrl-C or SIGTERM in the middle of writing leaves no temporary file and no output.
#[test]
fn an_interrupted_run_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("records.parquet");
    for signal in ["-INT", "-TERM"] {
        let mut child = amparo().args(["synth", "-n", "50000000", "-o"]).arg(&out).spawn().unwrap();
        let started = std::time::Instant::now();
        let writing = || std::fs::read_dir(dir.path()).unwrap().any(|e| e.unwrap().file_name().to_string_lossy().contains(".amparo-"));
        while !writing() && started.elapsed() < std::time::Duration::from_secs(20) {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert!(writing(), "the run never started writing");
        Command::new("kill").arg(signal).arg(child.id().to_string()).status().unwrap();
        let status = child.wait().unwrap();
        assert!(!status.success(), "{signal}");
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert!(left.is_empty(), "{signal}: {left:?}");
    }
}

/// Bounded work: a table that would not fit in memory is refused before it
/// is allocated, saying what it needs and what is free; the pattern phase of
/// `interval` stops at [secondary] time_limit.
#[test]
fn work_is_bounded_by_memory_and_by_the_time_limit() {
    let dir = tempfile::tempdir().unwrap();
    let c = fixtures().join("secondary_interval_two_way");
    let run = amparo()
        .args(["protect", "-p"])
        .arg(c.join("policy.toml"))
        .arg(c.join("input.csv"))
        .arg("-o")
        .arg(dir.path().join("out.csv"))
        .env("AMPARO_MEMORY_LIMIT", "1000")
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains("needs about") && stderr.contains("GB are free") && stderr.contains("r=3, c=4"), "{stderr}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    let policy = dir.path().join("policy.toml");
    std::fs::write(&policy, std::fs::read_to_string(c.join("policy.toml")).unwrap() + "lp_limit = 0\ntime_limit = 0.000000001\n").unwrap();
    let run = amparo().args(["protect", "-p"]).arg(&policy).arg(c.join("input.csv")).arg("-o").arg(dir.path().join("out.csv")).output().unwrap();
    assert_eq!(run.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains("time_limit = 0.000000001 s: hypercube patterns were found for 0 of 1"), "{stderr}");
}

/// `--format json` prints what the protection cost, and the numbers are
/// those of the table written: hidden cells for suppression, changed cells
/// for rounding (stdout is one JSON document, nothing else).
#[test]
fn protect_prints_its_summary_as_json_with_the_numbers_of_the_table_written() {
    let dir = tempfile::tempdir().unwrap();
    for (case, status) in [("example", "hidden"), ("rounding_controlled", "rounded")] {
        let (policy, input) = if case == "example" {
            let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
            (examples.join("policy.toml"), examples.join("children.csv"))
        } else {
            (fixtures().join(case).join("policy.toml"), fixtures().join(case).join("input.csv"))
        };
        let out = dir.path().join(format!("{case}.csv"));
        let run = amparo().args(["protect", "--keep-original", "--format", "json", "-p"]).arg(&policy).arg(&input).arg("-o").arg(&out).output().unwrap();
        assert_eq!(run.status.code(), Some(0), "{case}: {}", String::from_utf8_lossy(&run.stderr));
        let report: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap_or_else(|e| panic!("{case}: {e}: {}", String::from_utf8_lossy(&run.stdout)));
        let summary = &report["tables"][0]["summary"];
        assert_eq!(report["tables"][0]["written"], out.display().to_string());
        let text = std::fs::read_to_string(&out).unwrap();
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().unwrap().split(',').collect();
        let at = |name: &str| header.iter().position(|h| *h == name).unwrap();
        let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
        assert_eq!(summary["cells"], rows.len());
        let (value, published) = (at("value"), at("published"));
        if status == "hidden" {
            let hidden: Vec<&Vec<&str>> = rows.iter().filter(|r| r[published].is_empty()).collect();
            assert_eq!(summary["hidden"], hidden.len());
            assert!(summary["changes"].is_null() && hidden.len() > 0);
            let levels = summary["loss"]["by_level"].as_array().unwrap();
            assert_eq!(levels.iter().filter(|l| l["dimension"] == "district").map(|l| l["hidden"].as_u64().unwrap()).sum::<u64>(), hidden.len() as u64);
        } else {
            let changes: Vec<i64> = rows.iter().map(|r| r[published].parse::<i64>().unwrap() - r[value].parse::<i64>().unwrap()).collect();
            let c = &summary["changes"];
            assert_eq!(c["changed"], changes.iter().filter(|&&d| d != 0).count());
            assert_eq!(c["max_abs"], changes.iter().map(|d| d.abs()).max().unwrap());
            for bin in c["distribution"].as_array().unwrap() {
                let (from, to) = (bin["from"].as_i64().unwrap(), bin["to"].as_i64().unwrap());
                assert_eq!(bin["cells"], changes.iter().filter(|d| (from..=to).contains(d)).count());
            }
        }
    }
    let bad = amparo().args(["protect", "--format", "yaml", "-p", "x.toml", "in.csv", "-o"]).arg(dir.path().join("o.csv")).output().unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("use text or json"));
}

/// The shared synthetic records (tests/synth): the same bytes from the CLI
/// as Python's and R's synth() write.
#[test]
fn synth_writes_the_shared_synthetic_records() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("records.csv");
    let run = amparo().args(["synth", "-n", "40", "--seed", "3", "-o"]).arg(&out).output().unwrap();
    assert_eq!(run.status.code(), Some(0), "{}", String::from_utf8_lossy(&run.stderr));
    let expected = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/synth/records_40_seed_3.csv");
    assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(expected).unwrap());
}

/// `--lang es`: the summary in Spanish, its statuses and reasons too.
#[test]
fn protect_prints_its_summary_in_spanish_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let run = amparo().args(["protect", "--lang", "es", "-p"]).arg(examples.join("policy.toml")).arg(examples.join("children.csv")).arg("-o").arg(dir.path().join("out.csv")).output().unwrap();
    assert_eq!(run.status.code(), Some(0), "{}", String::from_utf8_lossy(&run.stderr));
    let text = String::from_utf8_lossy(&run.stdout);
    for words in ["celdas:", "ocultas:", "primaria   umbral<5", "pérdida:", "publicadas:", "escrita:"] {
        assert!(text.contains(words), "{words}: {text}");
    }
}
