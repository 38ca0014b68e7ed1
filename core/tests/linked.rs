//! Linked tables protected jointly: shared cells have one status, and the
//! attacker, working on every table's constraints at once, cannot narrow any
//! sensitive cell below its protection.

use std::path::Path;
use std::sync::Arc;

use amparo::audit::attacker_intervals;
use amparo::Policy;
use amparo::table::LinkedTables;
use amparo::{Additive, Cube};
use arrow_array::{ArrayRef, Int64Array, RecordBatch, RecordBatchIterator, StringArray};
use arrow_schema::{DataType, Field, Schema};
use proptest::prelude::*;

mod common;
use common::ends_around_values;

const DISTRICTS: [&str; 4] = ["1a", "1b", "2a", "2b"];
const SEXES: [&str; 2] = ["F", "M"];
const AGES: [&str; 3] = ["0-4", "5-11", "12-17"];

fn policy(dims: &[&str]) -> Policy {
    policy_with(dims, "interval")
}

fn policy_with(dims: &[&str], method: &str) -> Policy {
    let mut text = String::from("version = 1\n[input]\nkind = \"aggregated\"\ncount = \"n\"\n");
    for d in dims {
        text.push_str(match *d {
            "district" => "[dimensions.district]\ncode_lengths = [1, 2]\n",
            "sex" => "[dimensions.sex]\ncodes = [\"F\", \"M\"]\n",
            _ => "[dimensions.age]\ncodes = [\"0-4\", \"5-11\", \"12-17\"]\n",
        });
    }
    text.push_str(&format!("[primary]\nthreshold = 5\n[secondary]\nmethod = \"{method}\"\n"));
    Policy::from_toml(&text, Path::new(".")).unwrap()
}

/// The table of `dims` from counts over district x sex x age (cycled).
fn cube(dims: &[&str], counts: &[i64]) -> Cube {
    let mut cells: std::collections::BTreeMap<Vec<&str>, i64> = std::collections::BTreeMap::new();
    let mut i = 0;
    for d in DISTRICTS {
        for s in SEXES {
            for a in AGES {
                let key: Vec<&str> = dims.iter().map(|&x| match x {
                    "district" => d,
                    "sex" => s,
                    _ => a,
                }).collect();
                *cells.entry(key).or_default() += counts[i % counts.len()];
                i += 1;
            }
        }
    }
    let mut fields: Vec<Field> = dims.iter().map(|d| Field::new(*d, DataType::Utf8, false)).collect();
    fields.push(Field::new("n", DataType::Int64, false));
    let schema = Arc::new(Schema::new(fields));
    let mut arrays: Vec<ArrayRef> = (0..dims.len())
        .map(|k| Arc::new(StringArray::from(cells.keys().map(|key| key[k]).collect::<Vec<_>>())) as ArrayRef)
        .collect();
    arrays.push(Arc::new(Int64Array::from(cells.values().copied().collect::<Vec<_>>())));
    let batch = RecordBatch::try_new(schema.clone(), arrays).unwrap();
    let mut reader = RecordBatchIterator::new(vec![Ok(batch)].into_iter(), schema);
    amparo::build_cube(&policy(dims), &mut reader).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() })]

    /// district x sex and district x age share every district's total (and
    /// region totals): protected together, a shared cell has one status in
    /// both, and the joint attacker cannot narrow any sensitive cell.
    #[test]
    fn linked_tables_share_statuses_and_pass_the_joint_audit(
        counts in prop::collection::vec(prop_oneof![3 => 0i64..5, 2 => 5i64..30], 5..19),
        method in prop_oneof![Just("interval"), Just("modular")],
    ) {
        let cubes = vec![cube(&["district", "sex"], &counts), cube(&["district", "age"], &counts)];
        let out = amparo::protect_linked(&policy_with(&["district", "sex"], method), cubes.clone()).unwrap();
        prop_assert_eq!(out.len(), 2);
        for table in &out {
            prop_assert!(table.metadata.method.contains(if method == "modular" { "secondary:modular" } else { "secondary:optimal" }), "{}", table.metadata.method);
        }
        for table in &out {
            prop_assert!(table.audit.as_ref().unwrap().passed(), "{:?}", table.audit.as_ref().unwrap().describe_findings(&table.cube, 5));
        }
        // Shared cells: a district's total is (district=x, sex=Total) in one and (district=x, age=Total) in the other.
        let linked = LinkedTables::new(cubes).unwrap();
        let mut published = vec![None; linked.len()];
        for (t, table) in out.iter().enumerate() {
            for (cell, &g) in linked.linked[t].iter().enumerate() {
                if t == 1 && linked.linked[0].contains(&g) {
                    prop_assert_eq!(published[g], table.marks.published[cell], "shared cell ({})", linked.describe(g));
                }
                published[g] = table.marks.published[cell];
            }
        }
        // The joint attacker (both tables' constraints) keeps every hidden small cell within reach of 0 and 5.
        let intervals = attacker_intervals(&linked, &published).unwrap();
        for (g, iv) in intervals.iter().enumerate() {
            let v = linked.value(g);
            if let Some(iv) = iv {
                if v > 0 && v < 5 {
                    prop_assert!(iv.lower == 0 && iv.upper.is_none_or(|u| u >= 5), "({}) = {v} narrowed to {:?}", linked.describe(g), iv);
                }
            }
        }
    }
}

#[test]
fn linked_tables_that_disagree_on_a_shared_cell_are_refused() {
    let a = cube(&["district", "sex"], &[3, 8, 1]);
    let b = cube(&["district", "age"], &[3, 8, 2]);
    let e = LinkedTables::new(vec![a, b]).err().expect("the district totals differ");
    assert_eq!(e.kind, amparo::ErrorKind::Data);
    assert!(e.message.contains("disagree on the cell") && e.message.contains("table 1") && e.message.contains("table 2"), "{}", e.message);
}

#[test]
fn a_district_total_hidden_in_one_table_but_published_in_the_other_is_caught_and_fixed() {
    // Row 1a of district x sex: F = 2 (sensitive), M forced published, so
    // protecting that table alone hides the district total (1a, Total). The
    // district x age table has no small cell in 1a and publishes that total:
    // together they give (1a, F) = total - M.
    let counts = [1, 1, 0, 7, 8, 9, 6, 6, 6, 5, 5, 5, 2, 2, 2, 3, 3, 3, 9, 9, 9, 8, 8, 8];
    let forced = "force_published = [{ district = \"1a\", sex = \"M\" }, { district = \"1b\", sex = \"F\" }, { district = \"2\", sex = \"F\" }]\n";
    let with_forced = |dims: &[&str]| {
        let mut text = String::from("version = 1\n[input]\nkind = \"aggregated\"\ncount = \"n\"\n[dimensions.district]\ncode_lengths = [1, 2]\n");
        if dims.contains(&"sex") {
            text.push_str("[dimensions.sex]\ncodes = [\"F\", \"M\"]\n");
        }
        if dims.contains(&"age") {
            text.push_str("[dimensions.age]\ncodes = [\"0-4\", \"5-11\", \"12-17\"]\n");
        }
        text.push_str("[primary]\nthreshold = 3\n[secondary]\nmethod = \"interval\"\n");
        text.push_str(forced);
        Policy::from_toml(&text, Path::new(".")).unwrap()
    };
    let by_sex = cube(&["district", "sex"], &counts);
    let by_age = cube(&["district", "age"], &counts);
    let alone_sex = amparo::protect_linked(&with_forced(&["district", "sex"]), vec![by_sex.clone()]).unwrap().remove(0);
    let alone_age = amparo::protect_linked(&with_forced(&["district", "age"]), vec![by_age.clone()]).unwrap().remove(0);
    assert!(alone_sex.audit.as_ref().unwrap().passed() && alone_age.audit.as_ref().unwrap().passed());
    let total_1a = by_sex.find_cell(&[("district".to_owned(), "1a".to_owned())].into_iter().collect(), "test").unwrap();
    assert!(alone_sex.marks.published[total_1a].is_none(), "the sex table alone hides (1a, Total)");
    // Both published as protected alone: the joint attacker recovers (1a, F).
    let linked = LinkedTables::new(vec![by_sex.clone(), by_age.clone()]).unwrap();
    let mut published = vec![None; linked.len()];
    for (t, table) in [&alone_sex, &alone_age].into_iter().enumerate() {
        for (cell, &g) in linked.linked[t].iter().enumerate() {
            if table.marks.published[cell].is_some() {
                published[g] = table.marks.published[cell];
            }
        }
    }
    let f_1a = by_sex.find_cell(&[("district".to_owned(), "1a".to_owned()), ("sex".to_owned(), "F".to_owned())].into_iter().collect(), "test").unwrap();
    let iv = attacker_intervals(&linked, &published).unwrap()[linked.linked[0][f_1a]].unwrap();
    assert_eq!((iv.lower, iv.upper), (2, Some(2)), "differencing the two tables gives (1a, F) exactly");
    // Protected together, the total stays hidden in both and the joint audit passes.
    let together = amparo::protect_linked(&with_forced(&["district", "sex", "age"]), vec![by_sex, by_age]).unwrap();
    let total_1a_age = together[1].cube.find_cell(&[("district".to_owned(), "1a".to_owned())].into_iter().collect(), "test").unwrap();
    assert!(together[0].marks.published[total_1a].is_none() && together[1].marks.published[total_1a_age].is_none());
    assert!(together.iter().all(|t| t.audit.as_ref().unwrap().passed()));
}

/// Linked tables out of time: the message says how far it got and, since
/// `patterns` and `fast` protect one table only, does not suggest them.
#[test]
fn linked_tables_over_their_time_limit_are_not_told_to_use_one_table_methods() {
    for method in ["interval", "modular"] {
        let p = policy_with(&["district", "sex", "age"], &format!("{method}\"\ntime_limit = 1e-9\n#"));
        let counts = [1, 0, 0, 0, 1, 0, 9, 0, 0];
        let e = amparo::protect_linked(&p, vec![cube(&["district", "sex"], &counts), cube(&["district", "age"], &counts)]).unwrap_err();
        assert_eq!(e.kind, amparo::ErrorKind::Infeasible, "{method}: {}", e.message);
        assert!(e.message.contains("time_limit = ") && e.message.contains("raise time_limit"), "{method}: {}", e.message);
        assert!(!e.message.contains("patterns") && !e.message.contains("\"fast\""), "{method}: {}", e.message);
    }
}

/// The published cells of `linked` when the cells `hidden` picks (cycled) are hidden.
fn publish_except(linked: &LinkedTables, hidden: &[bool]) -> Vec<Option<i64>> {
    (0..linked.len()).map(|g| (!hidden[g % hidden.len()]).then(|| linked.value(g))).collect()
}

/// district x sex, district x age and sex x age: every margin is shared by two tables.
fn three_linked(counts: &[i64]) -> LinkedTables {
    LinkedTables::new(vec![cube(&["district", "sex"], counts), cube(&["district", "age"], counts), cube(&["sex", "age"], counts)]).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]

    /// A hypercube pattern inside one table of a linked set certifies a cell
    /// only when it moves no cell another table shares: every cell certified
    /// (around the true table, or around the average of the attacker's
    /// solutions as the audit of a published set does) reaches both ends
    /// under the joint attacker.
    #[test]
    fn certificates_on_linked_tables_are_sound(
        counts in prop::collection::vec(0i64..12, 5..19),
        hidden in prop::collection::vec(prop_oneof![2 => Just(true), 1 => Just(false)], 7..40),
        ends in prop::collection::vec((0i64..3, 1i64..6), 1..9),
        sweeps in 0u64..3,
    ) {
        let linked = three_linked(&counts);
        let published = publish_except(&linked, &hidden);
        let all = ends_around_values(&linked, &published, &ends);
        let mut attacker = amparo::audit::Attacker::new(&linked, &published).unwrap();
        let mut left = all.clone();
        amparo::suppression::hypercube::keep_uncertified(&linked, &published, &mut left);
        attacker.explore_rounds(&all, 0..sweeps).unwrap();
        let mut left_around = all.clone();
        amparo::suppression::hypercube::keep_uncertified_around(&linked, &published, &attacker.average_solution(&published), &mut left_around);
        for &(g, low, high) in all.iter().filter(|t| !left.contains(t) || !left_around.contains(t)) {
            let iv = attacker.interval(g).unwrap();
            prop_assert!(iv.lower <= low && iv.upper.is_none_or(|u| u >= high),
                "({}) certified to reach {low} and {high} but the joint attacker has [{}, {:?}]", linked.describe(g), iv.lower, iv.upper);
        }
    }
}

/// With every cell hidden, every cell of the set gets a certificate, the
/// margins the tables share included: the tables are slices of one cube
/// over all their dimensions, where a pattern moves a shared cell alike in
/// each table. The joint attacker confirms each one.
#[test]
fn shared_margins_of_linked_tables_get_certificates_across_the_tables() {
    let linked = three_linked(&[10, 7, 12]);
    let published = vec![None; linked.len()];
    let all: Vec<(usize, i64, i64)> = (0..linked.len()).map(|g| (g, linked.value(g) - 1, linked.value(g) + 1)).collect();
    let mut left = all.clone();
    amparo::suppression::hypercube::keep_uncertified(&linked, &published, &mut left);
    let shared = |g: usize| linked.linked.iter().filter(|ids| ids.contains(&g)).count() > 1;
    let certified: Vec<usize> = all.iter().filter(|t| !left.contains(t)).map(|t| t.0).collect();
    assert!(certified.iter().any(|&g| shared(g)) && certified.iter().any(|&g| !shared(g)), "{} of {} certified", certified.len(), all.len());
    let mut attacker = amparo::audit::Attacker::new(&linked, &published).unwrap();
    for g in certified {
        let iv = attacker.interval(g).unwrap();
        assert!(iv.lower < linked.value(g) && iv.upper.is_none_or(|u| u > linked.value(g)), "({}) {:?}", linked.describe(g), iv);
    }
}

/// When the tables give one dimension different codes (here district 2b,
/// all zeros, is missing from the second table) there is no one cube over
/// them: patterns stay inside each table, and only the cells no other
/// table shares get certificates.
#[test]
fn tables_with_different_codes_certify_only_the_cells_they_do_not_share() {
    let counts: Vec<i64> = (0..24).map(|i| if i >= 18 { 0 } else { 10 }).collect();
    let by_age = {
        let full = cube(&["district", "age"], &counts);
        // The same table without 2b: aggregated input rows without it.
        let mut rows = String::from("district,age,n\n");
        for d in &DISTRICTS[..3] {
            for a in AGES {
                rows.push_str(&format!("{d},{a},{}\n", full.value(full.find_cell(&[("district".to_owned(), (*d).to_owned()), ("age".to_owned(), a.to_owned())].into_iter().collect(), "test").unwrap())));
            }
        }
        let p = policy(&["district", "age"]);
        let mut reader = arrow_csv::ReaderBuilder::new(Arc::new(Schema::new(vec![Field::new("district", DataType::Utf8, false), Field::new("age", DataType::Utf8, false), Field::new("n", DataType::Int64, false)])))
            .with_header(true)
            .build(std::io::Cursor::new(rows))
            .unwrap();
        amparo::build_cube(&p, &mut reader).unwrap()
    };
    let linked = LinkedTables::new(vec![cube(&["district", "sex"], &counts), by_age]).unwrap();
    assert_ne!(linked.cubes[0].dims()[0].hierarchy, linked.cubes[1].dims()[0].hierarchy);
    let published = vec![None; linked.len()];
    let all: Vec<(usize, i64, i64)> = (0..linked.len()).filter(|&g| linked.value(g) > 0).map(|g| (g, linked.value(g) - 1, linked.value(g) + 1)).collect();
    let mut left = all.clone();
    amparo::suppression::hypercube::keep_uncertified(&linked, &published, &mut left);
    let shared = |g: usize| linked.linked.iter().filter(|ids| ids.contains(&g)).count() > 1;
    let certified: Vec<usize> = all.iter().filter(|t| !left.contains(t)).map(|t| t.0).collect();
    assert!(!certified.is_empty(), "inner cells have patterns");
    assert!(certified.iter().all(|&g| !shared(g)), "a shared cell was certified: {:?}", certified.iter().filter(|&&g| shared(g)).map(|&g| linked.describe(g)).collect::<Vec<_>>());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, failure_persistence: None, ..ProptestConfig::default() })]

    /// The region attackers' verdicts on a linked set (the district
    /// dimension split by region, shared cells included) are the joint
    /// attacker's: a cell shown safe reaches both ends, a cell shown
    /// exposed does not.
    #[test]
    fn region_verdicts_on_linked_tables_are_the_joint_attackers(
        counts in prop::collection::vec(0i64..12, 5..19),
        hidden in prop::collection::vec(prop_oneof![2 => Just(true), 1 => Just(false)], 7..40),
        ends in prop::collection::vec((0i64..3, 1i64..6), 1..9),
    ) {
        let linked = three_linked(&counts);
        let published = publish_except(&linked, &hidden);
        let targets = ends_around_values(&linked, &published, &ends);
        let (safe, exposed) = amparo::attacker::region::judge_splitting(&linked, &published, &targets, None, 0, 1.0).unwrap();
        let mut attacker = amparo::audit::Attacker::new(&linked, &published).unwrap();
        for (t, &(g, low, high)) in targets.iter().enumerate() {
            prop_assert!(!(safe[t] && exposed[t]));
            if safe[t] || exposed[t] {
                let reaches = attacker.reaches(g, low, high).unwrap();
                prop_assert_eq!(reaches, safe[t], "({}) = {} to reach {} and {}", linked.describe(g), linked.value(g), low, high);
            }
        }
    }
}
