//! Auditing a table as it will be published, including one Amparo did not
//! produce: published values, with hidden cells marked by the publisher's own
//! symbols (empty, `NA`, `..`, `x`, `c`, `-`, `*` by default) or left out.
//!
//! The true values of hidden cells are unknown here, so the checks are what an
//! outsider can verify: no published cell breaks the frequency threshold, the
//! published cells add up, and every hidden cell keeps the outsider's promise
//! (see [`OutsiderPromise`]): no hidden cell that may hold a sensitive count is
//! narrowed below the policy's protection levels for the counts it may hold
//! (with the default levels: its interval reaches 0 and the threshold). The
//! protect-time audit checks the same promise, so a table Amparo passed
//! passes here.

use std::collections::HashMap;

use crate::attacker::Attacker;
use crate::error::Fallible;
use crate::i18n::Message;
use crate::policy::CheckedPolicy;
use crate::rules::OutsiderPromise;
use crate::table::Cube;

pub use super::read::{columns_finding, read_published};

/// Marks of a hidden cell in published tables, unless the caller gives others.
pub const DEFAULT_HIDDEN_SYMBOLS: &[&str] = &["", "NA", "..", "x", "c", "-", "*"];

/// A published table placed on its cube: `published[c]` is `None` for hidden
/// (or unlisted) cells. The cube's values are all zero: they are unknown.
pub struct PublishedTable {
    pub cube: Cube,
    pub published: Vec<Option<i64>>,
    /// Cells the table lists (hidden or not); cells it leaves out are unknown
    /// to the attacker too, but are not reported: leaving out a margin hides
    /// nothing that its published cells do not already give.
    pub listed: Vec<bool>,
    /// Hidden cells whose row carries Amparo's `status` (and `reason`)
    /// columns: ("secondary", "protects a sensitive cell"). Read for `explain`.
    pub stated: HashMap<usize, (String, String)>,
    /// Columns that are neither dimensions, nor the published values, nor
    /// listed in `[publication] extra_columns` (the `columns` check).
    pub unexpected_columns: Vec<String>,
}

/// The checks of a published table (each finding belongs to one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Check {
    /// No visible cell breaks the primary rule (a visible 3 under a threshold of 5).
    Threshold,
    /// No hidden cell can be narrowed below its protection (the LP attacker).
    Protection,
    /// Published margins are the sums of their published parts (where the policy promises it).
    Additivity,
    /// A cell shared by linked tables has one value in all of them.
    Consistency,
    /// Rounded values are multiples of the declared base.
    Rounding,
    /// Values the cell key method never publishes (negative, or in 1..js).
    Perturbation,
    /// Post-processed noisy counts are never negative.
    Noise,
    /// The table's metadata names the same policy (SHA-256), an audit that
    /// passed, and (a CSV's `.meta.json`) this very file.
    Metadata,
    /// The table carries nothing but its dimensions (and labels) and the
    /// published values: no status, reason, interval or original count.
    Columns,
}

impl Check {
    /// Every check, in report order.
    pub const ALL: [Check; 9] = [
        Check::Threshold,
        Check::Protection,
        Check::Additivity,
        Check::Consistency,
        Check::Rounding,
        Check::Perturbation,
        Check::Noise,
        Check::Metadata,
        Check::Columns,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Check::Threshold => "threshold",
            Check::Protection => "protection",
            Check::Additivity => "additivity",
            Check::Consistency => "consistency",
            Check::Rounding => "rounding",
            Check::Perturbation => "perturbation",
            Check::Noise => "noise",
            Check::Metadata => "metadata",
            Check::Columns => "columns",
        }
    }
}

/// What the audit of a published table found about one cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedFinding {
    pub check: Check,
    pub cell: usize,
    /// The cell by its codes, "district=D01, sex=F" (empty for table-wide findings).
    pub place: String,
    /// The finding in English.
    pub message: String,
    /// The finding in any language ([`crate::i18n`]).
    pub text: Message,
}

impl PublishedFinding {
    pub(crate) fn new(check: Check, cell: usize, place: String, text: Message) -> PublishedFinding {
        PublishedFinding { check, cell, place, message: text.render(crate::i18n::Lang::EN), text }
    }
}

/// The audit of a published table.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PublishedAudit {
    pub cells: usize,
    pub hidden_cells: usize,
    /// The checks that ran (those the policy makes meaningful), in report order.
    pub checks: Vec<Check>,
    pub findings: Vec<PublishedFinding>,
    /// Linked tables: each table's cells by their number in the findings
    /// (a cell shared by two tables has one number). Empty for one table,
    /// whose findings number its own cells.
    pub table_cells: Vec<Vec<usize>>,
}

impl PublishedAudit {
    pub fn passed(&self) -> bool {
        self.findings.is_empty()
    }
}

/// Audit a published table against the policy's threshold.
pub fn audit_published(policy: &CheckedPolicy, table: &PublishedTable) -> Fallible<PublishedAudit> {
    if policy.file.rounding.method != crate::policy::RoundingMethod::None {
        return Ok(audit_rounded(&policy.file.rounding, table));
    }
    if policy.file.perturbation.method != crate::policy::PerturbationMethod::None {
        return Ok(audit_perturbed(&policy.file.perturbation, table));
    }
    if policy.file.noise.method != crate::policy::NoiseMethod::None {
        return Ok(audit_noisy(&policy.file.noise, table));
    }
    audit_cells(&Promise::of(policy), &table.cube, &table.published, &table.listed, Vec::new(), false)
}

/// What a published table of counts promises: no visible cell below the
/// threshold, and the outsider's promise of [`OutsiderPromise`] for hidden
/// cells; a magnitude table (its rules count contributors, which an outsider
/// never sees) or one without a threshold promises only that no hidden cell
/// is exact.
struct Promise {
    threshold: Option<i64>,
    outsider: Option<OutsiderPromise>,
}

impl Promise {
    fn of(policy: &CheckedPolicy) -> Promise {
        let magnitude = policy.file.input.magnitude.is_some();
        Promise {
            threshold: policy.file.primary.threshold.filter(|_| !magnitude),
            outsider: OutsiderPromise::of_policy(policy),
        }
    }
}

/// A table the policy declares perturbed by the cell key method: without
/// the record keys the noise cannot be checked, but no published value may
/// be negative or in 1..js, which the ptable never produces.
fn audit_perturbed(perturbation: &crate::policy::PerturbationSection, table: &PublishedTable) -> PublishedAudit {
    // A ptable from a file states no js: then only negative values are findings.
    let js = if perturbation.ptable_file.is_some() { 0 } else { crate::cellkey::ptable_parameters(perturbation).js };
    let cube = &table.cube;
    let mut audit = PublishedAudit { cells: cube.len(), checks: vec![Check::Perturbation], ..PublishedAudit::default() };
    for cell in (0..cube.len()).filter(|&c| table.listed[c]) {
        match table.published[cell] {
            None => audit.hidden_cells += 1,
            Some(v) if v < 0 || (1..=js).contains(&v) => audit.findings.push(PublishedFinding::new(
                Check::Perturbation,
                cell,
                cube.describe(cell),
                Message::new("finding.perturbation", vec![("cell", cube.describe(cell).into()), ("value", v.into()), ("js", js.into())]),
            )),
            Some(_) => {}
        }
    }
    audit
}

/// A table the policy declares rounded: every published value must be a
/// multiple of a base the policy allows (small count rounding: no value in
/// 1 to base - 1), and (controlled and small count rounding, or margins
/// recomputed from the inner cells) the table must add up; margins rounded
/// on their own may differ from the sum of their parts.
fn audit_rounded(rounding: &crate::policy::RoundingSection, table: &PublishedTable) -> PublishedAudit {
    use crate::policy::{MarginRounding, RoundingMethod};
    let cube = &table.cube;
    let mut audit = PublishedAudit { cells: cube.len(), checks: vec![Check::Rounding], ..PublishedAudit::default() };
    let bases = rounding.bases();
    let inner_only = rounding.margins == MarginRounding::FromInner;
    let small_counts = rounding.method == RoundingMethod::Pls;
    let adds_up = inner_only || small_counts || rounding.method == RoundingMethod::Controlled;
    let base = rounding.base_for(0);
    for cell in (0..cube.len()).filter(|&c| table.listed[c]) {
        match table.published[cell] {
            None => audit.hidden_cells += 1,
            // Small count rounding leaves larger counts as they are: only 1 to base - 1 is never published.
            Some(v) if small_counts => {
                if (1..base).contains(&v) {
                    audit.findings.push(PublishedFinding::new(
                        Check::Rounding,
                        cell,
                        cube.describe(cell),
                        Message::new("finding.small_count", vec![("cell", cube.describe(cell).into()), ("value", v.into()), ("base", base.into())]),
                    ));
                }
            }
            Some(v) if (!inner_only || cube.is_inner(cell)) && !bases.iter().any(|b| v % b == 0) => audit.findings.push(PublishedFinding::new(
                Check::Rounding,
                cell,
                cube.describe(cell),
                Message::new(
                    "finding.rounding",
                    vec![("cell", cube.describe(cell).into()), ("value", v.into()), ("bases", bases.iter().map(i64::to_string).collect::<Vec<_>>().join(", ").into())],
                ),
            )),
            Some(_) => {}
        }
    }
    if adds_up {
        check_adds_up(table, "[rounding]", &mut audit);
    }
    audit
}

/// When every cell is listed and published: a finding at the first total
/// that is not the sum of its published parts (`section` promised it is).
fn check_adds_up(table: &PublishedTable, section: &str, audit: &mut PublishedAudit) {
    audit.checks.push(Check::Additivity);
    if table.listed.iter().all(|&l| l) && table.published.iter().all(Option::is_some) {
        let values: Vec<i64> = table.published.iter().map(|v| v.unwrap_or(0)).collect();
        if let Some(con) = table.cube.first_violation(&values) {
            let place = table.cube.describe(con.total);
            audit.findings.push(PublishedFinding::new(
                Check::Additivity,
                con.total,
                place.clone(),
                Message::new("finding.additivity", vec![("cell", place.into()), ("section", section.into())]),
            ));
        }
    }
}

/// A table the policy declares noisy: without the noise draws the values
/// cannot be checked, but the table must add up (post-processed or raw,
/// margins are sums) and, post-processed, hold no negative value.
fn audit_noisy(noise: &crate::policy::NoiseSection, table: &PublishedTable) -> PublishedAudit {
    let cube = &table.cube;
    let mut audit = PublishedAudit { cells: cube.len(), checks: vec![Check::Noise], ..PublishedAudit::default() };
    let postprocessed = noise.postprocess == crate::policy::Postprocess::Wls;
    for cell in (0..cube.len()).filter(|&c| table.listed[c]) {
        match table.published[cell] {
            None => audit.hidden_cells += 1,
            Some(v) if v < 0 && postprocessed => audit.findings.push(PublishedFinding::new(
                Check::Noise,
                cell,
                cube.describe(cell),
                Message::new("finding.noise", vec![("cell", cube.describe(cell).into()), ("value", v.into())]),
            )),
            Some(_) => {}
        }
    }
    check_adds_up(table, "[noise]", &mut audit);
    audit
}

/// Audit several published linked tables at once (the policy's `[tables]`,
/// one published table each, in its order): a cell they share is known to
/// the attacker if any of them publishes it, and every table's constraints
/// work together, so differencing between tables is found.
pub fn audit_published_linked(policy: &CheckedPolicy, tables: &[PublishedTable]) -> Fallible<PublishedAudit> {
    audit_linked(policy, &link_published(tables)?)
}

/// Linked published tables joined into one table.
pub(crate) struct LinkedPublished {
    pub linked: crate::table::LinkedTables,
    /// Per linked cell: its published value (`None` hidden or unlisted), and whether any table lists it.
    pub published: Vec<Option<i64>>,
    pub listed: Vec<bool>,
    /// Cells two tables publish with different values.
    consistency: Vec<PublishedFinding>,
}

/// The audit of joined linked tables.
pub(crate) fn audit_linked(policy: &CheckedPolicy, joined: &LinkedPublished) -> Fallible<PublishedAudit> {
    let mut audit = audit_cells(&Promise::of(policy), &joined.linked, &joined.published, &joined.listed, joined.consistency.clone(), true)?;
    audit.table_cells = joined.linked.linked.clone();
    Ok(audit)
}

/// Linked published tables as one table: a cell shared by several is
/// published if any of them publishes it; two different published values
/// of one cell are consistency findings.
pub(crate) fn link_published(tables: &[PublishedTable]) -> Fallible<LinkedPublished> {
    // The cubes hold no values (they are unknown), so they always agree.
    let linked = crate::table::LinkedTables::new(tables.iter().map(|t| t.cube.clone()).collect())?;
    let n = crate::table::Additive::len(&linked);
    let mut published: Vec<Option<i64>> = vec![None; n];
    let mut listed = vec![false; n];
    let mut findings = Vec::new();
    for (t, ids) in linked.linked.iter().enumerate() {
        for (cell, &g) in ids.iter().enumerate() {
            listed[g] |= tables[t].listed[cell];
            match (published[g], tables[t].published[cell]) {
                (Some(a), Some(b)) if a != b => {
                    let place = crate::table::Additive::describe(&linked, g);
                    findings.push(PublishedFinding::new(
                        Check::Consistency,
                        g,
                        place.clone(),
                        Message::new("finding.consistency", vec![("cell", place.into()), ("first", a.into()), ("second", b.into()), ("table", (t + 1).into())]),
                    ))
                }
                (None, Some(b)) => published[g] = Some(b),
                _ => {}
            }
        }
    }
    Ok(LinkedPublished { linked, published, listed, consistency: findings })
}

fn audit_cells(
    promise: &Promise,
    table: &dyn crate::table::Additive,
    published: &[Option<i64>],
    listed: &[bool],
    findings: Vec<PublishedFinding>,
    linked: bool,
) -> Fallible<PublishedAudit> {
    let threshold = promise.threshold;
    let mut checks = vec![Check::Additivity, Check::Protection];
    if threshold.is_some() {
        checks.push(Check::Threshold);
    }
    if linked {
        checks.push(Check::Consistency);
    }
    checks.sort();
    let mut audit = PublishedAudit { cells: table.len(), checks, findings, ..PublishedAudit::default() };
    for (cell, v) in published.iter().enumerate() {
        match (v, threshold) {
            (Some(v), Some(n)) if *v > 0 && *v < n => audit.findings.push(PublishedFinding::new(
                Check::Threshold,
                cell,
                table.describe(cell),
                Message::new("finding.threshold", vec![("cell", table.describe(cell).into()), ("value", (*v).into()), ("threshold", n.into())]),
            )),
            (None, _) if listed[cell] => audit.hidden_cells += 1,
            _ => {}
        }
    }
    // Published cells that contradict additivity leave the attacker's LP
    // without a solution: no protection can be shown, so none is claimed.
    let unchecked = |audit: &mut PublishedAudit| {
        audit.findings.push(PublishedFinding::new(Check::Protection, 0, String::new(), Message::new("finding.protection_unchecked", Vec::new())));
    };
    let broken = additivity_violations(table, published);
    if !broken.is_empty() {
        audit.findings.push(additivity_finding(table, &broken));
        unchecked(&mut audit);
        return Ok(audit);
    }
    let clock = std::time::Instant::now();
    let debug = std::env::var_os("AMPARO_DEBUG").is_some();
    let mut attacker = match Attacker::new(table, published) {
        Ok(a) => a,
        Err(e) if e.kind == crate::ErrorKind::Data => {
            audit.findings.push(PublishedFinding::new(Check::Additivity, 0, String::new(), Message::new("finding.text", vec![("text", e.message.into())])));
            unchecked(&mut audit);
            return Ok(audit);
        }
        Err(e) => return Err(e),
    };
    let hidden: Vec<usize> = (0..table.len()).filter(|&c| published[c].is_none() && listed[c]).collect();
    // With a threshold, the true values unknown, every hidden cell keeps the
    // outsider's promise (see `OutsiderPromise`): a cell able to reach both
    // ends of its range keeps it whatever it holds, and sweeps that push
    // every hidden cell down and up at once show that for most; the rest
    // get their interval. Without one, a hidden cell must not be exact.
    let (low, high) = promise.outsider.as_ref().map_or((0, 1), OutsiderPromise::range);
    let local = crate::attacker::local::LocalAttacker::new(table, published);
    // Cells that bounds propagated through the constraints show to hold the
    // threshold or more keep the promise: no sweep or LP for them.
    let hidden: Vec<usize> = match &promise.outsider {
        Some(p) => hidden.into_iter().filter(|&c| !local.shown_at_least(c, p.threshold())).collect(),
        None => hidden,
    };
    let mut targets: Vec<(usize, i64, i64)> = hidden.iter().map(|&c| (c, low, high)).collect();
    let built = clock.elapsed();
    // On a large table, hypercube certificates and attackers over regions
    // of it (see `attacker::region`) settle most cells before the whole
    // table's sweeps (on B4's publication those took 67 s), around a table
    // in the middle of the ones that fit: the interior-point method's (see
    // `attacker::interior_table`; B4: 1.3 s), where cells have room to move
    // both ways. (Around the average of the first solutions, mostly
    // vertices with many cells at 0, the regions left twice as many cells,
    // and the sweep that found them took 14 s.)
    if table.len() > crate::attacker::region::REGIONS_ABOVE && !targets.is_empty() {
        let centre = match crate::attacker::interior_table(table, published)? {
            Some(centre) => centre,
            None => {
                attacker.explore_rounds(&targets, 0..1)?;
                attacker.average_solution(published)
            }
        };
        let centred_at = clock.elapsed();
        targets.retain(|&(cell, low, high)| !attacker.seen_reaching(cell, low, high));
        crate::attacker::hypercube::keep_uncertified_around(table, published, &centre, &mut targets);
        let certified = targets.len();
        let certified_at = clock.elapsed();
        let safe = crate::attacker::region::judge_around(table, published, &targets, None, &centre)?;
        targets = targets.iter().zip(&safe).filter(|(_, &safe)| !safe).map(|(&target, _)| target).collect();
        if debug {
            eprintln!(
                "audit: centre at {centred_at:.1?}; {certified} hidden cells left by certificates around it at {certified_at:.1?}, {} by the region attackers at {:.1?}",
                targets.len(),
                clock.elapsed()
            );
        }
    }
    attacker.settle(table, published, &mut targets)?;
    if debug {
        eprintln!("audit: attacker built at {built:.1?}; {} hidden cells to check, {} left by the sweeps at {:.1?}", hidden.len(), targets.len(), clock.elapsed());
    }
    // Each cell's verdict is exact whichever attacker gives it: the cells
    // left are shared between two attackers, one per core (on B4's
    // publication, 121 cells at about 0.12 s each).
    let local = &local;
    let check = |attacker: &mut Attacker, share: &[(usize, i64, i64)], report: bool| -> Fallible<Vec<PublishedFinding>> {
        let mut found = Vec::new();
        for (k, &(cell, _, _)) in share.iter().enumerate() {
            if report {
                crate::progress::report("auditing hidden cells", crate::attacker::done_of_all(k, share.len(), targets.len()), Some(targets.len() as u64));
            }
            let place = table.describe(cell);
            let shown = match &promise.outsider {
                Some(p) => {
                    let Some(breach) = crate::attacker::outsider_breach(attacker, local, p, cell)? else { continue };
                    let iv = breach.interval;
                    let (need_low, need_high) = p.required(iv.lower, iv.upper).expect("a breach admits a small count");
                    if iv.upper == Some(iv.lower) {
                        Message::new("finding.protection_exact", vec![("cell", place.clone().into()), ("value", iv.lower.into())])
                    } else if let Some(u) = iv.upper.filter(|&u| u < p.threshold()) {
                        Message::new(
                            "finding.protection_below",
                            vec![("cell", place.clone().into()), ("lower", iv.lower.into()), ("upper", u.into()), ("threshold", p.threshold().into())],
                        )
                    } else {
                        Message::new(
                            "finding.protection_narrowed",
                            vec![
                                ("cell", place.clone().into()),
                                ("lower", iv.lower.into()),
                                ("upper", iv.upper.map_or("unbounded".to_owned(), |u| u.to_string()).into()),
                                ("need_lower", need_low.into()),
                                ("need_upper", need_high.into()),
                            ],
                        )
                    }
                }
                None => {
                    let (low_seen, high_seen) = attacker.seen(cell);
                    if (high_seen + 1e-6).floor() > (low_seen - 1e-6).ceil() {
                        continue;
                    }
                    let iv = match local.prove(cell, |iv| iv.upper == Some(iv.lower))? {
                        Some(bound) => bound.interval,
                        None => attacker.interval(cell)?,
                    };
                    if iv.upper != Some(iv.lower) {
                        continue;
                    }
                    Message::new("finding.protection_exact", vec![("cell", place.clone().into()), ("value", iv.lower.into())])
                }
            };
            found.push(PublishedFinding::new(Check::Protection, cell, place, shown));
        }
        Ok(found)
    };
    let mut found = crate::attacker::on_two_cores(&mut attacker, table, published, &targets, PARALLEL_CHECKS, "the audit", check)?;
    found.sort_by_key(|finding| finding.cell);
    audit.findings.extend(found);
    if debug {
        eprintln!("audit: cells checked one by one at {:.1?}", clock.elapsed());
    }
    Ok(audit)
}

/// From this many hidden cells left after the sweeps, they are checked on
/// both cores (the second attacker is built in seconds on 10^5 cells; each
/// check there takes about a tenth of a second).
const PARALLEL_CHECKS: usize = 16;

/// The constraints the published cells break for certain: a published
/// total that differs from the sum of its parts when all are published, or
/// that is below the sum of its published parts (hidden parts are never
/// negative).
fn additivity_violations(table: &dyn crate::table::Additive, published: &[Option<i64>]) -> Vec<crate::table::Constraint> {
    table
        .constraints()
        .into_iter()
        .filter(|con| {
            let Some(total) = published[con.total] else { return false };
            let known: i128 = con.parts.iter().filter_map(|&p| published[p]).map(i128::from).sum();
            let all_known = con.parts.iter().all(|&p| published[p].is_some());
            (all_known && known != i128::from(total)) || known > i128::from(total)
        })
        .collect()
}

/// The additivity finding for broken constraints: each margin that is not
/// the sum of its parts, the cell shared by all of them first (a single
/// wrong value breaks every sum it is in: that cell is the likely culprit).
fn additivity_finding(table: &dyn crate::table::Additive, broken: &[crate::table::Constraint]) -> PublishedFinding {
    let mut count: HashMap<usize, usize> = HashMap::new();
    for con in broken {
        for &c in std::iter::once(&con.total).chain(&con.parts) {
            *count.entry(c).or_default() += 1;
        }
    }
    let culprit = count.iter().filter(|(_, &n)| n == broken.len()).map(|(&c, _)| c).min();
    let mut margins: Vec<usize> = Vec::new();
    for con in broken {
        if !margins.contains(&con.total) {
            margins.push(con.total);
        }
    }
    // The culprit's own sum first, when it is a margin.
    if let Some(c) = culprit {
        if let Some(i) = margins.iter().position(|&m| m == c) {
            margins.swap(0, i);
        }
    }
    const SHOWN: usize = 5;
    let mut names: Vec<String> = margins.iter().take(SHOWN).map(|&m| format!("({})", table.describe(m))).collect();
    if margins.len() > SHOWN {
        names.push(format!("{} more", margins.len() - SHOWN));
    }
    let place = table.describe(margins[0]);
    PublishedFinding::new(Check::Additivity, margins[0], place, Message::new("finding.additivity_infeasible", vec![("margins", names.join(", ").into())]))
}
