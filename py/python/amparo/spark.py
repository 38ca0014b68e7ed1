"""Amparo on Spark: protect tables whose records are in a Spark DataFrame.

:func:`protect` makes one table. Each executor aggregates its partitions
with the core, checking every row as :func:`amparo.protect` does, into
per-cell sums (count, records, the three largest contributions, the record
keys' sum modulo 1); the sums are shuffled by cell and merged, so each cell
reaches the driver once, as Arrow; the driver builds the table with its
margins and protects it. Merging the sums is exact and associative, so the
result is the same, byte for byte, as :func:`amparo.protect` on the same
records on one machine.

:func:`protect_groups` makes many independent tables (one per country or
year), each protected on an executor with ``groupBy(...).applyInArrow``.

Needs pyspark 4 and Java 17 on the driver, and the amparo wheel installed in
the executors' Python too. The driver holds the table of cells (not the
records): see ``docs/spark.md`` for running on a cluster and the limits.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any, Iterator, Optional, Sequence, Union

import pyarrow as pa

from . import PolicyLike, _amparo, _with_overrides

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

__all__ = ["aggregate", "protect", "protect_arrow", "protect_groups"]


def _reader(batches: Iterator[pa.RecordBatch]) -> Optional[pa.RecordBatchReader]:
    """The batches of a partition as a stream (None for an empty partition)."""
    first = next(batches, None)
    if first is None:
        return None
    return pa.RecordBatchReader.from_batches(first.schema, itertools.chain([first], batches))


def _arrow_schema(df: "DataFrame") -> pa.Schema:
    from pyspark.sql.pandas.types import to_arrow_schema

    return to_arrow_schema(df.schema)


def _spark_schema(schema: pa.Schema) -> Any:
    from pyspark.sql.pandas.types import from_arrow_schema

    return from_arrow_schema(schema)


def _present(df: "DataFrame", columns: "list[str]") -> "list[str]":
    """The policy's input columns that ``df`` has (the core names a missing one in its error)."""
    return [c for c in columns if c in df.columns]


def aggregate(df: "DataFrame", policy: PolicyLike) -> pa.Table:
    """The per-cell sums of all of ``df`` (records or aggregated cells, as
    the policy's ``[input]`` says), computed on the executors and brought to
    the driver: one row per non-empty cell, as :func:`protect` uses them."""
    chosen = _with_overrides(policy, {})
    # Only the columns the table is built from cross from the JVM to Python.
    needed = df.select(*_present(df, chosen.input_columns))
    # The core gives the sums' columns for this input and policy (from no rows).
    sums_schema = pa.table(_amparo.aggregate_partials(_arrow_schema(needed).empty_table(), chosen)).schema
    dimension_columns = [name for name in sums_schema.names if not name.startswith("_amparo_")]

    def sum_partition(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        reader = _reader(batches)
        if reader is not None:
            yield from pa.table(_amparo.aggregate_partials(reader, chosen)).to_batches()

    def merge_partition(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        reader = _reader(batches)
        if reader is not None:
            yield from pa.table(_amparo.merge_partials(reader, chosen)).to_batches()

    spark_schema = _spark_schema(sums_schema)
    sums = needed.mapInArrow(sum_partition, spark_schema)
    merged = sums.repartition(*dimension_columns).mapInArrow(merge_partition, spark_schema)
    return merged.toArrow()


def protect_arrow(df: "DataFrame", policy: PolicyLike, *, keep_original: bool = False, **overrides: Any) -> pa.Table:
    """As :func:`protect`, but the protected table is a pyarrow Table on the
    driver, with the run's metadata (policy SHA-256, method, randomness) in
    its schema metadata, which a Spark DataFrame has no place for."""
    chosen = _with_overrides(policy, overrides)
    cells = aggregate(df, chosen)
    table, _summary = _amparo.protect_partials(cells, chosen, keep_original, None)
    return pa.table(table)


def protect(df: "DataFrame", policy: PolicyLike, *, keep_original: bool = False, **overrides: Any) -> "DataFrame":
    """Build the table the policy describes from the records in ``df`` and
    protect it: a Spark DataFrame with one row per cell (margins included),
    the same rows in the same order as :func:`amparo.protect` gives on one
    machine. ``overrides`` are policy sections, as in :func:`amparo.protect`."""
    table = protect_arrow(df, policy, keep_original=keep_original, **overrides)
    return df.sparkSession.createDataFrame(table)


def protect_groups(
    df: "DataFrame", policy: PolicyLike, by: Union[str, Sequence[str]], *, keep_original: bool = False, **overrides: Any
) -> "DataFrame":
    """Protect an independent table for each group of ``df`` (each value of
    ``by``, e.g. one table per country), in parallel on the executors. Each
    group's rows are protected as :func:`amparo.protect` would protect them
    alone; the result has the ``by`` columns first, then the protected
    table's. The tables share no cell: for tables that share cells (a
    country's table and the region's), use linked tables on one machine."""
    chosen = _with_overrides(policy, overrides)
    by = [by] if isinstance(by, str) else list(by)
    input_schema = _arrow_schema(df)
    chosen.check_group_columns(by, input_schema.names)
    protected_schema = pa.schema(_amparo.output_schema(chosen, keep_original))
    schema = pa.schema([input_schema.field(c) for c in by] + list(protected_schema))

    def protect_group(group: pa.Table) -> pa.Table:
        table, _summary = _amparo.protect(group, chosen, keep_original, None)
        table = pa.table(table)
        keys = [pa.repeat(group.column(c)[0], table.num_rows).cast(schema.field(c).type) for c in by]
        return pa.Table.from_arrays(keys + table.columns, schema=schema)

    return df.groupBy(*by).applyInArrow(protect_group, _spark_schema(schema))
