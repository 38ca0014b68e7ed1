#!/usr/bin/env bash
# Secondary suppression and the LP audit on generated tables of migrant
# children (bench/make_tables.py: ~1.4k, ~4k, ~29k and ~99k cells, threshold 5).
# Methods: interval (optimal up to lp_limit cells, patterns above), patterns
# and modular on the small tables, and fast. For each table and method prints: cells, primaries, secondaries, children
# hidden, seconds (whole CLI run), of which secondary suppression and audit,
# and the audit verdict.
#
#   bench/suppression.sh            the small, mid and medium tables (about 6 minutes,
#                                   most of it the LP audit of `fast`'s unsafe medium table)
#   bench/suppression.sh all        also the 99k-cell table (its `fast` run without the audit)
#   bench/suppression.sh taurgus    the small table, and pytauargus on it (installs
#                                   it from PyPI into .venv-bench on first use)
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
build_cli
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 bench/make_tables.py "$work"

tables=(small mid medium)
[[ "${1:-}" == all ]] && tables+=(large)
[[ "${1:-}" == taurgus ]] && tables=(small)

echo "machine: $(machine); $(date -u +%F)"
printf '%-8s %-12s %7s %9s %11s %15s %8s %11s %8s  %s\n' table method cells primaries secondaries children_hidden seconds secondary_s audit_s audit
run() { # table method protection-lines extra-lines label
  local t=$1 m=$2 protection=$3 extra=$4 label=$5
  sed -e "s/METHOD/$m/" -e "s/^PROTECTION\$/$protection/" -e "s/^EXTRA\$/$extra/" "$work/$t.toml" > "$work/$t.$label.toml"
  local start end
  start=$(date +%s.%N)
  AMPARO_DEBUG=1 "$AMPARO" protect -p "$work/$t.$label.toml" "$work/$t.csv" -o "$work/$t.$label.csv" --keep-original \
    >"$work/$t.$label.out" 2>"$work/$t.$label.err" || true
  end=$(date +%s.%N)
  python3 - "$work/$t.$label.csv" "$work/$t.$label.err" "$work/$t.$label.out" "$t" "$label" "$start" "$end" <<'PY'
import csv, re, sys
path, err, out, name, label, start, end = sys.argv[1:]
rows = list(csv.DictReader(open(path)))
prim = sum(r["status"] == "primary" for r in rows)
sec = sum(r["status"] == "secondary" for r in rows)
# Children in hidden cells, margins included (so a child can count more than once).
hidden_children = sum(int(r["value"]) for r in rows if r["published"] == "")
scale = {"s": 1, "ms": 1e-3, "µs": 1e-6, "ns": 1e-9}
timing = {k: float(v) * scale[u]
          for k, v, u in re.findall(r"^(secondary suppression|audit): ([0-9.]+)(ms|µs|ns|s)$", open(err).read(), re.M)}
verdict = next((l.split(":", 1)[1].strip() for l in open(out) if l.startswith("audit:")), "?").split(":")[0]
print(f"{name:<8} {label:<12} {len(rows):>7} {prim:>9} {sec:>11} {hidden_children:>15} {float(end) - float(start):>8.2f} "
      f"{timing.get('secondary suppression', 0):>11.2f} {timing.get('audit', 0):>8.2f}  {verdict}")
PY
}
for t in "${tables[@]}"; do
  run "$t" interval "" "" interval
  # Hypercube patterns (what interval uses above lp_limit cells) on the tables LPs can do.
  if [[ "$t" == small || "$t" == mid ]]; then
    run "$t" interval "" 'lp_limit = 0' int-patterns
  fi
  # optimal's LPs subtable by subtable (HiTaS). On "medium" (9 subtables of
  # about 3,000 cells) it ran past its 600 s limit (bench/RESULTS.md).
  if [[ "$t" == small || "$t" == mid ]]; then
    run "$t" modular "" "" modular
  fi
  # tau-Argus's FREQ(5,30) protection on cells of 1-4 children: 1 either way.
  if [[ "$t" == small ]]; then
    run "$t" interval '[primary.protection]\nlower = 1\nupper = 1' "" int-lvl1
    # As tau-Argus: protection 1 either way and no singleton rule.
    run "$t" interval 'singletons = "ignore"\n[primary.protection]\nlower = 1\nupper = 1' "" int-lvl1-ns
  fi
  if [[ "$t" == large ]]; then
    # The LP audit of fast's unsafe 99k-cell table takes tens of minutes.
    run "$t" fast "" '[audit]\nenabled = false' fast-noaudit
  else
    run "$t" fast "" "" fast
  fi
done

if [[ "${1:-}" == taurgus ]]; then
  PY="$ROOT/.venv-bench/bin/python"
  [[ -x "$PY" ]] || { python3 -m venv "$ROOT/.venv-bench" && "$ROOT/.venv-bench/bin/pip" install -q pytauargus; }
  echo
  echo "pytauargus $("$PY" -c 'import pytauargus; print(pytauargus.__version__)') on the small table, FREQ(5,30) (protection 1 either way):"
  "$PY" bench/taurgus_small.py "$work/small.csv" "$AMPARO" "$work/small.toml"
fi
