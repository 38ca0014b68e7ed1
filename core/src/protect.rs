//! The pipeline: read the input into a cube, protect it by the policy's one
//! method (a single `match` on [`Protection`]), audit what suppression hid,
//! and return the protected table with its metadata.

use arrow_array::RecordBatchReader;

use crate::error::Fallible;
use crate::marks::{CellMarks, Status};
use crate::output::{AuditOutcome, Metadata, Protected};
use crate::plan::{Policy, Protection};
use crate::policy::{CheckedPolicy, SecondaryMethod, ZeroPolicy};
use crate::random::{self, Randomness};
use crate::table::{self, Additive, Cube, CubeBuilder};
use crate::{audit, cellkey, fail, io, noise, progress, rounding, rules, suppression};

/// Rows read at a time from an input batch (see [`build_cube`]).
const INGEST_SLICE_ROWS: usize = 64 * 1024;

/// Build the cube (every cell, margins included) from a stream of record batches.
pub fn build_cube(policy: &Policy, input: &mut dyn RecordBatchReader) -> Fallible<Cube> {
    let builder = CubeBuilder::new(policy, &input.schema())?;
    let clock = std::time::Instant::now();
    let fed = feed(builder, input)?;
    let read = clock.elapsed();
    let cube = fed.finish()?;
    if std::env::var_os("AMPARO_DEBUG").is_some() {
        eprintln!("build: rows read in {read:?}, cube finished in {:?}", clock.elapsed() - read);
    }
    Ok(cube)
}

/// The per-cell sums of part of the input, to be merged with the other
/// parts' by [`protect_partials`] (see [`table::CubeBuilder::partials`]): how
/// Spark executors aggregate their partitions. Every row is checked as
/// [`protect`] checks it.
pub fn aggregate_partials(policy: &Policy, input: &mut dyn RecordBatchReader) -> Fallible<arrow_array::RecordBatch> {
    reject_linked(policy, "aggregate_partials")?;
    let builder = CubeBuilder::new(policy, &input.schema())?;
    Ok(feed(builder, input)?.partials())
}

/// Merge partial aggregates (from [`aggregate_partials`], or from earlier
/// merges of them: merging is associative) into one partial aggregate.
pub fn merge_partials(policy: &Policy, input: &mut dyn RecordBatchReader) -> Fallible<arrow_array::RecordBatch> {
    reject_linked(policy, "merge_partials")?;
    let builder = CubeBuilder::merging(policy, &input.schema())?;
    Ok(feed(builder, input)?.partials())
}

/// Build the table from partial aggregates of its input and protect it: the
/// same output, byte for byte, as [`protect`] on the whole input.
pub fn protect_partials(policy: &Policy, input: &mut dyn RecordBatchReader) -> Fallible<Protected> {
    reject_linked(policy, "protect_partials")?;
    let builder = CubeBuilder::merging(policy, &input.schema())?;
    protect_cube(policy, feed(builder, input)?.finish()?)
}

fn reject_linked(policy: &Policy, function: &str) -> Fallible<()> {
    if !policy.file.tables.is_empty() {
        fail!(Policy, "this policy lists [tables] (linked tables), which {function} does not take: protect them with protect_tables, which gives one table each");
    }
    Ok(())
}

/// Read every batch of `input` into `builder`, reporting progress.
fn feed<'p>(mut builder: CubeBuilder<'p>, input: &mut dyn RecordBatchReader) -> Fallible<CubeBuilder<'p>> {
    for batch in input {
        let batch = batch.map_err(|e| io::arrow_read_error(e, "the input"))?;
        // A frame handed over whole arrives as one batch; reading it in
        // zero-copy slices bounds the copies made while reading (text
        // columns cast from other string types) by the slice, not the frame.
        for offset in (0..batch.num_rows()).step_by(INGEST_SLICE_ROWS) {
            builder.push(&batch.slice(offset, INGEST_SLICE_ROWS.min(batch.num_rows() - offset)))?;
            progress::report("reading rows", builder.rows(), None);
        }
    }
    Ok(builder)
}

/// Build the table and protect it as the policy says.
pub fn protect(policy: &Policy, input: &mut dyn RecordBatchReader) -> Fallible<Protected> {
    reject_linked(policy, "protect")?;
    protect_cube(policy, build_cube(policy, input)?)
}

fn protect_cube(policy: &Policy, cube: Cube) -> Fallible<Protected> {
    let mut protected = match &policy.protection {
        Protection::Suppress(config) => {
            let (mut marks, mut methods) = primary_marks(config, &cube)?;
            let forced_published = forced_marks(config, &cube, &mut marks, false)?;
            let (audit, choice) = secondary_and_audit(policy, config, &cube, Some(&cube), &mut marks, &forced_published, &mut methods)?;
            let metadata = run_metadata(policy, &methods, audit.as_ref(), choice);
            Ok(Protected { cube, marks, metadata, audit })
        }
        Protection::Round(config) => round(policy, config, cube),
        Protection::CellKey(config) => perturb(policy, config, cube),
        Protection::Noise(config) => add_noise(policy, config, cube),
    }?;
    protected.record_summary();
    Ok(protected)
}

/// Publish every cell rounded, as `[rounding]` says (see [`rounding`]).
fn round(policy: &CheckedPolicy, config: &rounding::RoundingConfig, cube: Cube) -> Fallible<Protected> {
    let section = &config.section;
    let generator = if section.draws_from_generator() { Some(random::generator(section.seed)?) } else { None };
    let (marks, randomness, notes) = rounding::round_table(config, &cube, generator)?;
    let method = serde_json::to_value(section.method).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
    let mut metadata = Metadata::for_run(policy, format!("rounding:{method}"), randomness);
    metadata.set_audit_not_applicable("rounding");
    metadata.notes = notes;
    Ok(Protected { cube, marks, metadata, audit: None })
}

/// Publish every cell perturbed by the cell key method (see [`cellkey`]).
fn perturb(policy: &CheckedPolicy, config: &cellkey::CellKeyConfig, mut cube: Cube) -> Fallible<Protected> {
    let clock = std::time::Instant::now();
    let marks = cellkey::perturb(&cube, &config.ptable, &config.description)?;
    cube.forget_cell_keys();
    if std::env::var_os("AMPARO_DEBUG").is_some() {
        eprintln!("perturb: {} cells in {:?}", cube.len(), clock.elapsed());
    }
    let mut metadata = Metadata::for_run(policy, "perturbation:cell_key".to_owned(), Randomness::CellKeys(config.record_key.clone()));
    metadata.set_audit_not_applicable("perturbation");
    metadata.notes.push(("additivity".to_owned(), "every cell is perturbed on its own: a total may differ from the sum of its parts".to_owned()));
    Ok(Protected { cube, marks, metadata, audit: None })
}

/// Publish every cell with differential privacy noise (see [`noise`]).
fn add_noise(policy: &CheckedPolicy, config: &noise::NoiseConfig, cube: Cube) -> Fallible<Protected> {
    let (marks, randomness, notes) = noise::add_noise(config, &cube, random::generator(config.section.seed)?)?;
    let method = serde_json::to_value(config.section.method).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
    let mut metadata = Metadata::for_run(policy, format!("noise:{method}"), randomness);
    metadata.set_audit_not_applicable("noise");
    metadata.notes = notes;
    Ok(Protected { cube, marks, metadata, audit: None })
}

/// Build the linked tables the policy's `[tables]` lists from one stream of
/// microdata (read once) and protect them together: one result per table,
/// in the policy's order.
pub fn protect_tables(policy: &Policy, input: &mut dyn RecordBatchReader) -> Fallible<Vec<(String, Protected)>> {
    let tables = policy.linked_tables();
    if tables.is_empty() {
        return Ok(vec![(policy.table_name().to_owned(), protect(policy, input)?)]);
    }
    let schema = input.schema();
    let mut builders = tables.iter().map(|(_, p)| CubeBuilder::new(p, &schema)).collect::<Fallible<Vec<_>>>()?;
    for batch in input {
        let batch = batch.map_err(|e| io::arrow_read_error(e, "the input"))?;
        for b in &mut builders {
            b.push(&batch)?;
        }
    }
    let cubes = builders.into_iter().map(CubeBuilder::finish).collect::<Fallible<Vec<_>>>()?;
    // The cell key method gives a cell the same value in every table by
    // itself (same records, same key): each table is perturbed on its own.
    // Rounding draws from the same keys (the plan checked it).
    let protected = match &policy.protection {
        Protection::CellKey(config) => cubes.into_iter().map(|cube| perturb(policy, config, cube)).collect::<Fallible<Vec<_>>>()?,
        Protection::Round(config) => cubes.into_iter().map(|cube| round(policy, config, cube)).collect::<Fallible<Vec<_>>>()?,
        Protection::Suppress(_) => protect_linked(policy, cubes)?,
        Protection::Noise(_) => fail!(Policy, "[noise] protects one table per policy; remove [tables]"),
    };
    Ok(tables
        .into_iter()
        .zip(protected)
        .map(|((name, p), mut out)| {
            out.metadata.table = p.table_name().to_owned();
            out.record_summary();
            (name, out)
        })
        .collect())
}

/// Protect several linked tables at once (see [`table::LinkedTables`]): a
/// cell they share has one status everywhere, and the secondary suppression
/// and the audit work on all of them together. `fast` needs a single table.
pub fn protect_linked(policy: &Policy, cubes: Vec<Cube>) -> Fallible<Vec<Protected>> {
    let Protection::Suppress(config) = &policy.protection else {
        fail!(Policy, "protect_linked hides cells; this policy protects by another method: use protect_tables");
    };
    let mut per_table = Vec::with_capacity(cubes.len());
    let mut methods = Vec::new();
    for cube in &cubes {
        let (marks, m) = primary_marks(config, cube)?;
        methods = m;
        per_table.push(marks);
    }
    let linked = table::LinkedTables::new(cubes)?;
    let mut marks = CellMarks::publish_values(linked.values());
    let mut forced_published = vec![false; linked.len()];
    for (t, table_marks) in per_table.iter_mut().enumerate() {
        let forced = forced_marks(config, &linked.cubes[t], table_marks, true)?;
        for (cell, &g) in linked.linked[t].iter().enumerate() {
            forced_published[g] |= forced[cell];
            if table_marks.is_hidden(cell) && !marks.is_hidden(g) {
                marks.hide(g, table_marks.status[cell], table_marks.reason[cell].clone().expect("hidden cells have a reason"));
            }
            let levels = match (marks.protection[g], table_marks.protection[cell]) {
                (Some((a, b)), Some((c, d))) => Some((a.max(c), b.max(d))),
                (x, y) => x.or(y),
            };
            marks.protection.set(g, levels);
        }
    }
    let (audit, choice) = secondary_and_audit(policy, config, &linked, None, &mut marks, &forced_published, &mut methods)?;
    methods.push("linked".to_owned());
    let metadata = run_metadata(policy, &methods, audit.as_ref(), choice);
    let table::LinkedTables { cubes, linked: ids, .. } = linked;
    Ok(cubes
        .into_iter()
        .zip(ids)
        .map(|(cube, ids)| {
            let local: std::collections::HashMap<usize, usize> = ids.iter().enumerate().map(|(c, &g)| (g, c)).collect();
            let marks = marks.select(&ids);
            let metadata = metadata.clone();
            // The findings of cells this table has, named by its own cells.
            let audit = audit.as_ref().map(|a| audit::AuditReport {
                findings: a
                    .findings
                    .iter()
                    .filter_map(|f| {
                        local.get(&f.cell).map(|&c| audit::Finding {
                            cell: c,
                            pinned_by: f.pinned_by.iter().filter_map(|g| local.get(g).copied()).collect(),
                            ..f.clone()
                        })
                    })
                    .collect(),
                // A singleton's finding where the table has both cells.
                singleton_findings: a
                    .singleton_findings
                    .iter()
                    .filter_map(|f| match (local.get(&f.singleton), local.get(&f.cell)) {
                        (Some(&singleton), Some(&cell)) => Some(audit::SingletonFinding { singleton, cell, ..f.clone() }),
                        _ => None,
                    })
                    .collect(),
                ..a.clone()
            });
            let mut protected = Protected { cube, marks, metadata, audit };
            protected.record_summary();
            protected
        })
        .collect())
}

/// The primary rules the policy sets, on one table: its marks and the methods applied.
fn primary_marks(config: &suppression::SuppressionConfig, cube: &Cube) -> Fallible<(CellMarks, Vec<String>)> {
    let mut marks = CellMarks::publish_all(cube);
    let mut methods: Vec<String> = Vec::new();
    let primary = &config.primary;
    if primary.threshold.is_some() || primary.zeros == ZeroPolicy::Hide {
        rules::apply_threshold(cube, primary, &mut marks);
        methods.push("primary:threshold".to_owned());
    }
    rules::apply_magnitude_rules(cube, primary, &mut marks);
    if primary.dominance.is_some() {
        methods.push("primary:dominance".to_owned());
    }
    if primary.p_percent.is_some() {
        methods.push("primary:p%".to_owned());
    }
    for name in &primary.sensitive {
        // The policy checked the name; one of several linked tables may lack the dimension.
        let Some(d) = cube.dims().iter().position(|dim| &dim.name == name) else { continue };
        rules::apply_attribute_disclosure(cube, d, &mut marks);
        methods.push(format!("primary:attribute({name})"));
    }
    Ok((marks, methods))
}

/// Apply the policy's forced cells to one table's marks; returns which cells must stay published.
fn forced_marks(config: &suppression::SuppressionConfig, cube: &Cube, marks: &mut CellMarks, linked: bool) -> Fallible<Vec<bool>> {
    let secondary = &config.secondary;
    let forced_published = forced_cells(cube, &secondary.force_published, "[secondary] force_published", linked)?;
    for cell in forced_cells(cube, &secondary.force_hidden, "[secondary] force_hidden", linked)?.iter().enumerate().filter(|c| *c.1).map(|c| c.0) {
        if forced_published[cell] {
            fail!(Policy, "cell ({}) is both in [secondary] force_published and in force_hidden; keep it in one", cube.describe(cell));
        }
        if !marks.is_hidden(cell) {
            marks.hide(cell, Status::Secondary, std::sync::Arc::from(crate::marks::POLICY_HIDDEN_REASON));
        }
    }
    if let Some(cell) = (0..cube.len()).find(|&c| forced_published[c] && marks.protection[c].is_some()) {
        fail!(
            Infeasible,
            "cell ({}) must be published ([secondary] force_published), but it is sensitive ({}); remove it from force_published",
            cube.describe(cell),
            marks.reason[cell].as_deref().unwrap_or("primary")
        );
    }
    Ok(forced_published)
}

/// Secondary suppression as the policy says, then the audit when enabled.
/// `cube` is the single table `fast` works on (None for linked tables).
fn secondary_and_audit(
    policy: &CheckedPolicy,
    config: &suppression::SuppressionConfig,
    table: &dyn table::Additive,
    cube: Option<&Cube>,
    marks: &mut CellMarks,
    forced_published: &[bool],
    methods: &mut Vec<String>,
) -> Fallible<(Option<audit::AuditReport>, Option<String>)> {
    let debug = std::env::var_os("AMPARO_DEBUG").is_some();
    let clock = std::time::Instant::now();
    let secondary = &config.secondary;
    let singletons = config.singletons;
    let promise = config.promise.as_ref();
    let deadline = suppression::Deadline::after(secondary.time_limit);
    // Tables the attackers find, kept for the phases after (see `attacker::witness`).
    let book = std::sync::Arc::new(crate::attacker::witness::Witnesses::new(table.values()));
    let mut choice = None;
    match (secondary.method, cube) {
        (SecondaryMethod::None, _) => {}
        (SecondaryMethod::Interval | SecondaryMethod::Optimal | SecondaryMethod::Modular | SecondaryMethod::Patterns, _) => {
            let (complements, why) = suppression::choose(secondary.method, table, secondary.lp_limit)?;
            let deadline = deadline.running(complements);
            // Each step can hide cells the others must look at again; all
            // only ever add hidden cells or protection, so this ends.
            let mut proven = vec![None; table.len()];
            let mut reached = vec![false; table.len()];
            loop {
                suppression::protect_sensitive(table, marks, complements, secondary.cost, forced_published, promise, &mut proven, deadline, Some(&book))?;
                if debug {
                    eprintln!("sensitive cells protected: {:.2?}", clock.elapsed());
                }
                if singletons && table.len() <= suppression::SINGLETON_LP_LIMIT {
                    suppression::protect_from_singletons(table, marks, secondary.cost, forced_published, deadline)?;
                } else if singletons {
                    // Above it the LP rule costs minutes: the structural rule,
                    // which the audit's singletons check does not judge there.
                    suppression::protect_singletons(table, marks, secondary.cost, forced_published)?;
                }
                if debug {
                    eprintln!("singletons protected: {:.2?}", clock.elapsed());
                }
                let Some(promise) = promise else { break };
                if suppression::protect_outsider_view(table, marks, promise, &mut reached, deadline, Some(&book))? == 0 {
                    break;
                }
            }
            let republished = suppression::republish_exact_secondaries(table, marks, deadline, Some(&book))?;
            if debug {
                eprintln!("{republished} secondaries computable exactly published again: {:.2?}", clock.elapsed());
            }
            methods.push(format!("secondary:{}", complements.name()));
            choice = Some(why);
        }
        (SecondaryMethod::Fast, Some(cube)) => {
            suppression::fast(cube, marks, secondary.cost, forced_published, singletons, deadline)?;
            methods.push("secondary:fast".to_owned());
        }
        (SecondaryMethod::Fast, None) => return Err(suppression::one_table_only(SecondaryMethod::Fast)),
    }
    if debug {
        eprintln!("secondary suppression: {:.2?}", clock.elapsed());
    }
    let clock = std::time::Instant::now();
    let audit = if policy.file.audit.enabled { Some(audit::run(table, marks, policy.file.audit.interval_limit, singletons, promise, Some(&book))?) } else { None };
    if debug {
        eprintln!("audit: {:.2?}", clock.elapsed());
    }
    Ok((audit, choice))
}

/// The metadata of a suppression run; `choice` says which secondary method
/// ran and why (see [`suppression::choose`]).
fn run_metadata(policy: &CheckedPolicy, methods: &[String], audit: Option<&audit::AuditReport>, choice: Option<String>) -> Metadata {
    let method = if methods.is_empty() { "none".to_owned() } else { methods.join("+") };
    let mut metadata = Metadata::for_run(policy, method, Randomness::None);
    if let Some(why) = choice {
        metadata.notes.push(("secondary".to_owned(), why));
    }
    match audit {
        Some(a) => {
            metadata.audit = a.verdict();
            metadata.audit_outcome = if a.passed() { AuditOutcome::Passed } else { AuditOutcome::Failed };
            metadata.notes.push(("intervals".to_owned(), a.intervals_note()));
            metadata.notes.push(("singletons".to_owned(), a.singletons_note()));
        }
        None if policy.file.audit_skipped() => {
            metadata.audit = "NOT AUDITED: the policy skips the audit ([audit] skip); an outsider may recover hidden cells from the margins: do not publish".to_owned();
            metadata.audit_outcome = AuditOutcome::NotAudited;
        }
        // Nothing is hidden: there is nothing for an attacker to recover.
        None => {
            metadata.audit = "not needed: no cell is hidden".to_owned();
            metadata.audit_outcome = AuditOutcome::NotApplicable;
        }
    }
    metadata
}

/// Per cell: named in `specs` (cells the policy names by codes). With
/// `linked`, a spec naming a dimension this table lacks is another table's.
fn forced_cells(cube: &Cube, specs: &[indexmap::IndexMap<String, String>], what: &str, linked: bool) -> Fallible<Vec<bool>> {
    let mut forced = vec![false; cube.len()];
    for spec in specs {
        if linked && spec.keys().any(|name| !cube.dims().iter().any(|d| &d.name == name)) {
            continue;
        }
        forced[cube.find_cell(spec, what)?] = true;
    }
    Ok(forced)
}

/// What `validate` found: the input and policy work together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Validation {
    pub cells: usize,
    pub inner_cells: usize,
    /// (dimension, codes including margins, leaf codes)
    pub dimensions: Vec<(String, usize, usize)>,
}

impl std::fmt::Display for Validation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "input and policy are valid")?;
        for (name, codes, leaves) in &self.dimensions {
            writeln!(f, "  dimension {name}: {codes} codes ({leaves} detailed, {} margins)", codes - leaves)?;
        }
        write!(f, "  table: {} cells ({} inner, {} margins)", self.cells, self.inner_cells, self.cells - self.inner_cells)
    }
}

/// Check an input against a policy (columns, codes, counts, margins) without protecting anything.
pub fn validate(policy: &Policy, input: &mut dyn RecordBatchReader) -> Fallible<Validation> {
    let cube = build_cube(policy, input)?;
    Ok(Validation {
        cells: cube.len(),
        inner_cells: cube.inner_len(),
        dimensions: cube.dims().iter().map(|d| (d.name.clone(), d.hierarchy.len(), d.hierarchy.leaves().count())).collect(),
    })
}
