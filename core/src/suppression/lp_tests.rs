use std::path::Path;
use std::sync::Arc;

use proptest::prelude::*;

use super::*;
use crate::policy::CheckedPolicy;
use crate::table::Cube;

/// Municipalities in two regions (83 codes) by ten nationalities by sex:
/// 2,739 cells, above [`RESTRICT_ABOVE`], so protection LPs start on
/// neighbourhoods.
fn municipality_table(counts: &[i64]) -> Cube {
    let policy = "version = 1\n[input]\nkind = \"aggregated\"\ncount = \"n\"\n[dimensions.area]\ncode_lengths = [1, 3]\n\
                  [dimensions.nationality]\ncodes = [\"n0\", \"n1\", \"n2\", \"n3\", \"n4\", \"n5\", \"n6\", \"n7\", \"n8\", \"n9\"]\n\
                  [dimensions.sex]\ncodes = [\"F\", \"M\"]\n";
    let mut csv = String::from("area,nationality,sex,n\n");
    let mut k = 0;
    for area in (1..=2).flat_map(|r| (1..=40).map(move |m| format!("{r}{m:02}"))) {
        for nationality in 0..10 {
            for sex in ["F", "M"] {
                csv.push_str(&format!("{area},n{nationality},{sex},{}\n", counts[k % counts.len()]));
                k += 1;
            }
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("in.csv");
    std::fs::write(&path, csv).unwrap();
    let (policy, ()) = CheckedPolicy::read(policy, Path::new("."), |_, _| Ok(())).unwrap();
    let mut reader = crate::io::read_table(&path).unwrap();
    let mut builder = crate::table::CubeBuilder::new(&policy, &reader.schema()).unwrap();
    for batch in &mut *reader {
        builder.push(&batch.unwrap()).unwrap();
    }
    builder.finish().unwrap()
}

/// Cells of 1-4 hidden as primaries, each to be able to reach 0 and 5.
fn primaries(cube: &Cube) -> (CellMarks, Vec<(usize, i64, i64)>) {
    let mut marks = CellMarks::publish_all(cube);
    let mut targets = Vec::new();
    for (cell, &v) in cube.values().iter().enumerate() {
        if (1..5).contains(&v) {
            marks.hide(cell, Status::Primary, Arc::from("threshold"));
            targets.push((cell, v, 5 - v));
        }
    }
    (marks, targets)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4, failure_persistence: None, ..ProptestConfig::default() })]

    /// A change found on a neighbourhood holds every other cell at its
    /// value, so it is a change of the whole table: every constraint still
    /// adds up, no cell goes negative, and the target moves by its level.
    #[test]
    fn changes_found_on_neighbourhoods_are_changes_of_the_whole_table(
        counts in prop::collection::vec(prop_oneof![2 => 0i64..5, 3 => 5i64..60], 30..80),
    ) {
        let cube = municipality_table(&counts);
        let (marks, targets) = primaries(&cube);
        let values = cube.values();
        let constraints = cube.constraints();
        let forced = vec![false; cube.len()];
        let weights = flow_weights(&marks, &forced, values, CostKind::Unit, &cube.headlines());
        let mut lps = ProtectionLps::new(values, &constraints, weights, Reach::Neighbourhood);
        prop_assert!(lps.of_cell.is_some(), "a table of {} cells starts on neighbourhoods", cube.len());
        // Small neighbourhoods, whose edges are near every target.
        lps.budgets = &[40, 160, 640];
        let mut solved = 0;
        for &(cell, lower, upper) in targets.iter().take(40) {
            for (up, level) in [(true, upper), (false, lower)] {
                let Some(change) = lps.solve(cell, up, level, std::time::Duration::from_secs(60)).unwrap() else { continue };
                solved += 1;
                let mut y = vec![0.0; cube.len()];
                for &(c, d) in &change {
                    y[c] = d;
                    prop_assert!(values[c] as f64 + d >= -1e-6, "cell {} goes negative", cube.describe(c));
                }
                let expected = if up { level as f64 } else { -level as f64 };
                prop_assert!((y[cell] - expected).abs() < 1e-6, "the target moves {} instead of {expected}", y[cell]);
                for con in &constraints {
                    let sum: f64 = con.parts.iter().map(|&p| y[p]).sum::<f64>() - y[con.total];
                    prop_assert!(sum.abs() < 1e-6, "the margin ({}) no longer adds up: off by {sum}", cube.describe(con.total));
                }
            }
        }
        prop_assert!(solved > 0);
        prop_assert!(lps.whole_so_far < solved, "no change was found on a neighbourhood ({} of {solved} whole)", lps.whole_so_far);
    }

    /// Protection LPs on neighbourhoods protect: afterwards an attacker
    /// built afresh from the published cells lets every target reach its
    /// levels.
    #[test]
    fn protection_on_neighbourhoods_holds_against_the_whole_tables_attacker(
        counts in prop::collection::vec(prop_oneof![2 => 0i64..5, 3 => 5i64..60], 30..80),
    ) {
        let cube = municipality_table(&counts);
        let (mut marks, targets) = primaries(&cube);
        let forced = vec![false; cube.len()];
        let deadline = Deadline::after(600.0);
        protect_cells(&cube, &mut marks, &targets, "protects a sensitive cell", CostKind::Unit, &forced, deadline, Reach::Neighbourhood).unwrap();
        let mut attacker = Attacker::new(&cube, &marks.published).unwrap();
        for &(cell, lower, upper) in &targets {
            let v = cube.value(cell);
            prop_assert!(attacker.reaches(cell, v - lower, v + upper).unwrap(), "cell ({}) narrowed", cube.describe(cell));
        }
    }
}
