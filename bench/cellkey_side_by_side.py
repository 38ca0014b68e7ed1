"""The cell key method side by side: Amparo against a numpy implementation of
the same method on the same records, in the same run.

No implementation of ONS's cell key perturbation is installable here (it is
not on the Python package index), so the baseline is a vectorised numpy
implementation of the same steps, checked to give the same published value
for every cell: record keys to 32-bit integers (floor(k * 2^32)), summed per
cell modulo 2^32 (margins included), the ptable row min(n, i_max), and the
noise v whose cumulative probability first exceeds the cell key; zeros stay
zero. Both read the same Parquet file and the same ptable CSV.

    .venv/bin/python bench/cellkey_side_by_side.py [records, default 10^7]

Prints seconds for each and the ratio (Amparo / numpy).
"""

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
AMPARO = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "release" / "amparo"
DIMS = ["admin1", "nationality", "age_band", "sex"]

PTABLE = """i,v,p
0,0,1
1,-1,0.5
1,1,0.5
2,-2,0.1
2,-1,0.2
2,0,0.4
2,1,0.2
2,2,0.1
3,-2,0.1
3,-1,0.2
3,0,0.4
3,1,0.2
3,2,0.1
"""

POLICY = """version = 1
[input]
kind = "microdata"
record_key = "record_key"
[dimensions.admin1]          # MEX > MEX09, under a total
code_lengths = [3, 5]
[dimensions.nationality]
[dimensions.age_band]
[dimensions.sex]
[perturbation]
method = "cell_key"
ptable_file = "ptable.csv"
"""


def numpy_cell_key(path: Path, ptable_path: Path) -> "dict[tuple, int]":
    table = pq.read_table(path, columns=DIMS + ["record_key"])
    codes, leaves = [], []
    for name in DIMS:
        encoded = pc.dictionary_encode(table.column(name)).combine_chunks()
        dictionary = np.array(encoded.dictionary.to_pylist())
        order = np.argsort(dictionary)  # prefix-nested codes sort into contiguous groups
        rank = np.empty_like(order)
        rank[order] = np.arange(len(order))
        codes.append(rank[encoded.indices.to_numpy()])
        leaves.append(list(dictionary[order]))
    shape = tuple(len(l) for l in leaves)
    flat = np.ravel_multi_index(codes, shape)
    keys = np.floor(table.column("record_key").to_numpy() * 4294967296.0).astype(np.uint64)
    counts = np.bincount(flat, minlength=int(np.prod(shape))).reshape(shape).astype(np.int64)
    keysum = np.zeros(int(np.prod(shape)), dtype=np.uint64)
    np.add.at(keysum, flat, keys)
    keysum = keysum.reshape(shape)
    labels = []
    for axis, leaf in enumerate(leaves):
        parts_c, parts_k, names = [counts], [keysum], list(leaf)
        if DIMS[axis] == "admin1":  # admin-1 > country > total
            countries = [c[:3] for c in leaf]
            starts = [i for i, c in enumerate(countries) if i == 0 or c != countries[i - 1]]
            parts_c.append(np.add.reduceat(counts, starts, axis=axis))
            parts_k.append(np.add.reduceat(keysum, starts, axis=axis))
            names += [countries[i] for i in starts]
        parts_c.append(counts.sum(axis=axis, keepdims=True))
        parts_k.append(keysum.sum(axis=axis, keepdims=True, dtype=np.uint64))
        names.append("Total")
        counts = np.concatenate(parts_c, axis=axis)
        keysum = np.concatenate(parts_k, axis=axis)
        labels.append(names)
    cell_key = (keysum % np.uint64(4294967296)).astype(np.float64) / 4294967296.0
    ptable = pacsv.read_csv(ptable_path).to_pydict()
    i_max = max(ptable["i"])
    width = max(ptable["i"].count(i) for i in range(i_max + 1))
    values = np.zeros((i_max + 1, width), dtype=np.int64)
    cumulative = np.full((i_max + 1, width), np.inf)
    column = [0] * (i_max + 1)
    running = [0.0] * (i_max + 1)
    for i, v, p in zip(ptable["i"], ptable["v"], ptable["p"]):
        running[i] += p
        values[i, column[i]] = v
        cumulative[i, column[i]] = running[i]
        column[i] += 1
    for i in range(i_max + 1):  # rounding in the last digits: the last value
        values[i, column[i]:] = values[i, column[i] - 1]
    row = np.minimum(counts, i_max)
    pick = np.minimum((cell_key[..., None] >= cumulative[row]).sum(axis=-1), width - 1)
    noise = np.where(counts > 0, np.take_along_axis(values[row], pick[..., None], axis=-1)[..., 0], 0)
    published = counts + noise
    return labels, published


def main() -> None:
    records = int(float(sys.argv[1])) if len(sys.argv) > 1 else 10**7
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        data = work / "records.parquet"
        subprocess.run([AMPARO, "synth", "-n", str(records), "--mode", "stock", "--seed", "1", "-o", data], check=True, capture_output=True)
        (work / "ptable.csv").write_text(PTABLE)
        (work / "policy.toml").write_text(POLICY)
        started = time.perf_counter()
        subprocess.run([AMPARO, "protect", "-p", work / "policy.toml", data, "-o", work / "amparo.parquet"], check=True, capture_output=True)
        amparo_seconds = time.perf_counter() - started
        started = time.perf_counter()
        labels, published = numpy_cell_key(data, work / "ptable.csv")
        numpy_seconds = time.perf_counter() - started
        # Same value in every cell?
        out = pq.read_table(work / "amparo.parquet").to_pydict()
        index = [{code: k for k, code in enumerate(names)} for names in labels]
        mismatches = sum(
            published[tuple(index[d][out[name][r]] for d, name in enumerate(DIMS))] != out["published"][r] for r in range(len(out["published"]))
        )
    print(f"machine: {os.cpu_count()} cores; {time.strftime('%Y-%m-%d')}; {records:,} records, {published.size:,} cells with margins")
    print(f"amparo protect (read Parquet, aggregate, perturb, write Parquet): {amparo_seconds:.2f} s")
    print(f"numpy baseline (read Parquet, aggregate, perturb):               {numpy_seconds:.2f} s")
    print(f"ratio amparo / numpy: {amparo_seconds / numpy_seconds:.2f}; cells whose published values differ: {mismatches}")
    sys.exit(1 if mismatches else 0)


if __name__ == "__main__":
    main()
