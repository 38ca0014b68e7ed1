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
pub use input::*;
pub use noise::{ExactNumber, NoiseBudget, NoiseLevels, NoiseMethod, NoiseSection, Postprocess};
pub use perturbation::*;
pub use primary::*;
pub use publication::*;
pub use rounding::*;
pub use secondary::*;
pub use crate::suggest::suggest_code;
use validate::validate;

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
            err!(Policy, "{}", crate::suggest::explain_toml_error(&e, text))
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
        toml::from_str(&self.text).map_err(|e| err!(Policy, "{}", crate::suggest::explain_toml_error(&e, &self.text)))
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
