//! Reading a table as published: its values and hidden markers placed on
//! the policy's hierarchy (long, wide or SDMX layout), and the columns an
//! outsider must not see.

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::{Array, RecordBatchReader};
use arrow_schema::DataType;

use super::published::{Check, PublishedFinding, PublishedTable, DEFAULT_HIDDEN_SYMBOLS};
use crate::error::Fallible;
use crate::i18n::Message;
use crate::hierarchy::{CodeOrigin, Hierarchy};
use crate::policy::CheckedPolicy;
use crate::table::{Cube, Dimension};
use crate::{err, fail};

/// Why each internal column of a protected table must not be published.
fn why_internal(column: &str) -> Option<&'static str> {
    Some(match column {
        "value" => "`value` holds the true counts",
        "status" => "`status` tells primary (small) cells from secondary ones",
        "reason" => "`reason` names the rule that hid each cell, e.g. that it is below the threshold",
        "lower" | "upper" => "`lower`/`upper` give the attacker's interval of each hidden cell",
        "sd" => "`sd` describes each cell's noise",
        _ => return None,
    })
}

/// SDMX-CSV's columns besides the dimensions and `OBS_VALUE`.
const SDMX_COLUMNS: [&str; 3] = ["DATAFLOW", "OBS_STATUS", "CONF_STATUS"];

/// Read a published table: dimension columns as the policy names them, and
/// the published values from `value_column` (default: `published` if the
/// table has it, `OBS_VALUE` in SDMX-CSV, else the policy's publication
/// value column, see [`crate::publish::value_column`]). A table in the wide
/// layout (`[publication] layout = "wide"`, without a column for the
/// `across` dimension) has one column of values per code of that dimension.
/// Columns that are neither dimensions nor values are noted for the
/// `columns` check.
pub fn read_published(
    policy: &CheckedPolicy,
    input: &mut dyn RecordBatchReader,
    value_column: Option<&str>,
    hidden_symbols: Option<&[String]>,
) -> Fallible<PublishedTable> {
    let publication = &policy.file.publication;
    let mut symbols: Vec<String> = match hidden_symbols {
        Some(given) => given.to_vec(),
        None => DEFAULT_HIDDEN_SYMBOLS.iter().map(|s| s.to_string()).collect(),
    };
    if hidden_symbols.is_none() && !symbols.contains(&publication.hidden_marker) {
        symbols.push(publication.hidden_marker.clone());
    }
    let hidden_symbols = symbols.as_slice();
    let schema = input.schema();
    let index = |name: &str, role: &str| {
        schema.index_of(name).map_err(|_| {
            let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
            err!(Schema, "the published table has no column `{name}` ({role}); its columns are: {}", names.join(", "))
        })
    };
    // Amparo's own outputs name dimension columns after the dimensions.
    let find_dim = |d: &crate::policy::DimensionPolicy| schema.index_of(&d.column).or_else(|_| schema.index_of(&d.name)).ok();
    let across = match (publication.layout, publication.across.as_deref()) {
        (crate::policy::Layout::Wide, across) => {
            let a = across.map_or(policy.dimensions.len() - 1, |name| policy.dimensions.iter().position(|d| d.name == name).unwrap_or(usize::MAX));
            policy.dimensions.get(a).filter(|d| find_dim(d).is_none()).map(|_| a)
        }
        _ => None,
    };
    let sdmx = schema.index_of("OBS_VALUE").is_ok() && schema.index_of("DATAFLOW").is_ok();
    let value_column = match value_column {
        Some(c) => Some(c.to_owned()),
        None if across.is_some() => None,
        None if schema.index_of("published").is_ok() => Some("published".to_owned()),
        None if sdmx => Some("OBS_VALUE".to_owned()),
        None => Some(crate::publish::value_column(policy)),
    };
    let value_index = value_column.as_deref().map(|c| index(c, "published values")).transpose()?;
    // Noise without post-processing publishes negative counts as drawn.
    let raw_noise = policy.file.noise.method != crate::policy::NoiseMethod::None && policy.file.noise.postprocess == crate::policy::Postprocess::None;
    let dim_index: Vec<Option<usize>> = policy
        .dimensions
        .iter()
        .enumerate()
        .map(|(d, spec)| if Some(d) == across { Ok(None) } else { find_dim(spec).map(Some).map_or_else(|| index(&spec.column, &format!("dimension `{}`", spec.name)).map(Some), Ok) })
        .collect::<Fallible<_>>()?;
    // Every other column: labels, listed extras and SDMX's attributes are
    // expected; internal columns and anything else are findings; in the
    // wide layout, the rest are the codes of the `across` dimension.
    let mut expected: Vec<String> = publication.extra_columns.clone();
    for d in &policy.dimensions {
        if publication.labels.contains_key(&d.name) {
            expected.push(format!("{}_label", d.name));
        }
    }
    if sdmx && value_column.as_deref() == Some("OBS_VALUE") {
        expected.extend(SDMX_COLUMNS.map(str::to_owned));
    }
    let mut unexpected_columns = Vec::new();
    let mut across_columns: Vec<(usize, String)> = Vec::new();
    for (i, field) in schema.fields().iter().enumerate() {
        let name = field.name();
        if dim_index.contains(&Some(i)) || value_index == Some(i) || expected.contains(name) {
            continue;
        }
        if across.is_some() && why_internal(name).is_none() {
            across_columns.push((i, crate::hierarchy::normalize_code(crate::publish::unguard_formula(name.trim())).into_owned()));
        } else {
            unexpected_columns.push(name.clone());
        }
    }
    if across.is_some() && across_columns.is_empty() {
        fail!(Schema, "the published table is laid out wide ([publication] layout), but it has no columns of values; publish it with `amparo publish`");
    }
    let as_text = |array: &Arc<dyn Array>, column: &str| -> Fallible<Arc<dyn Array>> {
        match array.data_type() {
            DataType::Utf8 => Ok(array.clone()),
            _ => arrow_cast::cast(array, &DataType::Utf8).map_err(|e| err!(Schema, "column `{column}` cannot be read as text: {e}")),
        }
    };
    // Where each value comes from: (column, the across code it stands for).
    let value_sources: Vec<(usize, Option<&str>)> = match value_index {
        Some(i) => vec![(i, None)],
        None => across_columns.iter().map(|(i, code)| (*i, Some(code.as_str()))).collect(),
    };
    let status_index = ["status", "reason"].map(|c| schema.index_of(c).ok());
    // Per dimension: its codes, their ids, and the row each first appears in.
    type Codes = (Vec<String>, HashMap<String, u32>, Vec<u64>);
    let mut codes: Vec<Codes> = vec![Default::default(); dim_index.len()];
    // Per cell read: its code ids, published value, row number, and stated status.
    type Row = (Vec<u32>, Option<i64>, u64, Option<(String, String)>);
    let mut rows: Vec<Row> = Vec::new();
    let mut row_number = 0u64;
    let mut intern = |d: usize, code: &str, row: u64| -> u32 {
        let (list, ids_of, first) = &mut codes[d];
        *ids_of.entry(code.to_owned()).or_insert_with(|| {
            list.push(code.to_owned());
            first.push(row);
            list.len() as u32 - 1
        })
    };
    for batch in input {
        let batch = batch.map_err(|e| crate::io::arrow_read_error(e, "the published table"))?;
        let dims: Vec<Option<Arc<dyn Array>>> = dim_index
            .iter()
            .zip(&policy.dimensions)
            .map(|(i, d)| i.map(|i| as_text(batch.column(i), &d.column)).transpose())
            .collect::<Fallible<_>>()?;
        let values: Vec<(Arc<dyn Array>, Option<&str>, &str)> = value_sources
            .iter()
            .map(|&(i, code)| Ok((as_text(batch.column(i), schema.field(i).name())?, code, schema.field(i).name().as_str())))
            .collect::<Fallible<_>>()?;
        let [status, reason] = status_index.map(|i| i.map(|i| as_text(batch.column(i), schema.field(i).name())).transpose());
        let (status, reason) = (status?, reason?);
        for r in 0..batch.num_rows() {
            row_number += 1;
            let mut ids = Vec::with_capacity(dims.len());
            for (d, array) in dims.iter().enumerate() {
                let Some(array) = array else {
                    ids.push(0);
                    continue;
                };
                let text = array.as_string::<i32>();
                if text.is_null(r) || text.value(r).trim().is_empty() {
                    fail!(Data, "row {row_number}: column `{}` has no code; every row of a published table names its cell", policy.dimensions[d].column);
                }
                ids.push(intern(d, &crate::hierarchy::normalize_code(crate::publish::unguard_formula(text.value(r).trim())), row_number));
            }
            for (array, across_code, column) in &values {
                let values = array.as_string::<i32>();
                let value = if values.is_null(r) { None } else { parse_published(values.value(r), hidden_symbols, column, row_number, raw_noise)? };
                let mut ids = ids.clone();
                if let (Some(a), Some(code)) = (across, across_code) {
                    ids[a] = intern(a, code, row_number);
                }
                let stated = match (&status, value) {
                    (Some(status), None) if status.is_valid(r) => {
                        let status = status.as_string::<i32>().value(r);
                        let reason = reason.as_ref().filter(|a| a.is_valid(r)).map(|a| a.as_string::<i32>().value(r)).unwrap_or("");
                        Some((status.to_owned(), reason.to_owned()))
                    }
                    _ => None,
                };
                rows.push((ids, value, row_number, stated));
            }
        }
    }
    if rows.is_empty() {
        fail!(Data, "the published table has no rows");
    }
    let mut dims = Vec::with_capacity(dim_index.len());
    let mut node_of: Vec<Vec<u32>> = Vec::new();
    for (spec, (list, _, first)) in policy.dimensions.iter().zip(&codes) {
        let observed: Vec<(&str, CodeOrigin<'_>)> =
            list.iter().zip(first).map(|(c, &row)| (c.as_str(), CodeOrigin { column: &spec.column, row })).collect();
        let hierarchy = Hierarchy::build(&spec.name, &spec.hierarchy, &observed)?;
        node_of.push(list.iter().map(|c| hierarchy.node(c).expect("observed codes were checked")).collect());
        dims.push(Dimension { name: spec.name.clone(), column: spec.column.clone(), hierarchy });
    }
    let cube = Cube::zeros(dims)?;
    let mut published = vec![None; cube.len()];
    let mut listed_at = vec![0u64; cube.len()];
    let mut stated_at = HashMap::new();
    for (ids, value, row, stated) in rows {
        let coords: Vec<u32> = ids.iter().enumerate().map(|(d, &id)| node_of[d][id as usize]).collect();
        let cell = cube.cell(&coords);
        if listed_at[cell] != 0 {
            fail!(Data, "rows {} and {row} are both the cell ({}); a published table lists each cell once", listed_at[cell], cube.describe(cell));
        }
        listed_at[cell] = row;
        published[cell] = value;
        if let Some(stated) = stated {
            stated_at.insert(cell, stated);
        }
    }
    let listed = listed_at.iter().map(|&r| r != 0).collect();
    Ok(PublishedTable { cube, published, listed, stated: stated_at, unexpected_columns })
}

/// The `columns` check: a finding naming the columns of `table` (called
/// `name`) that an outsider must not see.
pub fn columns_finding(name: &str, table: &PublishedTable) -> Option<PublishedFinding> {
    if table.unexpected_columns.is_empty() {
        return None;
    }
    let mut why: Vec<&str> = table.unexpected_columns.iter().filter_map(|c| why_internal(c)).collect();
    why.dedup();
    if table.unexpected_columns.iter().any(|c| why_internal(c).is_none()) {
        why.push("a column that is neither a dimension nor the published values may hold anything, true counts included");
    }
    let columns = table.unexpected_columns.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ");
    Some(PublishedFinding::new(
        Check::Columns,
        0,
        String::new(),
        Message::new("finding.columns", vec![("table", name.to_owned().into()), ("columns", columns.into()), ("why", why.join("; ").into())]),
    ))
}

/// A published value: a count, a hidden-cell mark, or (`allow_negative`,
/// noise without post-processing) a negative whole number.
fn parse_published(text: &str, hidden_symbols: &[String], column: &str, row: u64, allow_negative: bool) -> Fallible<Option<i64>> {
    let t = text.trim();
    if hidden_symbols.iter().any(|s| s.trim() == t) {
        return Ok(None);
    }
    let exact = |v: i64| v.unsigned_abs() <= crate::table::MAX_COUNT as u64;
    match t.parse::<i64>() {
        Ok(v) if (v >= 0 || allow_negative) && exact(v) => Ok(Some(v)),
        _ => match t.parse::<f64>() {
            Ok(f) if f >= 0.0 && f.fract() == 0.0 && f <= crate::table::MAX_COUNT as f64 => Ok(Some(f as i64)),
            _ => fail!(
                Data,
                "row {row}: column `{column}` has `{t}`, neither a count nor a mark of a hidden cell ({}); \
                 correct the value or list the mark as a hidden-cell symbol",
                hidden_symbols.iter().map(|s| format!("`{s}`")).collect::<Vec<_>>().join(", ")
            ),
        },
    }
}
