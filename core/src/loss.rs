//! Information loss: what hiding cells cost the table's users. The cells
//! hidden, the children in hidden inner cells (each child counted once),
//! and for each level of each dimension's hierarchy the share of its cells
//! hidden and the share of its counts hidden.
//!
//! For the methods that change values instead (rounding, the cell key
//! method, noise): the share of cells changed, the mean and largest
//! absolute change, quantiles and the distribution of the changes, as
//! cellKey's `measures_cnts` reports them (Meindl & Enderle, cellKey
//! vignette, "measures of utility").
//!
//! These figures use the true values: they are for the producer (summary,
//! internal metadata) and never go into a publication.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::i18n::Lang;
use crate::marks::CellMarks;
use crate::table::Cube;

/// One level of one dimension: every cell whose code in that dimension is
/// at that depth, whatever its codes in the others.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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

/// One bar of the distribution of changes: the cells whose change
/// (published minus original) lies in `from..=to`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeBin {
    pub from: i64,
    pub to: i64,
    pub cells: usize,
}

/// What rounding, the cell key method or noise did to the published values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Changes {
    /// The cells compared: every cell.
    pub cells: usize,
    /// Cells whose published value differs from the original.
    pub changed: usize,
    pub mean_abs: f64,
    pub max_abs: i64,
    /// Mean of |change| / original, over the cells whose original is above 0.
    pub mean_relative_abs: f64,
    /// The absolute change that half, 90% and 99% of the cells stay within.
    pub median_abs: i64,
    pub p90_abs: i64,
    pub p99_abs: i64,
    /// Cells by change, each change on its own when there are at most
    /// [`EXACT_CHANGES`] distinct changes (rounding, the cell key method),
    /// else in bins of widening width (noise with a large sd).
    pub distribution: Vec<ChangeBin>,
}

/// At most this many distinct changes are counted one by one.
pub const EXACT_CHANGES: usize = 25;

/// Changes up to this size are counted in a vector, not a hash map: one
/// step per cell on 10^8 cells.
const DENSE_CHANGES: i64 = 4096;

impl Changes {
    /// The changes of every cell, or None when the method changed no
    /// value by design (suppression hides cells, it does not change them).
    pub fn of(cube: &Cube, marks: &CellMarks) -> Option<Changes> {
        use crate::marks::Status;
        if !marks.status.iter().any(|s| matches!(s, Status::Rounded | Status::Perturbed | Status::Noisy)) {
            return None;
        }
        let mut dense = vec![0usize; 2 * DENSE_CHANGES as usize + 1];
        let mut sparse: HashMap<i64, usize> = HashMap::new();
        let (mut sum_abs, mut sum_relative, mut positive) = (0f64, 0f64, 0usize);
        for (cell, published) in marks.published.iter().enumerate() {
            // A cell the method left hidden has no change to count.
            let Some(published) = *published else { continue };
            let original = cube.value(cell);
            let change = published.saturating_sub(original);
            if (-DENSE_CHANGES..=DENSE_CHANGES).contains(&change) {
                dense[(change + DENSE_CHANGES) as usize] += 1;
            } else {
                *sparse.entry(change).or_default() += 1;
            }
            let size = change.unsigned_abs() as f64;
            sum_abs += size;
            if original > 0 {
                sum_relative += size / original as f64;
                positive += 1;
            }
        }
        let mut counts: Vec<(i64, usize)> =
            dense.iter().enumerate().filter(|(_, &n)| n > 0).map(|(i, &n)| (i as i64 - DENSE_CHANGES, n)).chain(sparse).collect();
        counts.sort_unstable();
        let cells: usize = counts.iter().map(|c| c.1).sum();
        let unchanged = counts.iter().find(|c| c.0 == 0).map_or(0, |c| c.1);
        let mut by_size: Vec<(u64, usize)> = counts.iter().map(|&(c, n)| (c.unsigned_abs(), n)).collect();
        by_size.sort_unstable();
        let quantile = |q: f64| -> i64 {
            let needed = (q * cells as f64).ceil().max(1.0) as usize;
            let mut seen = 0;
            for &(size, n) in &by_size {
                seen += n;
                if seen >= needed {
                    return size.min(i64::MAX as u64) as i64;
                }
            }
            0
        };
        let distribution = if counts.len() <= EXACT_CHANGES {
            counts.iter().map(|&(c, n)| ChangeBin { from: c, to: c, cells: n }).collect()
        } else {
            binned(&counts)
        };
        let per = |x: f64, n: usize| if n == 0 { 0.0 } else { x / n as f64 };
        Some(Changes {
            cells,
            changed: cells - unchanged,
            mean_abs: per(sum_abs, cells),
            max_abs: by_size.last().map_or(0, |s| s.0.min(i64::MAX as u64) as i64),
            mean_relative_abs: per(sum_relative, positive),
            median_abs: quantile(0.5),
            p90_abs: quantile(0.9),
            p99_abs: quantile(0.99),
            distribution,
        })
    }

    /// The share of cells changed.
    pub fn share_changed(&self) -> f64 {
        if self.cells == 0 { 0.0 } else { self.changed as f64 / self.cells as f64 }
    }
}

/// Counts of changes (sorted) in bins 0, ±1, ±2, ±3..5, ±6..10, ±11..25,
/// ±26..50, ±51..100, ... (1-2-5 steps), empty bins left out.
fn binned(counts: &[(i64, usize)]) -> Vec<ChangeBin> {
    let mut edges: Vec<i64> = vec![0, 1, 2];
    let largest = counts.iter().map(|c| c.0.unsigned_abs()).max().unwrap_or(0).min(i64::MAX as u64) as i64;
    let mut scale = 1i64;
    'widen: while *edges.last().unwrap_or(&0) < largest {
        for step in [5i64, 10, 25] {
            match step.checked_mul(scale) {
                Some(edge) => edges.push(edge),
                None => {
                    edges.push(i64::MAX);
                    break 'widen;
                }
            }
        }
        scale = scale.saturating_mul(10);
    }
    // Bins on the positive side: [0,0], [1,1], [2,2], [3,5], [6,10], ...
    let positive: Vec<(i64, i64)> = edges.windows(2).map(|w| (if w[0] == 0 { w[1] } else { w[0] + 1 }, w[1])).collect();
    let mut bins: Vec<(i64, i64)> = positive.iter().rev().map(|&(from, to)| (-to, -from)).collect();
    bins.push((0, 0));
    bins.extend(positive);
    bins.dedup();
    bins.into_iter()
        .map(|(from, to)| ChangeBin { from, to, cells: counts.iter().filter(|c| (from..=to).contains(&c.0)).map(|c| c.1).sum() })
        .filter(|b| b.cells > 0)
        .collect()
}

impl Changes {
    /// The changes as the summary says them, in `lang`: the line, then a line per bar.
    pub fn render(&self, lang: Lang) -> String {
        let mut out = lang.text(
            "summary.changes",
            &[
                ("changed", self.changed.into()),
                ("cells", self.cells.into()),
                ("share", lang.decimal(100.0 * self.share_changed(), 1).into()),
                ("mean", lang.decimal(self.mean_abs, 2).into()),
                ("max", self.max_abs.into()),
                ("median", self.median_abs.into()),
                ("p90", self.p90_abs.into()),
                ("p99", self.p99_abs.into()),
                ("relative", lang.decimal(100.0 * self.mean_relative_abs, 1).into()),
            ],
        );
        for bin in &self.distribution {
            let range = if bin.from == bin.to { format!("{:+}", bin.from) } else { format!("{:+} .. {:+}", bin.from, bin.to) };
            let line = lang.text("summary.change_bin", &[("cells", bin.cells.into()), ("share", lang.decimal(percent(bin.cells as f64, self.cells as f64), 1).into())]);
            out.push_str(&format!("\n  {:<24} {line}", lang.text("summary.change", &[("change", range.into())])));
        }
        out
    }
}

fn percent(part: f64, whole: f64) -> f64 {
    if whole == 0.0 { 0.0 } else { 100.0 * part / whole }
}

impl Loss {
    /// The loss as the summary says it, in `lang`: the line, then a line per level.
    pub fn render(&self, lang: Lang) -> String {
        let mut out = lang.text(
            "summary.loss",
            &[
                ("hidden", self.hidden.into()),
                ("cells", self.cells.into()),
                ("share", lang.decimal(percent(self.hidden as f64, self.cells as f64), 1).into()),
                ("children_hidden", self.children_hidden.into()),
                ("children", self.children.into()),
                ("children_share", lang.decimal(percent(self.children_hidden as f64, self.children as f64), 1).into()),
            ],
        );
        for level in &self.by_level {
            let more = if level.depth == 0 { "" } else { ", ..." };
            let name = lang.text("summary.level_name", &[("dimension", level.dimension.as_str().into()), ("depth", (level.depth as usize).into()), ("example", format!("{}{more}", level.example).into())]);
            let line = lang.text(
                "summary.level",
                &[
                    ("hidden", level.hidden.into()),
                    ("cells", level.cells.into()),
                    ("share", lang.decimal(percent(level.hidden as f64, level.cells as f64), 1).into()),
                    ("count_share", lang.decimal(100.0 * level.count_share_hidden, 1).into()),
                ],
            );
            out.push_str(&format!("\n  {name:<36} {line}"));
        }
        out
    }
}

/// What a protected table hid, over two of its dimensions: for each pair
/// of codes (rows × columns, in the table's order), its cells and its
/// hidden cells over the codes of the other dimensions. The numbers behind
/// a heat map of statuses (R's `plot()` of a protected table).
#[derive(Debug, Clone, PartialEq)]
pub struct HiddenGrid {
    pub row_dimension: String,
    pub column_dimension: String,
    pub rows: Vec<String>,
    pub columns: Vec<String>,
    /// Row-major: `cells[r * columns.len() + c]`.
    pub cells: Vec<usize>,
    pub hidden: Vec<usize>,
}

/// The [`HiddenGrid`] of a protected table (as protect returned it: the
/// dimension columns, then `value` or `published`). `rows` and `columns`
/// name two dimensions; by default the first two.
pub fn hidden_grid(table: &arrow_array::RecordBatch, rows: Option<&str>, columns: Option<&str>) -> crate::Fallible<HiddenGrid> {
    use arrow_array::cast::AsArray;
    use arrow_array::Array;
    let schema = table.schema();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    let Some(published) = names.iter().position(|&n| n == "published") else {
        crate::fail!(Schema, "the table has no `published` column, so it is not a table protect returned (its columns: {}); give the protected table", names.join(", "));
    };
    let end = names.iter().position(|&n| n == "value" || n == "published").unwrap_or(published);
    let dimensions = &names[..end];
    if dimensions.len() < 2 {
        crate::fail!(Policy, "a heat map needs two dimensions, and this table has {}; its dimensions: {}", dimensions.len(), dimensions.join(", "));
    }
    let pick = |given: Option<&str>, default: &str, what: &str| -> crate::Fallible<usize> {
        let name = given.unwrap_or(default);
        dimensions.iter().position(|&d| d == name).ok_or_else(|| {
            let near = crate::suggest::suggest_code(name, dimensions.iter().copied());
            crate::err!(Policy, "{what} = \"{name}\" is not a dimension of the table{near}; its dimensions: {}", dimensions.join(", "))
        })
    };
    let (r, c) = (pick(rows, dimensions[0], "rows")?, pick(columns, dimensions[1], "columns")?);
    if r == c {
        crate::fail!(Policy, "rows and columns both name `{}`; name two different dimensions", dimensions[r]);
    }
    let text = |i: usize| arrow_cast::cast(table.column(i), &arrow_schema::DataType::Utf8).map_err(|e| crate::err!(Schema, "column `{}` cannot be read as codes: {e}", names[i]));
    let (row_codes, column_codes) = (text(r)?, text(c)?);
    let (row_codes, column_codes) = (row_codes.as_string::<i32>(), column_codes.as_string::<i32>());
    let hidden_cells = table.column(published);
    let mut grid = HiddenGrid { row_dimension: names[r].to_owned(), column_dimension: names[c].to_owned(), rows: Vec::new(), columns: Vec::new(), cells: Vec::new(), hidden: Vec::new() };
    let (mut row_at, mut column_at): (HashMap<&str, usize>, HashMap<&str, usize>) = (HashMap::new(), HashMap::new());
    let mut counts: HashMap<(usize, usize), (usize, usize)> = HashMap::new();
    for i in 0..table.num_rows() {
        let rc = if row_codes.is_null(i) { "" } else { row_codes.value(i) };
        let cc = if column_codes.is_null(i) { "" } else { column_codes.value(i) };
        let next = row_at.len();
        let rk = *row_at.entry(rc).or_insert(next);
        let next = column_at.len();
        let ck = *column_at.entry(cc).or_insert(next);
        let entry = counts.entry((rk, ck)).or_default();
        entry.0 += 1;
        entry.1 += usize::from(hidden_cells.is_null(i));
    }
    let order = |at: HashMap<&str, usize>| {
        let mut codes: Vec<(usize, String)> = at.into_iter().map(|(code, k)| (k, code.to_owned())).collect();
        codes.sort_unstable();
        codes.into_iter().map(|(_, code)| code).collect::<Vec<_>>()
    };
    grid.rows = order(row_at);
    grid.columns = order(column_at);
    for rk in 0..grid.rows.len() {
        for ck in 0..grid.columns.len() {
            let (cells, hidden) = counts.get(&(rk, ck)).copied().unwrap_or_default();
            grid.cells.push(cells);
            grid.hidden.push(hidden);
        }
    }
    Ok(grid)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::marks::Status;

    const POLICY: &str = "version = 1\n[input]\nkind = \"aggregated\"\ncount = \"n\"\n[dimensions.geo]\ncode_lengths = [1, 2]\n[dimensions.sex]\n";

    fn cube() -> Cube {
        let mut csv = String::from("geo,sex,n\n");
        for (k, geo) in ["11", "12", "13", "21", "22"].iter().enumerate() {
            csv.push_str(&format!("{geo},F,{}\n{geo},M,{}\n", k * 3 + 1, 20 - k));
        }
        crate::table::test_cube(POLICY, &csv)
    }

    /// Cells published at `value + change(cell)`, status `rounded`.
    fn changed_by(cube: &Cube, change: impl Fn(usize) -> i64) -> CellMarks {
        let mut marks = CellMarks::publish_all(cube);
        for cell in 0..cube.len() {
            marks.status[cell] = Status::Rounded;
            marks.published[cell] = Some(cube.value(cell) + change(cell));
        }
        marks
    }

    #[test]
    fn the_changes_are_counted_from_the_published_and_the_true_values() {
        let cube = cube();
        let change = |cell: usize| [0, 1, -1, 2, 0, -3][cell % 6];
        let c = Changes::of(&cube, &changed_by(&cube, change)).unwrap();
        let all: Vec<i64> = (0..cube.len()).map(change).collect();
        assert_eq!(c.cells, cube.len());
        assert_eq!(c.changed, all.iter().filter(|&&d| d != 0).count());
        assert_eq!(c.max_abs, 3);
        let mean = all.iter().map(|d| d.abs() as f64).sum::<f64>() / all.len() as f64;
        assert!((c.mean_abs - mean).abs() < 1e-12);
        let relative: Vec<f64> = (0..cube.len()).filter(|&c| cube.value(c) > 0).map(|c| change(c).abs() as f64 / cube.value(c) as f64).collect();
        assert!((c.mean_relative_abs - relative.iter().sum::<f64>() / relative.len() as f64).abs() < 1e-12);
        // Few distinct changes: each has its own bar, and the bars hold every cell.
        assert!(c.distribution.iter().all(|b| b.from == b.to));
        for bin in &c.distribution {
            assert_eq!(bin.cells, all.iter().filter(|&&d| d == bin.from).count());
        }
        assert_eq!(c.distribution.iter().map(|b| b.cells).sum::<usize>(), cube.len());
        // The quantiles bound that share of the cells' absolute changes.
        for (q, bound) in [(0.5, c.median_abs), (0.9, c.p90_abs), (0.99, c.p99_abs)] {
            let within = all.iter().filter(|d| d.abs() <= bound).count() as f64;
            assert!(within >= q * all.len() as f64, "{q}: {within} of {} within {bound}", all.len());
            let below = all.iter().filter(|d| d.abs() < bound).count() as f64;
            assert!(below < q * all.len() as f64, "{q}: {bound} is not the smallest bound");
        }
    }

    #[test]
    fn many_distinct_changes_are_binned_and_every_cell_is_in_one_bin() {
        let cube = cube();
        // Changes spread like noise with a large sd, up to ±30,000 and i64's edge.
        let change = |cell: usize| if cell == 0 { i64::MIN / 4 } else { (cell as i64 * 7919 % 60_001) - 30_000 };
        let c = Changes::of(&cube, &changed_by(&cube, change)).unwrap();
        assert!(c.distribution.len() <= cube.len());
        assert_eq!(c.distribution.iter().map(|b| b.cells).sum::<usize>(), cube.len());
        for pair in c.distribution.windows(2) {
            assert!(pair[0].to < pair[1].from, "bins overlap: {pair:?}");
        }
        for cell in 0..cube.len() {
            let d = change(cell);
            assert!(c.distribution.iter().any(|b| (b.from..=b.to).contains(&d)), "change {d} is in no bin");
        }
    }

    #[test]
    fn suppression_changes_no_value() {
        let cube = cube();
        let mut marks = CellMarks::publish_all(&cube);
        marks.hide(3, Status::Primary, std::sync::Arc::from("threshold"));
        assert_eq!(Changes::of(&cube, &marks), None);
        let loss = Loss::of(&cube, &marks);
        assert_eq!((loss.hidden, loss.children_hidden), (1, if cube.is_inner(3) { cube.value(3) } else { 0 }));
        // Every cell is at one level of each dimension.
        for dim in ["geo", "sex"] {
            assert_eq!(loss.by_level.iter().filter(|l| l.dimension == dim).map(|l| l.cells).sum::<usize>(), cube.len());
            assert_eq!(loss.by_level.iter().filter(|l| l.dimension == dim).map(|l| l.hidden).sum::<usize>(), 1);
        }
    }
}
