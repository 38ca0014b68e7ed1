//! A cell's neighbourhoods, where a protection LP on a large table looks
//! for its change first (see [`super::lp::ProtectionLps`]). Any set of
//! cells serves: a change found with every other cell held at its value
//! is a change of the whole table.
//!
//! First by codes. In each dimension the target's code, its ancestors,
//! the `k` siblings whose cell next to the target costs least and the `k`
//! whose cell holds most (a change that lowers a cell needs a cell that
//! holds that much), and below the target's code and each of those
//! siblings their children chosen alike, down to the leaves. The
//! neighbourhood is every cell of these codes, in every table of a linked
//! set that holds the target, and, in the other tables, the same around
//! each of the target's margins they share. It holds HiTaS's hypercubes
//! around the target (de Wolf 2002) at its own level; for a margin, the
//! cells below it that must move with it; and for a change no sibling can
//! take (they hold too little), its climb to the totals and from there
//! into the tables sharing them.
//!
//! Then the constraints breadth first from the target, each constraint's
//! cells all in, hidden cells' constraints first. Each kind finds routes
//! the other misses. On B4 (103k linked cells), of the first round's
//! protection LPs, breadth first alone left 49 of 262 to the whole linked
//! set; codes with the parent only (no ancestors above it, no shared
//! margins) 56 of 294; with the shared margins 16 of 296; with every
//! ancestor 1 of 315. On bench "medium" codes alone missed one route that
//! breadth first found in 134 ms, where the whole table's LP took 14 s.

use crate::table::{Additive, Constraint, Cube};

/// A neighbourhood to try.
#[derive(Clone, Copy, Debug)]
pub(super) enum Near {
    /// By codes, this many per family and kind.
    Codes(usize),
    /// Breadth first through the constraints, about this many cells.
    Constraints(usize),
}

/// The neighbourhoods tried before the whole table, in order.
pub(super) const TRIED: [Near; 4] = [Near::Codes(2), Near::Codes(8), Near::Codes(32), Near::Constraints(16_000)];

/// A neighbourhood of more cells than this is not tried: its LP would cost
/// about the whole table's (a margin's in a five-way table).
const MOST: usize = 20_000;

/// The neighbourhoods of a table's cells.
pub(super) struct Neighbourhoods<'a> {
    /// `None` for a table not made of cubes.
    codes: Option<CodeNeighbourhoods<'a>>,
    constraints: &'a [Constraint],
    /// Per cell: the constraints it is in.
    of_cell: Vec<Vec<u32>>,
}

impl<'a> Neighbourhoods<'a> {
    pub(super) fn new(table: &'a dyn Additive, constraints: &'a [Constraint]) -> Neighbourhoods<'a> {
        let of_cell = crate::attacker::constraints_of_cells(constraints, table.len());
        Neighbourhoods { codes: CodeNeighbourhoods::new(table), constraints, of_cell }
    }

    /// The cells of `target`'s neighbourhood `near`, by `weights` and
    /// `values`, and every constraint they are in (each constrains its
    /// change); `None` when there is none of that kind or it is too large.
    pub(super) fn cells(&self, near: Near, target: usize, weights: &[f64], values: &[i64]) -> Option<(Vec<usize>, Vec<usize>)> {
        let cells = match near {
            Near::Codes(k) => self.codes.as_ref()?.cells(target, k, weights, values, MOST)?,
            Near::Constraints(budget) => self.breadth_first(target, budget.min(MOST), weights),
        };
        let mut rows: Vec<usize> = cells.iter().flat_map(|&c| self.of_cell[c].iter().map(|&r| r as usize)).collect();
        rows.sort_unstable();
        rows.dedup();
        Some((cells, rows))
    }

    /// About `budget` cells near `target`: its constraints' cells, then
    /// those of the cells found, hop by hop, each hop's hidden cells
    /// (routes that cost nothing) first.
    fn breadth_first(&self, target: usize, budget: usize, weights: &[f64]) -> Vec<usize> {
        let mut cells = vec![target];
        let mut seen = std::collections::HashSet::from([target]);
        let mut taken = std::collections::HashSet::new();
        let mut hop = vec![target];
        while !hop.is_empty() && cells.len() < budget {
            hop.sort_by(|&a, &b| weights[a].total_cmp(&weights[b]));
            let mut next = Vec::new();
            // A forced-published cell carries no flow onwards.
            for &c in hop.iter().filter(|&&c| weights[c].is_finite()) {
                for &k in &self.of_cell[c] {
                    if cells.len() >= budget || !taken.insert(k) {
                        continue;
                    }
                    let con = &self.constraints[k as usize];
                    for cell in std::iter::once(con.total).chain(con.parts.iter().copied()) {
                        if seen.insert(cell) {
                            cells.push(cell);
                            next.push(cell);
                        }
                    }
                }
            }
            hop = next;
        }
        cells
    }
}

/// The cubes of a table, for neighbourhoods by codes.
struct CodeNeighbourhoods<'a> {
    /// Each cube, with each of its cells' index in the table (linked
    /// sets; `None`: the cube is the table).
    parts: Vec<(&'a Cube, Option<&'a [usize]>)>,
    /// Per table cell of a linked set: its (cube, cube cell) places.
    places: Vec<Vec<(u32, u32)>>,
}

impl<'a> CodeNeighbourhoods<'a> {
    /// `None` for a table that is not made of cubes.
    fn new(table: &'a dyn Additive) -> Option<CodeNeighbourhoods<'a>> {
        if let Some(cube) = table.as_cube() {
            return Some(CodeNeighbourhoods { parts: vec![(cube, None)], places: Vec::new() });
        }
        let linked = table.as_linked()?;
        let mut places = vec![Vec::new(); table.len()];
        for (part, ids) in linked.linked.iter().enumerate() {
            for (local, &id) in ids.iter().enumerate() {
                places[id].push((part as u32, local as u32));
            }
        }
        let parts = linked.cubes.iter().zip(&linked.linked).map(|(cube, ids)| (cube, Some(ids.as_slice()))).collect();
        Some(CodeNeighbourhoods { parts, places })
    }

    fn id(&self, part: usize, local: usize) -> usize {
        self.parts[part].1.map_or(local, |ids| ids[local])
    }

    /// The cells of `target`'s neighbourhood with `k` codes per family
    /// and kind (see the module's note), by `weights` and `values`; `None`
    /// when it would hold more than `most` cells. In a linked set it
    /// reaches the other tables through the target's margins they share:
    /// a change of a margin another table holds moves cells of that table
    /// too (B4: a comuna cell's route can climb to the national cell of
    /// its nationality and go on through the national table's ages).
    fn cells(&self, target: usize, k: usize, weights: &[f64], values: &[i64], most: usize) -> Option<Vec<usize>> {
        let own = [(0u32, target as u32)];
        let places = if self.parts[0].1.is_none() { &own[..] } else { &self.places[target][..] };
        let mut centres: Vec<(u32, u32)> = places.to_vec();
        if self.parts[0].1.is_some() {
            for &(part, local) in places {
                for margin in self.margins(part as usize, local as usize) {
                    centres.extend(self.places[margin].iter().filter(|(other, _)| places.iter().all(|(p, _)| p != other)));
                }
            }
            centres.sort_unstable();
            centres.dedup();
        }
        let mut cells = Vec::new();
        for (part, local) in centres {
            let (part, local) = (part as usize, local as usize);
            let (cube, _) = self.parts[part];
            let coords = cube.coords(local);
            let codes: Vec<Vec<u32>> = (0..coords.len())
                .map(|d| {
                    let next_to_centre = |code: u32| {
                        let mut at = coords.clone();
                        at[d] = code;
                        self.id(part, cube.cell(&at))
                    };
                    codes_near(&cube.dims()[d].hierarchy, coords[d], k, |code| {
                        let cell = next_to_centre(code);
                        (weights[cell], values[cell])
                    })
                })
                .collect();
            let size = codes.iter().try_fold(1usize, |size, c| size.checked_mul(c.len()).filter(|&s| s <= most))?;
            if cells.len() + size > most {
                return None;
            }
            cells.extend(grid(cube, &codes).into_iter().map(|l| self.id(part, l)));
        }
        cells.sort_unstable();
        cells.dedup();
        Some(cells)
    }

    /// The margins of cell `local` of table `part` (every cell whose code
    /// in each dimension is the cell's own or an ancestor), the cell aside,
    /// as cells of the linked set.
    fn margins(&self, part: usize, local: usize) -> Vec<usize> {
        let (cube, _) = self.parts[part];
        let chains: Vec<Vec<u32>> = cube
            .dims()
            .iter()
            .enumerate()
            .map(|(d, dim)| {
                let mut chain = vec![cube.coord(local, d)];
                while let Some(parent) = dim.hierarchy.parent(*chain.last().expect("never empty")) {
                    chain.push(parent);
                }
                chain
            })
            .collect();
        grid(cube, &chains).into_iter().filter(|&l| l != local).map(|l| self.id(part, l)).collect()
    }
}

/// The cells of `cube` whose code in each dimension is one of `codes`'s for it.
fn grid(cube: &Cube, codes: &[Vec<u32>]) -> Vec<usize> {
    let mut cells = vec![0usize];
    for (codes, &stride) in codes.iter().zip(cube.strides()) {
        cells = cells.iter().flat_map(|&base| codes.iter().map(move |&code| base + code as usize * stride)).collect();
    }
    cells
}

/// One dimension's codes of a neighbourhood: `node`, its ancestors, its
/// `k` cheapest and `k` fullest siblings (by `cell`'s weight and value),
/// and below `node` and those siblings their children chosen alike, down
/// to the leaves (ties: the first code).
fn codes_near(h: &crate::hierarchy::Hierarchy, node: u32, k: usize, cell: impl Fn(u32) -> (f64, i64)) -> Vec<u32> {
    let chosen = |nodes: &[u32], except: u32| -> Vec<u32> {
        let mut nodes: Vec<u32> = nodes.iter().copied().filter(|&n| n != except).collect();
        if nodes.len() <= 2 * k {
            return nodes;
        }
        nodes.sort_by(|&a, &b| cell(a).0.total_cmp(&cell(b).0).then(a.cmp(&b)));
        let cheap: Vec<u32> = nodes[..k].to_vec();
        nodes.sort_by(|&a, &b| cell(b).1.cmp(&cell(a).1).then(a.cmp(&b)));
        let full = nodes.into_iter().filter(|n| !cheap.contains(n)).take(k);
        cheap.iter().copied().chain(full).collect()
    };
    let mut below = vec![node];
    let mut codes = Vec::new();
    if let Some(parent) = h.parent(node) {
        below.extend(chosen(h.children(parent), node));
    }
    // Every ancestor: a change no sibling can take (they hold too little)
    // climbs to the total, and from there into the tables that share it.
    let mut ancestor = h.parent(node);
    while let Some(up) = ancestor {
        codes.push(up);
        ancestor = h.parent(up);
    }
    while let Some(code) = below.pop() {
        codes.push(code);
        below.extend(chosen(h.children(code), u32::MAX));
    }
    codes
}
