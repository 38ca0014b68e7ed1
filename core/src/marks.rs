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
    pub reason: Vec<Option<Arc<str>>>,
    pub published: Vec<Option<i64>>,
    pub lower: Vec<Option<i64>>,
    pub upper: Vec<Option<i64>>,
    /// For sensitive cells: how far below and above the value the attacker's
    /// interval must reach (protection levels).
    pub protection: Vec<Option<(i64, i64)>>,
    /// For noisy cells: the standard deviation of the published value's
    /// error (the `sd` column, written only when some cell has one).
    pub sd: Vec<Option<f64>>,
}

impl CellMarks {
    /// Every cell published as is.
    pub fn publish_all(cube: &Cube) -> CellMarks {
        CellMarks::publish_values(cube.values())
    }

    /// Every cell published as is, for cells with these values.
    pub fn publish_values(values: &[i64]) -> CellMarks {
        let n = values.len();
        CellMarks {
            status: vec![Status::Published; n],
            reason: vec![None; n],
            published: values.iter().map(|&v| Some(v)).collect(),
            lower: vec![None; n],
            upper: vec![None; n],
            protection: vec![None; n],
            sd: vec![None; n],
        }
    }

    /// The marks of the cells `cells`, in that order.
    pub fn select(&self, cells: &[usize]) -> CellMarks {
        CellMarks {
            status: cells.iter().map(|&c| self.status[c]).collect(),
            reason: cells.iter().map(|&c| self.reason[c].clone()).collect(),
            published: cells.iter().map(|&c| self.published[c]).collect(),
            lower: cells.iter().map(|&c| self.lower[c]).collect(),
            upper: cells.iter().map(|&c| self.upper[c]).collect(),
            protection: cells.iter().map(|&c| self.protection[c]).collect(),
            sd: cells.iter().map(|&c| self.sd[c]).collect(),
        }
    }

    pub fn is_hidden(&self, cell: usize) -> bool {
        self.published[cell].is_none()
    }

    pub fn hide(&mut self, cell: usize, status: Status, reason: Arc<str>) {
        self.status[cell] = status;
        self.reason[cell] = Some(reason);
        self.published[cell] = None;
    }

    /// Publish hidden `cell` after all, at `value`, with no levels left to keep.
    pub fn republish(&mut self, cell: usize, value: i64) {
        self.status[cell] = Status::Published;
        self.reason[cell] = None;
        self.published[cell] = Some(value);
        self.lower[cell] = None;
        self.upper[cell] = None;
        self.protection[cell] = None;
    }
}

/// Notes for the output metadata: (key, text), e.g. ("additivity", ...).
pub type Notes = Vec<(String, String)>;

