"""What protection cost (amparo.summary), and tables of the kind asked for (like=)."""

import json
from pathlib import Path

import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pytest

import amparo

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_POLICY = ROOT / "examples" / "policy.toml"
EXAMPLE_DATA = ROOT / "examples" / "children.csv"


def example() -> pa.Table:
    return amparo.read_table(EXAMPLE_DATA)


def leaf_rows(table: pa.Table) -> pa.Array:
    """The inner cells of the example: a municipality (5-digit code), a nationality, an age band."""
    district = pc.equal(pc.utf8_length(table.column("district")), 5)
    nationality = pc.not_equal(table.column("nationality"), "Total")
    age = pc.not_equal(table.column("age_band"), "0-17")
    return pc.and_(pc.and_(district, nationality), age)


def plain_text(table: pa.Table) -> pa.Table:
    """polars hands text over as string views, which pyarrow's compute does not compare."""
    return table.cast(pa.schema([pa.field(f.name, pa.string() if pa.types.is_string_view(f.type) else f.type) for f in table.schema]))


@pytest.mark.parametrize("kind", ["pyarrow", "pandas", "polars"])
def test_a_suppressions_summary_counts_the_cells_and_children_hidden_in_the_table(kind: str) -> None:
    data = amparo.read_table(EXAMPLE_DATA, like=kind)
    out = amparo.protect(data, EXAMPLE_POLICY, keep_original=True, progress=False)
    s = amparo.summary(out)
    assert type(s.measures).__module__.split(".")[0] == kind
    table = pa.table(out) if kind != "pandas" else pa.Table.from_pandas(out, preserve_index=False)
    table = plain_text(table)
    hidden = pc.is_null(table.column("published"))
    assert s["hidden"] == pc.sum(hidden).as_py()
    assert s["primary"] == pc.sum(pc.equal(table.column("status"), "primary")).as_py()
    assert s["secondary"] == s["hidden"] - s["primary"]
    inner = leaf_rows(table)
    assert s["children"] == pc.sum(table.column("value").filter(inner)).as_py()
    assert s["children_hidden"] == pc.sum(table.column("value").filter(pc.and_(inner, hidden))).as_py()
    levels = plain_text(pa.table(s.by_level))
    for dimension in ["district", "nationality", "age_band"]:
        rows = levels.filter(pc.equal(levels.column("dimension"), dimension))
        assert pc.sum(rows.column("cells")).as_py() == table.num_rows
        assert pc.sum(rows.column("hidden")).as_py() == s["hidden"]
    assert pa.table(s.changes).num_rows == 0
    assert "hidden:" in repr(s) and "children in hidden inner cells" in repr(s)


def test_a_roundings_summary_is_the_distribution_of_published_minus_original() -> None:
    policy = amparo.Policy.from_file(EXAMPLE_POLICY)
    out = amparo.round_table(example(), policy, keep_original=True, base=5, seed=7, progress=False)
    s = amparo.summary(out)
    change = pc.subtract(out.column("published"), out.column("value")).to_pylist()
    assert s["changed"] == sum(1 for d in change if d != 0)
    assert s["max_abs_change"] == max(abs(d) for d in change)
    assert s["mean_abs_change"] == pytest.approx(sum(abs(d) for d in change) / len(change))
    assert s["hidden"] == 0 and "children_hidden" not in pa.table(s.measures).column("measure").to_pylist()
    bins = pa.table(s.changes).to_pylist()
    assert sum(b["cells"] for b in bins) == len(change)
    for b in bins:
        assert b["cells"] == sum(1 for d in change if b["from"] <= d <= b["to"])
        assert b["share"] == pytest.approx(b["cells"] / len(change))
    # Base 5: no change reaches 5.
    assert all(abs(d) < 5 for d in change)
    with pytest.raises(KeyError, match="children_hidden.*its measures: cells"):
        s["children_hidden"]


def test_the_summary_survives_the_files_and_never_reaches_the_publication(tmp_path: Path) -> None:
    policy = amparo.Policy.from_file(EXAMPLE_POLICY)
    out = amparo.protect(amparo.read_table(EXAMPLE_DATA, like="pandas"), policy, progress=False)
    expected = amparo.summary(out).to_dict()
    for name in ["internal.csv", "internal.parquet", "internal.arrow"]:
        amparo.write_table(out, tmp_path / name)
        assert amparo.summary(tmp_path / name).to_dict() == expected, name
        assert amparo.summary(amparo.read_table(tmp_path / name, like="polars")).to_dict() == expected, name
    published = amparo.publish(out, policy, tmp_path / "published.parquet")
    with pytest.raises(amparo.DataError, match="publication, which never carries one"):
        amparo.summary(published)
    meta = json.loads((tmp_path / "internal.csv.meta.json").read_text())
    assert "amparo.summary" in meta
    amparo.publish(out, policy, tmp_path / "published.csv")
    assert not any("summary" in k or "loss" in k for k in json.loads((tmp_path / "published.csv.meta.json").read_text()))
    with pytest.raises(amparo.DataError, match="carries no Amparo metadata"):
        amparo.summary(pa.table({"a": [1]}))


def test_the_cli_and_python_give_the_same_summary(tmp_path: Path) -> None:
    """Same input and policy: `amparo protect --format json` prints what amparo.summary gives."""
    import contextlib
    import io

    written = tmp_path / "protected.parquet"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = amparo._amparo.run_cli(["amparo", "protect", "--format", "json", "-p", str(EXAMPLE_POLICY), str(EXAMPLE_DATA), "-o", str(written)])
    assert code == 0
    from_python = amparo.summary(amparo.protect(example(), EXAMPLE_POLICY, progress=False)).to_dict()
    assert amparo.summary(written).to_dict() == from_python


def test_like_gives_the_kind_of_table_asked_for_and_names_the_kinds_when_wrong() -> None:
    assert isinstance(amparo.read_table(EXAMPLE_DATA), pa.Table)
    assert isinstance(amparo.read_table(EXAMPLE_DATA, like="pandas"), pd.DataFrame)
    assert isinstance(amparo.read_table(EXAMPLE_DATA, like=pl.DataFrame()), pl.DataFrame)
    with pytest.raises(ValueError, match="'pyarrow', 'pandas' or 'polars'"):
        amparo.read_table(EXAMPLE_DATA, like="tibble")
    with pytest.raises(TypeError, match="like= takes"):
        amparo.read_table(EXAMPLE_DATA, like=3)
    policy = amparo.Policy.from_toml('version = 1\n[input]\nkind = "aggregated"\ncount = "n"\n[dimensions.sex]\n[primary]\nthreshold = 5\n')
    published = pd.DataFrame({"sex": ["Total", "F", "M"], "n": ["15", "x", "12"]})
    report = amparo.audit(published, policy, lang="en", like=published)
    assert isinstance(report.findings, pd.DataFrame)
    assert report.findings["check"].tolist() == ["protection"]
    assert isinstance(amparo.audit(published, policy, lang="en").findings, pa.Table)


def test_controlled_rounding_reports_its_progress_part_by_part() -> None:
    """Rounding tells what it is doing instead of a silence after reading the rows."""
    import random

    rng = random.Random(5)
    rows: "dict[str, list]" = {"district": [], "nationality": [], "age": [], "n": []}
    for department in range(10, 16):
        for municipality in range(100, 110):
            for nationality in ["VEN", "HTI", "COL", "ECU", "PER", "CUB", "BOL", "DOM"]:
                for age in ["0-4", "5-9", "10-14", "15-17"]:
                    for key, value in zip(rows, [f"{department}{municipality}", nationality, age, rng.randint(0, 40)]):
                        rows[key].append(value)
    policy = amparo.Policy.from_dict(
        {"version": 1, "input": {"kind": "aggregated", "count": "n"}, "dimensions": {"district": {"code_lengths": [2, 5]}, "nationality": {}, "age": {}}}
    )
    seen: "list[tuple[str, int, object]]" = []
    out = amparo.round_table(pa.table(rows), policy, method="controlled", base=5, keep_original=True, progress=lambda stage, done, total: seen.append((stage, done, total)))
    stages = [s for s, _, _ in seen]
    assert "rounding: cells to send up or down" in stages
    parts = [(done, total) for stage, done, total in seen if stage == "rounding the table's parts"]
    # The root and the six departments, counted from 0 to all of them.
    assert parts[0] == (0, 7) and parts[-1] == (7, 7)
    assert [d for d, _ in parts] == sorted(d for d, _ in parts)
    s = amparo.summary(out)
    assert s["max_abs_change"] < 5 * 2 and s["changed"] > 0


def test_synth_gives_the_shared_records_as_a_table_of_the_kind_asked_for(tmp_path: Path) -> None:
    """tests/synth: the records the CLI wrote, from synth() without a file."""
    expected = (ROOT / "tests" / "synth" / "records_40_seed_3.csv").read_bytes()
    for kind in ["pyarrow", "pandas", "polars"]:
        records = amparo.synth(records=40, seed=3, like=kind)
        assert type(records).__module__.split(".")[0] == kind
        amparo.write_table(records, tmp_path / f"{kind}.csv")
        assert (tmp_path / f"{kind}.csv").read_bytes() == expected, kind
    assert amparo.synth(tmp_path / "records.parquet", records=40, seed=3) == 40
    assert amparo.read_table(tmp_path / "records.parquet").equals(amparo.synth(records=40, seed=3))
    with pytest.raises(amparo.PolicyError, match="give a path"):
        amparo.synth(records=10**9)


def test_the_summary_explain_and_audit_speak_spanish_when_asked() -> None:
    policy = amparo.Policy.from_file(EXAMPLE_POLICY)
    out = amparo.protect(example(), policy, progress=False)
    text = repr(amparo.summary(out, lang="es"))
    for words in ["ocultas:", "primaria", "umbral<5", "secundaria", "protege una celda sensible", "niños y niñas en celdas interiores ocultas", "51,1 %"]:
        assert words in text, words
    assert "hidden:" in repr(amparo.summary(out, lang="en"))
    rounded = repr(amparo.summary(amparo.round_table(example(), policy, base=5, seed=2, progress=False), lang="es"))
    assert "redondeada" in rounded and "redondeo aleatorio a base 5" in rounded and "cambios:" in rounded
    # A producer's table names each hidden cell's status and reason: in Spanish too.
    primary = out.filter(pc.equal(out.column("status"), "primary")).slice(0, 1).to_pylist()[0]
    cell = {k: primary[k] for k in ["district", "nationality", "age_band"]}
    assert "la tabla la marca como primaria: umbral<5" in amparo.explain(out, policy, cell, lang="es")
    # A table given as a frame is "tabla 1" in a Spanish report.
    published = amparo.publish(out, policy)
    assert "de tabla 1" in amparo.explain(published, policy, cell, lang="es")
    assert "of table 1" in amparo.explain(published, policy, cell, lang="en")
    with pytest.raises(amparo.PolicyError, match="en, es"):
        amparo.summary(out, lang="pt")
