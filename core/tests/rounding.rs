//! Rounding: unbiased random rounding, multiples of the base within one base
//! of the truth, tables that add up when margins are recomputed.

use std::path::Path;

use amparo::Policy;
use amparo::policy::RoundingMethod;
use amparo::random::generator;
use amparo::rounding::round_count;
use amparo::{Randomness, Status};
use proptest::prelude::*;

mod common;
use common::{policy_head, table};

fn policy(dims: usize, rounding: &str) -> Result<Policy, amparo::Error> {
    Policy::from_toml(&format!("{}[rounding]\n{rounding}\n", policy_head(dims)), Path::new("."))
}

#[test]
fn random_rounding_is_unbiased_for_every_residue() {
    let (mut rng, _) = generator(Some(20261122)).unwrap();
    const DRAWS: usize = 100_000;
    for base in [3i64, 5, 10] {
        for residue in 0..base {
            let count = 7 * base + residue;
            let mut sum = 0i64;
            for _ in 0..DRAWS {
                let r = round_count(count, base, RoundingMethod::Random, &mut rng);
                assert!(r == count - residue || r == count - residue + base, "{count} rounded to {r} (base {base})");
                sum += r;
            }
            let mean = sum as f64 / DRAWS as f64;
            // One draw is the lower multiple plus base with probability p.
            let p = residue as f64 / base as f64;
            let standard_error = base as f64 * (p * (1.0 - p)).sqrt() / (DRAWS as f64).sqrt();
            if residue == 0 {
                assert_eq!(mean, count as f64, "multiples stay");
            } else {
                assert!((mean - count as f64).abs() <= 4.0 * standard_error, "base {base}, count {count}: mean {mean}, standard error {standard_error}");
            }
        }
    }
}

#[test]
fn deterministic_rounding_goes_to_the_nearest_multiple() {
    let (mut rng, _) = generator(Some(1)).unwrap();
    let cases = [(0, 5, 0), (1, 5, 0), (2, 5, 0), (3, 5, 5), (4, 5, 5), (5, 5, 5), (12, 10, 10), (15, 10, 20), (4, 3, 3), (5, 3, 6)];
    for (count, base, expected) in cases {
        assert_eq!(round_count(count, base, RoundingMethod::Deterministic, &mut rng), expected, "{count} to base {base}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]

    /// Every cell, margins included, is a multiple of its base within one
    /// base of its count, and the run records its seed.
    #[test]
    fn rounded_cells_are_multiples_of_their_base_within_one_base(
        dims in 1..=3usize,
        counts in prop::collection::vec(0i64..250, 3..20),
        method in prop_oneof![Just("deterministic"), Just("random"), Just("graduated")],
        base in 2i64..12,
        seed in any::<u64>(),
    ) {
        let seeded = if method == "deterministic" { String::new() } else { format!("seed = {seed}\n") };
        let p = policy(dims, &format!("method = \"{method}\"\nbase = {base}\n{seeded}")).unwrap();
        let out = amparo::protect(&p, &mut table(dims, &counts)).unwrap();
        for cell in 0..out.cube.len() {
            let v = out.cube.value(cell);
            let b = p.file.rounding.base_for(v);
            let r = out.marks.published[cell].expect("rounding hides nothing");
            prop_assert_eq!(out.marks.status[cell], Status::Rounded);
            prop_assert_eq!(r % b, 0, "({}) = {} published as {} (base {})", out.cube.describe(cell), v, r, b);
            prop_assert!((r - v).abs() < b);
        }
        let expected = if method == "deterministic" { Randomness::None } else { Randomness::Seeded(seed) };
        prop_assert_eq!(&out.metadata.randomness, &expected);
        prop_assert!(out.metadata.notes.iter().any(|(k, _)| k == "additivity"));
        // The same seed gives the same table.
        let again = amparo::protect(&p, &mut table(dims, &counts)).unwrap();
        prop_assert_eq!(&again.marks.published, &out.marks.published);
    }

    /// With margins recomputed from the rounded inner cells the table adds
    /// up along every hierarchy, and inner cells stay within one base.
    #[test]
    fn margins_from_rounded_inner_cells_add_up(
        dims in 1..=3usize,
        counts in prop::collection::vec(0i64..60, 3..20),
        base in prop_oneof![Just(3i64), Just(5), Just(10)],
        seed in any::<u64>(),
    ) {
        let p = policy(dims, &format!("method = \"random\"\nbase = {base}\nmargins = \"from_inner\"\nseed = {seed}")).unwrap();
        let out = amparo::protect(&p, &mut table(dims, &counts)).unwrap();
        let published: Vec<i64> = out.marks.published.iter().map(|v| v.unwrap()).collect();
        prop_assert!(out.cube.first_violation(&published).is_none());
        for cell in (0..out.cube.len()).filter(|&c| out.cube.is_inner(c)) {
            prop_assert_eq!(published[cell] % base, 0);
            prop_assert!((published[cell] - out.cube.value(cell)).abs() < base);
        }
        prop_assert!(out.metadata.notes.iter().all(|(k, _)| k != "additivity"));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, failure_persistence: None, ..ProptestConfig::default() })]

    /// Controlled rounding: every cell, margins included, at one of its two
    /// adjacent multiples (multiples stay), and every additivity constraint
    /// exact. Two-way tables always have one (Cox 1987); larger or
    /// hierarchical tables either get one or a clear Infeasible error.
    #[test]
    fn controlled_rounding_keeps_the_table_adding_up(
        dims in 1..=3usize,
        counts in prop::collection::vec(0i64..40, 3..20),
        base in prop_oneof![Just(3i64), Just(5), Just(10)],
    ) {
        let p = policy(dims, &format!("method = \"controlled\"\nbase = {base}")).unwrap();
        match amparo::protect(&p, &mut table(dims, &counts)) {
            Ok(out) => {
                let published: Vec<i64> = out.marks.published.iter().map(|v| v.unwrap()).collect();
                prop_assert!(out.cube.first_violation(&published).is_none());
                for cell in 0..out.cube.len() {
                    let v = out.cube.value(cell);
                    prop_assert_eq!(published[cell] % base, 0);
                    prop_assert!((published[cell] - v).abs() < base, "({}) = {} rounded to {}", out.cube.describe(cell), v, published[cell]);
                    if v % base == 0 {
                        prop_assert_eq!(published[cell], v);
                    }
                }
                prop_assert_eq!(&out.metadata.randomness, &Randomness::None);
                // The summary is the only note: a controlled table adds up, so no additivity note.
                prop_assert!(out.metadata.notes.iter().all(|(k, _)| k == amparo::Summary::NOTE), "a controlled table adds up: no additivity note");
            }
            Err(e) => {
                prop_assert!(dims >= 3, "a table of {} dimensions always has a controlled rounding: {}", dims, e.message);
                prop_assert_eq!(e.kind, amparo::ErrorKind::Infeasible);
                prop_assert!(e.message.contains("no controlled rounding") || e.message.contains("time_limit"), "{}", e.message);
            }
        }
    }
}

#[test]
fn graduated_rounding_uses_the_base_of_each_count() {
    let p = policy(2, "method = \"graduated\"\nseed = 3").unwrap();
    let r = &p.file.rounding;
    assert_eq!((r.base_for(0), r.base_for(19), r.base_for(20), r.base_for(99), r.base_for(100)), (3, 3, 5, 5, 10));
    let p = policy(2, "method = \"graduated\"\nbase = 50\nsteps = [{ below = 10, base = 2 }, { below = 1000, base = 25 }]").unwrap();
    let r = &p.file.rounding;
    assert_eq!((r.base_for(9), r.base_for(10), r.base_for(999), r.base_for(1000)), (2, 25, 25, 50));
}

#[test]
fn without_a_seed_the_generator_is_seeded_by_the_operating_system() {
    let p = policy(2, "method = \"random\"").unwrap();
    let out = amparo::protect(&p, &mut table(2, &[1, 2, 3, 4, 6, 7, 8, 9])).unwrap();
    assert_eq!(out.metadata.randomness, Randomness::Secure);
    assert!(out.metadata.pairs().iter().any(|(k, v)| k == "amparo.randomness" && v.contains("operating system")));
}

#[test]
fn impossible_rounding_policies_are_clear_errors() {
    let cases = [
        ("method = \"random\"\nbase = 1", "base = 1"),
        ("method = \"graduated\"\nsteps = [{ below = 100, base = 5 }, { below = 20, base = 3 }]", "increasing"),
        ("method = \"graduated\"\nsteps = [{ below = 20, base = 0 }]", "steps[0] has base = 0"),
        ("method = \"random\"\nsteps = [{ below = 20, base = 3 }]", "graduated"),
        ("method = \"deterministic\"\nseed = 4", "seed has no effect"),
        ("method = \"controlled\"\nseed = 4", "seed has no effect"),
        ("method = \"controlled\"\nmargins = \"from_inner\"", "remove `margins`"),
        ("method = \"controlled\"\ntime_limit = 0", "time_limit = 0"),
        ("method = \"pls\"\nmargins = \"from_inner\"", "remove `margins`"),
        ("method = \"pls\"\nrandomness = \"cell_key\"", "goes with method = \"random\""),
        ("base = 5", "no method"),
        ("method = \"random\"\n[secondary]\nmethod = \"interval\"", "keep one"),
        ("method = \"random\"\n[primary]\nthreshold = 5", "threshold"),
    ];
    for (section, fragment) in cases {
        let e = policy(2, section).unwrap_err();
        assert_eq!(e.kind, amparo::ErrorKind::Policy, "{section}");
        assert!(e.message.contains(fragment) && e.message.contains("[rounding]"), "{section}: {}", e.message);
    }
}
