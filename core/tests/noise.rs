//! Differential privacy noise end to end: post-processed tables add up, are
//! non-negative whole numbers and keep their invariants; raw noise has its
//! stated spread; the budget is split and checked; bad budgets are errors.

mod common;

use std::path::Path;

use amparo::Policy;
use amparo::{Randomness, Status};
use proptest::prelude::*;

fn policy(dims: usize, noise: &str) -> Result<Policy, amparo::Error> {
    Policy::from_toml(&format!("{}[noise]\n{noise}", common::policy_head(dims)), Path::new("."))
}

fn note<'a>(out: &'a amparo::Protected, key: &str) -> &'a str {
    out.metadata.notes.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str()).unwrap_or("")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// On random 2-4-D hierarchical tables, with and without a split across
    /// the levels of the hierarchy, the published table adds up exactly,
    /// holds non-negative whole numbers, keeps its invariants exact, and
    /// every published cell lies in its own interval.
    #[test]
    fn post_processed_tables_add_up_and_keep_their_invariants(
        dims in 2usize..=4,
        counts in prop::collection::vec(prop_oneof![3 => 0i64..4, 1 => 0i64..60], 1..40),
        laplace in any::<bool>(),
        split in any::<bool>(),
        seed in any::<u64>(),
    ) {
        let budget = if laplace { "method = \"discrete_laplace\"\nepsilon = \"1/2\"\n" } else { "method = \"discrete_gaussian\"\nrho = \"1/4\"\n" };
        let levels = if split { "levels = { dimension = \"d0\", shares = [\"1/5\", \"3/10\", \"1/2\"] }\n" } else { "" };
        let p = policy(dims, &format!("{budget}{levels}seed = {seed}\nsimulations = 3\ninvariants = [{{ cell = {{}} }}, {{ cell = {{ d0 = \"2\" }} }}]\n")).unwrap();
        let out = amparo::protect(&p, &mut common::table(dims, &counts)).unwrap();
        let published: Vec<i64> = out.marks.published.iter().map(|v| v.unwrap()).collect();
        prop_assert!(out.cube.first_violation(&published).is_none(), "the table does not add up");
        prop_assert!(published.iter().all(|&v| v >= 0));
        let total = out.cube.find_cell(&Default::default(), "test").unwrap();
        let two = out.cube.find_cell(&[("d0".to_owned(), "2".to_owned())].into_iter().collect(), "test").unwrap();
        prop_assert_eq!(published[total], out.cube.value(total));
        prop_assert_eq!(published[two], out.cube.value(two));
        for c in 0..out.cube.len() {
            prop_assert_eq!(out.marks.status[c], Status::Noisy);
            prop_assert!(out.marks.lower[c].unwrap() <= published[c] && published[c] <= out.marks.upper[c].unwrap());
        }
        prop_assert_eq!(out.marks.sd[total], Some(0.0));
    }
}

#[test]
fn raw_noise_has_the_stated_spread_and_margins_are_sums() {
    // 3,750 inner cells, each measured once: the noise's mean and variance.
    let counts: Vec<i64> = (0..97).map(|i| (i * 7) % 23).collect();
    for (policy_noise, variance) in [("method = \"discrete_gaussian\"\nrho = \"1/8\"\n", 4.0), ("method = \"discrete_laplace\"\nepsilon = \"1/2\"\n", {
        let q = (-0.5f64).exp();
        2.0 * q / (1.0 - q).powi(2)
    })] {
        let p = policy(5, &format!("{policy_noise}postprocess = \"none\"\nsimulations = 0\nseed = 3\n")).unwrap();
        let out = amparo::protect(&p, &mut common::table(5, &counts)).unwrap();
        let inner: Vec<usize> = (0..out.cube.len()).filter(|&c| out.cube.is_inner(c)).collect();
        let noise: Vec<f64> = inner.iter().map(|&c| (out.marks.published[c].unwrap() - out.cube.value(c)) as f64).collect();
        let n = noise.len() as f64;
        let mean = noise.iter().sum::<f64>() / n;
        let var = noise.iter().map(|z| (z - mean).powi(2)).sum::<f64>() / (n - 1.0);
        assert!(mean.abs() < 4.0 * (variance / n).sqrt(), "{policy_noise}: mean {mean}");
        // Fourth moment of these distributions is below 10 variance^2: a loose 4-SE band.
        assert!((var - variance).abs() < 4.0 * (10.0 * variance * variance / n).sqrt(), "{policy_noise}: variance {var} vs {variance}");
        // The stated sd is the exact one, and the margins are the sums of the noisy cells.
        assert!((out.marks.sd[inner[0]].unwrap() - variance.sqrt()).abs() < 1e-3);
        let published: Vec<i64> = out.marks.published.iter().map(|v| v.unwrap()).collect();
        assert!(out.cube.first_violation(&published).is_none());
        assert!(note(&out, "additivity").contains("may be negative"));
    }
}

#[test]
fn the_budget_is_stated_split_and_scaled_by_contributions() {
    let counts = [5, 0, 2, 9, 14, 1];
    let run = |noise: &str| amparo::protect(&policy(2, noise).unwrap(), &mut common::table(2, &counts)).unwrap();
    let out = run("method = \"discrete_gaussian\"\nrho = \"1/2\"\nseed = 1\nsimulations = 5\n");
    let privacy = note(&out, "privacy");
    assert!(privacy.contains("rho = 1/2") && privacy.contains("sigma^2 = 1") && privacy.contains("1e-6"), "{privacy}");
    assert_eq!(out.metadata.randomness, Randomness::Seeded(1));
    // Each level gets its share: sigma^2 = 1 / (2 rho share).
    let out = run("method = \"discrete_gaussian\"\nrho = 1\nseed = 1\nsimulations = 2\nlevels = { dimension = \"d0\", shares = [\"1/4\", \"1/4\", \"1/2\"] }\n");
    let privacy = note(&out, "privacy");
    assert!(privacy.contains("share 1/4, discrete Gaussian, sigma^2 = 2") && privacy.contains("share 1/2, discrete Gaussian, sigma^2 = 1"), "{privacy}");
    // A child with 3 records: the Laplace scale triples (k / epsilon).
    let out = run("method = \"discrete_laplace\"\nepsilon = 2\ncontributions = 3\nseed = 1\nsimulations = 2\n");
    assert!(note(&out, "privacy").contains("scale 3/2"), "{}", note(&out, "privacy"));
    // Same seed, same table; no seed, the secure generator.
    let a = run("method = \"discrete_laplace\"\nepsilon = 1\nseed = 9\nsimulations = 2\n");
    let b = run("method = \"discrete_laplace\"\nepsilon = 1\nseed = 9\nsimulations = 2\n");
    assert_eq!(a.marks.published, b.marks.published);
    assert_eq!(a.marks.sd, b.marks.sd);
    assert_eq!(run("method = \"discrete_laplace\"\nepsilon = 1\nsimulations = 2\n").metadata.randomness, Randomness::Secure);
}

#[test]
fn bad_budgets_and_invariants_are_clear_errors() {
    let cases: [(&str, &[&str]); 11] = [
        ("method = \"discrete_gaussian\"\nrho = 0\n", &["rho = 0", "positive"]),
        ("method = \"discrete_gaussian\"\nrho = -1\n", &["rho = -1", "positive"]),
        ("method = \"discrete_gaussian\"\nrho = \"inf\"\n", &["rho = \"inf\"", "positive exact number"]),
        ("method = \"discrete_laplace\"\nepsilon = \"1/0\"\n", &["epsilon", "fraction"]),
        ("method = \"discrete_laplace\"\n", &["needs a budget", "epsilon"]),
        ("method = \"discrete_laplace\"\nrho = 1\n", &["`epsilon`, not `rho`"]),
        ("method = \"discrete_gaussian\"\nrho = 1\nlevels = { dimension = \"d0\", shares = [\"1/2\", \"1/3\", \"1/4\"] }\n", &["sum to 13/12, not 1"]),
        ("method = \"discrete_gaussian\"\nrho = 1\nlevels = { dimension = \"geo\", shares = [1] }\n", &["`geo`", "does not have"]),
        ("method = \"discrete_gaussian\"\nrho = 1\ncontributions = 0\n", &["contributions = 0"]),
        ("rho = 1\n", &["no method"]),
        ("method = \"discrete_gaussian\"\nrho = 1\npostprocess = \"none\"\nlevels = { dimension = \"d0\", shares = [\"1/2\", \"1/2\"] }\n", &["postprocess"]),
    ];
    for (noise, fragments) in cases {
        let e = policy(2, noise).unwrap_err();
        assert_eq!(e.kind, amparo::ErrorKind::Policy, "{noise}: {e}");
        for f in fragments {
            assert!(e.message.contains(f), "{noise}: {e}");
        }
    }
    let counts = [5, 0, 2, 9, 14, 1];
    let run = |noise: &str| amparo::protect(&policy(2, noise).unwrap(), &mut common::table(2, &counts));
    let e = run("method = \"discrete_gaussian\"\nrho = 1\nlevels = { dimension = \"d0\", shares = [\"1/2\", \"1/2\"] }\n").unwrap_err();
    assert!(e.message.contains("2 shares") && e.message.contains("3 levels"), "{e}");
    // The grand total is 5+0+2+9+14+1 repeated over 15 cells: 31 * 2 + 5 + 0 + 2 = 69.
    let e = run("method = \"discrete_gaussian\"\nrho = 1\ninvariants = [{ cell = {}, value = 70 }]\n").unwrap_err();
    assert_eq!(e.kind, amparo::ErrorKind::Data);
    assert!(e.message.contains("value = 70") && e.message.contains("input gives 69"), "{e}");
    let e = run("method = \"discrete_gaussian\"\nrho = 1\ninvariants = [{ cell = { d0 = \"9\" } }]\n").unwrap_err();
    assert!(e.message.contains("code `9`"), "{e}");
    let e = Policy::from_toml(&format!("{}[primary]\nthreshold = 3\n[noise]\nmethod = \"discrete_laplace\"\nepsilon = 1\n", common::policy_head(2)), Path::new(".")).unwrap_err();
    assert!(e.message.contains("keep one way of protecting"), "{e}");
}

#[test]
fn the_stated_intervals_cover_the_truth_at_their_confidence() {
    // Over 40 seeded runs of a 2-D table (16 cells each), the 90% intervals
    // hold the true count in at least 85% of the cells (the interval is
    // estimated from 40 simulations, so a margin below 90% is allowed).
    let counts = [0, 1, 3, 12, 7, 0, 2, 25, 4];
    let (mut covered, mut cells) = (0, 0);
    for seed in 0..40 {
        let p = policy(2, &format!("method = \"discrete_gaussian\"\nrho = \"1/2\"\nseed = {seed}\nsimulations = 40\n")).unwrap();
        let out = amparo::protect(&p, &mut common::table(2, &counts)).unwrap();
        for c in 0..out.cube.len() {
            cells += 1;
            covered += usize::from(out.marks.lower[c].unwrap() <= out.cube.value(c) && out.cube.value(c) <= out.marks.upper[c].unwrap());
        }
    }
    let coverage = covered as f64 / cells as f64;
    assert!(coverage >= 0.85, "coverage {coverage} over {cells} cells");
}

#[test]
fn raw_intervals_cover_the_truth_and_hold_the_published_value() {
    // 20 seeded runs of a 180-inner-cell table, most cells 0 or small, so
    // many are published below 0. The exact interval at 90% holds the true
    // count in at least 90% of the 3,600 cells (less 4 binomial standard
    // errors), and every interval holds its own published value, negative or not.
    let counts: Vec<i64> = (0..97).map(|i| [0, 0, 1, 0, 2, 0, 5, 40][i % 8]).collect();
    for budget in ["method = \"discrete_gaussian\"\nrho = \"1/50\"\n", "method = \"discrete_laplace\"\nepsilon = \"1/5\"\n"] {
        let (mut covered, mut cells, mut negative) = (0usize, 0usize, 0usize);
        for seed in 0..20 {
            let p = policy(5, &format!("{budget}postprocess = \"none\"\nsimulations = 0\nconfidence = 0.9\nseed = {seed}\n")).unwrap();
            let out = amparo::protect(&p, &mut common::table(5, &counts)).unwrap();
            for c in (0..out.cube.len()).filter(|&c| out.cube.is_inner(c)) {
                let (lower, upper, published) = (out.marks.lower[c].unwrap(), out.marks.upper[c].unwrap(), out.marks.published[c].unwrap());
                assert!(lower <= published && published <= upper, "{budget}: cell {c} published {published} outside its interval [{lower}, {upper}]");
                assert!(lower >= 0 || lower == published, "{budget}: the interval [{lower}, {upper}] goes below 0 further than its published {published}");
                negative += usize::from(published < 0);
                cells += 1;
                covered += usize::from(lower <= out.cube.value(c) && out.cube.value(c) <= upper);
            }
        }
        let coverage = covered as f64 / cells as f64;
        assert!(coverage >= 0.9 - 4.0 * (0.09 / cells as f64).sqrt(), "{budget}: coverage {coverage} over {cells} cells");
        assert!(negative > 300, "{budget}: only {negative} of {cells} cells published below 0; the test needs them");
    }
}

#[test]
fn with_almost_no_noise_post_processing_returns_the_table() {
    // rho = 10^6: sigma^2 = 1/(2 10^6); the least-squares table is the truth to within rounding.
    let counts = [0, 1, 3, 12, 7, 0, 2, 25, 4, 9, 0, 0, 1];
    for dims in 2..=4 {
        let p = policy(dims, "method = \"discrete_gaussian\"\nrho = 1000000\nseed = 2\nsimulations = 0\nlevels = { dimension = \"d0\", shares = [\"1/3\", \"1/3\", \"1/3\"] }\n").unwrap();
        let out = amparo::protect(&p, &mut common::table(dims, &counts)).unwrap();
        assert_eq!(out.marks.published, out.cube.values().iter().map(|&v| Some(v)).collect::<Vec<_>>(), "{dims} dimensions");
    }
}

#[test]
fn out_of_time_the_whole_numbers_come_from_the_inner_cells_and_still_add_up() {
    let counts: Vec<i64> = (0..61).map(|i| (i * 13) % 17).collect();
    let p = policy(4, "method = \"discrete_laplace\"\nepsilon = \"1/2\"\nseed = 4\nsimulations = 0\ntime_limit = 0.000001\ninvariants = [{ cell = {} }]\n").unwrap();
    let out = amparo::protect(&p, &mut common::table(4, &counts)).unwrap();
    let published: Vec<i64> = out.marks.published.iter().map(|v| v.unwrap()).collect();
    assert!(out.cube.first_violation(&published).is_none());
    assert!(published.iter().all(|&v| v >= 0));
    let total = out.cube.find_cell(&Default::default(), "test").unwrap();
    assert_eq!(published[total], out.cube.value(total));
    let optimality = note(&out, "optimality");
    assert!(optimality.contains("time limit") && optimality.contains("floor or its ceiling"), "{optimality}");
}

#[test]
fn adding_up_and_spreading_down_are_transposes() {
    // <A z, v> = <z, A^T v> for the map from inner cells to every cell.
    let p = policy(3, "method = \"discrete_laplace\"\nepsilon = 1\n").unwrap();
    let cube = amparo::build_cube(&p, &mut common::table(3, &[1])).unwrap();
    let n = cube.len();
    let inner: Vec<usize> = (0..n).filter(|&c| cube.is_inner(c)).collect();
    let z: Vec<f64> = (0..n).map(|c| if cube.is_inner(c) { ((c * 7) % 5) as f64 - 1.5 } else { 0.0 }).collect();
    let v: Vec<f64> = (0..n).map(|c| ((c * 3) % 11) as f64 * 0.25).collect();
    let mut az = z.clone();
    cube.add_up(&mut az);
    let mut atv = v.clone();
    cube.spread_down(&mut atv);
    let left: f64 = az.iter().zip(&v).map(|(a, b)| a * b).sum();
    let right: f64 = inner.iter().map(|&c| z[c] * atv[c]).sum();
    assert!((left - right).abs() < 1e-9, "{left} vs {right}");
    // And A z is the table of sums the cube itself builds.
    let ones: Vec<i64> = (0..n).map(|c| i64::from(cube.is_inner(c))).collect();
    let sums = cube.margins_from_inner(&ones).unwrap();
    let mut a1: Vec<f64> = ones.iter().map(|&x| x as f64).collect();
    cube.add_up(&mut a1);
    assert_eq!(a1, sums.iter().map(|&x| x as f64).collect::<Vec<_>>());
}
