//! Generated perturbation tables satisfy their constraints exactly.

use amparo::cellkey::ptable::{generate, PtableParameters};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, failure_persistence: None, ..ProptestConfig::default() })]

    /// Every row of a generated ptable is a distribution with mean 0 and
    /// variance V to 1e-9, within +-D, never publishing 1..js or a negative
    /// count; zero stays zero; with p_stay, P(v = 0) is p_stay. When a row
    /// cannot have these, the error names the row and what to change.
    #[test]
    fn generated_ptables_satisfy_their_constraints(
        max_deviation in 1i64..7,
        js in 0i64..4,
        share in 0.05f64..0.95,
        p_stay in prop::option::of(0.0f64..0.8),
    ) {
        let variance = share * (max_deviation * max_deviation) as f64;
        let params = PtableParameters { max_deviation, variance, js, p_stay };
        match generate(params) {
            Ok(table) => {
                prop_assert_eq!(&table.rows[0].noise, &vec![(0, 1.0)]);
                prop_assert_eq!(table.rows.len() as i64, js + max_deviation + 2);
                for row in &table.rows[1..] {
                    let i = row.count;
                    let total: f64 = row.noise.iter().map(|&(_, p)| p).sum();
                    let mean: f64 = row.noise.iter().map(|&(v, p)| v as f64 * p).sum();
                    let var: f64 = row.noise.iter().map(|&(v, p)| (v as f64).powi(2) * p).sum::<f64>() - mean * mean;
                    prop_assert!((total - 1.0).abs() < 1e-9, "row {}: probabilities sum to {}", i, total);
                    prop_assert!(mean.abs() < 1e-9, "row {}: mean {}", i, mean);
                    prop_assert!((var - variance).abs() < 1e-9, "row {}: variance {} against {}", i, var, variance);
                    for &(v, p) in &row.noise {
                        prop_assert!(p > 0.0 && v.abs() <= max_deviation);
                        prop_assert!(i + v == 0 || i + v > js, "row {}: publishes {}", i, i + v);
                    }
                    if let Some(stay) = p_stay {
                        let p0 = row.noise.iter().find(|&&(v, _)| v == 0).map_or(0.0, |&(_, p)| p);
                        prop_assert!((p0 - stay).abs() < 1e-12);
                    }
                }
                // Counts beyond the last row use it.
                prop_assert_eq!(table.row(1_000_000).count, js + max_deviation + 1);
            }
            Err(e) => {
                prop_assert_eq!(e.kind, amparo::ErrorKind::Policy);
                prop_assert!(e.message.contains("ptable row") && (e.message.contains("variance") || e.message.contains("p_stay")), "{}", e.message);
            }
        }
    }
}

#[test]
fn a_common_ptable_is_built_and_impossible_parameters_are_refused() {
    // D = 2, V = 1.5, js = 1: count 1 can become 0, 2 or 3 (not 1), count 2
    // can become 0, 2, 3 or 4; from count 4 on every change in -2..2 is allowed.
    let table = generate(PtableParameters { max_deviation: 2, variance: 1.5, js: 1, p_stay: None }).unwrap();
    let values = |i: usize| table.rows[i].noise.iter().map(|&(v, _)| v).collect::<Vec<_>>();
    assert_eq!(values(1), vec![-1, 1, 2]);
    assert_eq!(values(2), vec![-2, 0, 1, 2]);
    assert_eq!(values(4), vec![-2, -1, 0, 1, 2]);
    assert_eq!(table.rows.len(), 5);
    // With js = 2, count 1 can only become 0 or 3: mean 0 forces P(-1) = 2/3
    // and then the variance is 2, so V = 1 is impossible there.
    let e = generate(PtableParameters { max_deviation: 2, variance: 1.0, js: 2, p_stay: None }).unwrap_err();
    assert!(e.message.contains("ptable row 1") && e.message.contains("[-1, 2]"), "{}", e.message);
    for (params, fragment) in [
        (PtableParameters { max_deviation: 0, variance: 1.0, js: 0, p_stay: None }, "max_deviation = 0"),
        (PtableParameters { max_deviation: 2, variance: 5.0, js: 0, p_stay: None }, "more than D^2"),
        (PtableParameters { max_deviation: 2, variance: -1.0, js: 0, p_stay: None }, "variance = -1"),
        (PtableParameters { max_deviation: 2, variance: 1.0, js: 0, p_stay: Some(1.0) }, "p_stay = 1"),
    ] {
        let e = generate(params).unwrap_err();
        assert!(e.message.contains(fragment), "{}", e.message);
    }
}

/// The lookup gives each noise value its row's probability, the same key
/// always the same value, and zero stays zero; keys add up modulo 1 in any order.
#[test]
fn cell_key_lookup_follows_the_ptable_and_keys_add_in_any_order() {
    use amparo::cellkey::{noise_for, Key};
    let table = generate(PtableParameters { max_deviation: 2, variance: 1.0, js: 0, p_stay: Some(0.4) }).unwrap();
    // Uniform keys from a seeded splitmix sequence.
    let mut state = 20261122u64;
    let mut next = || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Key(((z ^ (z >> 31)) >> 32) as u32)
    };
    const DRAWS: usize = 200_000;
    for count in [1i64, 2, 3, 10, 1000] {
        let mut seen = std::collections::BTreeMap::new();
        for _ in 0..DRAWS {
            let key = next();
            let v = noise_for(&table, count, key);
            assert_eq!(v, noise_for(&table, count, key), "the same key gives the same value");
            assert!(count + v >= 0);
            *seen.entry(v).or_insert(0usize) += 1;
        }
        for &(v, p) in &table.row(count).noise {
            let share = *seen.get(&v).unwrap_or(&0) as f64 / DRAWS as f64;
            let se = (p * (1.0 - p) / DRAWS as f64).sqrt();
            assert!((share - p).abs() <= 5.0 * se + 1e-12, "count {count}, v = {v}: share {share} against p {p}");
        }
    }
    assert_eq!(noise_for(&table, 0, Key(123)), 0, "zero stays zero");
    // Record keys read from numbers, then summed in two orders.
    let keys: Vec<Key> = [0.9, 0.35, 0.5, 0.0, 0.999_999].iter().enumerate().map(|(i, &k)| Key::from_record(Some(k), "rkey", i as u64 + 1).unwrap()).collect();
    let forward = keys.iter().fold(Key::default(), |a, &k| a.add(k));
    let backward = keys.iter().rev().fold(Key::default(), |a, &k| a.add(k));
    assert_eq!(forward, backward);
    let expected: f64 = (0.9 + 0.35 + 0.5 + 0.0 + 0.999_999) % 1.0;
    assert!((forward.as_f64() - expected).abs() < 1e-8);
    for (bad, fragment) in [(Some(1.0), "outside [0, 1)"), (Some(-0.1), "outside [0, 1)"), (None, "is empty")] {
        let e = Key::from_record(bad, "rkey", 7).unwrap_err();
        assert!(e.message.contains("row 7") && e.message.contains("`rkey`") && e.message.contains(fragment), "{}", e.message);
    }
}
