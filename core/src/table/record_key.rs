//! Record keys and cell keys (the cell key method, see [`crate::cellkey`]):
//! the table sums its records' keys as it reads them, so the key type
//! belongs to the table.
//!
//! Keys are kept in fixed point, 32 bits after the point: a record key k in
//! [0, 1) is floor(k * 2^32), and a cell key is the wrapping sum of its
//! records' keys. The sum modulo 1 is then exact and does not depend on the
//! order the records arrive in.

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

    /// A record key given as a whole number in [0, 2^bits) (`[input]
    /// record_key_bits`): shifted into the top bits, so that wrapping sums
    /// are sums modulo 2^bits exactly.
    pub fn from_integer(key: Option<i128>, bits: u32, column: &str, row: u64) -> Fallible<Key> {
        let limit = 1i128 << bits;
        match key {
            Some(k) if (0..limit).contains(&k) => Ok(Key(((k as u64) << (32 - bits)) as u32)),
            Some(k) => fail!(
                Data,
                "row {row}: record key column `{column}` has {k}, outside [0, {limit}); with [input] record_key_bits = {bits} record keys are whole numbers below 2^{bits}"
            ),
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
