//! The interval attacker: what an outsider can infer about each hidden cell.
//! Both secondary suppression and the audit use it (and its neighbourhood
//! proofs, hypercube certificates and the singleton's child), so it sits
//! below both.
//!
//! For every hidden cell the attacker solves two linear programs: minimise and
//! maximise the cell subject to the published cells, the additivity of the
//! whole hierarchy (every parent equals the sum of its children along every
//! dimension) and non-negativity (Hundepool et al. 2012, section 4.3.3; the
//! "audit" of tau-Argus). Counts are whole numbers, so the bounds are rounded
//! inwards (a count of at least 2.3 is at least 3), which is the cheap part of
//! integrality. The interval `[lower, upper]` is what a hidden cell still
//! discloses; `upper` is `None` when nothing published bounds the cell.
//!
//! Hidden cells that share no constraint cannot inform each other, so the
//! cells are split into connected components and each component is one model;
//! within a model the LP is re-solved with a changed objective, which HiGHS
//! warm-starts from the previous basis (usually a few simplex iterations).

pub mod audit;
pub mod hypercube;
pub mod local;
pub mod region;
mod singletons;
pub mod witness;

pub use singletons::{singleton_findings, singleton_findings_of, SingletonFinding, SINGLETON_LP_LIMIT};

use highs::{Col, HighsModelStatus, Model, RowProblem, Sense};

use crate::error::Fallible;
use crate::rules::OutsiderPromise;
use crate::table::Additive;
use crate::{err, fail};

/// The smallest and largest value, and the sum over the solutions, of each
/// hidden cell in the solutions one attacker found ([`Attacker::seen_so_far`]).
pub struct Seen(Vec<SeenInComponent>);

/// One component's smallest values, largest values, sums, and number of solutions.
type SeenInComponent = (Vec<f64>, Vec<f64>, Vec<f64>, usize);

/// What an attacker can infer about one hidden cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interval {
    pub lower: i64,
    /// `None`: no published cell bounds it from above.
    pub upper: Option<i64>,
}

impl Interval {
    /// Width of the interval; `None` when unbounded.
    pub fn width(&self) -> Option<i64> {
        self.upper.map(|u| u - self.lower)
    }
}

/// At most this many sweeps explore (each an LP over the whole table).
const SWEEPS: u64 = 32;

/// Tables of this many cells or more are swept on both cores (see
/// [`Attacker::settle`]; smaller ones are subtables, which `modular` already
/// protects two at a time, or sweep in well under a second).
const SWEEPS_ON_TWO_CORES: usize = 50_000;

/// On two cores, sweeps stop after a round that settles fewer cells than this.
const FEWEST_SETTLED_BY_A_ROUND: usize = 32;

/// Sweeps of the attacker after which hypercube certificates are sought
/// around the average of their solutions (see [`Attacker::settle`]).
const SWEEPS_WITH_PATTERNS: u64 = 4;

/// Tolerance for LP values that are whole numbers up to rounding noise.
pub(crate) const EPS: f64 = 1e-6;

/// Groups hidden cells that are linked through constraints (union-find).
struct Components {
    parent: Vec<usize>,
}

impl Components {
    fn new(n: usize) -> Self {
        Components { parent: (0..n).collect() }
    }
    fn find(&mut self, mut a: usize) -> usize {
        while self.parent[a] != a {
            self.parent[a] = self.parent[self.parent[a]];
            a = self.parent[a];
        }
        a
    }
    fn union(&mut self, a: usize, b: usize) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            self.parent[ra.max(rb)] = ra.min(rb);
        }
    }
}

/// One additivity constraint restricted to hidden cells: `sum(coef * x) = rhs`.
struct Row {
    terms: Vec<(usize, f64)>,
    rhs: f64,
    /// Index of the table constraint this row comes from.
    constraint: usize,
}

/// The attacker's LP over one group of linked hidden cells.
struct Component {
    /// `None` while the model is being solved (HiGHS takes it by value), or
    /// when no constraint links the cells (then only non-negativity bounds them).
    model: Option<Model>,
    vars: Vec<Col>,
    /// Smallest and largest value each column took in any solution so far:
    /// a bound already reached needs no LP of its own.
    min_seen: Vec<f64>,
    max_seen: Vec<f64>,
    /// The sum of the solutions found so far, and how many: their average
    /// is a solution too (the feasible set is convex), nearer the middle.
    sum_seen: Vec<f64>,
    solutions: usize,
    /// The table constraint behind each row of the model.
    constraints: Vec<usize>,
}

impl Component {
    fn record(&mut self, x: &[f64]) {
        self.merge(x, x, x, 1);
    }

    /// Take in the smallest and largest values and the sums of `solutions` solutions.
    fn merge(&mut self, min: &[f64], max: &[f64], sum: &[f64], solutions: usize) {
        for (i, ((&a, &b), &c)) in min.iter().zip(max).zip(sum).enumerate() {
            self.min_seen[i] = self.min_seen[i].min(a);
            self.max_seen[i] = self.max_seen[i].max(b);
            self.sum_seen[i] += c;
        }
        self.solutions += solutions;
    }

    /// Whether column `i` still has to be shown able to reach `low` (`Some(true)`)
    /// or `high` (`Some(false)`) by some solution; `None` once both were seen.
    fn unsettled(&self, i: usize, low: i64, high: i64) -> Option<bool> {
        if self.min_seen[i] > low as f64 + EPS {
            Some(true)
        } else if self.max_seen[i] < high as f64 - EPS {
            Some(false)
        } else {
            None
        }
    }
}

/// What an attacker can compute about the hidden cells of one published table:
/// one LP per group of linked hidden cells, re-solved with a changed objective
/// (HiGHS warm-starts from the previous basis, usually a few iterations).
pub struct Attacker {
    components: Vec<Component>,
    /// Per cell: (component, local column) for hidden cells.
    place: Vec<Option<(usize, usize)>>,
    /// An upper bound put on every hidden cell in a sweep that would
    /// otherwise be unbounded (above every published value, so bounded cells
    /// are rarely held back; any solution under it is a table the attacker
    /// cannot rule out, so what it shows stays true).
    cap: f64,
    /// When the LPs must stop (the caller's time limit): a sweep is an
    /// optimisation, so stopping one early loses time, never correctness;
    /// a cell's own LP stopped is an error, which the caller reports as
    /// out of time.
    sweeps_until: Option<std::time::Instant>,
    /// Where the tables it finds are kept for later phases (see [`witness`]).
    keeping: Option<Keeping>,
}

/// A book of tables the attacker cannot rule out, and each of the
/// attacker's columns' cell in the book's table (per component).
#[derive(Clone)]
struct Keeping {
    book: std::sync::Arc<witness::Witnesses>,
    cells: Vec<Vec<u32>>,
}

impl Attacker {
    /// Build the attacker's models for `published` (`None` = hidden). Fails
    /// when the published cells contradict the additivity of the table.
    pub fn new(table: &dyn Additive, published: &[Option<i64>]) -> Fallible<Attacker> {
        Attacker::until(table, published, None)
    }

    /// [`new`](Self::new) whose LPs stop at `until` (a time limit): a
    /// sweep stops early (time lost, never correctness); the first LP and
    /// a cell's own LP fail, and the caller reports how far it got, after
    /// [`settle`](Self::settle) or [`explore`](Self::explore) too. (The
    /// first LP, on a table of 4*10^5 cells, spent minutes in HiGHS's
    /// presolve: B2's promise check ran past its time limit there.)
    pub fn until(table: &dyn Additive, published: &[Option<i64>], until: Option<std::time::Instant>) -> Fallible<Attacker> {
        Attacker::fixing(table, &as_fixed(published), until)
    }

    /// [`until`](Self::until) with the cells that are not free fixed at any
    /// value, whole or not (`None`: free, as a hidden cell): the region
    /// attackers of a publication hold the cells outside a region at a table
    /// the attacker cannot rule out (see [`region::judge_around`]). Counts
    /// are summed in floating point, exactly while they stay below 2^53.
    pub fn fixing(table: &dyn Additive, published: &[Option<f64>], until: Option<std::time::Instant>) -> Fallible<Attacker> {
        let n = table.len();
        let (hidden, rows) = hidden_rows(table, published)?;
        let mut comps = Components::new(hidden.len());
        for r in &rows {
            for w in r.terms.windows(2) {
                comps.union(w[0].0, w[1].0);
            }
        }
        let mut members: std::collections::BTreeMap<usize, Vec<usize>> = std::collections::BTreeMap::new();
        for k in 0..hidden.len() {
            members.entry(comps.find(k)).or_default().push(k);
        }
        let mut rows_of: std::collections::HashMap<usize, Vec<usize>> = std::collections::HashMap::new();
        for (i, r) in rows.iter().enumerate() {
            rows_of.entry(comps.find(r.terms[0].0)).or_default().push(i);
        }
        let cap = 2.0 * published.iter().flatten().map(|&v| v.max(0.0)).sum::<f64>() + 1.0;
        let mut attacker = Attacker { components: Vec::with_capacity(members.len()), place: vec![None; n], cap, sweeps_until: until, keeping: None };
        let mut local = vec![usize::MAX; hidden.len()];
        for (root, cols) in members {
            let id = attacker.components.len();
            for (i, &k) in cols.iter().enumerate() {
                local[k] = i;
                attacker.place[hidden[k]] = Some((id, i));
            }
            let here = rows_of.get(&root).map(Vec::as_slice).unwrap_or_default();
            if here.is_empty() {
                let m = cols.len();
                attacker.components.push(Component {
                    model: None,
                    vars: Vec::new(),
                    min_seen: vec![0.0; m],
                    max_seen: vec![f64::INFINITY; m],
                    sum_seen: vec![0.0; m],
                    solutions: 1,
                    constraints: Vec::new(),
                });
                continue;
            }
            let mut pb = RowProblem::default();
            let vars: Vec<Col> = cols.iter().map(|_| pb.add_column(0.0, 0.0..)).collect();
            for &i in here {
                let r = &rows[i];
                let terms: Vec<(Col, f64)> = r.terms.iter().map(|&(k, a)| (vars[local[k]], a)).collect();
                pb.add_row(r.rhs..=r.rhs, &terms);
            }
            let mut model = pb.optimise(Sense::Minimise);
            model.make_quiet();
            limit_time(&mut model, until);
            let solved = solve(model)?;
            match solved.status() {
                HighsModelStatus::Optimal => {}
                HighsModelStatus::ReachedTimeLimit => fail!(Infeasible, "the attacker's first LP stopped at the time limit"),
                HighsModelStatus::Infeasible => fail!(
                    Data,
                    "the published cells contradict the table's additivity (no non-negative values of the hidden cells fit them), around cell ({})",
                    table.describe(hidden[cols[0]])
                ),
                other => fail!(Infeasible, "the audit LP ended with status {other:?}"),
            }
            let x = solved.get_solution().columns().to_vec();
            let mut model = Model::from(solved);
            model.set_option("time_limit", f64::INFINITY);
            // From here on only the objective changes, so the last basis stays
            // primal feasible: the primal simplex continues from it, and
            // presolve would discard it. (Measured on a 2,112-cell table: 7 s
            // instead of 47 s with the dual simplex.) The first solve above
            // keeps HiGHS's defaults, which find a feasible point fastest.
            model.set_option("presolve", "off");
            model.set_option("simplex_strategy", 4);
            let constraints = here.iter().map(|&i| rows[i].constraint).collect();
            attacker.components.push(Component { model: Some(model), vars, min_seen: x.clone(), max_seen: x.clone(), sum_seen: x, solutions: 1, constraints });
        }
        Ok(attacker)
    }

    /// The LP minimum (or maximum) of hidden `cell`; `None` when unbounded.
    fn optimise(&mut self, cell: usize, minimise: bool) -> Fallible<Option<f64>> {
        self.optimise_with_duals(cell, minimise, None)
    }

    /// The table constraints that bind hidden `cell`'s minimum (or maximum):
    /// the rows with a non-zero dual at the optimum.
    pub fn binding_constraints(&mut self, cell: usize, minimise: bool) -> Fallible<Vec<usize>> {
        let mut duals = Vec::new();
        self.optimise_with_duals(cell, minimise, Some(&mut duals))?;
        let (id, _) = self.place[cell].expect("only hidden cells are optimised");
        let comp = &self.components[id];
        Ok(duals.iter().zip(&comp.constraints).filter(|(d, _)| d.abs() > EPS).map(|(_, &c)| c).collect())
    }

    fn optimise_with_duals(&mut self, cell: usize, minimise: bool, duals: Option<&mut Vec<f64>>) -> Fallible<Option<f64>> {
        let (id, i) = self.place[cell].expect("only hidden cells are optimised");
        let comp = &mut self.components[id];
        let Some(mut model) = comp.model.take() else {
            return Ok(if minimise { Some(0.0) } else { None });
        };
        let var = comp.vars[i];
        model.change_column_cost(var, if minimise { 1.0 } else { -1.0 });
        // One LP over a table of 10^5 cells can take minutes: within the
        // time left too (B2's promise check ran minutes past its limit).
        let limited = limit_time(&mut model, self.sweeps_until);
        let solved = solve(model)?;
        if solved.status() == HighsModelStatus::ReachedTimeLimit {
            let mut model = Model::from(solved);
            model.change_column_cost(var, 0.0);
            model.set_option("time_limit", f64::INFINITY);
            comp.model = Some(model);
            fail!(Infeasible, "the attacker's LP for cell {cell} stopped at the time limit");
        }
        let value = match solved.status() {
            HighsModelStatus::Optimal => {
                comp.record(solved.get_solution().columns());
                if let Some(keeping) = &self.keeping {
                    keeping.book.keep(&keeping.cells[id], solved.get_solution().columns());
                }
                if let Some(out) = duals {
                    *out = solved.get_solution().dual_rows().to_vec();
                }
                let v = solved.objective_value();
                Some(if minimise { v } else { -v })
            }
            HighsModelStatus::Unbounded | HighsModelStatus::UnboundedOrInfeasible if !minimise => {
                comp.max_seen[i] = f64::INFINITY;
                None
            }
            other => fail!(Infeasible, "the audit LP ended with status {other:?}"),
        };
        let mut model = Model::from(solved);
        model.change_column_cost(var, 0.0);
        if limited {
            model.set_option("time_limit", f64::INFINITY);
        }
        comp.model = Some(model);
        Ok(value)
    }

    /// Before checking many cells one by one: solve a few LPs that push all
    /// of them at once (down where a cell must reach `low`, up where it must
    /// reach `high`), so that most checks are settled by a solution already
    /// seen. Each sweep that settles nothing ends the exploration.
    pub fn explore(&mut self, targets: &[(usize, i64, i64)]) -> Fallible<()> {
        self.explore_rounds(targets, 0..SWEEPS).map(drop)
    }


    /// [`explore`](Self::explore) with the given rounds (each a different
    /// weighting of the pushes). Returns whether more sweeps may help
    /// (false once one settles too little, or nothing is left).
    pub fn explore_rounds(&mut self, targets: &[(usize, i64, i64)], rounds: std::ops::Range<u64>) -> Fallible<bool> {
        for round in rounds {
            if self.sweeps_until.is_some_and(|until| std::time::Instant::now() >= until) {
                return Ok(false);
            }
            let mut objective: Vec<Vec<(usize, f64)>> = vec![Vec::new(); self.components.len()];
            for &(cell, low, high) in targets {
                let Some((id, i)) = self.place[cell] else { continue };
                // Varied weights move the optimum to a different vertex each round.
                let weight = 1.0 + (splitmix(cell as u64 ^ round.wrapping_mul(0x9E37_79B9)) % 1000) as f64 / 1000.0;
                match self.components[id].unsettled(i, low, high) {
                    Some(true) => objective[id].push((i, weight)),
                    Some(false) => objective[id].push((i, -weight)),
                    None => {}
                }
            }
            let unsettled: usize = objective.iter().map(Vec::len).sum();
            if unsettled == 0 {
                return Ok(false);
            }
            for (id, terms) in objective.iter().enumerate() {
                // A single cell is as cheap to check on its own.
                if terms.len() > 1 {
                    self.sweep(id, terms)?;
                }
            }
            let left = targets
                .iter()
                .filter(|&&(cell, low, high)| self.place[cell].is_some_and(|(id, i)| self.components[id].unsettled(i, low, high).is_some()))
                .count();
            if std::env::var_os("AMPARO_DEBUG").is_some() {
                eprintln!("explore: {unsettled} unsettled before the sweep, {left} after");
            }
            if left * 20 > unsettled * 19 {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Settle what it can of `targets` (cell, low, high) without an LP per
    /// cell, removing the cells shown to reach both ends: sweeps (see
    /// [`explore`](Self::explore)), the first few each followed by hypercube
    /// certificates around the average of the solutions found so far (any
    /// table the attacker cannot rule out serves, true values unknown or
    /// not; the average of more solutions sits nearer the middle, where
    /// patterns have room). Certificates cost look-ups, a sweep an LP over
    /// the whole table: on B3's published 116k cells (34k hidden cells to
    /// check) this took the sweeps from 26 to 12 and the audit from 40 s to
    /// 23 s. A cell removed reaches both ends for good: hiding more cells
    /// only widens what the attacker cannot rule out.
    ///
    /// On a table of [`SWEEPS_ON_TWO_CORES`] cells or more, a second
    /// attacker over the same cells sweeps on the other core: from the
    /// second round on, each sweeps half of the cells left, and each learns
    /// what the other saw. (Each sweep costs about the same whatever it
    /// pushes: on B4's publication, 103k linked cells, 3.6 s.)
    pub fn settle(&mut self, table: &dyn Additive, published: &[Option<i64>], targets: &mut Vec<(usize, i64, i64)>) -> Fallible<()> {
        self.settle_on_two_cores_from(table, published, targets, SWEEPS_ON_TWO_CORES)
    }

    /// [`settle`](Self::settle), sweeping on two cores from tables of
    /// `cells` cells (tests settle small tables so).
    pub fn settle_on_two_cores_from(&mut self, table: &dyn Additive, published: &[Option<i64>], targets: &mut Vec<(usize, i64, i64)>, cells: usize) -> Fallible<()> {
        if table.len() < cells || targets.len() < 2 {
            let mut round = 0;
            while round < SWEEPS && self.explore_rounds(targets, round..round + 1)? {
                round += 1;
                self.certify_around(table, published, round, targets);
            }
            targets.retain(|&(cell, low, high)| !self.seen_reaching(cell, low, high));
            return Ok(());
        }
        type Request = (Vec<(usize, i64, i64)>, u64, Seen);
        let until = self.sweeps_until;
        let keeping = self.keeping.clone();
        std::thread::scope(|scope| -> Fallible<()> {
            let (requests, helper_requests) = std::sync::mpsc::channel::<Request>();
            let (helper_replies, replies) = std::sync::mpsc::channel::<Fallible<(bool, Seen)>>();
            // The helper owns its attacker (HiGHS models stay on the thread
            // that made them) and is built while the first sweep runs here.
            scope.spawn(move || {
                let mut helper = match Attacker::helper(table, published, until, keeping) {
                    Ok(helper) => helper,
                    Err(e) => {
                        let _ = helper_replies.send(Err(e));
                        return;
                    }
                };
                for (share, round, seen) in helper_requests {
                    helper.learn(&seen);
                    let swept = helper.explore_rounds(&share, round..round + 1).map(|more| (more, helper.seen_so_far()));
                    if helper_replies.send(swept).is_err() {
                        return;
                    }
                }
            });
            let mut helper = Some((requests, replies));
            let mut round = 0;
            while round < SWEEPS {
                targets.retain(|&(cell, low, high)| !self.seen_reaching(cell, low, high));
                let before = targets.len();
                let more = match helper.take() {
                    Some((requests, replies)) if round > 0 && targets.len() >= 2 => {
                        let theirs: Vec<(usize, i64, i64)> = targets.iter().skip(1).step_by(2).copied().collect();
                        let mine: Vec<(usize, i64, i64)> = targets.iter().step_by(2).copied().collect();
                        let sent = requests.send((theirs, round, self.seen_so_far())).is_ok();
                        let more = self.explore_rounds(&mine, round..round + 1)?;
                        // A helper that failed (its first LP past the time limit) leaves the sweeps to this one.
                        match replies.recv() {
                            Ok(Ok((theirs_more, seen))) if sent => {
                                self.learn(&seen);
                                helper = Some((requests, replies));
                                more || theirs_more
                            }
                            _ => more,
                        }
                    }
                    kept => {
                        helper = kept;
                        self.explore_rounds(targets, round..round + 1)?
                    }
                };
                // On a large table a round that settles few cells costs more
                // than their own checks (on B4 about 0.1 s each, a sweep 3.6 s).
                let settled = targets.iter().filter(|&&(cell, low, high)| self.seen_reaching(cell, low, high)).count();
                let fewest = if table.len() >= SWEEPS_ON_TWO_CORES { FEWEST_SETTLED_BY_A_ROUND } else { 1 };
                if !more || settled * 20 < before || settled < fewest {
                    break;
                }
                round += 1;
                self.certify_around(table, published, round, targets);
            }
            targets.retain(|&(cell, low, high)| !self.seen_reaching(cell, low, high));
            Ok(())
        })
    }

    /// After the first [`SWEEPS_WITH_PATTERNS`] sweeps: drop the targets
    /// settled so far and those a hypercube certificate around the average
    /// solution settles.
    fn certify_around(&self, table: &dyn Additive, published: &[Option<i64>], round: u64, targets: &mut Vec<(usize, i64, i64)>) {
        if round <= SWEEPS_WITH_PATTERNS {
            targets.retain(|&(cell, low, high)| !self.seen_reaching(cell, low, high));
            hypercube::keep_uncertified_around(table, published, &self.average_solution(published), targets);
        }
    }

    /// Minimise `sum(coef * x)` over one component, recording the solution.
    fn sweep(&mut self, id: usize, terms: &[(usize, f64)]) -> Fallible<()> {
        let comp = &mut self.components[id];
        let Some(mut model) = comp.model.take() else { return Ok(()) };
        for &(i, coef) in terms {
            model.change_column_cost(comp.vars[i], coef);
        }
        // A sweep on a large linked set can take minutes: within the time left.
        let limited = limit_time(&mut model, self.sweeps_until);
        let mut solved = solve(model)?;
        // A cell pushed up without limit leaves the sweep unbounded, with no
        // solution to learn from: again with every cell under the cap.
        let unbounded = matches!(solved.status(), HighsModelStatus::Unbounded | HighsModelStatus::UnboundedOrInfeasible);
        if unbounded {
            let mut model = Model::from(solved);
            for &var in &comp.vars {
                model.change_column_bounds(var, 0.0..=self.cap);
            }
            solved = solve(model)?;
        }
        if solved.status() == HighsModelStatus::Optimal {
            comp.record(solved.get_solution().columns());
            if let Some(keeping) = &self.keeping {
                keeping.book.keep(&keeping.cells[id], solved.get_solution().columns());
            }
        }
        let mut model = Model::from(solved);
        if unbounded {
            for &var in &comp.vars {
                model.change_column_bounds(var, 0.0..);
            }
        }
        for &(i, _) in terms {
            model.change_column_cost(comp.vars[i], 0.0);
        }
        if limited {
            model.set_option("time_limit", f64::INFINITY);
        }
        comp.model = Some(model);
        Ok(())
    }

    /// Keep every table this attacker finds from here on in `book`, when
    /// there is one (see [`witness`]; protect time only, where the table's
    /// values are the true ones). `cells`: each of the attacker's cells'
    /// index in the book's table, when the attacker is on part of it (a region).
    pub fn keep_in(&mut self, book: Option<&std::sync::Arc<witness::Witnesses>>, cells: Option<&[usize]>) {
        let Some(book) = book else { return };
        let mut columns: Vec<Vec<u32>> = self.components.iter().map(|c| vec![0; c.min_seen.len()]).collect();
        for (cell, place) in self.place.iter().enumerate() {
            if let Some((id, i)) = *place {
                columns[id][i] = cells.map_or(cell, |cells| cells[cell]) as u32;
            }
        }
        self.keeping = Some(Keeping { book: book.clone(), cells: columns });
    }

    /// A second attacker over the same `table` and `published` (for
    /// another thread), stopping its LPs at `until` and keeping what it
    /// finds where the first does (`keeping`, the first's).
    fn helper(table: &dyn Additive, published: &[Option<i64>], until: Option<std::time::Instant>, keeping: Option<Keeping>) -> Fallible<Attacker> {
        let mut helper = Attacker::until(table, published, until)?;
        helper.keeping = keeping;
        Ok(helper)
    }

    /// Record a table the attacker cannot rule out, known from elsewhere:
    /// at protect time the true one (it fits every published cell), which
    /// shows without an LP that each hidden cell reaches its own value, so
    /// a hidden secondary of 5 or more needs no LP to reach the threshold.
    pub fn saw(&mut self, value: impl Fn(usize) -> i64) {
        self.saw_between(|cell| (value(cell) as f64, value(cell) as f64));
    }

    /// Record what tables the attacker cannot rule out, known from
    /// elsewhere, take each hidden cell to: the smallest and largest value
    /// `range` gives it (see [`witness::Reach`]).
    pub fn saw_between(&mut self, range: impl Fn(usize) -> (f64, f64)) {
        for (cell, place) in self.place.iter().enumerate() {
            if let Some((id, i)) = *place {
                let comp = &mut self.components[id];
                let (low, high) = range(cell);
                comp.min_seen[i] = comp.min_seen[i].min(low);
                comp.max_seen[i] = comp.max_seen[i].max(high);
            }
        }
    }

    /// The smallest and largest value hidden `cell` took in the solutions
    /// seen so far: the attacker's interval contains both.
    pub fn seen(&self, cell: usize) -> (f64, f64) {
        let (id, i) = self.place[cell].expect("only hidden cells are seen");
        (self.components[id].min_seen[i], self.components[id].max_seen[i])
    }

    /// The average of the solutions found so far, a table the attacker
    /// cannot rule out: the published values, and for each hidden cell its
    /// average (0 where no constraint bounds it).
    pub fn average_solution(&self, published: &[Option<i64>]) -> Vec<f64> {
        (0..self.place.len())
            .map(|cell| match (published[cell], self.place[cell]) {
                (Some(v), _) => v as f64,
                (None, Some((id, i))) => self.components[id].sum_seen[i] / self.components[id].solutions as f64,
                (None, None) => 0.0,
            })
            .collect()
    }

    /// What the solutions seen so far showed, to hand to another attacker
    /// over the same table and published cells (see [`learn`](Self::learn)).
    pub fn seen_so_far(&self) -> Seen {
        Seen(self.components.iter().map(|c| (c.min_seen.clone(), c.max_seen.clone(), c.sum_seen.clone(), c.solutions)).collect())
    }

    /// Take in what another attacker over the same table and published
    /// cells saw (its components are built the same way).
    pub fn learn(&mut self, seen: &Seen) {
        for (comp, (min, max, sum, solutions)) in self.components.iter_mut().zip(&seen.0) {
            comp.merge(min, max, sum, *solutions);
        }
    }

    /// Whether solutions seen so far took hidden `cell` to `low` or below
    /// and to `high` or above: then its interval reaches both.
    pub fn seen_reaching(&self, cell: usize, low: i64, high: i64) -> bool {
        let (id, i) = self.place[cell].expect("only hidden cells are seen");
        self.components[id].unsettled(i, low, high).is_none()
    }

    /// The interval of a hidden cell, bounds rounded inwards to whole numbers.
    pub fn interval(&mut self, cell: usize) -> Fallible<Interval> {
        self.interval_within(cell, (0, None))
    }

    /// [`interval`](Self::interval), knowing that it lies within `bounds`
    /// (whole numbers; `None`: no upper bound), as bound propagation shows
    /// (see [`local::LocalAttacker::propagated`]): a bound a solution seen
    /// already reached is the interval's, without its LP. (Counts are
    /// non-negative, so a cell seen at 0 has lower bound 0.)
    pub fn interval_within(&mut self, cell: usize, bounds: (i64, Option<i64>)) -> Fallible<Interval> {
        let (id, i) = self.place[cell].expect("only hidden cells have intervals");
        let (min_seen, max_seen) = (self.components[id].min_seen[i], self.components[id].max_seen[i]);
        let lower = if min_seen <= bounds.0.max(0) as f64 + EPS {
            bounds.0.max(0)
        } else {
            self.optimise(cell, true)?.map_or(0, |v| (v - EPS).ceil().max(0.0) as i64)
        };
        let upper = match bounds.1 {
            Some(upper) if max_seen >= upper as f64 - EPS => Some(upper),
            _ => self.optimise(cell, false)?.map(|v| (v + EPS).floor() as i64),
        };
        Ok(Interval { lower, upper })
    }

    /// Whether two hidden cells are linked by the table's constraints (in one
    /// group of the attacker's LPs): knowing one can change what is known of
    /// the other only then.
    pub fn linked(&self, a: usize, b: usize) -> bool {
        matches!((self.place[a], self.place[b]), (Some((x, _)), Some((y, _))) if x == y)
    }

    /// Can the attacker not rule out that hidden `cell` is as low as `low`
    /// and as high as `high`? Bounds an earlier solution reached need no LP.
    pub fn reaches(&mut self, cell: usize, low: i64, high: i64) -> Fallible<bool> {
        let (id, i) = self.place[cell].expect("only hidden cells are checked");
        let seen_low = self.components[id].min_seen[i] <= low as f64 + EPS;
        if !seen_low && self.optimise(cell, true)?.is_some_and(|v| v > low as f64 + EPS) {
            return Ok(false);
        }
        let seen_high = self.components[id].max_seen[i] >= high as f64 - EPS;
        Ok(seen_high || self.optimise(cell, false)?.map_or(true, |v| v >= high as f64 - EPS))
    }
}

/// Published whole values as the fixed values [`Attacker::fixing`] takes.
fn as_fixed(published: &[Option<i64>]) -> Vec<Option<f64>> {
    published.iter().map(|v| v.map(|v| v as f64)).collect()
}

/// The hidden cells (`published` is `None`) and the attacker's rows over
/// them: each constraint of `table` with a hidden cell, the published ones
/// moved to its right-hand side. Fails when a constraint of published cells
/// alone does not add up.
fn hidden_rows(table: &dyn Additive, published: &[Option<f64>]) -> Fallible<(Vec<usize>, Vec<Row>)> {
    let n = table.len();
    if published.len() != n {
        fail!(Data, "the published values have {} cells, the table {n}", published.len());
    }
    let hidden: Vec<usize> = (0..n).filter(|&c| published[c].is_none()).collect();
    let mut col_of = vec![usize::MAX; n];
    for (k, &c) in hidden.iter().enumerate() {
        col_of[c] = k;
    }
    let mut rows: Vec<Row> = Vec::new();
    for (index, con) in table.constraints().into_iter().enumerate() {
        let mut terms = Vec::new();
        let mut rhs = 0.0;
        match published[con.total] {
            Some(v) => rhs += v,
            None => terms.push((col_of[con.total], -1.0)),
        }
        for &p in &con.parts {
            match published[p] {
                Some(v) => rhs -= v,
                None => terms.push((col_of[p], 1.0)),
            }
        }
        if !terms.is_empty() {
            rows.push(Row { terms, rhs, constraint: index });
        } else if rhs.abs() > EPS {
            fail!(Data, "the published cells do not add up: the margin ({}) differs from the sum of its published cells", table.describe(con.total));
        }
    }
    Ok((hidden, rows))
}

/// A table the attacker cannot rule out, in the middle of them: the
/// interior-point method's answer to "any table that fits" (no objective,
/// no crossover to a vertex), which lies near the analytic centre of the
/// tables that fit, so each hidden cell has room to move both ways. A
/// vertex, which the simplex method gives, holds many hidden cells at 0.
/// Published cells hold their value. `None` when the solver does not end
/// at an optimum (the caller goes on without a centre).
pub fn interior_table(table: &dyn Additive, published: &[Option<i64>]) -> Fallible<Option<Vec<f64>>> {
    let fixed = as_fixed(published);
    let (hidden, rows) = hidden_rows(table, &fixed)?;
    let mut pb = RowProblem::default();
    let vars: Vec<Col> = hidden.iter().map(|_| pb.add_column(0.0, 0.0..)).collect();
    for r in &rows {
        let terms: Vec<(Col, f64)> = r.terms.iter().map(|&(k, a)| (vars[k], a)).collect();
        pb.add_row(r.rhs..=r.rhs, &terms);
    }
    let mut model = pb.optimise(Sense::Minimise);
    model.make_quiet();
    model.set_option("solver", "ipm");
    model.set_option("run_crossover", "off");
    let solved = solve(model)?;
    if solved.status() != HighsModelStatus::Optimal {
        return Ok(None);
    }
    let x = solved.get_solution().columns().to_vec();
    if x.iter().any(|v| !v.is_finite()) {
        return Ok(None);
    }
    let mut point: Vec<f64> = fixed.iter().map(|v| v.unwrap_or(0.0)).collect();
    for (k, &c) in hidden.iter().enumerate() {
        point[c] = x[k].max(0.0);
    }
    Ok(Some(point))
}

/// A hidden cell that breaks the outsider's promise: its interval, or a
/// bound from its neighbourhood that contains it (`local`).
pub(crate) struct Breach {
    pub interval: Interval,
    pub local: Option<local::LocalBound>,
}

/// Whether hidden `cell` breaks the outsider's promise (see
/// [`OutsiderPromise`]), by the cheapest proofs: `Some(verdict)`, or `None`
/// when only the cell's interval can tell. In order: a solution the sweeps
/// saw reaching both ends of the promise's range; bounds propagated through
/// the constraints that show the cell holds the threshold or more (nothing
/// small to protect: most hidden margins and large secondaries, which no
/// sweep brings down to 0; on a 29k-cell table this replaced two thousand
/// whole-table LPs). When a solution reached the upper end (at protect time
/// the true table does, for every hidden cell of the threshold or more),
/// only the cell's minimum is in question: a neighbourhood's minimum, at
/// most the whole table's, proves a breach when every minimum between it
/// and a value seen breaks the promise; otherwise the whole table's LP gives
/// the minimum (one LP, where the interval takes two; on B3's 116k cells
/// this took the first protect-time check from 110 s to 35 s). Without the
/// upper end, the whole table's LP is asked whether it reaches both.
fn cheap_verdict(attacker: &mut Attacker, local: &local::LocalAttacker, promise: &OutsiderPromise, cell: usize) -> Fallible<Option<bool>> {
    let (low, high) = promise.range();
    if attacker.seen_reaching(cell, low, high) {
        return Ok(Some(false));
    }
    let (low_seen, high_seen) = attacker.seen(cell);
    let n = promise.threshold();
    if local.shown_at_least(cell, n) {
        return Ok(Some(false));
    }
    if high_seen < high as f64 - EPS {
        return Ok(if attacker.reaches(cell, low, high)? { Some(false) } else { None });
    }
    // The upper end is reached, so the interval's upper bound is at least
    // `high`, past every sensitive count: whether the promise holds depends
    // on the lower bound alone.
    let breaks = |lower: i64| !promise.holds(lower, None);
    let whole_at_most = (low_seen - EPS).ceil().max(0.0) as i64;
    let whole_lower_from = |minimum: f64| (minimum - EPS).ceil().max(0.0) as i64;
    let proves = |minimum: f64| {
        let at_least = whole_lower_from(minimum);
        at_least >= n || (at_least <= whole_at_most && (at_least..=whole_at_most).all(breaks))
    };
    if let Some(minimum) = local.minimum(cell, proves)? {
        let at_least = whole_lower_from(minimum);
        if at_least >= n {
            return Ok(Some(false));
        }
        if at_least <= whole_at_most && (at_least..=whole_at_most).all(breaks) {
            return Ok(Some(true));
        }
    }
    let minimum = attacker.optimise(cell, true)?.unwrap_or(0.0);
    Ok(Some(breaks(whole_lower_from(minimum))))
}

/// Whether hidden `cell` breaks the outsider's promise: the verdict alone,
/// for protection, which gives a breaking cell protection levels whatever
/// its interval.
pub(crate) fn breaks_promise(attacker: &mut Attacker, local: &local::LocalAttacker, promise: &OutsiderPromise, cell: usize) -> Fallible<bool> {
    match cheap_verdict(attacker, local, promise, cell)? {
        Some(verdict) => Ok(verdict),
        None => {
            let interval = attacker.interval(cell)?;
            Ok(!promise.holds(interval.lower, interval.upper))
        }
    }
}

/// Whether hidden `cell` breaks the outsider's promise, with the interval
/// that shows it, for a finding: a neighbourhood's bound when it proves the
/// breach (tried before the whole table's LPs: most findings of an unsafe
/// table are proven so, in milliseconds each), else the whole table's
/// interval.
pub(crate) fn outsider_breach(attacker: &mut Attacker, local: &local::LocalAttacker, promise: &OutsiderPromise, cell: usize) -> Fallible<Option<Breach>> {
    let (low, high) = promise.range();
    if attacker.seen_reaching(cell, low, high) || local.shown_at_least(cell, promise.threshold()) {
        return Ok(None);
    }
    let (low_seen, high_seen) = attacker.seen(cell);
    if let Some(bound) = local.prove(cell, |bound| every_interval_breaks(promise, bound, low_seen, high_seen))? {
        return Ok(Some(Breach { interval: bound.interval, local: Some(bound) }));
    }
    if cheap_verdict(attacker, local, promise, cell)? == Some(false) {
        return Ok(None);
    }
    let interval = attacker.interval(cell)?;
    Ok((!promise.holds(interval.lower, interval.upper)).then_some(Breach { interval, local: None }))
}

/// Whether every interval the attacker may have for a cell breaks the
/// promise, knowing only a bound that contains it (a neighbourhood's) and
/// values solutions took (so its lower end is at most the smallest seen, its
/// upper end at least the largest). Upper ends past the promise's range and
/// the threshold all judge alike, so the search stops there.
fn every_interval_breaks(promise: &OutsiderPromise, bound: Interval, low_seen: f64, high_seen: f64) -> bool {
    let n = promise.threshold();
    let cap = promise.range().1.max(n - 1);
    let highest_lower = ((low_seen - EPS).ceil().max(0.0) as i64).min(n);
    let lowest_upper = ((high_seen + EPS).floor() as i64).min(cap);
    let highest_upper = bound.upper.map_or(cap, |u| u.min(cap));
    if bound.lower > highest_lower || bound.upper.is_some_and(|u| u < lowest_upper) {
        return false;
    }
    (bound.lower..=highest_lower).all(|lower| (lowest_upper.max(lower)..=highest_upper.max(lower)).all(|upper| !promise.holds(lower, Some(upper))))
}

/// A fixed pseudo-random hash (SplitMix64), so explorations are deterministic.
fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// HiGHS's clock runs on across every solve of one model, and its
/// `time_limit` is checked against that sum (HiGHS issue #1331): a model
/// solved again and again with the time left would stop ever earlier.
/// Restarted before each solve that has a limit of its own.
/// Give `model`'s next solve the time left until `until` (at least a
/// millisecond) on a restarted clock; whether there is a limit (the caller
/// lifts it after the solve).
fn limit_time(model: &mut Model, until: Option<std::time::Instant>) -> bool {
    let Some(until) = until else { return false };
    model.set_option("time_limit", until.saturating_duration_since(std::time::Instant::now()).as_secs_f64().max(1e-3));
    restart_clock(model);
    true
}

/// `work` over `items` on two attackers, one per core, from `parallel`
/// items on (below, `attacker` alone does all of them): `attacker` takes
/// every other item from the first, a second attacker built from the same
/// `table` and `published` cells, told what the first saw, the others.
/// For checks whose answers are exact whichever attacker gives them. The
/// first's results come first; `work`'s flag says whether it is the one
/// that reports progress. `what` names the check in the error of a
/// second core that fails.
pub(crate) fn on_two_cores<T: Sync + Clone, R: Send>(
    attacker: &mut Attacker,
    table: &dyn Additive,
    published: &[Option<i64>],
    items: &[T],
    parallel: usize,
    what: &str,
    work: impl Fn(&mut Attacker, &[T], bool) -> Fallible<Vec<R>> + Sync,
) -> Fallible<Vec<R>> {
    if items.len() < parallel {
        return work(attacker, items, true);
    }
    let first: Vec<T> = items.iter().step_by(2).cloned().collect();
    let second: Vec<T> = items.iter().skip(1).step_by(2).cloned().collect();
    let seen = attacker.seen_so_far();
    let keeping = attacker.keeping.clone();
    let work = &work;
    std::thread::scope(|scope| -> Fallible<Vec<R>> {
        let other = scope.spawn(|| -> Fallible<Vec<R>> {
            let mut attacker = Attacker::helper(table, published, None, keeping)?;
            attacker.learn(&seen);
            work(&mut attacker, &second, false)
        });
        let mut results = work(attacker, &first, true)?;
        results.extend(other.join().map_err(|_| err!(Infeasible, "{what} failed on its second core"))??);
        Ok(results)
    })
}

/// Progress of [`on_two_cores`] work as reported by the attacker that
/// reports it: item `k` of its `share` items, scaled to `all` (its share is
/// every other item on two cores, all of them on one).
pub(crate) fn done_of_all(k: usize, share: usize, all: usize) -> u64 {
    ((k + 1) * all / share.max(1)).min(all) as u64
}

/// Per cell of a table of `cells` cells: the indices of the `constraints` it is in.
pub(crate) fn constraints_of_cells(constraints: &[crate::table::Constraint], cells: usize) -> Vec<Vec<u32>> {
    let mut of_cell: Vec<Vec<u32>> = vec![Vec::new(); cells];
    for (k, con) in constraints.iter().enumerate() {
        for c in std::iter::once(con.total).chain(con.parts.iter().copied()) {
            of_cell[c].push(k as u32);
        }
    }
    of_cell
}

pub(crate) fn restart_clock(model: &mut Model) {
    // SAFETY: the pointer is the live HiGHS instance `model` owns; the call only zeroes its timers.
    unsafe {
        highs_sys::Highs_zeroAllClocks(model.as_mut_ptr());
    }
}

fn solve(model: Model) -> Fallible<highs::SolvedModel> {
    model.try_solve().map_err(|e| err!(Infeasible, "the LP solver failed during the audit: {e:?}"))
}

/// The attacker's interval for every hidden cell (`published[c] == None`);
/// `None` for published cells. Fails when the published cells contradict the
/// additivity of the table (then no table could have produced them).
pub fn attacker_intervals(table: &dyn Additive, published: &[Option<i64>]) -> Fallible<Vec<Option<Interval>>> {
    let mut attacker = Attacker::new(table, published)?;
    (0..table.len()).map(|c| if published[c].is_none() { attacker.interval(c).map(Some) } else { Ok(None) }).collect()
}


