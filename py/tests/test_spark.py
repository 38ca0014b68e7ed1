"""amparo.spark on a local Spark (local[2]): the tables protected from a
Spark DataFrame are the ones amparo.protect gives on one machine, byte for
byte, for the bundled example, for generated records and for every shared
fixture, with the records spread over several partitions; tables per group
match tables protected one by one; bad rows on an executor fail with the
core's message."""

import os
import pickle
import tomllib
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest

import amparo
import amparo.spark

ROOT = Path(__file__).resolve().parents[2]

# Generated records: children by admin-1, census age band, sex and
# accompaniment.
GENERATED = {
    "version": 1,
    "input": {"kind": "microdata"},
    "dimensions": {
        "admin1": {"code_lengths": [3, 5], "total": "region"},
        "age_band": {"column": "age_band_census", "tree": {"0-17": ["0-4", "5-9", "10-14", "15-17"]}},
        "sex": {},
        "accompaniment": {},
    },
    "primary": {"threshold": 5},
    "secondary": {"method": "interval"},
}


@pytest.fixture(scope="module")
def spark():
    from pyspark.sql import SparkSession

    # The workers' Python is this one, where amparo is installed.
    os.environ["PYSPARK_PYTHON"] = sys.executable

    session = (
        SparkSession.builder.master("local[2]")
        .appName("amparo-tests")
        .config("spark.sql.shuffle.partitions", "3")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .getOrCreate()
    )
    yield session
    session.stop()


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> pa.Table:
    path = tmp_path_factory.mktemp("synth") / "children.parquet"
    # Two small countries keep the suppression quick (2,400 cells).
    amparo.synth(path, records=20_000, mode="stock", seed=3, countries=["PAN", "SLV"])
    table = amparo.read_table(path)
    # Spark has no unsigned integers: the ids as Spark would hold them.
    return table.cast(pa.schema([f.with_type(pa.int64()) if f.type == pa.uint64() else f for f in table.schema]))


def spread(spark, table: pa.Table, partitions: int = 4):
    """The records as a Spark DataFrame over several partitions, in an order
    unlike the file's, as a cluster would hold them."""
    return spark.createDataFrame(table).repartition(partitions)


def csv_bytes(table: pa.Table, tmp_path: Path, name: str) -> bytes:
    path = tmp_path / f"{name}.csv"
    amparo.write_table(table, path)
    return path.read_bytes()


def assert_same_table(from_spark: pa.Table, local: pa.Table, tmp_path: Path) -> None:
    # A Spark DataFrame carries no table metadata and its own nullability: the
    # values are compared as written to CSV by the core, byte for byte.
    assert from_spark.column_names == local.column_names
    from_spark = from_spark.cast(local.schema.remove_metadata())
    assert csv_bytes(from_spark, tmp_path, "spark") == csv_bytes(local.replace_schema_metadata(None), tmp_path, "local")


def test_the_example_protected_on_spark_is_the_example_protected_here(spark, tmp_path):
    policy = amparo.Policy.from_file(ROOT / "examples" / "policy.toml")
    records = amparo.read_table(ROOT / "examples" / "children.csv")
    local = amparo.protect(records, policy)
    on_spark = amparo.spark.protect_arrow(spread(spark, records), policy)
    # With the run's metadata (policy hash, method), the same table exactly.
    assert on_spark.equals(local, check_metadata=True)
    assert_same_table(amparo.spark.protect(spread(spark, records), policy).toArrow(), local, tmp_path)
    assert pc.sum(pc.equal(local.column("status"), "secondary")).as_py() > 0, "the example exercises secondary suppression"


@pytest.mark.parametrize("method", ["suppression", "cell_key", "rounding"])
def test_generated_records_protected_on_spark_match_one_machine(spark, generated, tmp_path, method):
    policy = amparo.Policy.from_dict(GENERATED)
    if method == "cell_key":
        # The records' keys, summed per cell on the executors in fixed point.
        keyed = {key: value for key, value in GENERATED.items() if key not in ("primary", "secondary")}
        keyed["input"] = {"kind": "microdata", "record_key": "record_key"}
        keyed["perturbation"] = {"method": "cell_key", "max_deviation": 2, "variance": 1}
        policy = amparo.Policy.from_dict(keyed)
    if method == "rounding":
        policy = policy.for_method("rounding", base=5, seed=11)
    local = amparo.protect(generated, policy)
    on_spark = amparo.spark.protect(spread(spark, generated, 5), policy)
    assert_same_table(on_spark.toArrow(), local, tmp_path)
    assert local.num_rows == 2_400
    if method == "suppression":
        assert pc.sum(pc.equal(local.column("status"), "secondary")).as_py() > 100


def test_partial_sums_merge_to_the_same_cells_in_any_grouping(generated):
    policy = amparo.Policy.from_dict(GENERATED)
    pieces = [generated.slice(0, 7_000), generated.slice(7_000, 9_000), generated.slice(16_000)]
    sums = [pa.table(amparo._amparo.aggregate_partials(p, policy)) for p in pieces]
    left = pa.table(amparo._amparo.merge_partials(pa.concat_tables(sums[:2]), policy))
    merged = pa.table(amparo._amparo.merge_partials(pa.concat_tables([left, sums[2]]), policy))
    whole = pa.table(amparo._amparo.aggregate_partials(generated, policy))
    order = [(name, "ascending") for name in whole.column_names[:4]]
    assert merged.sort_by(order).equals(whole.sort_by(order))
    assert pc.sum(whole.column("_amparo_records")).as_py() == generated.num_rows


def test_a_table_per_country_on_the_executors_matches_each_country_alone(spark, generated, tmp_path):
    policy = amparo.Policy.from_dict(GENERATED)
    by_country = amparo.spark.protect_groups(spread(spark, generated), policy, "country").toArrow()
    for country in ["PAN", "SLV"]:
        records = generated.filter(pc.equal(generated.column("country"), country))
        local = amparo.protect(records, policy)
        got = by_country.filter(pc.equal(by_country.column("country"), country)).drop_columns(["country"])
        # Spark gives the groups in its own order; each group's rows keep the core's order.
        assert_same_table(got, local, tmp_path)
    assert sorted(set(by_country.column("country").to_pylist())) == ["PAN", "SLV"]


def test_grouping_by_a_dimension_is_refused_before_spark_runs(spark, generated):
    policy = amparo.Policy.from_dict(GENERATED)
    with pytest.raises(amparo.PolicyError, match="dimension `sex`"):
        amparo.spark.protect_groups(spread(spark, generated), policy, "sex")
    with pytest.raises(amparo.SchemaError, match="no such column"):
        amparo.spark.protect_groups(spread(spark, generated), policy, "contry")


def test_a_bad_row_on_an_executor_fails_with_the_cores_message(spark):
    policy = amparo.Policy.from_file(ROOT / "examples" / "policy.toml")
    records = amparo.read_table(ROOT / "examples" / "children.csv")
    codes = records.column("nationality").to_pylist()
    codes[5] = None
    bad = records.set_column(records.schema.get_field_index("nationality"), "nationality", pa.array(codes, pa.string()))
    with pytest.raises(Exception, match="column `nationality` has no code"):
        amparo.spark.protect(spread(spark, bad), policy)


def test_a_policy_survives_pickling_for_the_executors():
    policy = amparo.Policy.from_file(ROOT / "examples" / "policy.toml").with_overrides(primary={"threshold": 7})
    again = pickle.loads(pickle.dumps(policy))
    assert again.sha256 == policy.sha256 and again.to_toml() == policy.to_toml()


FIXTURES = ROOT / "tests" / "fixtures"
FIXTURE_CASES = sorted(
    case
    for case in FIXTURES.iterdir()
    if (case / "case.toml").exists()
    and "error" not in tomllib.loads((case / "case.toml").read_text())
    and "tables" not in tomllib.loads((case / "case.toml").read_text())
)


def test_every_shared_fixture_through_spark_gives_its_expected_bytes(spark, tmp_path):
    """Suppression, rounding, the cell key method, dominance on magnitudes
    and noise, on records and on aggregated counts: the expected CSV of each
    case, byte for byte, from a DataFrame over three partitions."""
    assert len(FIXTURE_CASES) >= 15
    for case in FIXTURE_CASES:
        keep = tomllib.loads((case / "case.toml").read_text()).get("keep_original", False)
        policy = amparo.Policy.from_file(case / "policy.toml")
        records = amparo.read_table(case / "input.csv")
        table = amparo.spark.protect_arrow(spread(spark, records, 3), policy, keep_original=keep)
        written = tmp_path / f"{case.name}.csv"
        amparo.write_table(table, written)
        assert written.read_bytes() == (case / "expected.csv").read_bytes(), case.name
