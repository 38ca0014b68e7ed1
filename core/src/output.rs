//! The published table: one row per cell, with its status and why.
//!
//! Columns: the dimensions (codes, margins included), `value` (the original
//! count, only when asked for), `published` (null when hidden), `status`,
//! `reason` (which rule), `lower`/`upper` (the interval an attacker can infer,
//! filled by the audit; for noisy cells, the interval the true count lies
//! in at the policy's confidence), and, for noisy tables only, `sd` (the
//! standard deviation of each cell's error). Schema metadata records the engine version, the
//! policy's SHA-256, the method and the randomness source, so a published
//! file can be traced back to how it was made.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;

use arrow_array::builder::{Int64Builder, LargeStringBuilder, StringBuilder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use serde::{Deserialize, Serialize};

pub use crate::marks::{CellMarks, Notes, Status};
use crate::error::Fallible;
use crate::fail;
use crate::i18n::Lang;
use crate::policy::{CheckedPolicy, InputKind};
use crate::random::Randomness;
use crate::suggest::suggest_code;
use crate::table::Cube;

/// What the audit of a run concluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditOutcome {
    /// Every sensitive cell keeps its protection.
    Passed,
    /// Some sensitive cell can be narrowed below its protection: never publish.
    Failed,
    /// Cells are hidden but nobody checked them (`[audit] skip`): never publish as safe.
    NotAudited,
    /// The method hides no cell (rounding, noise, the cell key method).
    NotApplicable,
}

impl AuditOutcome {
    /// Key of the outcome in the metadata (`amparo.audit_outcome`).
    pub const KEY: &'static str = "amparo.audit_outcome";

    pub fn as_str(self) -> &'static str {
        match self {
            AuditOutcome::Passed => "passed",
            AuditOutcome::Failed => "failed",
            AuditOutcome::NotAudited => "not_audited",
            AuditOutcome::NotApplicable => "not_applicable",
        }
    }

    pub fn parse(text: &str) -> Option<AuditOutcome> {
        [AuditOutcome::Passed, AuditOutcome::Failed, AuditOutcome::NotAudited, AuditOutcome::NotApplicable].into_iter().find(|o| o.as_str() == text)
    }

    /// Whether a table with this outcome may be published.
    pub fn publishable(self) -> bool {
        matches!(self, AuditOutcome::Passed | AuditOutcome::NotApplicable)
    }
}

/// What the output records about how it was made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metadata {
    pub engine_version: String,
    pub policy_sha256: String,
    pub table: String,
    pub input_kind: InputKind,
    pub method: String,
    pub randomness: Randomness,
    /// The audit's verdict, or why it did not run.
    pub audit: String,
    /// The verdict in one word, for the programs that read the metadata.
    pub audit_outcome: AuditOutcome,
    /// What a reader must know about the published values, e.g. that totals
    /// may not add up after rounding (key, text).
    pub notes: Notes,
}

/// Prefix of the metadata keys in Arrow/Parquet schema metadata.
pub use crate::io::METADATA_PREFIX;

impl Metadata {
    pub fn for_run(policy: &CheckedPolicy, method: String, randomness: Randomness) -> Metadata {
        Metadata {
            engine_version: crate::ENGINE_VERSION.to_owned(),
            policy_sha256: policy.sha256.clone(),
            table: policy.table_name().to_owned(),
            input_kind: policy.input_kind(),
            method,
            randomness,
            audit: "not run".to_owned(),
            audit_outcome: AuditOutcome::NotAudited,
            notes: Vec::new(),
        }
    }

    /// The audit does not apply: `method` publishes every cell changed, none hidden.
    pub fn set_audit_not_applicable(&mut self, method: &str) {
        self.audit = format!("not run: {method} hides no cell");
        self.audit_outcome = AuditOutcome::NotApplicable;
    }

    /// Key/value pairs, in a fixed order, as stored in the schema metadata.
    pub fn pairs(&self) -> Vec<(String, String)> {
        let kind = match self.input_kind {
            InputKind::Microdata => "microdata",
            InputKind::Aggregated => "aggregated",
        };
        let randomness = self.randomness.describe();
        [
            ("engine_version", self.engine_version.as_str()),
            ("policy_sha256", self.policy_sha256.as_str()),
            ("table", self.table.as_str()),
            ("input_kind", kind),
            ("method", self.method.as_str()),
            ("randomness", randomness.as_str()),
            ("audit", self.audit.as_str()),
            ("audit_outcome", self.audit_outcome.as_str()),
        ]
        .into_iter()
        .chain(self.notes.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .map(|(k, v)| (format!("{METADATA_PREFIX}{k}"), v.to_owned()))
        .collect()
    }
}

impl crate::io::Sidecar for Metadata {
    fn pairs(&self) -> Vec<(String, String)> {
        Metadata::pairs(self)
    }
}

// The group columns are checked against the protected table's columns,
// which this module defines.
impl CheckedPolicy {
    /// Check the columns that split an input into independent tables (a
    /// table per country or year, each protected with this policy): they
    /// must be in the input, and be neither a dimension nor a column of the
    /// protected table, which the group's codes are put beside.
    pub fn check_group_columns(&self, by: &[String], input_columns: &[String]) -> Fallible<()> {
        if by.is_empty() {
            fail!(Policy, "no columns to group by were given; name the columns whose values each make an independent table (e.g. country)");
        }
        let output = output_schema(self, OutputOptions { keep_original: true });
        for column in by {
            if !input_columns.contains(column) {
                let near = suggest_code(column, input_columns.iter().map(String::as_str));
                fail!(Schema, "cannot group by `{column}`: the input has no such column{near}; the input's columns are: {}", input_columns.join(", "));
            }
            if let Some(d) = self.dimensions.iter().find(|d| &d.column == column || &d.name == column) {
                fail!(
                    Policy,
                    "cannot group by `{column}`: it is dimension `{}` of the policy, so each group would be one of its codes; \
                     group by a column that is not a dimension, or drop dimension `{}` from the policy",
                    d.name,
                    d.name
                );
            }
            if output.field_with_name(column).is_ok() {
                fail!(Policy, "cannot group by `{column}`: the protected table has a column of that name; rename the column in the input");
            }
        }
        Ok(())
    }
}

/// The result of a protection run.
#[derive(Debug, Clone)]
pub struct Protected {
    pub cube: Cube,
    pub marks: CellMarks,
    pub metadata: Metadata,
    /// The audit, when the policy runs it.
    pub audit: Option<crate::attacker::audit::AuditReport>,
}

/// Options that change the output's shape, not the protection.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutputOptions {
    /// Include the original counts as a `value` column (for internal use only:
    /// a table with this column must never be published).
    pub keep_original: bool,
}

/// The columns of a protected table: the dimensions (by name), `value` with
/// `keep_original`, `published`, `status`, `reason`, `lower`, `upper`, and
/// `sd` for noisy tables.
fn output_fields(dimensions: impl Iterator<Item = String>, options: OutputOptions, with_sd: bool) -> Vec<Field> {
    let mut fields: Vec<Field> = dimensions.map(|name| Field::new(name, DataType::Utf8, false)).collect();
    if options.keep_original {
        fields.push(Field::new("value", DataType::Int64, false));
    }
    fields.push(Field::new("published", DataType::Int64, true));
    fields.push(Field::new("status", DataType::Utf8, false));
    fields.push(Field::new("reason", DataType::Utf8, true));
    fields.push(Field::new("lower", DataType::Int64, true));
    fields.push(Field::new("upper", DataType::Int64, true));
    if with_sd {
        fields.push(Field::new("sd", DataType::Float64, true));
    }
    fields
}

/// The schema (without metadata) of what [`crate::protect`] gives for this
/// policy, known before any data is read (a Spark job declares it up front).
pub fn output_schema(policy: &CheckedPolicy, options: OutputOptions) -> Schema {
    let with_sd = policy.file.noise.method != crate::policy::NoiseMethod::None;
    Schema::new(output_fields(policy.dimensions.iter().map(|d| d.name.clone()), options, with_sd))
}

/// Bytes of text one Arrow string array holds (32-bit offsets).
const TEXT_LIMIT: usize = i32::MAX as usize;

/// A text column of `rows` values: Utf8, or LargeUtf8 (64-bit offsets) when
/// its text passes `limit` bytes. B5 stress's 109.8 M cells with reasons of
/// about 40 bytes passed Arrow's 2 GiB and the builder panicked.
fn text_column<'a>(values: impl Iterator<Item = Option<&'a str>> + Clone, rows: usize, limit: usize) -> ArrayRef {
    let bytes: usize = values.clone().map(|v| v.map_or(0, str::len)).sum();
    if bytes <= limit {
        let mut b = StringBuilder::with_capacity(rows, bytes);
        values.for_each(|v| b.append_option(v));
        Arc::new(b.finish())
    } else {
        let mut b = LargeStringBuilder::with_capacity(rows, bytes);
        values.for_each(|v| b.append_option(v));
        Arc::new(b.finish())
    }
}

/// Rows per batch of [`Protected::record_batches`]: about 100 MB of text
/// columns at B5's widths, far below an Arrow string array's 2 GiB.
const ROWS_PER_BATCH: usize = 1 << 20;

/// The output table in batches of rows, built as they are read
/// ([`Protected::record_batches`]).
pub struct ProtectedBatches<'a> {
    protected: &'a Protected,
    options: OutputOptions,
    schema: Arc<Schema>,
    next: usize,
    rows: usize,
}

impl Iterator for ProtectedBatches<'_> {
    type Item = Result<RecordBatch, arrow_schema::ArrowError>;
    fn next(&mut self) -> Option<Self::Item> {
        let n = self.protected.cube.len();
        if self.next >= n {
            return None;
        }
        let rows = self.next..(self.next + self.rows).min(n);
        self.next = rows.end;
        let columns = self.protected.columns(self.options, rows, self.schema.fields().iter().any(|f| f.name() == "sd"));
        Some(RecordBatch::try_new(self.schema.clone(), columns))
    }
}

impl arrow_array::RecordBatchReader for ProtectedBatches<'_> {
    fn schema(&self) -> Arc<Schema> {
        self.schema.clone()
    }
}

impl Protected {
    /// The output table as one Arrow record batch, rows in cube order.
    pub fn to_record_batch(&self, options: OutputOptions) -> RecordBatch {
        let with_sd = self.marks.sd.any();
        let columns = self.columns(options, 0..self.cube.len(), with_sd);
        // A text column past TEXT_LIMIT has 64-bit offsets: its field says so.
        let fields = self.fields(options, with_sd).into_iter().zip(&columns).map(|(f, column)| f.with_data_type(column.data_type().clone())).collect();
        RecordBatch::try_new(self.schema_with_metadata(fields), columns).expect("columns are built to the schema's types and length")
    }

    /// The same rows as [`Protected::to_record_batch`], a million at a
    /// time: a writer that takes them as they come holds one batch of text,
    /// not the table's (B5 stress: 109.8 M rows).
    pub fn record_batches(&self, options: OutputOptions) -> ProtectedBatches<'_> {
        self.batches_of(options, ROWS_PER_BATCH)
    }

    fn batches_of(&self, options: OutputOptions, rows: usize) -> ProtectedBatches<'_> {
        let with_sd = self.marks.sd.any();
        ProtectedBatches { protected: self, options, schema: self.schema_with_metadata(self.fields(options, with_sd)), next: 0, rows }
    }

    fn fields(&self, options: OutputOptions, with_sd: bool) -> Vec<Field> {
        output_fields(self.cube.dims().iter().map(|d| d.name.clone()), options, with_sd)
    }

    fn schema_with_metadata(&self, fields: Vec<Field>) -> Arc<Schema> {
        let metadata: HashMap<String, String> = self.metadata.pairs().into_iter().collect();
        Arc::new(Schema::new(fields).with_metadata(metadata))
    }

    /// The output's columns for the cells `rows` (cube order).
    fn columns(&self, options: OutputOptions, rows: std::ops::Range<usize>, with_sd: bool) -> Vec<ArrayRef> {
        let cube = &self.cube;
        let n = rows.len();
        let mut columns: Vec<ArrayRef> = Vec::new();
        for (d, dim) in cube.dims().iter().enumerate() {
            let h = &dim.hierarchy;
            // Each code found once: text_column reads its values twice.
            let codes: Vec<&str> = rows.clone().map(|c| h.code(cube.coord(c, d))).collect();
            columns.push(text_column(codes.iter().map(|&code| Some(code)), n, TEXT_LIMIT));
        }
        let ints = |values: &mut dyn Iterator<Item = Option<i64>>| -> ArrayRef {
            let mut b = Int64Builder::with_capacity(n);
            values.for_each(|v| b.append_option(v));
            Arc::new(b.finish())
        };
        let marks = &self.marks;
        if options.keep_original {
            columns.push(ints(&mut cube.values()[rows.clone()].iter().map(|&v| Some(v))));
        }
        columns.push(ints(&mut marks.published[rows.clone()].iter().copied()));
        columns.push(text_column(marks.status[rows.clone()].iter().map(|s| Some(s.as_str())), n, TEXT_LIMIT));
        columns.push(text_column(rows.clone().map(|c| marks.reason[c].as_deref()), n, TEXT_LIMIT));
        columns.push(ints(&mut rows.clone().map(|c| marks.lower[c])));
        columns.push(ints(&mut rows.clone().map(|c| marks.upper[c])));
        if with_sd {
            columns.push(Arc::new(rows.map(|c| marks.sd[c]).collect::<arrow_array::Float64Array>()));
        }
        columns
    }

    /// What the run did and cost. Made once when the run ends (see
    /// [`Protected::record_summary`]) and read back from the metadata
    /// after, so 10^8 cells are not counted twice.
    pub fn summary(&self) -> Summary {
        let recorded = self.metadata.notes.iter().find(|(k, _)| k == Summary::NOTE).and_then(|(_, json)| serde_json::from_str(json).ok());
        recorded.unwrap_or_else(|| self.count_summary())
    }

    /// Put the summary into the metadata (`amparo.summary`), where the
    /// producer's table carries it to every frontend and file; the
    /// publication leaves it out.
    /// A suppression's loss goes in one line too (`amparo.loss`).
    pub fn record_summary(&mut self) {
        let summary = self.count_summary();
        self.metadata.notes.retain(|(k, _)| k != Summary::NOTE && k != "loss");
        if let Some(loss) = &summary.loss {
            self.metadata.notes.push(("loss".to_owned(), loss.line()));
        }
        self.metadata.notes.push((Summary::NOTE.to_owned(), summary.to_json()));
    }

    fn count_summary(&self) -> Summary {
        let mut by_reason: BTreeMap<(Status, String), usize> = BTreeMap::new();
        // Cells share their reason's text: counted by its index first, so
        // 10^8 cells do not make 10^8 strings.
        let reasons = &self.marks.reason;
        let headline: Vec<bool> = reasons.distinct().iter().map(|r| r.as_deref().is_some_and(|r| r.starts_with(crate::marks::HEADLINE_REASON))).collect();
        let mut by_index: HashMap<(Status, usize), usize> = HashMap::new();
        let mut headlines = Vec::new();
        for (cell, &s) in self.marks.status.iter().enumerate() {
            match reasons.index_at(cell) {
                0 => {}
                // Headline totals are one line, and the first few say which cell needed each.
                i if headline[i] => {
                    let of = &reasons.distinct()[i].as_deref().unwrap_or_default()[crate::marks::HEADLINE_REASON.len()..];
                    headlines.push(format!("({}) for {}", self.cube.describe(cell), of.trim_start().trim_start_matches("of ")));
                    *by_reason.entry((s, crate::marks::HEADLINE_REASON.to_owned())).or_default() += 1;
                }
                i => *by_index.entry((s, i)).or_default() += 1,
            }
        }
        for ((s, i), n) in by_index {
            *by_reason.entry((s, reasons.distinct()[i].as_deref().unwrap_or_default().to_owned())).or_default() += n;
        }
        let hidden = self.marks.status.iter().filter(|s| s.is_hidden()).count();
        let inner = self.cube.inner_len();
        let secondary = self.metadata.notes.iter().find(|(k, _)| k == "secondary").map(|(_, why)| format!(" ({why})")).unwrap_or_default();
        // Rounding, noise and the cell key method change values and hide
        // nothing: their cost is in the changes, suppression's in the loss.
        let changes = crate::loss::Changes::of(&self.cube, &self.marks);
        let loss = changes.is_none().then(|| crate::loss::Loss::of(&self.cube, &self.marks));
        let count = |status: Status| self.marks.status.iter().filter(|&&s| s == status).count();
        let shown = headlines.len().min(5);
        let more = headlines.len() - shown;
        headlines.truncate(shown);
        if more > 0 {
            headlines.push(format!("and {more} more (each cell's reason in the producer's table names it)"));
        }
        Summary {
            headlines,
            loss,
            changes,
            primary: count(Status::Primary),
            secondary: count(Status::Secondary),
            method: format!("{}{secondary}", self.metadata.method),
            audit: self.metadata.audit.clone(),
            findings: self.audit.as_ref().map(|a| a.describe_findings(&self.cube, 10)).unwrap_or_default(),
            table: self.metadata.table.clone(),
            policy_sha256: self.metadata.policy_sha256.clone(),
            cells: self.cube.len(),
            inner_cells: inner,
            hidden,
            by_reason: by_reason.into_iter().map(|((s, reason), cells)| ReasonCount { status: s.as_str().to_owned(), reason, cells }).collect(),
        }
    }
}

/// Cells of one status that share a reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReasonCount {
    pub status: String,
    pub reason: String,
    pub cells: usize,
}

/// What a protection did and cost: cells hidden (by status and reason),
/// children hidden and the share of each hierarchy level hidden
/// (suppression), or how much the published values changed (rounding, the
/// cell key method, noise). For the producer: it uses the true values, so
/// it travels in the producer's table's metadata (`amparo.summary`, as
/// JSON) and never into a publication.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub table: String,
    pub policy_sha256: String,
    pub cells: usize,
    pub inner_cells: usize,
    pub hidden: usize,
    pub primary: usize,
    pub secondary: usize,
    /// The methods that ran, and which secondary method and why.
    pub method: String,
    pub by_reason: Vec<ReasonCount>,
    /// What hiding cost (suppression).
    pub loss: Option<crate::loss::Loss>,
    /// How much the values changed (rounding, the cell key method, noise).
    pub changes: Option<crate::loss::Changes>,
    /// Headline totals hidden, each with the sensitive cell that needed it (the first few).
    pub headlines: Vec<String>,
    /// The audit's verdict, and its first findings.
    pub audit: String,
    pub findings: Vec<String>,
}

impl Summary {
    /// The summary's note in the metadata (key `amparo.summary`).
    pub const NOTE: &'static str = "summary";

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a summary is numbers and text")
    }

    /// The summary a protected table's metadata records (`amparo.*` keys).
    pub fn from_metadata(metadata: &HashMap<String, String>) -> Fallible<Summary> {
        let Some(json) = metadata.get(&format!("{METADATA_PREFIX}{}", Summary::NOTE)) else {
            if metadata.keys().any(|k| k.starts_with(METADATA_PREFIX)) {
                fail!(Data, "the table's metadata has no summary (it was written by an older Amparo, or it is a publication, which never carries one); protect it again to see what protection cost");
            }
            fail!(
                Data,
                "the table carries no Amparo metadata, so there is no summary of its protection; give the table protect() returned, \
                 or the file `amparo protect` wrote (a CSV keeps its metadata in <file>.meta.json beside it)"
            );
        };
        serde_json::from_str(json).map_err(|e| crate::err!(Data, "the table's summary (metadata key amparo.summary) is not one Amparo wrote: {e}; protect the table again"))
    }

    /// The summary's numbers as tables, by name: `measures` (measure,
    /// value), `by_reason` (status, reason, cells), `by_level` (dimension,
    /// depth, example code, cells, hidden, shares of cells and counts
    /// hidden; suppression) and `changes` (from, to, cells, share; the
    /// distribution of published minus original, for the methods that
    /// change values).
    pub fn tables(&self) -> Vec<(&'static str, RecordBatch)> {
        use arrow_array::{Float64Array, Int64Array, StringArray};
        let share = |part: f64, whole: usize| if whole == 0 { 0.0 } else { part / whole as f64 };
        let mut measures: Vec<(&str, f64)> = vec![
            ("cells", self.cells as f64),
            ("inner_cells", self.inner_cells as f64),
            ("hidden", self.hidden as f64),
            ("hidden_share", share(self.hidden as f64, self.cells)),
            ("primary", self.primary as f64),
            ("secondary", self.secondary as f64),
        ];
        if let Some(loss) = &self.loss {
            measures.push(("children", loss.children as f64));
            measures.push(("children_hidden", loss.children_hidden as f64));
            measures.push(("children_hidden_share", if loss.children == 0 { 0.0 } else { loss.children_hidden as f64 / loss.children as f64 }));
        }
        if let Some(c) = &self.changes {
            measures.extend([
                ("changed", c.changed as f64),
                ("changed_share", c.share_changed()),
                ("mean_abs_change", c.mean_abs),
                ("max_abs_change", c.max_abs as f64),
                ("median_abs_change", c.median_abs as f64),
                ("p90_abs_change", c.p90_abs as f64),
                ("p99_abs_change", c.p99_abs as f64),
                ("mean_relative_abs_change", c.mean_relative_abs),
            ]);
        }
        let batch = |columns: Vec<(&str, ArrayRef)>| RecordBatch::try_from_iter(columns).expect("columns of one length");
        let text = |v: Vec<&str>| -> ArrayRef { Arc::new(StringArray::from(v)) };
        let ints = |v: Vec<i64>| -> ArrayRef { Arc::new(Int64Array::from(v)) };
        let floats = |v: Vec<f64>| -> ArrayRef { Arc::new(Float64Array::from(v)) };
        let levels = self.loss.as_ref().map(|l| l.by_level.as_slice()).unwrap_or_default();
        let bins = self.changes.as_ref().map(|c| c.distribution.as_slice()).unwrap_or_default();
        let compared = self.changes.as_ref().map_or(0, |c| c.cells);
        vec![
            ("measures", batch(vec![("measure", text(measures.iter().map(|m| m.0).collect())), ("value", floats(measures.iter().map(|m| m.1).collect()))])),
            (
                "by_reason",
                batch(vec![
                    ("status", text(self.by_reason.iter().map(|r| r.status.as_str()).collect())),
                    ("reason", text(self.by_reason.iter().map(|r| r.reason.as_str()).collect())),
                    ("cells", ints(self.by_reason.iter().map(|r| r.cells as i64).collect())),
                ]),
            ),
            (
                "by_level",
                batch(vec![
                    ("dimension", text(levels.iter().map(|l| l.dimension.as_str()).collect())),
                    ("depth", ints(levels.iter().map(|l| l.depth as i64).collect())),
                    ("example", text(levels.iter().map(|l| l.example.as_str()).collect())),
                    ("cells", ints(levels.iter().map(|l| l.cells as i64).collect())),
                    ("hidden", ints(levels.iter().map(|l| l.hidden as i64).collect())),
                    ("hidden_share", floats(levels.iter().map(|l| share(l.hidden as f64, l.cells)).collect())),
                    ("counts_hidden_share", floats(levels.iter().map(|l| l.count_share_hidden).collect())),
                ]),
            ),
            (
                "changes",
                batch(vec![
                    ("from", ints(bins.iter().map(|b| b.from).collect())),
                    ("to", ints(bins.iter().map(|b| b.to).collect())),
                    ("cells", ints(bins.iter().map(|b| b.cells as i64).collect())),
                    ("share", floats(bins.iter().map(|b| share(b.cells as f64, compared)).collect())),
                ]),
            ),
        ]
    }
}

impl Summary {
    /// The summary as `amparo protect` prints it, in `lang`. Statuses and
    /// reasons are labelled in the language; the method, the audit's
    /// verdict and the headline cells stay as the run recorded them.
    pub fn render(&self, lang: Lang) -> String {
        let share = |n: usize| lang.decimal(if self.cells == 0 { 0.0 } else { 100.0 * n as f64 / self.cells as f64 }, 1);
        let mut lines = vec![
            lang.text("summary.table", &[("table", self.table.as_str().into()), ("sha256", self.policy_sha256[..12.min(self.policy_sha256.len())].into())]),
            lang.text("summary.cells", &[("cells", self.cells.into()), ("inner", self.inner_cells.into()), ("margins", (self.cells - self.inner_cells).into())]),
            lang.text("summary.method", &[("method", self.method.as_str().into())]),
        ];
        let reason_line = |r: &ReasonCount| format!("  {:<10} {:<26} {}", lang.status(&r.status), lang.reason(&r.reason), lang.count(r.cells as i64));
        // Hidden cells by reason under "hidden", changed values (rounded,
        // perturbed) under "published".
        let hidden_status = |s: &str| s == Status::Primary.as_str() || s == Status::Secondary.as_str();
        lines.push(lang.text("summary.hidden", &[("hidden", self.hidden.into()), ("share", share(self.hidden).into())]));
        for r in self.by_reason.iter().filter(|r| hidden_status(&r.status)) {
            lines.push(reason_line(r));
            if r.reason == crate::marks::HEADLINE_REASON {
                lines.extend(self.headlines.iter().map(|line| format!("    {line}")));
            }
        }
        if let Some(loss) = &self.loss {
            lines.push(loss.render(lang));
        }
        let published = self.cells - self.hidden;
        lines.push(lang.text("summary.published", &[("published", published.into()), ("share", share(published).into())]));
        lines.extend(self.by_reason.iter().filter(|r| !hidden_status(&r.status)).map(reason_line));
        if let Some(changes) = &self.changes {
            lines.push(changes.render(lang));
        }
        lines.push(lang.text("summary.audit", &[("audit", self.audit.as_str().into())]));
        lines.extend(self.findings.iter().map(|line| format!("  {line}")));
        lines.join("\n")
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(Lang::EN))
    }
}

#[cfg(test)]
mod tests {
    use arrow_array::{Array, LargeStringArray, StringArray};

    use super::*;

    #[test]
    fn a_text_column_past_its_limit_has_64_bit_offsets_and_the_same_values() {
        let values = || ["COL05001", "COL05002", ""].into_iter().map(Some).chain([None]);
        let small = text_column(values(), 4, 1_000);
        let large = text_column(values(), 4, 10);
        assert_eq!(small.data_type(), &DataType::Utf8);
        assert_eq!(large.data_type(), &DataType::LargeUtf8);
        let (small, large) = (small.as_any().downcast_ref::<StringArray>().unwrap(), large.as_any().downcast_ref::<LargeStringArray>().unwrap());
        assert_eq!(small.iter().collect::<Vec<_>>(), large.iter().collect::<Vec<_>>());
    }

    /// The batches a writer streams hold the one batch's rows, in order,
    /// with its schema and metadata (here with an `sd` column too).
    #[test]
    fn the_batches_are_the_one_batch_cut_in_rows() {
        let policy = "version = 1\n[input]\nkind = \"aggregated\"\ncount = \"n\"\n[dimensions.geo]\ncode_lengths = [1, 2]\n[dimensions.sex]\n";
        let mut csv = String::from("geo,sex,n\n");
        for (k, geo) in ["11", "12", "13", "21", "22"].iter().enumerate() {
            csv.push_str(&format!("{geo},F,{}\n{geo},M,{}\n", k * 3 + 1, 20 - k));
        }
        let cube = crate::table::test_cube(policy, &csv);
        let mut marks = CellMarks::publish_all(&cube);
        for cell in (0..cube.len()).step_by(3) {
            marks.hide(cell, Status::Primary, Arc::from("threshold"));
            marks.set_interval(cell, (Some(1), Some(9)));
            marks.sd.set(cell, Some(0.5 * cell as f64));
        }
        let metadata = Metadata {
            engine_version: "test".to_owned(),
            policy_sha256: "0".repeat(64),
            table: "t".to_owned(),
            input_kind: InputKind::Aggregated,
            method: "test".to_owned(),
            randomness: Randomness::None,
            audit: "not run".to_owned(),
            audit_outcome: AuditOutcome::NotAudited,
            notes: vec![("additivity".to_owned(), "a note".to_owned())],
        };
        let protected = Protected { cube, marks, metadata, audit: None };
        for keep_original in [false, true] {
            let options = OutputOptions { keep_original };
            let whole = protected.to_record_batch(options);
            let batches: Vec<RecordBatch> = protected.batches_of(options, 7).map(Result::unwrap).collect();
            assert_eq!(batches.len(), protected.cube.len().div_ceil(7));
            assert!(batches.iter().all(|b| b.schema() == whole.schema()));
            let joined = arrow_select::concat::concat_batches(&whole.schema(), &batches).unwrap();
            assert_eq!(joined, whole);
            assert!(whole.schema().field_with_name("sd").is_ok());
        }
    }
}
