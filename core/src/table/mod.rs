//! Dimensions, the cube with its margins and constraints, and its construction from rows.

mod columns;
mod cube;
mod ingest;
mod linked;
mod record_key;

pub use cube::{Constraint, Contributions, Cube, Dimension, MAX_CELLS};

pub use crate::policy::MAX_COUNT;
pub use ingest::CubeBuilder;
pub use linked::LinkedTables;
pub use record_key::Key;

/// A set of cells tied by additivity constraints: one table, or several
/// linked tables that share cells. Suppression and the audit work on this
/// (from several threads at once: it is read-only).
pub trait Additive: Sync {
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// True counts, indexed by cell.
    fn values(&self) -> &[i64];
    fn value(&self, cell: usize) -> i64 {
        self.values()[cell]
    }
    /// Every constraint `total = sum(parts)`.
    fn constraints(&self) -> Vec<Constraint>;
    /// The cell named for messages, e.g. "district=D01, sex=F".
    fn describe(&self, cell: usize) -> String;
    /// The table as one cube, when it is one (its dimensions allow the
    /// hypercube certificates of `suppression`).
    fn as_cube(&self) -> Option<&Cube> {
        None
    }
    /// The tables as linked tables, when they are (each cube and its cells
    /// among the linked cells).
    fn as_linked(&self) -> Option<&LinkedTables> {
        None
    }
    /// Per cell: a headline figure, the first a reader looks for: the grand
    /// total and the totals of the first level of one dimension (a
    /// country's or a region's total, the totals by sex), every other
    /// dimension at its total. Secondary suppression hides them only when
    /// it finds no protection without them.
    fn headlines(&self) -> Vec<bool>;
}

impl Additive for Cube {
    fn len(&self) -> usize {
        Cube::len(self)
    }
    fn values(&self) -> &[i64] {
        Cube::values(self)
    }
    fn constraints(&self) -> Vec<Constraint> {
        Cube::constraints(self)
    }
    fn describe(&self, cell: usize) -> String {
        Cube::describe(self, cell)
    }
    fn as_cube(&self) -> Option<&Cube> {
        Some(self)
    }
    fn headlines(&self) -> Vec<bool> {
        Cube::headlines(self)
    }
}

/// A cube from a policy's text and CSV text of its input, for unit tests.
#[cfg(test)]
pub(crate) fn test_cube(policy: &str, csv: &str) -> Cube {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("in.csv");
    std::fs::write(&path, csv).unwrap();
    let (policy, ()) = crate::policy::CheckedPolicy::read(policy, std::path::Path::new("."), |_, _| Ok(())).unwrap();
    let mut reader = crate::io::read_table(&path).unwrap();
    let mut builder = CubeBuilder::new(&policy, &reader.schema()).unwrap();
    for batch in &mut *reader {
        builder.push(&batch.unwrap()).unwrap();
    }
    builder.finish().unwrap()
}
