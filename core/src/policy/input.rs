//! The `[input]` and `[tables]` sections: what the input is (aggregated counts or microdata) and which linked tables it builds.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One of several linked tables.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TableSection {
    /// The dimensions of this table, e.g. `["district", "sex"]`.
    pub dimensions: Vec<String>,
}

/// What the input rows are.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum InputKind {
    /// One row per child or event; the engine counts rows (or sums `weight`).
    Microdata,
    /// One row per cell with its count in `count`; margins are computed, and
    /// margins present in the input are checked against their children.
    Aggregated,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct InputSection {
    /// `microdata` (one row per child or event) or `aggregated` (one row per cell).
    pub kind: InputKind,
    /// Aggregated input: the column holding each cell's count (required).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<String>,
    /// Microdata: an optional column of non-negative whole numbers, the number
    /// of children (or events) each row stands for. Without it every row counts 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<String>,
    /// Microdata: a column of non-negative whole numbers (days in detention,
    /// amount of aid) whose sums are the table's cells, a magnitude table.
    /// The frequency threshold then counts contributors (rows), and the
    /// dominance and p% rules use the largest contributions per cell.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub magnitude: Option<String>,
    /// Microdata: a column of record keys, numbers in [0, 1) drawn once per
    /// record and kept across releases, for the cell key method.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_key: Option<String>,
    /// Record keys given as whole numbers in [0, 2^k) instead of numbers in
    /// [0, 1): k, from 1 to 32. A cell's key is then the sum of its records'
    /// keys modulo 2^k, scaled to [0, 1) for the ptable lookup.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_key_bits: Option<u32>,
}
