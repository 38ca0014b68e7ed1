"""Amparo from Python: the bundled example (synthetic microdata of 3,000
migrant children) protected three ways, audited, and written to Parquet.

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
rounded = amparo.round(children, policy, method="controlled", base=5)
print(f"rounding:    every count a multiple of 5; total {rounded['published'][0].as_py():,}")

# 3. The same table with differential privacy noise (discrete Gaussian, rho = 1/2),
#    post-processed to whole, non-negative counts that add up.
noisy = amparo.noise(children, policy, rho="1/2")
print(f"noise:       total {noisy['published'][0].as_py():,}, per-cell sd in column `sd`")

# The publication gate: audit the suppressed table as it will be published.
report = amparo.audit(suppressed, policy, lang="en")
print(f"audit:       {'passed' if report.ok else 'FAILED'} ({report.hidden_cells:,} hidden cells checked)")
(out_dir / "audit.html").write_text(report.to_html())

for name, table in [("suppressed", suppressed), ("rounded", rounded), ("noisy", noisy)]:
    path = out_dir / f"{name}.parquet"
    amparo.write_table(table, path)
    print(f"written:     {path}")
if not report.ok:
    sys.exit(1)
