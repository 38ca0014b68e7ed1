//! Differential privacy for tables of counts: exact discrete noise, a stated
//! budget, and post-processing to a publishable table.
//!
//! - Mechanisms: the discrete Laplace (pure epsilon-DP) and the discrete
//!   Gaussian (rho-zCDP; Canonne, Kamath & Steinke 2020), sampled exactly
//!   ([`sample`]). A child contributes at most `contributions` records (k),
//!   so one child changes the measured cells of a level by at most k in L1
//!   and in L2 norm: scale k/epsilon for the Laplace, variance k^2/(2 rho)
//!   for the Gaussian.
//! - Measurements: the inner cells; or, with `levels`, every level of one
//!   hierarchy (e.g. country, department, municipality), crossed with the
//!   inner codes of the other dimensions, each level with its share of the
//!   budget (sequential composition: the shares add up to the budget).
//!   Invariants are published exactly and not measured (they are disclosed
//!   outside the privacy guarantee, as the policy chooses; the US Census
//!   Bureau's 2020 state totals were such invariants).
//! - Post-processing (`wls`): the non-negative real table that adds up along
//!   every hierarchy and keeps the invariants, closest to the measurements in
//!   least squares weighted by 1/variance (projected conjugate gradients
//!   over the inner cells, non-negativity by an active set); then the
//!   whole-number table within one of it that adds up, nearest in total
//!   absolute deviation (controlled rounding to base 1, a MIP in HiGHS, as
//!   the Census TopDown's L1 rounding step).
//!   Post-processing uses no confidential data, so it costs no budget.
//! - Error: the error of each published cell (its `sd` and the `lower`/`upper`
//!   interval at the policy's confidence) is estimated by running the same
//!   mechanism and post-processing on the published table `simulations`
//!   times (no further use of the confidential data); without simulations,
//!   or without post-processing for the measured cells, it is stated exactly
//!   from the noise distribution.

mod config;
pub mod sample;
mod wls;

pub use config::{exact_fraction, NoiseBudget, NoiseConfig};

use std::sync::Arc;

use crate::error::Fallible;
use crate::marks::{CellMarks, Notes, Status};
use crate::random::{Generator, Randomness};
use crate::policy::{NoiseMethod, Postprocess};
use crate::table::Cube;
use crate::{err, fail};
use sample::{DiscreteGaussian, Fraction, RandomBits};

/// The noise of one level.
#[derive(Debug, Clone, Copy)]
pub enum Mechanism {
    /// Discrete Laplace with this scale.
    Laplace(Fraction),
    /// Discrete Gaussian with this variance parameter sigma^2.
    Gaussian(DiscreteGaussian, Fraction),
}

impl Mechanism {
    pub fn draw(&self, rng: &mut RandomBits) -> i64 {
        match self {
            Mechanism::Laplace(scale) => sample::discrete_laplace(rng, *scale),
            Mechanism::Gaussian(g, _) => g.sample(rng),
        }
    }

    /// The probability mass function (for stated errors and tests).
    pub fn pmf(&self) -> Box<dyn Fn(i64) -> f64> {
        match *self {
            Mechanism::Laplace(scale) => Box::new(move |z| sample::laplace_pmf(scale.as_f64(), z)),
            Mechanism::Gaussian(_, variance) => Box::new(sample::gaussian_pmf(variance.as_f64())),
        }
    }

    /// The noise's variance, from its distribution.
    pub fn variance(&self) -> f64 {
        match *self {
            Mechanism::Laplace(scale) => {
                let q = (-1.0 / scale.as_f64()).exp();
                2.0 * q / (1.0 - q).powi(2)
            }
            Mechanism::Gaussian(_, variance) => {
                let pmf = self.pmf();
                let reach = (variance.as_f64().sqrt() * 40.0).ceil() as i64 + 1;
                (-reach..=reach).map(|z| (z * z) as f64 * pmf(z)).sum()
            }
        }
    }

    /// The smallest w with P(|noise| <= w) >= confidence.
    pub fn half_width(&self, confidence: f64) -> i64 {
        let pmf = self.pmf();
        let mut covered = pmf(0);
        let mut w = 0;
        while covered < confidence && w < i64::MAX / 2 {
            w += 1;
            covered += 2.0 * pmf(w);
        }
        w
    }

    pub fn describe(&self) -> String {
        match self {
            Mechanism::Laplace(scale) => format!("discrete Laplace, scale {scale}"),
            Mechanism::Gaussian(_, variance) => format!("discrete Gaussian, sigma^2 = {variance}"),
        }
    }
}

/// One level of measurements.
#[derive(Debug, Clone)]
struct Level {
    name: String,
    /// A code of the level, for the privacy statement.
    example: String,
    share: Fraction,
    mechanism: Mechanism,
}

/// What is measured with which noise, and what is exact.
#[derive(Debug, Clone)]
pub struct NoisePlan {
    levels: Vec<Level>,
    /// (cell, level) for every measured cell.
    measured: Vec<(usize, usize)>,
    /// Cells published exactly, and the same as a flag per cell.
    invariants: Vec<usize>,
    exact: Vec<bool>,
    postprocess: Postprocess,
    time_limit: f64,
}

impl NoisePlan {
    /// The plan for `cube` under the policy's `[noise]` (checked at load).
    pub fn new(config: &NoiseConfig, cube: &Cube) -> Fallible<NoisePlan> {
        let section = &config.section;
        let budget = &config.budget;
        let k = Fraction { num: section.contributions, den: 1 };
        let too_fine = || err!(Policy, "[noise] budget and contributions give a noise scale whose exact fraction needs more than 64-bit parts; use a simpler fraction");
        let mechanism = |share: Fraction| -> Fallible<Mechanism> {
            let spent = share.times(budget.total).ok_or_else(too_fine)?;
            Ok(match section.method {
                NoiseMethod::DiscreteLaplace => Mechanism::Laplace(k.divided_by(spent).ok_or_else(too_fine)?),
                _ => {
                    let variance = k.times(k).and_then(|k2| k2.divided_by(spent.times(Fraction { num: 2, den: 1 })?)).ok_or_else(too_fine)?;
                    Mechanism::Gaussian(DiscreteGaussian::new(variance), variance)
                }
            })
        };
        let dims = cube.dims();
        let split = section.levels.as_ref().map(|l| dims.iter().position(|d| d.name == l.dimension).expect("checked at load"));
        let mut levels = Vec::new();
        match split {
            None => levels.push(Level { name: "inner cells".to_owned(), example: String::new(), share: budget.shares[0], mechanism: mechanism(budget.shares[0])? }),
            Some(d) => {
                let h = &dims[d].hierarchy;
                let depth = (0..h.len() as u32).map(|n| h.depth(n)).max().unwrap_or(0) as usize + 1;
                if depth != budget.shares.len() {
                    fail!(
                        Policy,
                        "[noise] levels.shares has {} shares, but dimension `{}` has {depth} levels (its total, then each level of codes below); give one share per level, from the total down",
                        budget.shares.len(),
                        dims[d].name
                    );
                }
                for (l, &share) in budget.shares.iter().enumerate() {
                    let example = (0..h.len() as u32).find(|&n| h.depth(n) as usize == l).map(|n| h.code(n).to_owned()).unwrap_or_default();
                    levels.push(Level { name: format!("level {l} of {}", dims[d].name), example, share, mechanism: mechanism(share)? });
                }
            }
        }
        let mut invariants = Vec::new();
        for inv in &section.invariants {
            let cell = cube.find_cell(&inv.cell, "[noise] invariants")?;
            if let Some(value) = inv.value {
                if value != cube.value(cell) {
                    fail!(
                        Data,
                        "[noise] invariant ({}) has value = {value}, but the input gives {}; correct the input or the invariant",
                        cube.describe(cell),
                        cube.value(cell)
                    );
                }
            }
            invariants.push(cell);
        }
        if !invariants.is_empty() && section.postprocess == Postprocess::None {
            fail!(Policy, "[noise] invariants are kept by post-processing; remove postprocess = \"none\" (or the invariants)");
        }
        let mut exact = vec![false; cube.len()];
        invariants.iter().for_each(|&c| exact[c] = true);
        let mut measured = Vec::new();
        for cell in 0..cube.len() {
            if exact[cell] {
                continue;
            }
            let level = match split {
                None => cube.is_inner(cell).then_some(0),
                Some(d) => {
                    let others_inner = (0..dims.len()).all(|e| e == d || dims[e].hierarchy.is_leaf(cube.coord(cell, e)));
                    others_inner.then(|| dims[d].hierarchy.depth(cube.coord(cell, d)) as usize)
                }
            };
            if let Some(level) = level {
                measured.push((cell, level));
            }
        }
        Ok(NoisePlan { levels, measured, invariants, exact, postprocess: section.postprocess, time_limit: section.time_limit })
    }

    /// One noisy measurement of each measured cell of `values`.
    pub fn measure(&self, values: &[i64], rng: &mut RandomBits) -> Vec<i64> {
        self.measured.iter().map(|&(cell, level)| values[cell].saturating_add(self.levels[level].mechanism.draw(rng))).collect()
    }

    /// The real-valued estimate before whole numbers: the least-squares
    /// table, or the noisy inner cells and their sums.
    fn estimate_real(&self, cube: &Cube, exact: &[i64], noisy: &[i64], tolerance: f64) -> Fallible<Vec<f64>> {
        match self.postprocess {
            Postprocess::None => Ok(self.noisy_sums(cube, noisy)?.into_iter().map(|v| v as f64).collect()),
            Postprocess::Wls => self.least_squares(cube, exact, noisy, tolerance),
        }
    }

    /// The noisy inner cells, margins their sums.
    fn noisy_sums(&self, cube: &Cube, noisy: &[i64]) -> Fallible<Vec<i64>> {
        let mut inner = vec![0; cube.len()];
        for (&(cell, _), &y) in self.measured.iter().zip(noisy) {
            inner[cell] = y;
        }
        cube.margins_from_inner(&inner)
    }

    /// The whole-number table that adds up and keeps the invariants, each
    /// cell at the floor or the ceiling of `real` (controlled rounding to
    /// base 1), nearest in total absolute deviation; where no such table
    /// exists (possible from three dimensions on), within two of `real`, then
    /// anywhere non-negative.
    fn whole_numbers(&self, cube: &Cube, exact: &[i64], real: &[f64]) -> Fallible<(Vec<i64>, Option<String>)> {
        let mut down = Vec::with_capacity(cube.len());
        let mut cost_up = Vec::with_capacity(cube.len());
        for c in 0..cube.len() {
            let x = real[c];
            // Within solver tolerance of a whole number: that number.
            if self.exact[c] || (x - x.round()).abs() < 1e-6 {
                down.push(if self.exact[c] { exact[c] } else { x.round() as i64 });
                cost_up.push(None);
            } else {
                down.push(x.floor() as i64);
                cost_up.push(Some(1.0 - 2.0 * (x - x.floor())));
            }
        }
        match crate::rounding::choose_adjacent(cube, &down, 1, &cost_up, crate::rounding::Purpose::WholeNumbers, self.time_limit)? {
            crate::rounding::Adjacent::Found(values, gap, widened) => {
                let widened = (widened > 0).then(|| {
                    format!(
                        "{widened} cells are within 2 of the least-squares table, not 1 (with their margins fixed, the whole numbers next to them added up nowhere in their part of the table)"
                    )
                });
                let note = [gap.map(|g| self.gap_note(g)), widened].into_iter().flatten().collect::<Vec<_>>().join("; ");
                return Ok((values, (!note.is_empty()).then_some(note)));
            }
            outcome @ (crate::rounding::Adjacent::OutOfTime | crate::rounding::Adjacent::Unsolved) => {
                if let Some(values) = self.inner_rounding(cube, exact, real)? {
                    let why = match outcome {
                        crate::rounding::Adjacent::OutOfTime => format!("found nothing within its time limit ({} s)", self.time_limit),
                        _ => "left a part of the table without a choice".to_owned(),
                    };
                    let note = format!(
                        "the controlled rounding to whole numbers {why} on {} cells: each inner cell went to its floor or its ceiling, \
                         chosen to keep the margins near the least-squares table, and the margins are their sums, so the table adds up and \
                         keeps the invariants, but a margin may differ from the least-squares table by more than 1",
                        cube.len()
                    );
                    return Ok((values, Some(note)));
                }
                fail!(
                    Infeasible,
                    "post-processing found no whole-number table that keeps the invariants within [noise] time_limit = {} s on {} cells; raise time_limit",
                    self.time_limit,
                    cube.len()
                )
            }
            crate::rounding::Adjacent::NoneExists => {}
        }
        for window in [Some(2), None] {
            if let Some((values, gap)) = self.whole_numbers_within(cube, exact, real, window)? {
                return Ok((values, gap.map(|g| self.gap_note(g))));
            }
        }
        fail!(Data, "no non-negative whole-number table adds up and keeps the invariants; check [noise] invariants")
    }

    /// Whole numbers for a table too large for the integer program: each
    /// inner cell at its floor or its ceiling, as many up as bring the
    /// inner cells' sum to its nearest whole number, chosen by the greedy
    /// step of small count rounding ([`crate::rounding::choose_ups`]) so
    /// that the margins stay near `real`; the margins are their sums, so
    /// nothing is negative and the table adds up. None when an invariant
    /// is then not kept.
    fn inner_rounding(&self, cube: &Cube, exact: &[i64], real: &[f64]) -> Fallible<Option<Vec<i64>>> {
        let mut inner = vec![0i64; cube.len()];
        let mut shortfall = vec![0.0; cube.len()];
        let mut candidates = Vec::new();
        let mut sum = 0.0;
        for c in (0..cube.len()).filter(|&c| cube.is_inner(c)) {
            let x = real[c].max(0.0);
            sum += x;
            inner[c] = if self.exact[c] { exact[c] } else { x.floor() as i64 };
            if !self.exact[c] && x - x.floor() > 1e-6 {
                candidates.push(c);
                shortfall[c] = x - x.floor();
            }
        }
        let floors: i64 = inner.iter().sum();
        let ups = (sum.round() as i64 - floors).clamp(0, candidates.len() as i64) as usize;
        // Post-processing of the published noise: ties by table order, no draw needed.
        let order = vec![0; candidates.len()];
        let clock = std::time::Instant::now();
        for c in crate::rounding::choose_ups(cube, &candidates, ups, 1.0, shortfall, &order) {
            inner[c] += 1;
        }
        if std::env::var_os("AMPARO_DEBUG").is_some() {
            eprintln!("noise: {ups} of {} inner cells up in {:?}", candidates.len(), clock.elapsed());
        }
        let values = cube.margins_from_inner(&inner)?;
        Ok(self.invariants.iter().all(|&c| values[c] == exact[c]).then_some(values))
    }

    /// The metadata note for a whole-number table not proven the nearest:
    /// `gap` is the proven relative gap to the least deviation.
    fn gap_note(&self, gap: f64) -> String {
        format!(
            "the table adds up; its deviation from the least-squares table is at most {:.2}% above the least possible (a proven bound; the least itself is not proven)",
            100.0 * gap
        )
    }

    /// The whole-number table that adds up and keeps the invariants with
    /// every cell within `window` of `real` (None: anywhere non-negative),
    /// nearest in total absolute deviation, and the proven gap when the time
    /// limit stopped the search; None when there is no such table.
    fn whole_numbers_within(&self, cube: &Cube, exact: &[i64], real: &[f64], window: Option<i64>) -> Fallible<Option<(Vec<i64>, Option<f64>)>> {
        use highs::{HighsModelStatus, RowProblem, Sense};
        let mut pb = RowProblem::default();
        let mut z = Vec::with_capacity(cube.len());
        for c in 0..cube.len() {
            if self.exact[c] {
                z.push(pb.add_integer_column(0.0, exact[c] as f64..=exact[c] as f64));
                continue;
            }
            let x = real[c];
            let col = match window {
                Some(w) => pb.add_integer_column(0.0, (x.floor() - (w - 1) as f64).max(0.0)..=x.ceil() + (w - 1) as f64),
                None => pb.add_integer_column(0.0, 0.0..),
            };
            // d >= |z - x|, at cost 1.
            let d = pb.add_column(1.0, 0.0..);
            pb.add_row(-x.., [(d, 1.0), (col, -1.0)]);
            pb.add_row(x.., [(d, 1.0), (col, 1.0)]);
            z.push(col);
        }
        cube.for_each_constraint(|_, total, parts| {
            let mut terms = vec![(z[total], 1.0)];
            terms.extend(parts.iter().map(|&p| (z[p], -1.0)));
            pb.add_row(0.0..=0.0, terms);
        });
        let mut model = pb.optimise(Sense::Minimise);
        model.make_quiet();
        model.set_option("threads", 1);
        model.set_option("time_limit", self.time_limit);
        let solved = model.try_solve().map_err(|e| err!(Infeasible, "the integer program failed during post-processing: {e:?}"))?;
        let stopped = match solved.status() {
            HighsModelStatus::Optimal => false,
            HighsModelStatus::Infeasible | HighsModelStatus::UnboundedOrInfeasible => return Ok(None),
            HighsModelStatus::ReachedTimeLimit if solved.mip_gap().is_finite() => true,
            _ => fail!(
                Infeasible,
                "post-processing found no whole-number table within [noise] time_limit = {} s on {} cells; raise time_limit",
                self.time_limit,
                cube.len()
            ),
        };
        let columns = solved.get_solution().columns().to_vec();
        // Columns alternate z, d except for invariants (z only).
        let mut values = Vec::with_capacity(cube.len());
        let mut next = 0;
        for c in 0..cube.len() {
            values.push(columns[next].round() as i64);
            next += if self.exact[c] { 1 } else { 2 };
        }
        if let Some(con) = cube.first_violation(&values) {
            fail!(Infeasible, "post-processing returned a table that does not add up at ({}); raise [noise] time_limit", cube.describe(con.total));
        }
        Ok(Some((values, stopped.then(|| solved.mip_gap()))))
    }
}

/// The least squares stop when the squared residual of conjugate gradients
/// falls below this fraction of its first: the published table's fit.
const FIT_TOLERANCE: f64 = 1e-20;
/// The same for the simulations, which only estimate each cell's error: on
/// B3 (115,700 cells, 50 simulations) 1e-12 took them from 33 s to 14 s and
/// changed 7 sd values in their third decimal, no interval; 1e-10 took 2 s
/// more off and changed nothing further (1e-8 changed 12 sd values by 0.001).
const SIMULATION_TOLERANCE: f64 = 1e-10;

/// Publish every cell with noise as `[noise]` says: the marks (status
/// `noisy`, `lower`/`upper` the interval at the policy's confidence, `sd`),
/// the randomness used, and notes for the metadata (privacy, error, additivity).
pub fn add_noise(config: &NoiseConfig, cube: &Cube, (rng, randomness): (Generator, Randomness)) -> Fallible<(CellMarks, Randomness, Notes)> {
    let section = &config.section;
    let plan = NoisePlan::new(config, cube)?;
    let mut rng = RandomBits::new(rng);
    let debug = std::env::var_os("AMPARO_DEBUG").is_some();
    let clock = std::time::Instant::now();
    let noisy = plan.measure(cube.values(), &mut rng);
    let real = plan.estimate_real(cube, cube.values(), &noisy, FIT_TOLERANCE)?;
    let fitted = clock.elapsed();
    let (published, stopped) = match plan.postprocess {
        Postprocess::Wls => plan.whole_numbers(cube, cube.values(), &real)?,
        Postprocess::None => (real.iter().map(|&v| v as i64).collect(), None),
    };
    if debug {
        eprintln!("noise: {} cells, measured and fitted in {fitted:?}, whole numbers in {:?}", cube.len(), clock.elapsed() - fitted);
    }

    let mut marks = CellMarks::publish_values(&published);
    let measured_level: Vec<Option<usize>> = {
        let mut at = vec![None; cube.len()];
        plan.measured.iter().for_each(|&(c, l)| at[c] = Some(l));
        at
    };
    let postprocessed = plan.postprocess == Postprocess::Wls;
    let reasons: Vec<Arc<str>> = plan
        .levels
        .iter()
        .map(|l| Arc::from(if postprocessed { format!("{}, measured at {}, post-processed", l.mechanism.describe(), l.name) } else { l.mechanism.describe() }))
        .collect();
    let derived: Arc<str> = Arc::from(if postprocessed { "from post-processing of the measured cells" } else { "sum of the noisy cells" });
    let exact: Arc<str> = Arc::from("invariant: published exactly");
    for cell in 0..cube.len() {
        marks.status[cell] = Status::Noisy;
        marks.reason.set(
            cell,
            Some(match measured_level[cell] {
                _ if plan.exact[cell] => exact.clone(),
                Some(l) => reasons[l].clone(),
                None => derived.clone(),
            }),
        );
    }

    // The error of each cell.
    let simulations = section.simulations as usize;
    // The interval [v - w, v + w] for the true count, cut at 0 (counts are
    // not negative) but never above the published value: raw noise publishes
    // negative values, and an interval that left out its own published value
    // would contradict it (the cut only tightens, so coverage is unchanged).
    let half = |v: i64, w: i64| (Some((v - w).max(0).min(v)), Some(v + w));
    let mut error_note = String::new();
    if simulations > 0 {
        // Simulated: the real-valued estimate's error. The whole-number step
        // then moves each cell by less than `moved` more, which widens the interval.
        let moved = if postprocessed { 1 + (0..cube.len()).map(|c| (published[c] as f64 - real[c]).abs().floor() as i64).max().unwrap_or(0) } else { 0 };
        // Each run draws from a generator of its own, split off in order, so
        // the runs share both cores and still give the same intervals.
        let mut errors: Vec<Vec<f64>> = vec![Vec::with_capacity(simulations); cube.len()];
        let mut streams: Vec<RandomBits> = (0..simulations).map(|_| rng.split()).collect();
        let run = |mut bits: RandomBits| -> Fallible<Vec<f64>> { plan.estimate_real(cube, &published, &plan.measure(&published, &mut bits), SIMULATION_TOLERANCE) };
        // Two runs at a time: their tables are folded into `errors` before the next two.
        while !streams.is_empty() {
            let pair: Vec<RandomBits> = streams.drain(..streams.len().min(2)).collect();
            for again in crate::parallel::on_two_threads(pair, &run, "a simulation of the noise")? {
                for cell in 0..cube.len() {
                    errors[cell].push(again[cell] - published[cell] as f64);
                }
            }
        }
        for (cell, e) in errors.iter().enumerate() {
            let rms = (e.iter().map(|x| x * x).sum::<f64>() / e.len() as f64).sqrt();
            // Symmetric: at a published 0 the simulated errors are all >= 0
            // (post-processing keeps counts non-negative), yet the truth may be above.
            let mut size: Vec<f64> = e.iter().map(|x| x.abs()).collect();
            size.sort_unstable_by(f64::total_cmp);
            let q = size[((section.confidence * size.len() as f64).ceil() as usize).saturating_sub(1).min(size.len() - 1)];
            // Integer errors below q + moved are at most floor(q) + moved (q - 1e-9 for float noise at whole q).
            let w = (q - 1e-9).max(0.0).floor() as i64 + moved;
            marks.sd.set(cell, Some((rms * 1000.0).round() / 1000.0));
            marks.set_interval(cell, half(published[cell], w));
        }
        error_note = format!(
            "sd (root mean square error{}) and the {}% interval in lower/upper (the published value plus or minus that quantile of the absolute error{}) per cell from {simulations} runs of the same mechanism{} on the published table (no further use of the confidential data)",
            if postprocessed { " of the least-squares estimate" } else { "" },
            section.confidence * 100.0,
            if postprocessed { format!(", plus {moved} for the whole-number step") } else { String::new() },
            if postprocessed { " and least-squares post-processing" } else { "" }
        );
    }
    if simulations == 0 || !postprocessed {
        // Exactly from the noise distribution, where the published value is
        // the raw measurement. Every cell of a level has the same noise, so
        // its sd and half-width are summed from the pmf once per level (at
        // sigma = 1000 one such sum takes milliseconds; per cell, a 10^6-cell
        // table took half an hour).
        let stated: Vec<(f64, i64)> =
            plan.levels.iter().map(|l| ((l.mechanism.variance().sqrt() * 1000.0).round() / 1000.0, l.mechanism.half_width(section.confidence))).collect();
        for &(cell, level) in &plan.measured {
            let (sd, w) = stated[level];
            marks.sd.set(cell, Some(sd));
            marks.set_interval(cell, half(published[cell], w));
        }
        let exact_note = format!("measured cells: sd and the {}% interval exactly from the noise distribution", section.confidence * 100.0);
        error_note = match (simulations, postprocessed) {
            (0, true) => format!("{exact_note}, before post-processing (simulations = 0: the error after post-processing is not estimated)"),
            (0, false) => format!("{exact_note}; margins: not estimated (simulations = 0)"),
            _ => format!("{exact_note}; margins: {error_note}"),
        };
    }
    for &cell in &plan.invariants {
        marks.sd.set(cell, Some(0.0));
        marks.set_interval(cell, (Some(published[cell]), Some(published[cell])));
    }
    if let Some(below) = section.low_reliability_below {
        for cell in (0..cube.len()).filter(|&c| published[c] < below && !plan.exact[c]) {
            let reason = format!("{}; low reliability (published below {below})", marks.reason[cell].as_deref().unwrap_or(""));
            marks.reason.set(cell, Some(Arc::from(reason)));
        }
    }

    let mut notes: Notes = vec![("privacy".to_owned(), privacy_statement(config, &plan))];
    notes.push(("error".to_owned(), error_note));
    notes.push((
        "additivity".to_owned(),
        if postprocessed {
            "non-negative whole numbers that add up along every hierarchy; invariants exact".to_owned()
        } else {
            "inner cells as drawn (may be negative); margins are their sums".to_owned()
        },
    ));
    if let Some(s) = stopped {
        notes.push(("optimality".to_owned(), s));
    }
    Ok((marks, randomness, notes))
}

/// The guarantee in words: the budget, its split, the sensitivity, and the
/// (epsilon, delta) equivalent.
fn privacy_statement(config: &NoiseConfig, plan: &NoisePlan) -> String {
    let section = &config.section;
    let budget = &config.budget;
    let total = budget.total.as_f64();
    let delta = section.delta;
    let levels: Vec<String> = plan
        .levels
        .iter()
        .map(|l| {
            let example = if l.example.is_empty() { String::new() } else { format!(" (e.g. {})", l.example) };
            format!("{}{example}: share {}, {}", l.name, l.share, l.mechanism.describe())
        })
        .collect();
    let (guarantee, equivalent) = match section.method {
        NoiseMethod::DiscreteLaplace => (
            format!("{}-differential privacy (pure, epsilon = {})", budget.total, budget.total),
            format!("also {:.6}-zCDP", total * total / 2.0),
        ),
        _ => {
            // Bun & Steinke (2016), proposition 1.3.
            let epsilon = total + 2.0 * (total * (1.0 / delta).ln()).sqrt();
            (format!("rho-zCDP with rho = {}", budget.total), format!("implies ({epsilon:.4}, {delta:e})-differential privacy"))
        }
    };
    let invariants = if plan.invariants.is_empty() { String::new() } else { format!("; {} invariant cells published exactly, outside the guarantee", plan.invariants.len()) };
    format!(
        "{guarantee}, {equivalent}; a child contributes at most {} record(s); measurements: {}{invariants}",
        section.contributions,
        levels.join("; ")
    )
}
