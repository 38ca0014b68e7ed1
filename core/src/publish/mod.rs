//! The file people publish: the dimension columns (with labels where the
//! policy gives them) and the published values, every hidden cell carrying
//! one marker, and nothing else.
//!
//! The protected table ([`crate::Protected::to_record_batch`]) is the
//! producer's: its `status`, `reason`, `lower`/`upper`, `sd` and (with
//! `keep_original`) `value` columns each tell an outsider something the
//! protection hides (a row reading `primary, threshold<5` says the hidden
//! cell holds 1-4). It is not for publication. This step turns it into the
//! publication, after checking that it was made with this policy and that
//! its audit passed:
//!
//! - layouts: `long` (a row per cell) and `wide` (one dimension across the
//!   columns, as tables are printed in reports);
//! - formats: CSV, Parquet, Arrow IPC, Excel (`.xlsx`: one sheet per table,
//!   markers as text, a `notes` sheet with the method and the policy's
//!   SHA-256) and SDMX-CSV (`DATAFLOW`, the dimensions, `OBS_VALUE`,
//!   `OBS_STATUS`, and `CONF_STATUS` = `C` for every hidden cell, `F` for
//!   the others: primary and secondary cells are never told apart).
//!
//! Values are written as text in every format (a count, or the marker), so
//! the CSV and the Parquet of one publication hold the same strings. In CSV
//! and Excel, text that a spreadsheet would run as a formula (a code
//! starting with `=`, `+`, `-`, `@`) is kept text: CSV fields get a leading
//! `'` (OWASP's advice for CSV injection), which `amparo audit` removes
//! again; Excel cells are written as strings, never as formulas.
//!
//! The publication's metadata (Parquet/Arrow schema metadata, the CSV's
//! `.meta.json`, the workbook's `notes` sheet) says how the table was made
//! and its audit verdict, but never the seed of a seeded run: with it an
//! outsider could replay the random draws.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use arrow_array::builder::StringBuilder;
use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use arrow_array::{Array, ArrayRef, RecordBatch, RecordBatchReader, StringArray};
use arrow_schema::{DataType, Field, Schema};

use crate::error::Fallible;
use crate::output::{AuditOutcome, METADATA_PREFIX};
use crate::policy::{CheckedPolicy, Layout};
use crate::{err, fail};

mod formats;

pub use formats::{guard_formula, stage_publications, unguard_formula, write_publications};

/// File formats of a publication.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublicationFormat {
    Csv,
    Parquet,
    Arrow,
    ArrowStream,
    Xlsx,
    /// SDMX-CSV (version 1): what UN agencies, ECLAC and IOM exchange.
    SdmxCsv,
}

impl PublicationFormat {
    /// The format a file name asks for: `.xlsx`, `.sdmx.csv`, or a table format of [`crate::io::Format`].
    pub fn from_path(path: &Path) -> Fallible<PublicationFormat> {
        let name = path.file_name().map(|n| n.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
        if name.ends_with(".xlsx") {
            return Ok(PublicationFormat::Xlsx);
        }
        if name.ends_with(".sdmx.csv") {
            return Ok(PublicationFormat::SdmxCsv);
        }
        Ok(match crate::io::Format::from_path(path).map_err(|_| {
            err!(
                Io,
                "cannot tell the publication format of {} from its name; use .csv, .sdmx.csv (SDMX-CSV), .xlsx (Excel), .parquet, .arrow or .arrows",
                path.display()
            )
        })? {
            crate::io::Format::Csv => PublicationFormat::Csv,
            crate::io::Format::Parquet => PublicationFormat::Parquet,
            crate::io::Format::Arrow => PublicationFormat::Arrow,
            crate::io::Format::ArrowStream => PublicationFormat::ArrowStream,
        })
    }

    /// The format named by `--format` (csv, sdmx, xlsx, parquet, arrow, arrows).
    pub fn from_name(name: &str) -> Fallible<PublicationFormat> {
        Ok(match name.to_ascii_lowercase().as_str() {
            "csv" => PublicationFormat::Csv,
            "sdmx" | "sdmx-csv" | "sdmx_csv" => PublicationFormat::SdmxCsv,
            "xlsx" | "excel" => PublicationFormat::Xlsx,
            "parquet" => PublicationFormat::Parquet,
            "arrow" | "feather" => PublicationFormat::Arrow,
            "arrows" => PublicationFormat::ArrowStream,
            other => fail!(Policy, "unknown publication format `{other}`; use csv, sdmx, xlsx, parquet, arrow or arrows"),
        })
    }

    /// The file extension of a table written in this format inside a folder.
    pub fn extension(self) -> &'static str {
        match self {
            PublicationFormat::Csv => "csv",
            PublicationFormat::SdmxCsv => "sdmx.csv",
            PublicationFormat::Xlsx => "xlsx",
            PublicationFormat::Parquet => "parquet",
            PublicationFormat::Arrow => "arrow",
            PublicationFormat::ArrowStream => "arrows",
        }
    }
}

/// One protected table made ready for publication.
#[derive(Debug, Clone)]
pub struct Publication {
    /// The table's name (a linked table's name in `[tables]`; the sheet name in Excel).
    pub table: String,
    layout: Layout,
    /// The dimension whose codes are the columns, in the wide layout.
    across: usize,
    /// Per dimension: its name and its codes, one per cell (row of the protected table).
    dims: Vec<(String, StringArray)>,
    /// Per dimension: its labels by code, when the policy gives them.
    labels: Vec<Option<indexmap::IndexMap<String, String>>>,
    values: Vec<Option<i64>>,
    /// Every published value was changed by the method (rounded, perturbed, noisy).
    changed: bool,
    value_column: String,
    hidden_marker: String,
    dataflow: String,
    /// The publication's metadata, `amparo.`-prefixed keys in a fixed order.
    pub metadata: Vec<(String, String)>,
    /// Whether the protected table's audit passed (or does not apply).
    pub outcome: AuditOutcome,
}

/// The column of published values a policy's publication (and a published
/// table the audit reads) has: `[publication] value_column`, else `[input]
/// count`, else `count`.
pub fn value_column(policy: &CheckedPolicy) -> String {
    policy.file.publication.value_column.clone().or_else(|| policy.file.input.count.clone()).unwrap_or_else(|| "count".to_owned())
}

/// The metadata a protected table carries: its schema metadata, or (a CSV,
/// which has none) the `<file>.meta.json` beside it.
pub fn read_metadata(path: &Path, schema_metadata: &HashMap<String, String>) -> Fallible<HashMap<String, String>> {
    if crate::io::Format::from_path(path).ok() != Some(crate::io::Format::Csv) {
        return Ok(schema_metadata.clone());
    }
    let sidecar = crate::io::metadata_sidecar(path);
    if !sidecar.exists() {
        return Ok(HashMap::new());
    }
    let text = crate::io::read_text_limited(&sidecar, crate::io::MAX_METADATA_BYTES, "metadata file")?;
    let json: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&text).map_err(|e| err!(Data, "{} is not the JSON metadata Amparo writes: {e}; remove it or restore it", sidecar.display()))?;
    Ok(json.into_iter().filter_map(|(k, v)| v.as_str().map(|v| (k, v.to_owned()))).collect())
}

/// A protected table's file, opened: its batches and its metadata (see [`read_metadata`]).
pub fn open_protected(path: &Path) -> Fallible<(crate::io::BatchReader, HashMap<String, String>)> {
    let reader = crate::io::read_table(path)?;
    let metadata = read_metadata(path, reader.schema().metadata())?;
    Ok((reader, metadata))
}

/// Any table's file, read whole (what `read_table` gives Python and R),
/// with the Amparo metadata it carries, a CSV's from its `.meta.json`, in
/// its schema: a protected table read back and written again keeps it.
pub fn read_table_with_metadata(path: &Path) -> Fallible<arrow_array::RecordBatch> {
    let (reader, metadata) = open_protected(path)?;
    let schema = reader.schema();
    let batches = reader.collect::<Result<Vec<_>, _>>().map_err(|e| crate::io::arrow_read_error(e, &path.display().to_string()))?;
    let batch = arrow_select::concat::concat_batches(&schema, &batches).map_err(|e| err!(Data, "reading {}: {e}", path.display()))?;
    let mut kept = schema.metadata().clone();
    kept.extend(metadata.into_iter().filter(|(k, _)| k.starts_with(METADATA_PREFIX)));
    let schema = std::sync::Arc::new(schema.as_ref().clone().with_metadata(kept));
    batch.with_schema(schema).map_err(|e| err!(Data, "reading {}: {e}", path.display()))
}

/// Make a protected table (as [`crate::Protected::to_record_batch`] gives
/// it, with its metadata) ready for publication. `policy` is the policy
/// that protected it (for one of several linked tables: its table's policy,
/// see [`CheckedPolicy::linked_tables`]); `layout` overrides `[publication] layout`.
///
/// Refused: a table made with another policy, one whose audit failed, and
/// one without Amparo's metadata (nothing then says it was protected).
pub fn publication(policy: &CheckedPolicy, protected: &mut dyn RecordBatchReader, metadata: &HashMap<String, String>, layout: Option<Layout>) -> Fallible<Publication> {
    let section = &policy.file.publication;
    let key = |k: &str| metadata.get(&format!("{METADATA_PREFIX}{k}"));
    let Some(recorded) = key("policy_sha256") else {
        fail!(
            Data,
            "the table carries no Amparo metadata, so nothing says how it was protected; publish the table `amparo protect` wrote \
             (Parquet and Arrow files keep their metadata, a CSV keeps it in <file>.meta.json beside it), or the table protect() returned"
        );
    };
    if recorded != &policy.sha256 {
        fail!(
            Policy,
            "the table was protected with another policy (SHA-256 {}), not this one ({}); publish it with the policy that protected it, or protect it again",
            &recorded[..recorded.len().min(12)],
            &policy.sha256[..12]
        );
    }
    let verdict = key("audit").cloned().unwrap_or_default();
    let outcome = key("audit_outcome").and_then(|o| AuditOutcome::parse(o)).ok_or_else(|| {
        err!(Data, "the table's metadata has no audit outcome (it was written by an older Amparo); protect it again with this version")
    })?;
    if outcome == AuditOutcome::Failed {
        fail!(
            Infeasible,
            "the audit of this table failed ({verdict}): an outsider can narrow hidden cells below their protection, so it is not published; \
             protect it with [secondary] method = \"interval\", which guarantees every protection level"
        );
    }
    let schema = protected.schema();
    let column = |name: &str| {
        schema.index_of(name).map_err(|_| {
            let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
            err!(Schema, "the protected table has no column `{name}` (its columns: {}); give the table `amparo protect` wrote, unchanged", names.join(", "))
        })
    };
    let dim_index: Vec<usize> = policy.dimensions.iter().map(|d| column(&d.name)).collect::<Fallible<_>>()?;
    let (published_index, status_index) = (column("published")?, column("status")?);
    let mut dims: Vec<Vec<ArrayRef>> = vec![Vec::new(); dim_index.len()];
    let mut values: Vec<Option<i64>> = Vec::new();
    let mut changed = true;
    for batch in protected {
        let batch = batch.map_err(|e| crate::io::arrow_read_error(e, "the protected table"))?;
        for (d, &i) in dim_index.iter().enumerate() {
            let text = arrow_cast::cast(batch.column(i), &DataType::Utf8)
                .map_err(|e| err!(Schema, "column `{}` of the protected table cannot be read as codes: {e}", policy.dimensions[d].name))?;
            dims[d].push(text);
        }
        let published = arrow_cast::cast(batch.column(published_index), &DataType::Int64)
            .map_err(|e| err!(Schema, "column `published` of the protected table cannot be read as counts: {e}"))?;
        values.extend(published.as_primitive::<Int64Type>().iter());
        let status = arrow_cast::cast(batch.column(status_index), &DataType::Utf8)
            .map_err(|e| err!(Schema, "column `status` of the protected table cannot be read: {e}"))?;
        changed &= status.as_string::<i32>().iter().all(|s| matches!(s, Some("rounded" | "perturbed" | "noisy")));
    }
    if values.is_empty() {
        fail!(Data, "the protected table has no rows");
    }
    let dims: Vec<(String, StringArray)> = policy
        .dimensions
        .iter()
        .zip(dims)
        .map(|(d, parts)| {
            let refs: Vec<&dyn Array> = parts.iter().map(|a| a.as_ref()).collect();
            let all = arrow_select::concat::concat(&refs).map_err(|e| err!(Data, "the protected table cannot be read: {e}"))?;
            let codes = all.as_string::<i32>().clone();
            if codes.null_count() > 0 {
                fail!(Data, "column `{}` of the protected table has an empty code; give the table `amparo protect` wrote, unchanged", d.name);
            }
            Ok((d.name.clone(), codes))
        })
        .collect::<Fallible<_>>()?;
    let layout = layout.unwrap_or(section.layout);
    let across = match &section.across {
        Some(name) => dims.iter().position(|(n, _)| n == name).ok_or_else(|| {
            err!(Policy, "[publication] across = \"{name}\" is not a dimension of table `{}`; name one of its dimensions", policy.table_name())
        })?,
        None => dims.len() - 1,
    };
    if layout == Layout::Wide && dims.len() < 2 {
        fail!(Policy, "the wide layout puts one dimension across the columns and the others down the rows; table `{}` has one dimension: publish it long", policy.table_name());
    }
    let labels = policy.dimensions.iter().map(|d| section.labels.get(&d.name).cloned()).collect();
    let table = policy.table_name().to_owned();
    let value_column = value_column(policy);
    let dataflow = section.dataflow.clone().unwrap_or_else(|| format!("AMPARO:{}(1.0)", sdmx_id(&table)));
    let mut publication = Publication {
        table,
        layout,
        across,
        dims,
        labels,
        values,
        changed,
        value_column,
        hidden_marker: section.hidden_marker.clone(),
        dataflow,
        metadata: Vec::new(),
        outcome,
    };
    publication.metadata = publication_metadata(metadata, &publication, &verdict);
    Ok(publication)
}

/// An SDMX identifier from a table name: letters, digits and `_`.
fn sdmx_id(name: &str) -> String {
    let id: String = name.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' }).collect();
    if id.starts_with(|c: char| c.is_ascii_alphabetic()) { id } else { format!("T_{id}") }
}

/// What a publication says about itself: how the table was made (never a
/// seed), its audit, and how to read its cells.
fn publication_metadata(internal: &HashMap<String, String>, p: &Publication, verdict: &str) -> Vec<(String, String)> {
    let get = |k: &str| internal.get(&format!("{METADATA_PREFIX}{k}")).cloned().unwrap_or_default();
    let randomness = get("randomness");
    // The seed replays every random draw: a publication names only the kind of source.
    let randomness = if randomness.contains("seed") {
        "ChaCha20 from a seed the producer keeps (a reproducible run)".to_owned()
    } else {
        randomness
    };
    let mut pairs = vec![
        ("engine_version".to_owned(), get("engine_version")),
        ("policy_sha256".to_owned(), get("policy_sha256")),
        ("table".to_owned(), p.table.clone()),
        ("method".to_owned(), get("method")),
        ("randomness".to_owned(), randomness),
        ("audit".to_owned(), verdict.to_owned()),
        ("audit_outcome".to_owned(), p.outcome.as_str().to_owned()),
        ("layout".to_owned(), match p.layout {
            Layout::Long => "long".to_owned(),
            Layout::Wide => format!("wide (across: {})", p.dims[p.across].0),
        }),
        ("hidden_marker".to_owned(), p.hidden_marker.clone()),
    ];
    // The notes a reader needs, and only those: the privacy statement, the
    // error, whether totals add up, whether a solver stopped early, which
    // secondary method hid the complements and why. Nothing
    // else of the producer's metadata goes out (its data_sha256 would let
    // an outsider confirm guesses of the producer's table, statuses and all).
    const READER_NOTES: [&str; 5] = ["privacy", "error", "additivity", "optimality", "secondary"];
    for key in READER_NOTES {
        if let Some(v) = internal.get(&format!("{METADATA_PREFIX}{key}")) {
            pairs.push((key.to_owned(), v.clone()));
        }
    }
    pairs.into_iter().map(|(k, v)| (format!("{METADATA_PREFIX}{k}"), v)).collect()
}

impl Publication {
    fn text_of(&self, value: Option<i64>) -> String {
        value.map_or_else(|| self.hidden_marker.clone(), |v| v.to_string())
    }

    fn label_of<'a>(&'a self, d: usize, code: &'a str) -> Option<&'a str> {
        self.labels[d].as_ref().map(|l| l.get(code).map_or(code, String::as_str))
    }

    /// The publication as one record batch of text columns, in its layout,
    /// with its metadata.
    pub fn to_record_batch(&self) -> RecordBatch {
        let (names, columns) = match self.layout {
            Layout::Long => self.long_columns(),
            Layout::Wide => self.wide_columns(),
        };
        let fields: Vec<Field> = names.iter().map(|n| Field::new(n, DataType::Utf8, true)).collect();
        let metadata: HashMap<String, String> = self.metadata.iter().cloned().collect();
        let schema = Arc::new(Schema::new(fields).with_metadata(metadata));
        RecordBatch::try_new(schema, columns).expect("every column is text, one value per row")
    }

    /// The dimension columns (each followed by its labels, when it has them).
    fn long_columns(&self) -> (Vec<String>, Vec<ArrayRef>) {
        let mut names = Vec::new();
        let mut columns: Vec<ArrayRef> = Vec::new();
        for (d, (name, codes)) in self.dims.iter().enumerate() {
            names.push(name.clone());
            columns.push(Arc::new(codes.clone()));
            if self.labels[d].is_some() {
                names.push(format!("{name}_label"));
                columns.push(Arc::new(codes.iter().map(|c| self.label_of(d, c.unwrap_or(""))).collect::<StringArray>()));
            }
        }
        names.push(self.value_column.clone());
        columns.push(Arc::new(self.values.iter().map(|&v| Some(self.text_of(v))).collect::<StringArray>()));
        (names, columns)
    }

    /// Rows: the other dimensions' codes, in order of first appearance;
    /// columns: the `across` dimension's codes, in order of first appearance.
    fn wide_columns(&self) -> (Vec<String>, Vec<ArrayRef>) {
        let a = self.across;
        let mut across_codes: indexmap::IndexSet<&str> = indexmap::IndexSet::new();
        let mut rows: indexmap::IndexMap<Vec<&str>, Vec<Option<usize>>> = indexmap::IndexMap::new();
        let width_hint = 8;
        for cell in 0..self.values.len() {
            let (col, _) = across_codes.insert_full(self.dims[a].1.value(cell));
            let key: Vec<&str> = self.dims.iter().enumerate().filter(|(d, _)| *d != a).map(|(_, (_, c))| c.value(cell)).collect();
            let row = rows.entry(key).or_insert_with(|| Vec::with_capacity(width_hint));
            if row.len() <= col {
                row.resize(col + 1, None);
            }
            row[col] = Some(cell);
        }
        let mut names = Vec::new();
        let mut columns: Vec<ArrayRef> = Vec::new();
        let row_dims: Vec<usize> = (0..self.dims.len()).filter(|&d| d != a).collect();
        for (k, &d) in row_dims.iter().enumerate() {
            names.push(self.dims[d].0.clone());
            columns.push(Arc::new(rows.keys().map(|key| Some(key[k])).collect::<StringArray>()));
            if self.labels[d].is_some() {
                names.push(format!("{}_label", self.dims[d].0));
                columns.push(Arc::new(rows.keys().map(|key| self.label_of(d, key[k])).collect::<StringArray>()));
            }
        }
        for (col, code) in across_codes.iter().enumerate() {
            names.push((*code).to_owned());
            let mut b = StringBuilder::with_capacity(rows.len(), rows.len() * 3);
            for cells in rows.values() {
                // The cube lists every cell, so no place is empty; were one,
                // an empty field is what a reader sees as a cell left out.
                match cells.get(col).copied().flatten() {
                    Some(cell) => b.append_value(self.text_of(self.values[cell])),
                    None => b.append_null(),
                }
            }
            columns.push(Arc::new(b.finish()));
        }
        (names, columns)
    }

    /// The SDMX-CSV table: `DATAFLOW`, the dimensions, `OBS_VALUE` (empty
    /// when hidden), `OBS_STATUS` (`A` normal, `E` estimated: rounded or
    /// perturbed, `O` missing: hidden) and `CONF_STATUS` (`C` hidden, `F` free).
    fn sdmx_batch(&self) -> Fallible<RecordBatch> {
        if self.layout == Layout::Wide {
            fail!(Policy, "SDMX-CSV has one observation per row; publish it with the long layout");
        }
        let n = self.values.len();
        let mut names = vec!["DATAFLOW".to_owned()];
        let mut columns: Vec<ArrayRef> = vec![Arc::new(StringArray::from(vec![self.dataflow.as_str(); n]))];
        for (name, codes) in &self.dims {
            names.push(name.clone());
            columns.push(Arc::new(codes.clone()));
        }
        let normal = if self.changed { "E" } else { "A" };
        names.extend(["OBS_VALUE", "OBS_STATUS", "CONF_STATUS"].map(str::to_owned));
        columns.push(Arc::new(self.values.iter().map(|v| Some(v.map_or(String::new(), |v| v.to_string()))).collect::<StringArray>()));
        columns.push(Arc::new(self.values.iter().map(|v| Some(if v.is_some() { normal } else { "O" })).collect::<StringArray>()));
        columns.push(Arc::new(self.values.iter().map(|v| Some(if v.is_some() { "F" } else { "C" })).collect::<StringArray>()));
        let fields: Vec<Field> = names.iter().map(|n| Field::new(n, DataType::Utf8, true)).collect();
        Ok(RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).expect("every column is text, one value per row"))
    }
}

/// Options of [`publish_files`].
#[derive(Debug, Clone, Default)]
pub struct PublishOptions {
    /// The format (default: from the output's name; a folder gets CSV).
    pub format: Option<PublicationFormat>,
    /// The layout (default: `[publication] layout`).
    pub layout: Option<Layout>,
    /// Replace existing files.
    pub overwrite: bool,
}

/// The tables a policy describes, each with its own policy: the policy's
/// linked tables (`[tables]`, in order), or the one table.
fn table_policies(policy: &CheckedPolicy) -> Vec<CheckedPolicy> {
    let linked = policy.linked_tables();
    if linked.is_empty() { vec![policy.clone()] } else { linked.into_iter().map(|(_, p)| p).collect() }
}

/// Make protected tables (one, or one per linked table in the policy's
/// order; each a stream with its metadata) ready for publication.
pub fn publications(policy: &CheckedPolicy, tables: Vec<(crate::io::BatchReader, HashMap<String, String>)>, layout: Option<Layout>) -> Fallible<Vec<Publication>> {
    let policies = table_policies(policy);
    if tables.len() != policies.len() {
        let names: Vec<&str> = policies.iter().map(|p| p.table_name()).collect();
        fail!(Policy, "the policy describes {} table(s) ({}) but {} protected table(s) were given; give one per table, in that order", policies.len(), names.join(", "), tables.len());
    }
    policies.iter().zip(tables).map(|(p, (mut reader, metadata))| publication(p, &mut *reader, &metadata, layout)).collect()
}

/// Make protected tables given as streams (the frontends' data frames, each
/// with the metadata protect gave it) ready for publication and, with an
/// `output`, write them there (see [`publication_targets`]).
pub fn publish_streams(
    policy: &CheckedPolicy,
    tables: Vec<(crate::io::BatchReader, HashMap<String, String>)>,
    output: Option<&Path>,
    options: &PublishOptions,
) -> Fallible<Vec<Publication>> {
    let targets = output.map(|o| publication_targets(policy, o, options, &[])).transpose()?;
    let publications = publications(policy, tables, options.layout)?;
    match (output, targets) {
        (Some(output), Some(targets)) => Ok(write_publication_files(publications, targets, output)?.into_iter().map(|(_, p)| p).collect()),
        _ => Ok(publications),
    }
}

/// Publish protected tables from files (what `amparo protect` wrote): one
/// file, or for linked tables one per table in the policy's order (or the
/// folder `amparo protect` wrote them to). See [`write_publication_files`]
/// for the output.
pub fn publish_files(policy: &CheckedPolicy, policy_path: Option<&Path>, inputs: &[std::path::PathBuf], output: &Path, options: &PublishOptions) -> Fallible<Vec<(std::path::PathBuf, Publication)>> {
    let names: Vec<String> = table_policies(policy).iter().map(|p| p.table_name().to_owned()).collect();
    // The folder `amparo protect` wrote linked tables to: <table>.csv each.
    let inputs: Vec<std::path::PathBuf> = match inputs {
        [folder] if folder.is_dir() && names.len() > 1 => names.iter().map(|name| folder.join(format!("{name}.csv"))).collect(),
        _ => inputs.to_vec(),
    };
    let mut reads: Vec<std::path::PathBuf> = inputs.iter().flat_map(|i| [i.clone(), crate::io::metadata_sidecar(i)]).collect();
    reads.extend(policy_path.map(Path::to_path_buf));
    let targets = publication_targets(policy, output, options, &reads)?;
    let tables = inputs.iter().map(|input| open_protected(input)).collect::<Fallible<Vec<_>>>()?;
    let publications = publications(policy, tables, options.layout)?;
    write_publication_files(publications, targets, output)
}

/// Where a policy's publications go: (format, one file for all tables, the files).
pub struct Targets {
    format: PublicationFormat,
    single_file: bool,
    files: Vec<std::path::PathBuf>,
}

/// The files the publications of `policy` are written to, checked (never a
/// file the run reads, in `reads` or the policy's own files; an existing
/// file only with `overwrite`): `output` itself for one table or an Excel
/// workbook; for linked tables otherwise, `output` is a folder with a file
/// per table.
pub fn publication_targets(policy: &CheckedPolicy, output: &Path, options: &PublishOptions, reads: &[std::path::PathBuf]) -> Fallible<Targets> {
    let names: Vec<String> = table_policies(policy).iter().map(|p| p.table_name().to_owned()).collect();
    let by_name = PublicationFormat::from_path(output).ok();
    let single_file = names.len() == 1 || options.format.or(by_name) == Some(PublicationFormat::Xlsx);
    let format = match (options.format, single_file) {
        (Some(f), _) => f,
        (None, true) => PublicationFormat::from_path(output)?,
        (None, false) => PublicationFormat::Csv,
    };
    let files: Vec<std::path::PathBuf> = if single_file {
        vec![output.to_path_buf()]
    } else {
        if output.exists() && !output.is_dir() {
            fail!(Io, "{} is a file; linked tables are published to a folder (one file per table) or to one .xlsx workbook", output.display());
        }
        names.iter().map(|name| output.join(format!("{name}.{}", format.extension()))).collect()
    };
    let mut all_reads: Vec<std::path::PathBuf> = reads.to_vec();
    all_reads.extend(policy.read_files());
    let reads: Vec<&Path> = all_reads.iter().map(|p| p.as_path()).collect();
    for file in &files {
        crate::io::check_output_path(file, &reads, options.overwrite)?;
    }
    Ok(Targets { format, single_file, files })
}

/// Write publications to their targets: every file is written in full
/// before any is moved into place. Returns each file and its publication.
pub fn write_publication_files(publications: Vec<Publication>, targets: Targets, output: &Path) -> Fallible<Vec<(std::path::PathBuf, Publication)>> {
    if !targets.single_file {
        std::fs::create_dir_all(output).map_err(|e| err!(Io, "cannot create the output folder {}: {e}", output.display()))?;
    }
    let staged = if targets.single_file {
        vec![stage_publications(&publications, &targets.files[0], targets.format)?]
    } else {
        publications.iter().zip(&targets.files).map(|(p, t)| stage_publications(std::slice::from_ref(p), t, targets.format)).collect::<Fallible<Vec<_>>>()?
    };
    crate::io::commit_all(staged)?;
    Ok(if targets.single_file {
        publications.into_iter().map(|p| (targets.files[0].clone(), p)).collect()
    } else {
        targets.files.into_iter().zip(publications).collect()
    })
}
