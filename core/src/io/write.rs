//! Writing tables atomically: to a temporary file beside the target, moved
//! into place only when complete (with its `.meta.json` first, holding the
//! data's SHA-256), and removed on errors and signals.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::{RecordBatch, RecordBatchIterator, RecordBatchReader};
use arrow_schema::ArrowError;

use super::{arrow_read_error, Format};
use crate::error::{Error, Fallible};
use crate::{err, fail};

/// The same file, by canonical path (the output may not exist yet: then its folder is canonicalised).
pub fn same_file(a: &Path, b: &Path) -> bool {
    let canon = |p: &Path| -> Option<PathBuf> {
        p.canonicalize().ok().or_else(|| {
            let parent = p.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
            Some(parent.canonicalize().ok()?.join(p.file_name()?))
        })
    };
    matches!((canon(a), canon(b)), (Some(x), Some(y)) if x == y)
}

/// The one rule for output paths, in every command and frontend: an output
/// is never a file the run reads (`reads`: the input, the policy, the codes
/// tables and ptable it names), and an existing file (or a CSV's
/// `.meta.json`) is replaced only when the caller says `overwrite`.
pub fn check_output_path(output: &Path, reads: &[&Path], overwrite: bool) -> Fallible<()> {
    let is_csv = Format::from_path(output).ok() == Some(Format::Csv);
    let sidecar = metadata_sidecar(output);
    for read in reads {
        if same_file(output, read) || (is_csv && same_file(&sidecar, read)) {
            fail!(
                Io,
                "the output path {} is also a file this run reads ({}); Amparo never overwrites what it reads: write the output to another file",
                output.display(),
                read.display()
            );
        }
    }
    if output.is_dir() {
        fail!(Io, "the output path {} is a folder; give a file name", output.display());
    }
    if !overwrite {
        for existing in [Some(output), is_csv.then_some(sidecar.as_path())].into_iter().flatten() {
            if existing.exists() {
                fail!(Io, "{} already exists; give --overwrite (overwrite = True in Python and R) to replace it, or write to a new file", existing.display());
            }
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
pub fn write_table(batch: &RecordBatch, path: &Path, metadata: Option<&dyn Sidecar>) -> Fallible<()> {
    let mut one = RecordBatchIterator::new([Ok(batch.clone())], batch.schema());
    write_stream(&mut one, path, metadata)
}

/// Write a table a frontend hands over with the run metadata it keeps
/// beside the table (a pandas frame's `attrs`, polars' registry, an R
/// attribute): the `amparo.*` pairs go into the file's schema (Parquet,
/// Arrow) or its `.meta.json` (CSV), as in the file `amparo protect` writes,
/// so publication and the audit can still tell how the table was made.
/// Other pairs (pandas' own schema notes) are not Amparo's to write.
pub fn write_table_keeping(batch: &RecordBatch, path: &Path, kept: &[(String, String)]) -> Fallible<()> {
    let mut metadata = batch.schema().metadata().clone();
    for (k, v) in kept.iter().filter(|(k, _)| k.starts_with(METADATA_PREFIX)) {
        metadata.insert(k.clone(), v.clone());
    }
    // A CSV's data hash belongs to the bytes it was read from, not to this
    // file, whether it came beside the table or in its schema (read_table).
    metadata.remove(DATA_SHA256_KEY);
    let schema = Arc::new(batch.schema().as_ref().clone().with_metadata(metadata));
    // try_new, not with_schema: the schema may have lost a key (the hash).
    let batch = RecordBatch::try_new(schema, batch.columns().to_vec()).map_err(|e| err!(Data, "{e}"))?;
    write_table(&batch, path, None)
}

/// What a run says about its output (`crate::output::Metadata`), as the
/// key-value pairs a CSV output's `.meta.json` holds.
pub trait Sidecar {
    fn pairs(&self) -> Vec<(String, String)>;
}

/// The prefix of every key Amparo writes into an output's metadata.
pub const METADATA_PREFIX: &str = "amparo.";

/// Key of the SHA-256 of a CSV output's bytes in its `.meta.json`: the data
/// file and its metadata are one unit, and a reader that finds a file
/// beside the metadata of another run (a run killed between the two, or two
/// runs writing one path) can tell.
pub const DATA_SHA256_KEY: &str = "amparo.data_sha256";

/// Write every batch of `input` to `path` as it arrives (format by
/// extension), atomically: memory holds one batch, not the table.
pub fn write_stream(input: &mut dyn RecordBatchReader, path: &Path, metadata: Option<&dyn Sidecar>) -> Fallible<()> {
    stage_stream(input, path, metadata)?.commit()
}

/// Write `batch` to a temporary file beside `path`, to be moved into place
/// by [`Staged::commit`] (several outputs of one run: all or none).
pub fn stage_table(batch: &RecordBatch, path: &Path, metadata: Option<&dyn Sidecar>) -> Fallible<Staged> {
    let mut one = RecordBatchIterator::new([Ok(batch.clone())], batch.schema());
    stage_stream(&mut one, path, metadata)
}

/// Write every batch of `input` to a temporary file beside `path`, as they
/// arrive, to be moved into place by [`Staged::commit`].
pub fn stage_stream(input: &mut dyn RecordBatchReader, path: &Path, metadata: Option<&dyn Sidecar>) -> Fallible<Staged> {
    let format = Format::from_path(path)?;
    let schema = input.schema();
    let write_error = |e: ArrowError| err!(Io, "writing {}: {e}", path.display());
    // A batch that fails to arrive is an input problem, not a write problem.
    let source = "the input";
    let staged = stage(path, |file| match format {
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
    // A CSV keeps its metadata beside it: the run's, or else the Amparo keys
    // the table carries in its schema (a protected table written again from
    // Python or R), so the publication step can still tell how it was made.
    let carried: Vec<(String, String)> =
        schema.metadata().iter().filter(|(k, _)| k.starts_with(METADATA_PREFIX)).map(|(k, v)| (k.clone(), v.clone())).collect();
    Ok(match (format, metadata) {
        (Format::Csv, Some(m)) => staged.with_metadata(m.pairs()),
        (Format::Csv, None) if !carried.is_empty() => {
            let mut pairs = carried;
            pairs.retain(|(k, _)| k != DATA_SHA256_KEY);
            pairs.sort();
            staged.with_metadata(pairs)
        }
        _ => staged,
    })
}

/// Write `bytes` to `path` atomically.
pub fn write_bytes(path: &Path, bytes: &[u8]) -> Fallible<()> {
    stage_bytes(path, bytes)?.commit()
}

/// `bytes` written to a temporary file beside `path` (see [`Staged`]).
pub fn stage_bytes(path: &Path, bytes: &[u8]) -> Fallible<Staged> {
    stage(path, |f| f.write_all(bytes).map_err(Error::from))
}

/// A file written in full to a temporary file beside its target, not yet
/// in place; dropped without [`Staged::commit`], the temporary file goes.
pub struct Staged {
    tmp: PathBuf,
    path: PathBuf,
    sha256: String,
    /// Metadata for `<path>.meta.json`, written with the file's SHA-256.
    metadata: Option<Vec<(String, String)>>,
    committed: bool,
}

impl Staged {
    /// Give the file a `<path>.meta.json` with `metadata` and the file's SHA-256.
    pub fn with_metadata(mut self, metadata: Vec<(String, String)>) -> Staged {
        self.metadata = Some(metadata);
        self
    }

    /// Move the file into place. With metadata, the `.meta.json` (holding
    /// the file's SHA-256) goes first: whatever happens between the two, the
    /// hash tells a reader whether the file beside the metadata is its own.
    pub fn commit(mut self) -> Fallible<()> {
        if let Some(metadata) = &self.metadata {
            let mut map: serde_json::Map<String, serde_json::Value> =
                metadata.iter().map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone()))).collect();
            map.insert(DATA_SHA256_KEY.to_owned(), serde_json::Value::String(self.sha256.clone()));
            let mut text = serde_json::to_string_pretty(&map).expect("string maps always serialize");
            text.push('\n');
            write_bytes(&metadata_sidecar(&self.path), text.as_bytes())?;
        }
        // Written owner-only while incomplete; in place, as any new file is.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&self.tmp, std::fs::Permissions::from_mode(0o666 & !umask()))?;
        }
        std::fs::rename(&self.tmp, &self.path).map_err(|e| err!(Io, "cannot move the output into place at {}: {e}", self.path.display()))?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.tmp);
        }
        temp_files::forget(&self.tmp);
    }
}

/// Commit several staged files, written in full before any is moved into
/// place: a run that fails while writing leaves none of them.
pub fn commit_all(staged: Vec<Staged>) -> Fallible<()> {
    for s in staged {
        s.commit()?;
    }
    Ok(())
}

/// Temporary files being written, removed if the process is interrupted
/// (the CLI calls [`temp_files::remove_all`] on SIGINT and SIGTERM).
pub mod temp_files {
    use std::path::{Path, PathBuf};
    use std::sync::Mutex;

    static OPEN: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

    pub(crate) fn remember(path: &Path) {
        OPEN.lock().unwrap_or_else(|p| p.into_inner()).push(path.to_path_buf());
    }

    pub(crate) fn forget(path: &Path) {
        OPEN.lock().unwrap_or_else(|p| p.into_inner()).retain(|p| p != path);
    }

    /// Remove every temporary file still being written.
    pub fn remove_all() {
        for path in OPEN.lock().unwrap_or_else(|p| p.into_inner()).drain(..) {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Write through a temporary file in the same folder (readable by its owner
/// only, named so that no reader takes it for a table: it starts with `.`
/// and ends in `.tmp`), hashing what is written.
fn stage(path: &Path, write: impl FnOnce(&mut HashingFile) -> Fallible<()>) -> Fallible<Staged> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    if !dir.is_dir() {
        fail!(Io, "cannot write {}: the folder {} does not exist; create it first", path.display(), dir.display());
    }
    let name = path.file_name().ok_or_else(|| err!(Io, "{} is not a file path", path.display()))?;
    let tmp = dir.join(format!(".{}.amparo-{}-{}.tmp", name.to_string_lossy(), std::process::id(), unique()));
    temp_files::remember(&tmp);
    let result = (|| {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options.open(&tmp).map_err(|e| err!(Io, "cannot write {}: {e}", path.display()))?;
        let mut hashing = HashingFile { file, hasher: sha2::Sha256::default() };
        write(&mut hashing)?;
        hashing.flush()?;
        hashing.file.sync_all()?;
        Ok(hex(&sha2::Digest::finalize(hashing.hasher)))
    })();
    match result {
        Ok(sha256) => Ok(Staged { tmp, path: path.to_path_buf(), sha256, metadata: None, committed: false }),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            temp_files::forget(&tmp);
            Err(e)
        }
    }
}

/// The process's file mode creation mask (Linux reports it in
/// /proc/self/status; elsewhere the usual 022).
#[cfg(unix)]
fn umask() -> u32 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find_map(|l| l.strip_prefix("Umask:").and_then(|m| u32::from_str_radix(m.trim(), 8).ok())))
        .unwrap_or(0o022)
}

/// A number no other staging in this process has used.
fn unique() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// Bytes as lower-case hexadecimal (SHA-256 digests).
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The SHA-256 (hex) of a file's bytes.
pub fn file_sha256(path: &Path) -> Fallible<String> {
    let mut file = File::open(path).map_err(|e| err!(Io, "cannot open {}: {e}", path.display()))?;
    let mut hasher = sha2::Sha256::default();
    std::io::copy(&mut file, &mut hasher).map_err(|e| err!(Io, "cannot read {}: {e}", path.display()))?;
    Ok(hex(&sha2::Digest::finalize(hasher)))
}

/// A file that hashes what is written to it.
pub struct HashingFile {
    file: File,
    hasher: sha2::Sha256,
}

impl Write for HashingFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.file.write(buf)?;
        sha2::Digest::update(&mut self.hasher, &buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}
