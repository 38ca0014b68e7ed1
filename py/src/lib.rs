//! The Python extension `amparo._amparo`: packaging only.
//!
//! Each function converts its inputs (Arrow data arrives through the Arrow
//! PyCapsule interface, so pyarrow, polars, pandas and duckdb objects all
//! work), calls one core function with the GIL released, and converts the
//! result. Core errors become Python exceptions in `map_error`, the one place
//! where that happens.

use std::path::PathBuf;

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyTuple, PyType};
use pyo3_arrow::{PyRecordBatchReader, PyTable};

/// The exception classes, made once. Each subclasses `AmparoError` and the
/// built-in exception an existing `except` clause already catches:
/// `ValueError` for a bad policy or bad input, `OSError` for files.
static ERROR_TYPES: PyOnceLock<Vec<Py<PyType>>> = PyOnceLock::new();

/// (class, the built-in it also is, docstring); the base class first, then
/// one per [`amparo::ErrorKind`] in [`error_index`]'s order.
const ERRORS: [(&str, &str, &str); 7] = [
    ("AmparoError", "Exception", "Base class of every error raised by Amparo."),
    ("PolicyError", "ValueError", "The policy is malformed, names an unknown key, or asks for something impossible."),
    ("SchemaError", "ValueError", "The input lacks a column the policy names, or a column has an unusable type."),
    ("HierarchyError", "ValueError", "A hierarchy is malformed, or a code is outside it."),
    ("DataError", "ValueError", "The input's values are not valid counts, or are inconsistent (duplicates, margins)."),
    ("InfeasibleError", "ValueError", "The protection the policy asks for cannot be achieved."),
    ("AmparoIOError", "OSError", "A file could not be read or written."),
];

fn error_index(kind: amparo::ErrorKind) -> usize {
    use amparo::ErrorKind::*;
    match kind {
        Policy => 1,
        Schema => 2,
        Hierarchy => 3,
        Data => 4,
        Infeasible => 5,
        Io => 6,
    }
}

fn error_types(py: Python<'_>) -> PyResult<&Vec<Py<PyType>>> {
    ERROR_TYPES.get_or_try_init(py, || {
        let builtins = py.import("builtins")?;
        let make_class = builtins.getattr("type")?;
        let mut types: Vec<Py<PyType>> = Vec::new();
        for (name, builtin, doc) in ERRORS {
            let namespace = PyDict::new(py);
            namespace.set_item("__module__", "amparo")?;
            namespace.set_item("__doc__", doc)?;
            let mut bases: Vec<Bound<'_, PyAny>> = types.first().map(|base| base.bind(py).clone().into_any()).into_iter().collect();
            bases.push(builtins.getattr(builtin)?);
            let class = make_class.call1((name, PyTuple::new(py, bases)?, namespace))?;
            types.push(class.cast_into::<PyType>()?.unbind());
        }
        Ok(types)
    })
}

fn map_error(e: amparo::Error) -> PyErr {
    Python::attach(|py| match error_types(py) {
        Ok(types) => PyErr::from_type(types[error_index(e.kind)].bind(py).clone(), e.message),
        Err(failed) => failed,
    })
}

/// A Python value (dicts, lists, strings, numbers) as JSON text, for the core.
fn to_json(value: &Bound<'_, PyAny>) -> PyResult<String> {
    value.py().import("json")?.call_method1("dumps", (value,))?.extract()
}

/// Run `work` with the GIL released; with `progress`, the core's progress
/// reports call it as `progress(stage, done, total)` (`total` None when not
/// known ahead). An exception in the callback is reported, not raised: the
/// work goes on.
fn detached<T: Send>(py: Python<'_>, progress: Option<Py<PyAny>>, work: impl FnOnce() -> amparo::Fallible<T> + Send) -> PyResult<T> {
    py.detach(move || match progress {
        None => work(),
        Some(callback) => {
            let sink = move |stage: &str, done: u64, total: Option<u64>| {
                Python::attach(|py| {
                    if let Err(e) = callback.call1(py, (stage, done, total)) {
                        e.write_unraisable(py, None);
                    }
                })
            };
            amparo::progress::with_sink(Box::new(sink), work)
        }
    })
    .map_err(map_error)
}

/// Input data: a path, which the core reads a batch at a time (a file, or
/// a folder of Parquet files), or any Arrow stream (pyarrow, polars, ...).
#[derive(FromPyObject)]
enum Input {
    Path(PathBuf),
    Stream(PyRecordBatchReader),
}

impl Input {
    fn into_reader(self) -> PyResult<amparo::io::BatchReader> {
        match self {
            Input::Path(path) => amparo::io::read_table(&path).map_err(map_error),
            Input::Stream(stream) => Ok(stream.into_reader()?),
        }
    }
}

/// A validated policy.
#[pyclass(name = "Policy", module = "amparo", frozen)]
struct PyPolicy(amparo::Policy);

#[pymethods]
impl PyPolicy {
    /// Read and validate a policy file (TOML); codes tables are found relative to it.
    #[staticmethod]
    fn from_file(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        py.detach(|| amparo::Policy::from_file(&path)).map(PyPolicy).map_err(map_error)
    }

    /// Parse and validate policy text; `base_dir` is where relative codes-table paths start.
    #[staticmethod]
    #[pyo3(signature = (text, base_dir = None))]
    fn from_toml(text: &str, base_dir: Option<PathBuf>) -> PyResult<Self> {
        let base = base_dir.unwrap_or_else(|| PathBuf::from("."));
        amparo::Policy::from_toml(text, &base).map(PyPolicy).map_err(map_error)
    }

    /// A policy from a dict with the policy file's sections and keys
    /// (``{"version": 1, "input": {...}, "dimensions": {...}, ...}``).
    #[staticmethod]
    #[pyo3(signature = (policy, base_dir = None))]
    fn from_dict(policy: &Bound<'_, PyAny>, base_dir: Option<PathBuf>) -> PyResult<Self> {
        let json = to_json(policy)?;
        let base = base_dir.unwrap_or_else(|| PathBuf::from("."));
        amparo::Policy::from_json(&json, &base).map(PyPolicy).map_err(map_error)
    }

    /// Pickling (Spark ships a policy to its executors this way): the text
    /// and the folder its codes tables are read from, read again on unpickling.
    fn __reduce__<'py>(&self, py: Python<'py>) -> PyResult<(Bound<'py, PyAny>, (String, PathBuf))> {
        let from_toml = py.get_type::<PyPolicy>().getattr("from_toml")?;
        Ok((from_toml, (self.0.to_toml().to_owned(), self.0.base_dir.clone())))
    }

    /// The input columns the table is built from (dimensions, count or weight, magnitude, record keys).
    #[getter]
    fn input_columns(&self) -> Vec<String> {
        self.0.input_columns()
    }

    /// Check columns that split an input into independent tables (see amparo.spark.protect_groups).
    fn check_group_columns(&self, by: Vec<String>, input_columns: Vec<String>) -> PyResult<()> {
        self.0.check_group_columns(&by, &input_columns).map_err(map_error)
    }

    /// The policy as TOML text (what its SHA-256 hashes).
    fn to_toml(&self) -> String {
        self.0.to_toml().to_owned()
    }

    /// The policy as a dict of sections and keys.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let json = self.0.to_json().map_err(map_error)?;
        py.import("json")?.call_method1("loads", (json,))
    }

    /// This policy with sections merged in: ``with_overrides(primary={"threshold": 3})``.
    #[pyo3(signature = (**sections))]
    fn with_overrides(&self, sections: Option<&Bound<'_, pyo3::types::PyDict>>) -> PyResult<Self> {
        match sections {
            None => Ok(PyPolicy(self.0.clone())),
            Some(s) => self.0.with_overrides(&to_json(s.as_any())?).map(PyPolicy).map_err(map_error),
        }
    }

    /// This policy with sections merged in, given as keyword arguments of a
    /// call whose own keywords are ``call_keywords``: a key that is neither
    /// is named with the nearest of both.
    fn with_call_overrides(&self, call_keywords: Vec<String>, sections: &Bound<'_, PyDict>) -> PyResult<Self> {
        let keywords: Vec<&str> = call_keywords.iter().map(String::as_str).collect();
        self.0.with_call_overrides(&to_json(sections.as_any())?, &keywords).map(PyPolicy).map_err(map_error)
    }

    /// This policy protecting by one method (``rounding``, ``perturbation``
    /// or ``noise``) with ``options`` as that section's keys.
    #[pyo3(signature = (method, /, **options))]
    fn for_method(&self, method: &str, options: Option<&Bound<'_, pyo3::types::PyDict>>) -> PyResult<Self> {
        let method: amparo::policy::Method = method.parse().map_err(map_error)?;
        let json = match options {
            None => "{}".to_owned(),
            Some(o) => to_json(o.as_any())?,
        };
        self.0.for_method(method, &json).map(PyPolicy).map_err(map_error)
    }

    /// ``for_method`` for a call whose own keywords are ``call_keywords``:
    /// a key near one of them is named as it.
    fn for_method_call(&self, method: &str, call_keywords: Vec<String>, options: &Bound<'_, PyDict>) -> PyResult<Self> {
        let method: amparo::policy::Method = method.parse().map_err(map_error)?;
        let keywords: Vec<&str> = call_keywords.iter().map(String::as_str).collect();
        self.0.for_method_call(method, &to_json(options.as_any())?, &keywords).map(PyPolicy).map_err(map_error)
    }

    /// SHA-256 of the policy text and the codes tables it reads.
    #[getter]
    fn sha256(&self) -> String {
        self.0.sha256.clone()
    }

    /// The table name shown in reports.
    #[getter]
    fn name(&self) -> String {
        self.0.table_name().to_owned()
    }

    /// The dimension names, in output column order.
    #[getter]
    fn dimensions(&self) -> Vec<String> {
        self.0.dimensions.iter().map(|d| d.name.clone()).collect()
    }

    fn __repr__(&self) -> String {
        format!("Policy(name={:?}, dimensions={:?}, sha256={:?})", self.0.table_name(), self.dimensions(), &self.0.sha256[..12])
    }
}

/// A core function that reads the whole input and gives one table.
type Reads<T> = fn(&amparo::Policy, &mut dyn amparo::arrow::array::RecordBatchReader) -> amparo::Fallible<T>;

fn one_table(batch: amparo::arrow::array::RecordBatch) -> PyResult<PyTable> {
    let schema = batch.schema();
    Ok(PyTable::try_new(vec![batch], schema)?)
}

/// Run a protection (`protect`, `protect_partials`) on `data`: (table, summary text).
fn run_protection(
    py: Python<'_>,
    run: Reads<amparo::Protected>,
    data: Input,
    policy: &PyPolicy,
    keep_original: bool,
    progress: Option<Py<PyAny>>,
) -> PyResult<(PyTable, String)> {
    let mut reader = data.into_reader()?;
    let options = amparo::OutputOptions { keep_original };
    let (batch, summary) = detached(py, progress, || run(&policy.0, &mut *reader).map(|r| (r.to_record_batch(options), r.summary().to_string())))?;
    Ok((one_table(batch)?, summary))
}

/// Run an aggregation (`aggregate_partials`, `merge_partials`) on `data`.
fn run_aggregation(py: Python<'_>, run: Reads<amparo::arrow::array::RecordBatch>, data: Input, policy: &PyPolicy) -> PyResult<PyTable> {
    let mut reader = data.into_reader()?;
    one_table(detached(py, None, || run(&policy.0, &mut *reader))?)
}

/// Protect a table: returns (table, summary text).
#[pyfunction]
#[pyo3(signature = (data, policy, keep_original = false, progress = None))]
fn protect(py: Python<'_>, data: Input, policy: &PyPolicy, keep_original: bool, progress: Option<Py<PyAny>>) -> PyResult<(PyTable, String)> {
    run_protection(py, amparo::protect, data, policy, keep_original, progress)
}

/// The per-cell sums of part of the input (a Spark partition), checked row by row.
#[pyfunction]
fn aggregate_partials(py: Python<'_>, data: Input, policy: &PyPolicy) -> PyResult<PyTable> {
    run_aggregation(py, amparo::aggregate_partials, data, policy)
}

/// Write synthetic microdata of children on the move (see `amparo synth`); returns the records written.
#[pyfunction]
#[pyo3(signature = (path, records, mode, seed, countries, years, first_year, overwrite = false))]
#[allow(clippy::too_many_arguments)]
fn write_synth(
    py: Python<'_>,
    path: PathBuf,
    records: u64,
    mode: &str,
    seed: u64,
    countries: Vec<String>,
    years: u32,
    first_year: i32,
    overwrite: bool,
) -> PyResult<u64> {
    let mode = mode.parse().map_err(map_error)?;
    let options = amparo::synth::SynthOptions { records, mode, countries, years, first_year, seed };
    detached(py, None, || amparo::synth::write_synth(options, &path, overwrite))
}

/// Synthetic microdata in one table (`synth()` without a path).
#[pyfunction]
fn synth_table(py: Python<'_>, records: u64, mode: &str, seed: u64, countries: Vec<String>, years: u32, first_year: i32) -> PyResult<PyTable> {
    let mode = mode.parse().map_err(map_error)?;
    let options = amparo::synth::SynthOptions { records, mode, countries, years, first_year, seed };
    one_table(detached(py, None, || amparo::synth::synth_table(options))?)
}

/// The publication of protected tables (one, or the linked tables in the
/// policy's order), each a path or a stream given with the metadata protect gave it; written
/// to `path` when given. Returns the publication tables.
#[pyfunction]
#[pyo3(signature = (tables, metadata, policy, path = None, layout = None, format = None, overwrite = false))]
#[allow(clippy::too_many_arguments)]
fn publish(
    py: Python<'_>,
    tables: Vec<Input>,
    metadata: Vec<std::collections::HashMap<String, String>>,
    policy: &PyPolicy,
    path: Option<PathBuf>,
    layout: Option<String>,
    format: Option<String>,
    overwrite: bool,
) -> PyResult<Vec<PyTable>> {
    // A path is read by the core with its own metadata; a stream comes with the metadata given.
    let readers = tables
        .into_iter()
        .zip(metadata)
        .map(|(t, m)| match t {
            Input::Path(file) => amparo::publish::open_protected(&file).map_err(map_error),
            Input::Stream(stream) => Ok((stream.into_reader()?, m)),
        })
        .collect::<PyResult<Vec<_>>>()?;
    let batches = detached(py, None, || {
        let options = amparo::publish::PublishOptions {
            format: format.as_deref().map(amparo::publish::PublicationFormat::from_name).transpose()?,
            layout: layout.as_deref().map(amparo::policy::Layout::from_name).transpose()?,
            overwrite,
        };
        let publications = amparo::publish::publish_streams(&policy.0, readers, path.as_deref(), &options)?;
        Ok(publications.iter().map(|p| p.to_record_batch()).collect::<Vec<_>>())
    })?;
    batches.into_iter().map(one_table).collect()
}

/// The schema of what protect gives for this policy, before any data is read.
#[pyfunction]
#[pyo3(signature = (policy, keep_original = false))]
fn output_schema(policy: &PyPolicy, keep_original: bool) -> pyo3_arrow::PySchema {
    pyo3_arrow::PySchema::new(std::sync::Arc::new(amparo::output_schema(&policy.0, amparo::OutputOptions { keep_original })))
}

/// Merge partial aggregates into one (merging is associative).
#[pyfunction]
fn merge_partials(py: Python<'_>, data: Input, policy: &PyPolicy) -> PyResult<PyTable> {
    run_aggregation(py, amparo::merge_partials, data, policy)
}

/// Protect a table given as partial aggregates of its input: returns (table, summary text).
#[pyfunction]
#[pyo3(signature = (data, policy, keep_original = false, progress = None))]
fn protect_partials(py: Python<'_>, data: Input, policy: &PyPolicy, keep_original: bool, progress: Option<Py<PyAny>>) -> PyResult<(PyTable, String)> {
    run_protection(py, amparo::protect_partials, data, policy, keep_original, progress)
}

/// Protect the linked tables a policy's [tables] lists: returns [(name, table)].
#[pyfunction]
#[pyo3(signature = (data, policy, keep_original = false, progress = None))]
fn protect_tables(
    py: Python<'_>,
    data: Input,
    policy: &PyPolicy,
    keep_original: bool,
    progress: Option<Py<PyAny>>,
) -> PyResult<Vec<(String, PyTable)>> {
    let mut reader = data.into_reader()?;
    let options = amparo::OutputOptions { keep_original };
    let batches = detached(py, progress, || {
        amparo::protect_tables(&policy.0, &mut *reader)
            .map(|tables| tables.into_iter().map(|(name, r)| (name, r.to_record_batch(options))).collect::<Vec<_>>())
    })?;
    batches
        .into_iter()
        .map(|(name, batch)| {
            let schema = batch.schema();
            Ok((name, PyTable::try_new(vec![batch], schema)?))
        })
        .collect()
}

/// Check a table against a policy without protecting it; returns a description.
#[pyfunction]
#[pyo3(signature = (data, policy, progress = None))]
fn validate(py: Python<'_>, data: Input, policy: &PyPolicy, progress: Option<Py<PyAny>>) -> PyResult<String> {
    let mut reader = data.into_reader()?;
    detached(py, progress, || amparo::validate(&policy.0, &mut *reader).map(|v| v.to_string()))
}

/// Read a CSV, Parquet or Arrow IPC file with the core's reader.
/// What a protection cost, from a protected table's metadata (`amparo.*`
/// keys): (the text, the JSON, [(name, table)] as `Summary::tables` gives them).
#[pyfunction]
#[pyo3(signature = (metadata, lang = None))]
fn summary(metadata: std::collections::HashMap<String, String>, lang: Option<String>) -> PyResult<(String, String, Vec<(String, PyTable)>)> {
    let lang = amparo::i18n::Lang::resolve(lang.as_deref()).map_err(map_error)?;
    let summary = amparo::Summary::from_metadata(&metadata).map_err(map_error)?;
    let tables = summary.tables().into_iter().map(|(name, batch)| Ok((name.to_owned(), one_table(batch)?))).collect::<PyResult<_>>()?;
    Ok((summary.render(lang), summary.to_json(), tables))
}

/// The metadata a table's file carries (its schema's, or a CSV's
/// `.meta.json`), without reading its rows.
#[pyfunction]
fn file_metadata(py: Python<'_>, path: PathBuf) -> PyResult<std::collections::HashMap<String, String>> {
    py.detach(|| amparo::publish::open_protected(&path).map(|(_, metadata)| metadata)).map_err(map_error)
}

#[pyfunction]
fn read_table(py: Python<'_>, path: PathBuf) -> PyResult<PyTable> {
    let batch = py.detach(|| amparo::publish::read_table_with_metadata(&path)).map_err(map_error)?;
    let schema = batch.schema();
    Ok(PyTable::try_new(vec![batch], schema)?)
}

/// Run the `amparo` command line (`args`: the program's name, then its
/// arguments) as the binary does; returns its exit code. The wheel's
/// `amparo` command and `python -m amparo` call it.
#[pyfunction]
fn run_cli(py: Python<'_>, args: Vec<std::ffi::OsString>) -> u8 {
    py.detach(|| amparo_cli::main_with_args(args))
}

/// Write a table with the core's writer (format by extension; never over an input).
#[pyfunction]
fn write_table(py: Python<'_>, data: PyTable, path: PathBuf, metadata: std::collections::HashMap<String, String>) -> PyResult<()> {
    let (batches, schema) = data.into_inner();
    let kept: Vec<(String, String)> = metadata.into_iter().collect();
    py.detach(|| -> amparo::Fallible<()> {
        let batch = amparo::arrow::select::concat::concat_batches(&schema, &batches)
            .map_err(|e| amparo::Error::new(amparo::ErrorKind::Data, e.to_string()))?;
        amparo::io::write_table_keeping(&batch, &path, &kept)
    })
    .map_err(map_error)
}

/// Audit published tables (one, or the linked tables in the policy's order); returns the report.
#[pyfunction]
#[pyo3(signature = (data, names, policy, value_column = None, hidden_symbols = None, lang = None, progress = None))]
#[allow(clippy::too_many_arguments)]
fn audit_report(
    py: Python<'_>,
    data: Vec<PyRecordBatchReader>,
    names: Vec<String>,
    policy: &PyPolicy,
    value_column: Option<String>,
    hidden_symbols: Option<Vec<String>>,
    lang: Option<String>,
    progress: Option<Py<PyAny>>,
) -> PyResult<PyAuditReport> {
    let readers = data.into_iter().map(|d| d.into_reader()).collect::<PyResult<Vec<_>>>()?;
    detached(py, progress, || {
        let lang = amparo::i18n::Lang::resolve(lang.as_deref())?;
        amparo::audit::report::audit_streams(&policy.0, readers, names, value_column.as_deref(), hidden_symbols.as_deref(), lang)
    })
    .map(PyAuditReport)
}

/// An audit report, rendered on demand in any of `amparo audit`'s formats.
#[pyclass(name = "AuditReportCore", module = "amparo", frozen)]
struct PyAuditReport(amparo::audit::report::AuditReport);

#[pymethods]
impl PyAuditReport {
    /// The report as `amparo audit --format <format>` writes it: text, json, junit, github or html.
    fn render(&self, format: &str) -> PyResult<String> {
        let format: amparo::audit::report::ReportFormat = format.parse().map_err(map_error)?;
        Ok(self.0.render(format))
    }

    /// The Markdown summary (`amparo audit --summary`).
    fn to_markdown(&self) -> String {
        self.0.to_markdown()
    }
}

/// Why one cell of published tables is hidden or flagged (`amparo explain`).
#[pyfunction]
#[pyo3(signature = (data, names, policy, cell, value_column = None, hidden_symbols = None, lang = None))]
#[allow(clippy::too_many_arguments)]
fn explain(
    py: Python<'_>,
    data: Vec<PyRecordBatchReader>,
    names: Vec<String>,
    policy: &PyPolicy,
    cell: CellArg,
    value_column: Option<String>,
    hidden_symbols: Option<Vec<String>>,
    lang: Option<String>,
) -> PyResult<String> {
    let readers = data.into_iter().map(|d| d.into_reader()).collect::<PyResult<Vec<_>>>()?;
    detached(py, None, || {
        let lang = amparo::i18n::Lang::resolve(lang.as_deref())?;
        let cell = match &cell {
            CellArg::Text(text) => amparo::audit::explain::Cell::Text(text),
            CellArg::Pairs(pairs) => amparo::audit::explain::Cell::Pairs(pairs),
        };
        amparo::audit::explain::explain_streams(&policy.0, readers, names, &cell, value_column.as_deref(), hidden_symbols.as_deref(), lang)
    })
}

/// The cell to explain: "district=D1,sex=F", or (dimension, code) pairs.
#[derive(FromPyObject)]
enum CellArg {
    Text(String),
    Pairs(Vec<(String, String)>),
}

/// Append a column of record keys for the cell key method (uniform in [0, 1)).
#[pyfunction]
#[pyo3(signature = (data, column = "record_key".to_owned(), seed = None), text_signature = "(data, column='record_key', seed=None)")]
fn add_record_keys(py: Python<'_>, data: PyRecordBatchReader, column: String, seed: Option<u64>) -> PyResult<PyTable> {
    let reader = data.into_reader()?;
    let (batches, schema) = py
        .detach(|| -> amparo::Fallible<_> {
            let (keyed, _) = amparo::cellkey::add_record_keys(reader, &column, seed)?;
            let schema = keyed.schema();
            let batches = keyed.collect::<Result<Vec<_>, _>>().map_err(|e| amparo::io::arrow_read_error(e, "the input"))?;
            Ok((batches, schema))
        })
        .map_err(map_error)?;
    Ok(PyTable::try_new(batches, schema)?)
}

/// Copy a microdata file with a new column of record keys, batch by batch, to a new file.
#[pyfunction]
#[pyo3(signature = (input, output, column = "record_key".to_owned(), seed = None, overwrite = false), text_signature = "(input, output, column='record_key', seed=None, overwrite=False)")]
fn add_record_keys_to_file(py: Python<'_>, input: PathBuf, output: PathBuf, column: String, seed: Option<u64>, overwrite: bool) -> PyResult<String> {
    py.detach(|| amparo::cellkey::add_record_keys_to_file(&input, &output, &column, seed, overwrite)).map(|r| r.describe()).map_err(map_error)
}

/// The policy file's JSON Schema.
/// A `[dimensions.<name>]` section, as JSON, from nested codes given as JSON.
#[pyfunction]
fn hierarchy_from_tree(tree_json: &str) -> PyResult<String> {
    amparo::policy::hierarchy_from_tree(tree_json).map_err(map_error)
}

/// A `[dimensions.<name>]` section, as JSON, from a codes table with a parent column.
#[pyfunction]
#[pyo3(signature = (codes, code, parent, total = None))]
fn hierarchy_from_table(codes: PyRecordBatchReader, code: &str, parent: &str, total: Option<&str>) -> PyResult<String> {
    let mut reader = codes.into_reader()?;
    amparo::policy::hierarchy_from_table(&mut *reader, code, parent, total).map_err(map_error)
}

/// A `[dimensions.<name>]` section, as JSON, for codes that nest by prefix.
#[pyfunction]
#[pyo3(signature = (lengths, total = None))]
fn hierarchy_from_code_lengths(lengths: Vec<i64>, total: Option<&str>) -> PyResult<String> {
    amparo::policy::hierarchy_from_code_lengths(&lengths, total).map_err(map_error)
}

/// The progress bar's line for one report.
#[pyfunction]
#[pyo3(signature = (stage, done, total = None))]
fn progress_line(stage: &str, done: u64, total: Option<u64>) -> String {
    amparo::progress::line(stage, done, total)
}

#[pyfunction]
fn policy_json_schema() -> String {
    amparo::policy::json_schema()
}

#[pymodule]
fn _amparo(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("__version__", amparo::ENGINE_VERSION)?;
    for ((name, _, _), class) in ERRORS.iter().zip(error_types(py)?) {
        m.add(*name, class.clone_ref(py))?;
    }
    m.add_class::<PyPolicy>()?;
    m.add_function(wrap_pyfunction!(protect, m)?)?;
    m.add_function(wrap_pyfunction!(validate, m)?)?;
    m.add_function(wrap_pyfunction!(protect_tables, m)?)?;
    m.add_function(wrap_pyfunction!(audit_report, m)?)?;
    m.add_function(wrap_pyfunction!(explain, m)?)?;
    m.add_class::<PyAuditReport>()?;
    m.add_function(wrap_pyfunction!(read_table, m)?)?;
    m.add_function(wrap_pyfunction!(summary, m)?)?;
    m.add_function(wrap_pyfunction!(file_metadata, m)?)?;
    m.add_function(wrap_pyfunction!(synth_table, m)?)?;
    m.add_function(wrap_pyfunction!(aggregate_partials, m)?)?;
    m.add_function(wrap_pyfunction!(merge_partials, m)?)?;
    m.add_function(wrap_pyfunction!(output_schema, m)?)?;
    m.add_function(wrap_pyfunction!(write_synth, m)?)?;
    m.add_function(wrap_pyfunction!(publish, m)?)?;
    m.add_function(wrap_pyfunction!(protect_partials, m)?)?;
    m.add_function(wrap_pyfunction!(write_table, m)?)?;
    m.add_function(wrap_pyfunction!(run_cli, m)?)?;
    m.add_function(wrap_pyfunction!(policy_json_schema, m)?)?;
    m.add_function(wrap_pyfunction!(hierarchy_from_tree, m)?)?;
    m.add_function(wrap_pyfunction!(hierarchy_from_table, m)?)?;
    m.add_function(wrap_pyfunction!(hierarchy_from_code_lengths, m)?)?;
    m.add_function(wrap_pyfunction!(progress_line, m)?)?;
    m.add_function(wrap_pyfunction!(add_record_keys, m)?)?;
    m.add_function(wrap_pyfunction!(add_record_keys_to_file, m)?)?;
    Ok(())
}
