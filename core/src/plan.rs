//! The validated policy: the checked policy file ([`CheckedPolicy`]) and the
//! one way of protecting it asks for, typed ([`Protection`]), each method's
//! configuration built by its own folder with all its checks. Every refusal
//! happens here, when the policy is loaded, before any data is read.

use std::ops::Deref;
use std::path::Path;

use sha2::Sha256;

use crate::cellkey::CellKeyConfig;
use crate::error::Fallible;
use crate::noise::NoiseConfig;
use crate::policy::{RoundingRandomness, json_table, merge_tables, toml_text, CheckedPolicy, Method, PolicyFile, MAX_POLICY_BYTES, PROTECTION_SECTIONS};
use crate::rounding::RoundingConfig;
use crate::suppression::SuppressionConfig;
use crate::{err, fail};

/// How the table is protected: one method per policy.
#[derive(Debug, Clone, PartialEq)]
pub enum Protection {
    /// Primary rules and secondary suppression (with no rule, every cell is
    /// published as it is).
    Suppress(SuppressionConfig),
    /// Every cell rounded (`[rounding]`).
    Round(RoundingConfig),
    /// Every cell perturbed by the cell key method (`[perturbation]`).
    CellKey(CellKeyConfig),
    /// Every cell with differential privacy noise (`[noise]`).
    Noise(NoiseConfig),
}

impl Protection {
    /// The method `file` asks for, its section checked (the perturbation
    /// table read and hashed into `hasher`).
    fn new(file: &PolicyFile, base_dir: &Path, hasher: &mut Sha256) -> Fallible<Protection> {
        let suppression = SuppressionConfig::new(file)?;
        let rounding = RoundingConfig::new(file)?;
        let cell_key = CellKeyConfig::new(file, base_dir, hasher)?;
        let names: Vec<&str> = file.dimensions.keys().map(String::as_str).collect();
        let noise = NoiseConfig::new(&file.noise, &names)?;
        let keys_used = cell_key.is_some() || rounding.as_ref().is_some_and(|r| r.section.randomness == RoundingRandomness::CellKey);
        if file.input.record_key.is_some() && !keys_used {
            fail!(
                Policy,
                "[input] record_key is used by [perturbation] method = \"cell_key\" or [rounding] randomness = \"cell_key\"; add one of them or remove record_key"
            );
        }
        Ok(match (rounding, cell_key, noise) {
            (None, None, None) => Protection::Suppress(suppression),
            (Some(r), None, None) => Protection::Round(r),
            (None, Some(c), None) => Protection::CellKey(c),
            (None, None, Some(n)) => Protection::Noise(n),
            _ => fail!(Policy, "the policy asks for more than one of [rounding], [perturbation] and [noise]; keep one way of protecting"),
        })
    }
}

/// A validated policy, ready to run: the checked file (which it derefs to,
/// for its sections and dimensions) and its typed [`Protection`].
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    checked: CheckedPolicy,
    pub protection: Protection,
}

impl Deref for Policy {
    type Target = CheckedPolicy;
    fn deref(&self) -> &CheckedPolicy {
        &self.checked
    }
}

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
        let (checked, protection) = CheckedPolicy::read(text, base_dir, |file, hasher| Protection::new(file, base_dir, hasher))?;
        Ok(Policy { checked, protection })
    }

    /// A policy from a JSON object with the policy file's keys (what the
    /// frontends build from dicts and lists). Its text (and hash) is the
    /// TOML it translates to.
    pub fn from_json(json: &str, base_dir: &Path) -> Fallible<Policy> {
        let mut table = json_table(json, "the policy")?;
        empty_lists_as_sections(&mut table);
        Policy::from_generated(&toml_text(&table)?, base_dir)
    }

    /// A policy from TOML Amparo wrote (from a dict or list, or with
    /// overrides merged in): the person never saw its lines, so an error
    /// names the section instead (`in the policy's [rounding] section`).
    fn from_generated(text: &str, base_dir: &Path) -> Fallible<Policy> {
        Policy::from_toml(text, base_dir).map_err(|mut e| {
            e.message = crate::suggest::by_section(&e.message, text);
            e
        })
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
        Policy::from_generated(&toml_text(&table)?, &self.base_dir)
    }

    /// [`Policy::with_overrides`] for sections given as keyword arguments of
    /// a frontend's call whose own keywords are `call_keywords`: a keyword
    /// that is neither a policy section nor the call's own is named with the
    /// nearest of both (`keep_origin=`: did you mean `keep_original`?).
    pub fn with_call_overrides(&self, overrides: &str, call_keywords: &[&str]) -> Fallible<Policy> {
        let table = json_table(overrides, "the overrides")?;
        let sections = crate::policy::SECTION_NAMES;
        for key in table.keys().filter(|k| !sections.contains(&k.as_str())) {
            let near = crate::suggest::nearest(key, call_keywords.iter().chain(&sections).copied());
            fail!(
                Policy,
                "`{key}` is neither an argument of this function ({}) nor a policy section ({}){}",
                call_keywords.join(", "),
                sections.join(", "),
                near.map(|n| format!("; did you mean `{n}`?")).unwrap_or_default()
            );
        }
        self.with_overrides(overrides)
    }

    /// This policy protecting by `method` alone: input, dimensions, linked
    /// tables and audit settings kept, the other protection sections
    /// dropped, and the method's section (the policy's own, if it has one)
    /// with `options` (a JSON object of its keys) merged in; without a
    /// method there, the method's usual one ([`Method::default_method`]). So a suppression policy can also give
    /// the rounded or noisy version of the same table.
    pub fn for_method(&self, method: Method, options: &str) -> Fallible<Policy> {
        self.for_method_call(method, options, &[])
    }

    /// [`Policy::for_method`] for a call whose own keywords are
    /// `call_keywords` and whose other keywords are `options`: a key the
    /// section refuses that is near a keyword of the call is named as that
    /// keyword (`round_table(..., keep_origin = TRUE)`: `keep_original`).
    pub fn for_method_call(&self, method: Method, options: &str, call_keywords: &[&str]) -> Fallible<Policy> {
        let keys: Vec<String> = json_table(options, &format!("the [{}] options", method.section()))?.keys().cloned().collect();
        self.for_method_options(method, options).map_err(|e| {
            let misspelt = keys.iter().find_map(|key| {
                let refused = e.message.contains(&format!("unknown key `{key}`"));
                let near = crate::suggest::nearest(key, call_keywords.iter().copied())
                    .filter(|near| strsim::levenshtein(key, near) <= 2.max(key.chars().count() / 3));
                refused.then_some(near.map(|near| (key, near))).flatten()
            });
            match misspelt {
                Some((key, near)) => err!(
                    Policy,
                    "`{key}` is neither an argument of this function ({}) nor a key of the policy's [{}] section; did you mean `{near}`?",
                    call_keywords.join(", "),
                    method.section()
                ),
                None => e,
            }
        })
    }

    fn for_method_options(&self, method: Method, options: &str) -> Fallible<Policy> {
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
        Policy::from_generated(&toml_text(&table)?, &self.base_dir)
    }

    fn toml_table(&self) -> Fallible<toml::Table> {
        toml::from_str(&self.text).map_err(|e| err!(Policy, "{}", crate::suggest::explain_toml_error(&e, &self.text)))
    }
}

/// An empty section given as an empty list (R's `list()`, which has no
/// names to make it a table) is the empty section, so `list(district =
/// list())` is `[dimensions.district]`, as Python's `{"district": {}}` is,
/// and both policies have the same text and SHA-256.
fn empty_lists_as_sections(table: &mut toml::Table) {
    let empty = |v: &toml::Value| matches!(v, toml::Value::Array(a) if a.is_empty());
    for (key, value) in table.iter_mut() {
        if crate::policy::SECTION_NAMES.contains(&key.as_str()) && empty(value) {
            *value = toml::Value::Table(toml::Table::new());
        }
        // A dimension or a linked table with no keys.
        if let (true, toml::Value::Table(entries)) = (key == "dimensions" || key == "tables", value) {
            for (_, entry) in entries.iter_mut().filter(|(_, v)| empty(v)) {
                *entry = toml::Value::Table(toml::Table::new());
            }
        }
    }
}
