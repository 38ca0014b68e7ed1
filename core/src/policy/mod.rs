//! The policy file: one TOML document that says how a table is built and protected.
//!
//! The policy is the shared standard between frontends: the CLI, Python and R
//! all read the same file and get the same result. Its JSON Schema is generated
//! from these types (`amparo schema`, committed as `schema/policy.schema.json`).
//!
//! Validation happens here, once: unknown keys are errors that name the key and
//! the nearest valid one; combinations that cannot work are errors that say why.

mod noise;
mod suggest;
pub use noise::{ExactNumber, NoiseBudget, NoiseLevels, NoiseMethod, NoiseSection, Postprocess};
pub use suggest::suggest_code;

use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::Fallible;
use crate::{err, fail};

/// The largest policy file read (a policy with inline code lists of every
/// admin-2 unit of a region is well under a megabyte).
pub const MAX_POLICY_BYTES: u64 = 16 << 20;

/// The largest codes table or ptable file read.
pub const MAX_CODES_FILE_BYTES: u64 = 256 << 20;

/// The only policy format version this engine reads.
pub const POLICY_VERSION: u32 = 1;

/// Output columns that a dimension may not be named after.
pub const RESERVED_COLUMNS: [&str; 7] = ["value", "published", "status", "reason", "lower", "upper", "sd"];

/// A policy file, as written by a person.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
#[schemars(title = "Amparo policy", description = "How a table of counts is built from its input and protected before publication.")]
pub struct PolicyFile {
    /// Format version of the policy file; must be 1.
    pub version: u32,
    /// A short name for the table this policy protects (shown in reports).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Free text describing the table and the agreement behind the policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// What the input rows are and which column holds the counts.
    pub input: InputSection,
    /// The dimensions of the table, in output column order, keyed by dimension name.
    pub dimensions: IndexMap<String, DimensionSection>,
    /// Primary rules: which cells are sensitive.
    #[serde(default)]
    pub primary: PrimarySection,
    /// Secondary (complementary) suppression.
    #[serde(default)]
    pub secondary: SecondarySection,
    /// Rounding of published counts (instead of hiding cells).
    #[serde(default)]
    pub rounding: RoundingSection,
    /// Noise: differential privacy.
    #[serde(default)]
    pub noise: NoiseSection,
    /// Perturbation by the cell key method.
    #[serde(default)]
    pub perturbation: PerturbationSection,
    /// The audit run after protection.
    #[serde(default)]
    pub audit: AuditSection,
    /// The file people publish (`amparo publish`): its marker for hidden
    /// cells, its layout and the columns an outside reader may see.
    #[serde(default)]
    pub publication: PublicationSection,
    /// Linked tables built from the same microdata, each over some of the
    /// dimensions, protected together (a cell they share has one status, and
    /// the audit covers them all at once). Without it, one table over every dimension.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub tables: IndexMap<String, TableSection>,
}

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

/// One dimension of the table and its hierarchy of codes.
///
/// Exactly one of `codes`, `tree`, `codes_file`, `parents` and `code_lengths` may be
/// given; with none, the dimension is flat and its codes are those found in
/// the data, under a generated total.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DimensionSection {
    /// Input column holding this dimension's codes (default: the dimension's name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    /// Code of the generated total (default `Total`). Not used with `tree`,
    /// whose root is the code that is nobody's child, nor with a `codes_file`
    /// that has a single root row (that row is the total).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<String>,
    /// A flat list of codes, in publication order, under a generated total.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub codes: Option<Vec<String>>,
    /// An explicit tree: each key is a parent code, its value the list of its
    /// children in publication order. The root is the one code that is nobody's child.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tree: Option<IndexMap<String, Vec<String>>>,
    /// A codes table (CSV) with a code column and a parent column; rows with an
    /// empty parent hang from the generated total.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub codes_file: Option<CodesFile>,
    /// A codes table written inline: each code and its parent, in
    /// publication order (`{ "05" = "", "05001" = "05" }`); as with
    /// `codes_file`, an empty parent hangs a code from the generated total,
    /// and a single code with an empty parent is itself the total.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parents: Option<IndexMap<String, String>>,
    /// Code lengths from the top level down, for codes that nest by prefix
    /// (`[2, 5]`: department `05` contains municipality `05001`). Codes are
    /// taken from the data; every code must have one of these lengths.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_lengths: Option<Vec<usize>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CodesFile {
    /// Path to a CSV file, relative to the policy file.
    pub path: String,
    /// Column of the codes table holding the code (default `code`).
    #[serde(default = "default_code_column")]
    pub code: String,
    /// Column of the codes table holding the parent code (default `parent`).
    #[serde(default = "default_parent_column")]
    pub parent: String,
}

fn default_code_column() -> String {
    "code".to_owned()
}
fn default_parent_column() -> String {
    "parent".to_owned()
}

/// How zero cells are treated by the frequency threshold rule.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ZeroPolicy {
    /// Zeros are published: an empty cell discloses nothing about a child.
    #[default]
    Publish,
    /// Zeros are hidden as primary suppressions, e.g. when "no child of this
    /// nationality in this district" is itself sensitive.
    Hide,
}

/// Singletons: a hidden cell of 1 child, whose child (or family) knows it.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum SingletonPolicy {
    /// The child alone in a hidden cell of 1 knows their own count: with it,
    /// they must not be able to narrow any other sensitive cell below its
    /// protection (tau-Argus manual 4.2, "singletons"; tau-Argus issue #194).
    /// Checked by LPs (an attacker who also knows that cell is 1) on tables
    /// up to 1,000 cells, where `interval` and `fast` hide cells until the
    /// check passes and the audit's `singletons` check judges it; above
    /// that, a structural rule: a constraint whose hidden cells are a
    /// singleton and one other cell gets a third hidden cell.
    #[default]
    Protect,
    /// No singleton rule: only the outside attacker is considered.
    Ignore,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PrimarySection {
    /// Frequency threshold: a non-zero cell with a count below this value is
    /// sensitive and hidden. Must be at least 1; omit for no threshold rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<i64>,
    /// Zero cells: `publish` (default) or `hide`.
    #[serde(default)]
    pub zeros: ZeroPolicy,
    /// Singletons: `protect` (default) or `ignore`.
    #[serde(default)]
    pub singletons: SingletonPolicy,
    /// Dimensions whose categories are sensitive (e.g. `["accompaniment"]`):
    /// where every child of a group falls in one category (all 7 children of
    /// one nationality in a district are unaccompanied), the cell of that
    /// category equals its group's total and discloses the category of every
    /// child in it; it becomes sensitive, and the attacker must not be able to
    /// rule out that at least one child is elsewhere (protection 1 below).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sensitive: Vec<String>,
    /// Dominance (n,k) rule, magnitude tables: a cell whose n largest
    /// contributions exceed k% of its total is sensitive (e.g. `{ n = 1, k = 85 }`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dominance: Option<DominanceRule>,
    /// p% rule, magnitude tables: a cell is sensitive when the second largest
    /// contributor could estimate the largest to within p% (the rest of the
    /// cell after the two largest is below p% of the largest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p_percent: Option<f64>,
    /// How wide the attacker's interval around each sensitive cell must stay.
    #[serde(default)]
    pub protection: ProtectionSection,
}

/// The dominance (n,k) rule's parameters.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DominanceRule {
    /// How many of the largest contributions (1 to 3).
    pub n: usize,
    /// Their share of the cell's total, in percent, above which the cell is sensitive.
    pub k: f64,
}

/// Protection levels: the attacker's interval for a sensitive cell of value v
/// must contain `[v - lower, v + upper]`.
///
/// With no key set (the default), the levels follow the threshold n: the
/// interval must reach 0 and n (`lower = v`, `upper = n - v`), so an attacker
/// can show neither that the cell is non-empty nor that it is below n. With
/// `lower`/`upper`, the levels are absolute; with `percent`, they are that
/// percentage of the value, at least `minimum`. A lower level never exceeds
/// the value (counts cannot go below 0).
///
/// An outsider sees which cells are hidden, not which are sensitive, so every
/// hidden cell whose interval admits a sensitive count is held to the levels
/// of each count it admits (with the default: reach 0 and n); `interval`
/// hides accordingly, and both audits check it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ProtectionSection {
    /// Absolute protection below the value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lower: Option<i64>,
    /// Absolute protection above the value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upper: Option<i64>,
    /// Protection as a percentage of the value, both ways.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percent: Option<f64>,
    /// With `percent`: the smallest protection level (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum: Option<i64>,
}

impl ProtectionSection {
    /// (lower, upper) protection levels for a sensitive cell of this value.
    pub fn levels(&self, value: i64, threshold: Option<i64>) -> (i64, i64) {
        if let Some(pct) = self.percent {
            let level = ((pct / 100.0) * value as f64).ceil() as i64;
            let level = level.max(self.minimum.unwrap_or(1));
            return (level.min(value), level);
        }
        if self.lower.is_some() || self.upper.is_some() {
            return (self.lower.unwrap_or(0).min(value), self.upper.unwrap_or(0));
        }
        match threshold {
            Some(n) => (value, (n - value).max(1)),
            None => (value, 1),
        }
    }
}

/// Secondary suppression methods.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum SecondaryMethod {
    /// No secondary suppression: only primary cells are hidden (the audit will
    /// usually find them recoverable).
    #[default]
    None,
    /// Hide complementary cells until every protection level holds under the
    /// LP audit, at low cost: protection LPs (Fischetti & Salazar-Gonzalez
    /// 2001, LP heuristic) on tables up to `lp_limit` cells, hypercube
    /// patterns (Repsilber 1994, as tau-Argus's GHMITER) on larger ones.
    Interval,
    /// Hide complementary cells until no hidden cell can be computed exactly
    /// from the published ones (Gaussian elimination, as GaussSuppression);
    /// scales to large tables, but intervals may stay narrow.
    Fast,
}

/// What hiding a cell costs, for secondary suppression to minimise.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum CostKind {
    /// Every hidden cell costs 1: hide as few cells as possible.
    #[default]
    Unit,
    /// A cell costs its count (at least 1): hide as few children as possible.
    Value,
    /// A cell costs 1 + ln(1 + count): between the two.
    Log,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SecondarySection {
    /// `none` (default), `interval` or `fast`.
    #[serde(default)]
    pub method: SecondaryMethod,
    /// Cost of hiding a cell: `unit` (default), `value` or `log`.
    #[serde(default)]
    pub cost: CostKind,
    /// Seconds secondary suppression may take before the run stops with an
    /// error rather than running on (default 600).
    #[serde(default = "default_time_limit")]
    pub time_limit: f64,
    /// `interval` protects tables of up to this many cells (margins included)
    /// with protection LPs over the whole table, which hide the fewest cells,
    /// and larger tables with hypercube patterns, which scale to 10^5-10^6
    /// cells but hide more (default 5000; 0 means patterns always).
    #[serde(default = "default_lp_limit")]
    pub lp_limit: usize,
    /// Cells that must stay published, each named by its codes, e.g.
    /// `{ district = "National", nationality = "VEN" }` (a dimension left out
    /// means its total). Secondary suppression never picks them; if protection
    /// is impossible without them, the run fails naming them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub force_published: Vec<IndexMap<String, String>>,
    /// Cells that must be hidden whatever their value (e.g. a municipality the
    /// publisher never shows); they are not protected themselves.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub force_hidden: Vec<IndexMap<String, String>>,
}

/// Perturbation methods.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum PerturbationMethod {
    /// No perturbation (the default).
    #[default]
    None,
    /// The cell key method: each cell's count n is published as n + v, v
    /// looked up from the cell's key (the sum of its records' keys) in a
    /// perturbation table built from `max_deviation`, `variance`, `js`.
    CellKey,
}

/// `[perturbation]`: publish every cell perturbed by the cell key method.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct PerturbationSection {
    /// `none` (default) or `cell_key`.
    #[serde(default)]
    pub method: PerturbationMethod,
    /// Maximum deviation D: |v| <= D (default 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_deviation: Option<i64>,
    /// Variance V of the noise (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variance: Option<f64>,
    /// No published value in 1..js (default 0: small values may appear).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub js: Option<i64>,
    /// Probability that a count is left as it is, in every row (optional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p_stay: Option<f64>,
    /// A perturbation table given as a CSV file (columns `i`, `v`, `p`: the
    /// probability p of adding v to a count i; rows i = 0, 1, ... up to the
    /// row used for every larger count), instead of the parameters above.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ptable_file: Option<String>,
}

impl PerturbationSection {
    /// The perturbation table's parameters, defaults filled in.
    pub fn ptable_parameters(&self) -> crate::cellkey::ptable::PtableParameters {
        crate::cellkey::ptable::PtableParameters {
            max_deviation: self.max_deviation.unwrap_or(2),
            variance: self.variance.unwrap_or(1.0),
            js: self.js.unwrap_or(0),
            p_stay: self.p_stay,
        }
    }
}

/// The perturbation table, read (and hashed) once: the table the run uses
/// is the one the policy's SHA-256 covers.
fn validate_perturbation(file: &PolicyFile, base_dir: &Path, hasher: &mut Sha256) -> Fallible<Option<crate::cellkey::ptable::Ptable>> {
    let p = &file.perturbation;
    if p.method == PerturbationMethod::None {
        if *p != PerturbationSection::default() {
            fail!(Policy, "[perturbation] sets parameters but no method; add `method = \"cell_key\"`, or remove the section");
        }
        return Ok(None);
    }
    if file.input.kind != InputKind::Microdata || file.input.record_key.is_none() {
        fail!(
            Policy,
            "[perturbation] method = \"cell_key\" needs microdata with record keys: set [input] kind = \"microdata\" and \
             record_key = \"<column of keys in [0, 1)>\""
        );
    }
    if file.secondary.method != SecondaryMethod::None || file.rounding.method != RoundingMethod::None || file.primary.threshold.is_some() {
        fail!(Policy, "[perturbation] perturbs every cell; remove [primary] threshold, [secondary] and [rounding] from this policy (keep one way of protecting)");
    }
    if file.input.magnitude.is_some() {
        fail!(Policy, "[perturbation] method = \"cell_key\" perturbs counts; remove [input] magnitude");
    }
    // The table is built now so that impossible parameters or a bad file
    // fail before any data is read.
    let ptable = match &p.ptable_file {
        Some(path) => {
            if p.max_deviation.is_some() || p.variance.is_some() || p.js.is_some() || p.p_stay.is_some() {
                fail!(Policy, "[perturbation] gives both ptable_file and ptable parameters (max_deviation, variance, js, p_stay); keep one");
            }
            let full = base_dir.join(path);
            let text = crate::io::read_text_limited(&full, MAX_CODES_FILE_BYTES, "[perturbation] ptable_file")?;
            hasher.update(b"\0ptable_file\0");
            hasher.update(text.as_bytes());
            crate::cellkey::ptable::parse(&text, path)?
        }
        None => crate::cellkey::ptable::generate(p.ptable_parameters()).map_err(|e| crate::err!(Policy, "[perturbation]: {}", e.message))?,
    };
    Ok(Some(ptable))
}

/// Rounding methods.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RoundingMethod {
    /// No rounding (the default).
    #[default]
    None,
    /// To the nearest multiple of `base` (a remainder of half the base or more rounds up).
    Deterministic,
    /// Unbiased random rounding: a count r above a multiple of `base` rounds
    /// up with probability r/base, otherwise down; multiples stay.
    Random,
    /// Random rounding whose base grows with the count (`steps`), as the ABS's
    /// graduated random rounding.
    Graduated,
    /// Controlled rounding (Cox 1987): every cell, margins included, to an
    /// adjacent multiple of `base` (multiples stay), and the table still adds
    /// up along every hierarchy; an integer program minimising the total
    /// deviation, within `time_limit`.
    Controlled,
}

/// Whether margins are rounded on their own or recomputed.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum MarginRounding {
    /// Every cell, margins included, is rounded on its own: each is within
    /// one base of its truth, but totals may differ from the sum of their
    /// rounded parts (the output metadata says so).
    #[default]
    Independent,
    /// Inner cells are rounded, margins are the sums of the rounded inner
    /// cells: the table adds up, but a margin may be several bases off.
    FromInner,
}

/// Where random rounding draws from.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RoundingRandomness {
    /// ChaCha20, seeded by the operating system or by `seed` (the default).
    #[default]
    Generator,
    /// The cell's key (sum of its records' keys, `[input] record_key`): the
    /// same cell rounds the same way in every table and every release.
    CellKey,
}

/// One step of graduated rounding: counts below `below` round to `base`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RoundingStep {
    pub below: i64,
    pub base: i64,
}

/// `[rounding]`: publish every cell rounded instead of hiding cells.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RoundingSection {
    /// `none` (default), `deterministic`, `random`, `graduated` or `controlled`.
    #[serde(default)]
    pub method: RoundingMethod,
    /// The rounding base, at least 2 (default 5; for `graduated`, the base
    /// above the last step, default 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<i64>,
    /// `graduated`: counts below each `below` round to its `base`, e.g. the
    /// default `[{ below = 20, base = 3 }, { below = 100, base = 5 }]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steps: Option<Vec<RoundingStep>>,
    /// `independent` (default) or `from_inner`.
    #[serde(default)]
    pub margins: MarginRounding,
    /// A seed makes random rounding reproducible (the output records it, and
    /// that the result is not for publication as is); without one, the
    /// generator is seeded by the operating system.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// `controlled`: seconds the integer program may take before the run
    /// stops with an error (default 60).
    #[serde(default = "default_rounding_time_limit")]
    pub time_limit: f64,
    /// `generator` (default) or `cell_key` (microdata with `[input] record_key`).
    #[serde(default)]
    pub randomness: RoundingRandomness,
}

fn default_rounding_time_limit() -> f64 {
    60.0
}

impl Default for RoundingSection {
    fn default() -> Self {
        RoundingSection {
            method: RoundingMethod::None,
            base: None,
            steps: None,
            margins: MarginRounding::Independent,
            seed: None,
            time_limit: default_rounding_time_limit(),
            randomness: RoundingRandomness::Generator,
        }
    }
}

impl RoundingSection {
    /// Whether the rounding draws from a generator (random or graduated
    /// rounding without cell keys): the pipeline then makes one.
    pub fn draws_from_generator(&self) -> bool {
        matches!(self.method, RoundingMethod::Random | RoundingMethod::Graduated) && self.randomness == RoundingRandomness::Generator
    }

    /// The base for a cell of `count`: `base` (default 5) or, for
    /// `graduated`, the first step the count is below, else the base above
    /// the steps (default 10).
    pub fn base_for(&self, count: i64) -> i64 {
        match self.method {
            RoundingMethod::Graduated => self.steps().iter().find(|s| count < s.below).map_or(self.base.unwrap_or(10), |s| s.base),
            _ => self.base.unwrap_or(5),
        }
    }

    /// Every base a published value may be a multiple of.
    pub fn bases(&self) -> Vec<i64> {
        let mut bases: Vec<i64> = match self.method {
            RoundingMethod::Graduated => self.steps().iter().map(|s| s.base).chain(std::iter::once(self.base_for(i64::MAX))).collect(),
            _ => vec![self.base_for(0)],
        };
        bases.sort_unstable();
        bases.dedup();
        bases
    }

    /// Graduated rounding's steps, the policy's or the default.
    fn steps(&self) -> &[RoundingStep] {
        self.steps.as_deref().unwrap_or(DEFAULT_ROUNDING_STEPS)
    }
}

const DEFAULT_ROUNDING_STEPS: &[RoundingStep] = &[RoundingStep { below: 20, base: 3 }, RoundingStep { below: 100, base: 5 }];

fn validate_rounding(file: &PolicyFile) -> Fallible<()> {
    let r = &file.rounding;
    if r.method == RoundingMethod::None {
        if r.base.is_some() || r.steps.is_some() || r.seed.is_some() || r.margins != MarginRounding::Independent {
            fail!(Policy, "[rounding] sets parameters but no method; add `method = \"random\"` (or deterministic, graduated), or remove the section");
        }
        return Ok(());
    }
    if !(r.time_limit.is_finite() && r.time_limit > 0.0) {
        fail!(Policy, "[rounding] time_limit = {} must be a positive number of seconds, e.g. `time_limit = 60`", r.time_limit);
    }
    if r.method == RoundingMethod::Controlled && r.margins != MarginRounding::Independent {
        fail!(Policy, "[rounding] method = \"controlled\" rounds the margins too and keeps the table adding up; remove `margins`");
    }
    if let Some(b) = r.base {
        check_count_range("[rounding] base", b)?;
    }
    for (k, step) in r.steps.iter().flatten().enumerate() {
        check_count_range(&format!("[rounding] steps[{k}] base"), step.base)?;
        check_count_range(&format!("[rounding] steps[{k}] below"), step.below)?;
    }
    if let Some(b) = r.base.filter(|&b| b < 2) {
        fail!(Policy, "[rounding] base = {b}: a rounding base must be at least 2 (e.g. 3, 5 or 10)");
    }
    match (&r.steps, r.method) {
        (Some(_), m) if m != RoundingMethod::Graduated => {
            fail!(Policy, "[rounding] steps go with method = \"graduated\"; remove `steps` or change the method")
        }
        (Some(steps), _) => {
            if steps.is_empty() {
                fail!(Policy, "[rounding] steps is empty; list at least one step, e.g. `steps = [{{ below = 20, base = 3 }}]`, or leave it out for the default");
            }
            for (k, s) in steps.iter().enumerate() {
                if s.base < 2 {
                    fail!(Policy, "[rounding] steps[{k}] has base = {}: a rounding base must be at least 2", s.base);
                }
                if k > 0 && s.below <= steps[k - 1].below {
                    fail!(
                        Policy,
                        "[rounding] steps must have increasing `below`: steps[{k}] has below = {} after below = {}; sort the steps",
                        s.below,
                        steps[k - 1].below
                    );
                }
            }
        }
        _ => {}
    }
    if r.seed.is_some() && matches!(r.method, RoundingMethod::Deterministic | RoundingMethod::Controlled) {
        fail!(Policy, "[rounding] seed has no effect with method = \"{}\" (it draws no random numbers); remove the seed", if r.method == RoundingMethod::Controlled { "controlled" } else { "deterministic" });
    }
    if r.randomness == RoundingRandomness::CellKey {
        if !matches!(r.method, RoundingMethod::Random | RoundingMethod::Graduated) {
            fail!(Policy, "[rounding] randomness = \"cell_key\" goes with method = \"random\" or \"graduated\"; remove it or change the method");
        }
        if r.seed.is_some() {
            fail!(Policy, "[rounding] randomness = \"cell_key\" draws from the record keys, not from a seed; remove the seed");
        }
        if file.input.kind != InputKind::Microdata || file.input.record_key.is_none() {
            fail!(Policy, "[rounding] randomness = \"cell_key\" needs microdata with record keys: set [input] kind = \"microdata\" and record_key");
        }
    }
    if file.secondary.method != SecondaryMethod::None {
        fail!(
            Policy,
            "[rounding] and [secondary] method = \"{}\" both protect the table (one rounds every cell, the other hides cells); keep one of them",
            serde_json::to_value(file.secondary.method).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
        );
    }
    if let Some(n) = file.primary.threshold {
        fail!(Policy, "[rounding] rounds every cell, but [primary] threshold = {n} would hide cells too; remove the threshold (or the [rounding] section)");
    }
    Ok(())
}

fn default_time_limit() -> f64 {
    600.0
}

fn default_lp_limit() -> usize {
    5_000
}

impl Default for SecondarySection {
    fn default() -> Self {
        SecondarySection {
            method: SecondaryMethod::None,
            cost: CostKind::Unit,
            time_limit: default_time_limit(),
            lp_limit: default_lp_limit(),
            force_published: Vec::new(),
            force_hidden: Vec::new(),
        }
    }
}

/// A method section that a later version of the engine fills. This version
/// accepts `method = "none"` only, so that a policy asking for a method the
/// engine does not have fails at the start rather than publishing unprotected data.
///
/// (Rounding has its own section, [`RoundingSection`].)
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MethodSection {
    /// The method; this engine version implements `none` only.
    #[serde(default = "default_method")]
    pub method: String,
}

impl Default for MethodSection {
    fn default() -> Self {
        MethodSection { method: default_method() }
    }
}

fn default_method() -> String {
    "none".to_owned()
}

/// How the publication file lays out its cells.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Layout {
    /// One row per cell: the dimension columns, then the published value.
    #[default]
    Long,
    /// As tables are printed in reports: one dimension (`across`) across the
    /// columns, one column per code; the other dimensions down the rows.
    Wide,
}

/// The file people publish (`amparo publish`, Python `amparo.publish`, R
/// `publish`): the dimension columns (and labels) and the published values,
/// every hidden cell carrying one marker, and nothing else an outsider may
/// not know (no status, reason, interval or original count).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PublicationSection {
    /// The mark of every hidden cell, primary or secondary alike (default `x`).
    /// Zeros are published as 0 unless `[primary] zeros = "hide"`.
    #[serde(default = "default_hidden_marker")]
    pub hidden_marker: String,
    /// `long` (default: a row per cell) or `wide` (one dimension across the columns).
    #[serde(default)]
    pub layout: Layout,
    /// With `layout = "wide"`: the dimension whose codes become the columns
    /// (default: the last dimension).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub across: Option<String>,
    /// Name of the column of published values in the long layout (default:
    /// `[input] count`, else `count`). `amparo audit` reads it by this name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_column: Option<String>,
    /// Columns besides the dimensions and the published values that a
    /// published table may carry without failing the audit's `columns` check
    /// (e.g. a footnote column a producer adds). Never the internal columns
    /// (`value`, `status`, `reason`, `lower`, `upper`, `sd`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extra_columns: Vec<String>,
    /// Labels of codes, per dimension: `[publication.labels.sex] F = "Female"`.
    /// A dimension with labels gets a `<dimension>_label` column beside its
    /// codes (a code without a label shows the code).
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub labels: IndexMap<String, IndexMap<String, String>>,
    /// SDMX-CSV output: the `DATAFLOW` column, `AGENCY:ID(VERSION)` (default
    /// `AMPARO:<table name>(1.0)`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataflow: Option<String>,
}

impl Layout {
    /// The layout named `long` or `wide`.
    pub fn from_name(name: &str) -> Fallible<Layout> {
        match name {
            "long" => Ok(Layout::Long),
            "wide" => Ok(Layout::Wide),
            other => Err(err!(Policy, "unknown layout `{other}`; use long (a row per cell) or wide (one dimension across the columns)")),
        }
    }
}

fn default_hidden_marker() -> String {
    "x".to_owned()
}

impl Default for PublicationSection {
    fn default() -> Self {
        PublicationSection {
            hidden_marker: default_hidden_marker(),
            layout: Layout::Long,
            across: None,
            value_column: None,
            extra_columns: Vec::new(),
            labels: IndexMap::new(),
            dataflow: None,
        }
    }
}

/// Internal columns of a protected table that a publication never carries:
/// each tells an outsider something the protection hides.
pub const INTERNAL_COLUMNS: [&str; 6] = ["value", "status", "reason", "lower", "upper", "sd"];

/// Whether a spreadsheet would run this text as a formula (OWASP's CSV
/// injection list: `=`, `+`, `-`, `@`, tab, carriage return at the start).
pub fn looks_like_formula(text: &str) -> bool {
    text.starts_with(['=', '+', '-', '@', '\t', '\r'])
}

impl PolicyFile {
    /// Whether the policy hides cells (primary rules, forced or secondary
    /// suppression), whose protection only the audit proves.
    pub fn hides_cells(&self) -> bool {
        let p = &self.primary;
        p.threshold.is_some()
            || p.zeros == ZeroPolicy::Hide
            || p.dominance.is_some()
            || p.p_percent.is_some()
            || !p.sensitive.is_empty()
            || !self.secondary.force_hidden.is_empty()
            || self.secondary.method != SecondaryMethod::None
    }

    /// Whether the producer switched the audit of a table with hidden cells off.
    pub fn audit_skipped(&self) -> bool {
        !self.audit.enabled && self.hides_cells()
    }
}

fn validate_audit(file: &PolicyFile) -> Fallible<()> {
    let audit = &file.audit;
    match (&audit.skip, audit.enabled) {
        (Some(text), _) if text != AUDIT_SKIP_CONSENT => fail!(
            Policy,
            "[audit] skip = \"{text}\" is not the consent it asks for; to publish hidden cells without the audit, write exactly skip = \"{AUDIT_SKIP_CONSENT}\" (and enabled = false), or remove skip"
        ),
        (Some(_), true) => fail!(Policy, "[audit] skip is given but the audit is enabled; remove skip (the audit runs), or set enabled = false to skip it"),
        (None, false) if file.hides_cells() => fail!(
            Policy,
            "[audit] enabled = false would publish hidden cells that nobody checked: an outsider may recover them from the margins; \
             remove `enabled = false`, or, if you accept an unaudited table, add skip = \"{AUDIT_SKIP_CONSENT}\" to [audit]"
        ),
        _ => Ok(()),
    }
}

fn validate_publication(file: &PolicyFile) -> Fallible<()> {
    let p = &file.publication;
    let marker = p.hidden_marker.as_str();
    if marker.trim().parse::<f64>().is_ok() {
        fail!(Policy, "[publication] hidden_marker = \"{marker}\" reads as a number, so a hidden cell would look published; use a mark such as \"x\", \"..\" or \"c\"");
    }
    if marker != "-" && looks_like_formula(marker) {
        fail!(Policy, "[publication] hidden_marker = \"{marker}\" starts like a spreadsheet formula (=, +, -, @); use a mark such as \"x\", \"..\" or \"c\"");
    }
    if marker.chars().any(char::is_control) || marker.chars().count() > 16 {
        fail!(Policy, "[publication] hidden_marker must be at most 16 characters on one line (e.g. \"x\"); it is written in every hidden cell");
    }
    if marker != marker.trim() {
        fail!(Policy, "[publication] hidden_marker = \"{marker}\" has spaces around it, which readers drop; write \"{}\"", marker.trim());
    }
    let dimension_columns: Vec<&str> = file
        .dimensions
        .iter()
        .flat_map(|(name, d)| [name.as_str(), d.column.as_deref().unwrap_or(name)])
        .collect();
    if let Some(across) = &p.across {
        check_dimension_named(file, across, |hint, names| {
            format!("[publication] across = \"{across}\" is not a dimension{hint}; name the dimension whose codes become the columns ({names})")
        })?;
    }
    if let Some(column) = &p.value_column {
        if column.trim().is_empty() || INTERNAL_COLUMNS.contains(&column.as_str()) || dimension_columns.contains(&column.as_str()) {
            fail!(
                Policy,
                "[publication] value_column = \"{column}\" cannot name the published values: it is empty, a dimension, or an internal column ({}); use e.g. \"children\"",
                INTERNAL_COLUMNS.join(", ")
            );
        }
    }
    for column in &p.extra_columns {
        if INTERNAL_COLUMNS.contains(&column.as_str()) || column == "published" {
            fail!(
                Policy,
                "[publication] extra_columns lists `{column}`, an internal column of the protected table: published, it tells an outsider what the protection hides; remove it"
            );
        }
    }
    for name in p.labels.keys() {
        check_dimension_named(file, name, |hint, names| {
            format!("[publication.labels.{name}] gives labels for `{name}`, which is not a dimension{hint}; label one of: {names}")
        })?;
    }
    if let Some(flow) = &p.dataflow {
        let ok = flow.split_once(':').and_then(|(agency, rest)| rest.strip_suffix(')').and_then(|r| r.split_once('(')).map(|(id, v)| (agency, id, v)));
        if !ok.is_some_and(|(a, id, v)| !a.is_empty() && !id.is_empty() && !v.is_empty() && flow.chars().all(|c| c.is_ascii_alphanumeric() || "_-.:()@".contains(c))) {
            fail!(Policy, "[publication] dataflow = \"{flow}\" is not an SDMX dataflow reference; write AGENCY:ID(VERSION), e.g. \"UNICEF:CHILD_MIGRATION(1.0)\"");
        }
    }
    Ok(())
}

/// The only value of `[audit] skip` that switches the audit of a table
/// with hidden cells off: a producer must write it out, so that an
/// unaudited suppression is never published by accident.
pub const AUDIT_SKIP_CONSENT: &str = "I accept an unaudited table";

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AuditSection {
    /// Whether the LP audit runs after protection and fills `lower`/`upper`
    /// (default true). A policy that hides cells may switch it off only with
    /// `skip` as well.
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// To protect a table with hidden cells without the audit, set
    /// `enabled = false` and `skip = "I accept an unaudited table"`. The
    /// output then says NOT AUDITED, and `amparo audit` fails it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip: Option<String>,
    /// The most hidden cells for which the audit computes every exact
    /// interval (`lower`/`upper`, two LPs per cell; default 5,000). Above it
    /// the audit still decides, exactly, whether every sensitive cell keeps its
    /// protection, but fills `lower`/`upper` only with the exact intervals of
    /// the cells it reports on the whole table; a cell proven exposed by the
    /// constraints near it has a finding with a bound that contains its
    /// interval, and empty `lower`/`upper`. The metadata's `intervals` note
    /// says which cells carry one.
    #[serde(default = "default_interval_limit")]
    pub interval_limit: usize,
}

fn default_interval_limit() -> usize {
    5_000
}

impl Default for AuditSection {
    fn default() -> Self {
        AuditSection { enabled: true, skip: None, interval_limit: default_interval_limit() }
    }
}

fn default_true() -> bool {
    true
}

/// How one dimension's hierarchy is specified, after validation.
#[derive(Debug, Clone, PartialEq)]
pub enum HierarchySpec {
    /// Flat, codes found in the data, under `total`.
    FlatFromData { total: String },
    /// Flat, listed codes, under `total`.
    FlatListed { total: String, codes: Vec<String> },
    /// Explicit parent -> children map.
    Tree { edges: IndexMap<String, Vec<String>> },
    /// (code, parent) pairs read from a codes table. A table with one root row
    /// (empty parent) uses it as the total, unless `total` names another code;
    /// otherwise the roots hang from `total` (default `Total`).
    Table { total: Option<String>, pairs: Vec<(String, Option<String>)>, source: String },
    /// Prefix nesting by code length, codes from the data, under `total`.
    CodeLengths { total: String, lengths: Vec<usize> },
}

impl HierarchySpec {
    /// The specification with every code as the engine compares codes
    /// ([`crate::hierarchy::normalize_code`]).
    pub fn normalized(&self) -> HierarchySpec {
        let n = |c: &String| crate::hierarchy::normalize_code(c).into_owned();
        match self {
            HierarchySpec::FlatFromData { total } => HierarchySpec::FlatFromData { total: n(total) },
            HierarchySpec::FlatListed { total, codes } => HierarchySpec::FlatListed { total: n(total), codes: codes.iter().map(n).collect() },
            HierarchySpec::Tree { edges } => HierarchySpec::Tree { edges: edges.iter().map(|(p, kids)| (n(p), kids.iter().map(n).collect())).collect() },
            HierarchySpec::Table { total, pairs, source } => HierarchySpec::Table {
                total: total.as_ref().map(n),
                pairs: pairs.iter().map(|(c, p)| (n(c), p.as_ref().map(n))).collect(),
                source: source.clone(),
            },
            HierarchySpec::CodeLengths { total, lengths } => HierarchySpec::CodeLengths { total: n(total), lengths: lengths.clone() },
        }
    }
}

/// A validated dimension: its name, input column and hierarchy specification.
#[derive(Debug, Clone, PartialEq)]
pub struct DimensionPolicy {
    pub name: String,
    pub column: String,
    pub hierarchy: HierarchySpec,
}

/// A validated policy, ready to run.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub file: PolicyFile,
    pub dimensions: Vec<DimensionPolicy>,
    /// SHA-256 (hex) of the policy text and of every codes table it reads,
    /// recorded in the output so a published table can be tied to its policy.
    pub sha256: String,
    /// The cell key method's perturbation table (from `ptable_file` or built
    /// from the parameters), when `[perturbation]` asks for it.
    pub ptable: Option<crate::cellkey::ptable::Ptable>,
    /// The checked `[noise]` budget, when noise is asked for.
    pub noise_budget: Option<NoiseBudget>,
    /// The TOML text the policy was read from (or written as, when built
    /// from a JSON object or with overrides): what `sha256` hashes.
    pub text: String,
    /// Where relative paths in the policy (codes tables, ptable files) start.
    pub base_dir: PathBuf,
}

/// A protection method, for [`Policy::for_method`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Rounding,
    Perturbation,
    Noise,
}

impl Method {
    /// The policy section the method is configured in.
    pub fn section(self) -> &'static str {
        match self {
            Method::Rounding => "rounding",
            Method::Perturbation => "perturbation",
            Method::Noise => "noise",
        }
    }

    /// The method a convenience call uses when its options name none:
    /// unbiased random rounding, the cell key method, discrete Gaussian noise.
    fn default_method(self) -> &'static str {
        match self {
            Method::Rounding => "random",
            Method::Perturbation => "cell_key",
            Method::Noise => "discrete_gaussian",
        }
    }
}

impl std::str::FromStr for Method {
    type Err = crate::Error;
    fn from_str(s: &str) -> Fallible<Method> {
        match s {
            "rounding" => Ok(Method::Rounding),
            "perturbation" => Ok(Method::Perturbation),
            "noise" => Ok(Method::Noise),
            other => Err(err!(Policy, "unknown protection method `{other}`; use rounding, perturbation or noise")),
        }
    }
}

/// Sections that choose how cells are protected; [`Policy::for_method`] keeps one.
const PROTECTION_SECTIONS: [&str; 5] = ["primary", "secondary", "rounding", "perturbation", "noise"];

impl Policy {
    /// Read and validate a policy file; codes tables are resolved relative to its folder.
    pub fn from_file(path: impl AsRef<Path>) -> Fallible<Policy> {
        let path = path.as_ref();
        let text = crate::io::read_text_limited(path, MAX_POLICY_BYTES, "policy file")?;
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Policy::from_toml(&text, &base)
    }

    /// Parse and validate policy text; `base_dir` is where relative codes-table paths start.
    pub fn from_toml(text: &str, base_dir: &Path) -> Fallible<Policy> {
        let file: PolicyFile = toml::from_str(text).map_err(|e| {
            err!(Policy, "{}", suggest::explain_toml_error(&e, text))
        })?;
        let mut hasher = Sha256::new();
        hasher.update(text.as_bytes());
        let (dimensions, ptable) = validate(&file, base_dir, &mut hasher)?;
        let sha256 = crate::io::hex(&hasher.finalize());
        let names: Vec<&str> = file.dimensions.keys().map(String::as_str).collect();
        let noise_budget = file.noise.check(&names)?;
        Ok(Policy { file, dimensions, sha256, ptable, noise_budget, text: text.to_owned(), base_dir: base_dir.to_path_buf() })
    }

    /// A policy from a JSON object with the policy file's keys (what the
    /// frontends build from dicts and lists). Its text (and hash) is the
    /// TOML it translates to.
    pub fn from_json(json: &str, base_dir: &Path) -> Fallible<Policy> {
        let table = json_table(json, "the policy")?;
        Policy::from_toml(&toml_text(&table)?, base_dir)
    }

    /// The policy as TOML: the text it was read from.
    pub fn to_toml(&self) -> &str {
        &self.text
    }

    /// The policy as a JSON object with the policy file's keys, in their order.
    pub fn to_json(&self) -> Fallible<String> {
        serde_json::to_string(&self.toml_table()?).map_err(|e| err!(Policy, "the policy cannot be written as JSON: {e}"))
    }

    /// This policy with `overrides` (a JSON object of sections, such as
    /// `{"primary": {"threshold": 3}}`) merged in: tables merge key by key,
    /// any other value replaces the policy's.
    pub fn with_overrides(&self, overrides: &str) -> Fallible<Policy> {
        let overrides = json_table(overrides, "the overrides")?;
        let mut table = self.toml_table()?;
        merge_tables(&mut table, overrides);
        Policy::from_toml(&toml_text(&table)?, &self.base_dir)
    }

    /// This policy protecting by `method` alone: input, dimensions, linked
    /// tables and audit settings kept, the other protection sections
    /// dropped, and the method's section (the policy's own, if it has one)
    /// with `options` (a JSON object of its keys) merged in; without a
    /// method there, the method's usual one ([`Method::default_method`]). So a suppression policy can also give
    /// the rounded or noisy version of the same table.
    pub fn for_method(&self, method: Method, options: &str) -> Fallible<Policy> {
        let options = json_table(options, &format!("the [{}] options", method.section()))?;
        let mut table = self.toml_table()?;
        // The policy's own section for this method is the starting point.
        let mut section = match table.get(method.section()) {
            Some(toml::Value::Table(own)) => own.clone(),
            _ => toml::Table::new(),
        };
        merge_tables(&mut section, options);
        if section.get("method").and_then(toml::Value::as_str).map_or(true, |m| m == "none") {
            section.insert("method".to_owned(), toml::Value::String(method.default_method().to_owned()));
        }
        for name in PROTECTION_SECTIONS {
            table.remove(name);
        }
        table.insert(method.section().to_owned(), toml::Value::Table(section));
        Policy::from_toml(&toml_text(&table)?, &self.base_dir)
    }

    fn toml_table(&self) -> Fallible<toml::Table> {
        toml::from_str(&self.text).map_err(|e| err!(Policy, "{}", suggest::explain_toml_error(&e, &self.text)))
    }

    pub fn input_kind(&self) -> InputKind {
        self.file.input.kind
    }

    /// The input columns the table is built from: the dimensions' (of every
    /// linked table), then the count or weight, the magnitude and the record
    /// keys, as the policy names them. A frontend that moves data (Spark)
    /// sends these and no others.
    pub fn input_columns(&self) -> Vec<String> {
        let input = &self.file.input;
        let mut columns: Vec<String> = self.dimensions.iter().map(|d| d.column.clone()).collect();
        for c in [&input.count, &input.weight, &input.magnitude, &input.record_key].into_iter().flatten() {
            if !columns.contains(c) {
                columns.push(c.clone());
            }
        }
        columns
    }

    /// Check the columns that split an input into independent tables (a
    /// table per country or year, each protected with this policy): they
    /// must be in the input, and be neither a dimension nor a column of the
    /// protected table, which the group's codes are put beside.
    pub fn check_group_columns(&self, by: &[String], input_columns: &[String]) -> Fallible<()> {
        if by.is_empty() {
            fail!(Policy, "no columns to group by were given; name the columns whose values each make an independent table (e.g. country)");
        }
        let output = crate::output::output_schema(self, crate::OutputOptions { keep_original: true });
        for column in by {
            if !input_columns.contains(column) {
                let near = suggest_code(column, input_columns.iter().map(String::as_str));
                fail!(Schema, "cannot group by `{column}`: the input has no such column{near}; the input's columns are: {}", input_columns.join(", "));
            }
            if let Some(d) = self.dimensions.iter().find(|d| &d.column == column || &d.name == column) {
                fail!(
                    Policy,
                    "cannot group by `{column}`: it is dimension `{}` of the policy, so each group would be one of its codes; \
                     group by a column that is not a dimension, or drop dimension `{}` from the policy",
                    d.name,
                    d.name
                );
            }
            if output.field_with_name(column).is_ok() {
                fail!(Policy, "cannot group by `{column}`: the protected table has a column of that name; rename the column in the input");
            }
        }
        Ok(())
    }

    /// The files the policy reads besides itself (codes tables, the ptable
    /// file): a run never writes its output over them.
    pub fn read_files(&self) -> Vec<PathBuf> {
        let codes = self.file.dimensions.values().filter_map(|d| d.codes_file.as_ref()).map(|c| self.base_dir.join(&c.path));
        let ptable = self.file.perturbation.ptable_file.iter().map(|p| self.base_dir.join(p));
        codes.chain(ptable).collect()
    }

    /// The name shown in reports: the policy's `name`, or "table".
    pub fn table_name(&self) -> &str {
        self.file.name.as_deref().unwrap_or("table")
    }

    /// The linked tables of `[tables]`, each as a policy over its own
    /// dimensions (empty when the policy describes a single table).
    pub fn linked_tables(&self) -> Vec<(String, Policy)> {
        self.file
            .tables
            .iter()
            .map(|(name, t)| {
                let mut p = self.clone();
                p.dimensions.retain(|d| t.dimensions.contains(&d.name));
                p.file.name = Some(name.clone());
                (name.clone(), p)
            })
            .collect()
    }
}

/// A JSON object as a TOML table, keys in their order (dimensions keep theirs).
fn json_table(json: &str, what: &str) -> Fallible<toml::Table> {
    serde_json::from_str::<toml::Table>(json).map_err(|e| {
        err!(Policy, "{what} is not a table of policy keys: {e}; give a dict (JSON object) of sections and keys, and leave out a key rather than set it to None (null)")
    })
}

fn toml_text(table: &toml::Table) -> Fallible<String> {
    toml::to_string(table).map_err(|e| err!(Policy, "the policy cannot be written as TOML: {e}"))
}

/// Merge `overrides` into `table`: tables key by key, other values replace.
fn merge_tables(table: &mut toml::Table, overrides: toml::Table) {
    for (key, value) in overrides {
        match (table.get_mut(&key), value) {
            (Some(toml::Value::Table(old)), toml::Value::Table(new)) => merge_tables(old, new),
            (_, value) => {
                table.insert(key, value);
            }
        }
    }
}

/// The policy file's JSON Schema, pretty-printed (committed as `schema/policy.schema.json`).
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(PolicyFile);
    let mut text = serde_json::to_string_pretty(&schema).expect("a JSON schema always serializes");
    text.push('\n');
    text
}


/// Every check of a policy file, before any data is read: its dimensions
/// and, for the cell key method, its perturbation table.
fn validate(file: &PolicyFile, base_dir: &Path, hasher: &mut Sha256) -> Fallible<(Vec<DimensionPolicy>, Option<crate::cellkey::ptable::Ptable>)> {
    if file.version != POLICY_VERSION {
        fail!(
            Policy,
            "the policy says version = {}, but this engine reads version = {POLICY_VERSION}; \
             set `version = {POLICY_VERSION}` or use the engine that wrote the policy",
            file.version
        );
    }
    match file.input.kind {
        InputKind::Aggregated => {
            if file.input.count.is_none() {
                fail!(Policy, "[input] kind = \"aggregated\" needs `count`, the column holding each cell's count; add e.g. `count = \"n\"`");
            }
            if file.input.weight.is_some() {
                fail!(Policy, "[input] `weight` applies to microdata only; with kind = \"aggregated\" the counts are in `count`: remove `weight`");
            }
        }
        InputKind::Microdata => {
            if file.input.count.is_some() {
                fail!(Policy, "[input] `count` applies to aggregated input only; for microdata use `weight` (children per row) or nothing (each row is one child)");
            }
        }
    }
    if file.dimensions.is_empty() {
        fail!(Policy, "the policy has no dimensions; add at least one `[dimensions.<name>]` section");
    }
    if let Some(t) = file.primary.threshold {
        check_count_range("[primary] threshold", t)?;
        if t < 1 {
            fail!(Policy, "[primary] threshold = {t} is impossible: a threshold must be at least 1 (cells with a count below it are hidden); use e.g. `threshold = 5`");
        }
    }
    validate_protection(&file.primary.protection)?;
    let magnitude_rules = file.primary.dominance.is_some() || file.primary.p_percent.is_some();
    if magnitude_rules && file.input.magnitude.is_none() {
        fail!(Policy, "[primary] dominance and p_percent apply to magnitude tables: add `magnitude = \"<column>\"` to [input] (microdata with a magnitude column)");
    }
    if file.input.magnitude.is_some() {
        if file.input.kind != InputKind::Microdata {
            fail!(Policy, "[input] `magnitude` needs microdata (the rules use each record's contribution); set kind = \"microdata\"");
        }
        if file.input.weight.is_some() {
            fail!(Policy, "[input] `magnitude` and `weight` cannot be combined: each row is one contributor; remove `weight`");
        }
    }
    if let Some(r) = file.primary.dominance {
        if !(1..=3).contains(&r.n) || !(r.k > 0.0 && r.k <= 100.0) {
            fail!(Policy, "[primary] dominance = {{ n = {}, k = {} }} is impossible: n must be 1, 2 or 3 and k a percentage above 0 and at most 100 (e.g. {{ n = 1, k = 85 }})", r.n, r.k);
        }
    }
    if let Some(p) = file.primary.p_percent {
        if !(p > 0.0 && p < 100.0) {
            fail!(Policy, "[primary] p_percent = {p} is impossible: it is a percentage above 0 and below 100 (e.g. p_percent = 15)");
        }
    }
    if !file.tables.is_empty() && file.input.kind != InputKind::Microdata {
        fail!(Policy, "[tables] builds several tables from one microdata file; set [input] kind = \"microdata\"");
    }
    for (table, t) in &file.tables {
        let plain = !table.is_empty() && !table.starts_with('.') && table.chars().all(|c| c.is_alphanumeric() || "_-.".contains(c));
        if !plain {
            fail!(
                Policy,
                "[tables] names a table `{table}`; a table's name becomes its file name in the output folder, so it may hold only letters, digits, `_`, `-` and `.` (not first): rename it, e.g. `by_sex`"
            );
        }
        if t.dimensions.is_empty() {
            fail!(Policy, "[tables.{table}] lists no dimensions; add e.g. `dimensions = [\"district\", \"sex\"]`");
        }
        for name in &t.dimensions {
            check_dimension_named(file, name, |hint, names| {
                format!("[tables.{table}] lists `{name}`, which is not a dimension{hint}; define it under [dimensions.{name}] or use one of: {names}")
            })?;
        }
    }
    for name in &file.primary.sensitive {
        check_dimension_named(file, name, |hint, names| {
            format!("[primary] sensitive names `{name}`, which is not a dimension{hint}; it lists dimensions whose categories are sensitive ({names})")
        })?;
    }
    let limit = file.secondary.time_limit;
    if !(limit.is_finite() && limit > 0.0) {
        fail!(Policy, "[secondary] time_limit = {limit} must be a positive number of seconds, e.g. `time_limit = 600`");
    }
    if file.secondary.method == SecondaryMethod::Interval && !file.audit.enabled {
        fail!(Policy, "[secondary] method = \"interval\" is checked by the audit, but [audit] enabled = false; enable the audit");
    }
    validate_rounding(file)?;
    let ptable = validate_perturbation(file, base_dir, hasher)?;
    validate_publication(file)?;
    validate_audit(file)?;
    if let Some(bits) = file.input.record_key_bits {
        if file.input.record_key.is_none() {
            fail!(Policy, "[input] record_key_bits = {bits} describes integer record keys, but there is no [input] record_key; name the key column or remove record_key_bits");
        }
        if !(1..=32).contains(&bits) {
            fail!(Policy, "[input] record_key_bits = {bits} must be from 1 to 32 (keys are whole numbers in [0, 2^bits)); for keys in [0, 1) remove record_key_bits");
        }
    }
    if file.input.record_key.is_some() && file.perturbation.method == PerturbationMethod::None && file.rounding.randomness != RoundingRandomness::CellKey {
        fail!(
            Policy,
            "[input] record_key is used by [perturbation] method = \"cell_key\" or [rounding] randomness = \"cell_key\"; add one of them or remove record_key"
        );
    }
    if file.noise.method != NoiseMethod::None {
        if file.secondary.method != SecondaryMethod::None
            || file.rounding.method != RoundingMethod::None
            || file.perturbation.method != PerturbationMethod::None
            || file.primary.threshold.is_some()
        {
            fail!(
                Policy,
                "[noise] publishes every cell with noise; remove [primary] threshold, [secondary], [rounding] and [perturbation] from this policy (keep one way of protecting)"
            );
        }
        if !file.tables.is_empty() {
            fail!(Policy, "[noise] protects one table per policy (the budgets of several tables add up); remove [tables] and protect each table with its share of the budget");
        }
        if file.input.magnitude.is_some() {
            fail!(Policy, "[noise] adds noise to counts; a magnitude table ([input] magnitude) needs a bound on each contribution, which this version does not take");
        }
    }

    let mut columns_seen: IndexMap<String, String> = IndexMap::new();
    let count_columns = [file.input.count.as_deref(), file.input.weight.as_deref(), file.input.magnitude.as_deref(), file.input.record_key.as_deref()];
    let mut dims = Vec::with_capacity(file.dimensions.len());
    for (name, section) in &file.dimensions {
        if RESERVED_COLUMNS.contains(&name.as_str()) {
            fail!(
                Policy,
                "dimension `{name}` has the name of an output column ({}); rename the dimension (e.g. `[dimensions.{name}_code]` with `column = \"{name}\"`)",
                RESERVED_COLUMNS.join(", ")
            );
        }
        if name.is_empty() {
            fail!(Policy, "a dimension has an empty name; name every `[dimensions.<name>]` section");
        }
        let column = section.column.clone().unwrap_or_else(|| name.clone());
        if let Some(other) = columns_seen.insert(column.clone(), name.clone()) {
            fail!(Policy, "dimensions `{other}` and `{name}` both read column `{column}`; give each dimension its own column");
        }
        if count_columns.contains(&Some(column.as_str())) {
            fail!(Policy, "dimension `{name}` reads column `{column}`, which [input] also uses for counts; a column is either a dimension or the count");
        }
        let hierarchy = hierarchy_spec(name, section, base_dir, hasher)?;
        dims.push(DimensionPolicy { name: name.clone(), column, hierarchy });
    }
    Ok((dims, ptable))
}

/// Fail with `message(did-you-mean hint, the dimensions)` unless `name` is a dimension.
fn check_dimension_named(file: &PolicyFile, name: &str, message: impl Fn(String, String) -> String) -> Fallible<()> {
    if file.dimensions.contains_key(name) {
        return Ok(());
    }
    let names: Vec<&str> = file.dimensions.keys().map(String::as_str).collect();
    fail!(Policy, "{}", message(suggest_code(name, names.iter().copied()), names.join(", ")))
}

/// Refuse a count-like policy value outside the exact range of the LPs
/// (see [`crate::table::MAX_COUNT`]): sums and levels past it lose exactness
/// or wrap around.
fn check_count_range(key: &str, v: i64) -> Fallible<()> {
    if v > crate::table::MAX_COUNT {
        fail!(
            Policy,
            "{key} = {v} is above 2^53 ({}), the largest count the engine computes with exactly; use a value below it",
            crate::table::MAX_COUNT
        );
    }
    Ok(())
}

fn validate_protection(p: &ProtectionSection) -> Fallible<()> {
    let absolute = p.lower.is_some() || p.upper.is_some();
    if absolute && p.percent.is_some() {
        fail!(Policy, "[primary.protection] gives both absolute levels (`lower`/`upper`) and `percent`; keep one kind");
    }
    if p.minimum.is_some() && p.percent.is_none() {
        fail!(Policy, "[primary.protection] `minimum` goes with `percent`; add `percent` or remove `minimum`");
    }
    for (key, v) in [("lower", p.lower), ("upper", p.upper), ("minimum", p.minimum)] {
        if let Some(v) = v {
            if v < 0 {
                fail!(Policy, "[primary.protection] {key} = {v} is negative; protection levels are counts of at least 0");
            }
            check_count_range(&format!("[primary.protection] {key}"), v)?;
        }
    }
    if let Some(pct) = p.percent {
        if !(pct > 0.0 && pct <= 1000.0) {
            fail!(Policy, "[primary.protection] percent = {pct} must be above 0 (and at most 1000)");
        }
    }
    Ok(())
}

fn hierarchy_spec(name: &str, s: &DimensionSection, base_dir: &Path, hasher: &mut Sha256) -> Fallible<HierarchySpec> {
    let given: Vec<&str> = [
        ("codes", s.codes.is_some()),
        ("tree", s.tree.is_some()),
        ("codes_file", s.codes_file.is_some()),
        ("parents", s.parents.is_some()),
        ("code_lengths", s.code_lengths.is_some()),
    ]
    .iter()
    .filter(|(_, set)| *set)
    .map(|(k, _)| *k)
    .collect();
    if given.len() > 1 {
        fail!(
            Policy,
            "[dimensions.{name}] gives {}; a hierarchy is specified one way only: keep one of them",
            given.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(" and ")
        );
    }
    let total = s.total.clone().unwrap_or_else(|| "Total".to_owned());
    if total.is_empty() {
        fail!(Policy, "[dimensions.{name}] total = \"\" is not a usable code; name the total, e.g. `total = \"Total\"`");
    }
    if let Some(codes) = &s.codes {
        if codes.is_empty() {
            fail!(Policy, "[dimensions.{name}] codes = [] lists no codes; list them, or remove `codes` to take them from the data");
        }
        return Ok(HierarchySpec::FlatListed { total, codes: codes.clone() });
    }
    if let Some(tree) = &s.tree {
        if s.total.is_some() {
            fail!(Policy, "[dimensions.{name}] `total` is not used with `tree`: the tree's root (the code that is nobody's child) is the total; remove `total`");
        }
        if tree.is_empty() {
            fail!(Policy, "[dimensions.{name}] tree = {{}} is empty; give at least the root and its children, e.g. `tree = {{ \"0-17\" = [\"0-4\", \"5-11\", \"12-17\"] }}`");
        }
        return Ok(HierarchySpec::Tree { edges: tree.clone() });
    }
    if let Some(cf) = &s.codes_file {
        let path: PathBuf = base_dir.join(&cf.path);
        if !cf.path.to_ascii_lowercase().ends_with(".csv") {
            fail!(Policy, "[dimensions.{name}] codes_file = \"{}\" is not a CSV file; a codes table is a .csv with a code and a parent column", cf.path);
        }
        let text = crate::io::read_text_limited(&path, MAX_CODES_FILE_BYTES, &format!("[dimensions.{name}] codes_file"))
            .map_err(|e| err!(Io, "{}; the path is relative to the policy file", e.message))?
            .into_bytes();
        hasher.update(b"\0codes_file\0");
        hasher.update(cf.path.as_bytes());
        hasher.update(b"\0");
        hasher.update(&text);
        let pairs = crate::io::read_code_parent_pairs(&text, &cf.code, &cf.parent, &path.display().to_string())?;
        return Ok(HierarchySpec::Table { total: s.total.clone(), pairs, source: cf.path.clone() });
    }
    if let Some(parents) = &s.parents {
        if parents.is_empty() {
            fail!(Policy, "[dimensions.{name}] parents = {{}} lists no codes; give each code and its parent (\"\" for a top-level code)");
        }
        if parents.keys().any(|code| code.trim().is_empty()) {
            fail!(Hierarchy, "[dimensions.{name}] parents has an empty code; every code needs a name");
        }
        let pairs = parents.iter().map(|(code, parent)| (code.clone(), (!parent.trim().is_empty()).then(|| parent.clone()))).collect();
        return Ok(HierarchySpec::Table { total: s.total.clone(), pairs, source: format!("[dimensions.{name}] parents") });
    }
    if let Some(lengths) = &s.code_lengths {
        if lengths.is_empty() || lengths.contains(&0) || lengths.windows(2).any(|w| w[0] >= w[1]) {
            fail!(
                Policy,
                "[dimensions.{name}] code_lengths = {lengths:?} must be positive and strictly increasing, top level first, e.g. `[2, 5]` for department `05` > municipality `05001`"
            );
        }
        return Ok(HierarchySpec::CodeLengths { total, lengths: lengths.clone() });
    }
    Ok(HierarchySpec::FlatFromData { total })
}
