//! The least-squares step of post-processing (`postprocess = "wls"`): the
//! non-negative real table that adds up and keeps the invariants, closest
//! to the noisy measurements weighted by 1/variance.

use super::NoisePlan;
use crate::error::Fallible;
use crate::table::Cube;

impl NoisePlan {
    /// The non-negative real table that adds up and keeps the invariants,
    /// nearest the measurements in least squares weighted by 1/variance.
    ///
    /// The unknowns are the inner cells z (every cell is a sum of them, x =
    /// A z, so the table adds up by construction); the invariants are linear
    /// equations C z = c. Conjugate gradients on the weighted normal
    /// equations, projected onto C z = c, solve the equality-constrained
    /// problem; non-negativity by an active set (Lawson & Hanson 1974):
    /// cells that go negative are held at 0 and the rest refitted, and a
    /// held cell whose gradient says it should grow is let go again.
    pub(super) fn least_squares(&self, cube: &Cube, exact: &[i64], noisy: &[i64], tolerance: f64) -> Fallible<Vec<f64>> {
        let n = cube.len();
        let inner: Vec<usize> = (0..n).filter(|&c| cube.is_inner(c)).collect();
        let mut weight = vec![0.0; n];
        let mut target = vec![0.0; n];
        // Weights relative to the most precise level (so tiny variances,
        // which underflow to 0 for huge budgets, cannot make them infinite).
        let variances: Vec<f64> = self.levels.iter().map(|l| l.mechanism.variance().max(1e-12)).collect();
        let least = variances.iter().copied().fold(f64::INFINITY, f64::min);
        for (&(cell, level), &y) in self.measured.iter().zip(noisy) {
            weight[cell] = least / variances[level];
            target[cell] = y as f64;
        }
        // The invariants as rows over the inner cells: which inner cells each sums.
        let rows: Vec<(Vec<usize>, f64)> = self
            .invariants
            .iter()
            .map(|&cell| {
                let mut one = vec![0.0; n];
                one[cell] = 1.0;
                cube.spread_down(&mut one);
                ((0..inner.len()).filter(|&i| one[inner[i]] > 0.5).collect(), exact[cell] as f64)
            })
            .collect();
        // A z, on inner coordinates.
        let table = |z: &[f64]| -> Vec<f64> {
            let mut x = vec![0.0; n];
            for (i, &c) in inner.iter().enumerate() {
                x[c] = z[i];
            }
            cube.add_up(&mut x);
            x
        };
        // A^T W v, back on inner coordinates.
        let back = |mut v: Vec<f64>| -> Vec<f64> {
            for c in 0..n {
                v[c] *= weight[c];
            }
            cube.spread_down(&mut v);
            inner.iter().map(|&c| v[c]).collect()
        };
        let gradient = |z: &[f64]| -> Vec<f64> {
            let x = table(z);
            back((0..n).map(|c| x[c] - target[c]).collect())
        };
        let hessian_times = |p: &[f64]| -> Vec<f64> { back(table(p)) };

        let m = inner.len();
        let mut free = vec![true; m];
        // Start from the measurements of the inner cells, cut at 0.
        let mut z: Vec<f64> = inner.iter().map(|&c| target[c].max(0.0)).collect();
        for _round in 0..50 {
            let basis = Orthonormal::new(&rows, &free, m);
            basis.onto_affine(&mut z, &free);
            // Projected conjugate gradients over the free cells.
            let project = |v: &mut Vec<f64>| {
                for (vi, &f) in v.iter_mut().zip(&free) {
                    if !f {
                        *vi = 0.0;
                    }
                }
                basis.onto_null_space(v);
            };
            let mut r: Vec<f64> = gradient(&z).into_iter().map(|g| -g).collect();
            project(&mut r);
            let mut p = r.clone();
            let mut rr: f64 = dot(&r, &r);
            let start = rr;
            for _ in 0..(4 * m).clamp(50, 2_000) {
                if rr <= tolerance * start.max(1e-300) || rr < 1e-24 {
                    break;
                }
                let mut hp = hessian_times(&p);
                project(&mut hp);
                let php = dot(&p, &hp);
                if php <= 0.0 {
                    break;
                }
                let alpha = rr / php;
                z.iter_mut().zip(&p).for_each(|(zi, pi)| *zi += alpha * pi);
                r.iter_mut().zip(&hp).for_each(|(ri, hi)| *ri -= alpha * hi);
                let next = dot(&r, &r);
                let beta = next / rr;
                rr = next;
                p.iter_mut().zip(&r).for_each(|(pi, ri)| *pi = ri + beta * *pi);
            }
            // Hold the negative cells at 0; let go of held cells that want to grow.
            let negative: Vec<usize> = (0..m).filter(|&i| free[i] && z[i] < -1e-9).collect();
            if negative.is_empty() {
                // A held cell should grow when its gradient, net of the
                // invariants' multipliers (fitted on the free cells), is negative.
                let g = gradient(&z);
                let lambda = basis.multipliers(&g, rows.len());
                let mut reduced = g;
                for (k, (cells, _)) in rows.iter().enumerate() {
                    cells.iter().for_each(|&i| reduced[i] -= lambda[k]);
                }
                let grow: Vec<usize> = (0..m).filter(|&i| !free[i] && reduced[i] < -1e-7).collect();
                if grow.is_empty() {
                    break;
                }
                grow.iter().for_each(|&i| free[i] = true);
                continue;
            }
            for i in negative {
                free[i] = false;
                z[i] = 0.0;
            }
        }
        for zi in z.iter_mut() {
            *zi = zi.max(0.0);
        }
        Ok(table(&z))
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// An orthonormal basis of the invariants' rows restricted to the free
/// cells (Gram-Schmidt; rows that depend on others, such as a total whose
/// parts are all invariants too, are dropped), with each basis vector's
/// right-hand side, so that q_i . z = b_i exactly when C z = c.
struct Orthonormal {
    vectors: Vec<(Vec<f64>, f64)>,
    /// Each basis vector as a combination of the original rows.
    combination: Vec<Vec<f64>>,
}

impl Orthonormal {
    fn new(rows: &[(Vec<usize>, f64)], free: &[bool], m: usize) -> Orthonormal {
        let mut vectors: Vec<(Vec<f64>, f64)> = Vec::new();
        let mut combination: Vec<Vec<f64>> = Vec::new();
        for (row, (cells, c)) in rows.iter().enumerate() {
            let mut v = vec![0.0; m];
            let mut rhs = *c;
            let mut t = vec![0.0; rows.len()];
            t[row] = 1.0;
            for &i in cells {
                if free[i] {
                    v[i] = 1.0;
                }
            }
            for ((q, b), tq) in vectors.iter().zip(&combination) {
                let k = dot(&v, q);
                v.iter_mut().zip(q).for_each(|(vi, qi)| *vi -= k * qi);
                t.iter_mut().zip(tq).for_each(|(ti, tqi)| *ti -= k * tqi);
                rhs -= k * b;
            }
            let norm = dot(&v, &v).sqrt();
            if norm > 1e-9 {
                v.iter_mut().for_each(|vi| *vi /= norm);
                t.iter_mut().for_each(|ti| *ti /= norm);
                vectors.push((v, rhs / norm));
                combination.push(t);
            }
        }
        Orthonormal { vectors, combination }
    }

    /// The invariants' multipliers for gradient g (its part along the rows,
    /// written as a combination of the original rows).
    fn multipliers(&self, g: &[f64], rows: usize) -> Vec<f64> {
        let mut lambda = vec![0.0; rows];
        for ((q, _), t) in self.vectors.iter().zip(&self.combination) {
            let mu = dot(g, q);
            lambda.iter_mut().zip(t).for_each(|(l, ti)| *l += mu * ti);
        }
        lambda
    }

    /// Move z (on the free cells) to the nearest point with C z = c.
    fn onto_affine(&self, z: &mut [f64], free: &[bool]) {
        for (q, b) in &self.vectors {
            let k = dot(z, q) - b;
            z.iter_mut().zip(q).zip(free).for_each(|((zi, qi), &f)| {
                if f {
                    *zi -= k * qi
                }
            });
        }
    }

    /// Remove from v its components along the rows (v stays in C v = 0).
    fn onto_null_space(&self, v: &mut [f64]) {
        for (q, _) in &self.vectors {
            let k = dot(v, q);
            v.iter_mut().zip(q).for_each(|(vi, qi)| *vi -= k * qi);
        }
    }
}
