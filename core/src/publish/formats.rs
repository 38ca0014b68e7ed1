//! A publication's bytes in each format: CSV with its formula guard,
//! SDMX-CSV, and the Excel workbook (one sheet per linked table, a notes
//! sheet), staged beside the target so several outputs land all or none.

use std::path::Path;

use arrow_array::cast::AsArray;
use arrow_array::{Array, RecordBatch, StringArray};

use super::{Publication, PublicationFormat};
use crate::error::Fallible;
use crate::output::METADATA_PREFIX;
use crate::policy::{looks_like_formula, Layout};
use crate::{err, fail};

/// A CSV field that stays text in a spreadsheet: a leading `'` where a
/// spreadsheet would run the field as a formula, or where the field already
/// starts with `'` (so that removing one `'` on reading gives it back).
/// Whole numbers (a raw noisy count of -4) and the marker `-` are left alone.
pub fn guard_formula(field: &str) -> std::borrow::Cow<'_, str> {
    let risky = (looks_like_formula(field) && field != "-" && field.parse::<i64>().is_err()) || field.starts_with('\'');
    if risky { std::borrow::Cow::Owned(format!("'{field}")) } else { std::borrow::Cow::Borrowed(field) }
}

/// The text a guarded CSV field stands for (see [`guard_formula`]).
pub fn unguard_formula(field: &str) -> &str {
    match field.strip_prefix('\'') {
        Some(rest) if looks_like_formula(rest) || rest.starts_with('\'') => rest,
        _ => field,
    }
}

/// Write the publications to `path`: one table in any format, or several
/// (linked tables) as the sheets of one Excel workbook.
pub fn write_publications(publications: &[Publication], path: &Path, format: PublicationFormat) -> Fallible<()> {
    stage_publications(publications, path, format)?.commit()
}

/// The publications written to a temporary file beside `path` (see [`crate::io::Staged`]).
pub fn stage_publications(publications: &[Publication], path: &Path, format: PublicationFormat) -> Fallible<crate::io::Staged> {
    if publications.len() != 1 && format != PublicationFormat::Xlsx {
        fail!(Io, "{} tables cannot go in one {} file; write them to a folder (one file each) or to one .xlsx workbook", publications.len(), format.extension());
    }
    let p = &publications[0];
    match format {
        PublicationFormat::Xlsx => crate::io::stage_bytes(path, &xlsx_bytes(publications)?),
        PublicationFormat::Csv | PublicationFormat::SdmxCsv => {
            let bytes = if format == PublicationFormat::Csv { csv_bytes(&p.to_record_batch(), guard_formula)? } else { csv_bytes(&p.sdmx_batch()?, guard_sdmx)? };
            Ok(crate::io::stage_bytes(path, &bytes)?.with_metadata(p.metadata.clone()))
        }
        PublicationFormat::Parquet | PublicationFormat::Arrow | PublicationFormat::ArrowStream => crate::io::stage_table(&p.to_record_batch(), path, None),
    }
}

/// SDMX-CSV is read by programs that match codes against code lists: a
/// valid SDMX identifier (letters, digits, `_`, `@`, `$`, `-`; it cannot
/// call a function) stays as it is, anything else is guarded.
fn guard_sdmx(field: &str) -> std::borrow::Cow<'_, str> {
    let sdmx_id = !field.is_empty() && field.chars().all(|c| c.is_ascii_alphanumeric() || "_@$-".contains(c));
    if sdmx_id { std::borrow::Cow::Borrowed(field) } else { guard_formula(field) }
}

/// A batch of text columns as CSV, every field passed through `guard`.
fn csv_bytes(batch: &RecordBatch, guard: fn(&str) -> std::borrow::Cow<'_, str>) -> Fallible<Vec<u8>> {
    let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
    let write_error = |e: csv::Error| err!(Io, "cannot write the CSV: {e}");
    w.write_record(batch.schema_ref().fields().iter().map(|f| guard(f.name()).into_owned())).map_err(write_error)?;
    let columns: Vec<&StringArray> = batch.columns().iter().map(|c| c.as_string::<i32>()).collect();
    for r in 0..batch.num_rows() {
        w.write_record(columns.iter().map(|c| if c.is_null(r) { "" } else { c.value(r) }).map(|f| guard(f).into_owned())).map_err(write_error)?;
    }
    w.into_inner().map_err(|e| err!(Io, "cannot write the CSV: {e}"))
}

/// Excel's limit of rows per sheet.
const XLSX_MAX_ROWS: usize = 1_048_576;

/// A workbook: one sheet per table (codes and markers as text, counts as
/// numbers), and a `notes` sheet with each table's metadata.
fn xlsx_bytes(publications: &[Publication]) -> Fallible<Vec<u8>> {
    use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook};
    let xlsx_error = |e: rust_xlsxwriter::XlsxError| err!(Io, "cannot write the Excel workbook: {e}");
    let mut workbook = Workbook::new();
    // A fixed creation time: the same publication gives the same bytes.
    let epoch = ExcelDateTime::from_ymd(2000, 1, 1).map_err(xlsx_error)?;
    workbook.set_properties(&DocProperties::new().set_creation_datetime(&epoch));
    let bold = Format::new().set_bold();
    let mut sheet_names: Vec<String> = Vec::new();
    for p in publications {
        let batch = p.to_record_batch();
        if batch.num_rows() + 1 > XLSX_MAX_ROWS {
            fail!(Io, "table `{}` has {} rows, more than an Excel sheet holds ({XLSX_MAX_ROWS}); publish it as CSV or Parquet, or wide", p.table, batch.num_rows());
        }
        let name = sheet_name(&p.table, &sheet_names);
        sheet_names.push(name.clone());
        let sheet = workbook.add_worksheet();
        sheet.set_name(&name).map_err(xlsx_error)?;
        let dims = batch.num_columns() - if p.layout == Layout::Long { 1 } else { p.wide_value_columns() };
        for (c, field) in batch.schema_ref().fields().iter().enumerate() {
            sheet.write_string_with_format(0, c as u16, field.name(), &bold).map_err(xlsx_error)?;
            let column = batch.column(c).as_string::<i32>();
            for r in 0..batch.num_rows() {
                let row = r as u32 + 1;
                if column.is_null(r) {
                    continue;
                }
                let text = column.value(r);
                // Counts as numbers (exact below 2^53, which every count is); codes and markers as text.
                match text.parse::<i64>() {
                    Ok(v) if c >= dims => sheet.write_number(row, c as u16, v as f64).map(|_| ()),
                    _ => sheet.write_string(row, c as u16, text).map(|_| ()),
                }
                .map_err(xlsx_error)?;
            }
        }
    }
    let notes = workbook.add_worksheet();
    notes.set_name(sheet_name("notes", &sheet_names)).map_err(xlsx_error)?;
    notes.write_string_with_format(0, 0, "table", &bold).map_err(xlsx_error)?;
    notes.write_string_with_format(0, 1, "key", &bold).map_err(xlsx_error)?;
    notes.write_string_with_format(0, 2, "value", &bold).map_err(xlsx_error)?;
    let mut row = 1;
    for (p, sheet) in publications.iter().zip(&sheet_names) {
        for (k, v) in &p.metadata {
            notes.write_string(row, 0, sheet).map_err(xlsx_error)?;
            notes.write_string(row, 1, k.strip_prefix(METADATA_PREFIX).unwrap_or(k)).map_err(xlsx_error)?;
            notes.write_string(row, 2, v).map_err(xlsx_error)?;
            row += 1;
        }
    }
    workbook.save_to_buffer().map_err(xlsx_error)
}

impl Publication {
    /// The number of value columns of the wide layout (the `across` codes).
    fn wide_value_columns(&self) -> usize {
        let codes: std::collections::HashSet<&str> = self.dims[self.across].1.iter().flatten().collect();
        codes.len()
    }
}

/// A sheet name Excel accepts (at most 31 characters, none of `[]:*?/\`),
/// distinct from `taken`.
fn sheet_name(table: &str, taken: &[String]) -> String {
    let clean: String = table.chars().map(|c| if "[]:*?/\\".contains(c) { '_' } else { c }).collect();
    let clean = clean.trim_matches('\'').to_owned();
    let base: String = if clean.is_empty() { "table".to_owned() } else { clean.chars().take(31).collect() };
    let mut name = base.clone();
    let mut k = 2;
    while taken.iter().any(|t| t.eq_ignore_ascii_case(&name)) {
        let suffix = format!(" {k}");
        name = format!("{}{suffix}", base.chars().take(31 - suffix.len()).collect::<String>());
        k += 1;
    }
    name
}
