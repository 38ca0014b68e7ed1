//! The R package's native code: packaging only.
//!
//! Each function converts its inputs (a data.frame's columns become one Arrow
//! record batch; files are read by the core), calls one core function and
//! converts the result to a list of R vectors. Errors are returned as
//! `list(error = c(kind, message))` and raised as classed R conditions by
//! `amparo_result()` in R/amparo.R, the one place where that happens.

use std::path::Path;
use std::sync::Arc;

use amparo::{Fallible, OutputOptions, Policy};
use amparo::arrow::array::builder::{BooleanBuilder, Float64Builder, Int32Builder, StringBuilder};
use amparo::arrow::array::cast::AsArray;
use amparo::arrow::array::types::{Float64Type, Int32Type, Int64Type};
use amparo::arrow::array::{Array, ArrayRef, DictionaryArray, Int32Array, RecordBatch, RecordBatchReader, StringArray};
use amparo::arrow::schema::{DataType, Field, Schema};
use extendr_api::prelude::*;

fn error_list(e: amparo::Error) -> List {
    list!(error = Strings::from_values([e.kind.name(), e.message.as_str()]))
}

fn schema_error(message: String) -> amparo::Error {
    amparo::Error::new(amparo::ErrorKind::Schema, message)
}

/// A data.frame (a named list of equal-length vectors) as one record batch.
fn data_frame_to_batch(df: &List) -> Fallible<RecordBatch> {
    let names: Vec<String> = df.names().map(|n| n.map(str::to_owned).collect()).unwrap_or_default();
    if names.len() != df.len() {
        return Err(schema_error("the data.frame's columns have no names; name every column".into()));
    }
    let mut fields = Vec::with_capacity(df.len());
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(df.len());
    for (name, col) in names.iter().zip(df.values()) {
        let array: ArrayRef = if col.is_factor() {
            let levels: Vec<&str> = col.levels().map(|l| l.collect()).unwrap_or_default();
            let codes = col.as_integer_slice().unwrap_or(&[]);
            let keys: Int32Array = codes.iter().map(|&k| (k != i32::MIN).then_some(k - 1)).collect();
            let values = Arc::new(StringArray::from(levels));
            Arc::new(DictionaryArray::<Int32Type>::try_new(keys, values).map_err(|e| schema_error(format!("factor column `{name}`: {e}")))?)
        } else if let Ok(strings) = Strings::try_from(col.clone()) {
            let mut b = StringBuilder::with_capacity(strings.len(), strings.len() * 8);
            strings.iter().for_each(|s| if s.is_na() { b.append_null() } else { b.append_value(s.as_ref()) });
            Arc::new(b.finish())
        } else if let Some(ints) = col.as_integer_slice() {
            let mut b = Int32Builder::with_capacity(ints.len());
            ints.iter().for_each(|&v| b.append_option((v != i32::MIN).then_some(v)));
            Arc::new(b.finish())
        } else if let Some(reals) = col.as_real_slice() {
            let mut b = Float64Builder::with_capacity(reals.len());
            reals.iter().for_each(|&v| b.append_option((!v.is_nan()).then_some(v)));
            Arc::new(b.finish())
        } else if let Some(logicals) = col.as_logical_slice() {
            let mut b = BooleanBuilder::with_capacity(logicals.len());
            logicals.iter().for_each(|v| b.append_option(if v.is_na() { None } else { Some(v.is_true()) }));
            Arc::new(b.finish())
        } else {
            return Err(schema_error(format!(
                "column `{name}` has R type {:?}, which Amparo cannot read; convert it to character, factor, integer or numeric",
                col.rtype()
            )));
        };
        fields.push(Field::new(name, array.data_type().clone(), true));
        columns.push(array);
    }
    let schema = Arc::new(Schema::new(fields));
    RecordBatch::try_new(schema, columns).map_err(|e| schema_error(format!("the data.frame cannot be read: {e}")))
}

/// A record batch as a named list of R vectors (the R side makes it a data.frame).
fn strings_of<'a>(values: impl Iterator<Item = Option<&'a str>>, n: usize) -> Strings {
    let mut out = Strings::new(n);
    for (i, v) in values.enumerate() {
        out.set_elt(i, v.map(Rstr::from).unwrap_or_else(Rstr::na));
    }
    out
}

fn batch_to_list(batch: &RecordBatch) -> List {
    let schema = batch.schema();
    let columns = batch.columns().iter().map(|col| -> Robj {
        // Other integer types as R's integers or doubles, as Int64 is.
        let unsigned = matches!(col.data_type(), DataType::UInt64 | DataType::UInt32 | DataType::UInt16 | DataType::UInt8 | DataType::Int16 | DataType::Int8);
        let col = match amparo::arrow::cast::cast(col, &DataType::Int64) {
            Ok(wide) if unsigned => wide,
            _ => col.clone(),
        };
        match col.data_type() {
            DataType::Utf8 => strings_of(col.as_string::<i32>().iter(), col.len()).into(),
            DataType::Int64 => {
                let a = col.as_primitive::<Int64Type>();
                let fits = a.iter().flatten().all(|v| i32::try_from(v).is_ok() && v != i32::MIN as i64);
                if fits {
                    a.iter().map(|v| Rint::from(v.map(|x| x as i32))).collect::<Integers>().into()
                } else {
                    a.iter().map(|v| Rfloat::from(v.map(|x| x as f64))).collect::<Doubles>().into()
                }
            }
            DataType::Int32 => col.as_primitive::<Int32Type>().iter().map(Rint::from).collect::<Integers>().into(),
            DataType::Float64 => col.as_primitive::<Float64Type>().iter().map(Rfloat::from).collect::<Doubles>().into(),
            DataType::Boolean => col.as_boolean().iter().map(Rbool::from).collect::<Logicals>().into(),
            _ => match amparo::arrow::cast::cast(&col, &DataType::Utf8) {
                Ok(text) => strings_of(text.as_string::<i32>().iter(), col.len()).into(),
                Err(_) => Strings::new_with_na(col.len()).into(),
            },
        }
    });
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    List::from_names_and_values(names, columns).expect("one name per column")
}

fn metadata_strings(batch: &RecordBatch) -> Robj {
    let mut pairs: Vec<(String, String)> = batch.schema().metadata().clone().into_iter().collect();
    pairs.sort();
    let mut values: Robj = pairs.iter().map(|(_, v)| v.as_str()).collect::<Strings>().into();
    let names: Vec<&str> = pairs.iter().map(|(k, _)| k.as_str()).collect();
    values.set_names(names).expect("one name per value");
    values
}

fn input_reader(data: &Robj) -> Fallible<Box<dyn RecordBatchReader + Send>> {
    if let Some(path) = data.as_str() {
        return amparo::io::read_table(Path::new(path));
    }
    let df = List::try_from(data.clone()).map_err(|_| schema_error("input must be a data.frame or the path to a CSV, Parquet or Arrow file".into()))?;
    let batch = data_frame_to_batch(&df)?;
    Ok(amparo::io::batches_reader(batch.schema(), vec![batch]))
}

/// The validated policy an R `amparo_policy` carries in its `pointer`. R
/// cannot save an external pointer (a policy read back with `readRDS()`
/// has a null one): such a policy is validated again from its TOML text and
/// the folder its relative paths start from.
fn load_policy(policy: &Robj) -> Fallible<Policy> {
    if let Some(pointer) = policy.dollar("pointer").ok().and_then(|p| ExternalPtr::<Policy>::try_from(p).ok()) {
        if let Ok(validated) = pointer.try_addr() {
            return Ok(validated.clone());
        }
    }
    let text = |name: &str| policy.dollar(name).ok().and_then(|v| v.as_str().map(str::to_owned));
    match (text("toml"), text("base_dir")) {
        (Some(toml), Some(base_dir)) => Policy::from_toml(&toml, Path::new(&base_dir)),
        _ => amparo::fail!(Policy, "policy must be an amparo_policy(): this one has lost its TOML text; read the policy again with amparo_policy()"),
    }
}

/// Run `work`; with `progress`, the core's progress reports are drawn as a
/// one-line bar on R's console (stderr).
fn with_progress<T>(progress: bool, work: impl FnOnce() -> Fallible<T>) -> Fallible<T> {
    if !progress {
        return work();
    }
    let mut drawn = false;
    let mut last_stage = String::new();
    let sink = move |stage: &str, done: u64, total: Option<u64>| {
        if drawn && stage != last_stage {
            reprint!("\n");
        }
        reprint!("\r{}", amparo::progress::line(stage, done, total));
        drawn = true;
        last_stage = stage.to_owned();
    };
    let out = amparo::progress::with_sink(Box::new(sink), work);
    reprint!("\n");
    out
}

fn protect_inner(data: &Robj, policy: &Policy, keep_original: bool, progress: bool) -> Fallible<List> {
    let mut reader = input_reader(data)?;
    let result = with_progress(progress, || amparo::protect(policy, &mut *reader))?;
    let batch = result.to_record_batch(OutputOptions { keep_original });
    let summary = result.summary().to_string();
    let audit_failed = result.audit.as_ref().is_some_and(|a| !a.passed());
    Ok(list!(
        table = batch_to_list(&batch),
        summary = summary,
        metadata = metadata_strings(&batch),
        audit_failed = audit_failed,
        status_levels = status_levels()
    ))
}

/// The levels of the status factor: every status the core writes.
fn status_levels() -> Strings {
    Strings::from_values(amparo::Status::ALL.iter().map(|s| s.as_str()))
}

/// An R value (named lists, vectors, factors) as JSON for the core's
/// policies: a named list is an object, an unnamed list or a vector longer
/// than one an array, a vector of length one (unless wrapped in `I()`) a
/// scalar; whole doubles are integers (R users write `5`, not `5L`).
fn r_to_json(x: &Robj, key: &str) -> Fallible<String> {
    let value = r_to_value(x, key)?;
    serde_json::to_string(&value).map_err(|e| amparo::Error::new(amparo::ErrorKind::Policy, format!("`{key}` cannot be written as JSON: {e}")))
}

/// An R value as a policy value; named lists keep their order (a TOML
/// table is ordered, a JSON object here is not).
fn r_to_value(x: &Robj, key: &str) -> Fallible<toml::Value> {
    use toml::Value;
    let policy_error = |m: String| amparo::Error::new(amparo::ErrorKind::Policy, m);
    if x.is_null() {
        return Err(policy_error(format!("`{key}` is NULL; leave the key out instead")));
    }
    if let Some(list) = x.as_list() {
        let names: Option<Vec<String>> = x.names().map(|n| n.map(str::to_owned).collect());
        return match names {
            Some(names) if !names.is_empty() && names.iter().all(|n| !n.is_empty()) => {
                let mut object = toml::Table::new();
                for (name, value) in names.iter().zip(list.values()) {
                    object.insert(name.clone(), r_to_value(&value, &format!("{key}${name}"))?);
                }
                Ok(Value::Table(object))
            }
            _ if list.len() == 0 && x.names().is_some() => Ok(Value::Table(toml::Table::new())),
            _ => list.values().enumerate().map(|(i, v)| r_to_value(&v, &format!("{key}[[{}]]", i + 1))).collect::<Fallible<Vec<_>>>().map(Value::Array),
        };
    }
    let na = || policy_error(format!("`{key}` has NA; give a value or leave the key out"));
    let mut items: Vec<Value> = Vec::new();
    if x.is_factor() {
        let levels: Vec<&str> = x.levels().map(|l| l.collect()).unwrap_or_default();
        for &k in x.as_integer_slice().unwrap_or(&[]) {
            items.push(Value::String(levels.get((k - 1) as usize).ok_or_else(na)?.to_string()));
        }
    } else if let Ok(strings) = Strings::try_from(x.clone()) {
        for s in strings.iter() {
            if s.is_na() {
                return Err(na());
            }
            items.push(Value::String(s.as_ref().to_owned()));
        }
    } else if let Some(ints) = x.as_integer_slice() {
        for &v in ints {
            if v == i32::MIN {
                return Err(na());
            }
            items.push(Value::Integer(v.into()));
        }
    } else if let Some(reals) = x.as_real_slice() {
        for &v in reals {
            if v.is_nan() {
                return Err(na());
            }
            items.push(if v.fract() == 0.0 && v.abs() < 9.0e15 { Value::Integer(v as i64) } else { Value::Float(v) });
        }
    } else if let Some(logicals) = x.as_logical_slice() {
        for v in logicals {
            if v.is_na() {
                return Err(na());
            }
            items.push(Value::Boolean(v.is_true()));
        }
    } else {
        return Err(policy_error(format!("`{key}` has R type {:?}, which a policy cannot hold; use lists, character, numbers or logicals", x.rtype())));
    }
    let as_is = x.inherits("AsIs");
    Ok(if items.len() == 1 && !as_is { items.pop().expect("one item") } else { Value::Array(items) })
}

/// The R view of a policy: what the R object keeps and shows.
fn policy_list(p: &Policy, path: Option<&str>) -> List {
    let dims: Vec<&str> = p.dimensions.iter().map(|d| d.name.as_str()).collect();
    list!(
        sha256 = p.sha256.as_str(),
        name = p.table_name(),
        dimensions = Strings::from_values(dims),
        path = path.map(Robj::from).unwrap_or_else(|| Robj::from(())),
        toml = p.to_toml(),
        base_dir = p.base_dir.display().to_string(),
        pointer = ExternalPtr::new(p.clone())
    )
}

/// Protect the linked tables of a policy's [tables]; returns list(names, tables, summaries) or list(error).
/// @noRd
#[extendr]
fn amparo_protect_tables_impl(data: Robj, policy: Robj, keep_original: bool, progress: bool) -> List {
    let run = || -> Fallible<List> {
        let policy = load_policy(&policy)?;
        let mut reader = input_reader(&data)?;
        let results = with_progress(progress, || amparo::protect_tables(&policy, &mut *reader))?;
        let names: Vec<String> = results.iter().map(|(n, _)| n.clone()).collect();
        let summaries: Vec<String> = results.iter().map(|(_, r)| r.summary().to_string()).collect();
        let batches: Vec<RecordBatch> = results.iter().map(|(_, r)| r.to_record_batch(OutputOptions { keep_original })).collect();
        let tables: Vec<Robj> = batches.iter().map(|b| batch_to_list(b).into()).collect();
        let metadata: Vec<Robj> = batches.iter().map(metadata_strings).collect();
        Ok(list!(
            names = Strings::from_values(names),
            tables = List::from_values(tables),
            summaries = Strings::from_values(summaries),
            metadata = List::from_values(metadata),
            status_levels = status_levels()
        ))
    };
    run().unwrap_or_else(error_list)
}

/// Protect a data.frame or a file; returns list(table, summary, metadata) or list(error).
/// @noRd
#[extendr]
fn amparo_protect_impl(data: Robj, policy: Robj, keep_original: bool, progress: bool) -> List {
    load_policy(&policy).and_then(|p| protect_inner(&data, &p, keep_original, progress)).unwrap_or_else(error_list)
}

/// Validate a data.frame or a file against a policy; returns list(text) or list(error).
/// @noRd
#[extendr]
fn amparo_validate_impl(data: Robj, policy: Robj) -> List {
    let run = || -> Fallible<List> {
        let policy = load_policy(&policy)?;
        let mut reader = input_reader(&data)?;
        Ok(list!(text = amparo::validate(&policy, &mut *reader)?.to_string()))
    };
    run().unwrap_or_else(error_list)
}

/// Audit published tables (a list: one, or the linked tables in the policy's order, data.frames or
/// paths); returns list(passed, cells, hidden_cells, language, findings, checks, finding_table) or list(error).
/// `value_column`, `hidden_symbols` and `lang` are NULL for the core's defaults.
/// @noRd
#[extendr]
#[allow(clippy::too_many_arguments)]
fn amparo_audit_impl(
    data: List,
    names: Vec<String>,
    policy: Robj,
    value_column: Nullable<String>,
    hidden_symbols: Nullable<Vec<String>>,
    lang: Nullable<String>,
    progress: bool,
) -> List {
    let run = || -> Fallible<List> {
        let p = Published::new(&data, &policy, value_column, hidden_symbols, lang)?;
        let report = with_progress(progress, || {
            amparo::audit::report::audit_streams(&p.policy, p.readers, names.clone(), p.value_column.as_deref(), p.symbols.as_deref(), p.lang)
        })?;
        Ok(report_list(&report))
    };
    run().unwrap_or_else(error_list)
}

/// Why one cell of published tables is hidden or flagged; returns list(text) or list(error).
/// @noRd
#[extendr]
fn amparo_explain_impl(
    data: List,
    names: Vec<String>,
    policy: Robj,
    cell: Robj,
    row: bool,
    value_column: Nullable<String>,
    hidden_symbols: Nullable<Vec<String>>,
    lang: Nullable<String>,
) -> List {
    let run = || -> Fallible<List> {
        let p = Published::new(&data, &policy, value_column, hidden_symbols, lang)?;
        // A string, or a named character vector (of a list, a one-row data.frame: `row`).
        let text: Vec<String> = Strings::try_from(cell.clone()).map(|s| s.iter().map(|v| v.to_string()).collect()).unwrap_or_default();
        let names_of: Option<Vec<String>> = cell.names().map(|n| n.map(str::to_owned).collect());
        let pairs: Vec<(String, String)> = names_of.clone().unwrap_or_default().into_iter().zip(text.iter().cloned()).collect();
        let cell = match (names_of, row) {
            (None, false) if text.len() == 1 => amparo::audit::explain::Cell::Text(&text[0]),
            (_, true) => amparo::audit::explain::Cell::Row(&pairs),
            _ => amparo::audit::explain::Cell::Pairs(&pairs),
        };
        let text = amparo::audit::explain::explain_streams(&p.policy, p.readers, names.clone(), &cell, p.value_column.as_deref(), p.symbols.as_deref(), p.lang)?;
        Ok(list!(text = text))
    };
    run().unwrap_or_else(error_list)
}

/// The arguments `audit()` and `explain()` share: published tables (one,
/// or the linked tables in the policy's order) and how to read them.
struct Published {
    policy: Policy,
    readers: Vec<Box<dyn RecordBatchReader + Send>>,
    value_column: Option<String>,
    symbols: Option<Vec<String>>,
    lang: amparo::i18n::Lang,
}

impl Published {
    fn new(
        data: &List,
        policy: &Robj,
        value_column: Nullable<String>,
        hidden_symbols: Nullable<Vec<String>>,
        lang: Nullable<String>,
    ) -> Fallible<Published> {
        Ok(Published {
            policy: load_policy(policy)?,
            readers: data.values().map(|d| input_reader(&d)).collect::<Fallible<Vec<_>>>()?,
            value_column: value_column.into_option(),
            symbols: hidden_symbols.into_option(),
            lang: amparo::i18n::Lang::resolve(lang.into_option().as_deref())?,
        })
    }
}

fn report_list(report: &amparo::audit::report::AuditReport) -> List {
    use amparo::audit::report::ReportFormat;
    let mut formats: Vec<&str> = ReportFormat::ALL.iter().map(|f| f.as_str()).collect();
    let mut rendered: Vec<Robj> = ReportFormat::ALL.iter().map(|&f| Robj::from(report.render(f))).collect();
    formats.push("markdown");
    rendered.push(Robj::from(report.to_markdown()));
    let reports = List::from_names_and_values(formats, rendered).expect("one name per format");
    let f = &report.findings;
    let column = |get: &dyn Fn(&amparo::audit::report::FindingReport) -> String| -> Robj { Strings::from_values(f.iter().map(get)).into() };
    let finding_table = List::from_names_and_values(
        ["check", "key", "table", "cell", "message"],
        [
            column(&|x| x.check.as_str().to_owned()),
            column(&|x| x.key.clone()),
            column(&|x| x.table.clone()),
            column(&|x| x.cell.clone()),
            column(&|x| x.message.clone()),
        ],
    )
    .expect("one name per column");
    let c = &report.checks;
    let checks = List::from_names_and_values(
        ["check", "passed", "findings"],
        [
            Robj::from(Strings::from_values(c.iter().map(|x| x.check.as_str()))),
            c.iter().map(|x| Rbool::from(x.passed)).collect::<Logicals>().into(),
            c.iter().map(|x| Rfloat::from(x.findings as f64)).collect::<Doubles>().into(),
        ],
    )
    .expect("one name per column");
    list!(
        passed = report.passed,
        cells = report.cells as f64,
        hidden_cells = report.hidden_cells as f64,
        language = report.language.as_str(),
        findings = Strings::from_values(f.iter().map(|x| x.message.as_str())),
        checks = checks,
        finding_table = finding_table,
        reports = reports
    )
}

/// Read a policy file; returns list(sha256, name, dimensions, path, toml, base_dir, pointer) or list(error).
/// @noRd
#[extendr]
fn amparo_policy_impl(policy_path: &str) -> List {
    Policy::from_file(policy_path).map(|p| policy_list(&p, Some(policy_path))).unwrap_or_else(error_list)
}

/// A policy from an R list with the policy file's sections and keys.
/// @noRd
#[extendr]
fn amparo_policy_from_list_impl(value: Robj, base_dir: &str) -> List {
    let run = || -> Fallible<List> {
        let json = r_to_json(&value, "policy")?;
        Ok(policy_list(&Policy::from_json(&json, Path::new(base_dir))?, None))
    };
    run().unwrap_or_else(error_list)
}

/// A policy with sections merged in (`method` NULL) or protecting by one
/// method (`rounding`, `perturbation`, `noise`) with `options` as its keys;
/// `call_keywords` are the calling function's own arguments, named when a
/// key is a near miss of one.
/// @noRd
#[extendr]
fn amparo_policy_change_impl(policy: Robj, method: Nullable<String>, options: Robj, call_keywords: Vec<String>) -> List {
    let run = || -> Fallible<List> {
        let policy = load_policy(&policy)?;
        let json = if options.len() == 0 { "{}".to_owned() } else { r_to_json(&options, "options")? };
        let keywords: Vec<&str> = call_keywords.iter().map(String::as_str).collect();
        let changed = match method.into_option() {
            None => policy.with_call_overrides(&json, &keywords)?,
            Some(m) => policy.for_method_call(m.parse()?, &json, &keywords)?,
        };
        Ok(policy_list(&changed, None))
    };
    run().unwrap_or_else(error_list)
}

/// A policy value from the core (JSON text of one section) as R: tables as
/// named lists, arrays as `I()` vectors (so they stay lists of one).
fn section_to_r(json: &str) -> Fallible<Robj> {
    fn to_r(value: &toml::Value) -> Robj {
        match value {
            toml::Value::Table(table) => {
                let values: Vec<Robj> = table.values().map(to_r).collect();
                List::from_names_and_values(table.keys(), values).expect("one name per value").into()
            }
            toml::Value::Array(items) => {
                let mut vector: Robj = if items.iter().all(toml::Value::is_integer) {
                    items.iter().map(|v| v.as_integer().unwrap_or_default() as f64).collect::<Doubles>().into()
                } else {
                    Strings::from_values(items.iter().map(|v| v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string()))).into()
                };
                vector.set_class(["AsIs"]).expect("a vector takes a class");
                vector
            }
            toml::Value::String(s) => s.as_str().into(),
            toml::Value::Integer(n) => (*n as f64).into(),
            toml::Value::Float(x) => (*x).into(),
            toml::Value::Boolean(b) => (*b).into(),
            toml::Value::Datetime(d) => d.to_string().into(),
        }
    }
    let value: toml::Value = serde_json::from_str(json).map_err(|e| amparo::Error::new(amparo::ErrorKind::Policy, format!("the section is not JSON: {e}")))?;
    Ok(to_r(&value))
}

/// A `[dimensions.<name>]` section from nested codes (an R named list).
/// @noRd
#[extendr]
fn amparo_hierarchy_from_tree_impl(tree: Robj) -> List {
    let run = || -> Fallible<List> { Ok(list!(section = section_to_r(&amparo::policy::hierarchy_from_tree(&r_to_json(&tree, "tree")?)?)?)) };
    run().unwrap_or_else(error_list)
}

/// A `[dimensions.<name>]` section from a codes table with a parent column.
/// @noRd
#[extendr]
fn amparo_hierarchy_from_table_impl(codes: Robj, code: &str, parent: &str, total: Nullable<String>) -> List {
    let run = || -> Fallible<List> {
        let mut reader = input_reader(&codes)?;
        let total = total.into_option();
        Ok(list!(section = section_to_r(&amparo::policy::hierarchy_from_table(&mut *reader, code, parent, total.as_deref())?)?))
    };
    run().unwrap_or_else(error_list)
}

/// A `[dimensions.<name>]` section for codes that nest by prefix.
/// @noRd
#[extendr]
fn amparo_hierarchy_from_code_lengths_impl(lengths: Vec<f64>, total: Nullable<String>) -> List {
    let run = || -> Fallible<List> {
        let whole = |n: f64| if n.fract() == 0.0 && n.abs() < 1e15 { Ok(n as i64) } else { amparo::fail!(Policy, "code length {n} is impossible: code lengths are positive whole numbers, e.g. c(2, 5)") };
        let lengths = lengths.into_iter().map(whole).collect::<Fallible<Vec<i64>>>()?;
        let total = total.into_option();
        Ok(list!(section = section_to_r(&amparo::policy::hierarchy_from_code_lengths(&lengths, total.as_deref())?)?))
    };
    run().unwrap_or_else(error_list)
}

/// Read a file with the core's reader; returns list(table) or list(error).
/// @noRd
#[extendr]
fn amparo_read_table_impl(path: &str) -> List {
    let run = || -> Fallible<List> {
        let batch = amparo::publish::read_table_with_metadata(Path::new(path))?;
        Ok(list!(table = batch_to_list(&batch), metadata = metadata_strings(&batch)))
    };
    run().unwrap_or_else(error_list)
}

/// What a protection cost, from a protected table's metadata; returns
/// list(text, json, measures, by_reason, by_level, changes) or list(error).
/// @noRd
#[extendr]
fn amparo_summary_impl(metadata: Robj, lang: Nullable<String>) -> List {
    let run = || -> Fallible<List> {
        let lang = amparo::i18n::Lang::resolve(lang.into_option().as_deref())?;
        let summary = amparo::Summary::from_metadata(&named_strings(&metadata))?;
        let tables = summary.tables();
        let names: Vec<&str> = ["text", "json"].into_iter().chain(tables.iter().map(|(name, _)| *name)).collect();
        let values: Vec<Robj> = [summary.render(lang).into(), summary.to_json().into()].into_iter().chain(tables.iter().map(|(_, batch)| batch_to_list(batch).into())).collect();
        Ok(List::from_names_and_values(names, values).expect("one name per value"))
    };
    run().unwrap_or_else(error_list)
}

/// Cells and hidden cells over two dimensions of a protected table; returns
/// list(row_dimension, column_dimension, rows, columns, cells, hidden) or list(error).
/// @noRd
#[extendr]
fn amparo_hidden_grid_impl(df: List, rows: Nullable<String>, columns: Nullable<String>) -> List {
    let run = || -> Fallible<List> {
        let batch = data_frame_to_batch(&df)?;
        let option = |n: &Nullable<String>| match n {
            Nullable::NotNull(s) => Some(s.clone()),
            Nullable::Null => None,
        };
        let (rows, columns) = (option(&rows), option(&columns));
        let grid = amparo::loss::hidden_grid(&batch, rows.as_deref(), columns.as_deref())?;
        let counts = |v: &[usize]| v.iter().map(|&n| n as f64).collect::<Doubles>();
        Ok(list!(
            row_dimension = grid.row_dimension,
            column_dimension = grid.column_dimension,
            rows = grid.rows,
            columns = grid.columns,
            cells = counts(&grid.cells),
            hidden = counts(&grid.hidden)
        ))
    };
    run().unwrap_or_else(error_list)
}

/// Synthetic microdata (as `amparo synth`): written to `path`, returns
/// list(records); without a path, returns list(table). Or list(error).
/// @noRd
#[extendr]
#[allow(clippy::too_many_arguments)]
fn amparo_synth_impl(path: Nullable<String>, records: f64, mode: &str, seed: f64, countries: Vec<String>, years: f64, first_year: f64, overwrite: bool) -> List {
    let run = || -> Fallible<List> {
        let whole = |x: f64, what: &str| -> Fallible<u64> {
            if x.fract() != 0.0 || x < 0.0 || x > 2f64.powi(53) {
                return Err(amparo::Error::new(amparo::ErrorKind::Policy, format!("{what} = {x}: give a whole number of at least 0")));
            }
            Ok(x as u64)
        };
        let options = amparo::synth::SynthOptions {
            records: whole(records, "records")?,
            mode: mode.parse()?,
            countries,
            years: whole(years, "years")?.min(u32::MAX as u64) as u32,
            first_year: whole(first_year, "first_year")?.min(i32::MAX as u64) as i32,
            seed: whole(seed, "seed")?,
        };
        match path.into_option() {
            Some(path) => Ok(list!(records = amparo::synth::write_synth(options, Path::new(&path), overwrite)? as f64)),
            None => Ok(list!(table = batch_to_list(&amparo::synth::synth_table(options)?))),
        }
    };
    run().unwrap_or_else(error_list)
}

/// Write a data.frame with the core's writer; returns list() or list(error).
/// @noRd
#[extendr]
fn amparo_write_table_impl(df: List, metadata: Robj, path: &str) -> List {
    let run = || -> Fallible<List> {
        let batch = data_frame_to_batch(&df)?;
        let kept: Vec<(String, String)> = named_strings(&metadata).into_iter().collect();
        amparo::io::write_table_keeping(&batch, Path::new(path), &kept)?;
        Ok(List::new(0))
    };
    run().unwrap_or_else(error_list)
}

/// A seed given from R (a double) as the core's u64: whole and non-negative.
fn seed_from_r(seed: Nullable<f64>) -> Fallible<Option<u64>> {
    match seed.into_option() {
        None => Ok(None),
        Some(s) if s >= 0.0 && s.fract() == 0.0 && s < 9.007_199_254_740_992e15 => Ok(Some(s as u64)),
        Some(s) => Err(amparo::Error::new(amparo::ErrorKind::Policy, format!("seed = {s} must be a whole number from 0 to 2^53"))),
    }
}

/// Append record keys to a data.frame or a file's rows; returns list(table) or list(error).
/// @noRd
#[extendr]
fn amparo_add_record_keys_impl(data: Robj, column: &str, seed: Nullable<f64>) -> List {
    let run = || -> Fallible<List> {
        let (keyed, _) = amparo::cellkey::add_record_keys(input_reader(&data)?, column, seed_from_r(seed)?)?;
        let schema = keyed.schema();
        let batches = keyed.collect::<Result<Vec<_>, _>>().map_err(|e| amparo::io::arrow_read_error(e, "the input"))?;
        let batch = amparo::arrow::select::concat::concat_batches(&schema, &batches).map_err(|e| schema_error(e.to_string()))?;
        Ok(list!(table = batch_to_list(&batch), metadata = metadata_strings(&batch)))
    };
    run().unwrap_or_else(error_list)
}

/// The publication of protected tables (a list: one, or the linked tables
/// in the policy's order; data.frames with the metadata protect gave them in
/// `metadata`, or paths of files `amparo protect` wrote), written to `path`
/// when given; returns list(tables, metadata) or list(error).
/// @noRd
#[extendr]
#[allow(clippy::too_many_arguments)]
fn amparo_publish_impl(
    data: List,
    metadata: List,
    policy: Robj,
    path: Nullable<String>,
    layout: Nullable<String>,
    format: Nullable<String>,
    overwrite: bool,
) -> List {
    let run = || -> Fallible<List> {
        let policy = load_policy(&policy)?;
        let tables = data
            .values()
            .zip(metadata.values())
            .map(|(d, m)| match d.as_str() {
                Some(file) => amparo::publish::open_protected(Path::new(file)),
                None => Ok((input_reader(&d)?, named_strings(&m))),
            })
            .collect::<Fallible<Vec<_>>>()?;
        let options = amparo::publish::PublishOptions {
            format: format.into_option().as_deref().map(amparo::publish::PublicationFormat::from_name).transpose()?,
            layout: layout.into_option().as_deref().map(amparo::policy::Layout::from_name).transpose()?,
            overwrite,
        };
        let path = path.into_option();
        let publications = amparo::publish::publish_streams(&policy, tables, path.as_deref().map(Path::new), &options)?;
        let batches: Vec<RecordBatch> = publications.iter().map(|p| p.to_record_batch()).collect();
        Ok(list!(
            tables = List::from_values(batches.iter().map(|b| Robj::from(batch_to_list(b)))),
            metadata = List::from_values(batches.iter().map(metadata_strings))
        ))
    };
    run().unwrap_or_else(error_list)
}

/// A named character vector (an `amparo_metadata` attribute) as a map; anything else is empty.
fn named_strings(x: &Robj) -> std::collections::HashMap<String, String> {
    let Ok(values) = Strings::try_from(x.clone()) else { return Default::default() };
    let names: Vec<String> = x.names().map(|n| n.map(str::to_owned).collect()).unwrap_or_default();
    names.into_iter().zip(values.iter()).filter(|(_, v)| !v.is_na()).map(|(k, v)| (k, v.as_ref().to_owned())).collect()
}

/// Copy a microdata file to a new file with record keys; returns list(randomness) or list(error).
/// @noRd
#[extendr]
fn amparo_add_record_keys_to_file_impl(input: &str, output: &str, column: &str, seed: Nullable<f64>, overwrite: bool) -> List {
    let run = || -> Fallible<List> {
        let randomness = amparo::cellkey::add_record_keys_to_file(Path::new(input), Path::new(output), column, seed_from_r(seed)?, overwrite)?;
        Ok(list!(randomness = randomness.describe()))
    };
    run().unwrap_or_else(error_list)
}

extendr_module! {
    mod amparo;
    fn amparo_protect_impl;
    fn amparo_protect_tables_impl;
    fn amparo_validate_impl;
    fn amparo_audit_impl;
    fn amparo_explain_impl;
    fn amparo_policy_impl;
    fn amparo_policy_from_list_impl;
    fn amparo_policy_change_impl;
    fn amparo_read_table_impl;
    fn amparo_summary_impl;
    fn amparo_synth_impl;
    fn amparo_hidden_grid_impl;
    fn amparo_write_table_impl;
    fn amparo_add_record_keys_impl;
    fn amparo_add_record_keys_to_file_impl;
    fn amparo_publish_impl;
    fn amparo_hierarchy_from_tree_impl;
    fn amparo_hierarchy_from_table_impl;
    fn amparo_hierarchy_from_code_lengths_impl;
}
