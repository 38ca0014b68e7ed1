//! Amparo: statistical disclosure control for tables of counts of children on the move.
//!
//! The engine builds a table (a [`Cube`](table::Cube) of counts with every
//! margin) from microdata or aggregated counts, applies the protection a
//! [`Policy`](policy::Policy) asks for, and returns a table of published
//! values with each cell's status. The CLI, the Python package and the R
//! package are thin frontends over [`protect`] and [`validate`].
//!
//! ```
//! use std::path::Path;
//! let policy = amparo::policy::Policy::from_toml(r#"
//!     version = 1
//!     [input]
//!     kind = "aggregated"
//!     count = "n"
//!     [dimensions.sex]
//!     [primary]
//!     threshold = 5
//! "#, Path::new(".")).unwrap();
//! let csv = "sex,n\nF,3\nM,12\n";
//! let dir = tempfile::tempdir().unwrap();
//! let path = dir.path().join("in.csv");
//! std::fs::write(&path, csv).unwrap();
//! let mut input = amparo::io::read_table(&path).unwrap();
//! let result = amparo::protect(&policy, &mut *input).unwrap();
//! // F = 3 is below the threshold of 5 and hidden; the total (15) and M (12) are published.
//! assert_eq!(result.marks.published, vec![Some(15), None, Some(12)]);
//! ```

pub mod attacker;
pub mod audit;
pub mod cellkey;
pub mod error;
pub mod hierarchy;
pub mod i18n;
pub mod io;
pub mod marks;
pub mod noise;
pub mod output;
pub mod policy;
pub mod progress;
pub mod publish;
pub mod random;
pub mod rounding;
pub mod rules;
pub mod suggest;
pub mod suppression;
pub mod synth;
pub mod table;

use arrow_array::RecordBatchReader;

/// The arrow-rs crates the engine is built on, re-exported so that frontends
/// use exactly the same version (pinned once, in the workspace).
pub mod arrow {
    pub use arrow_array as array;
    pub use arrow_cast as cast;
    pub use arrow_schema as schema;
    pub use arrow_select as select;
}

pub use error::{Error, ErrorKind, Fallible};
pub use marks::{CellMarks, Status};
pub use output::{output_schema, AuditOutcome, Metadata, OutputOptions, Protected, Summary};
pub use random::Randomness;
pub use policy::Policy;
pub use table::{Additive, Cube, CubeBuilder};

/// Version of the engine, recorded in every output.
pub const ENGINE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Rows read at a time from an input batch (see [`build_cube`]).
const INGEST_SLICE_ROWS: usize = 64 * 1024;

/// Build the cube (every cell, margins included) from a stream of record batches.
pub fn build_cube(policy: &Policy, input: &mut dyn RecordBatchReader) -> Fallible<Cube> {
    let builder = CubeBuilder::new(policy, &input.schema())?;
    feed(builder, input)?.finish()
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
    if policy.file.rounding.method != policy::RoundingMethod::None {
        return round(policy, cube);
    }
    if policy.file.perturbation.method != policy::PerturbationMethod::None {
        return perturb(policy, cube);
    }
    if policy.file.noise.method != policy::NoiseMethod::None {
        return add_noise(policy, cube);
    }
    let (mut marks, mut methods) = primary_marks(policy, &cube)?;
    let forced_published = forced_marks(policy, &cube, &mut marks, false)?;
    let audit = secondary_and_audit(policy, &cube, Some(&cube), &mut marks, &forced_published, &mut methods)?;
    let metadata = run_metadata(policy, &methods, audit.as_ref());
    Ok(Protected { cube, marks, metadata, audit })
}

/// Publish every cell rounded, as `[rounding]` says (see [`rounding`]).
fn round(policy: &Policy, cube: Cube) -> Fallible<Protected> {
    let rounding = &policy.file.rounding;
    let generator = if rounding.draws_from_generator() { Some(random::generator(rounding.seed)?) } else { None };
    let (marks, randomness, notes) = rounding::round_table(rounding, &cube, policy.file.input.record_key.as_deref(), generator)?;
    let method = serde_json::to_value(rounding.method).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
    let mut metadata = Metadata::for_run(policy, format!("rounding:{method}"), randomness);
    metadata.set_audit_not_applicable("rounding");
    metadata.notes = notes;
    Ok(Protected { cube, marks, metadata, audit: None })
}

/// Publish every cell perturbed by the cell key method (see [`cellkey`]).
fn perturb(policy: &Policy, cube: Cube) -> Fallible<Protected> {
    let section = &policy.file.perturbation;
    let Some(ptable) = policy.ptable.as_ref() else {
        fail!(Policy, "[perturbation] has no perturbation table; give ptable parameters or ptable_file");
    };
    let reason = match &section.ptable_file {
        Some(file) => format!("cell key (ptable {file})"),
        None => {
            let params = section.ptable_parameters();
            format!("cell key (D={}, V={}, js={})", params.max_deviation, params.variance, params.js)
        }
    };
    let marks = cellkey::perturb(&cube, ptable, &reason)?;
    let column = policy.file.input.record_key.clone().unwrap_or_default();
    let mut metadata = Metadata::for_run(policy, "perturbation:cell_key".to_owned(), Randomness::CellKeys(column));
    metadata.set_audit_not_applicable("perturbation");
    metadata.notes.push(("additivity".to_owned(), "every cell is perturbed on its own: a total may differ from the sum of its parts".to_owned()));
    Ok(Protected { cube, marks, metadata, audit: None })
}

/// Publish every cell with differential privacy noise (see [`noise`]).
fn add_noise(policy: &Policy, cube: Cube) -> Fallible<Protected> {
    let (marks, randomness, notes) = noise::add_noise(policy, &cube, random::generator(policy.file.noise.seed)?)?;
    let method = serde_json::to_value(policy.file.noise.method).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
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
    let rounding = &policy.file.rounding;
    if !tables.is_empty() && rounding.method != policy::RoundingMethod::None && rounding.randomness != policy::RoundingRandomness::CellKey {
        fail!(
            Policy,
            "[rounding] of linked tables ([tables]) needs randomness = \"cell_key\" (with [input] record_key), so that a cell shared by \
             two tables rounds the same way in each; or protect the tables one policy at a time"
        );
    }
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
    let protected = if policy.file.perturbation.method != policy::PerturbationMethod::None {
        cubes.into_iter().map(|cube| perturb(policy, cube)).collect::<Fallible<Vec<_>>>()?
    } else if rounding.method != policy::RoundingMethod::None {
        cubes.into_iter().map(|cube| round(policy, cube)).collect::<Fallible<Vec<_>>>()?
    } else {
        protect_linked(policy, cubes)?
    };
    Ok(tables
        .into_iter()
        .zip(protected)
        .map(|((name, p), mut out)| {
            out.metadata.table = p.table_name().to_owned();
            (name, out)
        })
        .collect())
}

/// Protect several linked tables at once (see [`table::LinkedTables`]): a
/// cell they share has one status everywhere, and the secondary suppression
/// and the audit work on all of them together. `fast` needs a single table.
pub fn protect_linked(policy: &Policy, cubes: Vec<Cube>) -> Fallible<Vec<Protected>> {
    let mut per_table = Vec::with_capacity(cubes.len());
    let mut methods = Vec::new();
    for cube in &cubes {
        let (marks, m) = primary_marks(policy, cube)?;
        methods = m;
        per_table.push(marks);
    }
    let linked = table::LinkedTables::new(cubes)?;
    let mut marks = CellMarks::publish_values(linked.values());
    let mut forced_published = vec![false; linked.len()];
    for (t, table_marks) in per_table.iter_mut().enumerate() {
        let forced = forced_marks(policy, &linked.cubes[t], table_marks, true)?;
        for (cell, &g) in linked.linked[t].iter().enumerate() {
            forced_published[g] |= forced[cell];
            if table_marks.is_hidden(cell) && !marks.is_hidden(g) {
                marks.hide(g, table_marks.status[cell], table_marks.reason[cell].clone().expect("hidden cells have a reason"));
            }
            marks.protection[g] = match (marks.protection[g], table_marks.protection[cell]) {
                (Some((a, b)), Some((c, d))) => Some((a.max(c), b.max(d))),
                (x, y) => x.or(y),
            };
        }
    }
    if policy.file.secondary.method == policy::SecondaryMethod::Fast {
        fail!(Policy, "[secondary] method = \"fast\" protects one table at a time; linked tables need method = \"interval\"");
    }
    let audit = secondary_and_audit(policy, &linked, None, &mut marks, &forced_published, &mut methods)?;
    methods.push("linked".to_owned());
    let metadata = run_metadata(policy, &methods, audit.as_ref());
    let table::LinkedTables { cubes, linked: ids, .. } = linked;
    Ok(cubes
        .into_iter()
        .zip(ids)
        .map(|(cube, ids)| {
            let local: std::collections::HashMap<usize, usize> = ids.iter().enumerate().map(|(c, &g)| (g, c)).collect();
            let marks = marks.select(&ids);
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
            Protected { cube, marks, metadata: metadata.clone(), audit }
        })
        .collect())
}

/// The primary rules the policy sets, on one table: its marks and the methods applied.
fn primary_marks(policy: &Policy, cube: &Cube) -> Fallible<(CellMarks, Vec<String>)> {
    let mut marks = CellMarks::publish_all(cube);
    let mut methods: Vec<String> = Vec::new();
    let primary = &policy.file.primary;
    if primary.threshold.is_some() || primary.zeros == policy::ZeroPolicy::Hide {
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
fn forced_marks(policy: &Policy, cube: &Cube, marks: &mut CellMarks, linked: bool) -> Fallible<Vec<bool>> {
    let secondary = &policy.file.secondary;
    let forced_published = forced_cells(cube, &secondary.force_published, "[secondary] force_published", linked)?;
    for cell in forced_cells(cube, &secondary.force_hidden, "[secondary] force_hidden", linked)?.iter().enumerate().filter(|c| *c.1).map(|c| c.0) {
        if forced_published[cell] {
            fail!(Policy, "cell ({}) is both in [secondary] force_published and in force_hidden; keep it in one", cube.describe(cell));
        }
        if !marks.is_hidden(cell) {
            marks.hide(cell, Status::Secondary, std::sync::Arc::from("hidden by the policy"));
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
    policy: &Policy,
    table: &dyn table::Additive,
    cube: Option<&Cube>,
    marks: &mut CellMarks,
    forced_published: &[bool],
    methods: &mut Vec<String>,
) -> Fallible<Option<audit::AuditReport>> {
    let debug = std::env::var_os("AMPARO_DEBUG").is_some();
    let clock = std::time::Instant::now();
    let secondary = &policy.file.secondary;
    let singletons = policy.file.primary.singletons == policy::SingletonPolicy::Protect;
    let promise = rules::OutsiderPromise::of_policy(policy);
    let deadline = suppression::Deadline::after(secondary.time_limit);
    match (secondary.method, cube) {
        (policy::SecondaryMethod::None, _) => {}
        (policy::SecondaryMethod::Interval, _) => {
            // Each step can hide cells the others must look at again; all
            // only ever add hidden cells or protection, so this ends.
            loop {
                suppression::interval(table, marks, secondary.cost, forced_published, deadline, secondary.lp_limit)?;
                if singletons && table.len() <= suppression::SINGLETON_LP_LIMIT {
                    suppression::protect_from_singletons(table, marks, secondary.cost, forced_published, deadline)?;
                } else if singletons {
                    // Above it the LP rule costs minutes: the structural rule,
                    // which the audit's singletons check does not judge there.
                    suppression::protect_singletons(table, marks, secondary.cost, forced_published)?;
                }
                let Some(promise) = &promise else { break };
                if suppression::protect_outsider_view(table, marks, promise)? == 0 {
                    break;
                }
            }
            methods.push("secondary:interval".to_owned());
        }
        (policy::SecondaryMethod::Fast, Some(cube)) => {
            suppression::fast(cube, marks, secondary.cost, forced_published, singletons, deadline)?;
            methods.push("secondary:fast".to_owned());
        }
        (policy::SecondaryMethod::Fast, None) => fail!(Policy, "[secondary] method = \"fast\" needs a single table"),
    }
    if debug {
        eprintln!("secondary suppression: {:.2?}", clock.elapsed());
    }
    let clock = std::time::Instant::now();
    let audit = if policy.file.audit.enabled { Some(audit::run(table, marks, policy.file.audit.interval_limit, singletons, promise.as_ref())?) } else { None };
    if debug {
        eprintln!("audit: {:.2?}", clock.elapsed());
    }
    Ok(audit)
}

fn run_metadata(policy: &Policy, methods: &[String], audit: Option<&audit::AuditReport>) -> Metadata {
    let method = if methods.is_empty() { "none".to_owned() } else { methods.join("+") };
    let mut metadata = Metadata::for_run(policy, method, Randomness::None);
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

/// Audit a table as published (hidden cells null, marked by one of
/// `hidden_symbols` (default [`audit::published::DEFAULT_HIDDEN_SYMBOLS`]),
/// or left out): see [`audit::published`].
pub fn audit_published(
    policy: &Policy,
    input: &mut dyn RecordBatchReader,
    value_column: Option<&str>,
    hidden_symbols: Option<&[String]>,
) -> Fallible<(audit::published::PublishedTable, audit::published::PublishedAudit)> {
    let table = audit::published::read_published(policy, input, value_column, hidden_symbols)?;
    let report = audit::published::audit_published(policy, &table)?;
    Ok((table, report))
}

/// Audit several published linked tables at once: the policy's `[tables]`,
/// one input each, in its order (see [`audit::published::audit_published_linked`]).
pub fn audit_published_tables(
    policy: &Policy,
    inputs: Vec<Box<dyn RecordBatchReader + Send>>,
    value_column: Option<&str>,
    hidden_symbols: Option<&[String]>,
) -> Fallible<audit::published::PublishedAudit> {
    let published = read_published_tables(policy, inputs, value_column, hidden_symbols)?;
    audit::published::audit_published_linked(policy, &published)
}

/// Read the published tables a policy describes: one, or one per linked
/// table (its `[tables]`, in order), each placed on its hierarchy.
pub fn read_published_tables(
    policy: &Policy,
    inputs: Vec<Box<dyn RecordBatchReader + Send>>,
    value_column: Option<&str>,
    hidden_symbols: Option<&[String]>,
) -> Fallible<Vec<audit::published::PublishedTable>> {
    let tables = policy.linked_tables();
    if tables.is_empty() && inputs.len() != 1 {
        fail!(Policy, "{} tables were given, but the policy describes one table (it has no [tables])", inputs.len());
    }
    if !tables.is_empty() && tables.len() != inputs.len() {
        let names: Vec<&str> = tables.iter().map(|(n, _)| n.as_str()).collect();
        fail!(
            Policy,
            "the policy lists {} linked tables ({}) but {} published tables were given; give one per table, in that order",
            tables.len(),
            names.join(", "),
            inputs.len()
        );
    }
    let policies: Vec<&Policy> = if tables.is_empty() { vec![policy] } else { tables.iter().map(|(_, p)| p).collect() };
    policies
        .into_iter()
        .zip(inputs)
        .map(|(p, mut input)| audit::published::read_published(p, &mut *input, value_column, hidden_symbols))
        .collect()
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
