//! Rounding: every cell published as a multiple of a base.
//!
//! - deterministic: to the nearest multiple (a remainder of half the base or
//!   more rounds up);
//! - random (unbiased random rounding, e.g. Statistics Canada base 5, Stats
//!   NZ base 3; Hundepool et al. 2012, section 5.5): a count q*b + r with
//!   0 < r < b becomes (q+1)*b with probability r/b and q*b otherwise, so its
//!   expectation is the count itself; multiples stay;
//! - graduated: random rounding whose base grows with the count (the ABS's
//!   graduated random rounding), so large counts are not spoiled by a base
//!   chosen for small ones.
//!
//! - controlled (Cox 1987, "A constructive procedure for unbiased controlled
//!   rounding", JASA 82; as an integer program, Salazar-Gonzalez, Lowthian,
//!   Young, Merola, Bond & Brown 2004): every cell, margins included, goes to
//!   one of its two adjacent multiples (multiples stay) so that every
//!   additivity constraint still holds, with the least total deviation.
//!   Always possible for two-way tables; three-way and hierarchical tables
//!   may have none, which is an error naming the way out.
//!
//! - pls (Statistics Norway's PLSrounding; Langsrud & Heldal 2018): only
//!   the inner cells of 1 to base - 1 are rounded, to 0 or the base, chosen
//!   so that the margins stay close; the margins are the sums, so the table
//!   adds up and no published cell lies in 1 to base - 1 (`small_counts`).
//!
//! Otherwise margins are rounded on their own (each within one base of its truth, but
//! a total may differ from the sum of its rounded parts, which the output
//! metadata says) or recomputed from the rounded inner cells (the table adds
//! up). Random draws come from ChaCha20, seeded by the operating system
//! unless the policy gives a seed; the output metadata records which.

mod adjacent;
mod config;
mod small_counts;

pub use adjacent::{choose_adjacent, Adjacent, Purpose};
pub use config::RoundingConfig;
pub use small_counts::round_small_counts;
pub(crate) use small_counts::choose_ups;

use std::sync::Arc;

use crate::error::Fallible;
use crate::marks::{CellMarks, Notes, Status};
use crate::random::{uniform_below, Generator, Randomness};
use crate::policy::{MarginRounding, RoundingMethod, RoundingRandomness};
use crate::table::Cube;
use crate::fail;

/// `count` rounded to a multiple of `base` by `method` (deterministic: to
/// the nearest; otherwise randomly, drawing from `rng`).
pub fn round_count(count: i64, base: i64, method: RoundingMethod, rng: &mut Generator) -> i64 {
    if method == RoundingMethod::Deterministic {
        return round_nearest(count, base);
    }
    let rest = count.rem_euclid(base);
    if rest == 0 {
        return count;
    }
    let up = (uniform_below(rng, base as u64) as i64) < rest;
    if up { count - rest + base } else { count - rest }
}

/// `count` to the nearest multiple of `base` (a remainder of half the base
/// or more rounds up).
pub fn round_nearest(count: i64, base: i64) -> i64 {
    let rest = count.rem_euclid(base);
    if rest != 0 && 2 * rest >= base { count - rest + base } else { count - rest }
}

/// `count` randomly rounded to base `base` with the cell key `key` (fixed
/// point, see [`crate::table::Key`]) as the uniform draw: up when
/// key / 2^32 < r / base, exactly in integers.
pub fn round_with_key(count: i64, base: i64, key: u32) -> i64 {
    let rest = count.rem_euclid(base);
    let down = count - rest;
    if rest != 0 && (key as i128) * (base as i128) < (rest as i128) << 32 { down + base } else { down }
}

/// The source of random rounding's draws.
enum Draws<'a> {
    None,
    Keys(&'a [u32], &'a str),
    Generator(Generator, Randomness),
}

/// Round every cell of `cube` as `[rounding]` says: the marks (every cell
/// `rounded`, its published value the rounded one), where the randomness
/// came from, and notes for the metadata (totals that may not add up, a
/// controlled rounding not proven the least).
///
/// `generator` is the run's generator when the policy draws from one
/// ([`RoundingSection::draws_from_generator`]); the pipeline makes it.
pub fn round_table(config: &RoundingConfig, cube: &Cube, generator: Option<(Generator, Randomness)>) -> Fallible<(CellMarks, Randomness, Notes)> {
    let rounding = &config.section;
    let record_key = config.record_key.as_deref();
    // Where each cell's draw comes from: none (deterministic, controlled),
    // the cell's key (uniform in [0, 1): up when below r/b, so the same cell
    // rounds the same way in every table), or ChaCha20.
    let mut draws = match (rounding.method, rounding.randomness) {
        (RoundingMethod::Random | RoundingMethod::Graduated, RoundingRandomness::CellKey) => match (cube.cell_keys(), record_key) {
            (Some(keys), Some(column)) => Draws::Keys(keys, column),
            _ => fail!(Policy, "[rounding] randomness = \"cell_key\" needs record keys: set [input] record_key"),
        },
        (RoundingMethod::Random | RoundingMethod::Graduated | RoundingMethod::Pls, RoundingRandomness::Generator) => {
            let Some((rng, randomness)) = generator else {
                fail!(Infeasible, "random rounding was given no generator (a defect in Amparo: please report it)");
            };
            Draws::Generator(rng, randomness)
        }
        _ => Draws::None,
    };
    let randomness = match &draws {
        Draws::None => Randomness::None,
        Draws::Keys(_, column) => Randomness::CellKeys((*column).to_owned()),
        Draws::Generator(_, randomness) => randomness.clone(),
    };
    let values = cube.values();
    let mut marks = CellMarks::publish_all(cube);
    let name = match rounding.method {
        RoundingMethod::Deterministic => "rounding",
        RoundingMethod::Random => "random rounding",
        RoundingMethod::Graduated => "graduated random rounding",
        RoundingMethod::None => return Ok((marks, randomness, Vec::new())),
        RoundingMethod::Controlled => {
            let base = rounding.base_for(0);
            let (rounded, note) = controlled(cube, base, rounding.time_limit)?;
            let reason: Arc<str> = Arc::from(format!("controlled rounding to base {base}"));
            for (cell, v) in rounded.into_iter().enumerate() {
                marks.published[cell] = Some(v);
                marks.status[cell] = Status::Rounded;
                marks.reason.set(cell, Some(reason.clone()));
            }
            return Ok((marks, randomness, note.map(|n| ("optimality".to_owned(), n)).into_iter().collect()));
        }
        RoundingMethod::Pls => {
            let Draws::Generator(rng, _) = &mut draws else {
                fail!(Infeasible, "small count rounding was given no generator (a defect in Amparo: please report it)");
            };
            let base = rounding.base_for(0);
            let published = round_small_counts(cube, base, rng)?;
            // One reason for every cell: a cell's own reason would tell a
            // zero from a small count rounded down.
            let reason: Arc<str> = Arc::from(format!("small count rounding to base {base} (margins are sums of the published inner cells)"));
            for (cell, v) in published.into_iter().enumerate() {
                marks.published[cell] = Some(v);
                marks.status[cell] = Status::Rounded;
                marks.reason.set(cell, Some(reason.clone()));
            }
            let note = format!(
                "pls: inner cells of 1 to {} rounded to 0 or {base}, larger ones published as they are; every margin is the sum of \
                 its published inner cells, so the table adds up, and a margin may differ from its true value by more than one base",
                base - 1
            );
            return Ok((marks, randomness, vec![("additivity".to_owned(), note)]));
        }
    };
    // One reason per base, shared by the cells.
    let mut reasons: Vec<(i64, Arc<str>)> = Vec::new();
    let mut reason_for = |base: i64| -> Arc<str> {
        if let Some((_, r)) = reasons.iter().find(|(b, _)| *b == base) {
            return r.clone();
        }
        let r: Arc<str> = Arc::from(format!("{name} to base {base}"));
        reasons.push((base, r.clone()));
        r
    };
    let mut rounded = values.to_vec();
    let recompute = rounding.margins == MarginRounding::FromInner;
    for cell in 0..cube.len() {
        if recompute && !cube.is_inner(cell) {
            continue;
        }
        let base = rounding.base_for(values[cell]);
        rounded[cell] = match &mut draws {
            Draws::Keys(keys, _) => round_with_key(values[cell], base, keys[cell]),
            Draws::Generator(rng, _) => round_count(values[cell], base, rounding.method, rng),
            Draws::None => round_nearest(values[cell], base),
        };
        marks.status[cell] = Status::Rounded;
        marks.reason.set(cell, Some(reason_for(base)));
    }
    let notes = if recompute {
        let sums = cube.margins_from_inner(&rounded)?;
        let margin: Arc<str> = Arc::from(format!("sum of cells after {name}"));
        for cell in (0..cube.len()).filter(|&c| !cube.is_inner(c)) {
            rounded[cell] = sums[cell];
            marks.status[cell] = Status::Rounded;
            marks.reason.set(cell, Some(margin.clone()));
        }
        Vec::new()
    } else {
        vec![("additivity".to_owned(), "margins rounded on their own: a total may differ from the sum of its rounded parts".to_owned())]
    };
    for (cell, v) in rounded.into_iter().enumerate() {
        marks.published[cell] = Some(v);
    }
    Ok((marks, randomness, notes))
}

/// Controlled rounding of every cell to base `base`: each cell that is not
/// a multiple goes up or down ([`choose_adjacent`]) so that every additivity
/// constraint holds, at the least total absolute deviation. Returns the
/// rounded values, and a note with the proven gap when the least deviation
/// is not proven.
pub fn controlled(cube: &Cube, base: i64, time_limit: f64) -> Fallible<(Vec<i64>, Option<String>)> {
    let values = cube.values();
    let down: Vec<i64> = values.iter().map(|&v| v - v.rem_euclid(base)).collect();
    // Going up costs base - r more deviation than the r of going down.
    let cost_up: Vec<Option<f64>> = values
        .iter()
        .map(|&v| {
            let rest = v.rem_euclid(base);
            (rest != 0).then_some((base - 2 * rest) as f64)
        })
        .collect();
    match choose_adjacent(cube, &down, base, &cost_up, Purpose::ControlledRounding, time_limit)? {
        Adjacent::Found(rounded, gap, _) => {
            let note = gap.map(|gap| {
                format!(
                    "controlled rounding: the table adds up, and its total deviation is at most {:.2}% above the least possible (a proven bound, from the LP relaxations of the table's parts; the least itself is not proven)",
                    100.0 * gap
                )
            });
            Ok((rounded, note))
        }
        Adjacent::NoneExists => fail!(
            Infeasible,
            "no controlled rounding to base {base} exists for this table (two-way tables always have one; \
             tables of three or more dimensions or with hierarchies may not); use margins = \"from_inner\" with \
             method = \"random\" for a table that adds up, or another base"
        ),
        Adjacent::Unsolved => fail!(
            Infeasible,
            "controlled rounding to base {base} found no rounding for a part of this table of {} cells (cut along its largest \
             hierarchy, each part within its share of [rounding] time_limit = {time_limit} s); raise time_limit, or use \
             method = \"pls\" (only the small inner cells rounded, and the table adds up)",
            cube.len()
        ),
        Adjacent::OutOfTime => fail!(
            Infeasible,
            "controlled rounding found no rounding within [rounding] time_limit = {time_limit} s on a table of {} cells; \
             raise time_limit, or use method = \"pls\" (only the small inner cells rounded, and the table adds up)",
            cube.len()
        ),
    }
}
