//! The cell key method (ABS TableBuilder; Eurostat and ONS census 2021):
//! each record carries a random key in [0, 1); a cell's key is the sum of
//! its records' keys modulo 1, and the cell's count n is published as n + v,
//! where v is looked up from the cell key in the perturbation table's row
//! for n. The same records give the same key, so the same cell gets the same
//! value in every table.
//!
//! Keys are kept in fixed point, 32 bits after the point: a record key k in
//! [0, 1) is floor(k * 2^32), and a cell key is the wrapping sum of its
//! records' keys. The sum modulo 1 is then exact and does not depend on the
//! order the records arrive in, so a margin's key is the sum of its parts'
//! keys however the cube is built.
//!
//! The policy asks for it with `[perturbation] method = "cell_key"` and
//! `[input] record_key`; the cube sums the keys as it reads the records
//! ([`crate::table::Cube::cell_keys`]) and [`perturb`] publishes every cell.

pub mod ptable;

use crate::error::Fallible;
use crate::fail;

/// A record key or a cell key in fixed point: value / 2^32 in [0, 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Key(pub u32);

impl Key {
    /// A record key given as a number in [0, 1); `row` (1-based) and `column`
    /// name it in the error when it is outside, or missing.
    pub fn from_record(key: Option<f64>, column: &str, row: u64) -> Fallible<Key> {
        match key {
            Some(k) if (0.0..1.0).contains(&k) => Ok(Key((k * 4_294_967_296.0).floor() as u32)),
            Some(k) => fail!(Data, "row {row}: record key column `{column}` has {k}, outside [0, 1); record keys are uniform numbers in [0, 1)"),
            None => fail!(Data, "row {row}: record key column `{column}` is empty; every record needs a key (generate them once and keep them)"),
        }
    }

    /// The key of the union of two sets of records.
    pub fn add(self, other: Key) -> Key {
        Key(self.0.wrapping_add(other.0))
    }

    /// As a number in [0, 1).
    pub fn as_f64(self) -> f64 {
        self.0 as f64 / 4_294_967_296.0
    }
}

/// The noise v for a cell of count `count` with cell key `key`: the value
/// whose interval of the row's cumulative distribution holds the key
/// (ABS/Eurostat lookup; counts past the last row use the last row). A zero
/// count stays zero.
pub fn noise_for(table: &ptable::Ptable, count: i64, key: Key) -> i64 {
    if count <= 0 {
        return 0;
    }
    let row = table.row(count);
    let k = key.as_f64();
    let mut cumulative = 0.0;
    for &(v, p) in &row.noise {
        cumulative += p;
        if k < cumulative {
            return v;
        }
    }
    // Rounding in the last digits of the cumulative sum: the last value.
    row.noise.last().map_or(0, |&(v, _)| v)
}

/// Perturb every cell of `cube` (built with record keys) with the ptable:
/// the marks, every cell `perturbed` to its count plus the looked-up noise.
pub fn perturb(cube: &crate::table::Cube, table: &ptable::Ptable, reason: &str) -> Fallible<crate::output::CellMarks> {
    let Some(keys) = cube.cell_keys() else {
        fail!(Policy, "the cell key method needs record keys: set [input] record_key to the column that holds them");
    };
    let mut marks = crate::output::CellMarks::publish_all(cube);
    let reason: std::sync::Arc<str> = std::sync::Arc::from(reason);
    for cell in 0..cube.len() {
        let n = cube.value(cell);
        marks.published[cell] = Some(n + noise_for(table, n, Key(keys[cell])));
        marks.status[cell] = crate::output::Status::Perturbed;
        marks.reason[cell] = Some(reason.clone());
    }
    Ok(marks)
}
