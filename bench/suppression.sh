#!/usr/bin/env bash
# Interval secondary suppression and the LP audit on tables built from the
# bundled example microdata (3,000 children): prints, for each table, its
# cells, primaries, secondaries, children hidden, seconds and the audit verdict.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
cd "$ROOT"
cargo build --release -q -p amparo-cli
AMPARO="$CARGO_TARGET_DIR/release/amparo"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# 3-D: the example policy. 4-D: the same with sex added.
cp examples/policy.toml "$work/t3.toml"
sed 's/^\[primary\]/[dimensions.sex]\ncodes = ["F", "M"]\n\n[primary]/' examples/policy.toml > "$work/t4.toml"

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores; $(date -u +%F)"
printf '%-28s %6s %9s %11s %15s %8s %10s %9s  %s\n' table cells primaries secondaries children_hidden seconds secondary_s audit_s audit
for t in t3 t4; do
  start=$(date +%s.%N)
  AMPARO_DEBUG=1 "$AMPARO" protect -p "$work/$t.toml" examples/children.csv -o "$work/$t.csv" --keep-original \
    >"$work/$t.out" 2>"$work/$t.err" || true
  end=$(date +%s.%N)
  python3 - "$work/$t.csv" "$work/$t.err" "$work/$t.out" "$t" "$start" "$end" <<'PY'
import csv, re, sys
path, err, out, name, start, end = sys.argv[1:]
rows = list(csv.DictReader(open(path)))
prim = sum(r["status"] == "primary" for r in rows)
sec = sum(r["status"] == "secondary" for r in rows)
# Children in hidden cells, margins included (so a child can count more than once).
hidden_children = sum(int(r["value"]) for r in rows if r["published"] == "")
scale = {"s": 1, "ms": 1e-3, "µs": 1e-6, "ns": 1e-9}
timing = {k: float(v) * scale[u]
          for k, v, u in re.findall(r"^(secondary suppression|audit): ([0-9.]+)(ms|µs|ns|s)$", open(err).read(), re.M)}
verdict = next((l.split(":", 1)[1].strip() for l in open(out) if l.startswith("audit:")), "?").split(":")[0]
label = {"t3": "district x nationality x age", "t4": "district x nat x age x sex"}[name]
print(f"{label:<28} {len(rows):>6} {prim:>9} {sec:>11} {hidden_children:>15} {float(end) - float(start):>8.2f} "
      f"{timing.get('secondary suppression', 0):>10.2f} {timing.get('audit', 0):>9.2f}  {verdict}")
PY
done
