//! Reading and writing tables: CSV, Parquet and Arrow IPC (file and stream).
//!
//! Used by the CLI and by the R package (so R users need no arrow package).
//! CSV is read with every column as text: codes such as `05001` keep their
//! leading zeros, and counts are parsed (and checked) by the cube builder.
//! Outputs are written to a temporary file beside the target and renamed into
//! place, so a failed run never leaves half a file, and a path that is also
//! an input is refused.

use std::fs::File;
use std::io::{BufReader, Read, Seek};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::{RecordBatch, RecordBatchIterator, RecordBatchReader};
use arrow_schema::{ArrowError, DataType, Field, Schema};

use crate::error::{Error, Fallible};
use crate::{err, fail};

mod ahead;
mod write;

pub use ahead::{read_ahead, with_batches_ahead};
pub use write::*;

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
        ArrowError::IoError(_, e) => io_error(e, source),
        ArrowError::CsvError(m) if m.contains("invalid UTF-8") => {
            // arrow-csv counts lines from 1 with the header: row = line - 1.
            let line = m.split("line ").nth(1).and_then(|t| t.split(|c: char| !c.is_ascii_digit()).next()).and_then(|n| n.parse::<u64>().ok());
            let place = line.map_or_else(String::new, |l| format!(" at row {} (line {l})", l.saturating_sub(1)));
            err!(
                Data,
                "reading {source}: the file is not UTF-8 text{place}; it seems saved in another encoding (Latin-1 or Windows-1252, as some spreadsheets do): save it as CSV UTF-8"
            )
        }
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
/// them) as one stream, file after file in name order. The file is decoded
/// on a thread of its own, a few batches ahead of the caller.
pub fn read_table(path: &Path) -> Fallible<BatchReader> {
    Ok(read_ahead(open_table(path)?))
}

fn open_table(path: &Path) -> Fallible<BatchReader> {
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
            check_unique_columns(&reader.schema(), &source)?;
            Ok(Box::new(reader))
        }
        Format::ArrowStream => {
            let mut file = file;
            check_ipc_stream_framing(&mut file, &source)?;
            let reader = arrow_ipc::reader::StreamReader::try_new(BufReader::new(file), None)
                .map_err(|e| err!(Data, "{source} is not a readable Arrow IPC stream: {e}"))?;
            check_unique_columns(&reader.schema(), &source)?;
            Ok(Box::new(reader))
        }
    }
}

type ParquetReader = parquet::arrow::arrow_reader::ParquetRecordBatchReader;

/// Refuse a table with two columns of one name (as a CSV with them is):
/// which of them is the dimension, or the count, would be a guess.
fn check_unique_columns(schema: &Schema, source: &str) -> Fallible<()> {
    let mut seen = std::collections::HashSet::new();
    for field in schema.fields() {
        if !seen.insert(field.name()) {
            fail!(Schema, "{source} has two columns named `{}`; give every column its own name", field.name());
        }
    }
    Ok(())
}

/// Walk an Arrow IPC stream's message headers before reading it: every
/// message must fit in what is left of the file. The reader allocates a
/// message's declared size before reading it, so a short file declaring a
/// 2 GB message would take 2 GB of memory; here it is refused instead.
fn check_ipc_stream_framing(file: &mut File, source: &str) -> Fallible<()> {
    let size = file.metadata().map_err(|e| err!(Io, "cannot read {source}: {e}"))?.len();
    let broken = |what: String| err!(Data, "{source} is not a readable Arrow IPC stream: {what}");
    let mut at = 0u64;
    let mut word = [0u8; 4];
    let mut read_word = |file: &mut File, at: &mut u64| -> Option<u32> {
        file.read_exact(&mut word).ok()?;
        *at += 4;
        Some(u32::from_le_bytes(word))
    };
    loop {
        let Some(mut length) = read_word(file, &mut at) else { break };
        if length == 0xFFFF_FFFF {
            let Some(l) = read_word(file, &mut at) else { return Err(broken("it ends inside a message header".into())) };
            length = l;
        }
        if length == 0 {
            break;
        }
        if u64::from(length) > size - at {
            return Err(broken(format!("a message declares {length} bytes of metadata at byte {at}, but the file has only {} left", size - at)));
        }
        let mut meta = vec![0u8; length as usize];
        file.read_exact(&mut meta).map_err(|e| broken(e.to_string()))?;
        at += u64::from(length);
        let message = arrow_ipc::root_as_message(&meta).map_err(|e| broken(format!("a message header at byte {at} cannot be read: {e}")))?;
        let body = u64::try_from(message.bodyLength()).map_err(|_| broken("a message declares a negative body length".into()))?;
        if body > size - at {
            return Err(broken(format!("a message declares a body of {body} bytes at byte {at}, but the file has only {} left", size - at)));
        }
        at += body;
        file.seek(std::io::SeekFrom::Start(at)).map_err(|e| broken(e.to_string()))?;
    }
    file.rewind().map_err(|e| err!(Io, "cannot read {source}: {e}"))?;
    Ok(())
}

/// A Parquet file's batches, and its schema with the file's key/value
/// metadata (where a protected table records its policy hash), which the
/// reader's own schema drops.
fn open_parquet(file: File, source: &str) -> Fallible<(ParquetReader, Arc<Schema>)> {
    let builder = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(|e| err!(Data, "{source} is not a readable Parquet file: {e}"))?;
    let metadata = builder.schema().metadata().clone();
    check_unique_columns(builder.schema(), source)?;
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

/// The longest line a CSV may have (a header of a wide table with thousands
/// of codes is a few hundred kilobytes): past it, the file is not the table
/// it claims to be (a binary file, or one without line ends).
pub const MAX_CSV_LINE_BYTES: usize = 16 << 20;

/// A CSV as it is read, checked on the way: a quote that is never closed
/// (which would swallow the rest of the file into one field) and a line
/// longer than [`MAX_CSV_LINE_BYTES`] are errors naming the line.
struct CsvGuard<R> {
    inner: R,
    source: String,
    in_quotes: bool,
    line: u64,
    quote_line: u64,
    line_bytes: usize,
}

impl<R: Read> CsvGuard<R> {
    fn new(inner: R, source: &str) -> Self {
        CsvGuard { inner, source: source.to_owned(), in_quotes: false, line: 1, quote_line: 0, line_bytes: 0 }
    }

    fn fail(&self, message: String) -> std::io::Error {
        std::io::Error::new(std::io::ErrorKind::InvalidData, err!(Data, "{}: {message}", self.source))
    }
}

impl<R: Read> Read for CsvGuard<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 && self.in_quotes {
            return Err(self.fail(format!(
                "the quote opened on line {} is never closed, so the rest of the file would be read as one field; close the quote (a quoted field ends with \") or remove it",
                self.quote_line
            )));
        }
        for &b in &buf[..n] {
            match b {
                b'"' => {
                    if !self.in_quotes {
                        self.quote_line = self.line;
                    }
                    self.in_quotes = !self.in_quotes;
                }
                b'\n' => {
                    self.line += 1;
                    self.line_bytes = 0;
                }
                _ => {}
            }
            self.line_bytes += 1;
            if self.line_bytes > MAX_CSV_LINE_BYTES {
                return Err(self.fail(format!(
                    "line {} is longer than {} MB without a line end; this is not a CSV table (check the file, or its line ends)",
                    self.line,
                    MAX_CSV_LINE_BYTES >> 20
                )));
            }
        }
        Ok(n)
    }
}

fn read_csv(mut file: File, source: &str) -> Fallible<BatchReader> {
    // The header line only (to its first line end outside quotes), to learn
    // the column names and the delimiter.
    let mut first = Vec::new();
    let mut guard = CsvGuard::new(BufReader::new(&mut file), source);
    let mut byte = [0u8; 1];
    let mut quoted_newline = false;
    loop {
        let in_quotes = guard.in_quotes;
        match guard.read(&mut byte) {
            Ok(0) => break,
            Ok(_) if byte[0] == b'\n' && !in_quotes => break,
            Ok(_) => {
                quoted_newline |= byte[0] == b'\n';
                first.push(byte[0]);
            }
            Err(e) => return Err(io_error(e, source)),
        }
    }
    if quoted_newline {
        fail!(Data, "{source}: the header has a line break inside a quoted column name; put every column name on the first line");
    }
    let line = String::from_utf8(first).map_err(|_| {
        err!(Data, "{source}: line 1 (the header) is not UTF-8 text; the file seems saved in another encoding (Latin-1 or Windows-1252, as some spreadsheets do): save it as CSV UTF-8")
    })?;
    // Spreadsheets set to Spanish or Portuguese locales write `;`-separated
    // CSV; some exports are tab-separated.
    let delimiter = if line.contains(',') {
        b','
    } else if line.contains(';') {
        b';'
    } else if line.contains('\t') {
        b'\t'
    } else {
        b','
    };
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
        .build(BufReader::new(CsvGuard::new(file, source)))
        .map_err(|e| arrow_read_error(e, source))?;
    Ok(Box::new(reader))
}

/// An I/O error met while reading, as the engine's error (the engine's own
/// error when a checking reader raised it).
fn io_error(e: std::io::Error, source: &str) -> Error {
    match e.get_ref().and_then(|inner| inner.downcast_ref::<Error>()) {
        Some(inner) => inner.clone(),
        None => err!(Io, "reading {source}: {e}"),
    }
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


/// The most bytes read from a metadata file (`.meta.json`).
pub const MAX_METADATA_BYTES: u64 = 1 << 20;

/// A text file read whole, refused past `limit` bytes (a file that never
/// ends, such as `/dev/zero`, stops with an error, not an allocation).
pub fn read_text_limited(path: &Path, limit: u64, what: &str) -> Fallible<String> {
    let file = File::open(path).map_err(|e| err!(Io, "cannot read the {what} {}: {e}", path.display()))?;
    let mut bytes = Vec::new();
    file.take(limit + 1).read_to_end(&mut bytes).map_err(|e| err!(Io, "cannot read the {what} {}: {e}", path.display()))?;
    if bytes.len() as u64 > limit {
        fail!(Io, "the {what} {} is larger than {} MB, more than such a file ever is; check the path", path.display(), limit >> 20);
    }
    String::from_utf8(bytes).map_err(|_| err!(Data, "the {what} {} is not UTF-8 text; save it as UTF-8", path.display()))
}

/// A reader over batches already in memory (for frontends that hold a whole table).
pub fn batches_reader(schema: Arc<Schema>, batches: Vec<RecordBatch>) -> BatchReader {
    Box::new(RecordBatchIterator::new(batches.into_iter().map(Ok), schema))
}
