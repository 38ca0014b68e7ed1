//! Tables the attacker cannot rule out, kept from one phase of a protect
//! run to the next.
//!
//! Every solution an attacker finds at protect time is a table that fits
//! the published cells: the true table with some hidden cells moved. Such a
//! table still fits after more cells are hidden (a hidden cell may hold
//! anything), so it shows again, without an LP, that each cell it moved
//! reaches that value. The phases after the first check (the outsider's
//! promise, the check for secondaries computable exactly, the audit) each
//! built the whole table's attacker again and swept it for the same
//! answers: on B4 (103k linked cells) the audit's sweeps took 25 s to find
//! what the last round of the promise had found.
//!
//! Nothing here is taken on trust: [`Witnesses::reach`] keeps a table only
//! when it fits the publication it is asked about. Every cell it moved is
//! hidden there, none is below 0, and every constraint holds within the
//! LP solver's tolerance. A table that does not fit is dropped, which costs
//! time, never correctness. The tables are kept as the cells moved from
//! the true table (most solutions move a few hundred of 10^5 cells), up to
//! [`MOST_ENTRIES`] in all.

use std::sync::Mutex;

use crate::table::Additive;

/// At most this many (cell, value) entries are kept (12 bytes each):
/// past it, new tables are not kept and later phases find them again.
const MOST_ENTRIES: usize = 20_000_000;

/// A moved cell's value within this of its true value counts as unmoved.
const UNMOVED: f64 = 1e-9;

/// How far a kept table's constraint may miss adding up: the attacker's
/// tolerance for whole numbers ([`super::EPS`]), well inside which the LP
/// solver keeps its rows (1e-7).
const ADDS_UP: f64 = super::EPS;

/// The tables attackers found, as (cell, value) entries for the cells each
/// moved from the true table `truth`.
pub struct Witnesses {
    truth: Vec<i64>,
    tables: Mutex<Kept>,
}

#[derive(Default)]
struct Kept {
    tables: Vec<Vec<(u32, f64)>>,
    entries: usize,
}

/// The smallest and largest value each cell takes in the kept tables that
/// fit a publication (the true value among them).
pub struct Reach {
    low: Vec<f64>,
    high: Vec<f64>,
    /// Tables that fit, and tables kept in all.
    pub fitting: usize,
    pub kept: usize,
}

impl Reach {
    /// Whether a table that fits the publication takes `cell` to `low` or
    /// below and one to `high` or above: then its attacker interval
    /// reaches both.
    pub fn reaches(&self, cell: usize, low: i64, high: i64) -> bool {
        self.low[cell] <= low as f64 + super::EPS && self.high[cell] >= high as f64 - super::EPS
    }

    /// The smallest and largest value `cell` takes in the tables that fit.
    pub fn range(&self, cell: usize) -> (f64, f64) {
        (self.low[cell], self.high[cell])
    }

    /// Whether a table that fits takes `cell` at least one whole unit away
    /// from `value`, either way: then the cell is not computable exactly.
    pub fn moves_a_unit(&self, cell: usize, value: i64) -> bool {
        self.low[cell] <= (value - 1) as f64 + super::EPS || self.high[cell] >= (value + 1) as f64 - super::EPS
    }
}

impl Witnesses {
    /// An empty book for a table whose true values are `truth`.
    pub fn new(truth: &[i64]) -> Witnesses {
        Witnesses { truth: truth.to_vec(), tables: Mutex::new(Kept::default()) }
    }

    /// Keep a table that fits the publication an attacker was built on:
    /// `cells` (the book's cell indices) hold `values`, every other cell its
    /// true value.
    pub fn keep(&self, cells: &[u32], values: &[f64]) {
        let moved: Vec<(u32, f64)> =
            cells.iter().zip(values).filter(|&(&cell, &value)| (value - self.truth[cell as usize] as f64).abs() > UNMOVED).map(|(&cell, &value)| (cell, value)).collect();
        if moved.is_empty() {
            return;
        }
        let mut kept = self.tables.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if kept.entries + moved.len() <= MOST_ENTRIES {
            kept.entries += moved.len();
            kept.tables.push(moved);
        }
    }

    /// What the kept tables that fit `published` (on `table`, the book's
    /// table) show each cell can reach. The true table fits every
    /// publication made from it, so every cell reaches its true value.
    pub fn reach(&self, table: &dyn Additive, published: &[Option<i64>]) -> Reach {
        let mut low: Vec<f64> = self.truth.iter().map(|&v| v as f64).collect();
        let mut high = low.clone();
        let kept = self.tables.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let constraints = table.constraints();
        let of_cell = super::constraints_of_cells(&constraints, table.len());
        // Per constraint: how far the moved cells take it from adding up
        // (the true table adds up), and the constraints touched.
        let mut missed = vec![0.0f64; constraints.len()];
        let mut is_touched = vec![false; constraints.len()];
        let mut touched: Vec<u32> = Vec::new();
        let mut fitting = 0;
        for moved in &kept.tables {
            let fits_cells = moved.iter().all(|&(cell, value)| published[cell as usize].is_none() && value >= -super::EPS);
            let mut adds_up = fits_cells;
            if fits_cells {
                for &(cell, value) in moved {
                    let change = value - self.truth[cell as usize] as f64;
                    for &k in &of_cell[cell as usize] {
                        if !is_touched[k as usize] {
                            is_touched[k as usize] = true;
                            touched.push(k);
                        }
                        missed[k as usize] += if constraints[k as usize].total == cell as usize { -change } else { change };
                    }
                }
                for &k in &touched {
                    adds_up &= missed[k as usize].abs() <= ADDS_UP;
                    missed[k as usize] = 0.0;
                    is_touched[k as usize] = false;
                }
                touched.clear();
            }
            if adds_up {
                fitting += 1;
                for &(cell, value) in moved {
                    low[cell as usize] = low[cell as usize].min(value);
                    high[cell as usize] = high[cell as usize].max(value);
                }
            }
        }
        Reach { low, high, fitting, kept: kept.tables.len() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::Constraint;

    /// A row of three cells and its total (cell 3).
    struct Row([i64; 4]);

    impl Additive for Row {
        fn len(&self) -> usize {
            4
        }
        fn values(&self) -> &[i64] {
            &self.0
        }
        fn constraints(&self) -> Vec<Constraint> {
            vec![Constraint { dimension: 0, total: 3, parts: vec![0, 1, 2] }]
        }
        fn describe(&self, cell: usize) -> String {
            format!("cell {cell}")
        }
        fn headlines(&self) -> Vec<bool> {
            vec![false; 4]
        }
    }

    #[test]
    fn only_tables_that_fit_the_publication_show_a_reach() {
        let table = Row([2, 5, 3, 10]);
        let book = Witnesses::new(table.values());
        // Fits while cells 0 and 1 are hidden: 0 + 7 + 3 = 10.
        book.keep(&[0, 1], &[0.0, 7.0]);
        // Does not add up: 4 + 5 + 3 = 12.
        book.keep(&[0], &[4.0]);
        // Below 0.
        book.keep(&[0, 2], &[-1.0, 6.0]);
        let both_hidden = [None, None, Some(3), Some(10)];
        let reach = book.reach(&table, &both_hidden);
        assert_eq!((reach.fitting, reach.kept), (1, 3));
        assert!(reach.reaches(0, 0, 2) && reach.reaches(1, 5, 7));
        assert!(!reach.reaches(0, 0, 3), "no table that fits takes cell 0 above 2");
        assert!(reach.moves_a_unit(1, 5));
        // Once cell 1 is published again, the table that moved it no longer fits.
        let one_hidden = [None, Some(5), Some(3), Some(10)];
        let reach = book.reach(&table, &one_hidden);
        assert_eq!(reach.fitting, 0);
        assert!(!reach.moves_a_unit(0, 2));
        assert!(reach.reaches(0, 2, 2), "the true table fits every publication made from it");
    }

    #[test]
    fn every_constraint_a_table_touches_is_checked() {
        let table = Row([2, 5, 3, 10]);
        let book = Witnesses::new(table.values());
        // Cells 0 and 1 swap 2 between them: the row still adds up.
        book.keep(&[0, 1], &[4.0, 3.0]);
        // The same swap and one more on cell 2: the row's sum passes its
        // total on the way (2, then 0, then 1 too many) and ends 1 over.
        book.keep(&[0, 1, 2], &[4.0, 3.0, 4.0]);
        let reach = book.reach(&table, &[None, None, None, Some(10)]);
        assert_eq!(reach.fitting, 1);
        assert!(reach.reaches(0, 2, 4) && reach.reaches(1, 3, 5));
        assert!(!reach.reaches(2, 3, 4));
    }
}
