//! The cell key method end to end: the same cell gets the same value in
//! every table and every run; noise stays within the ptable's bounds.

use std::path::Path;
use std::sync::Arc;

use amparo::Policy;
use amparo::Status;
use arrow_array::{ArrayRef, Float64Array, RecordBatch, RecordBatchIterator, RecordBatchReader, StringArray};
use arrow_schema::{DataType, Field, Schema};

const PERTURBATION: &str = "[perturbation]\nmethod = \"cell_key\"\nmax_deviation = 2\nvariance = 1\njs = 1\n";

fn policy(dims: &[&str], extra: &str) -> Result<Policy, amparo::Error> {
    let mut text = String::from("version = 1\n[input]\nkind = \"microdata\"\nrecord_key = \"rkey\"\n");
    for d in dims {
        text.push_str(&format!("[dimensions.{d}]\n"));
    }
    text.push_str(extra);
    Policy::from_toml(&text, Path::new("."))
}

/// 300 records over district x sex x age band, keys from a seeded splitmix.
fn records(key_of: impl Fn(usize) -> Option<f64>) -> Records {
    records_with(Arc::new((0..300).map(&key_of).collect::<Float64Array>()))
}

type Records = RecordBatchIterator<std::vec::IntoIter<Result<RecordBatch, arrow_schema::ArrowError>>>;

/// The 300 records with `keys` (of any type) as the column `rkey`.
fn records_with(keys: ArrayRef) -> Records {
    let n = 300;
    let district: Vec<String> = (0..n).map(|i| format!("D{}", (i * 7) % 5)).collect();
    let sex: Vec<&str> = (0..n).map(|i| if (i * 13) % 3 == 0 { "M" } else { "F" }).collect();
    let age: Vec<&str> = (0..n).map(|i| ["0-4", "5-11", "12-17"][(i * 11) % 3]).collect();
    let schema = Arc::new(Schema::new(vec![
        Field::new("district", DataType::Utf8, false),
        Field::new("sex", DataType::Utf8, false),
        Field::new("age", DataType::Utf8, false),
        Field::new("rkey", keys.data_type().clone(), true),
    ]));
    let columns: Vec<ArrayRef> =
        vec![Arc::new(StringArray::from(district)), Arc::new(StringArray::from(sex)), Arc::new(StringArray::from(age)), keys];
    RecordBatchIterator::new(vec![Ok(RecordBatch::try_new(schema.clone(), columns).unwrap())].into_iter(), schema)
}

fn key(i: usize) -> Option<f64> {
    let mut z = (i as u64).wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    Some(((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64)
}

/// Published value per cell named by its codes.
fn by_codes(out: &amparo::Protected) -> std::collections::HashMap<Vec<(String, String)>, i64> {
    (0..out.cube.len())
        .map(|c| {
            let mut codes: Vec<(String, String)> =
                out.cube.dims().iter().enumerate().map(|(d, dim)| (dim.name.clone(), dim.hierarchy.code(out.cube.coord(c, d)).to_owned())).collect();
            codes.retain(|(_, code)| code != "Total");
            (codes, out.marks.published[c].unwrap())
        })
        .collect()
}

#[test]
fn a_cell_has_the_same_value_in_every_table_and_every_run() {
    let by_sex = amparo::protect(&policy(&["district", "sex"], PERTURBATION).unwrap(), &mut records(key)).unwrap();
    let by_age = amparo::protect(&policy(&["district", "age"], PERTURBATION).unwrap(), &mut records(key)).unwrap();
    let (a, b) = (by_codes(&by_sex), by_codes(&by_age));
    // Shared cells: the districts and the grand total (codes of district only).
    let shared: Vec<_> = a.keys().filter(|k| b.contains_key(*k)).cloned().collect();
    assert_eq!(shared.len(), 6, "5 districts and the total");
    for k in &shared {
        assert_eq!(a[k], b[k], "{k:?}");
    }
    // Linked tables in one policy give the same values again.
    let linked = policy(&["district", "sex", "age"], &format!("{PERTURBATION}[tables.by_sex]\ndimensions = [\"district\", \"sex\"]\n[tables.by_age]\ndimensions = [\"district\", \"age\"]\n")).unwrap();
    let tables = amparo::protect_tables(&linked, &mut records(key)).unwrap();
    assert_eq!(by_codes(&tables[0].1), a);
    assert_eq!(by_codes(&tables[1].1), b);
    // And the same records give the same table in another run.
    let again = amparo::protect(&policy(&["district", "sex"], PERTURBATION).unwrap(), &mut records(key)).unwrap();
    assert_eq!(again.marks.published, by_sex.marks.published);
}

#[test]
fn noise_stays_within_the_ptable_and_some_cells_move() {
    let out = amparo::protect(&policy(&["district", "sex", "age"], PERTURBATION).unwrap(), &mut records(key)).unwrap();
    let mut moved = 0;
    for cell in 0..out.cube.len() {
        let (n, p) = (out.cube.value(cell), out.marks.published[cell].unwrap());
        assert_eq!(out.marks.status[cell], Status::Perturbed);
        assert!((p - n).abs() <= 2 && p >= 0 && p != 1, "({}) {n} published as {p}", out.cube.describe(cell));
        if n == 0 {
            assert_eq!(p, 0);
        }
        moved += usize::from(p != n);
    }
    assert!(moved > 0 && moved < out.cube.len(), "{moved} of {} cells moved", out.cube.len());
    assert!(out.metadata.pairs().iter().any(|(k, v)| k == "amparo.randomness" && v.contains("`rkey`")));
}

#[test]
fn bad_record_keys_and_policies_are_clear_errors() {
    let p = policy(&["district", "sex"], PERTURBATION).unwrap();
    let e = amparo::protect(&p, &mut records(|i| if i == 41 { Some(1.5) } else { key(i) })).unwrap_err();
    assert!(e.message.contains("row 42") && e.message.contains("`rkey`") && e.message.contains("[0, 1)"), "{}", e.message);
    let e = amparo::protect(&p, &mut records(|i| if i == 9 { None } else { key(i) })).unwrap_err();
    assert!(e.message.contains("row 10") && e.message.contains("empty"), "{}", e.message);
    for (extra, fragment) in [
        ("", "record_key is used by [perturbation]"),
        ("[perturbation]\nmethod = \"cell_key\"\nvariance = 9\n", "more than D^2"),
        ("[perturbation]\nmethod = \"cell_key\"\n[primary]\nthreshold = 5\n", "keep one way"),
        ("[perturbation]\nvariance = 1\n", "no method"),
    ] {
        let e = policy(&["district", "sex"], extra).unwrap_err();
        assert!(e.message.contains(fragment), "{extra}: {}", e.message);
    }
}

/// A ptable given as a file gives the same table as the same ptable built
/// from parameters; a file whose row does not sum to 1, or lacks a column or
/// a row, is refused naming the row or the column.
#[test]
fn a_ptable_file_is_read_and_checked() {
    let dir = tempfile::tempdir().unwrap();
    let built = amparo::cellkey::ptable::generate(amparo::cellkey::ptable::PtableParameters { max_deviation: 2, variance: 1.0, js: 1, p_stay: None }).unwrap();
    let mut csv = String::from("i,j,p,v\n");
    for row in &built.rows {
        for &(v, p) in &row.noise {
            csv.push_str(&format!("{},{},{p:.17},{v}\n", row.count, row.count + v));
        }
    }
    std::fs::write(dir.path().join("ptable.csv"), &csv).unwrap();
    let with_file = |file: &str| {
        let text = format!(
            "version = 1\n[input]\nkind = \"microdata\"\nrecord_key = \"rkey\"\n[dimensions.district]\n[dimensions.sex]\n[perturbation]\nmethod = \"cell_key\"\nptable_file = \"{file}\"\n"
        );
        Policy::from_toml(&text, dir.path())
    };
    let from_file = amparo::protect(&with_file("ptable.csv").unwrap(), &mut records(key)).unwrap();
    let from_parameters = amparo::protect(&policy(&["district", "sex"], PERTURBATION).unwrap(), &mut records(key)).unwrap();
    assert_eq!(from_file.marks.published, from_parameters.marks.published);
    let bad = [
        ("i,v,p\n0,0,1\n1,0,0.5\n1,1,0.4\n", "row i = 1 sum to 0.9"),
        ("i,v\n0,0\n", "no column `p`"),
        ("i,v,p\n0,0,1\n2,0,1\n", "row i = 2 where i = 1 was expected"),
        ("i,v,p\n0,0,1\n1,-2,1\n", "negative"),
    ];
    for (k, (text, fragment)) in bad.iter().enumerate() {
        let name = format!("bad{k}.csv");
        std::fs::write(dir.path().join(&name), text).unwrap();
        let e = with_file(&name).unwrap_err();
        assert!(e.message.contains(fragment) && e.message.contains(&name), "{}", e.message);
    }
    let e = with_file("missing.csv").unwrap_err();
    assert_eq!(e.kind, amparo::ErrorKind::Io);
}

/// Random rounding keyed on the cell key: the same cell rounds the same way
/// in two tables (and in linked tables), each cell to an adjacent multiple.
#[test]
fn keyed_rounding_rounds_a_cell_the_same_way_in_every_table() {
    let rounding = "[rounding]\nmethod = \"random\"\nbase = 5\nrandomness = \"cell_key\"\n";
    let by_sex = amparo::protect(&policy(&["district", "sex"], rounding).unwrap(), &mut records(key)).unwrap();
    let by_age = amparo::protect(&policy(&["district", "age"], rounding).unwrap(), &mut records(key)).unwrap();
    let (a, b) = (by_codes(&by_sex), by_codes(&by_age));
    let shared: Vec<_> = a.keys().filter(|k| b.contains_key(*k)).cloned().collect();
    assert_eq!(shared.len(), 6);
    for k in &shared {
        assert_eq!(a[k], b[k], "{k:?}");
    }
    for cell in 0..by_sex.cube.len() {
        let (n, r) = (by_sex.cube.value(cell), by_sex.marks.published[cell].unwrap());
        assert!(r % 5 == 0 && (r - n).abs() < 5);
    }
    assert!(by_sex.metadata.pairs().iter().any(|(k, v)| k == "amparo.randomness" && v.contains("`rkey`")));
    let linked = policy(&["district", "sex", "age"], &format!("{rounding}[tables.by_sex]\ndimensions = [\"district\", \"sex\"]\n[tables.by_age]\ndimensions = [\"district\", \"age\"]\n")).unwrap();
    let tables = amparo::protect_tables(&linked, &mut records(key)).unwrap();
    assert_eq!(by_codes(&tables[0].1), a);
    assert_eq!(by_codes(&tables[1].1), b);
    // The keyed draw goes up with probability r/b: exactly at the boundary in integers.
    assert_eq!(amparo::rounding::round_with_key(7, 5, 0), 10);
    assert_eq!(amparo::rounding::round_with_key(7, 5, u32::MAX), 5);
    assert_eq!(amparo::rounding::round_with_key(10, 5, 0), 10);
    let e = policy(&["district", "sex"], "[rounding]\nmethod = \"deterministic\"\nrandomness = \"cell_key\"\n").unwrap_err();
    assert!(e.message.contains("randomness = \"cell_key\" goes with"), "{}", e.message);
}

#[test]
fn integer_keys_modulo_2_to_the_k_give_the_cells_the_same_keys_as_fractions() {
    // A key j below 2^20 is the fraction j / 2^20: the sums modulo 2^20 and modulo 1 agree.
    let bits = 20u32;
    let whole = |i: usize| (key(i).unwrap() * (1u64 << bits) as f64).floor() as i64;
    let as_fraction = amparo::protect(&policy(&["district", "sex"], PERTURBATION).unwrap(), &mut records(|i| Some(whole(i) as f64 / (1u64 << bits) as f64))).unwrap();
    let integer_policy = |extra: &str| {
        let text = format!("version = 1\n[input]\nkind = \"microdata\"\nrecord_key = \"rkey\"\n{extra}[dimensions.district]\n[dimensions.sex]\n{PERTURBATION}");
        Policy::from_toml(&text, Path::new("."))
    };
    let with_bits = integer_policy(&format!("record_key_bits = {bits}\n")).unwrap();
    let integer_keys = || records_with(Arc::new((0..300).map(|i| Some(whole(i))).collect::<arrow_array::Int64Array>()));
    let as_integer = amparo::protect(&with_bits, &mut integer_keys()).unwrap();
    let fraction_cube = amparo::build_cube(&policy(&["district", "sex"], PERTURBATION).unwrap(), &mut records(|i| Some(whole(i) as f64 / (1u64 << bits) as f64))).unwrap();
    let integer_cube = amparo::build_cube(&with_bits, &mut integer_keys()).unwrap();
    assert!(integer_cube.cell_keys().is_some());
    assert_eq!(integer_cube.cell_keys(), fraction_cube.cell_keys());
    assert_eq!(as_integer.marks.published, as_fraction.marks.published);
    // The same keys as text (a CSV column) and as unsigned integers.
    let text: StringArray = (0..300).map(|i| Some(whole(i).to_string())).collect();
    assert_eq!(amparo::protect(&with_bits, &mut records_with(Arc::new(text))).unwrap().marks.published, as_fraction.marks.published);
    let unsigned: arrow_array::UInt32Array = (0..300).map(|i| Some(whole(i) as u32)).collect();
    assert_eq!(amparo::protect(&with_bits, &mut records_with(Arc::new(unsigned))).unwrap().marks.published, as_fraction.marks.published);

    // A key at 2^k, a fraction, a float column, and impossible k are named errors.
    let mut too_big: Vec<Option<i64>> = (0..300).map(|i| Some(whole(i))).collect();
    too_big[41] = Some(1 << bits);
    let e = amparo::protect(&with_bits, &mut records_with(Arc::new(arrow_array::Int64Array::from(too_big)))).unwrap_err();
    assert!(e.message.contains("row 42") && e.message.contains("1048576") && e.message.contains("rkey"), "{e}");
    let mut fractional: Vec<Option<String>> = (0..300).map(|i| Some(whole(i).to_string())).collect();
    fractional[9] = Some("12.5".into());
    let e = amparo::protect(&with_bits, &mut records_with(Arc::new(StringArray::from(fractional)))).unwrap_err();
    assert!(e.message.contains("row 10") && e.message.contains("not a whole number"), "{e}");
    let e = amparo::protect(&with_bits, &mut records(key)).unwrap_err();
    assert_eq!(e.kind, amparo::ErrorKind::Schema, "{e}");
    assert!(e.message.contains("record_key_bits = 20"), "{e}");
    let e = amparo::protect(&policy(&["district"], PERTURBATION).unwrap(), &mut records_with(Arc::new((0..300).map(|i| Some(whole(i))).collect::<arrow_array::Int64Array>()))).unwrap_err();
    assert!(e.message.contains("record_key_bits = k"), "{e}");
    for bad in ["record_key_bits = 0\n", "record_key_bits = 33\n"] {
        let e = integer_policy(bad).unwrap_err();
        assert!(e.message.contains("from 1 to 32"), "{e}");
    }
}

#[test]
fn generated_record_keys_are_uniform_new_and_survive_a_csv_round_trip() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path();
    let plain = dir.join("records.csv");
    let mut input = records(key);
    let schema = Arc::new(Schema::new(input.schema().fields()[..3].to_vec()));
    let batch = input.next().unwrap().unwrap();
    let batch = RecordBatch::try_new(schema, batch.columns()[..3].to_vec()).unwrap();
    amparo::io::write_table(&batch, &plain, None).unwrap();
    let before = std::fs::read(&plain).unwrap();

    let keyed_csv = dir.join("keyed.csv");
    let keyed_parquet = dir.join("keyed.parquet");
    let randomness = amparo::cellkey::add_record_keys_to_file(&plain, &keyed_csv, "rkey", Some(11), false).unwrap();
    assert_eq!(randomness, amparo::Randomness::Seeded(11));
    amparo::cellkey::add_record_keys_to_file(&plain, &keyed_parquet, "rkey", Some(11), false).unwrap();
    assert_eq!(std::fs::read(&plain).unwrap(), before, "the input is untouched");

    // Keys in [0, 1), spread evenly: each tenth holds 30 of 300 within 4 standard errors.
    let keys: Vec<f64> = amparo::io::read_table(&keyed_parquet)
        .unwrap()
        .flat_map(|b| b.unwrap().column(3).as_any().downcast_ref::<Float64Array>().unwrap().values().to_vec())
        .collect();
    assert_eq!(keys.len(), 300);
    assert!(keys.iter().all(|k| (0.0..1.0).contains(k)));
    for tenth in 0..10 {
        let n = keys.iter().filter(|k| (**k * 10.0) as usize == tenth).count() as f64;
        assert!((n - 30.0).abs() < 4.0 * (300.0f64 * 0.1 * 0.9).sqrt(), "tenth {tenth}: {n}");
    }
    // The CSV text of the keys gives exactly the cell keys of the Parquet floats.
    let p = policy(&["district", "sex"], PERTURBATION).unwrap();
    let from_csv = amparo::build_cube(&p, &mut *amparo::io::read_table(&keyed_csv).unwrap()).unwrap();
    let from_parquet = amparo::build_cube(&p, &mut *amparo::io::read_table(&keyed_parquet).unwrap()).unwrap();
    assert!(from_csv.cell_keys().is_some());
    assert_eq!(from_csv.cell_keys(), from_parquet.cell_keys());
    // The keys would take the noise off: a protected result does not carry them.
    assert_eq!(amparo::protect(&p, &mut *amparo::io::read_table(&keyed_csv).unwrap()).unwrap().cube.cell_keys(), None);

    // Keys are generated once: no second column of keys, no replaced key file.
    let e = amparo::cellkey::add_record_keys_to_file(&keyed_csv, &dir.join("again.csv"), "rkey", None, false).unwrap_err();
    assert!(e.message.contains("already has a column `rkey`"), "{e}");
    let e = amparo::cellkey::add_record_keys_to_file(&plain, &keyed_csv, "rkey", None, false).unwrap_err();
    assert!(e.message.contains("already exists"), "{e}");
    let e = amparo::cellkey::add_record_keys_to_file(&plain, &plain, "rkey", None, false).unwrap_err();
    assert!(e.message.contains("never overwrites what it reads"), "{e}");
    // Without a seed, two generations differ (the secure source).
    let (mut a, secure) = amparo::cellkey::add_record_keys(amparo::io::read_table(&plain).unwrap(), "k", None).unwrap();
    let (mut b, _) = amparo::cellkey::add_record_keys(amparo::io::read_table(&plain).unwrap(), "k", None).unwrap();
    assert_eq!(secure, amparo::Randomness::Secure);
    assert_ne!(a.next().unwrap().unwrap().column(3), b.next().unwrap().unwrap().column(3));
}
