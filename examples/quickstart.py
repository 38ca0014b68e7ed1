"""Amparo from Python: the bundled example (synthetic microdata of 3,000
migrant children) protected three ways, published (CSV and Excel) and audited.

    python examples/quickstart.py [output folder]    (default: examples/out)

Needs the amparo package (`pip install ./py`) and pyarrow.
"""

import sys
from pathlib import Path

import pyarrow.compute as pc

import amparo

HERE = Path(__file__).resolve().parent
out_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "out"
out_dir.mkdir(parents=True, exist_ok=True)

children = amparo.read_table(HERE / "children.csv")  # every column as text: codes keep leading zeros
policy = amparo.Policy.from_file(HERE / "policy.toml")
print(f"{children.num_rows:,} children; policy {policy.name!r} ({policy.sha256[:12]})")

# 1. Cell suppression, as the policy says: a threshold of 5 and interval secondary suppression.
suppressed = amparo.protect(children, policy)
hidden = pc.sum(pc.not_equal(suppressed["status"], "published")).as_py()
print(f"suppression: {suppressed.num_rows:,} cells, {hidden:,} hidden")

# 2. The same table rounded to base 5 (controlled: the margins still add up).
rounding = policy.for_method("rounding", method="controlled", base=5)
rounded = amparo.protect(children, rounding)
print(f"rounding:    every count a multiple of 5; total {rounded['published'][0].as_py():,}")

# 3. The same table with differential privacy noise (discrete Gaussian, rho = 1/2),
#    post-processed to whole, non-negative counts that add up.
noise = policy.for_method("noise", rho="1/2")
noisy = amparo.protect(children, noise)
print(f"noise:       total {noisy['published'][0].as_py():,}, per-cell sd in column `sd`")

# The tables above are the producer's: their status, reason, interval and sd
# columns are NOT for publication. The publication step writes what people
# may see (the dimensions and the published values, hidden cells marked `x`),
# and refuses a table whose audit failed.
for name, table, made_with in [("suppressed", suppressed, policy), ("rounded", rounded, rounding), ("noisy", noisy, noise)]:
    for ext in ("csv", "xlsx"):
        path = out_dir / f"{name}.{ext}"
        amparo.publish(table, made_with, path, overwrite=True)
        print(f"published:   {path}")

# The publication gate: audit the file as it is published.
report = amparo.audit(out_dir / "suppressed.csv", policy, lang="en")
print(f"audit:       {'passed' if report.passed else 'FAILED'} ({report.hidden_cells:,} hidden cells checked)")
(out_dir / "audit.html").write_text(report.to_html())
if not report.passed:
    sys.exit(1)
