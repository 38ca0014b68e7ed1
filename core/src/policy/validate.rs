//! The checks that span sections (one way of protecting per policy, columns
//! used once, the audit on where suppression needs it), calling the checks
//! of the sections no method owns: all before any data is read.

use std::path::Path;

use indexmap::IndexMap;
use sha2::Sha256;

use super::{DimensionPolicy, InputKind, NoiseMethod, POLICY_VERSION, PerturbationMethod, PolicyFile, RESERVED_COLUMNS, RoundingMethod, SecondaryMethod, check_count_range, check_dimension_named, hierarchy_spec, validate_audit, validate_protection, validate_publication};
use crate::error::Fallible;
use crate::fail;

/// Every check of a policy file's sections that no method owns, before
/// any data is read (each method checks its own section when the plan is
/// built: see `crate::plan`).
pub fn check_sections(file: &PolicyFile) -> Fallible<()> {
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

    Ok(())
}

/// The dimensions, each with its hierarchy resolved (codes tables read and
/// hashed into `hasher`), checked against each other and the input columns.
pub fn resolve_dimensions(file: &PolicyFile, base_dir: &Path, hasher: &mut Sha256) -> Fallible<Vec<DimensionPolicy>> {
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
    Ok(dims)
}
