//! Perturbation tables (ptables) for the cell key method.
//!
//! A ptable has one row per original count i = 0, 1, ..., i_max (counts
//! above i_max use the last row): the probability p_i(v) of adding v. Built
//! as the maximum-entropy distribution with the policy's parameters, as the
//! ptable method of Giessing (2016), "Computational issues in the design of
//! transition probabilities and disclosure risk estimation for additive
//! noise", PSD 2016, and the `ptable` R package (Enderle, Giessing & Tent):
//!
//! - |v| <= D (maximum deviation);
//! - E[v] = 0 (unbiased) and Var(v) = V;
//! - no published value in 1..=js (small counts never appear), and counts
//!   stay non-negative: i + v is 0 or above js;
//! - zero stays zero (row 0 is v = 0 with probability 1);
//! - optionally P(v = 0) = p_stay in every row from 1 on.
//!
//! Under the mean and variance constraints the maximum-entropy distribution
//! on the allowed values S_i is p(v) proportional to exp(a v + b v^2); a and
//! b are found by Newton's method on the convex dual log Z(a, b) - b V, to
//! 1e-12. A row whose allowed values cannot carry variance V (too few values,
//! all on one side) is an error naming the row and the parameter to change.

use crate::error::Fallible;
use crate::fail;

/// The parameters of a generated ptable.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PtableParameters {
    /// Maximum deviation D >= 1.
    pub max_deviation: i64,
    /// Variance V > 0 of the noise.
    pub variance: f64,
    /// No published value in 1..=js (0 for none).
    pub js: i64,
    /// P(v = 0) in every row from 1 on, if set (in [0, 1)).
    pub p_stay: Option<f64>,
}

/// One row: the noise distribution for an original count.
#[derive(Debug, Clone, PartialEq)]
pub struct PtableRow {
    pub count: i64,
    /// (v, probability), v increasing, probabilities positive.
    pub noise: Vec<(i64, f64)>,
}

/// A perturbation table.
#[derive(Debug, Clone, PartialEq)]
pub struct Ptable {
    pub rows: Vec<PtableRow>,
}

impl Ptable {
    /// The row for count `n` (the last row for counts beyond it).
    pub fn row(&self, n: i64) -> &PtableRow {
        let last = self.rows.len() - 1;
        &self.rows[(n.max(0) as usize).min(last)]
    }
}

/// Tolerance of the moment conditions.
const TOLERANCE: f64 = 1e-12;

/// Build the maximum-entropy ptable for `params`.
pub fn generate(params: PtableParameters) -> Fallible<Ptable> {
    let PtableParameters { max_deviation: d, variance, js, p_stay } = params;
    if d < 1 {
        fail!(Policy, "ptable max_deviation = {d}: the maximum deviation D must be at least 1");
    }
    if !(variance.is_finite() && variance > 0.0) {
        fail!(Policy, "ptable variance = {variance}: the variance V must be a positive number");
    }
    if js < 0 {
        fail!(Policy, "ptable js = {js}: js (no published value in 1..js) must be 0 or more");
    }
    if let Some(p) = p_stay.filter(|p| !(p.is_finite() && (0.0..1.0).contains(p))) {
        fail!(Policy, "ptable p_stay = {p}: the probability of no change must be in [0, 1)");
    }
    if variance > (d * d) as f64 {
        fail!(Policy, "ptable variance = {variance} is more than D^2 = {} (no noise within +-{d} has it); lower the variance or raise max_deviation", d * d);
    }
    // From here on every row allows all of -D..D, so it repeats.
    let last = js + d + 1;
    let mut rows = vec![PtableRow { count: 0, noise: vec![(0, 1.0)] }];
    for i in 1..=last {
        let allowed: Vec<i64> = (-d..=d).filter(|&v| i + v == 0 || i + v > js).filter(|&v| i + v >= 0).collect();
        let noise = match p_stay {
            None => max_entropy(&allowed, variance),
            Some(stay) => {
                if !allowed.contains(&0) {
                    fail!(Policy, "ptable row {i}: p_stay needs v = 0 allowed, but {i} is within 1..js = {js}");
                }
                let moving: Vec<i64> = allowed.iter().copied().filter(|&v| v != 0).collect();
                max_entropy(&moving, variance / (1.0 - stay)).map(|mut rest| {
                    for (_, p) in &mut rest {
                        *p *= 1.0 - stay;
                    }
                    rest.push((0, stay));
                    rest.sort_by_key(|&(v, _)| v);
                    rest
                })
            }
        };
        let Some(noise) = noise else {
            fail!(
                Policy,
                "ptable row {i}: the allowed changes {allowed:?} (|v| <= {d}, {i} + v zero or above js = {js}) cannot have mean 0 and variance {variance}; \
                 lower the variance or js, or raise max_deviation"
            );
        };
        rows.push(PtableRow { count: i, noise });
    }
    Ok(Ptable { rows })
}

/// The maximum-entropy distribution on `support` with mean 0 and variance
/// `variance`, or `None` when there is none.
fn max_entropy(support: &[i64], variance: f64) -> Option<Vec<(i64, f64)>> {
    let (lo, hi) = (*support.first()?, *support.last()?);
    // Mean 0 needs values on both sides; the variance can be at most -lo*hi
    // (all mass on the two ends) and, strictly inside, has a positive density.
    if lo >= 0 || hi <= 0 || variance >= (-lo * hi) as f64 {
        return None;
    }
    let vs: Vec<f64> = support.iter().map(|&v| v as f64).collect();
    let (mut a, mut b) = (0.0f64, 0.0f64);
    let probabilities = |a: f64, b: f64| -> Vec<f64> {
        let exps: Vec<f64> = vs.iter().map(|&v| a * v + b * v * v).collect();
        let top = exps.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let w: Vec<f64> = exps.iter().map(|e| (e - top).exp()).collect();
        let z: f64 = w.iter().sum();
        w.into_iter().map(|x| x / z).collect()
    };
    for _ in 0..500 {
        let p = probabilities(a, b);
        let m1: f64 = p.iter().zip(&vs).map(|(p, v)| p * v).sum();
        let m2: f64 = p.iter().zip(&vs).map(|(p, v)| p * v * v).sum();
        let (g1, g2) = (m1, m2 - variance);
        if g1.abs() < TOLERANCE && g2.abs() < TOLERANCE {
            return Some(support.iter().copied().zip(p).collect());
        }
        // Hessian: covariance of (v, v^2).
        let m3: f64 = p.iter().zip(&vs).map(|(p, v)| p * v * v * v).sum();
        let m4: f64 = p.iter().zip(&vs).map(|(p, v)| p * v * v * v * v).sum();
        let (h11, h12, h22) = (m2 - m1 * m1, m3 - m1 * m2, m4 - m2 * m2);
        let det = h11 * h22 - h12 * h12;
        if det.abs() < 1e-300 {
            return None;
        }
        let (da, db) = ((h22 * g1 - h12 * g2) / det, (h11 * g2 - h12 * g1) / det);
        // Damped Newton step on the convex dual: halve until it descends.
        let dual = |a: f64, b: f64| -> f64 {
            let exps: Vec<f64> = vs.iter().map(|&v| a * v + b * v * v).collect();
            let top = exps.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            top + exps.iter().map(|e| (e - top).exp()).sum::<f64>().ln() - b * variance
        };
        let now = dual(a, b);
        let mut step = 1.0;
        while step > 1e-12 && dual(a - step * da, b - step * db) > now + 1e-15 {
            step /= 2.0;
        }
        a -= step * da;
        b -= step * db;
    }
    None
}

/// Read a ptable from CSV text with columns `i`, `v` and `p` (others, such as
/// the `ptable` R package's `j` or interval bounds, are ignored). `source`
/// names the file in errors. Rows must cover i = 0, 1, ..., each row's
/// probabilities must be non-negative and sum to 1 (to 1e-9), and no change
/// may make a count negative.
pub fn parse(text: &str, source: &str) -> Fallible<Ptable> {
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(text.as_bytes());
    let headers = reader.headers().map_err(|e| crate::err!(Data, "ptable file {source}: {e}"))?.clone();
    let column = |name: &str| -> Fallible<usize> {
        match headers.iter().position(|h| h.eq_ignore_ascii_case(name)) {
            Some(i) => Ok(i),
            None => fail!(Data, "ptable file {source} has no column `{name}` (it needs i, v and p; it has {})", headers.iter().collect::<Vec<_>>().join(", ")),
        }
    };
    let (ci, cv, cp) = (column("i")?, column("v")?, column("p")?);
    let mut rows: Vec<PtableRow> = Vec::new();
    for (k, record) in reader.records().enumerate() {
        let line = k + 2;
        let record = record.map_err(|e| crate::err!(Data, "ptable file {source}, line {line}: {e}"))?;
        let field = |c: usize| record.get(c).unwrap_or("");
        let i: i64 = field(ci).parse().map_err(|_| crate::err!(Data, "ptable file {source}, line {line}: i = `{}` is not a whole number", field(ci)))?;
        let v: i64 = field(cv).parse().map_err(|_| crate::err!(Data, "ptable file {source}, line {line}: v = `{}` is not a whole number", field(cv)))?;
        let p: f64 = field(cp).parse().map_err(|_| crate::err!(Data, "ptable file {source}, line {line}: p = `{}` is not a number", field(cp)))?;
        if !(p.is_finite() && p >= 0.0) {
            fail!(Data, "ptable file {source}, line {line}: p = {p}; probabilities are numbers of 0 or more");
        }
        if i + v < 0 {
            fail!(Data, "ptable file {source}, line {line}: v = {v} would make the count {i} negative");
        }
        match rows.last_mut() {
            Some(row) if row.count == i => row.noise.push((v, p)),
            _ => {
                if i != rows.len() as i64 {
                    fail!(Data, "ptable file {source}, line {line}: row i = {i} where i = {} was expected; list rows i = 0, 1, 2, ... in order", rows.len());
                }
                rows.push(PtableRow { count: i, noise: vec![(v, p)] });
            }
        }
    }
    if rows.is_empty() {
        fail!(Data, "ptable file {source} has no rows");
    }
    for row in &mut rows {
        let total: f64 = row.noise.iter().map(|&(_, p)| p).sum();
        if (total - 1.0).abs() > 1e-9 {
            fail!(Data, "ptable file {source}: the probabilities of row i = {} sum to {total}, not 1; correct the row", row.count);
        }
        row.noise.retain(|&(_, p)| p > 0.0);
        row.noise.sort_by_key(|&(v, _)| v);
    }
    Ok(Ptable { rows })
}
