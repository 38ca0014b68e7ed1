//! The `[perturbation]` section: the cell key method and its perturbation table, built (or read and hashed) once, at load time.

use std::path::Path;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{InputKind, MAX_CODES_FILE_BYTES, PolicyFile, RoundingMethod, SecondaryMethod};
use crate::error::Fallible;
use crate::fail;

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
pub(super) fn validate_perturbation(file: &PolicyFile, base_dir: &Path, hasher: &mut Sha256) -> Fallible<Option<crate::cellkey::ptable::Ptable>> {
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
