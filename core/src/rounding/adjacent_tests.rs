use std::time::Instant;

use proptest::prelude::*;

use super::*;

/// Municipalities (three levels: region, department, municipality; 18
/// leaves) by nationality by sex: 324 cells with margins, counts cycled.
fn municipalities(counts: &[i64]) -> Cube {
    let policy = "version = 1\n[input]\nkind = \"aggregated\"\ncount = \"n\"\n[dimensions.geo]\ncode_lengths = [1, 2, 3]\n\
                  [dimensions.nationality]\ncodes = [\"a\", \"b\", \"c\"]\n[dimensions.sex]\ncodes = [\"F\", \"M\"]\n";
    let mut csv = String::from("geo,nationality,sex,n\n");
    let mut k = 0;
    for geo in (1..=2).flat_map(|r| (1..=3).flat_map(move |d| (1..=3).map(move |m| format!("{r}{d}{m}")))) {
        for nationality in ["a", "b", "c"] {
            for sex in ["F", "M"] {
                csv.push_str(&format!("{geo},{nationality},{sex},{}\n", counts[k % counts.len()]));
                k += 1;
            }
        }
    }
    crate::table::test_cube(policy, &csv)
}

/// Controlled rounding to `base`: down and the cost of going up.
fn to_base(cube: &Cube, base: i64) -> (Vec<i64>, Vec<Option<f64>>) {
    let down = cube.values().iter().map(|&v| v - v.rem_euclid(base)).collect();
    let cost = cube.values().iter().map(|&v| (v % base != 0).then(|| (base - 2 * v.rem_euclid(base)) as f64)).collect();
    (down, cost)
}

/// Real values that add up (inner cells shifted by fractions `shift`,
/// cycled; margins their sums), as noise post-processing hands them over,
/// with the grand total a whole number (an invariant: its cost is None).
fn whole_numbers(cube: &Cube, shift: &[f64]) -> (Vec<i64>, Vec<Option<f64>>) {
    let mut real: Vec<f64> = (0..cube.len()).map(|c| if cube.is_inner(c) { cube.value(c) as f64 + shift[c % shift.len()] } else { 0.0 }).collect();
    let sum: f64 = real.iter().sum();
    let first = (0..cube.len()).find(|&c| cube.is_inner(c)).unwrap();
    real[first] += sum.ceil() - sum;
    cube.add_up(&mut real);
    let roots: Vec<u32> = cube.dims().iter().map(|d| d.hierarchy.root()).collect();
    let total = cube.cell(&roots);
    real[total] = real[total].round();
    let down = real.iter().map(|x| x.floor() as i64).collect();
    let cost = real.iter().map(|&x| (x - x.floor() > 1e-9).then(|| 1.0 - 2.0 * (x - x.floor()))).collect();
    (down, cost)
}

/// The deviation of `values` from the real values behind (down, cost).
fn deviation(values: &[i64], down: &[i64], step: i64, cost: &[Option<f64>]) -> f64 {
    (0..values.len()).map(|c| ((values[c] - down[c]) as f64 - cost[c].map_or(0.0, |k| (step as f64 - k) / 2.0)).abs()).sum()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, failure_persistence: None, ..ProptestConfig::default() })]

    /// Top down along the geography: the table adds up, every cell is at an
    /// adjacent multiple (widened cells within one step more, not below
    /// 0), the cost is the deviation, and the stated bound lies below the
    /// least deviation of the whole table's integer program, which itself
    /// is no worse than top down.
    #[test]
    fn top_down_adds_up_and_its_bound_is_below_the_least(
        counts in prop::collection::vec(prop_oneof![3 => 0i64..6, 1 => 0i64..60], 1..50),
        shift in prop::collection::vec(0.0f64..1.0, 1..20),
        base in prop_oneof![Just(3i64), Just(5), Just(10)],
        noise in any::<bool>(),
    ) {
        let cube = municipalities(&counts);
        let (down, cost, step) = if noise { let (d, c) = whole_numbers(&cube, &shift); (d, c, 1) } else { let (d, c) = to_base(&cube, base); (d, c, base) };
        let at_down: f64 = cost.iter().flatten().map(|&k| (step as f64 - k) / 2.0).sum();
        let purpose = if noise { Purpose::WholeNumbers } else { Purpose::ControlledRounding };
        let found = top_down(&cube, 0, (&down, step, &cost), purpose, &Instant::now(), 60.0, false).unwrap();
        let least = whole_table(&cube, &down, step, &cost, 60.0).unwrap();
        match found {
            Some((values, found_cost, bound)) => {
                prop_assert!(cube.first_violation(&values).is_none(), "top down does not add up");
                let mut widened = 0;
                for c in 0..cube.len() {
                    prop_assert_eq!((values[c] - down[c]).rem_euclid(step), 0);
                    prop_assert!(values[c] >= 0);
                    if values[c] < down[c] || values[c] > down[c] + step {
                        widened += 1;
                        prop_assert!(noise && values[c] >= down[c] - step && values[c] <= down[c] + 2 * step, "cell {} at {} from {}", c, values[c], down[c]);
                    }
                    if cost[c].is_none() {
                        prop_assert_eq!(values[c], down[c], "a multiple moved");
                    }
                }
                prop_assert!((at_down + found_cost - deviation(&values, &down, step, &cost)).abs() < 1e-6, "the cost is not the deviation");
                prop_assert!(bound <= found_cost + 1e-6);
                if let Some((_, least_cost, _)) = least {
                    prop_assert!(widened > 0 || least_cost >= bound - 1e-6, "bound {} above the least {}", bound, least_cost);
                    prop_assert!(widened > 0 || found_cost >= least_cost - 1e-6, "top down {} below the proven least {}", found_cost, least_cost);
                }
            }
            // Adjacent multiples can leave a part no choice (from three
            // dimensions on); whole numbers then go further.
            None => prop_assert!(!noise, "whole numbers found no table"),
        }
    }
}

#[test]
fn the_same_table_gives_the_same_choice() {
    let counts: Vec<i64> = (0..97).map(|i| (i * 37 + 11) % 23).collect();
    let cube = municipalities(&counts);
    let (down, cost) = whole_numbers(&cube, &[0.31, 0.77, 0.5, 0.12, 0.93]);
    let first = top_down(&cube, 0, (&down, 1, &cost), Purpose::WholeNumbers, &Instant::now(), 60.0, false).unwrap().unwrap();
    for _ in 0..3 {
        let again = top_down(&cube, 0, (&down, 1, &cost), Purpose::WholeNumbers, &Instant::now(), 60.0, false).unwrap().unwrap();
        assert_eq!(again.0, first.0);
    }
}
