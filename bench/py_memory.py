"""Memory of amparo.protect on large microdata from Python: the core reads the
frame through the Arrow C stream interface, batch by batch, and keeps only the
table of cells, so the memory a run adds to the process stays well under the
input's own Arrow size.

    .venv/bin/python bench/py_memory.py [rows] [pyarrow|polars|pandas]   (default 10^7 polars)

Prints the input's Arrow size, the peak resident memory the call added
(Linux: VmHWM after resetting it through /proc/self/clear_refs) and their
ratio; exits 1 when the ratio reaches 2 (the bar of issue 7).
"""

import sys
import time

import numpy as np
import pyarrow as pa

import amparo

POLICY = {
    "version": 1,
    "name": "memory benchmark",
    "input": {"kind": "microdata"},
    "dimensions": {
        "district": {"code_lengths": [2, 5]},
        "sex": {"codes": ["F", "M"]},
        "age_band": {"tree": {"0-17": ["0-4", "5-11", "12-17"]}},
    },
    "primary": {"threshold": 5},
}


def status_kb(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def microdata(rows: int, seed: int = 1) -> pa.Table:
    """Children by district (1,000 codes under 20 regions, long-tailed), sex and age band."""
    rng = np.random.default_rng(seed)
    districts = np.array([f"{r:02d}{d:03d}" for r in range(1, 21) for d in range(1, 51)])
    weights = 1.0 / np.arange(1, len(districts) + 1) ** 0.8
    district = districts[rng.choice(len(districts), size=rows, p=weights / weights.sum())]
    sex = np.array(["F", "M"])[rng.integers(0, 2, rows)]
    age = np.array(["0-4", "5-11", "12-17"])[rng.integers(0, 3, rows)]
    return pa.table({"district": district, "sex": sex, "age_band": age})


def measure(rows: int, kind: str = "polars") -> dict:
    table = microdata(rows)
    if kind == "polars":
        import polars as pl

        data = pl.from_arrow(table)
        size = data.estimated_size()
    elif kind == "pandas":
        data = table.to_pandas()
        size = table.nbytes
    else:
        data, size = table, table.nbytes
    del table
    policy = amparo.Policy.from_dict(POLICY)
    before = status_kb("VmRSS")
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # reset the peak (VmHWM) to the current resident size
    started = time.perf_counter()
    out = amparo.protect(data, policy, progress=False)
    seconds = time.perf_counter() - started
    added = (status_kb("VmHWM") - before) * 1024
    return {"rows": rows, "kind": kind, "input_bytes": size, "added_bytes": added, "ratio": added / size, "seconds": seconds, "cells": len(out)}


if __name__ == "__main__":
    rows = int(float(sys.argv[1])) if len(sys.argv) > 1 else 10**7
    kind = sys.argv[2] if len(sys.argv) > 2 else "polars"
    r = measure(rows, kind)
    print(
        f"{r['rows']:,} rows ({r['kind']}): input {r['input_bytes'] / 2**20:,.0f} MiB in Arrow; "
        f"protect added {r['added_bytes'] / 2**20:,.0f} MiB at its peak ({r['ratio']:.2f}x the input) "
        f"in {r['seconds']:.1f} s; {r['cells']:,} cells"
    )
    sys.exit(0 if r["ratio"] < 2 else 1)
