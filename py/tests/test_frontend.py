"""Python-specific behaviour: input kinds, Arrow string types, metadata, errors."""

import os
from pathlib import Path

import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.csv as pa_csv
import pytest

import amparo

POLICY = amparo.Policy.from_toml(
    """
version = 1
[input]
kind = "aggregated"
count = "n"
[dimensions.district]
[dimensions.sex]
codes = ["F", "M"]
[primary]
threshold = 5
"""
)

ROWS = {"district": ["D1", "D1", "D2", "D2"], "sex": ["F", "M", "F", "M"], "n": [7, 2, 0, 11]}


def published(out) -> dict:
    t = pa.table(out) if not isinstance(out, pd.DataFrame) else pa.Table.from_pandas(out)
    return {(d, s): p for d, s, p in zip(*(t.column(c).to_pylist() for c in ["district", "sex", "published"]))}


@pytest.mark.parametrize(
    "string_type", [pa.string(), pa.large_string(), pa.string_view(), pa.dictionary(pa.int8(), pa.string())]
)
def test_every_arrow_string_type_gives_the_same_cells(string_type):
    cols = {k: pa.array(v).cast(string_type) if k != "n" else pa.array(v) for k, v in ROWS.items()}
    out = amparo.protect(pa.table(cols), POLICY)
    assert published(out) == published(amparo.protect(pa.table(ROWS), POLICY))


def test_margins_add_up_and_small_cells_are_hidden():
    cells = published(amparo.protect(pa.table(ROWS), POLICY))
    assert cells[("Total", "Total")] == 20
    assert cells[("D1", "Total")] == 9 and cells[("D2", "Total")] == 11
    assert cells[("D1", "M")] is None  # 2 < 5
    assert cells[("D2", "F")] == 0  # zeros published by default
    visible = [v for v in cells.values() if v is not None]
    assert all(v == 0 or v >= 5 for v in visible)


def test_integer_and_float_counts_and_integer_codes_are_accepted():
    t = pa.table({"district": [1, 1, 2, 2], "sex": ["F", "M", "F", "M"], "n": pa.array([7.0, 2.0, 0.0, 11.0])})
    cells = published(amparo.protect(t, POLICY))
    assert cells[("1", "F")] == 7 and cells[("Total", "Total")] == 20


def test_pandas_result_has_nullable_integer_counts():
    out = amparo.protect(pd.DataFrame(ROWS), POLICY)
    assert str(out["published"].dtype) == "Int64"
    assert out["published"].isna().sum() == (out["status"] != "published").sum()


def test_polars_lazy_input_is_not_silently_accepted():
    with pytest.raises(TypeError):
        amparo.protect(pl.DataFrame(ROWS).lazy(), POLICY)


def test_metadata_records_policy_hash_and_method():
    out = amparo.protect(pa.table(ROWS), POLICY)
    meta = {k.decode(): v.decode() for k, v in out.schema.metadata.items()}
    assert meta["amparo.policy_sha256"] == POLICY.sha256
    assert meta["amparo.method"] == "primary:threshold"
    assert meta["amparo.engine_version"] == amparo.__version__
    assert meta["amparo.randomness"].startswith("none")


def test_unknown_key_error_names_the_nearest_key():
    with pytest.raises(amparo.PolicyError, match="did you mean `count`"):
        amparo.Policy.from_toml('version = 1\n[input]\nkind = "aggregated"\ncont = "n"\n[dimensions.sex]\n')


def test_policy_type_is_checked():
    with pytest.raises(TypeError, match="Policy.from_toml"):
        amparo.protect(pa.table(ROWS), 42)


def test_write_table_writes_parquet_atomically(tmp_path: Path):
    import pyarrow.parquet as pq

    out = amparo.protect(pa.table(ROWS), POLICY)
    target = tmp_path / "out.parquet"
    amparo.write_table(out, target)
    back = pq.read_table(target)
    assert back.column("published").to_pylist() == out.column("published").to_pylist()
    assert [p.name for p in tmp_path.iterdir()] == ["out.parquet"]


def test_validate_describes_the_table():
    text = amparo.validate(pa.table(ROWS), POLICY)
    assert "9 cells" in text and "dimension district: 3 codes" in text


def test_json_schema_is_the_committed_one():
    committed = Path(__file__).resolve().parents[2] / "schema" / "policy.schema.json"
    assert amparo.policy_json_schema() == committed.read_text()


def test_polars_and_pandas_categoricals_give_the_same_cells():
    expected = published(amparo.protect(pa.table(ROWS), POLICY))
    pl_cat = pl.DataFrame(ROWS).with_columns(pl.col("district").cast(pl.Categorical), pl.col("sex").cast(pl.Categorical))
    assert published(amparo.protect(pl_cat, POLICY)) == expected
    pd_cat = pd.DataFrame(ROWS).astype({"district": "category", "sex": "category"})
    assert published(amparo.protect(pd_cat, POLICY)) == expected


def test_batches_streamed_from_a_reader_give_the_same_cells():
    table = pa.table(ROWS)
    reader = pa.RecordBatchReader.from_batches(table.schema, table.to_batches(max_chunksize=1))
    assert published(amparo.protect(reader, POLICY)) == published(amparo.protect(table, POLICY))


def test_null_code_in_a_polars_frame_names_row_and_column():
    frame = pl.DataFrame({"district": ["D1", None], "sex": ["F", "M"], "n": [7, 2]})
    with pytest.raises(amparo.DataError, match=r"row 2: column `district`"):
        amparo.protect(frame, POLICY)


LINKED_POLICY = """version = 1
[input]
kind = "microdata"
[dimensions.district]
code_lengths = [2, 5]
total = "National"
[dimensions.nationality]
[dimensions.age_band]
tree = { "0-17" = ["0-4", "5-11", "12-17"] }
[primary]
threshold = 5
[secondary]
method = "interval"
[tables.by_nationality]
dimensions = ["district", "nationality"]
[tables.by_age]
dimensions = ["district", "age_band"]
"""


@pytest.mark.parametrize("kind", ["pyarrow", "polars"])
def test_protect_tables_gives_one_table_each_with_shared_cells_alike(kind):
    import polars as pl

    example = Path(__file__).resolve().parents[2] / "examples" / "children.csv"
    data = amparo.read_table(example)
    data = pl.from_arrow(data) if kind == "polars" else data
    policy = amparo.Policy.from_toml(LINKED_POLICY)
    out = amparo.protect_tables(data, policy)
    assert list(out) == ["by_nationality", "by_age"]
    by_nat = pa.table(out["by_nationality"]).to_pylist() if kind == "pyarrow" else out["by_nationality"].to_dicts()
    by_age = pa.table(out["by_age"]).to_pylist() if kind == "pyarrow" else out["by_age"].to_dicts()
    totals_nat = {r["district"]: r["published"] for r in by_nat if r["nationality"] == "Total"}
    totals_age = {r["district"]: r["published"] for r in by_age if r["age_band"] == "0-17"}
    assert totals_nat == totals_age and len(totals_nat) > 10
    assert any(r["published"] is None for r in by_nat)
    with pytest.raises(amparo.PolicyError, match="protect_tables"):
        amparo.protect(data, policy)


CELL_KEY_CASE = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "cell_key_microdata"


@pytest.mark.parametrize("kind", ["pyarrow", "pandas", "polars"])
def test_add_record_keys_appends_uniform_keys_the_cell_key_method_reads(kind):
    records = amparo.read_table(CELL_KEY_CASE / "input.csv").drop_columns(["rkey"])
    data = {"pyarrow": records, "pandas": records.to_pandas(), "polars": pl.from_arrow(records)}[kind]
    keyed = amparo.add_record_keys(data, column="rkey", seed=5)
    assert type(keyed) is type(data)
    as_arrow = pa.table(keyed) if kind != "pandas" else pa.Table.from_pandas(keyed)
    assert as_arrow.column_names == ["district", "sex", "age_band", "rkey"]
    keys = as_arrow.column("rkey").to_pylist()
    assert len(keys) == 40 and all(0 <= k < 1 for k in keys)
    # The same seed gives the same keys from every kind of table; no seed, others.
    assert keys == amparo.add_record_keys(records, column="rkey", seed=5).column("rkey").to_pylist()
    assert keys != amparo.add_record_keys(records, column="rkey").column("rkey").to_pylist()
    out = amparo.protect(keyed, CELL_KEY_CASE / "policy.toml", keep_original=True)
    out = pa.table(out) if kind != "pandas" else pa.Table.from_pandas(out)
    for value, shown in zip(out.column("value").to_pylist(), out.column("published").to_pylist()):
        assert abs(shown - value) <= 2 and shown != 1 and shown >= 0


def test_add_record_keys_records_its_source_and_refuses_existing_keys(tmp_path: Path):
    keyed = amparo.add_record_keys(amparo.read_table(CELL_KEY_CASE / "input.csv").drop_columns(["rkey"]))
    assert b"operating system" in keyed.schema.metadata[b"amparo:record_keys"]
    with pytest.raises(amparo.SchemaError, match="already has a column `rkey`"):
        amparo.add_record_keys(amparo.read_table(CELL_KEY_CASE / "input.csv"), column="rkey")
    out = tmp_path / "keyed.parquet"
    assert "seed 3" in amparo.add_record_keys_to_file(CELL_KEY_CASE / "input.csv", out, column="k2", seed=3)
    assert amparo.read_table(out).column_names == ["district", "sex", "age_band", "rkey", "k2"]
    before = out.read_bytes()
    with pytest.raises(amparo.AmparoIOError, match="already exists"):
        amparo.add_record_keys_to_file(CELL_KEY_CASE / "input.csv", out, column="k2")
    assert out.read_bytes() == before
    # Replaced only when asked.
    assert "seed 4" in amparo.add_record_keys_to_file(CELL_KEY_CASE / "input.csv", out, column="k2", seed=4, overwrite=True)
    assert out.read_bytes() != before


def test_outputs_are_replaced_only_when_asked_and_never_a_file_the_run_reads(tmp_path: Path):
    out = tmp_path / "records.csv"
    assert amparo.synth(out, records=50) == 50
    before = out.read_bytes()
    with pytest.raises(amparo.AmparoIOError, match="already exists; give --overwrite"):
        amparo.synth(out, records=60)
    assert out.read_bytes() == before
    assert amparo.synth(out, records=60, overwrite=True) == 60
    case = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "publish_long"
    protected = amparo.protect(case / "input.csv", case / "policy.toml", progress=False)
    published = tmp_path / "published.csv"
    amparo.publish(protected, case / "policy.toml", published)
    with pytest.raises(amparo.AmparoIOError, match="already exists"):
        amparo.publish(protected, case / "policy.toml", published)
    amparo.publish(protected, case / "policy.toml", published, overwrite=True)
    # The publication carries nothing but the dimensions, labels and values.
    assert published.read_text().splitlines()[0] == "district,sex,sex_label,children"


def test_publish_refuses_a_failed_audit_and_a_table_that_lost_its_metadata():
    case = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "publish_long"
    unsafe_policy = amparo.Policy.from_file(case / "policy.toml").with_overrides(secondary={"method": "none"})
    unsafe = amparo.protect(case / "input.csv", unsafe_policy, progress=False)
    with pytest.raises(amparo.InfeasibleError, match="the audit of this table failed"):
        amparo.publish(unsafe, unsafe_policy)
    safe = amparo.protect(case / "input.csv", case / "policy.toml", progress=False)
    with pytest.raises(amparo.DataError, match="carries no Amparo metadata"):
        amparo.publish(safe.replace_schema_metadata({}), case / "policy.toml")
    frame = amparo.protect(amparo.read_table(case / "input.csv").to_pandas(), case / "policy.toml", progress=False)
    assert amparo.publish(frame, case / "policy.toml")["children"].tolist()[:2] == ["45", "17"]


def test_audit_report_object_findings_table_html_and_schema(tmp_path: Path):
    import json

    import jsonschema

    policy = amparo.Policy.from_toml(
        'version = 1\n[input]\nkind = "aggregated"\ncount = "n"\n[dimensions.sex]\n[primary]\nthreshold = 5\n'
    )
    leaky = pa.table({"sex": ["Total", "F", "M"], "n": ["15", "x", "12"]})
    for data in (leaky, leaky.to_pandas(), pl.from_arrow(leaky)):
        report = amparo.audit(data, policy, lang="en")
        assert not report.passed and report.hidden_cells == 1
        findings = report.findings
        assert isinstance(findings, pa.Table)
        assert findings.column_names == ["check", "key", "table", "cell", "message"]
        assert findings.column("cell").to_pylist() == ["sex=F"]
        assert [c["check"] for c in report.checks if not c["passed"]] == ["protection"]
        html = report._repr_html_()
        assert "FAILED" in html and "sex=F" in html
    schema = json.loads((Path(__file__).resolve().parents[2] / "schema" / "audit-report.schema.json").read_text())
    jsonschema.validate(json.loads(report.to_json()), schema)
    # Spanish messages, and the metadata check on Amparo's own output.
    assert "puede calcularse exactamente: es 3" in amparo.audit(leaky, policy, lang="es").messages[0]
    with pytest.raises(amparo.PolicyError, match="en, es"):
        amparo.audit(leaky, policy, lang="xx")
    protected_policy = amparo.Policy.from_toml(
        'version = 1\n[input]\nkind = "aggregated"\ncount = "n"\n[dimensions.sex]\n[primary]\nthreshold = 5\n'
        '[secondary]\nmethod = "interval"\n'
    )
    out = amparo.publish(amparo.protect(pa.table({"sex": ["F", "M"], "n": [3, 12]}), protected_policy), protected_policy)
    assert amparo.audit(out, protected_policy).passed
    other = amparo.Policy.from_toml(
        'version = 1\n[input]\nkind = "aggregated"\ncount = "n"\n[dimensions.sex]\n[primary]\nthreshold = 4\n'
        '[secondary]\nmethod = "interval"\n'
    )
    stale = amparo.audit(out, other, lang="en")
    assert not stale.passed and stale.findings.column("check").to_pylist() == ["metadata"]


def test_junit_reports_validate_against_the_junit_schema():
    from lxml import etree

    schema = etree.XMLSchema(etree.parse(str(Path(__file__).resolve().parents[2] / "tests" / "schemas" / "junit.xsd")))
    policy = amparo.Policy.from_toml(
        'version = 1\n[input]\nkind = "aggregated"\ncount = "n"\n[dimensions.place]\n[dimensions.sex]\n[primary]\nthreshold = 5\n'
    )
    # Codes with XML's special characters must come out escaped.
    place = ["Total", "Total", "Total", 'A&B <"x">', 'A&B <"x">', 'A&B <"x">', "C", "C", "C"]
    sex = ["Total", "F", "M"] * 3
    leaky = pa.table({"place": place, "sex": sex, "n": ["40", "23", "17", "20", "x", "17", "20", "20", "0"]})
    safe = pa.table({"place": place, "sex": sex, "n": ["40", "20", "20", "20", "x", "x", "20", "x", "x"]})
    for data, ok in ((leaky, False), (safe, True)):
        report = amparo.audit(data, policy, lang="en")
        assert report.passed is ok
        document = etree.fromstring(report.to_junit().encode())
        assert schema.validate(document), schema.error_log
        failures = document.findall(".//failure")
        assert len(failures) == (0 if ok else 1)
        if not ok:
            assert 'place=A&B <"x">, sex=F' in failures[0].text
            assert document.get("failures") == "1"
    # The schema has teeth: a test case without a name, or a negative count, is refused.
    assert not schema.validate(etree.fromstring(b'<testsuites><testsuite name="t" tests="1" failures="0" errors="0"><testcase/></testsuite></testsuites>'))
    assert not schema.validate(etree.fromstring(b'<testsuites><testsuite name="t" tests="-1" failures="0" errors="0"/></testsuites>'))


def test_the_report_renders_as_html_with_a_heat_map_and_explain_names_the_protectors():
    policy = amparo.Policy.from_toml(
        'version = 1\n[input]\nkind = "aggregated"\ncount = "n"\n[dimensions.district]\n[dimensions.sex]\n[primary]\nthreshold = 5\n'
    )
    table = pa.table(
        {
            "district": ["Total"] * 3 + ["D1"] * 3 + ["D2"] * 3,
            "sex": ["Total", "F", "M"] * 3,
            "n": ["40", "20", "20", "20", "x", "x", "20", "x", "x"],
        }
    )
    for data in (table, table.to_pandas(), pl.from_arrow(table)):
        report = amparo.audit(data, policy, lang="en")
        html = report.to_html()
        assert html.startswith("<!DOCTYPE html>") and html.count('<td class="h"') == 4 and html.count('<td class="p"') == 5
        assert report._repr_html_().startswith("<iframe srcdoc=")
        assert "## Amparo audit: passed" in report.to_markdown()
        assert report.render("text") == report.to_text() and "passed" in report.to_text()
        text = amparo.explain(data, policy, "district=D1,sex=F", lang="en")
        assert "lies in [0, 20]" in text and "it is protected" in text
        assert text.count("it could be computed exactly") == 2
    with pytest.raises(amparo.PolicyError, match="text, json, junit, github or html"):
        report.render("yaml")
    with pytest.raises(amparo.PolicyError, match="not in its hierarchy"):
        amparo.explain(table, policy, "district=D9")
    with pytest.raises(amparo.PolicyError, match="dimension=code"):
        amparo.explain(table, policy, "D1")
    # A dict names the same cell as the text does.
    assert amparo.explain(table, policy, {"district": "D1", "sex": "F"}, lang="en") == amparo.explain(table, policy, "district=D1,sex=F", lang="en")
    with pytest.raises(amparo.PolicyError, match="not in its hierarchy"):
        amparo.explain(table, policy, {"district": "D9"})


def test_a_protected_table_written_to_csv_keeps_its_metadata_for_publication(tmp_path: Path):
    case = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "publish_long"
    protected = amparo.protect(case / "input.csv", case / "policy.toml", progress=False)
    internal = tmp_path / "internal.csv"
    amparo.write_table(protected, internal)
    assert (tmp_path / "internal.csv.meta.json").exists()
    published = amparo.publish(internal, case / "policy.toml")
    assert published.column_names == ["district", "sex", "sex_label", "children"]


@pytest.mark.parametrize("kind", ["pyarrow", "pandas", "polars"])
@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".arrow"])
def test_write_table_keeps_the_run_metadata_of_every_kind_of_result_in_every_format(tmp_path: Path, kind, suffix):
    data = {"pyarrow": pa.table(ROWS), "pandas": pd.DataFrame(ROWS), "polars": pl.DataFrame(ROWS)}[kind]
    policy = amparo.Policy.from_toml(str(POLICY.to_toml()) + '\n[secondary]\nmethod = "interval"\n')
    protected = amparo.protect(data, policy, progress=False)
    path = tmp_path / f"internal{suffix}"
    amparo.write_table(protected, path)
    if suffix == ".csv":
        import json

        sidecar = json.loads((tmp_path / "internal.csv.meta.json").read_text())
        assert sidecar["amparo.policy_sha256"] == policy.sha256
        assert sidecar["amparo.method"].startswith("primary:threshold")
    # Read back (a CSV's from its .meta.json), the metadata is the table's again,
    # and a second write keeps it: publication still knows how it was made.
    again = amparo.read_table(path)
    assert again.schema.metadata[b"amparo.policy_sha256"].decode() == policy.sha256
    second = tmp_path / f"again{suffix}"
    amparo.write_table(again, second)
    assert amparo.read_table(second).schema.metadata[b"amparo.policy_sha256"].decode() == policy.sha256
    # A CSV's data hash describes its own bytes: it never goes into another file.
    amparo.write_table(again, tmp_path / "cross.parquet")
    cross = amparo.read_table(tmp_path / "cross.parquet").schema.metadata
    assert cross[b"amparo.policy_sha256"].decode() == policy.sha256 and b"amparo.data_sha256" not in cross
    assert amparo.publish(second, policy).column_names[:2] == ["district", "sex"]


def test_write_table_of_a_plain_table_writes_no_metadata(tmp_path: Path):
    amparo.write_table(pd.DataFrame(ROWS), tmp_path / "plain.csv")
    assert not (tmp_path / "plain.csv.meta.json").exists()
    assert not any(k.startswith(b"amparo.") for k in (amparo.read_table(tmp_path / "plain.csv").schema.metadata or {}))


def test_the_amparo_command_runs_from_the_package_with_the_binarys_exit_codes(tmp_path: Path):
    """``python -m amparo`` (the wheel's ``amparo`` command) is the CLI: protect,
    publish and audit a table, and an unsafe or unreadable one stops the gate."""
    import subprocess
    import sys

    def amparo_command(*args: str) -> "subprocess.CompletedProcess[str]":
        return subprocess.run([sys.executable, "-m", "amparo", *map(str, args)], capture_output=True, text=True, env={**os.environ, "LC_ALL": "C"})

    policy = tmp_path / "policy.toml"
    policy.write_text(str(POLICY.to_toml()) + '\n[secondary]\nmethod = "interval"\n')
    source = tmp_path / "input.csv"
    pa_csv.write_csv(pa.table(ROWS), source)
    version = amparo_command("--version")
    assert version.returncode == 0 and version.stdout.strip() == f"amparo {amparo.__version__}"
    protected = amparo_command("protect", "-p", policy, source, "-o", tmp_path / "out.csv")
    assert protected.returncode == 0, protected.stderr
    assert "audit:" in protected.stdout and (tmp_path / "out.csv.meta.json").exists()
    published = amparo_command("publish", "-p", policy, tmp_path / "out.csv", "-o", tmp_path / "pub.csv")
    assert published.returncode == 0, published.stderr
    safe = amparo_command("audit", "-p", policy, tmp_path / "pub.csv")
    assert safe.returncode == 0 and "passed" in safe.stdout, safe.stdout + safe.stderr
    # The hidden small count put back in the published file: the gate fails.
    lines = (tmp_path / "pub.csv").read_text().splitlines()
    unsafe_lines = [line.replace(",x", ",2", 1) if line.startswith("D1,M") else line for line in lines]
    (tmp_path / "unsafe.csv").write_text("\n".join(unsafe_lines) + "\n")
    unsafe = amparo_command("audit", "-p", policy, tmp_path / "unsafe.csv")
    assert unsafe.returncode == 1, unsafe.stdout + unsafe.stderr
    missing = amparo_command("audit", "-p", policy, tmp_path / "nowhere.csv")
    assert missing.returncode == 2 and missing.stderr.startswith("amparo: ")
    usage = amparo_command("protect")
    assert usage.returncode == 2 and "Usage:" in usage.stderr


def test_errors_are_also_the_builtin_exceptions_existing_except_clauses_catch(tmp_path: Path):
    with pytest.raises(ValueError) as bad_policy:
        amparo.Policy.from_toml("version = 1\n[input]\nkind = \"aggregated\"\n[dimensions.sex]\n[primary]\nthreshhold = 5\n")
    assert isinstance(bad_policy.value, amparo.PolicyError) and isinstance(bad_policy.value, amparo.AmparoError)
    with pytest.raises(OSError) as missing:
        amparo.read_table(tmp_path / "nowhere.csv")
    assert isinstance(missing.value, amparo.AmparoIOError) and "nowhere.csv" in str(missing.value)
    with pytest.raises(ValueError):
        amparo.protect(pa.table({"district": ["D1"], "sex": ["F"], "n": [-3]}), POLICY, progress=False)
    for cls in (amparo.PolicyError, amparo.SchemaError, amparo.HierarchyError, amparo.DataError, amparo.InfeasibleError):
        assert issubclass(cls, amparo.AmparoError) and issubclass(cls, ValueError) and cls.__module__ == "amparo"
    assert issubclass(amparo.AmparoIOError, OSError) and not issubclass(amparo.AmparoIOError, ValueError)


def test_a_dict_policy_is_taken_wherever_a_policy_is_and_mistakes_name_the_keyword_or_section():
    as_dict = {"version": 1, "input": {"kind": "aggregated", "count": "n"}, "dimensions": {"district": {}, "sex": {"codes": ["F", "M"]}},
               "primary": {"threshold": 5}}
    assert published(amparo.protect(pa.table(ROWS), as_dict, progress=False)) == published(amparo.protect(pa.table(ROWS), POLICY, progress=False))
    with pytest.raises(amparo.PolicyError, match=r"`keep_origin` is neither an argument of this function .* did you mean `keep_original`\?"):
        amparo.protect(pa.table(ROWS), POLICY, keep_origin=True, progress=False)
    with pytest.raises(amparo.PolicyError, match=r"^in the policy's \[rounding\] section: unknown key `bse`; did you mean `base`\?"):
        amparo.round_table(pa.table(ROWS), POLICY, bse=5, progress=False)
    for method in (amparo.round_table, amparo.perturb, amparo.add_noise):
        with pytest.raises(amparo.PolicyError, match=r"`keep_origin` is neither an argument of this function .* section; did you mean `keep_original`\?"):
            method(pa.table(ROWS), POLICY, keep_origin=True, progress=False)
    with pytest.raises(amparo.PolicyError, match=r"^in the policy's \[dimensions\.sex\] section: unknown key `codez`"):
        amparo.Policy.from_dict({**as_dict, "dimensions": {"sex": {"codez": ["F"]}}})


def test_a_dict_policy_is_the_policy_file_it_spells_out_in_the_users_order():
    """tests/policies/dimension_order.toml: the same text and SHA-256 from a
    dict as from the file (and from R's list, in testthat)."""
    path = Path(__file__).resolve().parents[2] / "tests" / "policies" / "dimension_order.toml"
    built = amparo.Policy.from_dict(
        {"version": 1, "input": {"kind": "microdata"}, "dimensions": {"district": {}, "nationality": {}, "age_band": {}}, "primary": {"threshold": 5}}
    )
    assert built.sha256 == amparo.Policy.from_file(path).sha256
    assert built.dimensions == ["district", "nationality", "age_band"]


def test_a_polars_lazyframe_is_refused_with_the_way_to_a_table():
    with pytest.raises(TypeError, match=r"LazyFrame is a query.*call \.collect\(\).*sink_parquet"):
        amparo.protect(pl.DataFrame(ROWS).lazy(), POLICY, progress=False)


def test_every_public_function_class_and_method_has_a_docstring():
    missing = []
    for name in amparo.__all__:
        obj = getattr(amparo, name)
        if callable(obj) and not (obj.__doc__ or "").strip():
            missing.append(name)
        if isinstance(obj, type) and not issubclass(obj, BaseException):
            for attr, member in vars(obj).items():
                if not attr.startswith("_") and callable(getattr(member, "fget", member)) and not (getattr(member, "__doc__", "") or "").strip():
                    missing.append(f"{name}.{attr}")
    assert missing == []


def test_the_audit_names_a_file_without_metadata_instead_of_dropping_the_check(tmp_path: Path):
    policy = amparo.Policy.from_toml(str(POLICY.to_toml()) + '\n[secondary]\nmethod = "interval"\n')
    published = amparo.publish(amparo.protect(pa.table(ROWS), policy, progress=False), policy, tmp_path / "pub.csv")
    assert published.num_rows > 0
    with_metadata = amparo.audit(tmp_path / "pub.csv", policy, lang="en")
    assert with_metadata.passed and with_metadata.unrecorded == []
    (tmp_path / "pub.csv.meta.json").unlink()
    bare = amparo.audit(tmp_path / "pub.csv", policy, lang="en")
    assert bare.passed and [Path(t).name for t in bare.unrecorded] == ["pub.csv"]
    assert "metadata: not checked" in bare.to_text() and "metadata" not in [c["check"] for c in bare.checks]
