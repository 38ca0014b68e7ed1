"""The Python API over the whole core: policies built in code, overrides, the
three ways to protect one table (suppression, rounding, noise, and the cell
key method), hierarchies from Python data, progress, typing, and bad input
named by its column. Every function is run on pyarrow, pandas and polars."""

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

import amparo

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
KINDS = ["pyarrow", "pandas", "polars"]
FRAME_TYPES = {"pyarrow": pa.Table, "pandas": pd.DataFrame, "polars": pl.DataFrame}

POLICY = {
    "version": 1,
    "input": {"kind": "aggregated", "count": "n"},
    "dimensions": {"district": {"codes": ["D1", "D2", "D3"]}, "sex": {"codes": ["F", "M"]}},
    "primary": {"threshold": 5},
    "secondary": {"method": "interval"},
}
COUNTS = pa.table({"district": ["D1", "D1", "D2", "D2", "D3", "D3"], "sex": ["F", "M"] * 3, "n": [3, 17, 20, 8, 12, 2]})


def as_kind(table: pa.Table, kind: str):
    return {"pyarrow": table, "pandas": table.to_pandas(), "polars": pl.from_arrow(table)}[kind]


def to_arrow(frame) -> pa.Table:
    if isinstance(frame, pd.DataFrame):
        return pa.Table.from_pandas(frame, preserve_index=False)
    if isinstance(frame, pl.DataFrame):
        return frame.to_arrow()
    return frame


def cell(out: pa.Table, **codes) -> dict:
    rows = [r for r in out.to_pylist() if all(r[k] == v for k, v in codes.items())]
    assert len(rows) == 1, codes
    return rows[0]


def cli() -> Path:
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    binary = target / "release" / "amparo"
    if not binary.exists():
        pytest.skip("the CLI is built by `cargo test --release` (scripts/test.sh runs it first)")
    return binary


def test_policy_from_dict_round_trips_and_overrides_merge():
    policy = amparo.Policy.from_dict(POLICY)
    assert policy.dimensions == ["district", "sex"]
    again = amparo.Policy.from_toml(policy.to_toml())
    assert again.sha256 == policy.sha256
    assert policy.to_dict()["secondary"] == {"method": "interval"}
    stricter = policy.with_overrides(primary={"threshold": 10})
    assert stricter.to_dict()["primary"] == {"threshold": 10}
    assert stricter.to_dict()["secondary"] == {"method": "interval"}
    assert stricter.sha256 != policy.sha256
    with pytest.raises(amparo.PolicyError, match="primray"):
        amparo.Policy.from_dict({**POLICY, "primray": {}})
    with pytest.raises(amparo.PolicyError, match="leave out a key"):
        amparo.Policy.from_dict({**POLICY, "name": None})
    with pytest.raises(amparo.PolicyError, match="rounding, perturbation or noise"):
        policy.for_method("smoothing")


@pytest.mark.parametrize("kind", KINDS)
def test_protect_with_overrides_hides_more_and_keeps_the_frame_kind(kind):
    data = as_kind(COUNTS, kind)
    policy = amparo.Policy.from_dict(POLICY)
    base = amparo.protect(data, policy, progress=False)
    strict = amparo.protect(data, policy, primary={"threshold": 10}, progress=False)
    assert isinstance(base, FRAME_TYPES[kind]) and isinstance(strict, FRAME_TYPES[kind])
    primaries = lambda out: sum(s == "primary" for s in to_arrow(out).column("status").to_pylist())  # noqa: E731
    assert (primaries(base), primaries(strict)) == (2, 3)
    # 8 (D2 x M) is below 10, not below 5.
    assert cell(to_arrow(strict), district="D2", sex="M")["status"] == "primary"
    assert cell(to_arrow(base), district="D2", sex="M")["status"] != "primary"


@pytest.mark.parametrize("kind", KINDS)
def test_round_gives_multiples_of_the_base_from_a_suppression_policy(kind):
    out = to_arrow(amparo.round_table(as_kind(COUNTS, kind), POLICY_PATH(), base=5, seed=11, progress=False))
    values = out.column("published").to_pylist()
    assert len(values) == 12 and all(v is not None and v % 5 == 0 for v in values)
    assert set(out.column("status").to_pylist()) == {"rounded"}
    # Each cell within one base of its count (rounding moves a count to a neighbouring multiple).
    original = to_arrow(amparo.round_table(as_kind(COUNTS, kind), POLICY_PATH(), base=5, seed=11, keep_original=True, progress=False))
    assert all(abs(p - v) < 5 for p, v in zip(original.column("published").to_pylist(), original.column("value").to_pylist()))
    # Controlled rounding: the table still adds up.
    controlled = to_arrow(amparo.round_table(as_kind(COUNTS, kind), POLICY_PATH(), method="controlled", base=5, progress=False))
    total = cell(controlled, district="Total", sex="Total")["published"]
    assert total == sum(cell(controlled, district=d, sex="Total")["published"] for d in ["D1", "D2", "D3"])


@pytest.mark.parametrize("kind", KINDS)
def test_noise_is_whole_non_negative_and_adds_up(kind):
    out = to_arrow(amparo.add_noise(as_kind(COUNTS, kind), POLICY_PATH(), rho="1/2", seed=5, progress=False))
    assert set(out.column("status").to_pylist()) == {"noisy"}
    for d in ["Total", "D1", "D2", "D3"]:
        row = [cell(out, district=d, sex=s)["published"] for s in ["Total", "F", "M"]]
        assert all(v >= 0 for v in row) and row[0] == row[1] + row[2]
    laplace = to_arrow(amparo.add_noise(as_kind(COUNTS, kind), POLICY_PATH(), method="discrete_laplace", epsilon=1, seed=5, progress=False))
    assert "sd" in laplace.column_names
    with pytest.raises(amparo.PolicyError, match="rho"):
        amparo.add_noise(as_kind(COUNTS, kind), POLICY_PATH(), progress=False)


@pytest.mark.parametrize("kind", KINDS)
def test_perturb_gives_the_fixture_output(kind):
    case = FIXTURES / "cell_key_microdata"
    data = as_kind(amparo.read_table(case / "input.csv"), kind)
    expected = [int(v) for v in amparo.read_table(case / "expected.csv").column("published").to_pylist()]
    got = to_arrow(amparo.perturb(data, case / "policy.toml", progress=False))
    assert got.column("published").to_pylist() == expected
    # The same cell keys with a wider ptable: zeros stay zero, and values move by at most D.
    wider = to_arrow(amparo.perturb(data, case / "policy.toml", max_deviation=3, variance=2, keep_original=True, progress=False))
    for published, value in zip(wider.column("published").to_pylist(), wider.column("value").to_pylist()):
        assert abs(published - value) <= 3 and (value != 0 or published == 0)


def POLICY_PATH() -> amparo.Policy:
    return amparo.Policy.from_dict(POLICY)


def test_round_and_noise_give_the_same_bytes_as_the_cli(tmp_path):
    binary = cli()
    source = tmp_path / "counts.csv"
    amparo.write_table(COUNTS, source)
    for method, options in [("rounding", {"base": 5, "seed": 11}), ("noise", {"rho": "1/2", "seed": 5})]:
        policy = amparo.Policy.from_dict(POLICY).for_method(method, **options)
        policy_file = tmp_path / f"{method}.toml"
        policy_file.write_text(policy.to_toml())
        from_cli = tmp_path / f"{method}.cli.csv"
        subprocess.run([binary, "protect", "-p", policy_file, source, "-o", from_cli], check=True, capture_output=True)
        call = amparo.round_table if method == "rounding" else amparo.add_noise
        from_python = tmp_path / f"{method}.py.csv"
        amparo.write_table(call(COUNTS, amparo.Policy.from_dict(POLICY), progress=False, **options), from_python)
        assert from_python.read_bytes() == from_cli.read_bytes(), method


@pytest.mark.parametrize("kind", KINDS)
def test_hierarchies_from_python_data(kind):
    regions = amparo.hierarchy_from_tree({"Total": {"North": ["D1", "D2"], "South": ["D3"]}})
    policy = amparo.Policy.from_dict({**POLICY, "dimensions": {"district": regions, "sex": {"codes": ["F", "M"]}}})
    out = to_arrow(amparo.protect(as_kind(COUNTS, kind), policy, secondary={"method": "none"}, progress=False))
    assert cell(out, district="North", sex="Total")["published"] == 3 + 17 + 20 + 8
    codes = as_kind(pa.table({"code": ["N", "D1", "D2", "S", "D3"], "parent": ["", "N", "N", None, "S"]}), kind)
    table_section = amparo.hierarchy_from_table(codes)
    assert table_section == {"parents": {"N": "", "D1": "N", "D2": "N", "S": "", "D3": "S"}}
    policy = amparo.Policy.from_dict({**POLICY, "dimensions": {"district": table_section, "sex": {}}})
    out = to_arrow(amparo.protect(as_kind(COUNTS, kind), policy, progress=False))
    assert {"N", "S", "Total"} <= set(out.column("district").to_pylist())
    with pytest.raises(amparo.SchemaError, match="no column `padre`"):
        amparo.hierarchy_from_table(codes, parent="padre")
    places = pa.table({"place": ["05001", "05002", "08001"], "n": [4, 6, 9]})
    policy = amparo.Policy.from_dict(
        {"version": 1, "input": {"kind": "aggregated", "count": "n"}, "dimensions": {"place": amparo.hierarchy_from_code_lengths([2, 5])}}
    )
    out = to_arrow(amparo.protect(as_kind(places, kind), policy, progress=False))
    assert cell(out, place="05")["published"] == 10


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_progress_reaches_callbacks_and_bars_only_when_asked(capsys):
    calls = []
    amparo.protect(COUNTS, POLICY_PATH(), progress=lambda stage, done, total: calls.append((stage, done, total)))
    stages = [c[0] for c in calls]
    assert stages[0] == "reading rows" and calls[0][1] == 6 and calls[0][2] is None
    assert "auditing hidden cells" in stages
    assert all(total is None or 0 <= done <= total for _, done, total in calls)
    amparo.protect(COUNTS, POLICY_PATH())  # not interactive under pytest: silent
    assert capsys.readouterr().err == ""
    amparo.protect(COUNTS, POLICY_PATH(), progress=True)
    err = capsys.readouterr().err
    assert "amparo: reading rows 6" in err and err.endswith("\n")
    # A failing callback does not stop the work.
    out = amparo.protect(COUNTS, POLICY_PATH(), progress=lambda *a: 1 / 0)
    assert out.num_rows == 12


@pytest.mark.parametrize("kind", ["pandas", "polars"])
def test_bad_input_names_the_column(kind):
    policy = POLICY_PATH()
    nulls = pa.table({"district": ["D1", None], "sex": ["F", "M"], "n": [3, 4]})
    with pytest.raises(amparo.DataError, match="column `district` has no code"):
        amparo.protect(as_kind(nulls, kind), policy)
    fractional = pa.table({"district": ["D1", "D2"], "sex": ["F", "M"], "n": [3.5, 4.0]})
    with pytest.raises(amparo.DataError, match="count column `n` has 3.5"):
        amparo.protect(as_kind(fractional, kind), policy)
    negative = pa.table({"district": ["D1", "D2"], "sex": ["F", "M"], "n": [-3, 4]})
    with pytest.raises(amparo.DataError, match="`n`"):
        amparo.protect(as_kind(negative, kind), policy)
    dates = pa.table({"district": ["D1", "D2"], "sex": ["F", "M"], "n": pa.array([1, 2], pa.date32())})
    with pytest.raises(amparo.AmparoError, match="`n`"):
        amparo.protect(as_kind(dates, kind), policy)
    outside = pa.table({"district": ["D9"], "sex": ["F"], "n": [3]})
    with pytest.raises(amparo.HierarchyError, match="D9"):
        amparo.protect(as_kind(outside, kind), policy)


def test_pandas_object_columns_of_mixed_types_and_categoricals():
    policy = POLICY_PATH()
    mixed = pd.DataFrame({"district": ["D1", 2], "sex": ["F", "M"], "n": [3, 4]})
    with pytest.raises(amparo.SchemaError, match=r"column `district` mixes values of types int, str"):
        amparo.protect(mixed, policy)
    categorical = COUNTS.to_pandas().astype({"district": "category", "sex": "category"})
    out = amparo.protect(categorical, policy, progress=False)
    assert isinstance(out, pd.DataFrame)
    assert out.equals(amparo.protect(COUNTS.to_pandas(), policy, progress=False))
    as_polars = pl.from_pandas(categorical)
    assert to_arrow(amparo.protect(as_polars, policy, progress=False)).to_pylist() == amparo.protect(COUNTS, policy, progress=False).to_pylist()


def test_the_stubs_match_the_extension_and_the_package_type_checks():
    py = ROOT / "py"
    stubtest = subprocess.run([sys.executable, "-m", "mypy.stubtest", "amparo._amparo"], cwd=py / "python", capture_output=True, text=True)
    assert stubtest.returncode == 0, stubtest.stdout + stubtest.stderr
    mypy = subprocess.run([sys.executable, "-m", "mypy", "python/amparo"], cwd=py, capture_output=True, text=True)
    assert mypy.returncode == 0, mypy.stdout + mypy.stderr
    assert (py / "python" / "amparo" / "py.typed").exists()


def test_a_type_checker_sees_the_kind_of_table_each_call_returns(tmp_path):
    """pandas in gives pandas out, polars polars, pyarrow or a path a pyarrow
    Table, as mypy reads the package (pandas-stubs and pyarrow-stubs installed)."""
    user = tmp_path / "user.py"
    user.write_text(
        "import pandas as pd, polars as pl, pyarrow as pa, amparo\n"
        "policy = amparo.Policy.from_file('policy.toml')\n"
        "reveal_type(amparo.protect(pd.DataFrame(), policy))\n"
        "reveal_type(amparo.round_table(pl.DataFrame(), policy, base=5))\n"
        "reveal_type(amparo.perturb(pa.table({}), policy))\n"
        "reveal_type(amparo.add_noise('input.parquet', {'version': 1}))\n"
        "reveal_type(amparo.read_table('t.csv'))\n"
        "reveal_type(amparo.read_table('t.csv', like='pandas'))\n"
        "reveal_type(amparo.read_table('t.csv', like=pl.DataFrame()))\n"
        "amparo.protect(pd.DataFrame(), policy).attrs\n"
    )
    run = subprocess.run([sys.executable, "-m", "mypy", "--no-incremental", str(user)], cwd=tmp_path, capture_output=True, text=True, env={**os.environ, "MYPYPATH": ""})
    # (package, class): the stubs' module paths inside a package vary by version.
    revealed = [line.split("Revealed type is ")[1].strip('"') for line in run.stdout.splitlines() if "Revealed type is" in line]
    kinds = [(t.split(".")[0], t.split(".")[-1]) for t in revealed]
    pandas, polars, pyarrow = ("pandas", "DataFrame"), ("polars", "DataFrame"), ("pyarrow", "Table")
    assert kinds == [pandas, polars, pyarrow, pyarrow, pyarrow, pandas, polars], run.stdout + run.stderr
    assert "error" not in run.stdout, run.stdout


def test_the_quickstart_runs_and_publishes_only_what_may_be_seen(tmp_path):
    run = subprocess.run([sys.executable, str(ROOT / "examples" / "quickstart.py"), str(tmp_path)], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "audit:       passed" in run.stdout
    for name in ["suppressed", "rounded", "noisy"]:
        table = amparo.read_table(tmp_path / f"{name}.csv")
        assert table.num_rows == 704
        assert table.column_names == ["district", "nationality", "age_band", "count"], name
        assert (tmp_path / f"{name}.xlsx").read_bytes()[:2] == b"PK"
    rounded = amparo.read_table(tmp_path / "rounded.csv")
    assert all(int(v) % 5 == 0 for v in rounded.column("count").to_pylist())
    assert set(amparo.read_table(tmp_path / "suppressed.csv").column("count").to_pylist()) >= {"x"}
    assert (tmp_path / "audit.html").read_text().startswith("<!DOCTYPE html>")


@pytest.mark.parametrize("kind", ["pyarrow", "pandas", "polars"])
def test_large_frames_are_streamed_not_copied(kind):
    """The memory protect adds stays far below the input's Arrow size (the
    bar is 2x; bench/py_memory.py measures it at 10^7 rows)."""
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import py_memory
    finally:
        sys.path.pop(0)
    result = py_memory.measure(2_000_000, kind)
    assert result["cells"] > 10_000
    assert result["ratio"] < 1.0, result


@pytest.mark.parametrize("kind", KINDS)
def test_validate_describes_the_table_and_refuses_bad_codes(kind):
    text = amparo.validate(as_kind(COUNTS, kind), POLICY_PATH(), progress=False)
    assert "table: 12 cells (6 inner, 6 margins)" in text
    bad = pa.table({"district": ["D1", "D4"], "sex": ["F", "M"], "n": [3, 4]})
    with pytest.raises(amparo.HierarchyError, match="D4"):
        amparo.validate(as_kind(bad, kind), POLICY_PATH(), progress=False)


def test_a_path_is_read_by_the_core_a_batch_at_a_time_folders_of_parquet_included(tmp_path):
    policy = amparo.Policy.from_file(ROOT / "examples" / "policy.toml")
    records = amparo.read_table(ROOT / "examples" / "children.csv")
    folder = tmp_path / "records"
    folder.mkdir()
    half = records.num_rows // 2
    amparo.write_table(records.slice(0, half), folder / "part-0.parquet")
    amparo.write_table(records.slice(half), folder / "part-1.parquet")
    assert amparo.protect(folder, policy).equals(amparo.protect(records, policy), check_metadata=True)
    assert "cells" in amparo.validate(str(folder), policy)
    # The core's errors keep their kind when the core reads the path.
    amparo.write_table(records.select(["district"]), folder / "part-2.parquet")
    with pytest.raises(amparo.SchemaError, match="part-2.parquet"):
        amparo.protect(folder, policy)


def test_old_names_warn_and_give_the_same_result():
    """The names aligned with R (round_table, add_noise, hierarchy_from_tree,
    AuditReport.passed) keep their old names for one release, with a warning."""
    policy = amparo.Policy.from_dict(POLICY)
    with pytest.warns(FutureWarning, match="renamed amparo.round_table"):
        old = amparo.round(COUNTS, policy, base=5, seed=2, progress=False)
    assert old.equals(amparo.round_table(COUNTS, policy, base=5, seed=2, progress=False))
    with pytest.warns(FutureWarning, match="renamed amparo.add_noise"):
        old = amparo.noise(COUNTS, policy, rho="1/2", seed=2, progress=False)
    assert old.equals(amparo.add_noise(COUNTS, policy, rho="1/2", seed=2, progress=False))
    tree = {"Total": {"North": ["D1", "D2"], "South": ["D3"]}}
    with pytest.warns(FutureWarning, match="renamed amparo.hierarchy_from_tree"):
        assert amparo.hierarchy_from_dict(tree) == amparo.hierarchy_from_tree(tree)
    report = amparo.audit(amparo.protect(COUNTS, policy, progress=False), policy)
    with pytest.warns(FutureWarning, match="renamed AuditReport.passed"):
        assert report.ok == report.passed
    # `from amparo import *` leaves the built-in round alone.
    namespace: dict = {}
    exec("from amparo import *", namespace)
    assert "round" not in namespace and "noise" not in namespace and "round_table" in namespace


def test_hierarchy_builders_refuse_what_would_lose_a_code():
    with pytest.raises(amparo.PolicyError, match="2 codes at the top"):
        amparo.hierarchy_from_tree({"North": ["D1"], "South": ["D2"]})
    with pytest.raises(amparo.DataError, match="`D1` twice"):
        amparo.hierarchy_from_table(pa.table({"code": ["D1", "D1"], "parent": ["", ""]}))
