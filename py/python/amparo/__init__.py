"""Amparo: statistical disclosure control for tables of counts of children on the move.

All logic lives in the Rust core; this package converts Python data to Arrow
(through the Arrow PyCapsule interface, so pyarrow, pandas and polars tables
all work), calls the core and returns the result as the kind of table it was
given.

>>> import pyarrow as pa, amparo
>>> policy = amparo.Policy.from_toml('''
... version = 1
... [input]
... kind = "aggregated"
... count = "n"
... [dimensions.sex]
... [primary]
... threshold = 5
... ''')
>>> out = amparo.protect(pa.table({"sex": ["F", "M"], "n": [3, 12]}), policy)
>>> out.column("published").to_pylist()
[15, None, 12]
>>> out.column("status").to_pylist()
['published', 'primary', 'published']
"""

from __future__ import annotations

import os
from typing import Any, Union

from ._amparo import (
    AmparoError,
    AmparoIOError,
    DataError,
    HierarchyError,
    InfeasibleError,
    Policy,
    PolicyError,
    SchemaError,
    __version__,
)
from . import _amparo

__all__ = [
    "AmparoError",
    "AmparoIOError",
    "AuditReport",
    "DataError",
    "HierarchyError",
    "InfeasibleError",
    "Policy",
    "PolicyError",
    "SchemaError",
    "protect",
    "protect_tables",
    "validate",
    "audit",
    "explain",
    "read_table",
    "write_table",
    "policy_json_schema",
    "add_record_keys",
    "add_record_keys_to_file",
    "__version__",
]

PolicyLike = Union[Policy, str, "os.PathLike[str]"]


def _as_policy(policy: PolicyLike) -> Policy:
    if isinstance(policy, Policy):
        return policy
    if isinstance(policy, (str, os.PathLike)):
        return Policy.from_file(os.fspath(policy))
    raise TypeError(
        f"policy must be an amparo.Policy or the path to a policy file, not {type(policy).__name__}; "
        "for policy text use amparo.Policy.from_toml(text)"
    )


def _module_of(obj: Any) -> str:
    return type(obj).__module__.split(".")[0]


def _as_arrow_stream(data: Any) -> Any:
    """An object exposing ``__arrow_c_stream__`` for the core to read batch by batch."""
    if hasattr(data, "__arrow_c_stream__"):
        return data
    if _module_of(data) == "pandas":  # pandas older than 2.2 has no PyCapsule export
        import pyarrow as pa

        return pa.Table.from_pandas(data, preserve_index=False)
    if isinstance(data, (str, os.PathLike)):
        return _amparo.read_table(os.fspath(data))
    raise TypeError(
        f"cannot read a {type(data).__name__} as a table: pass a pyarrow, pandas or polars table, "
        "any object with __arrow_c_stream__, or the path to a CSV, Parquet or Arrow file"
    )


def _like(data: Any, table: Any) -> Any:
    """Return the core's Arrow table as the kind of table the caller passed."""
    module = _module_of(data)
    if module == "polars":
        import polars as pl

        return pl.DataFrame(table)
    if module in ("pandas", "pyarrow") or isinstance(data, (str, os.PathLike)):
        import pyarrow as pa

        out = pa.table(table)
        if module == "pandas":
            import pandas as pd

            # Nullable integers, so a hidden cell is <NA> and counts stay integers.
            return out.to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get)
        return out
    return table


def protect(data: Any, policy: PolicyLike, *, keep_original: bool = False) -> Any:
    """Build the table the policy describes from ``data`` and protect it.

    ``data`` is microdata (one row per child) or aggregated counts, as the
    policy's ``[input]`` says: a pyarrow Table or RecordBatchReader, a pandas or
    polars DataFrame, any object with ``__arrow_c_stream__``, or a file path.
    Returns one row per cell (margins included) with the dimension codes,
    ``published`` (null when hidden), ``status``, ``reason``, ``lower`` and
    ``upper``, as the same kind of table (a pyarrow Table for a path). The
    pyarrow result carries the run's metadata (engine version, policy SHA-256,
    method, randomness) in its schema metadata.

    ``keep_original=True`` adds the original counts as ``value``: for internal
    checks only, never for publication.
    """
    table, _summary = _amparo.protect(_as_arrow_stream(data), _as_policy(policy), keep_original)
    return _like(data, table)


def protect_tables(data: Any, policy: PolicyLike, *, keep_original: bool = False) -> "dict[str, Any]":
    """Protect the linked tables the policy's ``[tables]`` lists, together.

    ``data`` is microdata (read once). Returns ``{table name: table}`` in the
    policy's order, each like :func:`protect`'s result. A cell the tables share
    (a district's total in district x sex and in district x age) has one
    status in all of them, and the audit covers them at once, so no hidden
    cell can be recovered by combining tables.
    """
    tables = _amparo.protect_tables(_as_arrow_stream(data), _as_policy(policy), keep_original)
    return {name: _like(data, table) for name, table in tables}


def add_record_keys(data: Any, *, column: str = "record_key", seed: "int | None" = None) -> Any:
    """``data`` with a new column of record keys for the cell key method.

    Each record gets a key uniform in [0, 1), from the operating system's
    secure source (or from ``seed``, for tests: not for publication). Generate
    keys once and keep them with the records; the same records must keep the
    same keys in every release. Refuses a ``column`` the data already has.
    Returns the same kind of table as ``data``; the pyarrow result records the
    source of the keys in its schema metadata (``amparo:record_keys``).
    """
    table = _amparo.add_record_keys(_as_arrow_stream(data), column, seed)
    return _like(data, table)


def add_record_keys_to_file(
    input: Union[str, "os.PathLike[str]"],
    output: Union[str, "os.PathLike[str]"],
    *,
    column: str = "record_key",
    seed: "int | None" = None,
) -> str:
    """Copy the microdata file ``input`` to the new file ``output`` with a column of record keys.

    Streams batch by batch; refuses an ``output`` that exists (a file of keys
    is never replaced) or is the input. Returns where the keys came from.
    """
    return _amparo.add_record_keys_to_file(os.fspath(input), os.fspath(output), column, seed)


def validate(data: Any, policy: PolicyLike) -> str:
    """Check ``data`` against ``policy`` (columns, codes, counts, margins); returns a description.

    Raises the same errors as :func:`protect` and changes nothing.
    """
    return _amparo.validate(_as_arrow_stream(data), _as_policy(policy))


class AuditReport:
    """The audit of published tables: ``ok`` (safe to publish), every check's
    outcome, and the findings as a pyarrow table (columns ``check``, ``key``,
    ``table``, ``cell``, ``message``). In notebooks it shows the HTML page of
    ``amparo audit --format html`` (with a heat map of each table's cells);
    ``to_json()``, ``to_junit()``, ``to_html()``, ``to_text()`` and
    ``to_markdown()`` give the reports the command line writes.
    """

    def __init__(self, core: Any):
        import json

        self._core = core
        self._json = core.render("json")
        self._report = json.loads(self._json)
        self.ok: bool = self._report["passed"]
        self.passed: bool = self.ok
        self.cells: int = self._report["cells"]
        self.hidden_cells: int = self._report["hidden_cells"]
        self.checks: "list[dict]" = self._report["checks"]
        self.language: str = self._report["language"]

    @property
    def findings(self) -> Any:
        """The findings as a pyarrow Table, one row each."""
        import pyarrow as pa

        rows = self._report["findings"]
        columns = ["check", "key", "table", "cell", "message"]
        return pa.table({c: pa.array([r[c] for r in rows], pa.string()) for c in columns})

    @property
    def messages(self) -> "list[str]":
        """The findings' messages."""
        return [f["message"] for f in self._report["findings"]]

    def render(self, format: str) -> str:
        """The report as ``amparo audit --format <format>`` writes it: text, json, junit, github or html."""
        return str(self._core.render(format))

    def to_json(self) -> str:
        return self._json

    def to_junit(self) -> str:
        return self.render("junit")

    def to_html(self) -> str:
        return self.render("html")

    def to_text(self) -> str:
        return self.render("text")

    def to_markdown(self) -> str:
        return str(self._core.to_markdown())

    def __repr__(self) -> str:
        verdict = "passed" if self.ok else f"FAILED, {len(self.messages)} findings"
        return f"<amparo.AuditReport {verdict}: {self.cells} cells, {self.hidden_cells} hidden>"

    def _repr_html_(self) -> str:
        # The page in a frame of its own, so that its styles stay off the notebook's.
        from html import escape

        return f'<iframe srcdoc="{escape(self.to_html())}" style="width:100%;height:36em;border:0"></iframe>'


def _published_tables(data: Any) -> "tuple[list, list[str]]":
    """One published table or a list of them (linked tables): their Arrow
    streams, and their names in reports (a file's path, else "table 1", ...)."""
    tables = list(data) if isinstance(data, (list, tuple)) else [data]
    names = [os.fspath(d) if isinstance(d, (str, os.PathLike)) else f"table {i + 1}" for i, d in enumerate(tables)]
    return [_as_arrow_stream(d) for d in tables], names


def audit(
    data: Any,
    policy: PolicyLike,
    *,
    value_column: Union[str, None] = None,
    hidden_symbols: Union[list, None] = None,
    lang: Union[str, None] = None,
) -> AuditReport:
    r"""Audit a table as it will be published, including one Amparo did not make.

    ``data`` lists cells by their dimension codes with the published value in
    ``value_column`` (default: ``published`` if present, else the policy's
    ``[input] count``); a hidden cell is null or holds one of
    ``hidden_symbols`` (default: empty, ``NA``, ``..``, ``x``, ``c``, ``-``,
    ``*``). Cells the table leaves out are unknown to the attacker too. The
    checks are those of ``amparo audit``: no published cell breaks the
    threshold, published cells add up, no hidden cell can be shown to be
    below the threshold (or, without a threshold, computed exactly), rounded values are multiples of
    their base, and a table carrying Amparo's metadata was made with this
    policy. Messages are in ``lang`` (``en``, ``es``; default from the locale).

    For a policy that lists ``[tables]``, pass a list with one published table
    per linked table, in the policy's order: they are audited together, so a
    cell one table hides and another gives away is found.

    >>> import pyarrow as pa
    >>> p = Policy.from_toml('version = 1\n[input]\nkind = "aggregated"\ncount = "n"\n'
    ...                      '[dimensions.sex]\n[primary]\nthreshold = 5\n')
    >>> t = pa.table({"sex": ["Total", "F", "M"], "n": ["15", "x", "12"]})
    >>> report = audit(t, p, lang="en")
    >>> report.ok, report.messages
    (False, ['hidden cell (sex=F) can be computed exactly: it is 3'])
    >>> report.findings.column("check").to_pylist()
    ['protection']
    """
    streams, names = _published_tables(data)
    return AuditReport(_amparo.audit_report(streams, names, _as_policy(policy), value_column, hidden_symbols, lang))


def explain(
    data: Any,
    policy: PolicyLike,
    cell: str,
    *,
    value_column: Union[str, None] = None,
    hidden_symbols: Union[list, None] = None,
    lang: Union[str, None] = None,
) -> str:
    r"""Why one cell of a published table is hidden or flagged, as ``amparo explain`` says it.

    ``cell`` names the cell by ``dimension=code`` pairs (``"district=D1,sex=F"``;
    a dimension left out is its total). The explanation gives the cell's
    findings, what an attacker can tell about it from the published cells,
    the totals it is in, and what each hidden cell beside it would reveal if
    it were published. ``data`` and the options are those of :func:`audit`.

    >>> import pyarrow as pa
    >>> p = Policy.from_toml('version = 1\n[input]\nkind = "aggregated"\ncount = "n"\n'
    ...                      '[dimensions.sex]\n[primary]\nthreshold = 5\n')
    >>> t = pa.table({"sex": ["Total", "F", "M"], "n": ["15", "x", "x"]})
    >>> print(explain(t, p, "sex=F", lang="en"))  # doctest: +ELLIPSIS
    cell (sex=F) of table 1
    hidden
    ...
    from the published cells, an attacker can tell only that it lies in [0, 15]
    ...
      (sex=M) shown as 7: it could be computed exactly
    <BLANKLINE>
    """
    streams, names = _published_tables(data)
    return str(_amparo.explain(streams, names, _as_policy(policy), cell, value_column, hidden_symbols, lang))


def read_table(path: Union[str, "os.PathLike[str]"]) -> Any:
    """Read a CSV (every column as text), Parquet or Arrow IPC file with the core's reader."""
    return _like(path, _amparo.read_table(os.fspath(path)))


def write_table(data: Any, path: Union[str, "os.PathLike[str]"]) -> None:
    """Write a table with the core's writer: CSV, Parquet or Arrow IPC by extension.

    The file is written to a temporary name and moved into place, so a failure
    never leaves half a file.
    """
    _amparo.write_table(_as_arrow_stream(data), os.fspath(path))


def policy_json_schema() -> str:
    """The JSON Schema of the policy file."""
    return _amparo.policy_json_schema()
