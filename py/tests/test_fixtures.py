"""The shared fixtures through the Python frontend: same bytes as the core and the CLI."""

import tomllib
from pathlib import Path

import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

import amparo

FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "fixtures"
CASES = sorted(p for p in FIXTURES.iterdir() if (p / "case.toml").exists())
GOOD = [c for c in CASES if "error" not in tomllib.loads((c / "case.toml").read_text())]
BAD = [c for c in CASES if c not in GOOD]

ERROR_CLASSES = {
    "policy": amparo.PolicyError,
    "schema": amparo.SchemaError,
    "hierarchy": amparo.HierarchyError,
    "data": amparo.DataError,
    "infeasible": amparo.InfeasibleError,
    "io": amparo.AmparoIOError,
}


def read_input_as_text(case: Path) -> pa.Table:
    """The fixture input with every column as text, as the core reads CSV."""
    return amparo.read_table(case / "input.csv")


def test_fixture_cases_are_present():
    assert len(GOOD) >= 3 and len(BAD) >= 14


@pytest.mark.parametrize("case", GOOD, ids=lambda p: p.name)
@pytest.mark.parametrize("kind", ["pyarrow", "pandas", "polars", "path"])
def test_good_case_gives_expected_bytes(case: Path, kind: str, tmp_path: Path):
    spec = tomllib.loads((case / "case.toml").read_text())
    keep = spec.get("keep_original", False)
    table = read_input_as_text(case)
    data = {
        "pyarrow": table,
        "pandas": table.to_pandas(),
        "polars": pl.from_arrow(table),
        "path": case / "input.csv",
    }[kind]
    expected_type = {"pyarrow": pa.Table, "pandas": pd.DataFrame, "polars": pl.DataFrame, "path": pa.Table}[kind]
    if "tables" in spec:  # linked tables: one expected.<table>.csv each
        outs = amparo.protect_tables(data, case / "policy.toml", keep_original=keep)
        assert list(outs) == spec["tables"]
        expected = {f"expected.{name}.csv": out for name, out in outs.items()}
    else:
        expected = {"expected.csv": amparo.protect(data, case / "policy.toml", keep_original=keep)}
    for file, out in expected.items():
        assert isinstance(out, expected_type)
        written = tmp_path / file
        amparo.write_table(out, written)
        assert written.read_bytes() == (case / file).read_bytes(), file


@pytest.mark.parametrize("case", BAD, ids=lambda p: p.name)
def test_bad_case_raises_named_error(case: Path):
    spec = tomllib.loads((case / "case.toml").read_text())["error"]
    cls = ERROR_CLASSES[spec["kind"]]
    with pytest.raises(cls) as info:
        policy = amparo.Policy.from_file(case / "policy.toml")
        amparo.protect(read_input_as_text(case), policy)
    assert isinstance(info.value, amparo.AmparoError)
    for fragment in spec["contains"]:
        assert fragment in str(info.value)


def outsider_view(table: pa.Table) -> pa.Table:
    """The cells of a protected table as an outsider sees them: the
    dimension columns and ``published``, nothing else."""
    names = table.column_names
    stop = names.index("value") if "value" in names else names.index("published")
    return table.select(names[:stop] + ["published"])


@pytest.mark.parametrize("case", [c for c in GOOD if (c / "expected.csv").exists()], ids=lambda p: p.name)
@pytest.mark.parametrize("kind", ["pyarrow", "polars", "path"])
def test_published_fixture_audits_as_the_cli_says(case: Path, kind: str, tmp_path: Path):
    """The expected cells, audited as an outsider sees them, pass exactly when the case's audit passes."""
    spec = tomllib.loads((case / "case.toml").read_text())
    table = outsider_view(amparo.read_table(case / "expected.csv"))
    view = tmp_path / "view.csv"
    amparo.write_table(table, view)
    data = {"pyarrow": table, "polars": pl.from_arrow(table), "path": view}[kind]
    report = amparo.audit(data, case / "policy.toml")
    assert isinstance(report, amparo.AuditReport)
    assert report.passed == (spec["audit"] == "passed"), report.findings
    # Every hidden cell of the file is counted (none in a rounded table).
    assert report.cells == table.num_rows
    assert report.hidden_cells == table.column("published").null_count
    assert all("(" in f for f in report.messages)


@pytest.mark.parametrize("case", [c for c in GOOD if (c / "expected.csv").exists()], ids=lambda p: p.name)
def test_the_producers_table_fails_the_columns_check(case: Path):
    """Amparo's own protected table is not for publication: the audit names its internal columns."""
    report = amparo.audit(amparo.read_table(case / "expected.csv"), case / "policy.toml")
    assert not report.passed
    failed = [c["check"] for c in report.checks if not c["passed"]]
    assert "columns" in failed and "`status`" in " ".join(report.messages)


PUBLISH = [c for c in GOOD if "publish" in tomllib.loads((c / "case.toml").read_text())]


def first_sheet_as_csv(path: Path) -> str:
    """The first sheet of a workbook as CSV text (whole numbers without a decimal point)."""
    import openpyxl

    sheet = openpyxl.load_workbook(path, read_only=True).worksheets[0]
    lines = []
    for row in sheet.iter_rows(values_only=True):
        cells = ["" if v is None else str(int(v)) if isinstance(v, (int, float)) and float(v).is_integer() else str(v) for v in row]
        lines.append(",".join(cells) + "\n")
    return "".join(lines)


@pytest.mark.parametrize("case", PUBLISH, ids=lambda p: p.name)
@pytest.mark.parametrize("kind", ["pyarrow", "pandas", "polars", "path"])
def test_publish_case_gives_the_expected_publication(case: Path, kind: str, tmp_path: Path):
    spec = tomllib.loads((case / "case.toml").read_text())["publish"]
    table = read_input_as_text(case)
    data = {"pyarrow": table, "pandas": table.to_pandas(), "polars": pl.from_arrow(table), "path": case / "input.csv"}[kind]
    protected = amparo.protect(data, case / "policy.toml", progress=False)
    target = tmp_path / spec["output"]
    published = amparo.publish(protected, case / "policy.toml", target, layout=spec.get("layout"))
    if spec["output"].endswith(".xlsx"):
        assert first_sheet_as_csv(target) == (case / f"expected.{spec['output']}.csv").read_text()
        return
    assert target.read_text() == (case / f"expected.{spec['output']}").read_text()
    # What publish returns is the publication table (SDMX-CSV adds its own columns to it).
    if not spec["output"].endswith(".sdmx.csv"):
        assert pa.table(published).column_names == target.read_text().splitlines()[0].split(",")
    assert amparo.audit(target, case / "policy.toml").passed


def test_audit_reads_the_publishers_marks():
    case = FIXTURES / "secondary_interval_two_way"
    table = pa.table({"r": ["a", "a", "b", "b", "a"], "c": ["x", "y", "x", "y", "Total"], "n": ["?", "10", "8", "9", "13"]})
    with pytest.raises(amparo.DataError, match="row 1: column `n` has `\\?`"):
        amparo.audit(table, case / "policy.toml")
    report = amparo.audit(table, case / "policy.toml", hidden_symbols=["?"])
    assert not report.passed
    # (a,z) is not listed: (a,x) + (a,z) = 3, so (a,x) is only shown to be small.
    assert report.messages == ["hidden cell (r=a, c=x) can be shown to lie in [0, 3], below the threshold of 5"]


def test_audit_of_linked_published_tables_finds_differencing(tmp_path: Path):
    case = FIXTURES / "linked_tables"
    by_sex = outsider_view(amparo.read_table(case / "expected.by_sex.csv"))
    by_age = tmp_path / "by_age.csv"
    amparo.write_table(outsider_view(amparo.read_table(case / "expected.by_age.csv")), by_age)
    assert amparo.audit([by_sex, amparo.read_table(by_age)], case / "policy.toml").passed
    leaky = tmp_path / "leaky_by_age.csv"
    internal = tmp_path / "internal_by_age.csv"
    original = (case / "expected.by_age.csv").read_text()
    text = original.replace("1a,Total,13,,secondary,protects a sensitive cell,11,20", "1a,Total,13,13,published,,,").replace(
        "1a,B,7,,secondary,protects a sensitive cell,0,15", "1a,B,7,7,published,,,"
    )
    assert text.count(",published,,,") == original.count(",published,,,") + 2, "the fixture's lines changed: update the test"
    internal.write_text(text)
    amparo.write_table(outsider_view(amparo.read_table(internal)), leaky)
    report = amparo.audit([by_sex, leaky], case / "policy.toml")
    assert "hidden cell (district=1a, sex=F) can be computed exactly: it is 2" in report.messages
    with pytest.raises(amparo.PolicyError, match="2 linked tables"):
        amparo.audit([by_sex], case / "policy.toml")
