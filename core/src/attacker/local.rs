//! The attacker on a neighbourhood of one cell: a cheap proof of a finding.
//!
//! Dropping constraints from the attacker's LP only widens what it can infer,
//! so an interval computed from the constraints near a hidden cell contains
//! the whole table's interval. When that wider interval is already narrower
//! than the cell's protection, the finding is proven without an LP over the
//! whole table (on B3, 116k cells with 46k hidden, each whole-table LP
//! took about 0.15 s; a neighbourhood's is a small fraction of that, and
//! an unsafe table needs one per exposed cell). Tables whose
//! suppression leaves cells exposed (as `fast` can) are exposed through
//! short chains like these, so most of their findings are settled here; a
//! cell the neighbourhood cannot prove narrow still gets the whole LP.

use highs::{HighsModelStatus, Model, RowProblem, Sense};

use super::{solve, Interval, EPS};
use crate::error::Fallible;
use crate::table::{Additive, Constraint};

/// Neighbourhoods tried, in constraints: each one an LP far smaller than
/// the whole table's, the first enough for most exposed cells.
const NEIGHBOURHOOD_ROWS: [usize; 2] = [64, 1024];

/// What a neighbourhood proves about one hidden cell.
pub struct LocalBound {
    /// Contains the attacker's interval over the whole table.
    pub interval: Interval,
    /// Table constraints that bind the lower and the upper bound, for
    /// naming the published cells that pin them.
    pub binding_lower: Vec<usize>,
    pub binding_upper: Vec<usize>,
}

pub struct LocalAttacker<'a> {
    constraints: Vec<Constraint>,
    /// Per cell: the constraints it is in.
    of_cell: Vec<Vec<u32>>,
    published: &'a [Option<i64>],
    /// Per cell: lower and upper bounds from propagating bounds through
    /// the constraints (see [`propagated_bounds`]).
    lower: Vec<f64>,
    upper: Vec<f64>,
}

/// Rounds of bound propagation: each carries bounds one constraint further.
const PROPAGATION_ROUNDS: usize = 8;

/// Lower and upper bounds on every cell that hold in every table the
/// attacker cannot rule out, by interval propagation (a relaxation of the attacker's LP, so
/// the LP's minimum is at least this): a total is at least the sum of its
/// parts' lower bounds; a part is at least its total's lower bound minus
/// the other parts' upper bounds (and symmetrically for upper bounds). One
/// pass over the constraints per round: on a 29k-cell table it settles in
/// milliseconds most hidden cells that hold the threshold or more, which
/// would each cost a neighbourhood's LP.
fn propagated_bounds(constraints: &[Constraint], published: &[Option<i64>]) -> (Vec<f64>, Vec<f64>) {
    let mut lower: Vec<f64> = published.iter().map(|v| v.map_or(0.0, |v| v as f64)).collect();
    let mut upper: Vec<f64> = published.iter().map(|v| v.map_or(f64::INFINITY, |v| v as f64)).collect();
    for _ in 0..PROPAGATION_ROUNDS {
        let mut changed = false;
        for con in constraints {
            let (sum_lower, sum_upper) = con.parts.iter().fold((0.0, 0.0), |(l, u), &p| (l + lower[p], u + upper[p]));
            let t = con.total;
            if sum_lower > lower[t] + EPS {
                lower[t] = sum_lower;
                changed = true;
            }
            if sum_upper < upper[t] - EPS {
                upper[t] = sum_upper;
                changed = true;
            }
            for &p in &con.parts {
                // The other parts' bounds: the sums without this part's own.
                let others_upper = if upper[p].is_finite() { sum_upper - upper[p] } else { con.parts.iter().filter(|&&q| q != p).map(|&q| upper[q]).sum() };
                let others_lower = sum_lower - lower[p];
                let low = lower[t] - others_upper;
                if low > lower[p] + EPS {
                    lower[p] = low;
                    changed = true;
                }
                let high = upper[t] - others_lower;
                if high < upper[p] - EPS {
                    upper[p] = high;
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
    (lower, upper)
}

impl<'a> LocalAttacker<'a> {
    pub fn new(table: &dyn Additive, published: &'a [Option<i64>]) -> Self {
        let constraints = table.constraints();
        let of_cell = super::constraints_of_cells(&constraints, table.len());
        let (lower, upper) = propagated_bounds(&constraints, published);
        LocalAttacker { constraints, of_cell, published, lower, upper }
    }

    /// Constraints with a hidden cell, breadth first from `cell` (its own
    /// constraints, then those of the hidden cells in them), at most
    /// `size` of them. Any subset is a valid relaxation.
    fn neighbourhood(&self, cell: usize, size: usize) -> Vec<usize> {
        let mut rows: Vec<usize> = Vec::new();
        let mut seen_rows = std::collections::HashSet::new();
        let mut seen_cells = std::collections::HashSet::from([cell]);
        let mut frontier = vec![cell];
        while !frontier.is_empty() && rows.len() < size {
            let mut next = Vec::new();
            for &c in &frontier {
                for &k in &self.of_cell[c] {
                    if rows.len() == size || !seen_rows.insert(k) {
                        continue;
                    }
                    let con = &self.constraints[k as usize];
                    let hidden: Vec<usize> =
                        std::iter::once(con.total).chain(con.parts.iter().copied()).filter(|&h| self.published[h].is_none()).collect();
                    rows.push(k as usize);
                    next.extend(hidden.into_iter().filter(|&h| seen_cells.insert(h)));
                }
            }
            frontier = next;
        }
        rows
    }

    /// The first neighbourhood of `cell`, smallest first, whose interval
    /// `exposes`; `None` when none does.
    pub fn prove(&self, cell: usize, exposes: impl Fn(Interval) -> bool) -> Fallible<Option<LocalBound>> {
        for size in NEIGHBOURHOOD_ROWS {
            match self.interval(cell, size)? {
                Some(bound) if exposes(bound.interval) => return Ok(Some(bound)),
                Some(_) => {}
                None => return Ok(None),
            }
        }
        Ok(None)
    }

    /// A lower bound on hidden `cell` from its neighbourhoods, smallest
    /// first: the first minimum that is `enough`, or the largest
    /// neighbourhood's. The whole table's minimum is at least this. `None`
    /// when a neighbourhood's LP does not solve.
    pub fn minimum(&self, cell: usize, enough: impl Fn(f64) -> bool) -> Fallible<Option<f64>> {
        let mut last = None;
        for size in NEIGHBOURHOOD_ROWS {
            let Some((solved, _, _)) = self.minimise(cell, size)? else { return Ok(None) };
            let minimum = solved.objective_value();
            if enough(minimum) {
                return Ok(Some(minimum));
            }
            last = Some(minimum);
        }
        Ok(last)
    }

    /// Whole-number bounds on hidden `cell` from bound propagation: the
    /// attacker's interval lies within them (`None`: no upper bound).
    pub fn propagated(&self, cell: usize) -> (i64, Option<i64>) {
        let lower = (self.lower[cell] - EPS).ceil().max(0.0) as i64;
        let upper = self.upper[cell].is_finite().then(|| (self.upper[cell] + EPS).floor() as i64);
        (lower, upper)
    }

    /// Whether bound propagation shows that hidden `cell` holds at least
    /// `at_least` in every table the attacker cannot rule out.
    pub fn shown_at_least(&self, cell: usize, at_least: i64) -> bool {
        self.lower[cell] > at_least as f64 - 1.0 + EPS
    }

    /// The neighbourhood's LP: rows of `size` constraints near `cell`, its
    /// column for `cell`, and the table constraints the rows stand for.
    fn problem(&self, cell: usize, size: usize) -> (RowProblem, highs::Col, Vec<usize>) {
        let rows = self.neighbourhood(cell, size);
        let mut column: std::collections::HashMap<usize, highs::Col> = std::collections::HashMap::new();
        let mut pb = RowProblem::default();
        let target = pb.add_column(0.0, 0.0..);
        column.insert(cell, target);
        for &k in &rows {
            let con = &self.constraints[k];
            let mut rhs: i128 = 0;
            let mut terms = Vec::new();
            for (c, sign) in std::iter::once((con.total, -1i128)).chain(con.parts.iter().map(|&p| (p, 1))) {
                match self.published[c] {
                    Some(v) => rhs -= sign * v as i128,
                    None => terms.push((*column.entry(c).or_insert_with(|| pb.add_column(0.0, 0.0..)), sign as f64)),
                }
            }
            pb.add_row(rhs as f64..=rhs as f64, &terms);
        }
        (pb, target, rows)
    }

    /// The neighbourhood's LP minimising `cell`, solved; with the cell's
    /// column and the table constraints of its rows. `None` when it has no
    /// optimum.
    fn minimise(&self, cell: usize, size: usize) -> Fallible<Option<(highs::SolvedModel, highs::Col, Vec<usize>)>> {
        let (pb, target, rows) = self.problem(cell, size);
        let mut model = pb.optimise(Sense::Minimise);
        model.make_quiet();
        // Presolve costs more than it saves on LPs this small.
        model.set_option("presolve", "off");
        model.change_column_cost(target, 1.0);
        let solved = solve(model)?;
        Ok((solved.status() == HighsModelStatus::Optimal).then_some((solved, target, rows)))
    }

    /// Bounds on hidden `cell` from its neighbourhood: an interval that
    /// contains the whole table's. `None` when the neighbourhood's LP does
    /// not solve (published cells that do not add up: the whole table's
    /// attacker names them).
    fn interval(&self, cell: usize, size: usize) -> Fallible<Option<LocalBound>> {
        let Some((solved, target, rows)) = self.minimise(cell, size)? else { return Ok(None) };
        let min = solved.objective_value();
        let min_duals = solved.get_solution().dual_rows().to_vec();
        let mut model = Model::from(solved);
        model.change_column_cost(target, -1.0);
        let solved = solve(model)?;
        let (max, max_duals) = match solved.status() {
            HighsModelStatus::Optimal => (Some(-solved.objective_value()), solved.get_solution().dual_rows().to_vec()),
            HighsModelStatus::Unbounded | HighsModelStatus::UnboundedOrInfeasible => (None, Vec::new()),
            _ => return Ok(None),
        };
        let interval = Interval {
            lower: (min - EPS).ceil().max(0.0) as i64,
            upper: max.map(|v| (v + EPS).floor() as i64),
        };
        let binding = |duals: Vec<f64>| duals.iter().zip(&rows).filter(|(d, _)| d.abs() > EPS).map(|(_, &k)| k).collect();
        Ok(Some(LocalBound { interval, binding_lower: binding(min_duals), binding_upper: binding(max_duals) }))
    }
}
