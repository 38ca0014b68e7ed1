use std::sync::Arc;

use proptest::prelude::*;

use super::*;
use crate::suppression::nearby::Near;
use crate::table::{Additive, Cube};

const AREAS: &str = "[dimensions.area]\ncode_lengths = [1, 3]\n";
const NATIONALITIES: &str = "[dimensions.nationality]\ncodes = [\"n0\", \"n1\", \"n2\", \"n3\", \"n4\", \"n5\", \"n6\", \"n7\", \"n8\", \"n9\"]\n";
const AGES: &str = "[dimensions.age]\ncodes = [\"a0\", \"a1\", \"a2\", \"a3\"]\n";
const SEXES: &str = "[dimensions.sex]\ncodes = [\"F\", \"M\"]\n";

/// Municipalities in two regions (83 codes) by ten nationalities by sex:
/// 2,739 cells, above [`RESTRICT_ABOVE`], so protection LPs start on
/// neighbourhoods.
fn municipality_table(counts: &[i64]) -> Cube {
    let areas = (1..=2).flat_map(|r| (1..=40).map(move |m| format!("{r}{m:02}")));
    let records = areas.flat_map(|area| (0..10).flat_map(move |n| ["F", "M"].map(|sex| [area.clone(), format!("n{n}"), sex.to_owned()])));
    cube_of(&[AREAS, NATIONALITIES, SEXES], &["area", "nationality", "sex"], records.zip(counts.iter().cycle().copied()))
}

/// The linked pair area x nationality x sex and area x age x sex (the
/// nationality-by-age counts `counts`, cycled), sharing their area x sex
/// margins.
fn linked_pair(counts: &[i64]) -> crate::table::LinkedTables {
    let mut by_nationality = std::collections::BTreeMap::new();
    let mut by_age = std::collections::BTreeMap::new();
    let mut k = 0;
    for area in (1..=2).flat_map(|r| (1..=40).map(move |m| format!("{r}{m:02}"))) {
        for n in 0..10 {
            for a in 0..4 {
                for sex in ["F", "M"] {
                    let v = counts[k % counts.len()];
                    k += 1;
                    *by_nationality.entry([area.clone(), format!("n{n}"), sex.to_owned()]).or_insert(0) += v;
                    *by_age.entry([area.clone(), format!("a{a}"), sex.to_owned()]).or_insert(0) += v;
                }
            }
        }
    }
    let first = cube_of(&[AREAS, NATIONALITIES, SEXES], &["area", "nationality", "sex"], by_nationality.into_iter());
    let second = cube_of(&[AREAS, AGES, SEXES], &["area", "age", "sex"], by_age.into_iter());
    crate::table::LinkedTables::new(vec![first, second]).unwrap()
}

fn cube_of(dimensions: &[&str], names: &[&str], rows: impl Iterator<Item = ([String; 3], i64)>) -> Cube {
    let policy = format!("version = 1\n[input]\nkind = \"aggregated\"\ncount = \"n\"\n{}", dimensions.concat());
    let mut csv = format!("{},n\n", names.join(","));
    for (codes, n) in rows {
        csv.push_str(&format!("{},{n}\n", codes.join(",")));
    }
    crate::table::test_cube(&policy, &csv)
}

/// Cells of 1-4 hidden as primaries, each to be able to reach 0 and 5.
fn primaries(cube: &dyn Additive) -> (CellMarks, Vec<(usize, i64, i64)>) {
    let mut marks = CellMarks::publish_values(cube.values());
    let mut targets = Vec::new();
    for (cell, &v) in cube.values().iter().enumerate() {
        if (1..5).contains(&v) {
            marks.hide(cell, Status::Primary, Arc::from("threshold"));
            targets.push((cell, v, 5 - v));
        }
    }
    (marks, targets)
}

/// A change found on a neighbourhood holds every other cell at its value,
/// so it is a change of the whole table: every constraint still adds up,
/// no cell goes negative, and the target moves by its level. Small
/// neighbourhoods, whose edges are near every target.
fn changes_on_neighbourhoods_are_changes_of_the_whole(table: &dyn Additive) -> Result<(), TestCaseError> {
    let (marks, targets) = primaries(table);
    let values = table.values();
    let constraints = table.constraints();
    let forced = vec![false; table.len()];
    let weights = flow_weights(&marks, &forced, values, CostKind::Unit, &table.headlines());
    let mut lps = ProtectionLps::new(table, &constraints, weights, Reach::Neighbourhood);
    prop_assert!(lps.nearby.is_some(), "a table of {} cells starts on neighbourhoods", table.len());
    lps.tried = &[Near::Codes(1), Near::Codes(2), Near::Constraints(60)];
    let mut solved = 0;
    for &(cell, lower, upper) in targets.iter().step_by(3).take(40) {
        for (up, level) in [(true, upper), (false, lower)] {
            let Some(change) = lps.solve(cell, up, level, std::time::Duration::from_secs(60)).unwrap() else { continue };
            solved += 1;
            let mut y = vec![0.0; table.len()];
            for &(c, d) in &change {
                y[c] = d;
                prop_assert!(values[c] as f64 + d >= -1e-6, "cell {} goes negative", table.describe(c));
            }
            let expected = if up { level as f64 } else { -level as f64 };
            prop_assert!((y[cell] - expected).abs() < 1e-6, "the target moves {} instead of {expected}", y[cell]);
            for con in &constraints {
                let sum: f64 = con.parts.iter().map(|&p| y[p]).sum::<f64>() - y[con.total];
                prop_assert!(sum.abs() < 1e-6, "the margin ({}) no longer adds up: off by {sum}", table.describe(con.total));
            }
            // Hidden cells cost nothing in the next LPs, as in protection.
            for &(c, _) in &change {
                lps.hide(c);
            }
        }
    }
    // A drawn table where no target can move at all (tiny linked counts)
    // shows nothing: another is drawn.
    prop_assume!(solved > 0);
    prop_assert!(lps.whole_so_far < solved, "no change was found on a neighbourhood ({} of {solved} whole)", lps.whole_so_far);
    Ok(())
}

/// Protection LPs on neighbourhoods protect: afterwards an attacker built
/// afresh from the published cells lets every target reach its levels.
fn protection_on_neighbourhoods_holds(table: &dyn Additive) -> Result<(), TestCaseError> {
    let (mut marks, targets) = primaries(table);
    let forced = vec![false; table.len()];
    let deadline = Deadline::after(600.0);
    protect_cells(table, &mut marks, &targets, "protects a sensitive cell", CostKind::Unit, &forced, deadline, Reach::Neighbourhood, None).unwrap();
    let mut attacker = Attacker::new(table, &marks.published).unwrap();
    for &(cell, lower, upper) in &targets {
        let v = table.value(cell);
        prop_assert!(attacker.reaches(cell, v - lower, v + upper).unwrap(), "cell ({}) narrowed", table.describe(cell));
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn changes_found_on_neighbourhoods_are_changes_of_the_whole_table(
        counts in prop::collection::vec(prop_oneof![2 => 0i64..5, 3 => 5i64..60], 30..80),
    ) {
        changes_on_neighbourhoods_are_changes_of_the_whole(&municipality_table(&counts))?;
    }

    #[test]
    fn changes_found_on_neighbourhoods_are_changes_of_the_whole_linked_set(
        counts in prop::collection::vec(prop_oneof![3 => 0i64..3, 1 => 3i64..20], 30..80),
    ) {
        changes_on_neighbourhoods_are_changes_of_the_whole(&linked_pair(&counts))?;
    }

    #[test]
    fn protection_on_neighbourhoods_holds_against_the_whole_tables_attacker(
        counts in prop::collection::vec(prop_oneof![2 => 0i64..5, 3 => 5i64..60], 30..80),
    ) {
        protection_on_neighbourhoods_holds(&municipality_table(&counts))?;
    }

    #[test]
    fn protection_on_neighbourhoods_of_a_linked_set_holds_against_its_attacker(
        counts in prop::collection::vec(prop_oneof![3 => 0i64..3, 1 => 3i64..20], 30..80),
    ) {
        protection_on_neighbourhoods_holds(&linked_pair(&counts))?;
    }
}
