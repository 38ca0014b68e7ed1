//! The audit of a protected table (see [`run`]): the attacker against the
//! protection each cell was promised, on the true values (the audit of a
//! published file, which knows only what it shows, is [`crate::audit`]).
//! It sits beside the attacker so that the protected table's output, which
//! carries its report, stays below the publication gate.

use super::witness::Witnesses;
use super::{local, outsider_breach, singleton_findings, Attacker, Interval, SingletonFinding, EPS, SINGLETON_LP_LIMIT};
use crate::error::Fallible;
use crate::marks::CellMarks;
use crate::rules::OutsiderPromise;
use crate::table::Additive;

/// A sensitive cell whose attacker interval is narrower than its protection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub cell: usize,
    pub value: i64,
    pub interval: Interval,
    /// (lower, upper) protection levels the interval had to keep: it had
    /// to contain [value - lower, value + upper] (for an `outsider` finding
    /// the range of the sensitive counts it admits, which need not contain
    /// the value: a level may be negative).
    pub required: (i64, i64),
    /// Published cells whose values pin the interval (in the constraints
    /// that bind the violated bound), a few at most.
    pub pinned_by: Vec<usize>,
    /// Whether `interval` is the attacker's exact interval; otherwise a
    /// bound from the constraints near the cell, which contains it (the
    /// attacker narrows the cell to within it, at least).
    pub exact: bool,
    /// Whether the cell breaks the outsider's promise (see
    /// [`OutsiderPromise`]) rather than its own levels: `required` are then
    /// the levels of the sensitive counts the interval admits.
    pub outsider: bool,
}

/// The audit of one protected table.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuditReport {
    /// Hidden cells whose interval was computed.
    pub hidden_cells: usize,
    /// Sensitive cells whose protection was checked.
    pub sensitive_cells: usize,
    /// Whether every hidden cell's exact interval was computed (false above
    /// `[audit] interval_limit`: then only reported cells have one).
    pub intervals_computed: bool,
    pub findings: Vec<Finding>,
    /// The `singletons` check: sensitive cells that the child alone in a
    /// hidden cell of 1, who knows their own count, narrows below their
    /// protection (when the policy protects singletons).
    pub singleton_findings: Vec<SingletonFinding>,
    /// Whether every hidden cell was held to the outsider's promise (see
    /// [`OutsiderPromise`]; frequency tables with a threshold).
    pub outsider_checked: bool,
    /// Whether the `singletons` check ran (tables up to
    /// [`SINGLETON_LP_LIMIT`] cells whose policy protects singletons).
    pub singletons_checked: bool,
}

impl AuditReport {
    pub fn passed(&self) -> bool {
        self.findings.is_empty() && self.singleton_findings.is_empty()
    }

    /// Which hidden cells carry their attacker interval in `lower`/`upper`
    /// (the metadata's `intervals` note).
    /// What the `singletons` check covered (the metadata's `singletons` note).
    pub fn singletons_note(&self) -> String {
        if self.singletons_checked {
            "checked: no child alone in a hidden cell of 1 can narrow another sensitive cell below its protection".to_owned()
        } else {
            format!(
                "not checked by LPs (the policy ignores singletons, or the table has more than {} cells, where the structural rule was applied)",
                SINGLETON_LP_LIMIT
            )
        }
    }

    pub fn intervals_note(&self) -> String {
        if self.intervals_computed {
            return format!("lower/upper: the attacker's exact interval of every hidden cell ({})", self.hidden_cells);
        }
        let exact = self.findings.iter().filter(|f| f.exact).count();
        format!(
            "lower/upper: the attacker's exact interval of {exact} hidden cells with findings; the other {} hidden cells have none, since above \
             [audit] interval_limit the audit decides protection without computing every interval ({} findings were proven from the constraints \
             near the cell, which bound the interval without giving it exactly)",
            self.hidden_cells - exact,
            self.findings.len() - exact
        )
    }

    /// One line for metadata and summaries.
    pub fn verdict(&self) -> String {
        let scope = if self.intervals_computed {
            format!("{} hidden cells audited", self.hidden_cells)
        } else {
            format!("{} hidden cells audited; intervals not listed above [audit] interval_limit", self.hidden_cells)
        };
        let singletons = if self.singleton_findings.is_empty() {
            String::new()
        } else {
            format!("; {} by the child alone in a hidden cell of 1", self.singleton_findings.iter().map(|f| f.cell).collect::<std::collections::BTreeSet<_>>().len())
        };
        let outsider_findings = self.findings.iter().filter(|f| f.outsider).count();
        let outsider = match outsider_findings {
            0 => String::new(),
            n => format!("; {n} other hidden cells cannot be told from sensitive ones narrowed below their protection"),
        };
        if self.passed() {
            let outsider = if self.outsider_checked { ", and no hidden cell is narrowed below the protection of a sensitive count it may hold" } else { "" };
            format!("passed: {} sensitive cells keep their protection{outsider} ({scope})", self.sensitive_cells)
        } else {
            format!(
                "FAILED: {} of {} sensitive cells can be narrowed below their protection{outsider}{singletons} ({scope})",
                self.findings.len() - outsider_findings,
                self.sensitive_cells
            )
        }
    }

    /// The findings, one line each, naming the cell, its interval and what was required.
    pub fn describe_findings(&self, cube: &dyn Additive, limit: usize) -> Vec<String> {
        let mut lines: Vec<String> = self
            .findings
            .iter()
            .take(limit)
            .map(|f| {
                let upper = f.interval.upper.map_or("unbounded".to_owned(), |u| u.to_string());
                let pinned: Vec<String> = f.pinned_by.iter().map(|&c| format!("({})", cube.describe(c))).collect();
                format!(
                    "({}): an attacker {} [{}, {upper}]; {} [{}, {}] or wider{}",
                    cube.describe(f.cell),
                    if f.exact { "infers" } else { "narrows it to within" },
                    f.interval.lower,
                    if f.outsider { "an outsider cannot tell this hidden cell from a sensitive one, whose protection needs" } else { "its protection needs" },
                    f.value - f.required.0,
                    f.value + f.required.1,
                    if pinned.is_empty() { String::new() } else { format!("; pinned by the published {}", pinned.join(", ")) }
                )
            })
            .collect();
        if self.findings.len() > limit {
            lines.push(format!("... and {} more", self.findings.len() - limit));
        }
        for f in self.singleton_findings.iter().take(limit) {
            lines.push(format!(
                "({}): the child alone in the hidden cell ({}) knows it is 1, and with that narrows this cell below [{}, {}]",
                cube.describe(f.cell),
                cube.describe(f.singleton),
                f.low,
                f.value + f.required.1
            ));
        }
        if self.singleton_findings.len() > limit {
            lines.push(format!("... and {} more singleton findings", self.singleton_findings.len() - limit));
        }
        lines
    }
}

/// How many pinning published cells a finding names.
const PINNING_CELLS_LISTED: usize = 6;

/// Audit a protected table: fill `lower`/`upper` of every hidden cell and check
/// every sensitive cell's protection levels, and every hidden cell's
/// outsider's promise, against its interval; with `singletons`, the
/// `singletons` check on tables up to [`SINGLETON_LP_LIMIT`] cells.
///
/// `book`: tables attackers found while protecting `table` (see
/// [`super::witness`]). Each one the audit checks fits the publication
/// shows, without an LP, the values it takes each cell to.
pub fn run(
    table: &dyn Additive,
    marks: &mut CellMarks,
    interval_limit: usize,
    singletons: bool,
    promise: Option<&OutsiderPromise>,
    book: Option<&Witnesses>,
) -> Fallible<AuditReport> {
    let mut report = run_intervals(table, marks, interval_limit, promise, book)?;
    report.singletons_checked = singletons && table.len() <= SINGLETON_LP_LIMIT;
    if report.singletons_checked {
        report.singleton_findings = singleton_findings(table, marks)?;
    }
    Ok(report)
}

/// From this many cells left after the sweeps, the verdicts of a table
/// above `interval_limit` are given on both cores (each cell there can take
/// a whole table's LPs, a tenth of a second or more on 10^5 cells).
const PARALLEL_VERDICTS: usize = 16;

/// From this many hidden cells, their intervals are computed on both
/// cores (the second attacker's first LP costs little next to them).
const PARALLEL_INTERVALS: usize = 256;

fn run_intervals(
    table: &dyn Additive,
    marks: &mut CellMarks,
    interval_limit: usize,
    promise: Option<&OutsiderPromise>,
    book: Option<&Witnesses>,
) -> Fallible<AuditReport> {
    let constraints = table.constraints();
    let hidden: Vec<usize> = (0..table.len()).filter(|&c| marks.published[c].is_none()).collect();
    let mut report = AuditReport {
        hidden_cells: hidden.len(),
        intervals_computed: hidden.len() <= interval_limit,
        outsider_checked: promise.is_some(),
        ..AuditReport::default()
    };
    report.sensitive_cells = hidden.iter().filter(|&&c| marks.protection[c].is_some()).count();
    // What each hidden cell must be able to reach: a sensitive cell its own
    // levels, and every hidden cell the outsider's range (sufficient for the
    // promise; a cell that falls short is judged on its interval).
    let own = |cell: usize| marks.protection[cell].map(|(lo, up)| (table.value(cell).saturating_sub(lo), table.value(cell).saturating_add(up)));
    let range = promise.map(OutsiderPromise::range);
    let mut needs: Vec<(usize, i64, i64)> = hidden
        .iter()
        .filter_map(|&c| match (own(c), range) {
            (Some((lo, hi)), Some((a, b))) => Some((c, lo.min(a), hi.max(b))),
            (Some((lo, hi)), None) | (None, Some((lo, hi))) => Some((c, lo, hi)),
            (None, None) => None,
        })
        .collect();
    let clock = std::time::Instant::now();
    let debug = std::env::var_os("AMPARO_DEBUG").is_some();
    let local = local::LocalAttacker::new(table, &marks.published);
    let found = book.map(|book| book.reach(table, &marks.published));
    if let Some(found) = &found {
        if debug {
            eprintln!("audit: {} of {} tables found while protecting fit the publication, checked in {:.1?}", found.fitting, found.kept, clock.elapsed());
        }
    }
    if !report.intervals_computed {
        needs.retain(|&(cell, low, high)| !found.as_ref().is_some_and(|found| found.reaches(cell, low, high)));
        // Only the verdict: a hypercube of hidden cells around a cell proves
        // what it can reach without an LP, and a cell held only to the
        // outsider's promise keeps it when bounds propagated through the
        // constraints show it holds the threshold or more (left out of the
        // sweeps, which they would only pull away from the others).
        super::hypercube::keep_uncertified(table, &marks.published, &mut needs);
        if let Some(p) = promise {
            needs.retain(|&(cell, _, _)| own(cell).is_some() || !local.shown_at_least(cell, p.threshold()));
        }
        // Attackers over regions of a large table show most of the rest
        // reach both ends (see `region`; the table's values are the true ones here).
        if table.len() > super::region::REGIONS_ABOVE && !needs.is_empty() {
            let (safe, _) = super::region::judge(table, &marks.published, &needs, None, None)?;
            needs = needs.iter().zip(&safe).filter(|(_, &safe)| !safe).map(|(&need, _)| need).collect();
        }
        if debug {
            eprintln!("audit: {} cells left by certificates and regions at {:.1?}", needs.len(), clock.elapsed());
        }
        if needs.is_empty() {
            return Ok(report);
        }
    }
    let mut attacker = Attacker::new(table, &marks.published)?;
    // The true table fits every published cell: it shows, without an LP,
    // that each hidden cell reaches its own value; so do the tables found
    // while protecting that fit, that each reaches what they show.
    attacker.saw(|cell| table.value(cell));
    if let Some(found) = &found {
        attacker.saw_between(|cell| found.range(cell));
    }
    if !report.intervals_computed {
        let built = clock.elapsed();
        attacker.explore(&needs)?;
        if debug {
            eprintln!("audit: attacker built at {built:.1?}, sweeps done at {:.1?}", clock.elapsed());
        }
    }
    let pinning = |binding: &[usize]| -> Vec<usize> {
        let mut pinned_by: Vec<usize> = Vec::new();
        for &c in binding {
            let con = &constraints[c];
            for p in std::iter::once(con.total).chain(con.parts.iter().copied()) {
                if marks.published[p].is_some() && !pinned_by.contains(&p) {
                    pinned_by.push(p);
                }
            }
        }
        pinned_by.truncate(PINNING_CELLS_LISTED);
        pinned_by
    };
    // The finding a cell's interval (or a bound containing it) makes: its
    // own levels first, then the outsider's promise; with whether the
    // violated bound is the lower one.
    let judge = |cell: usize, iv: Interval, exact: bool| -> Option<(Finding, bool)> {
        let value = table.value(cell);
        let finding = |required: (i64, i64), outsider: bool| Finding { cell, value, interval: iv, required, pinned_by: Vec::new(), exact, outsider };
        if let (Some((low, high)), Some(required)) = (own(cell), marks.protection[cell]) {
            if iv.lower > low || iv.upper.is_some_and(|u| u < high) {
                return Some((finding(required, false), iv.lower > low));
            }
        }
        let p = promise?;
        if p.holds(iv.lower, iv.upper) {
            return None;
        }
        let (low, high) = p.required(iv.lower, iv.upper)?;
        Some((finding((value - low, high - value), true), iv.lower > low))
    };
    let mut findings = Vec::new();
    let mut intervals = Vec::new();
    if report.intervals_computed {
        // Each cell's interval is exact whichever attacker computes it, so
        // the cells are shared between two attackers, one per core (the
        // second built from the same cells and told what the first saw).
        let intervals_of = |attacker: &mut Attacker, share: &[usize], report: bool| -> Fallible<Vec<(usize, Interval, Option<Finding>)>> {
            let mut out = Vec::with_capacity(share.len());
            for (k, &cell) in share.iter().enumerate() {
                if report {
                    crate::progress::report("auditing hidden cells", super::done_of_all(k, share.len(), hidden.len()), Some(hidden.len() as u64));
                }
                let iv = attacker.interval_within(cell, local.propagated(cell))?;
                let finding = match judge(cell, iv, true) {
                    Some((mut finding, lower)) => {
                        finding.pinned_by = pinning(&attacker.binding_constraints(cell, lower)?);
                        Some(finding)
                    }
                    None => None,
                };
                out.push((cell, iv, finding));
            }
            Ok(out)
        };
        // Sweeps push every cell to the bounds propagated through the
        // constraints: a bound a solution reaches is the interval's, without
        // the cell's own LP.
        let bounds: Vec<(usize, i64, i64)> = hidden
            .iter()
            .map(|&c| {
                let (lower, upper) = local.propagated(c);
                (c, lower, upper.unwrap_or(lower))
            })
            .collect();
        attacker.explore(&bounds)?;
        if debug {
            let lower = bounds.iter().filter(|&&(c, low, _)| attacker.seen(c).0 <= low as f64 + super::EPS).count();
            let upper = bounds.iter().filter(|&&(c, _, _)| local.propagated(c).1.is_some_and(|high| attacker.seen(c).1 >= high as f64 - super::EPS)).count();
            eprintln!("audit: sweeps done at {:.1?}: of {} cells' intervals, {lower} lower and {upper} upper bounds need no LP", clock.elapsed(), bounds.len());
        }
        let mut computed = super::on_two_cores(&mut attacker, table, &marks.published, &hidden, PARALLEL_INTERVALS, "the audit", intervals_of)?;
        computed.sort_by_key(|&(cell, _, _)| cell);
        for (cell, iv, finding) in computed {
            intervals.push((cell, iv));
            findings.extend(finding);
        }
    } else {
        // Only the protection verdict: cells whose targets a solution already
        // reached are settled; a neighbourhood of the cell proves most of the
        // others exposed (see `local`); the rest get the whole table's LPs.
        // Each cell's verdict is exact whichever attacker gives it: shared
        // between two attackers, one per core (B3: 60 cells, 24 s on one).
        // Per cell: the interval to record, the finding, and whether a
        // neighbourhood (true) or the whole table (false) decided it.
        type Verdict = (usize, Option<Interval>, Option<Finding>, Option<bool>);
        let started = std::time::Instant::now();
        let local = &local;
        let verdicts_of = |attacker: &mut Attacker, share: &[(usize, i64, i64)], report: bool| -> Fallible<Vec<Verdict>> {
            let mut verdicts = Vec::new();
            for (k, &(cell, low, high)) in share.iter().enumerate() {
                if report {
                    crate::progress::report("auditing hidden cells", super::done_of_all(k, share.len(), needs.len()), Some(needs.len() as u64));
                }
                let (low_seen, high_seen) = attacker.seen(cell);
                if low_seen <= low as f64 + EPS && high_seen >= high as f64 - EPS {
                    continue;
                }
                // A cell held only to the outsider's promise (a secondary).
                if let (None, Some(p)) = (own(cell), promise) {
                    let Some(breach) = outsider_breach(attacker, local, p, cell)? else { continue };
                    let exact = breach.local.is_none();
                    if let Some((mut finding, lower)) = judge(cell, breach.interval, exact) {
                        finding.pinned_by = match &breach.local {
                            Some(bound) => pinning(if lower { &bound.binding_lower } else { &bound.binding_upper }),
                            None => pinning(&attacker.binding_constraints(cell, lower)?),
                        };
                        verdicts.push((cell, exact.then_some(breach.interval), Some(finding), Some(!exact)));
                    }
                    continue;
                }
                // A bound contains the attacker's interval: it proves a cell
                // exposed when it breaks the cell's own levels, or lies inside
                // the sensitive counts (then any interval in it breaks the promise).
                let proves = |iv: Interval| {
                    own(cell).is_some_and(|(l, h)| iv.lower > l || iv.upper.is_some_and(|u| u < h))
                        || promise.is_some_and(|p| iv.lower >= p.smallest() && iv.upper.is_some_and(|u| u < p.threshold()))
                };
                if let Some(bound) = local.prove(cell, proves)? {
                    // A bound, not the attacker's exact interval: the finding
                    // says so, and lower/upper stay empty (see `intervals_note`).
                    if let Some((mut finding, lower)) = judge(cell, bound.interval, false) {
                        finding.pinned_by = pinning(if lower { &bound.binding_lower } else { &bound.binding_upper });
                        verdicts.push((cell, None, Some(finding), Some(true)));
                        continue;
                    }
                }
                if attacker.reaches(cell, low, high)? {
                    verdicts.push((cell, None, None, Some(false)));
                    continue;
                }
                let iv = attacker.interval(cell)?;
                let finding = match judge(cell, iv, true) {
                    Some((mut finding, lower)) => {
                        finding.pinned_by = pinning(&attacker.binding_constraints(cell, lower)?);
                        Some(finding)
                    }
                    None => None,
                };
                verdicts.push((cell, Some(iv), finding, Some(false)));
            }
            Ok(verdicts)
        };
        let mut verdicts = super::on_two_cores(&mut attacker, table, &marks.published, &needs, PARALLEL_VERDICTS, "the audit", verdicts_of)?;
        verdicts.sort_by_key(|verdict| verdict.0);
        let by_neighbourhood = verdicts.iter().filter(|v| v.3 == Some(true)).count();
        let by_table = verdicts.iter().filter(|v| v.3 == Some(false)).count();
        for (cell, interval, finding, _) in verdicts {
            intervals.extend(interval.map(|iv| (cell, iv)));
            findings.extend(finding);
        }
        if std::env::var_os("AMPARO_DEBUG").is_some() {
            eprintln!("audit: {by_neighbourhood} findings proven by a neighbourhood, {by_table} cells checked on the whole table, in {:.1?}", started.elapsed());
        }
    }
    for (cell, iv) in intervals {
        marks.set_interval(cell, (Some(iv.lower), iv.upper));
    }
    report.findings = findings;
    Ok(report)
}

#[cfg(test)]
#[path = "audit_tests.rs"]
mod tests;
