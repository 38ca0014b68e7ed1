//! Differential privacy noise end to end: post-processed tables add up, are
//! non-negative whole numbers and keep their invariants; raw noise has its
//! stated spread; the budget is split and checked; bad budgets are errors.

mod common;

use std::path::Path;

use amparo::policy::Policy;
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
