//! The audit of a published table finds exactly the hidden cells a full
//! LP attacker (two LPs per hidden cell) narrows below the outsider's
//! promise (an interval that admits a small count must reach 0 and the
//! threshold, the default protection), although it settles most cells from
//! shared sweeps.

mod common;

use std::path::Path;

use amparo::Policy;
use arrow_array::{RecordBatch, RecordBatchIterator, StringArray};
use arrow_schema::{DataType, Field, Schema};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    #[test]
    fn sweeps_settle_cells_without_changing_the_verdict(
        dims in 2usize..=3,
        counts in prop::collection::vec(prop_oneof![1 => 0i64..5, 2 => 0i64..40], 1..30),
        hide in prop::collection::vec(0u8..100, 1..50),
        share in 10u8..70,
    ) {
        let policy = Policy::from_toml(&format!("{}[primary]\nthreshold = 5\n", common::policy_head(dims)), Path::new(".")).unwrap();
        let cube = amparo::build_cube(&policy, &mut common::table(dims, &counts)).unwrap();
        // Publish the cube's values with a pseudo-random share of cells hidden.
        let published: Vec<Option<i64>> = (0..cube.len()).map(|c| (hide[c % hide.len()].wrapping_add((c * 37 % 100) as u8) % 100 >= share).then(|| cube.value(c))).collect();
        let mut columns: Vec<Vec<String>> = vec![Vec::new(); dims + 1];
        for c in 0..cube.len() {
            for (d, dim) in cube.dims().iter().enumerate() {
                columns[d].push(dim.hierarchy.code(cube.coord(c, d)).to_owned());
            }
            columns[dims].push(published[c].map(|v| v.to_string()).unwrap_or_default());
        }
        let mut fields: Vec<Field> = (0..dims).map(|d| Field::new(format!("d{d}"), DataType::Utf8, false)).collect();
        fields.push(Field::new("published", DataType::Utf8, false));
        let schema = std::sync::Arc::new(Schema::new(fields));
        let arrays = columns.into_iter().map(|c| std::sync::Arc::new(StringArray::from(c)) as arrow_array::ArrayRef).collect();
        let batch = RecordBatch::try_new(schema.clone(), arrays).unwrap();
        let (_, report) = amparo::audit_published(&policy, &mut RecordBatchIterator::new(vec![Ok(batch)], schema), None, None).unwrap();
        let mut found: Vec<usize> = report.findings.iter().filter(|f| f.check == amparo::audit::published::Check::Protection).map(|f| f.cell).collect();
        found.sort();
        // The full attacker: every hidden cell's interval.
        let intervals = amparo::audit::attacker_intervals(&cube, &published).unwrap();
        let expected: Vec<usize> = (0..cube.len())
            .filter(|&c| {
                intervals[c].as_ref().is_some_and(|iv| {
                    let admits_small = iv.lower <= 4 && iv.upper.is_none_or(|u| u >= 1);
                    let reaches_0_and_5 = iv.lower == 0 && iv.upper.is_none_or(|u| u >= 5);
                    admits_small && !reaches_0_and_5
                })
            })
            .collect();
        if std::env::var_os("AMPARO_DEBUG").is_some() { eprintln!("{} hidden, {} found", published.iter().filter(|v| v.is_none()).count(), expected.len()); }
        prop_assert_eq!(found, expected);
    }
}
