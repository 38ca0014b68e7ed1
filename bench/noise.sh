#!/usr/bin/env bash
# Exact noise: draws per second of Amparo's discrete Laplace and discrete
# Gaussian (criterion, secure generator, one core) at scales 1, 2, 10, 1000,
# beside OpenDP's (PyPI, installed into .venv-bench on first use) measured
# the same way in the same run, and the 10^7-draw goodness-of-fit check.
#   bash bench/noise.sh          # everything
#   bash bench/noise.sh amparo   # Amparo only
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
echo "machine: $(machine); $(date -u +%F)"
out=$(mktemp)
cargo bench -q -p amparo-core --bench noise 2>/dev/null | tee /dev/stderr \
  | awk '/^noise\// {name=$1} /thrpt:/ && name {v=$(NF-3); u=$(NF-2); gsub(/\[/,"",v); m=(u ~ /^G/)?1e9:(u ~ /^M/)?1e6:(u ~ /^K/)?1e3:1; split(name, p, "/"); print "amparo", p[2], p[3], v*m; name=""}' >"$out"
if [[ "${1:-all}" != "amparo" ]]; then
  PY="$ROOT/.venv-bench/bin/python"
  [[ -x "$PY" ]] || { python3 -m venv "$ROOT/.venv-bench"; }
  "$PY" -c "import opendp" 2>/dev/null || "$ROOT/.venv-bench/bin/pip" install -q opendp
  "$PY" bench/opendp_noise.py >>"$out"
fi
echo
echo "| mechanism | scale | Amparo draws/s | OpenDP draws/s | ratio |"
echo "|---|---|---|---|---|"
awk '{rate[$1" "$2" "$3]=$4; key[$2" "$3]=1}
     END {for (k in key) {split(k, p, " "); a=rate["amparo "k]; o=rate["opendp "k];
          printf "| %s | %s | %.3g | %s | %s |\n", p[1], p[2], a, (o ? sprintf("%.3g", o) : "-"), (o ? sprintf("%.0fx", a/o) : "-")}}' "$out" | sort -t'|' -k2,2 -k3,3n
rm -f "$out"
echo
echo "10^7-draw goodness of fit (chi-square, mean, variance) at every scale:"
AMPARO_NOISE_DRAWS=10000000 cargo test --release -q -p amparo-core --test noise_samplers 2>&1 | tail -2

echo
echo "Post-processing (least squares, whole numbers, 50 simulations) of an 11,760-cell table:"
echo "municipality 99 in 12 departments x nationality 20 x age band 4, rho = 1/2 over three levels, grand total invariant"
cargo build -q --release -p amparo-cli
work=$(mktemp -d)
python3 bench/municipality_table.py "$work/t.csv"
python3 - "$work" <<'PY'
import sys
work = sys.argv[1]
for sims in (0, 50):
    open(f"{work}/p{sims}.toml", "w").write(f"""version = 1
[input]
kind = "aggregated"
count = "n"
[dimensions.municipality]
code_lengths = [2, 5]
[dimensions.nationality]
[dimensions.age_band]
[noise]
method = "discrete_gaussian"
rho = "1/2"
levels = {{ dimension = "municipality", shares = ["1/5", "3/10", "1/2"] }}
invariants = [{{ cell = {{}} }}]
simulations = {sims}
""")
PY
for sims in 0 50; do
  AMPARO_DEBUG=1 /usr/bin/time -f "  simulations = $sims: %e s in all, peak memory %M KB" \
    "$CARGO_TARGET_DIR/release/amparo" protect -p "$work/p$sims.toml" "$work/t.csv" -o "$work/out$sims.csv" 2>&1 | grep -E "^noise|simulations ="
done
rm -rf "$work"
