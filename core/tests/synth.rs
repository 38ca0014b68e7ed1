//! The synthetic microdata generator: DATA.md's acceptance check at 10^6
//! records, its marginal shapes, reproducibility by seed, and streaming.

use std::collections::HashMap;

use amparo::arrow::array::cast::AsArray;
use amparo::arrow::array::{Array, RecordBatchReader};
use amparo::synth::{Mode, SynthOptions, SynthReader, BATCH_ROWS};

fn band(age: &str) -> u8 {
    match age.parse::<u32>().unwrap() {
        0..=4 => 0,
        5..=11 => 1,
        _ => 2,
    }
}

#[test]
fn at_a_million_records_the_admin2_table_is_mostly_zeros_and_small_cells() {
    let reader = SynthReader::new(SynthOptions { records: 1_000_000, mode: Mode::Flow, seed: 7, ..SynthOptions::default() }).unwrap();
    let schema = reader.schema();
    let column = |name: &str| schema.index_of(name).unwrap();
    let (admin2, nationality, age, sex) = (column("admin2"), column("nationality"), column("age"), column("sex"));
    let mut cells: HashMap<(String, String, u8, String), u64> = HashMap::new();
    let (mut rows, mut unaccompanied, mut countries) = (0u64, 0u64, HashMap::<String, u64>::new());
    let mut bands = [0u64; 3];
    for batch in reader {
        let batch = batch.unwrap();
        assert!(batch.num_rows() <= BATCH_ROWS);
        let text = |i: usize| batch.column(i).as_string::<i32>().clone();
        let (a2, nat, ag, sx) = (text(admin2), text(nationality), text(age), text(sex));
        let acc = text(schema.index_of("accompaniment").unwrap());
        let country = text(schema.index_of("country").unwrap());
        for r in 0..batch.num_rows() {
            let b = band(ag.value(r));
            bands[b as usize] += 1;
            *cells.entry((a2.value(r).to_owned(), nat.value(r).to_owned(), b, sx.value(r).to_owned())).or_default() += 1;
            unaccompanied += (acc.value(r) == "unaccompanied") as u64;
            *countries.entry(country.value(r).to_owned()).or_default() += 1;
        }
        rows += batch.num_rows() as u64;
    }
    assert_eq!(rows, 1_000_000);
    // Every admin-2 unit x 60 nationalities x 3 age bands x 3 sexes.
    let all_cells = (2475 + 1122 + 346 + 82 + 298 + 44) * 60 * 3 * 3;
    let zeros = 1.0 - cells.len() as f64 / all_cells as f64;
    let small = cells.values().filter(|&&n| n <= 10).count() as f64 / cells.len() as f64;
    assert!(zeros >= 0.70, "zero cells: {zeros:.3}");
    assert!(small >= 0.40, "non-zero cells at most 10: {small:.3}");
    // The marginal shapes of DATA.md (events, so shares of records).
    let share = |n: u64| n as f64 / rows as f64;
    assert!((share(countries["MEX"]) - 0.30).abs() < 0.02 && (share(countries["SLV"]) - 0.05).abs() < 0.01, "{countries:?}");
    assert!((share(unaccompanied) - 0.03).abs() < 0.01, "unaccompanied {}", share(unaccompanied));
    assert!(share(bands[0]) > share(bands[2]), "flow: more 0-4 than 12-17: {bands:?}");
    eprintln!("zeros {zeros:.3}, small {small:.3}, non-zero cells {}", cells.len());
}

#[test]
fn the_seed_fixes_the_records_and_stock_mode_has_no_points_of_entry() {
    let batches = |seed: u64, mode: Mode| {
        SynthReader::new(SynthOptions { records: 70_000, mode, seed, countries: vec!["COL".into()], years: 2, ..SynthOptions::default() })
            .unwrap()
            .map(|b| b.unwrap())
            .collect::<Vec<_>>()
    };
    let a = batches(3, Mode::Stock);
    assert_eq!(a, batches(3, Mode::Stock));
    assert_ne!(a, batches(4, Mode::Stock));
    assert_eq!(a.iter().map(|b| b.num_rows()).collect::<Vec<_>>(), [BATCH_ROWS, 70_000 - BATCH_ROWS]);
    let schema = a[0].schema();
    assert!(schema.index_of("point_of_entry").is_err());
    let country = a[0].column(schema.index_of("country").unwrap()).as_string::<i32>();
    assert!(country.iter().all(|c| c == Some("COL")));
    // Codes nest by prefix: COL > COL05 > COL05012.
    let (a1, a2) = (a[0].column(schema.index_of("admin1").unwrap()).as_string::<i32>(), a[0].column(schema.index_of("admin2").unwrap()).as_string::<i32>());
    assert!((0..a1.len()).all(|r| a1.value(r).len() == 5 && a2.value(r).len() == 8 && a2.value(r).starts_with(a1.value(r))));
    let years = a[0].column(schema.index_of("year").unwrap()).as_string::<i32>();
    assert!(years.iter().all(|y| matches!(y, Some("2024") | Some("2025"))));
    // Flow mode: points of entry, and children counted more than once.
    let flow = batches(3, Mode::Flow);
    let children = flow[0].column(flow[0].schema().index_of("child_id").unwrap()).as_primitive::<amparo::arrow::array::types::UInt64Type>();
    let distinct: std::collections::HashSet<u64> = children.values().iter().copied().collect();
    assert!(distinct.len() < children.len(), "events repeat children");
    assert!(SynthReader::new(SynthOptions { countries: vec!["BRA".into()], ..SynthOptions::default() }).is_err());
}
