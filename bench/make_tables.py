#!/usr/bin/env python3
"""Generated tables of migrant children for the suppression benchmarks.

Writes, for each size, an aggregated CSV of inner cells (`<name>.csv`) and the
policy that protects it (`<name>.toml`, with placeholders METHOD, PROTECTION
(in [primary]) and EXTRA (after [secondary]'s keys) for bench/suppression.sh) into the folder given as argument.
Counts follow DATA.md's shapes: Zipf over geography and nationality, so most
cells are 0 and many non-zero cells are small. Stdlib only, seeded.

  small  district 30 x nationality 14 x sex 2                  1,395 cells with margins
  mid    municipality 20 in 4 departments x nationality 10 x age band 4 x sex 2     4,125
  medium municipality 60 in 8 departments x nationality 20 x age band 4 x sex 3   28,980
  large  municipality 200 in 12 departments x nationality 30 x age band 4 x sex 2 99,045
"""
import math
import random
import sys
from pathlib import Path


def zipf(n, s):
    w = [1 / (k + 1) ** s for k in range(n)]
    total = sum(w)
    return [x / total for x in w]


def poisson(rng, lam):
    if lam > 30:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def geography(departments, municipalities):
    """Codes nest by prefix: department `DD`, municipality `DDMMM`."""
    per = [municipalities // departments + (1 if d < municipalities % departments else 0) for d in range(departments)]
    return [f"{d + 1:02d}{m + 1:03d}" for d in range(departments) for m in range(per[d])]


def write(folder, name, dims, total_children, seed, policy_dims, threshold=5):
    rng = random.Random(seed)
    names = [d for d, _, _ in dims]
    shares = [zipf(len(codes), s) for _, codes, s in dims]
    # Shuffle geography weights so the big units are spread over departments.
    rng.shuffle(shares[0])
    rows = []

    def walk(i, prefix, p):
        if i == len(dims):
            rows.append(prefix + [str(poisson(rng, total_children * p))])
            return
        for code, share in zip(dims[i][1], shares[i]):
            walk(i + 1, prefix + [code], p * share)

    walk(0, [], 1.0)
    with open(folder / f"{name}.csv", "w") as f:
        f.write(",".join(names + ["children"]) + "\n")
        for r in rows:
            f.write(",".join(r) + "\n")
    policy = [
        "version = 1",
        f'name = "benchmark table {name}"',
        "[input]",
        'kind = "aggregated"',
        'count = "children"',
        *policy_dims,
        "[primary]",
        f"threshold = {threshold}",
        "PROTECTION",
        "[secondary]",
        'method = "METHOD"',
        'cost = "unit"',
        "EXTRA",
        "",
    ]
    (folder / f"{name}.toml").write_text("\n".join(policy))


def main():
    folder = Path(sys.argv[1])
    folder.mkdir(parents=True, exist_ok=True)
    nat = lambda n: [f"N{k:02d}" for k in range(n)]
    write(folder, "small",
          [("district", [f"D{k:02d}" for k in range(30)], 1.1), ("nationality", nat(14), 1.6), ("sex", ["F", "M"], 0.05)],
          3000, 1,
          ['[dimensions.district]', 'total = "National"', '[dimensions.nationality]', '[dimensions.sex]'])
    write(folder, "mid",
          [("municipality", geography(4, 20), 1.1), ("nationality", nat(10), 1.6),
           ("age_band", ["0-4", "5-11", "12-14", "15-17"], 0.2), ("sex", ["F", "M"], 0.05)],
          8000, 4,
          ['[dimensions.municipality]', 'code_lengths = [2, 5]', 'total = "National"', '[dimensions.nationality]',
           '[dimensions.age_band]', 'tree = { "0-17" = ["0-4", "5-11", "12-14", "15-17"] }', '[dimensions.sex]'])
    write(folder, "medium",
          [("municipality", geography(8, 60), 1.1), ("nationality", nat(20), 1.6),
           ("age_band", ["0-4", "5-11", "12-14", "15-17"], 0.2), ("sex", ["F", "M", "U"], 3.0)],
          40000, 2,
          ['[dimensions.municipality]', 'code_lengths = [2, 5]', 'total = "National"', '[dimensions.nationality]',
           '[dimensions.age_band]', 'tree = { "0-17" = ["0-4", "5-11", "12-14", "15-17"] }', '[dimensions.sex]'])
    write(folder, "large",
          [("municipality", geography(12, 200), 1.1), ("nationality", nat(30), 1.6),
           ("age_band", ["0-4", "5-11", "12-14", "15-17"], 0.2), ("sex", ["F", "M"], 0.05)],
          150000, 3,
          ['[dimensions.municipality]', 'code_lengths = [2, 5]', 'total = "National"', '[dimensions.nationality]',
           '[dimensions.age_band]', 'tree = { "0-17" = ["0-4", "5-11", "12-14", "15-17"] }', '[dimensions.sex]'])


if __name__ == "__main__":
    main()
