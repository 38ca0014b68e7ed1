//! Linked tables: several tables from the same source that share cells.
//!
//! A cell is named by the codes of its dimensions; a dimension a table does
//! not have is at its total. Two cells of different tables with the same
//! non-total codes are the same cell (district x sex and district x age share
//! every district's total), so they get one status, and the attacker works
//! on the union of all the tables' constraints at once: what one table hides,
//! another must not give away (tau-Argus's linked-tables mode, manual 4.5).
//! Dimensions are matched by name, and a shared dimension must use the same
//! codes in every table (a coarser table may stop at a higher level).

use std::collections::HashMap;

use crate::error::Fallible;
use crate::fail;
use crate::table::{Additive, Constraint, Cube};

/// Several cubes whose shared cells are one cell.
pub struct LinkedTables {
    pub cubes: Vec<Cube>,
    /// Per table, per cell: its index among the linked cells.
    pub linked: Vec<Vec<usize>>,
    values: Vec<i64>,
    /// For each linked cell: a table and a cell of it, to name it.
    owner: Vec<(usize, usize)>,
    constraints: Vec<Constraint>,
}

impl LinkedTables {
    /// Link the cubes; fails when a shared cell has different values in two tables.
    pub fn new(cubes: Vec<Cube>) -> Fallible<LinkedTables> {
        let mut index: HashMap<Vec<(String, String)>, usize> = HashMap::new();
        let mut linked = Vec::with_capacity(cubes.len());
        let mut values: Vec<i64> = Vec::new();
        let mut owner: Vec<(usize, usize)> = Vec::new();
        for (t, cube) in cubes.iter().enumerate() {
            let mut ids = Vec::with_capacity(cube.len());
            for cell in 0..cube.len() {
                let key: Vec<(String, String)> = {
                    let mut k: Vec<(String, String)> = cube
                        .dims()
                        .iter()
                        .enumerate()
                        .filter_map(|(d, dim)| {
                            let node = cube.coord(cell, d);
                            (node != dim.hierarchy.root()).then(|| (dim.name.clone(), dim.hierarchy.code(node).to_owned()))
                        })
                        .collect();
                    k.sort();
                    k
                };
                let id = *index.entry(key).or_insert_with(|| {
                    values.push(cube.value(cell));
                    owner.push((t, cell));
                    values.len() - 1
                });
                if values[id] != cube.value(cell) {
                    let t0 = owner[id].0;
                    fail!(
                        Data,
                        "the linked tables disagree on the cell ({}): table {} has {} and table {} has {}; \
                         linked tables must come from the same data",
                        cube.describe(cell),
                        t0 + 1,
                        values[id],
                        t + 1,
                        cube.value(cell)
                    );
                }
                ids.push(id);
            }
            linked.push(ids);
        }
        let mut constraints = Vec::new();
        for (t, cube) in cubes.iter().enumerate() {
            let ids = &linked[t];
            for con in cube.constraints() {
                constraints.push(Constraint {
                    dimension: con.dimension,
                    total: ids[con.total],
                    parts: con.parts.iter().map(|&p| ids[p]).collect(),
                });
            }
        }
        Ok(LinkedTables { cubes, linked, values, owner, constraints })
    }
}

impl Additive for LinkedTables {
    fn len(&self) -> usize {
        self.values.len()
    }
    fn values(&self) -> &[i64] {
        &self.values
    }
    fn constraints(&self) -> Vec<Constraint> {
        self.constraints.clone()
    }
    fn describe(&self, cell: usize) -> String {
        let (t, c) = self.owner[cell];
        self.cubes[t].describe(c)
    }
    fn as_linked(&self) -> Option<&LinkedTables> {
        Some(self)
    }
    fn headlines(&self) -> Vec<bool> {
        let mut headlines = vec![false; self.values.len()];
        for (cube, ids) in self.cubes.iter().zip(&self.linked) {
            for (cell, headline) in cube.headlines().into_iter().enumerate() {
                headlines[ids[cell]] |= headline;
            }
        }
        headlines
    }
}
