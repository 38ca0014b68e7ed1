"""pytauargus (tau-Argus on HiGHS) on the small benchmark table, beside Amparo.

Usage: taurgus_small.py SMALL_CSV AMPARO_BINARY POLICY_TEMPLATE

Runs tau-Argus's optimal (OPT) and modular (MOD) secondary suppression with a
frequency rule FREQ(5,30) (cells of 1-4 children are primary; protection 1
either way), prints secondaries, children hidden and seconds, then audits each
published result with `amparo audit` (hidden cells must not be shown to lie
below the threshold nor be computable).
"""
import csv
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pytauargus import protect

small_csv, amparo, template = sys.argv[1:4]
rows = list(csv.DictReader(open(small_csv)))
dims = [c for c in rows[0] if c != "children"]
# tau-Argus protects tables built from microdata: one record per child.
micro = {d: [] for d in dims}
micro["ones"] = []
for r in rows:
    for _ in range(int(r["children"])):
        for d in dims:
            micro[d].append(r[d])
        micro["ones"].append(1)

work = Path(tempfile.mkdtemp(prefix="taurgus_"))
# tau-Argus writes its log files into the working folder: keep them out of the repository.
os.chdir(work)
policy = work / "policy.toml"
policy.write_text(Path(template).read_text().replace("METHOD", "none").replace("PROTECTION", "").replace("EXTRA", ""))
print(f"{'method':<10} {'primaries':>9} {'secondaries':>11} {'children_hidden':>15} {'seconds':>8}  amparo audit")
for method in ["OPT(1)", "MOD(1)"]:
    start = time.perf_counter()
    res = protect(micro, tables=dims, response="ones", safety_rules="FREQ(5,30)", suppress=method, workdir=str(work / method[:3]))
    seconds = time.perf_counter() - start
    cells = res.tables[0].dataframe()
    primaries = sum(c["status"] == "U" for c in cells)
    secondaries = sum(c["status"] == "M" for c in cells)
    hidden_children = sum(c["freq"] for c in cells if c["status"] in ("U", "M"))
    published = work / f"{method[:3]}.csv"
    with open(published, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(dims + ["published"])
        for c in cells:
            codes = [("National" if d == "district" else "Total") if c[d] == "Total" else c[d] for d in dims]
            w.writerow(codes + ["" if c["status"] in ("U", "M") else c["freq"]])
    audit = subprocess.run([amparo, "audit", "-p", str(policy), str(published)], capture_output=True, text=True)
    verdict = next((l.split(":", 1)[1].strip() for l in audit.stdout.splitlines() if l.startswith("audit:")), audit.stderr.strip())
    print(f"{method:<10} {primaries:>9} {secondaries:>11} {hidden_children:>15} {seconds:>8.2f}  {verdict}")
