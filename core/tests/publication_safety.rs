//! Publication safety: what a published file says, the arithmetic the audit
//! trusts, and outputs that are all or nothing.

use std::path::Path;

use amparo::Policy;

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
    std::fs::write(&published, text.replace(",25\n", ",26\n")).unwrap();
    let report = audit(&published);
    assert!(!report.passed);
    assert!(report.findings.iter().any(|f| f.key == "finding.metadata_data"), "{:?}", report.findings);
}
