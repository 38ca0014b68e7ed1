//! Reading and writing tables: CSV, Parquet and Arrow IPC (file and stream).
//!
//! Used by the CLI and by the R package (so R users need no arrow package).
//! CSV is read with every column as text: codes such as `05001` keep their
//! leading zeros, and counts are parsed (and checked) by the cube builder.
//! Outputs are written to a temporary file beside the target and renamed into
//! place, so a failed run never leaves half a file, and a path that is also
//! an input is refused.

use std::fs::File;
use std::io::{BufReader, Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::{RecordBatch, RecordBatchIterator, RecordBatchReader};
use arrow_schema::{ArrowError, DataType, Field, Schema};

use crate::error::{Error, Fallible};
use crate::output::Metadata;
use crate::{err, fail};

/// Rows per record batch when reading files.
pub const BATCH_ROWS: usize = 65_536;

/// File formats, chosen by extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Parquet,
    /// Arrow IPC file (Feather v2).
    Arrow,
    /// Arrow IPC stream.
    ArrowStream,
}

impl Format {
    pub fn from_path(path: &Path) -> Fallible<Format> {
        let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).unwrap_or_default();
        Ok(match ext.as_str() {
            "csv" => Format::Csv,
            "parquet" | "pq" => Format::Parquet,
            "arrow" | "feather" | "ipc" => Format::Arrow,
            "arrows" => Format::ArrowStream,
            _ => fail!(
                Io,
                "cannot tell the format of {} from its extension; use .csv, .parquet, .arrow (Arrow IPC file / Feather) or .arrows (Arrow IPC stream)",
                path.display()
            ),
        })
    }
}

/// A stream of record batches from a file.
pub type BatchReader = Box<dyn RecordBatchReader + Send>;

/// Map an Arrow error met while reading input to an engine error.
pub fn arrow_read_error(e: ArrowError, source: &str) -> Error {
    match e {
        ArrowError::IoError(m, _) => err!(Io, "reading {source}: {m}"),
        ArrowError::CsvError(m) => err!(Data, "reading {source}: {m}; check that every row has as many fields as the header"),
        // The engine's own error, raised inside a reader (a folder's odd file).
        ArrowError::ExternalError(inner) => match inner.downcast::<Error>() {
            Ok(e) => *e,
            Err(other) => err!(Data, "reading {source}: {other}"),
        },
        other => err!(Data, "reading {source}: {other}"),
    }
}

/// Open a CSV, Parquet or Arrow IPC file as a stream of record batches; or a
/// folder of Parquet files (as Spark, DuckDB or a partitioned export write
/// them) as one stream, file after file in name order.
pub fn read_table(path: &Path) -> Fallible<BatchReader> {
    if path.is_dir() {
        return read_parquet_folder(path);
    }
    let format = Format::from_path(path)?;
    let file = File::open(path).map_err(|e| err!(Io, "cannot open input {}: {e}", path.display()))?;
    let source = path.display().to_string();
    match format {
        Format::Csv => read_csv(file, &source),
        Format::Parquet => {
            let (reader, schema) = open_parquet(file, &source)?;
            let batches = reader.map({
                let schema = schema.clone();
                move |b| b.and_then(|b| b.with_schema(schema.clone()))
            });
            Ok(Box::new(RecordBatchIterator::new(batches, schema)))
        }
        Format::Arrow => {
            let reader = arrow_ipc::reader::FileReader::try_new(BufReader::new(file), None)
                .map_err(|e| err!(Data, "{source} is not a readable Arrow IPC file: {e}"))?;
            Ok(Box::new(reader))
        }
        Format::ArrowStream => {
            let reader = arrow_ipc::reader::StreamReader::try_new(BufReader::new(file), None)
                .map_err(|e| err!(Data, "{source} is not a readable Arrow IPC stream: {e}"))?;
            Ok(Box::new(reader))
        }
    }
}

type ParquetReader = parquet::arrow::arrow_reader::ParquetRecordBatchReader;

/// A Parquet file's batches, and its schema with the file's key/value
/// metadata (where a protected table records its policy hash), which the
/// reader's own schema drops.
fn open_parquet(file: File, source: &str) -> Fallible<(ParquetReader, Arc<Schema>)> {
    let builder = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(|e| err!(Data, "{source} is not a readable Parquet file: {e}"))?;
    let metadata = builder.schema().metadata().clone();
    let reader = builder.with_batch_size(BATCH_ROWS).build().map_err(|e| err!(Data, "reading {source}: {e}"))?;
    let schema = Arc::new(reader.schema().as_ref().clone().with_metadata(metadata));
    Ok((reader, schema))
}

/// The Parquet files directly in `folder`, in name order. Files whose names
/// start with `_` or `.` are bookkeeping (Spark's `_SUCCESS`, checksums).
pub fn parquet_files(folder: &Path) -> Fallible<Vec<PathBuf>> {
    let entries = std::fs::read_dir(folder).map_err(|e| err!(Io, "cannot read the folder {}: {e}", folder.display()))?;
    let mut files = Vec::new();
    let mut subfolders = 0;
    for entry in entries {
        let path = entry.map_err(|e| err!(Io, "cannot read the folder {}: {e}", folder.display()))?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with('_') || name.starts_with('.') {
            continue;
        }
        if path.is_dir() {
            subfolders += 1;
        } else if matches!(Format::from_path(&path), Ok(Format::Parquet)) {
            files.push(path);
        }
    }
    if files.is_empty() {
        let why = if subfolders > 0 {
            " (only subfolders: a folder partitioned by column, as `country=MEX/`, keeps that column in the folder names; \
             write the data without partitionBy, or give one subfolder)"
        } else {
            ""
        };
        fail!(Io, "the folder {} has no .parquet files{why}; give a file, or a folder of Parquet files", folder.display());
    }
    files.sort();
    Ok(files)
}

/// A folder of Parquet files read as one table, a file at a time (memory is
/// one file's row group, whatever the number of files).
struct ParquetFolder {
    files: std::vec::IntoIter<PathBuf>,
    first: String,
    schema: Arc<Schema>,
    current: Option<ParquetReader>,
}

impl ParquetFolder {
    /// The next file's reader, after checking it has the first file's columns.
    fn open_next(&mut self) -> Option<Result<ParquetReader, ArrowError>> {
        let path = self.files.next()?;
        let source = path.display().to_string();
        let opened = File::open(&path).map_err(|e| err!(Io, "cannot open input {source}: {e}")).and_then(|f| open_parquet(f, &source));
        Some(match opened {
            Err(e) => Err(ArrowError::ExternalError(Box::new(e))),
            Ok((reader, schema)) => {
                let columns = |s: &Schema| s.fields().iter().map(|f| format!("{} ({})", f.name(), f.data_type())).collect::<Vec<_>>();
                if columns(schema.as_ref()) != columns(self.schema.as_ref()) {
                    Err(ArrowError::ExternalError(Box::new(err!(
                        Schema,
                        "{source} has the columns {}, but {} (the folder's first file) has {}; every file of a folder is part of one table \
                         and must have the same columns of the same types: rewrite the odd file, or move it out of the folder",
                        columns(schema.as_ref()).join(", "),
                        self.first,
                        columns(self.schema.as_ref()).join(", ")
                    ))))
                } else {
                    Ok(reader)
                }
            }
        })
    }
}

impl Iterator for ParquetFolder {
    type Item = Result<RecordBatch, ArrowError>;
    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(reader) = self.current.as_mut() {
                match reader.next() {
                    Some(batch) => return Some(batch.and_then(|b| b.with_schema(self.schema.clone()))),
                    None => self.current = None,
                }
            }
            match self.open_next()? {
                Ok(reader) => self.current = Some(reader),
                Err(e) => return Some(Err(e)),
            }
        }
    }
}

impl RecordBatchReader for ParquetFolder {
    fn schema(&self) -> Arc<Schema> {
        self.schema.clone()
    }
}

fn read_parquet_folder(folder: &Path) -> Fallible<BatchReader> {
    let files = parquet_files(folder)?;
    let first = files[0].display().to_string();
    let file = File::open(&files[0]).map_err(|e| err!(Io, "cannot open input {first}: {e}"))?;
    let (reader, schema) = open_parquet(file, &first)?;
    let mut rest = files.into_iter();
    rest.next();
    Ok(Box::new(ParquetFolder { files: rest, first, schema, current: Some(reader) }))
}

/// Header fields of a CSV, with a UTF-8 byte-order mark (as spreadsheet programs write) removed.
fn csv_header(first_line: &str, delimiter: u8) -> Fallible<Vec<String>> {
    let mut rdr = csv::ReaderBuilder::new().has_headers(false).delimiter(delimiter).from_reader(first_line.as_bytes());
    let mut record = csv::StringRecord::new();
    match rdr.read_record(&mut record) {
        Ok(true) => Ok(record.iter().map(|s| s.trim_start_matches('\u{feff}').trim().to_owned()).collect()),
        Ok(false) => fail!(Data, "the CSV input is empty: it has no header line"),
        Err(e) => fail!(Data, "the CSV header cannot be read: {e}"),
    }
}

fn read_csv(mut file: File, source: &str) -> Fallible<BatchReader> {
    let mut first = Vec::new();
    let mut byte = [0u8; 1];
    // The header line only, to learn column names and the delimiter.
    while file.read(&mut byte)? == 1 && byte[0] != b'\n' {
        first.push(byte[0]);
    }
    let line = String::from_utf8(first).map_err(|_| err!(Data, "{source}: the header is not UTF-8 text; save the CSV as UTF-8"))?;
    // Spreadsheets set to Spanish or Portuguese locales write `;`-separated CSV.
    let delimiter = if !line.contains(',') && line.contains(';') { b';' } else { b',' };
    let names = csv_header(&line, delimiter)?;
    if names.iter().all(String::is_empty) {
        fail!(Data, "{source} is empty: it has no header line");
    }
    let mut seen = std::collections::HashSet::new();
    for n in &names {
        if !seen.insert(n) {
            fail!(Schema, "{source} has two columns named `{n}`; give every column its own name");
        }
    }
    let schema = Arc::new(Schema::new(names.iter().map(|n| Field::new(n, DataType::Utf8, true)).collect::<Vec<_>>()));
    file.rewind()?;
    let reader = arrow_csv::ReaderBuilder::new(schema)
        .with_header(true)
        .with_delimiter(delimiter)
        .with_batch_size(BATCH_ROWS)
        .build(BufReader::new(file))
        .map_err(|e| arrow_read_error(e, source))?;
    Ok(Box::new(reader))
}

/// Read a codes table (CSV) into (code, parent) pairs; an empty parent is `None`.
pub fn read_code_parent_pairs(bytes: &[u8], code_col: &str, parent_col: &str, source: &str) -> Fallible<Vec<(String, Option<String>)>> {
    let text = std::str::from_utf8(bytes).map_err(|_| err!(Data, "{source} is not UTF-8 text; save it as UTF-8"))?;
    let first = text.lines().next().unwrap_or("");
    let delimiter = if !first.contains(',') && first.contains(';') { b';' } else { b',' };
    let header = csv_header(first, delimiter)?;
    let find = |name: &str| {
        header.iter().position(|h| h == name).ok_or_else(|| {
            err!(Schema, "codes file {source} has no column `{name}` (its columns: {}); name the column in the policy's codes_file", header.join(", "))
        })
    };
    let (ci, pi) = (find(code_col)?, find(parent_col)?);
    let mut rdr = csv::ReaderBuilder::new().delimiter(delimiter).from_reader(text.as_bytes());
    let mut pairs = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let rec = rec.map_err(|e| err!(Data, "codes file {source}, row {}: {e}", i + 1))?;
        let code = rec.get(ci).unwrap_or("").trim().to_owned();
        let parent = rec.get(pi).map(str::trim).filter(|p| !p.is_empty()).map(str::to_owned);
        if code.is_empty() {
            fail!(Hierarchy, "codes file {source}, row {}: column `{code_col}` is empty; every row needs a code", i + 1);
        }
        pairs.push((code, parent));
    }
    Ok(pairs)
}

/// The same file, by canonical path (the output may not exist yet: then its folder is canonicalised).
fn same_file(a: &Path, b: &Path) -> bool {
    let canon = |p: &Path| -> Option<PathBuf> {
        p.canonicalize().ok().or_else(|| {
            let parent = p.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
            Some(parent.canonicalize().ok()?.join(p.file_name()?))
        })
    };
    matches!((canon(a), canon(b)), (Some(x), Some(y)) if x == y)
}

/// Refuse an output path that is one of the inputs (or the policy): input files are never overwritten.
pub fn check_output_path(output: &Path, inputs: &[&Path]) -> Fallible<()> {
    let format = Format::from_path(output)?;
    let sidecar = metadata_sidecar(output);
    for input in inputs {
        if same_file(output, input) || (format == Format::Csv && same_file(&sidecar, input)) {
            fail!(Io, "the output path {} is also an input; Amparo never overwrites its input: write the output to another file", output.display());
        }
    }
    Ok(())
}

/// Where the metadata of a CSV output goes: `<output>.meta.json`.
pub fn metadata_sidecar(output: &Path) -> PathBuf {
    let mut side = output.as_os_str().to_owned();
    side.push(".meta.json");
    PathBuf::from(side)
}

/// Write `batch` to `path` (format by extension), atomically. A CSV output also
/// gets `<path>.meta.json` with the metadata, since CSV has no schema metadata.
pub fn write_table(batch: &RecordBatch, path: &Path, metadata: Option<&Metadata>) -> Fallible<()> {
    let mut one = RecordBatchIterator::new([Ok(batch.clone())], batch.schema());
    write_stream(&mut one, path, metadata)
}

/// Write every batch of `input` to `path` as it arrives (format by
/// extension), atomically: memory holds one batch, not the table.
pub fn write_stream(input: &mut dyn RecordBatchReader, path: &Path, metadata: Option<&Metadata>) -> Fallible<()> {
    let format = Format::from_path(path)?;
    let schema = input.schema();
    let write_error = |e: ArrowError| err!(Io, "writing {}: {e}", path.display());
    // A batch that fails to arrive is an input problem, not a write problem.
    let source = "the input";
    atomic_write(path, |file| match format {
        Format::Csv => {
            let mut w = arrow_csv::WriterBuilder::new().with_header(true).build(file);
            let mut rows = 0;
            for batch in input {
                let batch = batch.map_err(|e| arrow_read_error(e, source))?;
                rows += batch.num_rows();
                w.write(&batch).map_err(write_error)?;
            }
            if rows == 0 {
                // The header still names the columns of an empty table.
                w.write(&RecordBatch::new_empty(schema.clone())).map_err(write_error)?;
            }
            Ok(())
        }
        Format::Parquet => {
            let mut w = parquet::arrow::ArrowWriter::try_new(file, schema.clone(), None).map_err(|e| err!(Io, "writing {}: {e}", path.display()))?;
            for batch in input {
                w.write(&batch.map_err(|e| arrow_read_error(e, source))?).map_err(|e| err!(Io, "writing {}: {e}", path.display()))?;
            }
            w.close().map(|_| ()).map_err(|e| err!(Io, "writing {}: {e}", path.display()))
        }
        Format::Arrow => {
            let mut w = arrow_ipc::writer::FileWriter::try_new(file, &schema).map_err(write_error)?;
            for batch in input {
                w.write(&batch.map_err(|e| arrow_read_error(e, source))?).map_err(write_error)?;
            }
            w.finish().map_err(write_error)
        }
        Format::ArrowStream => {
            let mut w = arrow_ipc::writer::StreamWriter::try_new(file, &schema).map_err(write_error)?;
            for batch in input {
                w.write(&batch.map_err(|e| arrow_read_error(e, source))?).map_err(write_error)?;
            }
            w.finish().map_err(write_error)
        }
    })?;
    if let (Format::Csv, Some(m)) = (format, metadata) {
        atomic_write(&metadata_sidecar(path), |f| f.write_all(m.to_json().as_bytes()).map_err(Error::from))?;
    }
    Ok(())
}

/// Write through a temporary file in the same folder, then rename over `path`.
fn atomic_write(path: &Path, write: impl FnOnce(&mut File) -> Fallible<()>) -> Fallible<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().ok_or_else(|| err!(Io, "{} is not a file path", path.display()))?;
    let tmp = dir.join(format!(".{}.amparo-{}.tmp", name.to_string_lossy(), std::process::id()));
    let result = (|| {
        let mut file = File::create(&tmp).map_err(|e| err!(Io, "cannot create {}: {e}", tmp.display()))?;
        write(&mut file)?;
        file.flush()?;
        file.sync_all()?;
        std::fs::rename(&tmp, path).map_err(|e| err!(Io, "cannot move the output into place at {}: {e}", path.display()))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// A reader over batches already in memory (for frontends that hold a whole table).
pub fn batches_reader(schema: Arc<Schema>, batches: Vec<RecordBatch>) -> BatchReader {
    Box::new(RecordBatchIterator::new(batches.into_iter().map(Ok), schema))
}
