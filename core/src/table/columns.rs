//! Reading one batch's columns: codes interned, counts and record keys
//! parsed and checked, each error naming the row, the column and the value.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::*;
use arrow_array::{Array, ArrayRef};
use arrow_schema::DataType;
use rustc_hash::FxHashMap;

use super::MAX_COUNT;
use crate::error::Fallible;
use crate::{err, fail};

/// Codes of one dimension, numbered in order of first appearance.
#[derive(Default)]
pub(super) struct Interner {
    ids: FxHashMap<Box<str>, u32>,
    pub(super) codes: Vec<Box<str>>,
    pub(super) first_row: Vec<u64>,
}

impl Interner {
    #[inline]
    pub(super) fn intern(&mut self, code: &str, row: u64) -> u32 {
        let code = &*crate::hierarchy::normalize_code(code);
        if let Some(&id) = self.ids.get(code) {
            return id;
        }
        let id = self.codes.len() as u32;
        self.ids.insert(code.into(), id);
        self.codes.push(code.into());
        self.first_row.push(row);
        id
    }
}

/// Intern a dimension column's codes; nulls and empty codes are errors naming the row.
pub(super) fn intern_column(array: &ArrayRef, column: &str, first_row: u64, interner: &mut Interner, out: &mut Vec<u32>) -> Fallible<()> {
    let missing = |i: usize| {
        err!(
            Data,
            "row {}: column `{column}` has no code (missing value); every row needs a code in each dimension column: \
             fill it in (e.g. with an `unknown` code listed in the hierarchy) or drop the row",
            first_row + i as u64
        )
    };
    if let Some(i) = first_null(array.as_ref()) {
        return Err(missing(i));
    }
    macro_rules! strings {
        ($arr:expr) => {{
            for (i, s) in $arr.iter().enumerate() {
                let s = s.expect("nulls were rejected above");
                if s.trim().is_empty() {
                    return Err(missing(i));
                }
                out.push(interner.intern(s, first_row + i as u64));
            }
        }};
    }
    match array.data_type() {
        DataType::Utf8 => strings!(array.as_string::<i32>()),
        DataType::LargeUtf8 => strings!(array.as_string::<i64>()),
        DataType::Utf8View => strings!(array.as_string_view()),
        DataType::Dictionary(_, _) => {
            // Intern each dictionary value once, at the first row that uses it.
            let dict = array.as_any_dictionary();
            let keys = dict.normalized_keys();
            let mut value_ids: Vec<Option<u32>> = vec![None; dict.values().len()];
            let values = dict.values();
            let mut one = Vec::with_capacity(1);
            for (i, &k) in keys.iter().enumerate() {
                let id = match value_ids[k] {
                    Some(id) => id,
                    None => {
                        one.clear();
                        intern_column(&values.slice(k, 1), column, first_row + i as u64, interner, &mut one)?;
                        value_ids[k] = Some(one[0]);
                        one[0]
                    }
                };
                out.push(id);
            }
        }
        _ => {
            let text = arrow_cast::cast(array, &DataType::Utf8).map_err(|e| err!(Schema, "column `{column}` cannot be read as codes: {e}"))?;
            intern_column(&(Arc::new(text) as ArrayRef), column, first_row, interner, out)?;
        }
    }
    Ok(())
}

fn first_null(array: &dyn Array) -> Option<usize> {
    let nulls = array.logical_nulls()?;
    if nulls.null_count() == 0 {
        return None;
    }
    nulls.iter().position(|valid| !valid)
}

/// Read one batch's record keys into fixed point (`crate::table::Key`):
/// numbers in [0, 1), or whole numbers below 2^bits with `record_key_bits`.
/// Text (CSV) is parsed; the column type was checked when the builder was made.
pub(super) fn read_record_keys(column: &ArrayRef, name: &str, bits: Option<u32>, first_row: u64, out: &mut Vec<u32>) -> Fallible<()> {
    use super::Key;
    let key = |value: Option<f64>, row: u64| -> Fallible<u32> {
        Ok(match bits {
            None => Key::from_record(value, name, row)?.0,
            Some(bits) => {
                let whole = match value {
                    Some(v) if v.fract() != 0.0 || !v.is_finite() => {
                        fail!(Data, "row {row}: record key column `{name}` has {v}, not a whole number; with [input] record_key_bits = {bits} keys are whole numbers below 2^{bits}")
                    }
                    v => v.map(|v| v as i128),
                };
                Key::from_integer(whole, bits, name, row)?.0
            }
        })
    };
    let text = match column.data_type() {
        DataType::LargeUtf8 | DataType::Utf8View => Some(arrow_cast::cast(column, &DataType::Utf8).map_err(|e| err!(Schema, "record key column `{name}`: {e}"))?),
        DataType::Utf8 => Some(column.clone()),
        _ => None,
    };
    if let Some(text) = text.as_ref().and_then(|c| c.as_any().downcast_ref::<arrow_array::StringArray>()) {
        for r in 0..text.len() {
            let row = first_row + r as u64;
            let value = match (!text.is_null(r)).then(|| text.value(r).trim()).filter(|t| !t.is_empty()) {
                None => None,
                Some(t) => match t.parse::<f64>() {
                    Ok(v) => Some(v),
                    Err(_) => fail!(Data, "row {row}: record key column `{name}` has `{t}`, which is not a number"),
                },
            };
            out.push(key(value, row)?);
        }
    } else {
        // Whole-number keys are below 2^32, so Float64 holds them exactly.
        let numbers = arrow_cast::cast(column, &DataType::Float64).map_err(|e| err!(Schema, "record key column `{name}`: {e}"))?;
        let numbers = numbers.as_primitive::<arrow_array::types::Float64Type>();
        for r in 0..numbers.len() {
            out.push(key((!numbers.is_null(r)).then(|| numbers.value(r)), first_row + r as u64)?);
        }
    }
    Ok(())
}

/// Read a count column as non-negative whole numbers.
pub(super) fn read_counts(array: &ArrayRef, column: &str, first_row: u64, out: &mut Vec<i64>) -> Fallible<()> {
    if let Some(i) = first_null(array.as_ref()) {
        fail!(
            Data,
            "row {}: count column `{column}` is missing a value; every row needs a count (write 0 for an empty cell)",
            first_row + i as u64
        );
    }
    let too_large = |row: u64, v: &dyn std::fmt::Display| err!(Data, "{}", too_large_message(row, column, v));
    let negative = |i: usize, v: &dyn std::fmt::Display| {
        err!(Data, "row {}: count column `{column}` has {v}, a negative count; counts of children cannot be negative: correct the value", first_row + i as u64)
    };
    macro_rules! ints {
        ($t:ty) => {{
            for (i, v) in array.as_primitive::<$t>().values().iter().enumerate() {
                let v = i64::try_from(*v).ok().filter(|&v| v <= MAX_COUNT).ok_or_else(|| too_large(first_row + i as u64, &v))?;
                if v < 0 {
                    return Err(negative(i, &v));
                }
                out.push(v);
            }
        }};
    }
    macro_rules! floats {
        ($t:ty) => {{
            for (i, v) in array.as_primitive::<$t>().values().iter().enumerate() {
                out.push(whole(*v as f64, column, first_row + i as u64)?);
            }
        }};
    }
    macro_rules! texts {
        ($arr:expr) => {{
            for (i, s) in $arr.iter().enumerate() {
                let s = s.expect("nulls were rejected above").trim();
                out.push(count_from_text(s, column, first_row + i as u64)?);
            }
        }};
    }
    match array.data_type() {
        DataType::Int8 => ints!(Int8Type),
        DataType::Int16 => ints!(Int16Type),
        DataType::Int32 => ints!(Int32Type),
        DataType::Int64 => ints!(Int64Type),
        DataType::UInt8 => ints!(UInt8Type),
        DataType::UInt16 => ints!(UInt16Type),
        DataType::UInt32 => ints!(UInt32Type),
        DataType::UInt64 => ints!(UInt64Type),
        DataType::Float32 => floats!(Float32Type),
        DataType::Float64 => floats!(Float64Type),
        DataType::Utf8 => texts!(array.as_string::<i32>()),
        DataType::LargeUtf8 => texts!(array.as_string::<i64>()),
        DataType::Utf8View => texts!(array.as_string_view()),
        dt => fail!(Schema, "count column `{column}` has type {dt}, but counts must be whole numbers; convert the column to integers"),
    }
    Ok(())
}

fn whole(v: f64, column: &str, row: u64) -> Fallible<i64> {
    if !v.is_finite() {
        fail!(Data, "row {row}: count column `{column}` has {v}, which is not a count; counts must be whole numbers");
    }
    if v < 0.0 {
        fail!(Data, "row {row}: count column `{column}` has {v}, a negative count; counts of children cannot be negative: correct the value");
    }
    if v.fract() != 0.0 {
        fail!(
            Data,
            "row {row}: count column `{column}` has {v}, a fractional count; counts must be whole numbers of children \
             (a weighted estimate must be rounded before it is protected)"
        );
    }
    if v > MAX_COUNT as f64 {
        fail!(Data, "{}", too_large_message(row, column, &v));
    }
    Ok(v as i64)
}

fn too_large_message(row: u64, column: &str, v: &dyn std::fmt::Display) -> String {
    format!("row {row}: count column `{column}` has {v}, above 2^53 ({MAX_COUNT}), the largest count the engine computes with exactly; check the value")
}

/// A count written as text, by one rule: digits, optionally with a leading
/// `+` and with a decimal point followed only by zeros (`12.0`, as
/// spreadsheets write). Anything else (`1e3`, `1,000`, `0x10`, `1e-400`,
/// which would read as 0) is refused, naming the row and the value.
fn count_from_text(s: &str, column: &str, row: u64) -> Fallible<i64> {
    if s.is_empty() {
        fail!(Data, "row {row}: count column `{column}` is empty; every row needs a count (write 0 for an empty cell)");
    }
    let unsigned = s.strip_prefix('+').unwrap_or(s);
    let (digits, rest) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let all_digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    if let Some(negative) = s.strip_prefix('-').filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit() || b == b'.')) {
        fail!(Data, "row {row}: count column `{column}` has -{negative}, a negative count; counts of children cannot be negative: correct the value");
    }
    if digits.is_empty() || !all_digits(digits) || !all_digits(rest) {
        fail!(
            Data,
            "row {row}: count column `{column}` has `{s}`, which is not a count; write counts as whole numbers in digits (e.g. 12), \
             without exponents, thousands separators or other signs"
        );
    }
    if rest.bytes().any(|b| b != b'0') {
        fail!(
            Data,
            "row {row}: count column `{column}` has {s}, a fractional count; counts must be whole numbers of children \
             (a weighted estimate must be rounded before it is protected)"
        );
    }
    match digits.parse::<i64>() {
        Ok(v) if v <= MAX_COUNT => Ok(v),
        _ => fail!(Data, "{}", too_large_message(row, column, &s)),
    }
}
