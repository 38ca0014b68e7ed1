//! The typed plan refuses what the policy gets wrong before any data is
//! read: a refusal that used to come after a 10^7-row input was read (fast
//! or unkeyed rounding over linked tables) now comes from loading the
//! policy, and one that needs the input's columns comes from its schema,
//! with no row read.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use amparo::{ErrorKind, Policy, Protection};
use arrow_array::{ArrayRef, RecordBatch, RecordBatchReader, StringArray};
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef};

const ROWS: usize = 10_000_000;
const BATCH: usize = 1_000_000;

/// Ten million microdata rows, made as they are pulled; counts the batches pulled.
struct LazyRows {
    schema: SchemaRef,
    made: usize,
    pulled: Arc<AtomicUsize>,
}

impl LazyRows {
    fn new(pulled: Arc<AtomicUsize>) -> LazyRows {
        let schema = Arc::new(Schema::new(vec![
            Field::new("district", DataType::Utf8, false),
            Field::new("sex", DataType::Utf8, false),
            Field::new("rkey", DataType::Float64, false),
        ]));
        LazyRows { schema, made: 0, pulled }
    }
}

impl Iterator for LazyRows {
    type Item = Result<RecordBatch, ArrowError>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.made >= ROWS {
            return None;
        }
        self.pulled.fetch_add(1, Ordering::SeqCst);
        let rows = BATCH.min(ROWS - self.made);
        self.made += rows;
        let district: ArrayRef = Arc::new(StringArray::from_iter_values((0..rows).map(|i| ["D1", "D2", "D3"][i % 3])));
        let sex: ArrayRef = Arc::new(StringArray::from_iter_values((0..rows).map(|i| ["F", "M"][i % 2])));
        let key: ArrayRef = Arc::new(arrow_array::Float64Array::from_iter_values((0..rows).map(|i| (i % 1000) as f64 / 1000.0)));
        Some(RecordBatch::try_new(self.schema.clone(), vec![district, sex, key]))
    }
}

impl RecordBatchReader for LazyRows {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }
}

const MICRODATA: &str = "version = 1\n[input]\nkind = \"microdata\"\n[dimensions.district]\ncodes = [\"D1\", \"D2\", \"D3\"]\n[dimensions.sex]\ncodes = [\"F\", \"M\"]\n";
const LINKED: &str = "[tables.by_district]\ndimensions = [\"district\"]\n[tables.by_sex]\ndimensions = [\"sex\"]\n";

#[test]
fn refusals_the_policy_causes_come_at_load_time() {
    for (extra, fragment) in [
        (format!("[primary]\nthreshold = 5\n[secondary]\nmethod = \"fast\"\n{LINKED}"), "linked tables need method = \"interval\""),
        (format!("[rounding]\nmethod = \"random\"\nbase = 5\n{LINKED}"), "needs randomness = \"cell_key\""),
        (format!("[rounding]\nmethod = \"pls\"\n{LINKED}"), "could round differently in each"),
        (format!("[rounding]\nmethod = \"controlled\"\n{LINKED}"), "protect the tables one policy at a time"),
        (format!("[noise]\nmethod = \"discrete_gaussian\"\nrho = 1\n{LINKED}"), "one table per policy"),
        ("[perturbation]\nmethod = \"cell_key\"\n".to_owned(), "needs microdata with record keys"),
        ("[noise]\nmethod = \"discrete_laplace\"\nrho = 1\n".to_owned(), "not `rho`"),
    ] {
        let e = Policy::from_toml(&format!("{MICRODATA}{extra}"), Path::new(".")).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Policy, "{extra}: {}", e.message);
        assert!(e.message.contains(fragment), "{extra}: {}", e.message);
    }
}

#[test]
fn a_policy_that_does_not_fit_the_input_fails_before_any_row_is_read() {
    // A dimension whose column the input lacks.
    let extra = "[dimensions.age]\ncodes = [\"0-4\"]\n[primary]\nthreshold = 5\n[secondary]\nmethod = \"interval\"\n";
    let policy = Policy::from_toml(&format!("{MICRODATA}{extra}"), Path::new(".")).unwrap();
    let pulled = Arc::new(AtomicUsize::new(0));
    let e = amparo::protect(&policy, &mut LazyRows::new(pulled.clone())).unwrap_err();
    assert!(e.message.contains("`age`"), "{}", e.message);
    assert_eq!(pulled.load(Ordering::SeqCst), 0, "the input was read before the refusal: {}", e.message);
    let e = amparo::protect_tables(&policy, &mut LazyRows::new(pulled.clone())).unwrap_err();
    assert!(e.message.contains("`age`"), "{}", e.message);
    assert_eq!(pulled.load(Ordering::SeqCst), 0, "the input was read before the refusal: {}", e.message);
    // A record key column the input lacks.
    let keyed = format!("{}[input]\nkind = \"microdata\"\nrecord_key = \"key\"\n", MICRODATA.replace("[input]\nkind = \"microdata\"\n", ""));
    let policy = Policy::from_toml(&format!("{keyed}[perturbation]\nmethod = \"cell_key\"\n"), Path::new(".")).unwrap();
    assert!(matches!(policy.protection, Protection::CellKey(_)));
    let pulled = Arc::new(AtomicUsize::new(0));
    let e = amparo::protect(&policy, &mut LazyRows::new(pulled.clone())).unwrap_err();
    assert!(e.message.contains("`key`"), "{}", e.message);
    assert_eq!(pulled.load(Ordering::SeqCst), 0, "the input was read before the refusal: {}", e.message);
}
