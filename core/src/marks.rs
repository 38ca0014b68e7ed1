//! The marks every method leaves on a table's cells: what happened to each
//! cell (its status), why (its reason), what is published, the attacker's
//! interval the audit fills, protection levels and, for noise, the error's
//! standard deviation; and the notes a method adds to the metadata. Every
//! method writes these and nothing else; turning them into Arrow is
//! [`crate::output`]'s work.

use std::sync::Arc;

use crate::table::Cube;

/// How the reason of a hidden headline total starts (the grand total or a
/// first-level total, hidden by secondary suppression only for want of a
/// cheaper protection); the rest names the sensitive cell that needed it.
/// The summary groups them by it.
pub const HEADLINE_REASON: &str = "a headline total, hidden for want of a cheaper protection";

/// The reason of a cell hidden because the policy says so (`[secondary] force_hidden`).
pub const POLICY_HIDDEN_REASON: &str = "hidden by the policy";

/// What happened to a cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
    Published,
    /// Sensitive by a primary rule, hidden.
    Primary,
    /// Hidden to protect a primary cell.
    Secondary,
    Rounded,
    Perturbed,
    /// Published with differential privacy noise (and post-processing).
    Noisy,
}

impl Status {
    /// Every status, in the order reports list them (the levels of R's factor).
    pub const ALL: [Status; 6] = [Status::Published, Status::Primary, Status::Secondary, Status::Rounded, Status::Perturbed, Status::Noisy];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Published => "published",
            Status::Primary => "primary",
            Status::Secondary => "secondary",
            Status::Rounded => "rounded",
            Status::Perturbed => "perturbed",
            Status::Noisy => "noisy",
        }
    }
    pub fn is_hidden(self) -> bool {
        matches!(self, Status::Primary | Status::Secondary)
    }
}

/// Per-cell status, reason, published value and attacker interval, filled by methods.
#[derive(Debug, Clone)]
pub struct CellMarks {
    pub status: Vec<Status>,
    pub reason: Reasons,
    pub published: Vec<Option<i64>>,
    pub lower: LazyColumn<i64>,
    pub upper: LazyColumn<i64>,
    /// For sensitive cells: how far below and above the value the attacker's
    /// interval must reach (protection levels).
    pub protection: LazyColumn<(i64, i64)>,
    /// For noisy cells: the standard deviation of the published value's
    /// error (the `sd` column, written only when some cell has one).
    pub sd: LazyColumn<f64>,
}

impl CellMarks {
    /// Every cell published as is.
    pub fn publish_all(cube: &Cube) -> CellMarks {
        CellMarks::publish_values(cube.values())
    }

    /// Every cell published as is, for cells with these values.
    pub fn publish_values(values: &[i64]) -> CellMarks {
        CellMarks::with(vec![Status::Published; values.len()], Reasons::none(values.len()), values.iter().map(|&v| Some(v)).collect())
    }

    /// Cells with these statuses, reasons and published values, and none of
    /// the columns the audit and the methods fill later.
    pub fn with(status: Vec<Status>, reason: Reasons, published: Vec<Option<i64>>) -> CellMarks {
        let n = status.len();
        debug_assert!(reason.len() == n && published.len() == n);
        CellMarks { status, reason, published, lower: LazyColumn::new(n), upper: LazyColumn::new(n), protection: LazyColumn::new(n), sd: LazyColumn::new(n) }
    }

    /// The marks of the cells `cells`, in that order.
    pub fn select(&self, cells: &[usize]) -> CellMarks {
        CellMarks {
            status: cells.iter().map(|&c| self.status[c]).collect(),
            reason: self.reason.select(cells),
            published: cells.iter().map(|&c| self.published[c]).collect(),
            lower: self.lower.select(cells),
            upper: self.upper.select(cells),
            protection: self.protection.select(cells),
            sd: self.sd.select(cells),
        }
    }

    /// The interval `cell`'s true value lies in (the attacker's, or the noise's).
    pub fn set_interval(&mut self, cell: usize, (lower, upper): (Option<i64>, Option<i64>)) {
        self.lower.set(cell, lower);
        self.upper.set(cell, upper);
    }

    pub fn is_hidden(&self, cell: usize) -> bool {
        self.published[cell].is_none()
    }

    pub fn hide(&mut self, cell: usize, status: Status, reason: Arc<str>) {
        self.status[cell] = status;
        self.reason.set(cell, Some(reason));
        self.published[cell] = None;
    }

    /// Publish hidden `cell` after all, at `value`, with no levels left to keep.
    pub fn republish(&mut self, cell: usize, value: i64) {
        self.status[cell] = Status::Published;
        self.reason.set(cell, None);
        self.published[cell] = Some(value);
        self.lower.set(cell, None);
        self.upper.set(cell, None);
        self.protection.set(cell, None);
    }
}

/// A per-cell column that most methods never write (the attacker's
/// interval, protection levels, the noise's sd): it holds no storage until
/// some cell gets a value, so a table of 10^8 perturbed cells does not
/// carry 72 bytes a cell of values that are all absent.
#[derive(Debug, Clone)]
pub struct LazyColumn<T> {
    len: usize,
    values: Option<Vec<Option<T>>>,
    /// What an unwritten column's cells read as (indexing returns a reference).
    absent: Option<T>,
}

impl<T: Copy> LazyColumn<T> {
    /// `len` cells, none with a value.
    pub fn new(len: usize) -> LazyColumn<T> {
        LazyColumn { len, values: None, absent: None }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Give `cell` a value (or none); the column's storage is made on the
    /// first value.
    pub fn set(&mut self, cell: usize, value: Option<T>) {
        assert!(cell < self.len, "cell {cell} of a column of {}", self.len);
        match (&mut self.values, value) {
            (None, None) => {}
            (Some(values), value) => values[cell] = value,
            (values @ None, Some(v)) => {
                let mut all = vec![None; self.len];
                all[cell] = Some(v);
                *values = Some(all);
            }
        }
    }

    /// Whether some cell has a value.
    pub fn any(&self) -> bool {
        self.values.as_ref().is_some_and(|v| v.iter().any(Option::is_some))
    }

    pub fn iter(&self) -> impl Iterator<Item = Option<T>> + Clone + '_ {
        (0..self.len).map(move |c| self[c])
    }

    fn select(&self, cells: &[usize]) -> LazyColumn<T> {
        let values = self.values.as_ref().map(|v| cells.iter().map(|&c| v[c]).collect());
        LazyColumn { len: cells.len(), values, absent: None }
    }
}

impl<T> std::ops::Index<usize> for LazyColumn<T> {
    type Output = Option<T>;
    fn index(&self, cell: usize) -> &Option<T> {
        match &self.values {
            Some(values) => &values[cell],
            None => {
                assert!(cell < self.len, "cell {cell} of a column of {}", self.len);
                &self.absent
            }
        }
    }
}

impl<T: Copy + PartialEq> PartialEq for LazyColumn<T> {
    fn eq(&self, other: &LazyColumn<T>) -> bool {
        self.len == other.len && self.iter().eq(other.iter())
    }
}

impl<T: Copy> From<Vec<Option<T>>> for LazyColumn<T> {
    fn from(values: Vec<Option<T>>) -> LazyColumn<T> {
        LazyColumn { len: values.len(), values: Some(values), absent: None }
    }
}

/// Each cell's reason, kept as an index into the distinct reasons: a method
/// gives many cells the same few reasons, and 10^8 cells then cost 4 bytes
/// each rather than a 16-byte pointer, or nothing while every cell has the
/// same reason (the cell key method's).
#[derive(Debug, Clone)]
pub struct Reasons {
    /// Each distinct reason once; entry 0 is no reason.
    texts: Vec<Option<Arc<str>>>,
    index_of_text: std::collections::HashMap<Arc<str>, u32>,
    of_cell: OfCell,
    /// The reason set last: runs of cells get the same one, without hashing.
    last: u32,
}

impl Reasons {
    /// `len` cells with no reason.
    pub fn none(len: usize) -> Reasons {
        Reasons { texts: vec![None], index_of_text: Default::default(), of_cell: OfCell::Same { index: 0, len }, last: 0 }
    }

    /// `len` cells that all have `reason`.
    pub fn all(len: usize, reason: Arc<str>) -> Reasons {
        let mut reasons = Reasons::none(0);
        let index = reasons.index(reason);
        reasons.of_cell = OfCell::Same { index, len };
        reasons
    }

    pub fn len(&self) -> usize {
        match &self.of_cell {
            OfCell::Same { len, .. } => *len,
            OfCell::Each(of_cell) => of_cell.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn set(&mut self, cell: usize, reason: Option<Arc<str>>) {
        let index = match reason {
            None => 0,
            Some(r) if self.texts[self.last as usize].as_ref().is_some_and(|last| Arc::ptr_eq(last, &r)) => self.last,
            Some(r) => self.index(r),
        };
        self.last = index;
        match &mut self.of_cell {
            OfCell::Each(of_cell) => of_cell[cell] = index,
            &mut OfCell::Same { index: same, len } => {
                assert!(cell < len, "cell {cell} of {len}");
                if index != same {
                    let mut each = vec![same; len];
                    each[cell] = index;
                    self.of_cell = OfCell::Each(each);
                }
            }
        }
    }

    fn index(&mut self, reason: Arc<str>) -> u32 {
        if let Some(&i) = self.index_of_text.get(&reason) {
            return i;
        }
        let i = u32::try_from(self.texts.len()).expect("fewer than 2^32 distinct reasons");
        self.texts.push(Some(reason.clone()));
        self.index_of_text.insert(reason, i);
        i
    }

    pub fn iter(&self) -> impl Iterator<Item = &Option<Arc<str>>> + Clone + '_ {
        (0..self.len()).map(|cell| &self[cell])
    }

    /// Which of [`Reasons::distinct`] `cell` has (0: none).
    pub fn index_at(&self, cell: usize) -> usize {
        match &self.of_cell {
            OfCell::Each(of_cell) => of_cell[cell] as usize,
            &OfCell::Same { index, len } => {
                assert!(cell < len, "cell {cell} of {len}");
                index as usize
            }
        }
    }

    /// Each distinct reason once, no reason first.
    pub fn distinct(&self) -> &[Option<Arc<str>>] {
        &self.texts
    }

    fn select(&self, cells: &[usize]) -> Reasons {
        let mut picked = Reasons::none(cells.len());
        for (k, &c) in cells.iter().enumerate() {
            picked.set(k, self[c].clone());
        }
        picked
    }
}

/// Which reason each cell has.
#[derive(Debug, Clone)]
enum OfCell {
    /// Every one of `len` cells has the same.
    Same { index: u32, len: usize },
    Each(Vec<u32>),
}

impl std::ops::Index<usize> for Reasons {
    type Output = Option<Arc<str>>;
    fn index(&self, cell: usize) -> &Option<Arc<str>> {
        &self.texts[self.index_at(cell)]
    }
}

impl PartialEq for Reasons {
    fn eq(&self, other: &Reasons) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

/// Notes for the output metadata: (key, text), e.g. ("additivity", ...).
pub type Notes = Vec<(String, String)>;

