//! Each cell to the multiple below it or the one above, so that the table
//! still adds up, at the least total deviation: controlled rounding (Cox
//! 1987; as an integer program, Salazar-Gonzalez et al. 2004) and the
//! whole-number step of noise post-processing (the 2020 US Census TopDown's
//! L1 rounding) are both this 0/1 program, one variable per cell that is not
//! already a multiple.
//!
//! Top down along a hierarchy, as TopDown does. The whole program does not
//! scale: HiGHS left a 0.6% gap after 120 s on an 11,760-cell three-way
//! table, and on the 115,700 cells of B3 its LP relaxation alone ran past
//! 60 s. A hierarchy cuts the table into parts, one per code with children:
//! the code's cells and its children's, crossed with every code of the other
//! dimensions. Every additivity constraint lies in exactly one part (one
//! along the hierarchy in its total's part; one along another dimension in
//! the part where its cells are children, or the root's). The root's part is
//! chosen first; every other part then chooses its children's cells with its
//! head's cells fixed by the part above, so the parts' choices together add
//! up everywhere. Parts of one depth are independent and run on both cores.
//!
//! The deviation is not proven the least, so a bound is stated: each part's
//! LP relaxation with its head's cells free (at no cost) bounds the least
//! deviation of its own cells in any table that adds up, and the bounds of
//! the parts add up to a bound for the whole table.

use std::collections::HashMap;
use std::time::Instant;

use highs::{HighsModelStatus, RowProblem, Sense};

use crate::error::Fallible;
use crate::table::Cube;
use crate::{err, fail};

/// What [`choose_adjacent`] found.
pub enum Adjacent {
    /// The values; when the least deviation is not proven, the proven
    /// relative gap (the deviation is at most this fraction above the
    /// least); and how many cells went further than an adjacent multiple.
    Found(Vec<i64>, Option<f64>, usize),
    /// No choice adds up.
    NoneExists,
    /// The time limit came before any choice that adds up.
    OutOfTime,
    /// Top down left a part without a choice, and the table is too large
    /// to be one program (more than 20,000 cells to choose): none was found, though
    /// one may exist.
    Unsolved,
}

/// Up to this many cells to choose, the whole table is one program (HiGHS
/// proves the least in well under a second there); above, top down.
const WHOLE_UP_TO: usize = 2_000;

/// Above this many cells to choose, the whole table is not tried as one
/// program when top down fails: HiGHS's LP relaxation alone ran past 60 s on
/// B3's 115,700 cells, and B5's root part (16,381 cells) did not solve its.
const WHOLE_PROGRAM_UP_TO: usize = 20_000;

/// The relative gap at which a part's integer program stops: the parts'
/// bounds are weaker than this, so proving more only costs time.
const PART_GAP: f64 = 1e-2;

/// A part's integer program stops after this many branch-and-bound nodes or
/// its purpose's number of improving solutions: limits on work rather than
/// time, so that the same table gives the same result.
const PART_NODES: i64 = 200;

/// What the choice is for: how far a cell may go, and how hard a part of a
/// large table searches.
#[derive(Clone, Copy, PartialEq, Debug)]
pub enum Purpose {
    /// Controlled rounding: adjacent multiples only, and each part keeps
    /// improving up to its third solution (on B3's 35 parts three took 26 s
    /// for a deviation 4% below the first's, 10 s; more than three ran into
    /// the time limit).
    ControlledRounding,
    /// Noise's whole numbers: a part that the adjacent whole numbers leave
    /// no choice goes one step further where it must ([`Reach::Wider`]),
    /// and each part takes its first solution. Every cell moves by less
    /// than one either way, which is small beside the noise: on B3 the
    /// first solutions' deviation is 6% above three's (29,933 against
    /// 28,178, over 115,700 cells) and takes 7 s instead of 29 s.
    WholeNumbers,
}

impl Purpose {
    fn solutions(self) -> i32 {
        match self {
            Purpose::ControlledRounding => 3,
            Purpose::WholeNumbers => 1,
        }
    }
}

/// For every cell, `down[c]` or `down[c] + step` (cells whose `cost_up` is
/// None stay at `down`), so that every additivity constraint of `cube`
/// holds, at the least total deviation. A cell at `down[c]` deviates by
/// (step - cost_up) / 2 and going up adds `cost_up`: controlled rounding
/// (the remainder r, and base - 2r) and whole numbers (the fraction f, and
/// 1 - 2f) both have this form; `purpose` says which ([`Purpose`]). The
/// result is checked in whole numbers before use.
pub fn choose_adjacent(cube: &Cube, down: &[i64], step: i64, cost_up: &[Option<f64>], purpose: Purpose, time_limit: f64) -> Fallible<Adjacent> {
    let clock = Instant::now();
    let at_down: f64 = cost_up.iter().flatten().map(|&c| (step as f64 - c) / 2.0).sum();
    if cost_up.iter().all(Option::is_none) {
        return Ok(match cube.first_violation(down) {
            None => Adjacent::Found(down.to_vec(), None, 0),
            Some(_) => Adjacent::NoneExists,
        });
    }
    let debug = std::env::var_os("AMPARO_DEBUG").is_some();
    let free = cost_up.iter().filter(|c| c.is_some()).count();
    // One report before the solver's silence: how many cells it chooses for.
    crate::progress::report("rounding: cells to send up or down", free as u64, None);
    let chosen = match splitting_dimension(cube) {
        // A small program is solved whole, usually to its proven least.
        Some(dim) if free > WHOLE_UP_TO => match top_down(cube, dim, (down, step, cost_up), purpose, &clock, time_limit, debug)? {
            Some(found) => Some(found),
            None if free > WHOLE_PROGRAM_UP_TO => {
                return Ok(if clock.elapsed().as_secs_f64() >= time_limit { Adjacent::OutOfTime } else { Adjacent::Unsolved });
            }
            // Top down can leave a part no choice where the whole table has one.
            None => whole_table(cube, down, step, cost_up, (time_limit - clock.elapsed().as_secs_f64()).max(0.0))?,
        },
        _ => whole_table(cube, down, step, cost_up, time_limit)?,
    };
    let Some((values, cost, bound)) = chosen else {
        return Ok(if clock.elapsed().as_secs_f64() >= time_limit { Adjacent::OutOfTime } else { Adjacent::NoneExists });
    };
    if debug {
        eprintln!("adjacent: {} cells in {:?}, deviation {:.1}, bound {:.1}", cube.len(), clock.elapsed(), at_down + cost, at_down + bound);
    }
    found_with_gap(cube, down, step, (values, cost, bound), at_down)
}

/// The values checked, and the relative gap between their deviation and the bound.
fn found_with_gap(cube: &Cube, down: &[i64], step: i64, (values, cost, bound): (Vec<i64>, f64, f64), at_down: f64) -> Fallible<Adjacent> {
    if let Some(con) = cube.first_violation(&values) {
        fail!(Infeasible, "the integer program returned a table that does not add up at ({}); raise the time limit", cube.describe(con.total));
    }
    let deviation = at_down + cost;
    let widened = values.iter().zip(down).filter(|(&v, &d)| v < d || v > d + step).count();
    // The bound is over the tables of adjacent multiples only: no gap is
    // stated for a table that went further.
    let gap = (widened == 0 && cost - bound > 1e-6 * deviation.abs().max(1.0)).then(|| (cost - bound) / deviation);
    Ok(Adjacent::Found(values, gap, widened))
}

/// The hierarchical dimension with the most codes and at least two levels
/// below its total (one level gives a single part: the whole table).
fn splitting_dimension(cube: &Cube) -> Option<usize> {
    (0..cube.dims().len())
        .filter(|&d| {
            let h = &cube.dims()[d].hierarchy;
            (0..h.len() as u32).any(|n| h.depth(n) >= 2)
        })
        .max_by_key(|&d| cube.dims()[d].hierarchy.len())
}

type Choice = Option<(Vec<i64>, f64, f64)>;

/// The whole table as one integer program: (values, cost, bound), None when
/// none adds up or the time ran out first.
fn whole_table(cube: &Cube, down: &[i64], step: i64, cost_up: &[Option<f64>], time_limit: f64) -> Fallible<Choice> {
    let constraints = cube.constraints();
    let Some(program) = Program::new(constraints.iter().map(|c| (c.total, c.parts.as_slice())), |c| cost_up[c].is_some(), down, step, cost_up) else {
        return Ok(None);
    };
    let Some((steps, cost, bound)) = program.solve(Reach::Adjacent, 0.0, None, time_limit)? else {
        return Ok(None);
    };
    let mut values = down.to_vec();
    program.apply(&steps, &mut values);
    let mut in_some = vec![false; cube.len()];
    for c in &constraints {
        in_some[c.total] = true;
        c.parts.iter().for_each(|&p| in_some[p] = true);
    }
    let loose_cost = choose_loose(&in_some, step, cost_up, &mut values);
    Ok(Some((values, cost + loose_cost, bound + loose_cost)))
}

/// Free cells in no constraint go their cheaper way on their own: their cost.
fn choose_loose(in_some: &[bool], step: i64, cost_up: &[Option<f64>], values: &mut [i64]) -> f64 {
    let mut cost = 0.0;
    for c in (0..values.len()).filter(|&c| !in_some[c]) {
        if let Some(up) = cost_up[c] {
            if up < 0.0 {
                values[c] += step;
            }
            cost += up.min(0.0);
        }
    }
    cost
}

/// One part of the table cut along `dim`: its head code and its constraints.
struct Part {
    head: u32,
    constraints: Vec<(usize, Vec<usize>)>,
}

#[allow(clippy::too_many_arguments)]
fn top_down(cube: &Cube, dim: usize, (down, step, cost_up): (&[i64], i64, &[Option<f64>]), purpose: Purpose, clock: &Instant, time_limit: f64, debug: bool) -> Fallible<Choice> {
    let h = &cube.dims()[dim].hierarchy;
    let root = h.root();
    let mut index = vec![usize::MAX; h.len()];
    let mut parts: Vec<Part> = Vec::new();
    for node in (0..h.len() as u32).filter(|&n| !h.is_leaf(n)) {
        index[node as usize] = parts.len();
        parts.push(Part { head: node, constraints: Vec::new() });
    }
    let mut in_some = vec![false; cube.len()];
    cube.for_each_constraint(|d, total, members| {
        let code = cube.coord(total, dim);
        let head = if d == dim || code == root { code } else { h.parent(code).expect("a code other than the root has a parent") };
        parts[index[head as usize]].constraints.push((total, members.to_vec()));
        in_some[total] = true;
        members.iter().for_each(|&m| in_some[m] = true);
    });
    // A part chooses its children's cells; the root's part its own cells too.
    let chooses = |head: u32, cell: usize| -> bool { cost_up[cell].is_some() && (head == root || cube.coord(cell, dim) != head) };
    // Parts by depth: each depth's heads were chosen by the depth above.
    let mut depths: Vec<Vec<usize>> = Vec::new();
    for (k, part) in parts.iter().enumerate() {
        let depth = h.depth(part.head) as usize;
        if depths.len() <= depth {
            depths.resize(depth + 1, Vec::new());
        }
        depths[depth].push(k);
    }
    let mut values = down.to_vec();
    let (mut cost, mut bound) = (0.0, 0.0);
    let mut remaining = parts.len();
    // The parts of a depth are solved together: progress moves a depth at a time.
    let report = |remaining: usize| crate::progress::report("rounding the table's parts", (parts.len() - remaining) as u64, Some(parts.len() as u64));
    report(remaining);
    for (depth, at_depth) in depths.iter().enumerate() {
        let started = clock.elapsed();
        let current = &values;
        let solve = |k: usize| -> Fallible<Option<(Vec<(usize, i64)>, f64, f64)>> {
            let part = &parts[k];
            let members = || part.constraints.iter().map(|(t, m)| (*t, m.as_slice()));
            // A part may use the time left, shared with the parts still to
            // come. The work limits stop most parts first; one stopped by its
            // share may choose differently from run to run. Without the
            // share, the parts that found no solution within the work limits
            // left the run none.
            let share = (time_limit - clock.elapsed().as_secs_f64()).max(0.0) * 2.0 / remaining.max(1) as f64;
            // The bound: the head's cells free as well (between their two
            // multiples, from `down`), at no cost: every table that adds up
            // fits it, so its least cost bounds what this part's cells cost.
            let Some(relaxed) = Program::new(members(), |c| cost_up[c].is_some(), down, step, cost_up) else {
                return Ok(None);
            };
            let own_costs: Vec<f64> = relaxed.cells.iter().zip(&relaxed.costs).map(|(&c, &cost)| if chooses(part.head, c) { cost } else { 0.0 }).collect();
            let timer = Instant::now();
            let size = (relaxed.cells.len(), relaxed.rows.len());
            // Within the share: a part whose LP takes longer does not find
            // whole numbers in the rest of the time either (B5's root part,
            // 16,381 cells, solved its LP in neither 60 s nor 15 s, and
            // after a bound from PDLP found no whole numbers in 17 s).
            let Some((_, part_bound, _)) = relaxed.with_costs(own_costs).solve(Reach::Relaxed, 0.0, None, share)? else {
                if debug {
                    eprintln!("adjacent: part {} ({} cells, {} rows): no LP bound in {:?}", h.code(part.head), size.0, size.1, timer.elapsed());
                }
                return Ok(None);
            };
            let bound_time = timer.elapsed();
            let Some(program) = Program::new(members(), |c| chooses(part.head, c), current, step, cost_up) else {
                if debug {
                    eprintln!("adjacent: part {}: a constraint cannot hold with the head fixed", h.code(part.head));
                }
                return Ok(None);
            };
            let at_down: f64 = program.costs.iter().map(|&c| (step as f64 - c) / 2.0).sum();
            let gap = PART_GAP * (at_down + part_bound).max(1.0);
            let share = (time_limit - clock.elapsed().as_secs_f64()).max(0.0) * 2.0 / remaining.max(1) as f64;
            let work = Some((PART_NODES, purpose.solutions()));
            let mut found = program.solve(Reach::Adjacent, gap, work, share)?;
            if found.is_none() && purpose == Purpose::WholeNumbers {
                found = program.solve(Reach::Wider, gap, work, share)?;
            }
            if debug {
                eprintln!("adjacent: part {} ({} cells, {} rows): bound {:?}, program {:?}", h.code(part.head), program.cells.len(), program.rows.len(), bound_time, timer.elapsed() - bound_time);
            }
            let Some((steps, cost, _)) = found else {
                return Ok(None);
            };
            let moved = program.cells.iter().zip(&steps).filter(|(_, &k)| k != 0).map(|(&c, &k)| (c, current[c] + k * step)).collect();
            Ok(Some((moved, cost, part_bound)))
        };
        let results: Vec<Option<(Vec<(usize, i64)>, f64, f64)>> = crate::parallel::on_two_threads(at_depth.clone(), &solve, "a part of the rounding to whole multiples")?;
        for result in results {
            let Some((moved, part_cost, part_bound)) = result else {
                if debug {
                    eprintln!("adjacent: a part at depth {depth} of dimension {} has no choice with its head fixed", cube.dims()[dim].name);
                }
                return Ok(None);
            };
            for (c, v) in moved {
                values[c] = v;
            }
            cost += part_cost;
            bound += part_bound;
        }
        remaining -= at_depth.len();
        report(remaining);
        if debug {
            eprintln!("adjacent: depth {depth} of {}: {} parts in {:?}", cube.dims()[dim].name, at_depth.len(), clock.elapsed() - started);
        }
    }
    let loose_cost = choose_loose(&in_some, step, cost_up, &mut values);
    Ok(Some((values, cost + loose_cost, bound + loose_cost)))
}

/// How far a chosen cell may go, in steps from its `down` value.
#[derive(Clone, Copy, PartialEq)]
enum Reach {
    /// Anywhere in [0, 1]: the LP relaxation, for bounds.
    Relaxed,
    /// 0 or 1: the multiple below or the one above.
    Adjacent,
    /// A whole number of steps in [-1, 2] (not below 0): where the adjacent
    /// multiples leave a part no choice.
    Wider,
}

/// A program over the chosen cells (`cells`): a variable per cell (its
/// steps up from `down`), its cost of one step up from `down`, and one
/// equation per additivity constraint over them, the other cells at their
/// current values.
struct Program {
    cells: Vec<usize>,
    costs: Vec<f64>,
    /// Per variable, the steps down to 0 (Wider goes no lower).
    floor_steps: Vec<i64>,
    step: i64,
    /// (right-hand side, [(variable, coefficient)]).
    rows: Vec<(f64, Vec<(usize, f64)>)>,
}

/// What a program's solve found: steps per variable, cost (deviation less
/// the deviation at `down`), and a proven lower bound on the least cost.
type Solution = (Vec<i64>, f64, f64);

impl Program {
    /// None when some constraint cannot hold whatever is chosen.
    fn new<'c>(
        constraints: impl Iterator<Item = (usize, &'c [usize])> + Clone,
        chosen: impl Fn(usize) -> bool,
        values: &[i64],
        step: i64,
        cost_up: &[Option<f64>],
    ) -> Option<Program> {
        // Variables in cell order: the solver breaks ties between equally
        // good choices by column order, so the same table gives the same choice.
        let mut cells: Vec<usize> = constraints.clone().flat_map(|(total, parts)| std::iter::once(total).chain(parts.iter().copied())).filter(|&c| chosen(c)).collect();
        cells.sort_unstable();
        cells.dedup();
        let variable: HashMap<usize, usize> = cells.iter().enumerate().map(|(v, &c)| (c, v)).collect();
        let costs = cells.iter().map(|&c| cost_up[c].expect("a chosen cell has a cost")).collect();
        let floor_steps = cells.iter().map(|&c| values[c].div_euclid(step)).collect();
        let mut rows = Vec::new();
        for (total, parts) in constraints {
            // values[total] + step*x[total] = sum(values[p] + step*x[p]), divided by step.
            let gap = parts.iter().map(|&p| values[p]).sum::<i64>() - values[total];
            let terms: Vec<(usize, f64)> =
                std::iter::once((total, 1.0)).chain(parts.iter().map(|&p| (p, -1.0))).filter_map(|(c, a)| variable.get(&c).map(|&v| (v, a))).collect();
            if gap % step != 0 || (terms.is_empty() && gap != 0) {
                return None;
            }
            if !terms.is_empty() {
                rows.push(((gap / step) as f64, terms));
            }
        }
        Some(Program { cells, costs, floor_steps, step, rows })
    }

    fn with_costs(mut self, costs: Vec<f64>) -> Program {
        self.costs = costs;
        self
    }

    /// Moves each cell by its steps.
    fn apply(&self, steps: &[i64], values: &mut [i64]) {
        for (&cell, &k) in self.cells.iter().zip(steps) {
            values[cell] += k * self.step;
        }
    }

    /// Solved within `reach`; integer programs stop within `absolute_gap`
    /// of their bound or after `work`'s branch-and-bound nodes or improving
    /// solutions (limits on work, not time, so that the same table gives
    /// the same result), and
    /// at `time_limit` in any case. None when nothing fits or the time ran
    /// out first.
    fn solve(&self, reach: Reach, absolute_gap: f64, work: Option<(i64, i32)>, time_limit: f64) -> Fallible<Option<Solution>> {
        if self.cells.is_empty() {
            return Ok(Some((Vec::new(), 0.0, 0.0)));
        }
        let mut pb = RowProblem::default();
        let step = self.step as f64;
        let mut at_down = 0.0;
        let columns: Vec<highs::Col> = self
            .costs
            .iter()
            .zip(&self.floor_steps)
            .map(|(&cost, &floor)| match reach {
                Reach::Relaxed => pb.add_column(cost, 0.0..=1.0),
                Reach::Adjacent => pb.add_integer_column(cost, 0..=1),
                Reach::Wider => {
                    // |step*y - rest| <= d at cost 1 each, where rest is the
                    // deviation at down; cost net of that deviation.
                    let rest = (step - cost) / 2.0;
                    at_down += rest;
                    let y = pb.add_integer_column(0.0, (-(floor.min(1)) as f64)..=2.0);
                    let d = pb.add_column(1.0, 0.0..);
                    pb.add_row(-rest.., [(d, 1.0), (y, -step)]);
                    pb.add_row(rest.., [(d, 1.0), (y, step)]);
                    y
                }
            })
            .collect();
        for (rhs, terms) in &self.rows {
            pb.add_row(*rhs..=*rhs, terms.iter().map(|&(v, a)| (columns[v], a)));
        }
        let integer = reach != Reach::Relaxed;
        let mut model = pb.optimise(Sense::Minimise);
        model.make_quiet();
        model.set_option("threads", 1);
        model.set_option("time_limit", time_limit.max(1e-6));
        if integer {
            model.set_option("mip_abs_gap", absolute_gap.max(1e-6));
            if let Some((nodes, solutions)) = work {
                model.set_option("mip_max_nodes", nodes as i32);
                model.set_option("mip_max_improving_sols", solutions);
            }
        }
        let solved = model.try_solve().map_err(|e| err!(Infeasible, "the integer program solver failed: {e:?}"))?;
        let status = solved.status();
        let stopped_with_solution = integer && !matches!(status, HighsModelStatus::Infeasible | HighsModelStatus::UnboundedOrInfeasible) && solved.mip_gap().is_finite();
        if !(status == HighsModelStatus::Optimal || stopped_with_solution) {
            return Ok(None);
        }
        let x = solved.get_solution().columns().to_vec();
        let steps: Vec<i64> = match reach {
            Reach::Wider => columns.iter().map(|c| x[c.index()].round() as i64).collect(),
            _ => x.iter().map(|v| v.round() as i64).collect(),
        };
        let cost = solved.objective_value() - at_down;
        // An integer program stops within its gap: its bound is the solver's, not its cost.
        let bound = match integer {
            true => solved.double_info_value(c"mip_dual_bound").ok().filter(|b| b.is_finite()).map_or(f64::NEG_INFINITY, |b| b - at_down).min(cost),
            false => cost,
        };
        Ok(Some((steps, cost, bound)))
    }
}

#[cfg(test)]
#[path = "adjacent_tests.rs"]
mod tests;
