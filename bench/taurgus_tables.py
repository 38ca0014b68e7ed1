"""Amparo and pytauargus (tau-Argus on HiGHS) on the same benchmark table, one run.

Usage: taurgus_tables.py MICRODATA_PARQUET POLICY_TOML AMPARO_BINARY TIMEOUT_SECONDS

The policy is one of bench/tables/B*.toml with a single table (its `[secondary]
method` set by the caller; its codes files beside it). Runs, on the same
microdata:
  - Amparo with that policy (its default protection: a hidden small cell must
    be able to reach 0 and the threshold) and with tau-Argus's protection
    (FREQ(threshold, 30): 1 either way, no singleton rule), audit off, timed;
  - pytauargus with FREQ(threshold, 30) and MOD(1) (tau-Argus's modular
    method, the one it recommends for large hierarchical tables), timed;
then audits every published table with `amparo audit` against the policy
(a hidden cell below the threshold must not be shown to lie below it, nor be
computable) and prints one table: secondaries, children hidden, seconds,
audit verdict, and the ratio Amparo / pytauargus. Each run is stopped after
TIMEOUT_SECONDS.
"""
import csv
import os
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

import pyarrow.parquet as pq

parquet, policy_path, amparo, timeout = sys.argv[1], Path(sys.argv[2]), sys.argv[3], float(sys.argv[4])
policy = tomllib.loads(policy_path.read_text())
threshold = policy["primary"]["threshold"]
dims = list(policy["dimensions"])
column = {d: policy["dimensions"][d].get("column", d) for d in dims}
work = Path(tempfile.mkdtemp(prefix="taurgus_tables_"))


def run(args, seconds):
    """Run a command; (seconds, completed or None when stopped)."""
    start = time.perf_counter()
    try:
        done = subprocess.run(args, capture_output=True, text=True, timeout=seconds)
    except subprocess.TimeoutExpired:
        return time.perf_counter() - start, None
    return time.perf_counter() - start, done


def audit(published):
    seconds, done = run([amparo, "audit", "--lang", "en", "-p", str(policy_path), str(published)], timeout)
    if done is None:
        return f"stopped at {timeout:.0f} s", seconds
    verdict = next((l.split(":", 1)[1].strip() for l in done.stdout.splitlines() if l.startswith("audit:")), done.stderr.strip()[:80])
    return verdict[:70], seconds


def amparo_run(label, policy_text):
    # The whole run is timed (read, aggregate, suppress, audit, write); its
    # secondary suppression step alone is read from its debug output.
    toml = work / f"run{len(list(work.glob('run*.toml')))}.toml"
    toml.write_text(policy_text)
    out = toml.with_suffix(".csv")
    os.environ["AMPARO_DEBUG"] = "1"
    seconds, done = run([amparo, "protect", "-p", str(toml), parquet, "-o", str(out), "--keep-original"], timeout)
    del os.environ["AMPARO_DEBUG"]
    if done is None or done.returncode not in (0, 1) or not out.exists():
        why = f"stopped at {timeout:.0f} s" if done is None else done.stderr.strip().splitlines()[-1][:70]
        return dict(method=label, secondaries="-", hidden="-", seconds=seconds, audit=why, audit_s=0.0)
    suppression = next((float(l.split()[-1].rstrip("s")) for l in done.stderr.splitlines()
                        if l.startswith("secondary suppression:") and l.endswith("s") and not l.endswith("ms")), 0.0)
    rows = list(csv.DictReader(open(out)))
    secondaries = sum(r["status"] == "secondary" for r in rows)
    hidden = sum(r["published"] == "" for r in rows)
    children = sum(int(r["value"]) for r in rows if r["published"] == "")
    published = toml.with_suffix(".published.csv")
    with open(published, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(dims + ["published"])
        for r in rows:
            w.writerow([r[d] for d in dims] + [r["published"]])
    verdict, audit_s = audit(published)
    return dict(method=label, secondaries=secondaries, hidden=hidden, children=children, seconds=seconds, suppression=suppression, audit=verdict, audit_s=audit_s,
                totals={d: rows[0][d] for d in dims})


def hierarchy_spec(d):
    """tau-Argus's hierarchy for one dimension: code lengths as levels, or an .hrc file."""
    spec = policy["dimensions"][d]
    if "code_lengths" in spec:
        lengths = spec["code_lengths"]
        return " ".join(str(b - a) for a, b in zip([0] + lengths, lengths))
    if "codes_file" in spec:
        codes = list(csv.DictReader(open(policy_path.parent / spec["codes_file"]["path"])))
        children = {}
        for r in codes:
            children.setdefault(r["parent"], []).append(r["code"])
        lines = []

        def walk(code, depth):
            lines.append("@" * depth + code)
            for c in children.get(code, []):
                walk(c, depth + 1)
        for top in children.get("", []):
            walk(top, 0)
        hrc = work / f"{d}.hrc"
        hrc.write_text("\n".join(lines) + "\n")
        return str(hrc)
    return None


# Amparo: the policy's own protection, then tau-Argus's (its codes files beside the copies).
for f in policy_path.parent.glob("*.csv"):
    (work / f.name).write_bytes(f.read_bytes())
text = policy_path.read_text()
results = [amparo_run("amparo", text)]
totals = results[0].get("totals")
if "singletons" not in text:
    text = text.replace("[primary]\n", "[primary]\nsingletons = \"ignore\"\n", 1)
results.append(amparo_run("amparo, tau-Argus's protection", text + "\n[primary.protection]\nlower = 1\nupper = 1\n"))

# pytauargus: one record per child, the policy's columns.
from pytauargus import protect  # noqa: E402

records = pq.read_table(parquet, columns=sorted(set(column.values())))
micro = {d: records.column(column[d]).to_pylist() for d in dims}
micro["ones"] = [1] * records.num_rows
hrc = {column_d: spec for column_d, spec in ((d, hierarchy_spec(d)) for d in dims) if spec}
os.chdir(work)


def taurgus(method):
    start = time.perf_counter()
    # tau-Argus runs in-process: a child process carries the time limit.
    pid = os.fork()
    if pid == 0:
        try:
            res = protect(micro, tables=dims, response="ones", safety_rules=f"FREQ({threshold},30)", suppress=method,
                          hrc=hrc or None, hierleadstring="@", workdir=str(work / method[:3]))
            cells = res.tables[0].dataframe()
            with open(work / f"{method[:3]}.cells.csv", "w", newline="") as f:
                w = csv.writer(f)
                w.writerow(dims + ["freq", "status"])
                for c in cells:
                    w.writerow([c[d] for d in dims] + [c["freq"], c["status"]])
            os._exit(0)
        except BaseException as e:  # noqa: BLE001 - reported by the parent
            print(f"pytauargus failed: {e}", file=sys.stderr)
            os._exit(1)
    deadline = start + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.perf_counter() > deadline:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            return dict(method=f"pytauargus {method}", secondaries="-", hidden="-", children="-", seconds=timeout,
                        audit=f"stopped at {timeout:.0f} s", audit_s=0.0)
        time.sleep(0.05)
    seconds = time.perf_counter() - start
    if status != 0:
        return dict(method=f"pytauargus {method}", secondaries="-", hidden="-", children="-", seconds=seconds, audit="failed", audit_s=0.0)
    cells = list(csv.DictReader(open(work / f"{method[:3]}.cells.csv")))
    published = work / f"tau-{method[:3]}.csv"
    with open(published, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(dims + ["published"])
        for c in cells:
            codes = [totals[d] if c[d] == "Total" else c[d] for d in dims]
            w.writerow(codes + ["" if c["status"] in ("U", "M") else c["freq"]])
    verdict, audit_s = audit(published)
    return dict(method=f"pytauargus {method}", secondaries=sum(c["status"] == "M" for c in cells),
                hidden=sum(c["status"] in ("U", "M") for c in cells),
                children=sum(int(float(c["freq"])) for c in cells if c["status"] in ("U", "M")),
                seconds=seconds, audit=verdict, audit_s=audit_s)


if totals is None:
    print("Amparo's run did not finish: no totals to map tau-Argus's codes to; pytauargus skipped", file=sys.stderr)
else:
    results.append(taurgus("MOD(1)"))

tau_seconds = results[-1]["seconds"] if len(results) > 2 and results[-1]["secondaries"] != "-" else None
print("| run | secondaries | hidden cells | children hidden | seconds (whole run) | of which suppression | ratio to pytauargus | audit (s) | audit verdict |")
print("|---|---|---|---|---|---|---|---|---|")
for r in results:
    ratio = f"{r['seconds'] / tau_seconds:.2f}" if tau_seconds and r["secondaries"] != "-" else "-"
    print(f"| {r['method']} | {r['secondaries']} | {r['hidden']} | {r.get('children', '-')} | {r['seconds']:.1f} | {r.get('suppression', '-')} | {ratio} | {r['audit_s']:.1f} | {r['audit']} |")
