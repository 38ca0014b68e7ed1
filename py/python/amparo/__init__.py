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

import json
import os
import sys
import warnings
from typing import TYPE_CHECKING, Any, Callable, Literal, Optional, TypeVar, Union, overload

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
    "publish",
    "round_table",
    "perturb",
    "add_noise",
    "hierarchy_from_tree",
    "hierarchy_from_table",
    "hierarchy_from_code_lengths",
    "validate",
    "audit",
    "explain",
    "read_table",
    "write_table",
    "Summary",
    "summary",
    "policy_json_schema",
    "synth",
    "add_record_keys",
    "add_record_keys_to_file",
    "__version__",
]

PolicyLike = Union[Policy, "dict[str, Any]", str, "os.PathLike[str]"]

if TYPE_CHECKING:
    import pandas as pd
    import polars as pl
    import pyarrow as pa

# The kinds of table a call returns as it was given them: pandas in gives
# pandas out, for mypy and pyright too.
Frame = TypeVar("Frame", "pd.DataFrame", "pl.DataFrame", "pa.Table")
# What comes back as a pyarrow Table: a file's path, a stream of batches.
PathOrStream = Union[str, "os.PathLike[str]", "pa.RecordBatchReader"]


def _as_policy(policy: PolicyLike) -> Policy:
    if isinstance(policy, Policy):
        return policy
    if isinstance(policy, dict):
        return Policy.from_dict(policy)
    if isinstance(policy, (str, os.PathLike)):
        return Policy.from_file(os.fspath(policy))
    raise TypeError(
        f"policy must be an amparo.Policy, a dict with the policy file's sections, or the path to a policy file, "
        f"not {type(policy).__name__}; for policy text use amparo.Policy.from_toml(text)"
    )


def _module_of(obj: Any) -> str:
    return type(obj).__module__.split(".")[0]


def _as_arrow_stream(data: Any) -> Any:
    """An object exposing ``__arrow_c_stream__`` for the core to read batch by batch."""
    if _module_of(data) == "pandas":
        return _pandas_to_arrow(data)
    if _module_of(data) == "polars" and hasattr(data, "iter_slices"):
        return _polars_stream(data)
    if hasattr(data, "__arrow_c_stream__"):
        return data
    if isinstance(data, (str, os.PathLike)):
        return _amparo.read_table(os.fspath(data))
    if _module_of(data) == "polars" and hasattr(data, "collect"):
        raise TypeError(
            "a polars LazyFrame is a query, not yet a table: call .collect() and pass the DataFrame "
            "(for microdata larger than memory, write it with .sink_parquet(path) and pass the path: the core reads it batch by batch)"
        )
    raise TypeError(
        f"cannot read a {type(data).__name__} as a table: pass a pyarrow, pandas or polars table, "
        "any object with __arrow_c_stream__, or the path to a CSV, Parquet or Arrow file"
    )


def _as_input(data: Any) -> Any:
    """What protect and validate read: a path as it is (the core reads the
    file, or a folder of Parquet files, a batch at a time), else a stream."""
    if isinstance(data, (str, os.PathLike)):
        return os.fspath(data)
    return _as_arrow_stream(data)


_SLICE_ROWS = 1 << 16


def _polars_stream(frame: Any) -> Any:
    """A polars DataFrame as a stream of record batches, slice by slice: polars
    exports a whole frame as one batch (its chunks joined and its strings
    copied out of their views), which would double the frame in memory; a
    slice at a time holds one slice's copy."""
    import pyarrow as pa

    schema = pa.table(frame.head(0)).schema

    def batches() -> Any:
        for piece in frame.iter_slices(n_rows=_SLICE_ROWS):
            yield from pa.table(piece).cast(schema).to_batches()

    return pa.RecordBatchReader.from_batches(schema, batches())


def _pandas_to_arrow(frame: Any) -> Any:
    """A pandas DataFrame as a pyarrow Table (zero-copy where the dtypes allow);
    a column pyarrow cannot convert (an object column mixing text and
    numbers) is named in a SchemaError."""
    import pyarrow as pa

    try:
        return pa.Table.from_pandas(frame, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as error:
        for name in frame.columns:
            try:
                pa.array(frame[name], from_pandas=True)
            except (pa.ArrowInvalid, pa.ArrowTypeError) as column_error:
                kinds = sorted({type(v).__name__ for v in frame[name].dropna()})
                raise SchemaError(
                    f"column `{name}` mixes values of types {', '.join(kinds)}, so it cannot be one column of a table; "
                    f"give it one type, e.g. frame[{name!r}] = frame[{name!r}].astype(str) for codes"
                ) from column_error
        raise SchemaError(f"the pandas DataFrame cannot be read as a table: {error}") from error


# The run metadata of polars frames protect returned (polars frames carry
# none): by id, with a weak reference that tells a reused id from the frame.
_POLARS_METADATA: "dict[int, tuple[Any, dict[str, str]]]" = {}


def _remember_polars(frame: Any, metadata: "dict[str, str]") -> None:
    import weakref

    key = id(frame)
    _POLARS_METADATA[key] = (weakref.ref(frame, lambda _ref: _POLARS_METADATA.pop(key, None)), metadata)


def _metadata_of(table: Any) -> "dict[str, str]":
    """The run metadata (``amparo.*`` keys) a protected table carries: a
    pyarrow table's schema metadata, a pandas frame's ``attrs["amparo"]``,
    or what protect recorded for a polars frame."""
    module = _module_of(table)
    if module == "pandas":
        return dict(table.attrs.get("amparo", {}))
    if module == "polars":
        ref, metadata = _POLARS_METADATA.get(id(table), (None, {}))
        return dict(metadata) if ref is not None and ref() is table else {}
    schema = getattr(table, "schema", None)
    raw = getattr(schema, "metadata", None) or {}
    return {(k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v) for k, v in raw.items()}


def _like(data: Any, table: Any) -> Any:
    """Return the core's Arrow table as the kind of table the caller passed
    (with the run's metadata: in the schema, in pandas ``attrs``, or
    remembered for a polars frame)."""
    module = _module_of(data)
    if module in ("pandas", "polars", "pyarrow") or isinstance(data, (str, os.PathLike)):
        return _as_kind("pyarrow" if isinstance(data, (str, os.PathLike)) else module, table)
    return table


_KINDS = ("pyarrow", "pandas", "polars")

LikeArg = Union[str, Any, None]


def _kind_of(like: LikeArg) -> str:
    """The kind of table ``like=`` asks for: ``"pyarrow"``, ``"pandas"`` or
    ``"polars"``, or a table of that kind (``None``: pyarrow)."""
    if like is None:
        return "pyarrow"
    if isinstance(like, str):
        if like in _KINDS:
            return like
        raise ValueError(f"like={like!r} is not a kind of table; use 'pyarrow', 'pandas' or 'polars', or pass a table of the kind wanted")
    module = _module_of(like)
    if module in _KINDS:
        return module
    raise TypeError(f"like= takes 'pyarrow', 'pandas', 'polars' or a table of one of those kinds, not a {type(like).__name__}")


def _as_kind(kind: str, table: Any) -> Any:
    """An Arrow table (anything with ``__arrow_c_stream__``) as a pyarrow,
    pandas or polars table, keeping the run's metadata."""
    import pyarrow as pa

    out = pa.table(table)
    if kind == "polars":
        import polars as pl

        polars_frame = pl.DataFrame(out)
        _remember_polars(polars_frame, _metadata_of(out))
        return polars_frame
    if kind == "pandas":
        import pandas as pd

        nullable: "dict[Any, Any]" = {pa.int64(): pd.Int64Dtype()}
        # Nullable integers, so a hidden cell is <NA> and counts stay integers.
        pandas_frame: Any = out.to_pandas(types_mapper=nullable.get)
        pandas_frame.attrs["amparo"] = _metadata_of(out)
        return pandas_frame
    return out


ProgressLike = Union[bool, None, Callable[[str, int, Optional[int]], Any]]


class _ProgressBar:
    """A one-line progress bar on standard error (terminals and notebooks both
    redraw a line that starts with a carriage return)."""

    def __init__(self) -> None:
        self._stage: Optional[str] = None
        self._width = 0

    def __call__(self, stage: str, done: int, total: Optional[int]) -> None:
        text = _amparo.progress_line(stage, done, total)
        if self._stage is not None and stage != self._stage:
            sys.stderr.write("\n")
            self._width = 0
        self._stage = stage
        sys.stderr.write("\r" + text.ljust(self._width))
        sys.stderr.flush()
        self._width = len(text)

    def close(self) -> None:
        if self._stage is not None:
            sys.stderr.write("\n")
            sys.stderr.flush()


def _interactive() -> bool:
    """A person is watching: an IPython shell or notebook, or a terminal on standard error."""
    ipython = sys.modules.get("IPython")
    if ipython is not None and getattr(ipython, "get_ipython", lambda: None)() is not None:
        return True
    return bool(getattr(sys.stderr, "isatty", lambda: False)())


def _with_progress(progress: ProgressLike, call: Callable[[Any], Any]) -> Any:
    """Run ``call(callback)``: no callback for ``progress=False`` (or ``None``
    when nobody is watching), a bar on standard error for ``True`` (or
    ``None`` in a terminal or notebook), or the caller's own callable."""
    if progress is False or (progress is None and not _interactive()):
        return call(None)
    if callable(progress):
        return call(progress)
    bar = _ProgressBar()
    try:
        return call(bar)
    finally:
        bar.close()


# The keywords protect and protect_tables take besides policy sections: a
# misspelt one is named with its nearest (keep_origin=: keep_original).
_CALL_KEYWORDS = ["keep_original", "progress"]


def _with_overrides(policy: PolicyLike, overrides: "dict[str, Any]") -> Policy:
    base = _as_policy(policy)
    return base.with_call_overrides(_CALL_KEYWORDS, overrides) if overrides else base


@overload
def protect(data: Frame, policy: PolicyLike, *, keep_original: bool = ..., progress: ProgressLike = ..., **overrides: Any) -> Frame: ...
@overload
def protect(data: PathOrStream, policy: PolicyLike, *, keep_original: bool = ..., progress: ProgressLike = ..., **overrides: Any) -> "pa.Table": ...
@overload
def protect(data: Any, policy: PolicyLike, *, keep_original: bool = ..., progress: ProgressLike = ..., **overrides: Any) -> Any: ...


def protect(data: Any, policy: PolicyLike, *, keep_original: bool = False, progress: ProgressLike = None, **overrides: Any) -> Any:
    """Build the table the policy describes from ``data`` and protect it.

    ``data`` is microdata (one row per child) or aggregated counts, as the
    policy's ``[input]`` says: a pyarrow Table or RecordBatchReader, a pandas or
    polars DataFrame, any object with ``__arrow_c_stream__``, or the path of a
    file or of a folder of Parquet files. Microdata is read batch by batch
    (a path by the core itself): only the table of cells is held.
    Returns one row per cell (margins included) with the dimension codes,
    ``published`` (null when hidden), ``status``, ``reason``, ``lower`` and
    ``upper``, as the same kind of table (a pyarrow Table for a path). The
    pyarrow result carries the run's metadata (engine version, policy SHA-256,
    method, randomness) in its schema metadata.

    ``overrides`` are policy sections merged into the policy for this call,
    with the policy file's names: ``protect(t, policy, primary={"threshold": 10})``.
    ``keep_original=True`` adds the original counts as ``value``: for internal
    checks only, never for publication. ``progress``: a bar on standard error
    when a person is watching (``None``, the default), always (``True``),
    never (``False``), or a callable given ``(stage, done, total)``.

    >>> import pyarrow as pa
    >>> p = Policy.from_dict({"version": 1, "input": {"kind": "aggregated", "count": "n"},
    ...                       "dimensions": {"sex": {}}, "primary": {"threshold": 5}})
    >>> t = pa.table({"sex": ["F", "M"], "n": [7, 12]})
    >>> protect(t, p).column("status").to_pylist()
    ['published', 'published', 'published']
    >>> protect(t, p, primary={"threshold": 10}, progress=False).column("status").to_pylist()
    ['published', 'primary', 'published']
    """
    chosen = _with_overrides(policy, overrides)
    stream = _as_input(data)
    table, _summary = _with_progress(progress, lambda callback: _amparo.protect(stream, chosen, keep_original, callback))
    return _like(data, table)


@overload
def round_table(data: Frame, policy: PolicyLike, *, keep_original: bool = ..., progress: ProgressLike = ..., **rounding: Any) -> Frame: ...
@overload
def round_table(data: PathOrStream, policy: PolicyLike, *, keep_original: bool = ..., progress: ProgressLike = ..., **rounding: Any) -> "pa.Table": ...
@overload
def round_table(data: Any, policy: PolicyLike, *, keep_original: bool = ..., progress: ProgressLike = ..., **rounding: Any) -> Any: ...


def round_table(data: Any, policy: PolicyLike, *, keep_original: bool = False, progress: ProgressLike = None, **rounding: Any) -> Any:
    """The table of ``policy`` with every cell rounded, as the ``[rounding]`` keys in ``rounding`` say.

    The policy's input and dimensions are kept and its other protection
    (suppression, noise) set aside, so one policy gives the suppressed and the
    rounded version of the same table. Without ``method``: unbiased random
    rounding. ``seed`` makes it reproducible (recorded as not for publication).

    >>> import pyarrow as pa
    >>> p = Policy.from_dict({"version": 1, "input": {"kind": "aggregated", "count": "n"},
    ...                       "dimensions": {"sex": {}}, "primary": {"threshold": 5}})
    >>> out = round_table(pa.table({"sex": ["F", "M"], "n": [7, 12]}), p, base=5, seed=1, progress=False)
    >>> all(v % 5 == 0 for v in out.column("published").to_pylist())
    True
    """
    return protect(data, _as_policy(policy).for_method_call("rounding", _CALL_KEYWORDS, rounding), keep_original=keep_original, progress=progress)


@overload
def perturb(data: Frame, policy: PolicyLike, *, keep_original: bool = ..., progress: ProgressLike = ..., **perturbation: Any) -> Frame: ...
@overload
def perturb(data: PathOrStream, policy: PolicyLike, *, keep_original: bool = ..., progress: ProgressLike = ..., **perturbation: Any) -> "pa.Table": ...
@overload
def perturb(data: Any, policy: PolicyLike, *, keep_original: bool = ..., progress: ProgressLike = ..., **perturbation: Any) -> Any: ...


def perturb(data: Any, policy: PolicyLike, *, keep_original: bool = False, progress: ProgressLike = None, **perturbation: Any) -> Any:
    """The table of ``policy`` perturbed by the cell key method, as the ``[perturbation]`` keys in ``perturbation`` say.

    Needs microdata with record keys (the policy's ``[input] record_key``;
    see :func:`add_record_keys`). The same cell gets the same value in every
    table and every run.
    """
    return protect(data, _as_policy(policy).for_method_call("perturbation", _CALL_KEYWORDS, perturbation), keep_original=keep_original, progress=progress)


@overload
def add_noise(data: Frame, policy: PolicyLike, *, keep_original: bool = ..., progress: ProgressLike = ..., **options: Any) -> Frame: ...
@overload
def add_noise(data: PathOrStream, policy: PolicyLike, *, keep_original: bool = ..., progress: ProgressLike = ..., **options: Any) -> "pa.Table": ...
@overload
def add_noise(data: Any, policy: PolicyLike, *, keep_original: bool = ..., progress: ProgressLike = ..., **options: Any) -> Any: ...


def add_noise(data: Any, policy: PolicyLike, *, keep_original: bool = False, progress: ProgressLike = None, **options: Any) -> Any:
    """The table of ``policy`` with differential privacy noise, as the ``[noise]`` keys in ``options`` say.

    Without ``method``: discrete Gaussian noise, whose budget is ``rho``
    (zero-concentrated DP); ``method="discrete_laplace"`` takes ``epsilon``.
    Budgets are exact fractions (``"1/2"``) or numbers.

    >>> import pyarrow as pa
    >>> p = Policy.from_dict({"version": 1, "input": {"kind": "aggregated", "count": "n"},
    ...                       "dimensions": {"sex": {}}})
    >>> out = add_noise(pa.table({"sex": ["F", "M"], "n": [70, 120]}), p, rho="1/2", seed=3, progress=False)
    >>> total, f, m = out.column("published").to_pylist()
    >>> total == f + m
    True
    """
    return protect(data, _as_policy(policy).for_method_call("noise", _CALL_KEYWORDS, options), keep_original=keep_original, progress=progress)


def protect_tables(data: Any, policy: PolicyLike, *, keep_original: bool = False, progress: ProgressLike = None, **overrides: Any) -> "dict[str, Any]":
    """Protect the linked tables the policy's ``[tables]`` lists, together.

    ``data`` is microdata (read once). Returns ``{table name: table}`` in the
    policy's order, each like :func:`protect`'s result. A cell the tables share
    (a district's total in district x sex and in district x age) has one
    status in all of them, and the audit covers them at once, so no hidden
    cell can be recovered by combining tables. ``overrides`` and
    ``progress`` as in :func:`protect`.
    """
    chosen = _with_overrides(policy, overrides)
    stream = _as_input(data)
    tables = _with_progress(progress, lambda callback: _amparo.protect_tables(stream, chosen, keep_original, callback))
    return {name: _like(data, table) for name, table in tables}


def publish(
    table: Any,
    policy: PolicyLike,
    path: Union[str, "os.PathLike[str]", None] = None,
    *,
    layout: Optional[str] = None,
    format: Optional[str] = None,
    overwrite: bool = False,
) -> Any:
    """The file people publish, from what :func:`protect` returned.

    Keeps only the dimension columns (with labels where the policy's
    ``[publication.labels]`` gives them) and the published values, every
    hidden cell carrying the policy's one marker (``[publication]
    hidden_marker``, default ``x``); ``status``, ``reason``, ``lower``,
    ``upper``, ``sd`` and ``value`` never leave. Refuses a table whose audit
    failed, one protected with another policy, and one that lost the
    metadata protect gave it. ``layout`` is ``long`` or ``wide`` (default:
    ``[publication] layout``).

    ``table`` is one protected table (pyarrow, pandas or polars, as protect
    returned it, or the path of the file ``amparo protect`` wrote), or the
    dict :func:`protect_tables` returned. With ``path`` (``.csv``,
    ``.sdmx.csv``, ``.xlsx``, ``.parquet``, ``.arrow``; for linked tables a
    folder or one ``.xlsx``; ``format`` names it otherwise) the publication
    is written there, never over an existing file unless ``overwrite``.
    Returns the publication as the kind of table given (a dict of them for
    linked tables); its values are text (a count, or the marker).

    >>> import pyarrow as pa
    >>> p = Policy.from_dict({"version": 1, "input": {"kind": "aggregated", "count": "n"},
    ...                       "dimensions": {"sex": {}}, "primary": {"threshold": 5},
    ...                       "secondary": {"method": "interval"}})
    >>> protected = protect(pa.table({"sex": ["F", "M", "X"], "n": [3, 12, 9]}), p, progress=False)
    >>> published = publish(protected, p)
    >>> published.column_names
    ['sex', 'n']
    >>> published.column("n").to_pylist()[:2], published.column("n").to_pylist().count("x")
    (['24', 'x'], 2)
    """
    chosen = _as_policy(policy)
    tables = list(table.values()) if isinstance(table, dict) else [table]
    # A path is read by the core, with its metadata (a CSV's .meta.json).
    streams = [_as_input(t) for t in tables]
    metadata = [{} if isinstance(t, (str, os.PathLike)) else _metadata_of(t) for t in tables]
    out = _amparo.publish(streams, metadata, chosen, None if path is None else os.fspath(path), layout, format, overwrite)
    results = [_like(tables[0], o) for o in out]
    if isinstance(table, dict):
        return dict(zip(table.keys(), results))
    return results[0]


def hierarchy_from_tree(tree: "dict[str, Any]") -> "dict[str, Any]":
    """A dimension's hierarchy from nested dicts: each key a code, its value
    the codes under it (a dict to go deeper, a list of leaves, or None for a
    leaf). The outer key is the total. Returns the ``[dimensions.<name>]``
    keys, for :meth:`Policy.from_dict`.

    >>> hierarchy_from_tree({"Total": {"North": ["D1", "D2"], "South": ["D3"]}})
    {'tree': {'Total': ['North', 'South'], 'North': ['D1', 'D2'], 'South': ['D3']}}
    """
    return json.loads(_amparo.hierarchy_from_tree(json.dumps(tree)))


def hierarchy_from_table(codes: Any, *, code: str = "code", parent: str = "parent", total: Optional[str] = None) -> "dict[str, Any]":
    """A dimension's hierarchy from a codes table (pyarrow, pandas or polars)
    with a ``code`` and a ``parent`` column; an empty or null parent hangs a
    code from the total (or, for a single such row, makes it the total), as a
    policy's ``codes_file`` does. Returns the ``[dimensions.<name>]`` keys.

    >>> import pyarrow as pa
    >>> hierarchy_from_table(pa.table({"code": ["05", "05001"], "parent": ["", "05"]}))
    {'parents': {'05': '', '05001': '05'}}
    """
    return json.loads(_amparo.hierarchy_from_table(_as_arrow_stream(codes), code, parent, total))


def hierarchy_from_code_lengths(lengths: "list[int]", *, total: Optional[str] = None) -> "dict[str, Any]":
    """A dimension whose codes nest by prefix (``[2, 5]``: department ``05``
    contains municipality ``05001``), codes taken from the data. Returns the
    ``[dimensions.<name>]`` keys.

    >>> hierarchy_from_code_lengths([2, 5])
    {'code_lengths': [2, 5]}
    """
    return json.loads(_amparo.hierarchy_from_code_lengths(list(lengths), total))


def _deprecated(old: str, new: Callable[..., Any]) -> Callable[..., Any]:
    """``new`` under its old name ``old``, kept for one release with a warning."""

    def alias(*args: Any, **kwargs: Any) -> Any:
        warnings.warn(f"amparo.{old} is renamed amparo.{new.__name__} (one name in Python and R); {old} goes in the next release", FutureWarning, stacklevel=2)
        return new(*args, **kwargs)

    alias.__name__ = old
    alias.__doc__ = f"Deprecated: use :func:`{new.__name__}`."
    return alias


# Old names, not in ``__all__`` (``from amparo import *`` does not shadow the built-in ``round``).
round = _deprecated("round", round_table)
noise = _deprecated("noise", add_noise)
hierarchy_from_dict = _deprecated("hierarchy_from_dict", hierarchy_from_tree)


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
    overwrite: bool = False,
) -> str:
    """Copy the microdata file ``input`` to the new file ``output`` with a column of record keys.

    Streams batch by batch; refuses an ``output`` that is the input, or that
    exists unless ``overwrite`` (a file of keys is kept across releases:
    replace only keys never used). Returns where the keys came from.
    """
    return _amparo.add_record_keys_to_file(os.fspath(input), os.fspath(output), column, seed, overwrite)


def validate(data: Any, policy: PolicyLike, *, progress: ProgressLike = None) -> str:
    """Check ``data`` against ``policy`` (columns, codes, counts, margins); returns a description.

    Raises the same errors as :func:`protect` and changes nothing.
    """
    stream, chosen = _as_input(data), _as_policy(policy)
    return str(_with_progress(progress, lambda callback: _amparo.validate(stream, chosen, callback)))


class AuditReport:
    """The audit of published tables: ``ok`` (safe to publish), every check's
    outcome, and the findings as a pyarrow table (columns ``check``, ``key``,
    ``table``, ``cell``, ``message``). In notebooks it shows the HTML page of
    ``amparo audit --format html`` (with a heat map of each table's cells);
    ``to_json()``, ``to_junit()``, ``to_html()``, ``to_text()`` and
    ``to_markdown()`` give the reports the command line writes.
    """

    def __init__(self, core: Any, like: LikeArg = None):
        import json

        self._core = core
        self._kind = _kind_of(like)
        self._json = core.render("json")
        self._report = json.loads(self._json)
        self.passed: bool = self._report["passed"]
        self.cells: int = self._report["cells"]
        self.hidden_cells: int = self._report["hidden_cells"]
        self.checks: "list[dict]" = self._report["checks"]
        self.language: str = self._report["language"]
        # The files that carry no Amparo metadata: their metadata check did not run.
        self.unrecorded: "list[str]" = self._report.get("unrecorded", [])

    @property
    def ok(self) -> bool:
        """Deprecated: use ``passed`` (one name in Python and R)."""
        warnings.warn("AuditReport.ok is renamed AuditReport.passed (one name in Python and R); ok goes in the next release", FutureWarning, stacklevel=2)
        return self.passed

    @property
    def findings(self) -> Any:
        """The findings, one row each: a pyarrow Table, or the kind of table
        :func:`audit` was asked for with ``like=``."""
        import pyarrow as pa

        rows = self._report["findings"]
        columns = ["check", "key", "table", "cell", "message"]
        return _as_kind(self._kind, pa.table({c: pa.array([r[c] for r in rows], pa.string()) for c in columns}))

    @property
    def messages(self) -> "list[str]":
        """The findings' messages."""
        return [f["message"] for f in self._report["findings"]]

    def render(self, format: str) -> str:
        """The report as ``amparo audit --format <format>`` writes it: text, json, junit, github or html."""
        return str(self._core.render(format))

    def to_json(self) -> str:
        """The report as JSON (``amparo audit --format json``; its schema is
        ``schema/audit-report.schema.json``): the verdict, each check's
        outcome, every finding, and how each file was made."""
        return self._json

    def to_junit(self) -> str:
        """The report as JUnit XML: a test suite per table and a test case
        per check, a failure listing its findings (GitLab and Jenkins show
        them in a merge request's test tab)."""
        return self.render("junit")

    def to_html(self) -> str:
        """The report as one HTML page: the verdict, the checks, and a heat
        map of each table's cells (published, hidden, hidden and safe, and
        the cells findings name)."""
        return self.render("html")

    def to_text(self) -> str:
        """The report as ``amparo audit`` prints it: the checks, how each file
        was made, and the first 50 findings."""
        return self.render("text")

    def to_markdown(self) -> str:
        """A Markdown summary: the verdict, a table of the checks and one of
        the findings (for ``$GITHUB_STEP_SUMMARY`` or a merge-request comment)."""
        return str(self._core.to_markdown())

    def __repr__(self) -> str:
        verdict = "passed" if self.passed else f"FAILED, {len(self.messages)} findings"
        return f"<amparo.AuditReport {verdict}: {self.cells} cells, {self.hidden_cells} hidden>"

    def _repr_html_(self) -> str:
        # The page in a frame of its own, so that its styles stay off the notebook's.
        from html import escape

        return f'<iframe srcdoc="{escape(self.to_html())}" style="width:100%;height:36em;border:0"></iframe>'


def _published_tables(data: Any) -> "tuple[list, list[str]]":
    """One published table or a list of them (linked tables): their Arrow
    streams, and their names in reports (a file's path; the core names the
    others "table 1", ... in the report's language)."""
    tables = list(data) if isinstance(data, (list, tuple)) else [data]
    names = [os.fspath(d) if isinstance(d, (str, os.PathLike)) else "" for d in tables]
    return [_as_arrow_stream(d) for d in tables], names


def audit(
    data: Any,
    policy: PolicyLike,
    *,
    value_column: Union[str, None] = None,
    hidden_symbols: Union[list, None] = None,
    lang: Union[str, None] = None,
    progress: ProgressLike = None,
    like: LikeArg = None,
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
    ``findings`` is a pyarrow Table, or the kind of table ``like`` names
    (``"pandas"``, ``"polars"``, or a table of the kind wanted).

    For a policy that lists ``[tables]``, pass a list with one published table
    per linked table, in the policy's order: they are audited together, so a
    cell one table hides and another gives away is found.

    >>> import pyarrow as pa
    >>> p = Policy.from_toml('version = 1\n[input]\nkind = "aggregated"\ncount = "n"\n'
    ...                      '[dimensions.sex]\n[primary]\nthreshold = 5\n')
    >>> t = pa.table({"sex": ["Total", "F", "M"], "n": ["15", "x", "12"]})
    >>> report = audit(t, p, lang="en")
    >>> report.passed, report.messages
    (False, ['hidden cell (sex=F) can be computed exactly: it is 3'])
    >>> report.findings.column("check").to_pylist()
    ['protection']
    """
    streams, names = _published_tables(data)
    chosen = _as_policy(policy)
    kind = _kind_of(like)
    return AuditReport(
        _with_progress(progress, lambda callback: _amparo.audit_report(streams, names, chosen, value_column, hidden_symbols, lang, callback)),
        like=kind,
    )


def explain(
    data: Any,
    policy: PolicyLike,
    cell: "Union[str, dict[str, Any]]",
    *,
    value_column: Union[str, None] = None,
    hidden_symbols: Union[list, None] = None,
    lang: Union[str, None] = None,
) -> str:
    r"""Why one cell of a published table is hidden or flagged, as ``amparo explain`` says it.

    ``cell`` names the cell by ``dimension=code`` pairs (``"district=D1,sex=F"``),
    or as a dict (``{"district": "D1", "sex": "F"}``); a dimension left out
    is its total. The explanation gives the cell's
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
    named = cell if isinstance(cell, str) else [(str(k), str(v)) for k, v in dict(cell).items()]
    return str(_amparo.explain(streams, names, _as_policy(policy), named, value_column, hidden_symbols, lang))


@overload
def read_table(path: Union[str, "os.PathLike[str]"], *, like: Literal["pyarrow", None] = ...) -> "pa.Table": ...
@overload
def read_table(path: Union[str, "os.PathLike[str]"], *, like: Literal["pandas"]) -> "pd.DataFrame": ...
@overload
def read_table(path: Union[str, "os.PathLike[str]"], *, like: Literal["polars"]) -> "pl.DataFrame": ...
@overload
def read_table(path: Union[str, "os.PathLike[str]"], *, like: Frame) -> Frame: ...


def read_table(path: Union[str, "os.PathLike[str]"], *, like: LikeArg = None) -> Any:
    """Read a CSV (every column as text), Parquet or Arrow IPC file with the core's reader.

    Returns a pyarrow Table, or the kind of table ``like`` names
    (``"pandas"``, ``"polars"``, or a table of the kind wanted). A table
    Amparo wrote keeps its run metadata (a CSV's from its ``.meta.json``), so
    it can be published or summarized after.
    """
    return _as_kind(_kind_of(like), _amparo.read_table(os.fspath(path)))


class Summary:
    """What a protection did and cost, for the producer (it uses the true
    values, so :func:`publish` never copies it into a publication).

    Printing it gives the same text as ``amparo protect``. The numbers are
    in small tables, of the kind :func:`summary` was asked for:

    - ``measures``: ``measure``, ``value``: ``cells``, ``hidden``,
      ``hidden_share``, ``primary``, ``secondary``; for suppression
      ``children``, ``children_hidden``, ``children_hidden_share``; for
      rounding, the cell key method and noise ``changed``,
      ``changed_share``, ``mean_abs_change``, ``max_abs_change``,
      ``median_abs_change``, ``p90_abs_change``, ``p99_abs_change`` and
      ``mean_relative_abs_change``;
    - ``by_reason``: ``status``, ``reason``, ``cells``;
    - ``by_level`` (suppression): per dimension and depth of its
      hierarchy, the cells, the hidden cells and the shares of cells and of
      counts hidden;
    - ``changes`` (rounding, cell key, noise): the distribution of
      published minus original, ``from``, ``to``, ``cells``, ``share``.

    ``summary["hidden"]`` reads one measure; ``to_dict()`` gives everything
    (as ``amparo protect --format json`` prints it).
    """

    def __init__(self, text: str, data: "dict[str, Any]", tables: "dict[str, Any]") -> None:
        self._text = text
        self._data = data
        self.measures: Any = tables["measures"]
        self.by_reason: Any = tables["by_reason"]
        self.by_level: Any = tables["by_level"]
        self.changes: Any = tables["changes"]

    def __getitem__(self, measure: str) -> float:
        """One of ``measures``, by name: ``summary["children_hidden"]``."""
        import pyarrow as pa

        measures = pa.table(self.measures)
        names = [str(name) for name in measures.column("measure").to_pylist()]
        if measure not in names:
            raise KeyError(f"{measure!r} is not a measure of this summary; its measures: {', '.join(names)}")
        return float(measures.column("value")[names.index(measure)].as_py())

    def to_dict(self) -> "dict[str, Any]":
        """Every number and text of the summary, as ``amparo protect --format json`` prints it."""
        return json.loads(json.dumps(self._data))

    def __repr__(self) -> str:
        return self._text

    def _repr_html_(self) -> str:
        import html

        return f"<pre>{html.escape(self._text)}</pre>"


def summary(table: Any, *, like: LikeArg = None, lang: Optional[str] = None) -> Any:
    """What protecting ``table`` cost: a :class:`Summary`.

    ``table`` is what :func:`protect` (or :func:`round_table`,
    :func:`perturb`, :func:`add_noise`) returned, of any kind, the path of
    the file ``amparo protect`` wrote, or the dict :func:`protect_tables`
    returned (then a dict of summaries). Its tables are pyarrow, or the kind
    ``like`` names (default: the kind of ``table``; pyarrow for a path). Its
    text is in ``lang`` (``en``, ``es``; default from the locale).

    >>> import pyarrow as pa
    >>> p = Policy.from_dict({"version": 1, "input": {"kind": "aggregated", "count": "n"},
    ...                       "dimensions": {"sex": {}}, "primary": {"threshold": 5},
    ...                       "secondary": {"method": "interval"}})
    >>> s = summary(protect(pa.table({"sex": ["F", "M", "X"], "n": [3, 12, 9]}), p, progress=False))
    >>> s["hidden"], s["primary"], s["children_hidden"]
    (2.0, 1.0, 12.0)
    """
    if isinstance(table, dict):
        return {name: summary(t, like=like, lang=lang) for name, t in table.items()}
    if isinstance(table, (str, os.PathLike)):
        # The file's metadata only: its rows are not read.
        metadata = _amparo.file_metadata(os.fspath(table))
        kind = _kind_of(like)
    else:
        metadata = _metadata_of(table)
        kind = _kind_of(like if like is not None else (table if _module_of(table) in _KINDS else None))
    text, data, tables = _amparo.summary(metadata, lang)
    return Summary(text, json.loads(data), {name: _as_kind(kind, t) for name, t in tables})


def write_table(data: Any, path: Union[str, "os.PathLike[str]"]) -> None:
    """Write a table with the core's writer: CSV, Parquet or Arrow IPC by extension.

    The file is written to a temporary name and moved into place, so a failure
    never leaves half a file. A table :func:`protect` returned keeps its run
    metadata (engine version, policy SHA-256, method, randomness, audit
    verdict) in the file, whatever kind of table it is: in a Parquet or
    Arrow file's schema, beside a CSV in ``<path>.meta.json``.
    """
    _amparo.write_table(_as_arrow_stream(data), os.fspath(path), _metadata_of(data))


@overload
def synth(
    path: Union[str, "os.PathLike[str]"],
    *,
    records: int = ...,
    mode: str = ...,
    seed: int = ...,
    countries: "Optional[list[str]]" = ...,
    years: int = ...,
    first_year: int = ...,
    overwrite: bool = ...,
    like: LikeArg = ...,
) -> int: ...
@overload
def synth(
    path: None = ...,
    *,
    records: int = ...,
    mode: str = ...,
    seed: int = ...,
    countries: "Optional[list[str]]" = ...,
    years: int = ...,
    first_year: int = ...,
    overwrite: bool = ...,
    like: LikeArg = ...,
) -> Any: ...


def synth(
    path: Union[str, "os.PathLike[str]", None] = None,
    *,
    records: int = 10_000,
    mode: str = "flow",
    seed: int = 1,
    countries: "Optional[list[str]]" = None,
    years: int = 1,
    first_year: int = 2024,
    overwrite: bool = False,
    like: LikeArg = None,
) -> Any:
    """Synthetic microdata of children on the move, as ``amparo synth``
    makes it: six countries with their admin units, a long tail of
    nationalities, families. ``mode`` is ``flow`` (a record per event) or
    ``stock`` (a record per child); the same seed gives the same records.

    Without ``path``, returns the records as a table (pyarrow, or the kind
    ``like`` names). With ``path`` (.parquet, .csv, .arrow), writes them
    there a batch at a time (an existing file is replaced only with
    ``overwrite``) and returns the number of records written.

    >>> synth(records=5, seed=3).num_rows
    5
    """
    if path is None:
        return _as_kind(_kind_of(like), _amparo.synth_table(records, mode, seed, list(countries or []), years, first_year))
    return int(_amparo.write_synth(os.fspath(path), records, mode, seed, list(countries or []), years, first_year, overwrite))


def policy_json_schema() -> str:
    """The JSON Schema of the policy file."""
    return _amparo.policy_json_schema()
