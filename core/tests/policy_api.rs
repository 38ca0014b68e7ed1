//! Policies built in code (from JSON objects, as the frontends pass dicts
//! and lists), with overrides, for one method; and inline codes tables.

use std::path::Path;

use amparo::policy::Method;
use amparo::{ErrorKind, Policy};

const BASE: &str = r#"{"version": 1, "input": {"kind": "aggregated", "count": "n"},
  "dimensions": {"sex": {"codes": ["F", "M"]}, "district": {}},
  "primary": {"threshold": 5}, "secondary": {"method": "interval"}}"#;

fn protect_csv(policy: &Policy, csv: &str) -> amparo::Protected {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("in.csv");
    std::fs::write(&path, csv).unwrap();
    let mut reader = amparo::io::read_table(&path).unwrap();
    amparo::protect(policy, &mut *reader).unwrap()
}

#[test]
fn a_policy_from_json_keeps_the_dimension_order_and_round_trips_through_toml() {
    let policy = Policy::from_json(BASE, Path::new(".")).unwrap();
    // Dimensions in the order given (output column order), not sorted.
    assert_eq!(policy.dimensions.iter().map(|d| d.name.as_str()).collect::<Vec<_>>(), ["sex", "district"]);
    let again = Policy::from_toml(policy.to_toml(), Path::new(".")).unwrap();
    assert_eq!(again.sha256, policy.sha256);
    assert_eq!(again.file, policy.file);
    let json: serde_json::Value = serde_json::from_str(&policy.to_json().unwrap()).unwrap();
    assert_eq!(json["primary"]["threshold"], 5);
    // Nulls and non-objects are refused with the fix.
    let null = Policy::from_json(r#"{"version": 1, "name": null}"#, Path::new(".")).unwrap_err();
    assert_eq!(null.kind, ErrorKind::Policy);
    assert!(null.message.contains("leave out a key"), "{}", null.message);
    // Unknown keys get the policy file's errors.
    let unknown = Policy::from_json(&BASE.replace("\"primary\"", "\"primray\""), Path::new(".")).unwrap_err();
    assert!(unknown.message.contains("primray"), "{}", unknown.message);
}

#[test]
fn overrides_merge_section_by_section_and_change_the_hash() {
    let policy = Policy::from_json(BASE, Path::new(".")).unwrap();
    let stricter = policy.with_overrides(r#"{"primary": {"threshold": 10}}"#).unwrap();
    assert_eq!(stricter.file.primary.threshold, Some(10));
    // The rest of the section and the other sections stay.
    assert_eq!(stricter.file.secondary, policy.file.secondary);
    assert_eq!(stricter.dimensions, policy.dimensions);
    assert_ne!(stricter.sha256, policy.sha256);
    let csv = "sex,district,n\nF,D1,7\nM,D1,2\nF,D2,0\nM,D2,11\n";
    // The stricter threshold makes more cells sensitive, and hides at least as many.
    let count = |p: &Policy, which: fn(&amparo::Status) -> bool| protect_csv(p, csv).marks.status.iter().filter(|s| which(s)).count();
    assert!(count(&stricter, |s| *s == amparo::Status::Primary) > count(&policy, |s| *s == amparo::Status::Primary));
    assert!(count(&stricter, |s| s.is_hidden()) >= count(&policy, |s| s.is_hidden()));
    let bad = policy.with_overrides(r#"{"primary": {"threshold": -1}}"#).unwrap_err();
    assert_eq!(bad.kind, ErrorKind::Policy);
}

#[test]
fn for_method_keeps_the_table_and_swaps_the_protection() {
    let policy = Policy::from_json(BASE, Path::new(".")).unwrap();
    let rounded = policy.for_method(Method::Rounding, r#"{"base": 5, "seed": 7}"#).unwrap();
    assert_eq!(rounded.file.primary.threshold, None);
    assert_eq!(rounded.dimensions, policy.dimensions);
    let out = protect_csv(&rounded, "sex,district,n\nF,D1,7\nM,D1,2\nF,D2,0\nM,D2,11\n");
    assert!(out.marks.published.iter().all(|v| v.is_some_and(|v| v % 5 == 0)), "{:?}", out.marks.published);
    assert!(out.metadata.method.starts_with("rounding:random"), "{}", out.metadata.method);
    let noisy = policy.for_method(Method::Noise, r#"{"rho": "1/2", "seed": 1}"#).unwrap();
    assert_eq!(noisy.file.noise.method, amparo::policy::NoiseMethod::DiscreteGaussian);
    // The policy's own section of that method is kept, options merged in.
    let laplace = policy.for_method(Method::Noise, r#"{"method": "discrete_laplace", "epsilon": 2}"#).unwrap();
    let reseeded = laplace.for_method(Method::Noise, r#"{"seed": 9}"#).unwrap();
    assert_eq!(reseeded.file.noise.method, amparo::policy::NoiseMethod::DiscreteLaplace);
    assert_eq!(reseeded.file.noise.seed, Some(9));
    assert_eq!(reseeded.file.noise.epsilon, laplace.file.noise.epsilon);
    // A method's own errors: noise without a budget.
    let err = policy.for_method(Method::Noise, "{}").unwrap_err();
    assert_eq!(err.kind, ErrorKind::Policy);
    assert!("smoothing".parse::<Method>().unwrap_err().message.contains("rounding, perturbation or noise"));
}

#[test]
fn parents_is_a_codes_table_written_inline() {
    let json = r#"{"version": 1, "input": {"kind": "aggregated", "count": "n"},
      "dimensions": {"place": {"parents": {"05": "", "05001": "05", "05002": "05", "08": "", "08001": "08"}}},
      "primary": {"threshold": 3}}"#;
    let policy = Policy::from_json(json, Path::new(".")).unwrap();
    let out = protect_csv(&policy, "place,n\n05001,4\n05002,6\n08001,9\n");
    let h = &out.cube.dims()[0].hierarchy;
    assert_eq!(h.code(h.root()), "Total");
    assert_eq!(h.code(h.parent(h.node("05001").unwrap()).unwrap()), "05");
    assert_eq!(out.cube.value(out.cube.cell(&[h.node("05").unwrap()])), 10);
    let both = json.replace(r#""parents""#, r#""codes": ["05"], "parents""#);
    assert!(Policy::from_json(&both, Path::new(".")).unwrap_err().message.contains("one way only"));
    // A cycle (05 under 05001 under 05) is a hierarchy error naming the code.
    let cycle = Policy::from_json(&json.replace(r#""05": """#, r#""05": "05001""#), Path::new(".")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("in.csv");
    std::fs::write(&path, "place,n\n05001,4\n").unwrap();
    let mut reader = amparo::io::read_table(&path).unwrap();
    let err = amparo::protect(&cycle, &mut *reader).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Hierarchy, "{}", err.message);
    assert!(err.message.contains("05"), "{}", err.message);
}

/// The hierarchy builders give the sections a policy takes, the same for
/// every frontend, and refuse what would lose or misplace a code.
#[test]
fn hierarchy_builders_give_policy_sections_and_clear_errors() {
    use amparo::policy::{hierarchy_from_code_lengths, hierarchy_from_table, hierarchy_from_tree};
    let tree = hierarchy_from_tree(r#"{"Total": {"North": ["D1", "D2"], "South": {"D3": null, "D4": [7]}}}"#).unwrap();
    assert_eq!(tree, r#"{"tree":{"Total":["North","South"],"North":["D1","D2"],"South":["D3","D4"],"D4":["7"]}}"#);
    let e = hierarchy_from_tree(r#"{"North": ["D1"], "South": ["D2"]}"#).unwrap_err();
    assert!(e.message.contains("2 codes at the top") && e.message.contains("North, South"), "{}", e.message);
    // A single leaf (as R writes a list of one) is a list of one leaf, not its characters.
    assert_eq!(hierarchy_from_tree(r#"{"Total": {"South": "D3"}}"#).unwrap(), r#"{"tree":{"Total":["South"],"South":["D3"]}}"#);
    let e = hierarchy_from_tree(r#"{"Total": [true]}"#).unwrap_err();
    assert!(e.message.contains("text or a number"), "{}", e.message);

    let schema = std::sync::Arc::new(arrow_schema::Schema::new(vec![
        arrow_schema::Field::new("code", arrow_schema::DataType::Utf8, false),
        arrow_schema::Field::new("up", arrow_schema::DataType::Utf8, true),
    ]));
    let batch = |codes: Vec<&str>, parents: Vec<Option<&str>>| {
        arrow_array::RecordBatch::try_new(
            schema.clone(),
            vec![std::sync::Arc::new(arrow_array::StringArray::from(codes)), std::sync::Arc::new(arrow_array::StringArray::from(parents))],
        )
        .unwrap()
    };
    let reader = |b: arrow_array::RecordBatch| arrow_array::RecordBatchIterator::new(vec![Ok(b)], schema.clone());
    let table = hierarchy_from_table(&mut reader(batch(vec!["05", "05001"], vec![None, Some("05")])), "code", "up", Some("CO")).unwrap();
    assert_eq!(table, r#"{"total":"CO","parents":{"05":"","05001":"05"}}"#);
    let e = hierarchy_from_table(&mut reader(batch(vec!["05"], vec![None])), "code", "parent", None).unwrap_err();
    assert!(e.message.contains("no column `parent`") && e.message.contains("code, up"), "{}", e.message);
    let e = hierarchy_from_table(&mut reader(batch(vec!["05", "05"], vec![None, None])), "code", "up", None).unwrap_err();
    assert!(e.message.contains("`05` twice"), "{}", e.message);

    assert_eq!(hierarchy_from_code_lengths(&[2, 5], None).unwrap(), r#"{"code_lengths":[2,5]}"#);
    assert!(hierarchy_from_code_lengths(&[2, 0], None).unwrap_err().message.contains("code length 0"));
}

#[test]
fn the_section_names_are_the_schemas_top_level_keys() {
    let schema: serde_json::Value = serde_json::from_str(&amparo::policy::json_schema()).unwrap();
    let mut in_schema: Vec<&str> = schema["properties"].as_object().unwrap().keys().map(String::as_str).collect();
    let mut named = amparo::policy::SECTION_NAMES.to_vec();
    in_schema.sort_unstable();
    named.sort_unstable();
    assert_eq!(named, in_schema);
}

#[test]
fn overrides_name_the_calls_keyword_or_the_section_a_mistake_is_in() {
    let policy = Policy::from_toml("version = 1\n[input]\nkind = \"aggregated\"\ncount = \"n\"\n[dimensions.sex]\n[primary]\nthreshold = 5\n", Path::new(".")).unwrap();
    let e = policy.with_call_overrides(r#"{"keep_origin": true}"#, &["keep_original", "progress"]).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Policy);
    assert!(e.message.starts_with("`keep_origin` is neither an argument of this function (keep_original, progress) nor a policy section"), "{e}");
    assert!(e.message.ends_with("did you mean `keep_original`?"), "{e}");
    // A method's options: a near miss of the call's keyword is named as it,
    // one of the section's keys as that key.
    let rounding = amparo::policy::Method::Rounding;
    let e = policy.for_method_call(rounding, r#"{"keep_origin": true}"#, &["keep_original", "progress"]).unwrap_err();
    assert_eq!(e.message, "`keep_origin` is neither an argument of this function (keep_original, progress) nor a key of the policy's [rounding] section; did you mean `keep_original`?");
    let e = policy.for_method_call(rounding, r#"{"bse": 5}"#, &["keep_original", "progress"]).unwrap_err();
    assert!(e.message.contains("unknown key `bse`; did you mean `base`?"), "{e}");
    assert!(policy.for_method_call(rounding, r#"{"base": 5}"#, &["keep_original"]).is_ok());
    let e = policy.with_call_overrides(r#"{"primary": {"treshold": 3}}"#, &["keep_original"]).unwrap_err();
    assert!(e.message.starts_with("in the policy's [primary] section: unknown key `treshold`; did you mean `threshold`?"), "{e}");
    assert!(!e.message.contains("line"), "{e}");
    let e = Policy::from_json(r#"{"version": 1, "input": {"kind": "aggregated"}, "dimensions": {"sex": {"codez": ["F"]}}}"#, Path::new(".")).unwrap_err();
    assert!(e.message.starts_with("in the policy's [dimensions.sex] section: unknown key `codez`"), "{e}");
    let stricter = policy.with_call_overrides(r#"{"primary": {"threshold": 3}}"#, &["keep_original"]).unwrap();
    assert!(stricter.to_toml().contains("threshold = 3"), "{}", stricter.to_toml());
}

#[test]
fn a_policy_built_from_a_json_object_is_the_policy_file_it_spells_out() {
    // tests/policies/dimension_order.toml, shared with pytest and testthat.
    let file = Policy::from_file(Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/policies/dimension_order.toml")).unwrap();
    // As a Python dict gives it, and as R's list(district = list(), ...) does (empty lists).
    for json in [
        r#"{"version": 1, "input": {"kind": "microdata"}, "dimensions": {"district": {}, "nationality": {}, "age_band": {}}, "primary": {"threshold": 5}}"#,
        r#"{"version": 1, "input": {"kind": "microdata"}, "dimensions": {"district": [], "nationality": [], "age_band": []}, "primary": {"threshold": 5}}"#,
    ] {
        let built = Policy::from_json(json, Path::new(".")).unwrap();
        assert_eq!(built.to_toml(), file.to_toml());
        assert_eq!(built.sha256, file.sha256);
        let order: Vec<&str> = built.dimensions.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(order, ["district", "nationality", "age_band"]);
    }
}
