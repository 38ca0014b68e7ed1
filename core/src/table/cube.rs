//! The cube: every combination of hierarchy nodes, margins included.
//!
//! Cells are stored densely in row-major order over the dimensions' nodes
//! (nodes in preorder), so a cell's index is a mixed-radix number and the
//! cells sharing all coordinates but one form a strided slice. Each internal
//! node of each dimension gives additivity constraints: the cell at that node
//! equals the sum of the cells at its children, the other coordinates fixed.

use crate::error::Fallible;
use crate::fail;
use crate::hierarchy::Hierarchy;

/// The most cells this version builds in memory. A cell costs about 8 bytes in
/// the cube and a few dozen in the output table: at the limit about 1 GB and
/// 5 GB. A six-country release by admin-2 and month (B5 stress in DATA.md,
/// 110 million cells with margins) fits.
pub const MAX_CELLS: usize = 120_000_000;

/// Memory a run holds per cell, measured on the B5 stress table (97.5
/// million cells peaked at 14.9 GB): the cube, every cell's marks (status,
/// reason, published value, interval, protection) and the output table.
pub const BYTES_PER_CELL: u64 = 160;

/// The memory this process may still use: the smaller of the system's
/// available memory (/proc/meminfo) and what its cgroup allows, or
/// `AMPARO_MEMORY_LIMIT` (bytes) when set. `None` where neither can be read.
pub fn available_memory() -> Option<u64> {
    if let Some(limit) = std::env::var("AMPARO_MEMORY_LIMIT").ok().and_then(|v| v.trim().parse::<u64>().ok()) {
        return Some(limit);
    }
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok().and_then(|text| {
        text.lines().find_map(|l| l.strip_prefix("MemAvailable:").and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok()).map(|kb| kb * 1024))
    });
    let read = |path: &str| std::fs::read_to_string(path).ok().and_then(|v| v.trim().parse::<u64>().ok());
    let cgroup = match (read("/sys/fs/cgroup/memory.max"), read("/sys/fs/cgroup/memory.current")) {
        (Some(max), Some(current)) => Some(max.saturating_sub(current)),
        _ => None,
    };
    match (meminfo, cgroup) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Refuse a table that would not fit in memory, before allocating it: a run
/// killed by the system halfway is worse than a clear refusal.
fn check_memory(cells: usize, dims: &[Dimension], shape: &[usize]) -> Fallible<()> {
    let needed = cells as u64 * BYTES_PER_CELL;
    let Some(free) = available_memory() else { return Ok(()) };
    if needed > free {
        let gb = |b: u64| b as f64 / (1u64 << 30) as f64;
        fail!(
            Infeasible,
            "the table has {cells} cells (dimension sizes with margins: {}) and needs about {:.1} GB of memory, but {:.1} GB are free; \
             use fewer dimensions or coarser codes, or run it on a machine with more memory",
            dims.iter().zip(shape).map(|(d, n)| format!("{}={n}", d.name)).collect::<Vec<_>>().join(", "),
            gb(needed),
            gb(free)
        );
    }
    Ok(())
}

/// A dimension of the table: its name, input column and hierarchy.
#[derive(Debug, Clone, PartialEq)]
pub struct Dimension {
    pub name: String,
    pub column: String,
    pub hierarchy: Hierarchy,
}

/// One additivity constraint: `cells[total] == sum(cells[parts])`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Constraint {
    /// The dimension along which the parts add up to the total.
    pub dimension: usize,
    pub total: usize,
    pub parts: Vec<usize>,
}

/// Counts for every cell of a table, margins included.
#[derive(Debug, Clone, PartialEq)]
pub struct Cube {
    dims: Vec<Dimension>,
    shape: Vec<usize>,
    strides: Vec<usize>,
    values: Vec<i64>,
    /// Magnitude tables: per cell, the contributors and their largest contributions.
    contributions: Option<Contributions>,
    /// Cell key method: per cell, the sum of its records' keys (fixed point,
    /// see [`crate::table::Key`]).
    cell_keys: Option<Vec<u32>>,
}

/// Per cell of a magnitude table: how many records contribute, and the three
/// largest contributions (largest first; 0 where there are fewer).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Contributions {
    pub records: Vec<i64>,
    pub largest: Vec<[i64; 3]>,
}

/// The three largest of two top-three lists.
pub(crate) fn merge_largest(a: [i64; 3], b: [i64; 3]) -> [i64; 3] {
    let mut all = [a[0], a[1], a[2], b[0], b[1], b[2]];
    all.sort_unstable_by(|x, y| y.cmp(x));
    [all[0], all[1], all[2]]
}

impl Cube {
    /// An all-zero cube over these dimensions.
    pub fn zeros(dims: Vec<Dimension>) -> Fallible<Cube> {
        let shape: Vec<usize> = dims.iter().map(|d| d.hierarchy.len()).collect();
        let mut total: usize = 1;
        for (d, &n) in dims.iter().zip(&shape) {
            total = match total.checked_mul(n) {
                Some(t) if t <= MAX_CELLS => t,
                _ => fail!(
                    Policy,
                    "the table would have more than {MAX_CELLS} cells (dimension sizes with margins: {}); \
                     this is more than Amparo builds in memory: use fewer dimensions or coarser codes (dimension `{}` brought it over)",
                    dims.iter().zip(&shape).map(|(d, n)| format!("{}={n}", d.name)).collect::<Vec<_>>().join(", "),
                    d.name
                ),
            };
        }
        check_memory(total, &dims, &shape)?;
        let mut strides = vec![1usize; shape.len()];
        for d in (0..shape.len().saturating_sub(1)).rev() {
            strides[d] = strides[d + 1] * shape[d + 1];
        }
        Ok(Cube { dims, shape, strides, values: vec![0; total], contributions: None, cell_keys: None })
    }

    pub fn dims(&self) -> &[Dimension] {
        &self.dims
    }
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }
    /// How far apart (in cell index) neighbouring nodes of each dimension are.
    pub fn strides(&self) -> &[usize] {
        &self.strides
    }
    /// Number of cells, margins included.
    pub fn len(&self) -> usize {
        self.values.len()
    }
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
    pub fn values(&self) -> &[i64] {
        &self.values
    }
    pub fn value(&self, cell: usize) -> i64 {
        self.values[cell]
    }
    pub(crate) fn values_mut(&mut self) -> &mut [i64] {
        &mut self.values
    }

    /// Contributors and largest contributions, for magnitude tables.
    pub fn contributions(&self) -> Option<&Contributions> {
        self.contributions.as_ref()
    }

    /// Per cell, its cell key, when the microdata carried record keys.
    pub fn cell_keys(&self) -> Option<&[u32]> {
        self.cell_keys.as_deref()
    }

    /// Set the inner cells' keys; margins are filled by `fill_margins`.
    pub(crate) fn set_cell_keys(&mut self, keys: Vec<u32>) {
        self.cell_keys = Some(keys);
    }

    /// Forget the cell keys once they have been used: with them and the
    /// ptable, the noise could be taken off every published value, so a
    /// result does not carry them (and 10^8 cells save 4 bytes each).
    pub(crate) fn forget_cell_keys(&mut self) {
        self.cell_keys = None;
    }

    /// Set the inner cells' contributions; margins are filled by `fill_margins`.
    pub(crate) fn set_contributions(&mut self, contributions: Contributions) {
        self.contributions = Some(contributions);
    }

    /// The cell at these node coordinates (one node per dimension).
    pub fn cell(&self, coords: &[u32]) -> usize {
        coords.iter().zip(&self.strides).map(|(&c, &s)| c as usize * s).sum()
    }

    /// The node coordinates of a cell.
    pub fn coords(&self, cell: usize) -> Vec<u32> {
        self.shape
            .iter()
            .zip(&self.strides)
            .map(|(&n, &s)| ((cell / s) % n) as u32)
            .collect()
    }

    /// The node of `cell` along dimension `d`.
    pub fn coord(&self, cell: usize, d: usize) -> u32 {
        ((cell / self.strides[d]) % self.shape[d]) as u32
    }

    /// Per cell: whether it is a headline figure (see
    /// [`crate::table::Additive::headlines`]): every dimension at its total
    /// but at most one, which is at the first level below it.
    pub fn headlines(&self) -> Vec<bool> {
        let mut headlines = vec![false; self.len()];
        let roots: Vec<u32> = self.dims.iter().map(|d| d.hierarchy.root()).collect();
        headlines[self.cell(&roots)] = true;
        for (d, dim) in self.dims.iter().enumerate() {
            for &child in dim.hierarchy.children(dim.hierarchy.root()) {
                let mut coords = roots.clone();
                coords[d] = child;
                headlines[self.cell(&coords)] = true;
            }
        }
        headlines
    }

    /// How many inner cells (leaf combinations) the table has.
    pub fn inner_len(&self) -> usize {
        self.dims.iter().map(|d| d.hierarchy.leaves().count()).product()
    }

    /// True when every coordinate is a leaf: an inner cell, not a margin.
    pub fn is_inner(&self, cell: usize) -> bool {
        (0..self.dims.len()).all(|d| self.dims[d].hierarchy.is_leaf(self.coord(cell, d)))
    }

    /// "district=D01, age=0-4, sex=F": a cell named for error messages and reports.
    pub fn describe(&self, cell: usize) -> String {
        self.coords(cell)
            .iter()
            .zip(&self.dims)
            .map(|(&c, d)| format!("{}={}", d.name, d.hierarchy.code(c)))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The cell a policy names by codes (`dimension -> code`; a dimension left
    /// out is its total). `what` says where the name came from, for errors.
    pub fn find_cell(&self, codes: &indexmap::IndexMap<String, String>, what: &str) -> Fallible<usize> {
        for name in codes.keys() {
            if !self.dims.iter().any(|d| &d.name == name) {
                let names: Vec<&str> = self.dims.iter().map(|d| d.name.as_str()).collect();
                fail!(Policy, "{what} names dimension `{name}`, which the table does not have (dimensions: {})", names.join(", "));
            }
        }
        let mut coords = Vec::with_capacity(self.dims.len());
        for d in &self.dims {
            let h = &d.hierarchy;
            let node = match codes.get(&d.name) {
                None => h.root(),
                Some(code) => match h.node(code) {
                    Some(node) => node,
                    None => fail!(
                        Policy,
                        "{what} names code `{code}` of dimension `{}`, which is not in its hierarchy{}",
                        d.name,
                        crate::suggest::suggest_code(code, h.codes().iter().map(String::as_str))
                    ),
                },
            };
            coords.push(node);
        }
        Ok(self.cell(&coords))
    }

    /// `values` (one per cell) with every margin replaced by the sum of its
    /// inner cells: a table that adds up, built from inner values alone.
    pub fn margins_from_inner(&self, values: &[i64]) -> Fallible<Vec<i64>> {
        let mut sums = Cube::zeros(self.dims.clone())?;
        for cell in (0..self.len()).filter(|&c| self.is_inner(c)) {
            sums.values[cell] = values[cell];
        }
        sums.fill_margins()?;
        Ok(sums.values)
    }

    /// Fill every margin from the inner cells: for each dimension, children are
    /// added into their parent in reverse preorder (descendants before ancestors),
    /// one contiguous slice at a time. After dimension d is done, every cell whose
    /// coordinates after d are leaves holds its true total along d.
    pub(crate) fn fill_margins(&mut self) -> Fallible<()> {
        let (strides, shape) = (self.strides.clone(), self.shape.clone());
        let mut overflow = None;
        walk_child_parent_slices(&self.dims, &strides, &shape, false, |d, src, dst, stride| {
            if let Some(k) = self.cell_keys.as_mut() {
                for i in 0..stride {
                    k[dst + i] = k[dst + i].wrapping_add(k[src + i]);
                }
            }
            if let Some(c) = self.contributions.as_mut() {
                for i in 0..stride {
                    c.records[dst + i] += c.records[src + i];
                    c.largest[dst + i] = merge_largest(c.largest[dst + i], c.largest[src + i]);
                }
            }
            // parent < node in preorder, so the destination slice lies before the source.
            let (head, tail) = self.values.split_at_mut(src);
            for (t, s) in head[dst..dst + stride].iter_mut().zip(&tail[..stride]) {
                match t.checked_add(*s) {
                    Some(v) => *t = v,
                    None => {
                        overflow.get_or_insert(d);
                    }
                }
            }
        });
        if let Some(d) = overflow {
            fail!(Data, "a margin of dimension `{}` overflows a 64-bit count; the input counts are implausibly large", self.dims[d].name);
        }
        // The grand total is the largest cell: below 2^53 every cell is exact for the LPs.
        if let Some(&total) = self.values.iter().max().filter(|&&v| v > super::MAX_COUNT) {
            fail!(
                Data,
                "the table's total is {total}, above 2^53 ({}), the largest count the engine computes with exactly; check the input counts",
                super::MAX_COUNT
            );
        }
        Ok(())
    }

    /// Real values on this cube's cells: every margin becomes the sum of its
    /// inner cells (margins must hold 0 on entry). The linear map A from
    /// inner cells to all cells.
    pub fn add_up(&self, values: &mut [f64]) {
        walk_child_parent_slices(&self.dims, &self.strides, &self.shape, false, |_, src, dst, stride| {
            let (head, tail) = values.split_at_mut(src);
            for (t, s) in head[dst..dst + stride].iter_mut().zip(&tail[..stride]) {
                *t += *s;
            }
        });
    }

    /// The transpose of [`Cube::add_up`]: every cell's value is added into
    /// all the cells below it, so an inner cell ends with the sum over every
    /// cell that contains it.
    pub fn spread_down(&self, values: &mut [f64]) {
        walk_child_parent_slices(&self.dims, &self.strides, &self.shape, true, |_, src, dst, stride| {
            let (head, tail) = values.split_at_mut(src);
            for (s, t) in head[dst..dst + stride].iter().zip(tail[..stride].iter_mut()) {
                *t += *s;
            }
        });
    }

    /// Call `f(dimension, total, parts)` for every additivity constraint.
    pub fn for_each_constraint(&self, mut f: impl FnMut(usize, usize, &[usize])) {
        let mut parts: Vec<usize> = Vec::new();
        for d in 0..self.dims.len() {
            let stride = self.strides[d];
            let n = self.shape[d];
            let outer = self.values.len() / (n * stride);
            let h = &self.dims[d].hierarchy;
            for node in (0..n as u32).filter(|&v| !h.is_leaf(v)) {
                for o in 0..outer {
                    for i in 0..stride {
                        let base = o * n * stride + i;
                        parts.clear();
                        parts.extend(h.children(node).iter().map(|&c| base + c as usize * stride));
                        f(d, base + node as usize * stride, &parts);
                    }
                }
            }
        }
    }

    /// Every additivity constraint, for solvers that want them as a list.
    pub fn constraints(&self) -> Vec<Constraint> {
        let mut out = Vec::new();
        self.for_each_constraint(|dimension, total, parts| {
            out.push(Constraint { dimension, total, parts: parts.to_vec() })
        });
        out
    }

    /// The first constraint that `values` break, if any (`values` indexed like the cube's cells).
    pub fn first_violation(&self, values: &[i64]) -> Option<Constraint> {
        let mut found = None;
        self.for_each_constraint(|dimension, total, parts| {
            if found.is_none() && values[total] != parts.iter().map(|&p| values[p]).sum::<i64>() {
                found = Some(Constraint { dimension, total, parts: parts.to_vec() });
            }
        });
        found
    }
}

/// For each dimension, every (child slice, parent slice) pair of cells that
/// differ only in that dimension's code: `f(dimension, child start, parent
/// start, length)`. Bottom-up (children before parents, dimension by
/// dimension) sums margins; `top_down` reverses the whole order, which is
/// the transposed walk.
fn walk_child_parent_slices(dims: &[Dimension], strides: &[usize], shape: &[usize], top_down: bool, mut f: impl FnMut(usize, usize, usize, usize)) {
    let len: usize = shape.iter().product();
    let mut visit = |d: usize, node: u32| {
        let (stride, n) = (strides[d], shape[d]);
        let parent = dims[d].hierarchy.parent(node).expect("every node but the root has a parent") as usize;
        for o in 0..len / (n * stride) {
            let base = o * n * stride;
            f(d, base + node as usize * stride, base + parent * stride, stride);
        }
    };
    if top_down {
        for d in (0..dims.len()).rev() {
            for node in 1..shape[d] as u32 {
                visit(d, node);
            }
        }
    } else {
        for d in 0..dims.len() {
            for node in (1..shape[d] as u32).rev() {
                visit(d, node);
            }
        }
    }
}
