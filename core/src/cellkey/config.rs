//! `[perturbation]`, checked: the cell key method's perturbation table, built
//! (or read and hashed) once, at load time, so impossible parameters or a
//! bad file fail before any data is read, and the table the run uses is the
//! one the policy's SHA-256 covers.

use std::path::Path;

use sha2::{Digest, Sha256};

use super::ptable::{self, Ptable, PtableParameters};
use crate::error::Fallible;
use crate::fail;
use crate::policy::{InputKind, PerturbationMethod, PerturbationSection, PolicyFile, RoundingMethod, SecondaryMethod, MAX_CODES_FILE_BYTES};

/// A checked `[perturbation]`: the perturbation table, the record key
/// column, and how the table was given (for each cell's reason).
#[derive(Debug, Clone, PartialEq)]
pub struct CellKeyConfig {
    pub ptable: Ptable,
    pub record_key: String,
    /// "cell key (ptable <file>)" or "cell key (D=.., V=.., js=..)".
    pub description: String,
}

/// The ptable parameters `[perturbation]` gives, with their defaults.
pub fn ptable_parameters(p: &PerturbationSection) -> PtableParameters {
    PtableParameters { max_deviation: p.max_deviation.unwrap_or(2), variance: p.variance.unwrap_or(1.0), js: p.js.unwrap_or(0), p_stay: p.p_stay }
}

impl CellKeyConfig {
    /// `[perturbation]` checked against the rest of the policy, its table
    /// built or read (and hashed into `hasher`); None when the policy does
    /// not perturb.
    pub fn new(file: &PolicyFile, base_dir: &Path, hasher: &mut Sha256) -> Fallible<Option<CellKeyConfig>> {
        let p = &file.perturbation;
        if p.method == PerturbationMethod::None {
            if *p != PerturbationSection::default() {
                fail!(Policy, "[perturbation] sets parameters but no method; add `method = \"cell_key\"`, or remove the section");
            }
            return Ok(None);
        }
        let Some(record_key) = file.input.record_key.clone().filter(|_| file.input.kind == InputKind::Microdata) else {
            fail!(
                Policy,
                "[perturbation] method = \"cell_key\" needs microdata with record keys: set [input] kind = \"microdata\" and \
                 record_key = \"<column of keys in [0, 1)>\""
            );
        };
        if file.secondary.method != SecondaryMethod::None || file.rounding.method != RoundingMethod::None || file.primary.threshold.is_some() {
            fail!(Policy, "[perturbation] perturbs every cell; remove [primary] threshold, [secondary] and [rounding] from this policy (keep one way of protecting)");
        }
        if file.input.magnitude.is_some() {
            fail!(Policy, "[perturbation] method = \"cell_key\" perturbs counts; remove [input] magnitude");
        }
        let (ptable, description) = match &p.ptable_file {
            Some(path) => {
                if p.max_deviation.is_some() || p.variance.is_some() || p.js.is_some() || p.p_stay.is_some() {
                    fail!(Policy, "[perturbation] gives both ptable_file and ptable parameters (max_deviation, variance, js, p_stay); keep one");
                }
                let full = base_dir.join(path);
                let text = crate::io::read_text_limited(&full, MAX_CODES_FILE_BYTES, "[perturbation] ptable_file")?;
                hasher.update(b"\0ptable_file\0");
                hasher.update(text.as_bytes());
                (ptable::parse(&text, path)?, format!("cell key (ptable {path})"))
            }
            None => {
                let params = ptable_parameters(p);
                let description = format!("cell key (D={}, V={}, js={})", params.max_deviation, params.variance, params.js);
                (ptable::generate(params).map_err(|e| crate::err!(Policy, "[perturbation]: {}", e.message))?, description)
            }
        };
        Ok(Some(CellKeyConfig { ptable, record_key, description }))
    }
}
