//! Information loss: what hiding cells cost the table's users. The cells
//! hidden, the children in hidden inner cells (each child counted once),
//! and for each level of each dimension's hierarchy the share of its cells
//! hidden and the share of its counts hidden.
//!
//! These figures use the true values of hidden cells: they are for the
//! producer (summary, internal metadata) and never go into a publication.

use std::fmt;

use crate::marks::CellMarks;
use crate::table::Cube;

/// One level of one dimension: every cell whose code in that dimension is
/// at that depth, whatever its codes in the others.
#[derive(Debug, Clone, PartialEq)]
pub struct LevelLoss {
    pub dimension: String,
    /// 0 for the total.
    pub depth: u32,
    /// The level's first code (the total's, for depth 0), to name it.
    pub example: String,
    pub cells: usize,
    pub hidden: usize,
    /// Hidden cells' counts over all the level's counts (0 when they sum to 0).
    pub count_share_hidden: f64,
}

/// The loss of one protected table.
#[derive(Debug, Clone, PartialEq)]
pub struct Loss {
    pub cells: usize,
    pub hidden: usize,
    /// Children in the table (its inner cells' sum).
    pub children: i64,
    /// Children in hidden inner cells.
    pub children_hidden: i64,
    pub by_level: Vec<LevelLoss>,
}

impl Loss {
    pub fn of(cube: &Cube, marks: &CellMarks) -> Loss {
        let hidden = |c: usize| marks.is_hidden(c);
        let (mut children, mut children_hidden) = (0i64, 0i64);
        for c in (0..cube.len()).filter(|&c| cube.is_inner(c)) {
            children = children.saturating_add(cube.value(c));
            if hidden(c) {
                children_hidden = children_hidden.saturating_add(cube.value(c));
            }
        }
        let mut by_level = Vec::new();
        for (d, dim) in cube.dims().iter().enumerate() {
            let h = &dim.hierarchy;
            let levels = (0..h.len() as u32).map(|n| h.depth(n)).max().map_or(0, |m| m as usize + 1);
            // (cells, hidden, counts, hidden counts) per depth; counts in
            // i128: a level sums up to 10^6 counts of up to 2^53.
            let mut tally = vec![(0usize, 0usize, 0i128, 0i128); levels];
            for c in 0..cube.len() {
                let t = &mut tally[h.depth(cube.coord(c, d)) as usize];
                t.0 += 1;
                t.2 += cube.value(c) as i128;
                if hidden(c) {
                    t.1 += 1;
                    t.3 += cube.value(c) as i128;
                }
            }
            for (depth, (cells, hidden, counts, hidden_counts)) in tally.into_iter().enumerate() {
                let example = (0..h.len() as u32).find(|&n| h.depth(n) as usize == depth).map(|n| h.code(n).to_owned()).unwrap_or_default();
                let share = if counts == 0 { 0.0 } else { hidden_counts as f64 / counts as f64 };
                by_level.push(LevelLoss { dimension: dim.name.clone(), depth: depth as u32, example, cells, hidden, count_share_hidden: share });
            }
        }
        Loss { cells: cube.len(), hidden: (0..cube.len()).filter(|&c| hidden(c)).count(), children, children_hidden, by_level }
    }

    /// One line for the metadata: "120 of 4,125 cells hidden (2.9%); 310 of 9,800 children in hidden inner cells (3.2%)".
    pub fn line(&self) -> String {
        format!(
            "{} of {} cells hidden ({:.1}%); {} of {} children in hidden inner cells ({:.1}%)",
            self.hidden,
            self.cells,
            percent(self.hidden as f64, self.cells as f64),
            self.children_hidden,
            self.children,
            percent(self.children_hidden as f64, self.children as f64)
        )
    }
}

fn percent(part: f64, whole: f64) -> f64 {
    if whole == 0.0 { 0.0 } else { 100.0 * part / whole }
}

impl fmt::Display for Loss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.line())?;
        for level in &self.by_level {
            let name = format!("{} level {} ({}{})", level.dimension, level.depth, level.example, if level.depth == 0 { "" } else { ", ..." });
            write!(
                f,
                "\n  {name:<36} {} of {} cells hidden ({:.1}%), {:.1}% of its counts",
                level.hidden,
                level.cells,
                percent(level.hidden as f64, level.cells as f64),
                100.0 * level.count_share_hidden
            )?;
        }
        Ok(())
    }
}
