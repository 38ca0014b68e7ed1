//! The publication QA gate's report: the audit of published files, with
//! every check's outcome, in the formats CI systems and people read.
//!
//! - `text`: for a person at a terminal;
//! - `json`: for machines, versioned (`format` and `version` fields), its
//!   JSON Schema published as `schema/audit-report.schema.json`;
//! - `junit`: one test case per check and table, failures naming the cells
//!   (the JUnit XML that GitLab, Jenkins, Azure and GitHub test reporters read);
//! - `github`: workflow commands (`::error file=...::`) that annotate the
//!   run, and a Markdown summary for `$GITHUB_STEP_SUMMARY`;
//! - `html`: a self-contained page with a heat map of each table ([`super::html`]).

use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::Serialize;

use std::collections::HashMap;

use super::published::{Check, PublishedAudit, PublishedTable};
use crate::error::Fallible;
use crate::i18n::{Lang, Message};
use crate::io::{self, Format};
use crate::policy::CheckedPolicy;
use crate::{err, fail};

/// The version of the JSON report; raised whenever a field changes meaning or goes away.
pub const REPORT_VERSION: u32 = 1;

/// One check's outcome.
#[derive(Debug, Clone, Serialize, JsonSchema, PartialEq)]
pub struct CheckOutcome {
    pub check: Check,
    pub passed: bool,
    /// Number of findings of this check.
    pub findings: usize,
}

/// How one published file was made, as its metadata records it.
#[derive(Debug, Clone, Serialize, JsonSchema, PartialEq)]
pub struct ProducedBy {
    /// The published file (named as given).
    pub table: String,
    pub method: String,
    /// Why this secondary suppression method ran (the metadata's `secondary` note).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secondary: Option<String>,
}

/// One finding.
#[derive(Debug, Clone, Serialize, JsonSchema, PartialEq)]
pub struct FindingReport {
    pub check: Check,
    /// The message's key in the catalogue (stable across languages), e.g. `finding.threshold`.
    pub key: String,
    /// The published file the finding is in (for findings across linked
    /// tables, every file given).
    pub table: String,
    /// The cell by its codes, `dimension=code, ...` (empty for table-wide findings).
    pub cell: String,
    pub message: String,
    /// The positions in [`AuditReport::tables`] of the tables the finding is in.
    #[serde(skip)]
    #[schemars(skip)]
    pub table_positions: Vec<usize>,
}

/// The audit report.
#[derive(Debug, Clone, Serialize, JsonSchema, PartialEq)]
pub struct AuditReport {
    /// Always `amparo-audit-report`.
    pub format: String,
    /// [`REPORT_VERSION`].
    pub version: u32,
    pub engine_version: String,
    /// The language of the messages (`en`, `es`).
    pub language: String,
    /// SHA-256 of the policy the tables were audited against.
    pub policy_sha256: String,
    /// The published files, in the order given.
    pub tables: Vec<String>,
    /// True when every check passed: the tables are safe to publish.
    pub passed: bool,
    pub cells: usize,
    pub hidden_cells: usize,
    pub checks: Vec<CheckOutcome>,
    pub findings: Vec<FindingReport>,
    /// For each file whose metadata says how it was made: the method that
    /// ran (e.g. `threshold+secondary:modular`) and, for secondary
    /// suppression, why that one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub produced_by: Vec<ProducedBy>,
    /// The files that carry no Amparo metadata: nothing in them says which
    /// policy protected them or whether their own audit passed, so the
    /// metadata check did not run for them (the other checks did).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unrecorded: Vec<String>,
    /// The heat map of each table, as HTML (for `--format html`; not in the JSON).
    #[serde(skip)]
    #[schemars(skip)]
    pub maps: Vec<String>,
}

/// The JSON Schema of [`AuditReport`].
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(AuditReport);
    let mut text = serde_json::to_string_pretty(&schema).expect("a JSON schema always serializes");
    text.push('\n');
    text
}

/// Read and audit published files against `policy`: one file, or one per
/// linked table (the policy's `[tables]`, in order). Adds the metadata
/// check where a file carries Amparo's metadata (a CSV's `.meta.json`
/// beside it, a Parquet or Arrow file's schema metadata).
pub fn audit_files(
    policy: &CheckedPolicy,
    paths: &[PathBuf],
    value_column: Option<&str>,
    hidden_symbols: Option<&[String]>,
    lang: Lang,
) -> Fallible<AuditReport> {
    for (i, a) in paths.iter().enumerate() {
        if let Some(b) = paths[..i].iter().find(|b| io::same_file(a, b)) {
            fail!(Policy, "{} is given twice (also as {}); give each linked table's own file, in the policy's order", a.display(), b.display());
        }
    }
    let readers = paths.iter().map(|p| io::read_table(p)).collect::<Fallible<Vec<_>>>()?;
    let recorded = paths.iter().zip(&readers).map(|(p, r)| recorded_metadata(p, r)).collect::<Fallible<Vec<_>>>()?;
    let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    audit_tables(policy, readers, names, recorded, value_column, hidden_symbols, lang)
}

/// The files to audit: `paths` as given, or, for a policy with `[tables]`
/// and a single folder, the folder's `<table>.<ext>` for each linked table
/// in the policy's order (the one file per table with a table extension).
pub fn expand_linked_folder(policy: &CheckedPolicy, paths: &[PathBuf]) -> Fallible<Vec<PathBuf>> {
    let linked = policy.linked_tables();
    let [folder] = paths else { return Ok(paths.to_vec()) };
    if linked.is_empty() || !folder.is_dir() {
        return Ok(paths.to_vec());
    }
    let entries: Vec<PathBuf> = std::fs::read_dir(folder)
        .map_err(|e| err!(Io, "cannot read the folder {}: {e}", folder.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| Format::from_path(p).is_ok() && !p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.')))
        .collect();
    linked
        .iter()
        .map(|(name, _)| {
            let found: Vec<&PathBuf> = entries.iter().filter(|p| p.file_stem().and_then(|s| s.to_str()).map(|s| s.split('.').next() == Some(name.as_str())).unwrap_or(false)).collect();
            match found.as_slice() {
                [one] => Ok((*one).clone()),
                [] => Err(err!(Io, "the folder {} has no file for linked table `{name}` (expected {name}.csv, {name}.parquet, ...); publish every table of the policy", folder.display())),
                more => Err(err!(Io, "the folder {} has {} files for linked table `{name}`; keep one", folder.display(), more.len())),
            }
        })
        .collect()
}

/// Audit published tables given as streams (the frontends' data frames),
/// named `names` in the report; the metadata check uses each stream's
/// schema metadata (as Amparo's outputs carry it).
pub fn audit_streams(
    policy: &CheckedPolicy,
    readers: Vec<io::BatchReader>,
    names: Vec<String>,
    value_column: Option<&str>,
    hidden_symbols: Option<&[String]>,
    lang: Lang,
) -> Fallible<AuditReport> {
    let recorded = readers.iter().map(|r| Recorded { metadata: r.schema().metadata().clone(), data_matches: None }).collect();
    audit_tables(policy, readers, named_in(names, lang), recorded, value_column, hidden_symbols, lang)
}

/// The streams' names in reports: an empty name (a frontend's data frame)
/// is "table 1", "table 2", ... in `lang`.
pub fn named_in(names: Vec<String>, lang: Lang) -> Vec<String> {
    names.into_iter().enumerate().map(|(i, name)| if name.is_empty() { lang.text("report.unnamed_table", &[("n", (i + 1).into())]) } else { name }).collect()
}

const POLICY_HASH_KEY: &str = "amparo.policy_sha256";

/// Metadata only the producer's table carries: what protection cost,
/// counted from the true values. A publication never has them.
const PRODUCER_ONLY_KEYS: [&str; 2] = ["amparo.summary", "amparo.loss"];

/// What a published file says about itself.
struct Recorded {
    /// Its metadata (`amparo.*` keys), empty when it carries none.
    metadata: std::collections::HashMap<String, String>,
    /// For a CSV with a `.meta.json`: (whether the file's bytes have the
    /// SHA-256 the metadata records, the metadata file's name).
    data_matches: Option<(bool, String)>,
}

/// The metadata a published file records: in the `.meta.json` beside a
/// CSV (with whether that file describes these very bytes), else in the
/// schema metadata its reader has.
fn recorded_metadata(path: &Path, reader: &io::BatchReader) -> Fallible<Recorded> {
    let metadata = crate::publish::read_metadata(path, reader.schema().metadata())?;
    let data_matches = match (Format::from_path(path)?, metadata.get(io::DATA_SHA256_KEY)) {
        (Format::Csv, Some(recorded)) => Some((&io::file_sha256(path)? == recorded, io::metadata_sidecar(path).display().to_string())),
        (Format::Csv, None) if !metadata.is_empty() => Some((false, io::metadata_sidecar(path).display().to_string())),
        _ => None,
    };
    Ok(Recorded { metadata, data_matches })
}

fn audit_tables(
    policy: &CheckedPolicy,
    readers: Vec<io::BatchReader>,
    names: Vec<String>,
    recorded: Vec<Recorded>,
    value_column: Option<&str>,
    hidden_symbols: Option<&[String]>,
    lang: Lang,
) -> Fallible<AuditReport> {
    let tables = super::read_published_tables(policy, readers, value_column, hidden_symbols)?;
    let audit = if policy.linked_tables().is_empty() {
        super::published::audit_published(policy, &tables[0])?
    } else {
        super::published::audit_published_linked(policy, &tables)?
    };
    let mut report = AuditReport::new(policy, names.clone(), audit, &tables, lang);
    for ((name, table), recorded) in names.iter().zip(&tables).zip(recorded) {
        if let Some(finding) = super::published::columns_finding(name, table) {
            report.add_table_finding(name, finding.check, finding.text);
        }
        report.record(Check::Columns);
        report.add_metadata_check(name, &recorded, &policy.sha256);
    }
    Ok(report)
}

impl AuditReport {
    /// The report of `audit` on the published `tables` named `names`: each
    /// finding names the tables its cell is in, and each table gets a heat map.
    pub fn new(policy: &CheckedPolicy, names: Vec<String>, audit: PublishedAudit, tables: &[PublishedTable], lang: Lang) -> AuditReport {
        let mut report = AuditReport::empty(policy, names, &audit, lang);
        // Per finding number: the tables that hold the cell.
        let mut holders: HashMap<usize, Vec<usize>> = HashMap::new();
        if audit.table_cells.is_empty() {
            holders.extend(audit.findings.iter().map(|f| (f.cell, vec![0])));
        } else {
            let wanted: std::collections::HashSet<usize> = audit.findings.iter().map(|f| f.cell).collect();
            for (t, ids) in audit.table_cells.iter().enumerate() {
                for g in ids.iter().filter(|g| wanted.contains(g)) {
                    holders.entry(*g).or_default().push(t);
                }
            }
        }
        let everywhere: Vec<usize> = (0..tables.len()).collect();
        report.findings = audit
            .findings
            .iter()
            .map(|f| {
                // A table-wide finding (no cell) is in every table.
                let positions = if f.place.is_empty() { everywhere.clone() } else { holders.get(&f.cell).cloned().unwrap_or_else(|| everywhere.clone()) };
                FindingReport {
                    check: f.check,
                    key: f.text.key.to_owned(),
                    table: positions.iter().map(|&t| report.tables[t].as_str()).collect::<Vec<_>>().join(", "),
                    cell: f.place.clone(),
                    message: f.text.render(lang),
                    table_positions: positions,
                }
            })
            .collect();
        let mut first: HashMap<usize, (Check, String)> = HashMap::new();
        for f in audit.findings.iter().filter(|f| !f.place.is_empty()) {
            first.entry(f.cell).or_insert_with(|| (f.check, f.text.render(lang)));
        }
        report.maps = tables
            .iter()
            .enumerate()
            .map(|(t, table)| super::html::heat_map(&report.tables[t], table, audit.table_cells.get(t).map(Vec::as_slice), &first, lang))
            .collect();
        for check in audit.checks {
            report.record(check);
        }
        report
    }

    fn empty(policy: &CheckedPolicy, tables: Vec<String>, audit: &PublishedAudit, lang: Lang) -> AuditReport {
        AuditReport {
            format: "amparo-audit-report".to_owned(),
            version: REPORT_VERSION,
            engine_version: crate::ENGINE_VERSION.to_owned(),
            language: lang.code().to_owned(),
            policy_sha256: policy.sha256.clone(),
            tables,
            passed: true,
            cells: audit.cells,
            hidden_cells: audit.hidden_cells,
            checks: Vec::new(),
            findings: Vec::new(),
            produced_by: Vec::new(),
            unrecorded: Vec::new(),
            maps: Vec::new(),
        }
    }

    fn record(&mut self, check: Check) {
        let n = self.findings.iter().filter(|f| f.check == check).count();
        match self.checks.iter_mut().find(|c| c.check == check) {
            Some(c) => {
                c.findings = n;
                c.passed = n == 0;
            }
            None => self.checks.push(CheckOutcome { check, passed: n == 0, findings: n }),
        }
        self.checks.sort_by_key(|c| c.check);
        self.passed = self.findings.is_empty();
    }

    /// The metadata check of one file (when it carries Amparo's metadata):
    /// made with this policy, its own audit passed (or does not apply), and,
    /// for a CSV, the `.meta.json` describes these very bytes.
    fn add_metadata_check(&mut self, table: &str, recorded: &Recorded, expected: &str) {
        if let Some(method) = recorded.metadata.get(&format!("{}method", crate::output::METADATA_PREFIX)) {
            let secondary = recorded.metadata.get(&format!("{}secondary", crate::output::METADATA_PREFIX)).cloned();
            self.produced_by.push(ProducedBy { table: table.to_owned(), method: method.clone(), secondary });
        }
        let Some(hash) = recorded.metadata.get(POLICY_HASH_KEY) else {
            self.unrecorded.push(table.to_owned());
            return;
        };
        if hash != expected {
            let text = Message::new(
                "finding.metadata",
                vec![("table", table.into()), ("recorded", hash[..hash.len().min(12)].into()), ("expected", expected[..expected.len().min(12)].into())],
            );
            self.add_table_finding(table, Check::Metadata, text);
        }
        match recorded.metadata.get(crate::output::AuditOutcome::KEY).and_then(|o| crate::output::AuditOutcome::parse(o)) {
            Some(crate::output::AuditOutcome::Failed) => self.add_table_finding(table, Check::Metadata, Message::new("finding.metadata_failed", vec![("table", table.into())])),
            Some(crate::output::AuditOutcome::NotAudited) => {
                self.add_table_finding(table, Check::Metadata, Message::new("finding.metadata_not_audited", vec![("table", table.into())]))
            }
            _ => {}
        }
        // The producer's summary is counted from the true values (children in
        // hidden cells, each level's share of counts hidden): a file that
        // carries it was not written by `amparo publish`, which leaves it out.
        let producer_only: Vec<&str> = PRODUCER_ONLY_KEYS.iter().copied().filter(|k| recorded.metadata.contains_key(*k)).collect();
        if !producer_only.is_empty() {
            self.add_table_finding(table, Check::Metadata, Message::new("finding.metadata_producer", vec![("table", table.into()), ("keys", producer_only.join(", ").into())]));
        }
        if let Some((false, sidecar)) = &recorded.data_matches {
            self.add_table_finding(table, Check::Metadata, Message::new("finding.metadata_data", vec![("table", table.into()), ("sidecar", sidecar.clone().into())]));
        }
        self.record(Check::Metadata);
    }

    /// A finding about a whole file (named as given), not one of its cells.
    fn add_table_finding(&mut self, table: &str, check: Check, text: Message) {
        self.findings.push(FindingReport {
            check,
            key: text.key.to_owned(),
            table: table.to_owned(),
            cell: String::new(),
            message: text.render(self.lang()),
            table_positions: self.tables.iter().position(|t| t == table).into_iter().collect(),
        });
        self.record(check);
    }

    /// The report as JSON (`--format json`).
    pub fn to_json(&self) -> String {
        self.render(ReportFormat::Json)
    }

    /// The report in `format`: text, json, junit, github or html.
    pub fn render(&self, format: ReportFormat) -> String {
        match format {
            ReportFormat::Text => self.to_text(),
            ReportFormat::Json => {
                let mut s = serde_json::to_string_pretty(self).expect("reports always serialize");
                s.push('\n');
                s
            }
            ReportFormat::Junit => self.to_junit(),
            ReportFormat::Github => self.to_github_annotations(),
            ReportFormat::Html => super::html::page(self),
        }
    }

    /// "Amparo audit: passed" (or FAILED), in the report's language.
    pub(super) fn title(&self) -> String {
        let l = self.lang();
        let verdict = l.text(if self.passed { "report.summary_passed" } else { "report.summary_failed" }, &[]);
        l.text("report.summary_title", &[("verdict", verdict.into())])
    }

    /// The tables, their cells and hidden cells, and the policy's hash.
    pub(super) fn summary_line(&self) -> String {
        self.lang().text(
            "report.summary_line",
            &[
                ("tables", self.tables.join(", ").into()),
                ("cells", self.cells.into()),
                ("hidden", self.hidden_cells.into()),
                ("policy", self.policy_sha256[..self.policy_sha256.len().min(12)].into()),
            ],
        )
    }

    /// "made by: t.csv: threshold+secondary:modular (modular, as the policy asks)", one line per file,
    /// then a line for each file whose metadata cannot say.
    pub(super) fn produced_by_lines(&self) -> Vec<String> {
        let made = self.produced_by.iter().map(|p| {
            let method = match &p.secondary {
                Some(why) => format!("{} ({why})", p.method),
                None => p.method.clone(),
            };
            self.lang().text("report.produced_by", &[("table", p.table.as_str().into()), ("method", method.into())])
        });
        made.chain(self.unrecorded.iter().map(|t| self.unrecorded_line(t))).collect()
    }

    fn unrecorded_line(&self, table: &str) -> String {
        self.lang().text("report.no_metadata", &[("table", table.into())])
    }

    pub(super) fn lang(&self) -> Lang {
        Lang::from_code(&self.language).unwrap_or(Lang::EN)
    }

    /// A check's name in the report's language.
    pub(super) fn check_name(&self, check: Check) -> String {
        self.lang().text(&format!("check.{}", check.as_str()), &[])
    }

    fn to_text(&self) -> String {
        let l = self.lang();
        let mut out = l.text("report.table", &[("tables", self.tables.join(", ").into()), ("cells", self.cells.into()), ("hidden", self.hidden_cells.into())]);
        out.push('\n');
        let checks: Vec<String> = self
            .checks
            .iter()
            .map(|c| format!("{} {}", self.check_name(c.check), l.text(if c.passed { "report.ok" } else { "report.failed" }, &[])))
            .collect();
        out.push_str(&l.text("report.checks", &[("checks", checks.join(", ").into())]));
        out.push('\n');
        for line in self.produced_by_lines() {
            out.push_str(&line);
            out.push('\n');
        }
        if self.passed {
            out.push_str(&l.text("report.passed", &[]));
            out.push('\n');
            return out;
        }
        out.push_str(&l.text("report.failed_findings", &[("findings", self.findings.len().into())]));
        out.push('\n');
        for f in self.findings.iter().take(50) {
            out.push_str(&format!("  [{}] {}\n", self.check_name(f.check), f.message));
        }
        if self.findings.len() > 50 {
            out.push_str(&format!("  {}\n", l.text("report.more", &[("more", (self.findings.len() - 50).into())])));
        }
        out
    }

    /// JUnit XML: a test suite per table, a test case per check; a failure
    /// lists the check's findings in that table (a finding across linked
    /// tables fails the check in each table its cell is in).
    fn to_junit(&self) -> String {
        let in_table = |t: usize, check: Check| -> Vec<&FindingReport> {
            self.findings.iter().filter(|f| f.check == check && f.table_positions.contains(&t)).collect()
        };
        let per_table: Vec<Vec<(Check, Vec<&FindingReport>)>> =
            (0..self.tables.len()).map(|t| self.checks.iter().map(|c| (c.check, in_table(t, c.check))).collect()).collect();
        let failed = |cases: &[(Check, Vec<&FindingReport>)]| cases.iter().filter(|(_, f)| !f.is_empty()).count();
        let total_failures: usize = per_table.iter().map(|cases| failed(cases)).sum();
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        // A file without metadata shows its metadata check as skipped, not absent.
        let skipped = |name: &String| usize::from(self.unrecorded.contains(name));
        out.push_str(&format!(
            "<testsuites name=\"amparo audit\" tests=\"{}\" failures=\"{total_failures}\" errors=\"0\">\n",
            self.checks.len() * self.tables.len() + self.tables.iter().map(skipped).sum::<usize>()
        ));
        for (name, cases) in self.tables.iter().zip(&per_table) {
            out.push_str(&format!(
                "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\">\n",
                xml_escape(name),
                cases.len() + skipped(name),
                failed(cases),
                skipped(name)
            ));
            if skipped(name) == 1 {
                out.push_str(&format!(
                    "    <testcase name=\"metadata\" classname=\"amparo.audit\">\n      <skipped message=\"{}\"/>\n    </testcase>\n",
                    xml_escape(&self.unrecorded_line(name))
                ));
            }
            for (check, findings) in cases {
                out.push_str(&format!("    <testcase name=\"{}\" classname=\"amparo.audit\"", check.as_str()));
                if findings.is_empty() {
                    out.push_str("/>\n");
                    continue;
                }
                let messages: Vec<String> = findings.iter().map(|f| xml_escape(&f.message)).collect();
                let summary = self.lang().text("report.junit_failure", &[("findings", findings.len().into()), ("check", self.check_name(*check).into())]);
                out.push_str(&format!(
                    ">\n      <failure message=\"{}\" type=\"{}\">{}</failure>\n    </testcase>\n",
                    xml_escape(&summary),
                    check.as_str(),
                    messages.join("\n")
                ));
            }
            out.push_str("  </testsuite>\n");
        }
        out.push_str("</testsuites>\n");
        out
    }

    /// GitHub Actions workflow commands: one `::error` annotation per finding
    /// (the first 50; GitHub shows a limited number), then a notice.
    fn to_github_annotations(&self) -> String {
        let mut out = String::new();
        for f in self.findings.iter().take(50) {
            let file = f.table_positions.first().map_or("", |&t| self.tables[t].as_str());
            out.push_str(&format!(
                "::error file={},title=amparo audit: {}::{}\n",
                github_escape_property(file),
                f.check.as_str(),
                github_escape_data(&f.message)
            ));
        }
        for table in &self.unrecorded {
            out.push_str(&format!(
                "::warning file={},title=amparo audit: metadata::{}\n",
                github_escape_property(table),
                github_escape_data(&self.unrecorded_line(table))
            ));
        }
        let verdict = if self.passed { "passed".to_owned() } else { format!("FAILED with {} findings", self.findings.len()) };
        out.push_str(&format!("::notice title=amparo audit::{} {verdict}\n", github_escape_data(&self.tables.join(", "))));
        out
    }

    /// A Markdown summary (for `$GITHUB_STEP_SUMMARY`, or a merge-request comment).
    pub fn to_markdown(&self) -> String {
        let l = self.lang();
        let mut line = self.summary_line();
        for made in self.produced_by_lines() {
            line.push_str(&format!("\n\n{made}"));
        }
        let column = |k: &str| l.text(&format!("report.column_{k}"), &[]);
        let mut out = format!(
            "## {}\n\n{line}\n\n| {} | {} | {} |\n|---|---|---|\n",
            self.title(),
            column("check"),
            column("result"),
            column("findings")
        );
        for c in &self.checks {
            let result = if c.passed { l.text("report.ok", &[]) } else { format!("**{}**", l.text("report.failed", &[])) };
            out.push_str(&format!("| {} | {result} | {} |\n", self.check_name(c.check), l.count(c.findings as i64)));
        }
        if !self.findings.is_empty() {
            out.push_str(&format!("\n| {} | {} | {} |\n|---|---|---|\n", column("check"), column("cell"), column("finding")));
            for f in self.findings.iter().take(100) {
                out.push_str(&format!("| {} | {} | {} |\n", self.check_name(f.check), f.cell.replace('|', "\\|"), f.message.replace('|', "\\|")));
            }
        }
        out
    }
}

/// Report formats of `amparo audit --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    Text,
    Json,
    Junit,
    Github,
    Html,
}

impl ReportFormat {
    pub const ALL: [ReportFormat; 5] = [ReportFormat::Text, ReportFormat::Json, ReportFormat::Junit, ReportFormat::Github, ReportFormat::Html];

    pub fn as_str(self) -> &'static str {
        match self {
            ReportFormat::Text => "text",
            ReportFormat::Json => "json",
            ReportFormat::Junit => "junit",
            ReportFormat::Github => "github",
            ReportFormat::Html => "html",
        }
    }
}

impl std::str::FromStr for ReportFormat {
    type Err = crate::Error;
    fn from_str(s: &str) -> Fallible<ReportFormat> {
        match ReportFormat::ALL.into_iter().find(|f| f.as_str() == s) {
            Some(format) => Ok(format),
            None => fail!(Policy, "unknown report format `{s}`; use text, json, junit, github or html"),
        }
    }
}

/// The report of an audit that could not run (a table that cannot be read,
/// a policy that is not valid), in `format`: never an empty file where a CI
/// system expects a report. JUnit: a failing test case per table with the
/// reason; HTML: a page saying so; JSON: `passed: false` and `error`;
/// GitHub: an error annotation; text: the reason.
pub fn render_error(format: ReportFormat, tables: &[String], message: &str) -> String {
    let title = "Amparo audit: could not run";
    match format {
        ReportFormat::Text => format!("audit:    could not run: {message}\n"),
        ReportFormat::Json => {
            let value = serde_json::json!({
                "format": "amparo-audit-report",
                "version": REPORT_VERSION,
                "engine_version": crate::ENGINE_VERSION,
                "tables": tables,
                "passed": false,
                "error": message,
            });
            let mut text = serde_json::to_string_pretty(&value).expect("a JSON value always serializes");
            text.push('\n');
            text
        }
        ReportFormat::Junit => {
            let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
            out.push_str(&format!("<testsuites name=\"amparo audit\" tests=\"{n}\" failures=\"{n}\" errors=\"0\">\n", n = tables.len()));
            for table in tables {
                out.push_str(&format!(
                    "  <testsuite name=\"{}\" tests=\"1\" failures=\"1\" errors=\"0\" skipped=\"0\">\n    <testcase name=\"read\" classname=\"amparo.audit\">\n      \
                     <failure message=\"the table could not be audited\" type=\"read\">{}</failure>\n    </testcase>\n  </testsuite>\n",
                    xml_escape(table),
                    xml_escape(message)
                ));
            }
            out.push_str("</testsuites>\n");
            out
        }
        ReportFormat::Github => {
            let mut out = String::new();
            for table in tables {
                out.push_str(&format!("::error file={},title={}::{}\n", github_escape_property(table), github_escape_property(title), github_escape_data(message)));
            }
            out
        }
        ReportFormat::Html => format!(
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title></head>\n<body>\n<h1>{title}</h1>\n\
             <p>Tables: {}</p>\n<p><strong>The tables were not audited, so they are not known to be safe:</strong></p>\n<pre>{}</pre>\n</body></html>\n",
            xml_escape(&tables.join(", ")),
            xml_escape(message)
        ),
    }
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&apos;")
}

/// GitHub workflow command escaping (message data).
fn github_escape_data(s: &str) -> String {
    s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// GitHub workflow command escaping (properties such as file=).
fn github_escape_property(s: &str) -> String {
    github_escape_data(s).replace(':', "%3A").replace(',', "%2C")
}
