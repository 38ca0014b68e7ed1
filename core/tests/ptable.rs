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
