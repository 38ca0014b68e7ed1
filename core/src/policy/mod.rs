//! The policy file: one TOML document that says how a table is built and protected.
//!
//! The policy is the shared standard between frontends: the CLI, Python and R
//! all read the same file and get the same result. Its JSON Schema is generated
//! from these types (`amparo schema`, committed as `schema/policy.schema.json`).
//!
//! Validation happens here, once: unknown keys are errors that name the key and
//! the nearest valid one; combinations that cannot work are errors that say why.
//! Each section's types and checks sit in a file of their own; this file holds
//! the whole file's type, the loading (TOML, JSON, overrides) and the checks
//! that span sections.

mod audit;
mod dimensions;
mod hierarchy_from;
mod input;
mod noise;
mod perturbation;
mod primary;
mod publication;
mod rounding;
mod secondary;
mod validate;

pub use audit::*;
pub use dimensions::*;
pub use hierarchy_from::{hierarchy_from_code_lengths, hierarchy_from_table, hierarchy_from_tree};
pub use input::*;
pub use noise::{ExactNumber, Invariant, NoiseLevels, NoiseMethod, NoiseSection, Postprocess, MAX_BUDGET, MIN_BUDGET};
pub use perturbation::*;
pub use primary::*;
pub use publication::*;
pub use rounding::*;
pub use secondary::*;
pub use crate::suggest::suggest_code;
pub use validate::{check_sections, resolve_dimensions};

use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::Fallible;
use crate::err;

/// The largest policy file read (a policy with inline code lists of every
/// admin-2 unit of a region is well under a megabyte).
pub const MAX_POLICY_BYTES: u64 = 16 << 20;

/// The largest codes table or ptable file read.
pub const MAX_CODES_FILE_BYTES: u64 = 256 << 20;

/// The largest count a table may hold, margins included: 2^53. The LP
/// solver (HiGHS) works in double precision, which holds every whole number
/// up to 2^53 exactly and no further, so the audit's intervals, and every
/// sum and protection level, are exact only below it.
pub const MAX_COUNT: i64 = 1 << 53;

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

/// A policy file, checked: its sections, its dimensions with their
/// hierarchies resolved, its text and hash. Everything below the protection
/// methods (the table, the rules, the published audit) reads this; the
/// validated policy with its method's typed configuration is
/// [`crate::Policy`], which derefs to it.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedPolicy {
    pub file: PolicyFile,
    pub dimensions: Vec<DimensionPolicy>,
    /// SHA-256 (hex) of the policy text and of every codes table it reads,
    /// recorded in the output so a published table can be tied to its policy.
    pub sha256: String,
    /// The TOML text the policy was read from (or written as, when built
    /// from a JSON object or with overrides): what `sha256` hashes.
    pub text: String,
    /// Where relative paths in the policy (codes tables, ptable files) start.
    pub base_dir: PathBuf,
}

/// A protection method, for [`crate::Policy::for_method`].
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
    pub(crate) fn default_method(self) -> &'static str {
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

/// The policy file's top-level keys (its sections), in the file's order.
pub const SECTION_NAMES: [&str; 13] =
    ["version", "name", "description", "input", "dimensions", "primary", "secondary", "rounding", "noise", "perturbation", "audit", "publication", "tables"];

/// Sections that choose how cells are protected; [`crate::Policy::for_method`] keeps one.
pub(crate) const PROTECTION_SECTIONS: [&str; 5] = ["primary", "secondary", "rounding", "perturbation", "noise"];

impl CheckedPolicy {
    /// Parse and check policy text (`base_dir` is where relative paths
    /// start), with `methods` building what the file's protection sections
    /// ask for in between (`crate::Policy::from_toml`): the hash covers the
    /// text, what `methods` hashes (the perturbation table), then the codes
    /// tables.
    pub fn read<T>(text: &str, base_dir: &Path, methods: impl FnOnce(&PolicyFile, &mut Sha256) -> Fallible<T>) -> Fallible<(CheckedPolicy, T)> {
        let file: PolicyFile = toml::from_str(text).map_err(|e| err!(Policy, "{}", crate::suggest::explain_toml_error(&e, text)))?;
        check_sections(&file)?;
        let mut hasher = Sha256::new();
        hasher.update(text.as_bytes());
        let made = methods(&file, &mut hasher)?;
        let dimensions = resolve_dimensions(&file, base_dir, &mut hasher)?;
        let sha256 = crate::io::hex(&hasher.finalize());
        Ok((CheckedPolicy { file, dimensions, sha256, text: text.to_owned(), base_dir: base_dir.to_path_buf() }, made))
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
    pub fn linked_tables(&self) -> Vec<(String, CheckedPolicy)> {
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
pub(crate) fn json_table(json: &str, what: &str) -> Fallible<toml::Table> {
    serde_json::from_str::<toml::Table>(json).map_err(|e| {
        err!(Policy, "{what} is not a table of policy keys: {e}; give a dict (JSON object) of sections and keys, and leave out a key rather than set it to None (null)")
    })
}

pub(crate) fn toml_text(table: &toml::Table) -> Fallible<String> {
    toml::to_string(table).map_err(|e| err!(Policy, "the policy cannot be written as TOML: {e}"))
}

/// Merge `overrides` into `table`: tables key by key, other values replace.
pub(crate) fn merge_tables(table: &mut toml::Table, overrides: toml::Table) {
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
