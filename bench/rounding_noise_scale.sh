#!/usr/bin/env bash
# Noise and controlled rounding at release scale, whole CLI runs (read
# Parquet, protect, state the errors, write Parquet; AMPARO_DEBUG phases):
#   - raw discrete Gaussian noise at sigma = 1000 on a table of 10^6 inner
#     cells (1.56 M with margins);
#   - B3 (bench/tables/B3.toml, 10^6 records from `amparo synth --seed 1`,
#     115,700 cells): discrete Gaussian noise over the geography's four
#     levels, post-processed (least squares, whole numbers), with 0 and 50
#     simulations; controlled rounding to base 5; small count rounding (pls);
#   - B5 (bench/tables/B5.toml, 10^6 records, 319,200 cells): the same noise
#     over the admin-1 geography's three levels, 50 simulations; pls;
#   - controlled rounding to base 5 of the 11,760-cell table of bench/noise.sh
#     (bench/municipality_table.py).
#   bash bench/rounding_noise_scale.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
build_cli
PY="$ROOT/.venv-bench/bin/python"
[[ -x "$PY" ]] || python3 -m venv "$ROOT/.venv-bench"
"$PY" -c "import pyarrow" 2>/dev/null || "$ROOT/.venv-bench/bin/pip" install -q pyarrow
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "machine: $(machine); $(date -u +%F)"

# 1,000 municipalities in 20 departments x 50 nationalities x 5 age bands x
# 4 statuses, most counts 0 or small.
"$PY" - "$work/big.parquet" <<'PY'
import sys
import numpy as np
import pyarrow as pa, pyarrow.parquet as pq
rng = np.random.default_rng(1)
m, n, a, s = 1000, 50, 5, 4
idx = np.arange(m * n * a * s)
municipality = np.array([f"{d:02d}{i:03d}" for d in range(1, 21) for i in range(1, 51)])
counts = np.where(rng.random(idx.size) < 0.7, rng.integers(0, 3, idx.size), rng.integers(0, 200, idx.size))
pq.write_table(pa.table({
    "municipality": municipality[idx // (n * a * s)],
    "nationality": np.array([f"N{i:02d}" for i in range(n)])[idx // (a * s) % n],
    "age_band": np.array(["0-4", "5-9", "10-14", "15-17", "unknown"])[idx // s % a],
    "migratory_status": np.array(["regular", "irregular", "asylum", "other"])[idx % s],
    "n": counts.astype("int64"),
}), sys.argv[1])
PY
policy() {
  cat <<TOML
version = 1
[input]
kind = "aggregated"
count = "n"
[dimensions.municipality]
code_lengths = [2, 5]
[dimensions.nationality]
[dimensions.age_band]
[dimensions.migratory_status]
[noise]
method = "discrete_gaussian"
rho = "1/2000000"
seed = 1
$1
TOML
}
run() {
  local label="$1" toml="$2" input="$3"
  AMPARO_DEBUG=1 /usr/bin/time -f "%e %M" "$AMPARO" protect -p "$toml" "$input" -o "$work/out.parquet" --overwrite >"$work/out" 2>"$work/err" || { echo "| $label | failed: $(grep -v '^noise:\|^adjacent:' "$work/err" | head -c 200) |"; return; }
  read -r secs kb < <(tail -1 "$work/err")
  local phases optimality
  phases="$( (grep -E '^noise:|^adjacent: [0-9]+ cells' "$work/err" || true) | sed 's/^noise: //; s/^adjacent: /whole numbers: /' | paste -sd ';' -)"
  optimality="$("$PY" -c "import pyarrow.parquet as pq, sys; m = pq.read_schema(sys.argv[1]).metadata or {}; print(m.get(b'amparo.optimality', b'proven least or no note').decode())" "$work/out.parquet")"
  echo "| $label | $(awk '/^cells:/ {print $2}' "$work/out") | $secs | $((kb / 1024)) | $phases | $optimality |"
}
echo
echo "| run | cells | seconds (whole run) | peak memory (MiB) | phases (AMPARO_DEBUG) | metadata: optimality |"
echo "|---|---|---|---|---|---|"
policy $'postprocess = "none"\nsimulations = 0' >"$work/raw.toml"
run "raw discrete Gaussian, sigma = 1000, no simulations" "$work/raw.toml" "$work/big.parquet"

"$AMPARO" synth -n 1000000 --mode stock --countries COL --seed 1 -o "$work/B3.parquet" >/dev/null
sed -n '1,/^\[primary\]/p' bench/tables/B3.toml | grep -v '^\[primary\]' >"$work/B3-head.toml"
for sims in 0 50; do
  { cat "$work/B3-head.toml"; printf '[noise]\nmethod = "discrete_gaussian"\nrho = "1/2"\nlevels = { dimension = "municipality", shares = ["1/10", "1/10", "3/10", "1/2"] }\ninvariants = [{ cell = {} }]\nseed = 1\nsimulations = %s\n' "$sims"; } >"$work/B3-noise$sims.toml"
  run "B3, discrete Gaussian rho = 1/2 over 4 levels, wls, simulations = $sims" "$work/B3-noise$sims.toml" "$work/B3.parquet"
done
for method in controlled pls; do
  { cat "$work/B3-head.toml"; printf '[rounding]\nmethod = "%s"\nbase = 5\n' "$method"; } >"$work/B3-$method.toml"
  run "B3, $method rounding to base 5" "$work/B3-$method.toml" "$work/B3.parquet"
done

"$AMPARO" synth -n 1000000 --mode stock --years 5 --seed 1 -o "$work/B5.parquet" >/dev/null
sed -n '1,/^\[primary\]/p' bench/tables/B5.toml | grep -v '^\[primary\]' >"$work/B5-head.toml"
{ cat "$work/B5-head.toml"; printf '[noise]\nmethod = "discrete_gaussian"\nrho = "1/2"\nlevels = { dimension = "admin1", shares = ["1/5", "3/10", "1/2"] }\ninvariants = [{ cell = {} }]\nseed = 1\nsimulations = 50\n'; } >"$work/B5-noise.toml"
run "B5, discrete Gaussian rho = 1/2 over 3 levels, wls, simulations = 50" "$work/B5-noise.toml" "$work/B5.parquet"
{ cat "$work/B5-head.toml"; printf '[rounding]\nmethod = "pls"\nbase = 5\n'; } >"$work/B5-pls.toml"
run "B5, pls rounding to base 5" "$work/B5-pls.toml" "$work/B5.parquet"

python3 bench/municipality_table.py "$work/t.csv"
printf 'version = 1\n[input]\nkind = "aggregated"\ncount = "n"\n[dimensions.municipality]\ncode_lengths = [2, 5]\n[dimensions.nationality]\n[dimensions.age_band]\n[rounding]\nmethod = "controlled"\nbase = 5\n' >"$work/t.toml"
run "11,760-cell three-way table, controlled rounding to base 5" "$work/t.toml" "$work/t.csv"
