//! `amparo audit` as a publication QA gate: each unsafe table fails with the
//! right check and exit code 1, its safe version passes with 0, unreadable
//! input exits 2 naming the line; the report formats carry the same verdict.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The binary, in English whatever the machine's locale (tests that want another set it).
fn amparo() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_amparo"));
    command.env("LC_ALL", "C");
    command
}

const POLICY: &str = "version = 1\n[input]\nkind = \"aggregated\"\ncount = \"n\"\n[dimensions.district]\ncodes = [\"D1\", \"D2\"]\n[dimensions.sex]\ncodes = [\"F\", \"M\"]\n[primary]\nthreshold = 5\n";

struct Case {
    dir: tempfile::TempDir,
}

impl Case {
    fn new(policy: &str) -> Case {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("policy.toml"), policy).unwrap();
        Case { dir }
    }
    fn file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    }
    fn audit(&self, tables: &[&Path], format: &str) -> Output {
        amparo().args(["audit", "--lang", "en", "--format", format, "-p"]).arg(self.dir.path().join("policy.toml")).args(tables).output().unwrap()
    }
}

/// (exit code, stdout) of a text audit, and the failing checks from the JSON report.
fn verdict(case: &Case, tables: &[&Path]) -> (i32, String, Vec<String>) {
    let text = case.audit(tables, "text");
    let json = case.audit(tables, "json");
    assert_eq!(text.status.code(), json.status.code());
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&json.stderr)));
    assert_eq!(report["format"], "amparo-audit-report");
    assert_eq!(report["version"], 1);
    let failed = report["checks"].as_array().unwrap().iter().filter(|c| c["passed"] == false).map(|c| c["check"].as_str().unwrap().to_owned()).collect();
    (text.status.code().unwrap(), String::from_utf8_lossy(&text.stdout).into_owned(), failed)
}

#[test]
fn a_visible_small_cell_fails_the_threshold_check() {
    let case = Case::new(POLICY);
    let unsafe_table = case.file("unsafe.csv", "district,sex,published\nTotal,Total,40\nTotal,F,23\nTotal,M,17\nD1,Total,20\nD1,F,3\nD1,M,17\nD2,Total,20\nD2,F,20\nD2,M,0\n");
    let (code, text, failed) = verdict(&case, &[&unsafe_table]);
    assert_eq!(code, 1);
    assert_eq!(failed, ["threshold"]);
    assert!(text.contains("district=D1, sex=F") && text.contains("below the threshold of 5"), "{text}");
    // A rectangle of complements leaves (D1,F) in [3, 20]: an outsider learns
    // it is not 0 to 2, which the small cell's protection (reach 0 and 5)
    // forbids; the protect-time audit judges the same pattern the same way.
    let rectangle = case.file("rectangle.csv", "district,sex,published\nTotal,Total,40\nTotal,F,23\nTotal,M,17\nD1,Total,20\nD1,F,x\nD1,M,x\nD2,Total,20\nD2,F,x\nD2,M,x\n");
    let (code, text, failed) = verdict(&case, &[&rectangle]);
    assert_eq!((code, failed), (1, vec!["protection".to_owned()]), "{text}");
    assert!(text.contains("hidden cell (district=D1, sex=F) can be shown to lie in [3, 20]; an outsider cannot tell it from a sensitive cell, whose protection needs [0, 5]"), "{text}");
    // The safe version, as `amparo protect` hides it: the small cell, its row
    // neighbour and the two column totals, each free to reach 0 and 5.
    let safe = case.file("safe.csv", "district,sex,published\nTotal,Total,40\nTotal,F,x\nTotal,M,x\nD1,Total,20\nD1,F,x\nD1,M,x\nD2,Total,20\nD2,F,20\nD2,M,0\n");
    let (code, text, failed) = verdict(&case, &[&safe]);
    assert_eq!((code, failed.len()), (0, 0), "{text}");
}

#[test]
fn a_hidden_cell_recoverable_from_its_margins_fails_the_protection_check() {
    let case = Case::new(POLICY);
    let table = case.file("t.csv", "district,sex,published\nTotal,Total,40\nTotal,F,23\nTotal,M,17\nD1,Total,20\nD1,F,x\nD1,M,17\nD2,Total,20\nD2,F,20\nD2,M,0\n");
    let (code, text, failed) = verdict(&case, &[&table]);
    assert_eq!(code, 1);
    assert_eq!(failed, ["protection"]);
    assert!(text.contains("(district=D1, sex=F) can be computed exactly: it is 3"), "{text}");
}

#[test]
fn a_cell_recoverable_only_by_combining_two_tables_fails() {
    let policy = String::from(
        "version = 1\n[input]\nkind = \"microdata\"\n[dimensions.district]\ncodes = [\"D1\", \"D2\"]\n[dimensions.sex]\ncodes = [\"F\", \"M\"]\n[dimensions.age]\ncodes = [\"0-4\", \"5-17\"]\n[primary]\nthreshold = 5\n[tables.by_sex]\ndimensions = [\"district\", \"sex\"]\n[tables.by_age]\ndimensions = [\"district\", \"age\"]\n"
    );
    let case = Case::new(&policy);
    let by_sex = case.file("by_sex.csv", "district,sex,published\nTotal,Total,40\nTotal,F,x\nTotal,M,x\nD1,Total,x\nD1,F,x\nD1,M,17\nD2,Total,x\nD2,F,x\nD2,M,x\n");
    let by_age = case.file("by_age.csv", "district,age,published\nTotal,Total,40\nTotal,0-4,x\nTotal,5-17,x\nD1,Total,20\nD1,0-4,x\nD1,5-17,x\nD2,Total,20\nD2,0-4,x\nD2,5-17,x\n");
    // Alone, by_sex leaves D1 x F anywhere in [0, 23] (D1's total is hidden) and by_age shows only
    // totals; together, D1's total (20, from by_age) minus D1 x M (17) gives D1 x F = 3.
    let (code, text, failed) = verdict(&case, &[&by_sex, &by_age]);
    assert_eq!(code, 1, "{text}");
    assert!(failed.contains(&"protection".to_owned()), "{failed:?}");
    assert!(text.contains("district=D1, sex=F") && text.contains("it is 3"), "{text}");
}

#[test]
fn margins_that_do_not_add_up_fail_the_additivity_check() {
    let case = Case::new(POLICY);
    let table = case.file("t.csv", "district,sex,published\nTotal,Total,41\nTotal,F,23\nTotal,M,17\nD1,Total,20\nD1,F,x\nD1,M,x\nD2,Total,20\nD2,F,x\nD2,M,x\n");
    let (code, text, failed) = verdict(&case, &[&table]);
    assert_eq!(code, 1);
    // No attacker model fits contradictory cells: protection is never claimed for them.
    assert_eq!(failed, ["protection", "additivity"], "{text}");
    assert!(text.contains("not the sum of their published parts: (district=Total, sex=Total)"), "{text}");
    assert!(text.contains("the protection of the hidden cells cannot be shown"), "{text}");
}

#[test]
fn a_wrong_row_total_is_named_as_the_margin_that_breaks_additivity() {
    let case = Case::new(POLICY);
    // (D1, Total) should be 20: it breaks its own row and the column of totals;
    // the cell in every broken sum is named first.
    let table = case.file("t.csv", "district,sex,published\nTotal,Total,40\nTotal,F,25\nTotal,M,15\nD1,Total,21\nD1,F,5\nD1,M,15\nD2,Total,20\nD2,F,20\nD2,M,0\n");
    let (code, text, failed) = verdict(&case, &[&table]);
    assert_eq!(code, 1);
    assert_eq!(failed, ["protection", "additivity"], "{text}");
    assert!(text.contains("published parts: (district=D1, sex=Total), (district=Total, sex=Total);"), "{text}");
    assert!(!text.contains("protection ok"), "{text}");
}

#[test]
fn a_table_rounded_to_the_wrong_base_fails_the_rounding_check() {
    let case = Case::new(&POLICY.replace("[primary]\nthreshold = 5\n", "[rounding]\nmethod = \"random\"\nbase = 5\n"));
    let wrong = case.file("wrong.csv", "district,sex,published\nTotal,Total,39\nTotal,F,24\nTotal,M,15\nD1,Total,21\nD1,F,3\nD1,M,18\nD2,Total,18\nD2,F,21\nD2,M,0\n");
    let (code, text, failed) = verdict(&case, &[&wrong]);
    assert_eq!(code, 1);
    assert_eq!(failed, ["rounding"], "{text}");
    assert!(text.contains("not a multiple of the rounding base 5"), "{text}");
    let right = case.file("right.csv", "district,sex,published\nTotal,Total,40\nTotal,F,25\nTotal,M,15\nD1,Total,20\nD1,F,5\nD1,M,15\nD2,Total,20\nD2,F,20\nD2,M,0\n");
    assert_eq!(verdict(&case, &[&right]).0, 0);
}

#[test]
fn a_small_count_left_in_a_pls_table_fails_the_rounding_check() {
    let case = Case::new(&POLICY.replace("[primary]\nthreshold = 5\n", "[rounding]\nmethod = \"pls\"\nbase = 5\n"));
    // Counts above the base stay as they are (18, 21); a 3 is never published.
    let wrong = case.file("wrong.csv", "district,sex,published\nTotal,Total,57\nTotal,F,24\nTotal,M,33\nD1,Total,21\nD1,F,3\nD1,M,18\nD2,Total,36\nD2,F,21\nD2,M,15\n");
    let (code, text, failed) = verdict(&case, &[&wrong]);
    assert_eq!(code, 1);
    assert_eq!(failed, ["rounding"], "{text}");
    assert!(text.contains("(district=D1, sex=F) is published as 3, which small count rounding to base 5 never publishes"), "{text}");
    let right = case.file("right.csv", "district,sex,published\nTotal,Total,59\nTotal,F,26\nTotal,M,33\nD1,Total,23\nD1,F,5\nD1,M,18\nD2,Total,36\nD2,F,21\nD2,M,15\n");
    assert_eq!(verdict(&case, &[&right]).0, 0);
    // A margin that is not the sum of its parts fails too: the margins are sums.
    let broken = case.file("broken.csv", "district,sex,published\nTotal,Total,60\nTotal,F,26\nTotal,M,33\nD1,Total,23\nD1,F,5\nD1,M,18\nD2,Total,36\nD2,F,21\nD2,M,15\n");
    let (code, text, failed) = verdict(&case, &[&broken]);
    assert_eq!(code, 1);
    assert_eq!(failed, ["additivity"], "{text}");
}

#[test]
fn a_malformed_csv_exits_2_naming_the_line() {
    let case = Case::new(POLICY);
    let table = case.file("t.csv", "district,sex,published\nTotal,Total,40\nTotal,F,23,7\nTotal,M,17\n");
    let run = case.audit(&[&table], "text");
    assert_eq!(run.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains("line 3"), "{stderr}");
}

#[test]
fn a_table_made_with_another_policy_fails_the_metadata_check() {
    let policy = format!("{POLICY}[secondary]\nmethod = \"interval\"\n");
    let case = Case::new(&policy);
    let input = case.file("input.csv", "district,sex,n\nD1,F,3\nD1,M,17\nD2,F,20\nD2,M,0\n");
    let out = case.dir.path().join("out.csv");
    let run = amparo().args(["protect", "-p"]).arg(case.dir.path().join("policy.toml")).arg(&input).arg("-o").arg(&out).output().unwrap();
    assert_eq!(run.status.code(), Some(0), "{}", String::from_utf8_lossy(&run.stderr));
    let published = case.dir.path().join("published.csv");
    let run = amparo().args(["publish", "-p"]).arg(case.dir.path().join("policy.toml")).arg(&out).arg("-o").arg(&published).output().unwrap();
    assert_eq!(run.status.code(), Some(0), "{}", String::from_utf8_lossy(&run.stderr));
    let (code, text, failed) = verdict(&case, &[&published]);
    assert_eq!((code, failed.len()), (0, 0), "{text}");
    // The report says how the file was made, from its metadata.
    let made = "published.csv: primary:threshold+secondary:optimal (interval chose optimal: 9 cells, within [secondary] lp_limit = 5000)";
    assert!(text.lines().any(|l| l.starts_with("made by:  ") && l.ends_with(made)), "{text}");
    let json: serde_json::Value = serde_json::from_slice(&case.audit(&[&published], "json").stdout).unwrap();
    assert_eq!(json["produced_by"][0]["method"], "primary:threshold+secondary:optimal");
    assert!(json["produced_by"][0]["secondary"].as_str().unwrap().starts_with("interval chose optimal"));
    let summary = case.dir.path().join("summary.md");
    let run = amparo().args(["audit", "--lang", "en", "--format", "github", "--summary"]).arg(&summary).arg("-p").arg(case.dir.path().join("policy.toml")).arg(&published).output().unwrap();
    assert_eq!(run.status.code(), Some(0));
    let markdown = std::fs::read_to_string(&summary).unwrap();
    assert!(markdown.contains(made), "{markdown}");
    // The same bytes without their .meta.json: the other checks still run, and
    // every report says the metadata check did not, rather than dropping it.
    let bare = case.file("bare.csv", &std::fs::read_to_string(&published).unwrap());
    let (code, text, failed) = verdict(&case, &[&bare]);
    assert_eq!((code, failed.len()), (0, 0), "{text}");
    assert!(text.contains("metadata: not checked: ") && text.contains("bare.csv carries no Amparo metadata"), "{text}");
    assert!(!text.contains("metadata ok"), "{text}");
    let json: serde_json::Value = serde_json::from_slice(&case.audit(&[&bare], "json").stdout).unwrap();
    assert!(json["unrecorded"][0].as_str().unwrap().ends_with("bare.csv"), "{json}");
    let junit = String::from_utf8(case.audit(&[&bare], "junit").stdout).unwrap();
    assert!(junit.contains("skipped=\"1\"") && junit.contains("<testcase name=\"metadata\" classname=\"amparo.audit\">\n      <skipped message=\"metadata: not checked"), "{junit}");
    let github = String::from_utf8(case.audit(&[&bare], "github").stdout).unwrap();
    assert!(github.contains("::warning file=") && github.contains("title=amparo audit: metadata::metadata: not checked"), "{github}");
    // The same table audited against an edited policy: its metadata names the old one.
    std::fs::write(case.dir.path().join("policy.toml"), format!("{policy}# edited\n")).unwrap();
    let (code, text, failed) = verdict(&case, &[&published]);
    assert_eq!(code, 1);
    assert_eq!(failed, ["metadata"], "{text}");
}

#[test]
fn the_producers_table_fails_the_columns_check_naming_what_leaks() {
    let policy = format!("{POLICY}[secondary]\nmethod = \"interval\"\n");
    let case = Case::new(&policy);
    let input = case.file("input.csv", "district,sex,n\nD1,F,3\nD1,M,17\nD2,F,20\nD2,M,0\n");
    let out = case.dir.path().join("internal.parquet");
    let run = amparo().args(["protect", "--keep-original", "-p"]).arg(case.dir.path().join("policy.toml")).arg(&input).arg("-o").arg(&out).output().unwrap();
    assert_eq!(run.status.code(), Some(0), "{}", String::from_utf8_lossy(&run.stderr));
    assert!(String::from_utf8_lossy(&run.stdout).contains("NOT for publication"));
    let (code, text, failed) = verdict(&case, &[&out]);
    assert_eq!(code, 1);
    // Its metadata too: the summary of what protection cost, from the true values.
    assert_eq!(failed, ["metadata", "columns"], "{text}");
    assert!(text.contains("amparo.summary, amparo.loss"), "{text}");
    for column in ["`value`", "`status`", "`reason`", "`lower`", "`upper`"] {
        assert!(text.contains(column), "{column} in {text}");
    }
    // A published-looking file with one extra column of true counts fails too.
    let extra = case.file("extra.csv", "district,sex,published,n_true\nTotal,Total,40,40\nTotal,F,x,23\nTotal,M,x,17\nD1,Total,20,20\nD1,F,x,3\nD1,M,x,17\nD2,Total,20,20\nD2,F,20,20\nD2,M,0,0\n");
    let (code, text, failed) = verdict(&case, &[&extra]);
    assert_eq!(code, 1);
    assert_eq!(failed, ["columns"], "{text}");
    assert!(text.contains("`n_true`"), "{text}");
    // Unless the policy lists it as a harmless extra column.
    std::fs::write(case.dir.path().join("policy.toml"), format!("{policy}[publication]\nextra_columns = [\"n_true\"]\n")).unwrap();
    assert_eq!(verdict(&case, &[&extra]).0, 0);
}

#[test]
fn junit_and_github_reports_carry_the_same_verdict() {
    let case = Case::new(POLICY);
    let table = case.file("t.csv", "district,sex,published\nTotal,Total,40\nTotal,F,23\nTotal,M,17\nD1,Total,20\nD1,F,x\nD1,M,17\nD2,Total,20\nD2,F,20\nD2,M,0\n");
    let junit = case.audit(&[&table], "junit");
    assert_eq!(junit.status.code(), Some(1));
    let xml = String::from_utf8_lossy(&junit.stdout);
    assert!(xml.starts_with("<?xml") && xml.contains("<testcase name=\"protection\"") && xml.contains("<failure"), "{xml}");
    // Four checks, and the metadata check this bare file cannot have, skipped.
    assert_eq!(xml.matches("<testcase").count(), 5);
    let summary = case.dir.path().join("summary.md");
    let github = amparo()
        .args(["audit", "--lang", "en", "--format", "github", "-p"])
        .arg(case.dir.path().join("policy.toml"))
        .arg(&table)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .output()
        .unwrap();
    assert_eq!(github.status.code(), Some(1));
    let commands = String::from_utf8_lossy(&github.stdout);
    assert!(commands.lines().any(|l| l.starts_with("::error file=") && l.contains("can be computed exactly")), "{commands}");
    let markdown = std::fs::read_to_string(&summary).unwrap();
    assert!(markdown.contains("## Amparo audit: FAILED") && markdown.contains("| protection | **FAILED** | 1 |"), "{markdown}");
    let unknown = case.audit(&[&table], "yaml");
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("text, json, junit, github or html"));
}

#[test]
fn the_report_schema_is_the_committed_one() {
    let run = amparo().args(["schema", "--audit-report"]).output().unwrap();
    let committed = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("../schema/audit-report.schema.json")).unwrap();
    assert!(run.stdout == committed, "regenerate with `amparo schema --audit-report > schema/audit-report.schema.json`");
}

#[test]
fn the_ci_example_gate_passes_a_safe_folder_and_stops_an_unsafe_one() {
    let case = Case::new(POLICY);
    let published = case.dir.path().join("published");
    std::fs::create_dir(&published).unwrap();
    let safe = "district,sex,published\nTotal,Total,40\nTotal,F,20\nTotal,M,20\nD1,Total,20\nD1,F,x\nD1,M,x\nD2,Total,20\nD2,F,x\nD2,M,x\n";
    std::fs::write(published.join("by_sex.csv"), safe).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/ci/audit-published.sh");
    let gate = |format: &str, reports: Option<&Path>| {
        let mut cmd = Command::new("bash");
        cmd.arg(&script).arg(case.dir.path().join("policy.toml")).arg(&published).arg(format);
        if let Some(r) = reports {
            cmd.arg(r);
        }
        cmd.env("AMPARO", env!("CARGO_BIN_EXE_amparo")).output().unwrap()
    };
    assert_eq!(gate("github", None).status.code(), Some(0));
    // An unsafe table joins the folder: the gate stops, and the JUnit report names the cell.
    std::fs::write(published.join("by_sex_2.csv"), safe.replace("D1,F,x", "D1,F,3")).unwrap();
    let reports = case.dir.path().join("reports");
    let run = gate("junit", Some(&reports));
    assert_eq!(run.status.code(), Some(1), "{}", String::from_utf8_lossy(&run.stderr));
    assert!(String::from_utf8_lossy(&run.stderr).contains("by_sex_2.csv: unsafe"));
    let xml = std::fs::read_to_string(reports.join("by_sex_2.csv.xml")).unwrap();
    assert!(xml.contains("<failure") && xml.contains("district=D1, sex=F"), "{xml}");
    assert!(!std::fs::read_to_string(reports.join("by_sex.csv.xml")).unwrap().contains("<failure"));
    // The pages for reviewers, as both CI examples make them.
    let pages = case.dir.path().join("pages");
    assert_eq!(gate("html", Some(&pages)).status.code(), Some(1));
    let page = std::fs::read_to_string(pages.join("by_sex_2.csv.html")).unwrap();
    assert!(page.contains("<td class=\"pf\"") && page.contains("below the threshold of 5"), "{page}");
    for config in ["github-actions.yml", "gitlab-ci.yml"] {
        let text = std::fs::read_to_string(script.with_file_name(config)).unwrap();
        for format in ["html", if config.starts_with("github") { "github" } else { "junit" }] {
            assert!(text.contains(&format!("audit-published.sh policy.toml published {format}")), "{config} runs the {format} gate");
        }
    }
    // A table that cannot be read: exit 2, and a report that says why (never an empty file).
    std::fs::write(published.join("broken.csv"), "district,sex,published\nD1,F\n").unwrap();
    assert_eq!(gate("text", None).status.code(), Some(2));
    let reports = case.dir.path().join("reports-broken");
    assert_eq!(gate("junit", Some(&reports)).status.code(), Some(2));
    let xml = std::fs::read_to_string(reports.join("broken.csv.xml")).unwrap();
    assert!(xml.contains("<testcase name=\"read\"") && xml.contains("<failure") && xml.contains("line 2"), "{xml}");
    let pages = case.dir.path().join("pages-broken");
    assert_eq!(gate("html", Some(&pages)).status.code(), Some(2));
    let page = std::fs::read_to_string(pages.join("broken.csv.html")).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>") && page.contains("not audited"), "{page}");
}

#[test]
fn the_ci_gate_reads_every_format_in_any_case_takes_the_audit_options_and_audits_linked_tables_together() {
    let case = Case::new(&format!("{POLICY}[secondary]\nmethod = \"interval\"\n"));
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/ci/audit-published.sh");
    let gate = |policy: &Path, folder: &Path, args: &[&str]| {
        Command::new("bash").arg(&script).arg(policy).arg(folder).args(args).env("AMPARO", env!("CARGO_BIN_EXE_amparo")).output().unwrap()
    };
    // Publications in Parquet and Arrow under upper-case names are audited too: an unsafe one fails.
    let input = case.file("input.csv", "district,sex,n\nD1,F,3\nD1,M,17\nD2,F,20\nD2,M,0\n");
    let policy = case.dir.path().join("policy.toml");
    let internal = case.dir.path().join("internal.parquet");
    assert_eq!(amparo().args(["protect", "-p"]).arg(&policy).arg(&input).arg("-o").arg(&internal).output().unwrap().status.code(), Some(0));
    let published = case.dir.path().join("published");
    std::fs::create_dir(&published).unwrap();
    for name in ["T1.PARQUET", "t2.Feather", "t3.pq"] {
        let run = amparo().args(["publish", "--format", if name.ends_with("Feather") { "arrow" } else { "parquet" }, "-p"]).arg(&policy).arg(&internal).arg("-o").arg(published.join(name)).output().unwrap();
        assert_eq!(run.status.code(), Some(0), "{}", String::from_utf8_lossy(&run.stderr));
    }
    let run = gate(&policy, &published, &["text"]);
    assert_eq!(run.status.code(), Some(0), "{}{}", String::from_utf8_lossy(&run.stdout), String::from_utf8_lossy(&run.stderr));
    assert_eq!(String::from_utf8_lossy(&run.stdout).matches("audit:    passed").count(), 3);
    // The producer's table dropped into the folder fails the gate.
    std::fs::copy(&internal, published.join("internal.PARQUET")).unwrap();
    let run = gate(&policy, &published, &["text"]);
    assert_eq!(run.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&run.stderr).contains("internal.PARQUET: unsafe"));
    std::fs::remove_file(published.join("internal.PARQUET")).unwrap();
    // Options reach `amparo audit`: another mark of hidden cells, and Spanish.
    let marked = case.dir.path().join("marked");
    std::fs::create_dir(&marked).unwrap();
    std::fs::write(marked.join("t.csv"), "district,sex,published\nTotal,Total,40\nTotal,F,20\nTotal,M,20\nD1,Total,20\nD1,F,?\nD1,M,?\nD2,Total,20\nD2,F,?\nD2,M,?\n").unwrap();
    assert_eq!(gate(&policy, &marked, &["text"]).status.code(), Some(2));
    let run = gate(&policy, &marked, &["text", "--hidden-symbols", "?", "--lang", "es"]);
    assert_eq!(run.status.code(), Some(0), "{}", String::from_utf8_lossy(&run.stderr));
    assert!(String::from_utf8_lossy(&run.stdout).contains("auditoría"));
    // Linked tables: the folder protect and publish wrote, audited together.
    let linked = Case::new("version = 1\n[input]\nkind = \"microdata\"\n[dimensions.district]\ncodes = [\"D1\", \"D2\"]\n[dimensions.sex]\ncodes = [\"F\", \"M\"]\n[dimensions.age]\ncodes = [\"0-4\", \"5-17\"]\n[primary]\nthreshold = 5\n[tables.by_sex]\ndimensions = [\"district\", \"sex\"]\n[tables.by_age]\ndimensions = [\"district\", \"age\"]\n");
    let folder = linked.dir.path().join("published");
    std::fs::create_dir(&folder).unwrap();
    std::fs::write(folder.join("by_sex.csv"), "district,sex,published\nTotal,Total,40\nTotal,F,x\nTotal,M,x\nD1,Total,x\nD1,F,x\nD1,M,17\nD2,Total,x\nD2,F,x\nD2,M,x\n").unwrap();
    std::fs::write(folder.join("by_age.csv"), "district,age,published\nTotal,Total,40\nTotal,0-4,x\nTotal,5-17,x\nD1,Total,20\nD1,0-4,x\nD1,5-17,x\nD2,Total,20\nD2,0-4,x\nD2,5-17,x\n").unwrap();
    let run = gate(&linked.dir.path().join("policy.toml"), &folder, &["text"]);
    // Alone each table is safe; together D1's total (20, by age) minus D1 x M (17) gives D1 x F.
    assert_eq!(run.status.code(), Some(1), "{}", String::from_utf8_lossy(&run.stdout));
    assert!(String::from_utf8_lossy(&run.stdout).contains("can be computed exactly: it is 3"));
}

#[test]
fn reports_speak_spanish_with_spanish_numbers() {
    let case = Case::new(&POLICY.replace("threshold = 5", "threshold = 5000"));
    let table = case.file("t.csv", "district,sex,published\nTotal,Total,4000\nTotal,F,2300\nTotal,M,1700\nD1,Total,2000\nD1,F,x\nD1,M,1700\nD2,Total,2000\nD2,F,2000\nD2,M,0\n");
    let run = amparo().args(["audit", "-p"]).arg(case.dir.path().join("policy.toml")).arg(&table).env("LANG", "es_CO.UTF-8").env_remove("LC_ALL").env_remove("LC_MESSAGES").output().unwrap();
    assert_eq!(run.status.code(), Some(1));
    let text = String::from_utf8_lossy(&run.stdout);
    assert!(text.contains("auditoría:   FALLA"), "{text}");
    assert!(text.contains("se publica como 1.700, por debajo del umbral de 5.000"), "{text}");
    assert!(text.contains("puede calcularse exactamente: es 300"), "{text}");
    let json: serde_json::Value = serde_json::from_slice(&amparo().args(["audit", "--lang", "es", "--format", "json", "-p"]).arg(case.dir.path().join("policy.toml")).arg(&table).output().unwrap().stdout).unwrap();
    assert_eq!(json["language"], "es");
    assert!(json["findings"].as_array().unwrap().iter().any(|f| f["key"] == "finding.threshold"));
    let unknown = amparo().args(["audit", "--lang", "xx", "-p"]).arg(case.dir.path().join("policy.toml")).arg(&table).output().unwrap();
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("en, es"));
}

/// Three districts: D1 and D2 hidden in a protected 2x2 pattern, D3 x F
/// hidden alone (its row total gives it away: 12 - 10 = 2).
const THREE_DISTRICTS: &str = "version = 1\n[input]\nkind = \"aggregated\"\ncount = \"n\"\n[dimensions.district]\ncodes = [\"D1\", \"D2\", \"D3\"]\n[dimensions.sex]\ncodes = [\"F\", \"M\"]\n[primary]\nthreshold = 5\n";
const THREE_DISTRICTS_TABLE: &str =
    "district,sex,published\nTotal,Total,52\nTotal,F,22\nTotal,M,30\nD1,Total,20\nD1,F,x\nD1,M,x\nD2,Total,20\nD2,F,x\nD2,M,x\nD3,Total,12\nD3,F,x\nD3,M,10\n";

#[test]
fn junit_has_a_suite_per_table_and_a_case_per_check() {
    let policy = String::from(
        "version = 1\n[input]\nkind = \"microdata\"\n[dimensions.district]\ncodes = [\"D1\", \"D2\"]\n[dimensions.sex]\ncodes = [\"F\", \"M\"]\n[dimensions.age]\ncodes = [\"0-4\", \"5-17\"]\n[primary]\nthreshold = 5\n[tables.by_sex]\ndimensions = [\"district\", \"sex\"]\n[tables.by_age]\ndimensions = [\"district\", \"age\"]\n"
    );
    let case = Case::new(&policy);
    let by_sex = case.file("by_sex.csv", "district,sex,published\nTotal,Total,40\nTotal,F,x\nTotal,M,x\nD1,Total,x\nD1,F,x\nD1,M,17\nD2,Total,x\nD2,F,x\nD2,M,x\n");
    let by_age = case.file("by_age.csv", "district,age,published\nTotal,Total,40\nTotal,0-4,x\nTotal,5-17,x\nD1,Total,20\nD1,0-4,x\nD1,5-17,x\nD2,Total,20\nD2,0-4,x\nD2,5-17,x\n");
    let run = case.audit(&[&by_sex, &by_age], "junit");
    assert_eq!(run.status.code(), Some(1));
    let xml = String::from_utf8_lossy(&run.stdout);
    let suites: Vec<&str> = xml.split("<testsuite ").skip(1).collect();
    assert_eq!(suites.len(), 2, "{xml}");
    // by_sex holds the recoverable cell (district=D1, sex=F); by_age does not.
    assert!(suites[0].contains("by_sex.csv") && suites[0].contains("district=D1, sex=F") && suites[0].contains("failures=\"1\""), "{xml}");
    assert!(suites[1].contains("by_age.csv") && !suites[1].contains("<failure") && suites[1].contains("failures=\"0\""), "{xml}");
    // Five checks per table, and the metadata check each file cannot have (no metadata): skipped.
    assert!(xml.contains("<testsuites name=\"amparo audit\" tests=\"12\" failures=\"1\""), "{xml}");
    assert!(suites.iter().all(|s| s.contains("skipped=\"1\"") && s.contains("<skipped message=")), "{xml}");
}

/// Pixels of each colour in a PNG.
fn count_colours(png_path: &Path, colours: &[[u8; 3]]) -> Vec<usize> {
    let mut decoder = png::Decoder::new(std::fs::File::open(png_path).unwrap());
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let step = match info.color_type {
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        other => panic!("unexpected PNG colour type {other:?}"),
    };
    colours.iter().map(|c| buf[..info.buffer_size()].chunks(step).filter(|p| p[..3] == c[..]).count()).collect()
}

/// Headless Chromium (Debian's `chromium`; `scripts/setup.sh` installs it),
/// or `$AMPARO_CHROMIUM`.
fn chromium() -> PathBuf {
    if let Some(path) = std::env::var_os("AMPARO_CHROMIUM") {
        return PathBuf::from(path);
    }
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .filter_map(|name| std::env::var_os("PATH").and_then(|p| std::env::split_paths(&p).map(|d| d.join(name)).find(|p| p.exists())))
        .next()
        .expect("headless Chromium is needed to test the HTML report: run scripts/setup.sh (it installs Debian's chromium) or set AMPARO_CHROMIUM")
}

#[test]
fn the_html_report_renders_in_headless_chromium_with_its_heat_map() {
    let case = Case::new(THREE_DISTRICTS);
    let table = case.file("t.csv", THREE_DISTRICTS_TABLE);
    let run = case.audit(&[&table], "html");
    assert_eq!(run.status.code(), Some(1));
    let html = String::from_utf8(run.stdout).unwrap();
    // Self-contained: nothing fetched, no scripts.
    assert!(html.starts_with("<!DOCTYPE html>") && html.ends_with("</html>\n"));
    assert!(!html.contains("<script") && !html.contains("src=") && !html.contains("<link"), "the page must stand alone");
    // The map: 12 cells, 7 published, 4 hidden and protected, 1 recoverable.
    assert_eq!(html.matches("<td class=\"p\"").count(), 7);
    assert_eq!(html.matches("<td class=\"h\"").count(), 4);
    assert_eq!(html.matches("<td class=\"hf\"").count(), 1);
    assert!(html.contains("title=\"district=D3, sex=F — hidden, but an attacker can recover it: hidden cell (district=D3, sex=F) can be computed exactly: it is 2\""), "{html}");
    let page = case.dir.path().join("report.html");
    std::fs::write(&page, &html).unwrap();
    let shot = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("audit-report.png");
    let _ = std::fs::remove_file(&shot);
    let browser = Command::new(chromium())
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1000,800"])
        .arg(format!("--user-data-dir={}", case.dir.path().join("profile").display()))
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap();
    assert!(shot.exists(), "no screenshot: {}", String::from_utf8_lossy(&browser.stderr));
    // The rendered page shows each status's colour (legend and cells).
    let [published, hidden, recoverable] = [[0xe8, 0xf1, 0xfa], [0x56, 0xb4, 0xe9], [0xd5, 0x5e, 0x00]];
    let counts = count_colours(&shot, &[published, hidden, recoverable]);
    assert!(counts.iter().all(|&n| n > 50), "colours of published, hidden and recoverable cells in the screenshot: {counts:?} (see {})", shot.display());
    // Four hidden cells outweigh the one recoverable on the map.
    assert!(counts[1] > counts[2], "{counts:?}");
}

#[test]
fn explain_says_why_a_cell_is_hidden_and_what_would_reveal_it() {
    let case = Case::new(THREE_DISTRICTS);
    let table = case.file("t.csv", THREE_DISTRICTS_TABLE);
    let explain = |cell: &str, lang: &str| {
        let run = amparo().args(["explain", "--lang", lang, "-p"]).arg(case.dir.path().join("policy.toml")).arg(&table).arg(cell).output().unwrap();
        (run.status.code().unwrap(), String::from_utf8_lossy(&run.stdout).into_owned(), String::from_utf8_lossy(&run.stderr).into_owned())
    };
    // A protected cell: the attacker's interval [0, 20] reaches 0 and the
    // threshold; its two protectors (same row, same column) would each give it away.
    let (code, text, _) = explain("district=D1, sex=F", "en");
    assert_eq!(code, 0);
    assert!(text.contains("lies in [0, 20]") && text.contains("as low as 0 and as high as 5") && text.contains("it is protected"), "{text}");
    assert!(text.contains("(district=D1, sex=Total) = 20, the sum of 2 cells; hidden with it: (district=D1, sex=M)"), "{text}");
    assert!(text.contains("(district=D1, sex=M) shown as ") && text.contains("(district=D2, sex=F) shown as "), "{text}");
    assert_eq!(text.matches("it could be computed exactly").count(), 2, "{text}");
    // The recoverable cell: its finding, and the published total that pins it.
    let (code, text, _) = explain("sex=F;district=D3", "en");
    assert_eq!(code, 0);
    assert!(text.contains("finding (protection): hidden cell (district=D3, sex=F) can be computed exactly: it is 2"), "{text}");
    assert!(text.contains("NOT protected") && text.contains("(district=D3, sex=Total) = 12, the sum of 2 cells; hidden with it: none"), "{text}");
    // A published cell, and a margin named by leaving a dimension out.
    let (_, text, _) = explain("district=D3", "en");
    assert!(text.contains("cell (district=D3, sex=Total)") && text.contains("published as 12"), "{text}");
    // In Spanish.
    let (_, text, _) = explain("district=D1,sex=F", "es");
    assert!(text.contains("está en [0, 20]") && text.contains("está protegida"), "{text}");
    // Cells that are not cells: exit 2 with the fix.
    let (code, _, err) = explain("district=D9,sex=F", "en");
    assert_eq!(code, 2);
    assert!(err.contains("code `D9` of dimension `district`"), "{err}");
    let (code, _, err) = explain("D1", "en");
    assert_eq!(code, 2);
    assert!(err.contains("district=D01,sex=F"), "{err}");
}

#[test]
fn explain_across_linked_tables_finds_the_cell_in_the_table_that_has_it() {
    let policy = String::from(
        "version = 1\n[input]\nkind = \"microdata\"\n[dimensions.district]\ncodes = [\"D1\", \"D2\"]\n[dimensions.sex]\ncodes = [\"F\", \"M\"]\n[dimensions.age]\ncodes = [\"0-4\", \"5-17\"]\n[primary]\nthreshold = 5\n[tables.by_sex]\ndimensions = [\"district\", \"sex\"]\n[tables.by_age]\ndimensions = [\"district\", \"age\"]\n"
    );
    let case = Case::new(&policy);
    let by_sex = case.file("by_sex.csv", "district,sex,published\nTotal,Total,40\nTotal,F,x\nTotal,M,x\nD1,Total,x\nD1,F,x\nD1,M,17\nD2,Total,x\nD2,F,x\nD2,M,x\n");
    let by_age = case.file("by_age.csv", "district,age,published\nTotal,Total,40\nTotal,0-4,x\nTotal,5-17,x\nD1,Total,20\nD1,0-4,x\nD1,5-17,x\nD2,Total,20\nD2,0-4,x\nD2,5-17,x\n");
    let run = amparo().args(["explain", "--lang", "en", "-p"]).arg(case.dir.path().join("policy.toml")).arg(&by_sex).arg(&by_age).arg("district=D1,sex=F").output().unwrap();
    assert_eq!(run.status.code(), Some(0), "{}", String::from_utf8_lossy(&run.stderr));
    let text = String::from_utf8_lossy(&run.stdout);
    // D1's total is hidden in by_sex but published in by_age: together they pin the cell.
    assert!(text.contains("of ") && text.contains("by_sex.csv") && text.contains("can be computed exactly: it is 3"), "{text}");
    let run = amparo().args(["explain", "-p"]).arg(case.dir.path().join("policy.toml")).arg(&by_sex).arg(&by_age).arg("sex=F,age=0-4").output().unwrap();
    assert_eq!(run.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&run.stderr).contains("no linked table has every dimension"));
}
