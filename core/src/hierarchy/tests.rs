use indexmap::IndexMap;

use super::*;
use crate::error::ErrorKind;

fn origin(row: u64) -> CodeOrigin<'static> {
    CodeOrigin { column: "geo", row }
}

fn tree(pairs: &[(&str, &[&str])]) -> HierarchySpec {
    let mut edges = IndexMap::new();
    for (p, kids) in pairs {
        edges.insert(p.to_string(), kids.iter().map(|k| k.to_string()).collect());
    }
    HierarchySpec::Tree { edges }
}

fn check_tree_invariants(h: &Hierarchy) {
    assert_eq!(h.parent(h.root()), None);
    for n in 1..h.len() as u32 {
        let p = h.parent(n).expect("non-root has a parent");
        assert!(p < n, "preorder puts {} before its child {}", h.code(p), h.code(n));
        assert!(h.children(p).contains(&n));
        assert_eq!(h.depth(n), h.depth(p) + 1);
        assert_eq!(h.node(h.code(n)), Some(n));
    }
}

#[test]
fn age_bands_nest_in_0_17_in_publication_order() {
    let spec = tree(&[("0-17", &["0-4", "5-11", "12-17"])]);
    let h = Hierarchy::build("age", &spec, &[("5-11", origin(1))]).unwrap();
    assert_eq!(h.codes(), &["0-17", "0-4", "5-11", "12-17"]);
    assert_eq!(h.leaves().count(), 3);
    check_tree_invariants(&h);
}

#[test]
fn three_level_tree_municipality_department_country() {
    let spec = tree(&[("COL", &["05", "08"]), ("05", &["05001", "05002"]), ("08", &["08001"])]);
    let h = Hierarchy::build("geo", &spec, &[]).unwrap();
    assert_eq!(h.codes(), &["COL", "05", "05001", "05002", "08", "08001"]);
    assert_eq!(h.depth(h.node("05002").unwrap()), 2);
    check_tree_invariants(&h);
}

#[test]
fn code_lengths_build_divipola_nesting_with_missing_parents_generated() {
    let spec = HierarchySpec::CodeLengths { total: "COL".into(), lengths: vec![2, 5] };
    let observed = [("08001", origin(1)), ("05002", origin(2)), ("05001", origin(3))];
    let h = Hierarchy::build("geo", &spec, &observed).unwrap();
    assert_eq!(h.codes(), &["COL", "05", "05001", "05002", "08", "08001"]);
    assert!(h.is_leaf(h.node("05001").unwrap()));
    assert!(!h.is_leaf(h.node("05").unwrap()));
    check_tree_invariants(&h);
}

#[test]
fn code_lengths_three_levels_like_inegi() {
    let spec = HierarchySpec::CodeLengths { total: "MEX".into(), lengths: vec![2, 5, 9] };
    let observed = [("090150001", origin(1)), ("09015", origin(2))];
    let h = Hierarchy::build("geo", &spec, &observed).unwrap();
    assert_eq!(h.codes(), &["MEX", "09", "09015", "090150001"]);
    check_tree_invariants(&h);
}

#[test]
fn flat_from_data_is_sorted_under_a_generated_total() {
    let spec = HierarchySpec::FlatFromData { total: "Total".into() };
    let observed = [("VEN", origin(1)), ("HTI", origin(2)), ("Total", origin(3))];
    let h = Hierarchy::build("nat", &spec, &observed).unwrap();
    assert_eq!(h.codes(), &["Total", "HTI", "VEN"]);
}

#[test]
fn codes_table_with_several_roots_hangs_them_from_the_total() {
    let spec = HierarchySpec::Table {
        total: Some("World".into()),
        pairs: vec![("AMS".into(), None), ("VEN".into(), Some("AMS".into())), ("ASI".into(), None), ("CHN".into(), Some("ASI".into()))],
        source: "n.csv".into(),
    };
    let h = Hierarchy::build("nat", &spec, &[]).unwrap();
    assert_eq!(h.codes(), &["World", "AMS", "VEN", "ASI", "CHN"]);
    check_tree_invariants(&h);
}

#[test]
fn code_outside_a_listed_hierarchy_is_named_with_its_row() {
    let spec = HierarchySpec::FlatListed { total: "Total".into(), codes: vec!["F".into(), "M".into()] };
    let e = Hierarchy::build("sex", &spec, &[("F", origin(1)), ("X", origin(7))]).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Hierarchy);
    assert!(e.message.contains("`X`") && e.message.contains("row 7"), "{}", e.message);
}

#[test]
fn cycle_two_parents_self_parent_and_two_roots_are_refused() {
    let cases = [
        (tree(&[("A", &["B"]), ("B", &["A"])]), "cycle"),
        (tree(&[("T", &["A", "B"]), ("A", &["X"]), ("B", &["X"])]), "two parents"),
        (tree(&[("T", &["T"])]), "its own parent"),
        (tree(&[("T", &["A"]), ("U", &["B"])]), "2 top-level codes"),
        (tree(&[("T", &["A", "A"])]), "listed twice"),
    ];
    for (spec, needle) in cases {
        let e = Hierarchy::build("d", &spec, &[]).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Hierarchy);
        assert!(e.message.contains(needle), "{needle}: {}", e.message);
    }
}

#[test]
fn a_listed_code_named_like_the_total_is_refused() {
    let spec = HierarchySpec::FlatListed { total: "Total".into(), codes: vec!["Total".into(), "M".into()] };
    let e = Hierarchy::build("sex", &spec, &[]).unwrap_err();
    assert!(e.message.contains("generated total"), "{}", e.message);
}

#[test]
fn codes_table_with_one_root_row_uses_it_as_the_total() {
    let pairs: Vec<(String, Option<String>)> = vec![
        ("COL".into(), None),
        ("05".into(), Some("COL".into())),
        ("05001".into(), Some("05".into())),
    ];
    let spec = HierarchySpec::Table { total: None, pairs: pairs.clone(), source: "geo.csv".into() };
    let h = Hierarchy::build("geo", &spec, &[]).unwrap();
    assert_eq!(h.codes(), &["COL", "05", "05001"]);
    // Naming another total puts it above the table's root.
    let spec = HierarchySpec::Table { total: Some("LAC".into()), pairs, source: "geo.csv".into() };
    let h = Hierarchy::build("geo", &spec, &[]).unwrap();
    assert_eq!(h.codes(), &["LAC", "COL", "05", "05001"]);
}
