#!/usr/bin/env bash
# The benchmark tables B1-B5 of DATA.md (bench/tables/B*.toml) on synthetic
# microdata from `amparo synth`: generation, aggregation, secondary
# suppression (fast and patterns; modular for the linked tables B1 and B4;
# AMPARO_BENCH_METHODS="..." for others, also "controlled" and "pls"
# (rounding to base 5), "noise" (discrete Gaussian, rho = 1/2, post-processed) and "cellkey")
# and the audit of each output.
# Prints one table of figures; the machine and date first.
#
#   bash bench/tables.sh [records per table, default 10^6] [tables, default B1 B2 B3 B4 B5]
#
# Each protect and audit is stopped after AMPARO_BENCH_TIMEOUT seconds
# (default 600) and reported as stopped.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
build_cli
records="${1:-1000000}"
shift || true
tables=("${@:-B1 B2 B3 B4 B5}")
[[ $# -eq 0 ]] && tables=(B1 B2 B3 B4 B5)
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "machine: $(machine); $(date -u +%F); $records records per table"
limit="${AMPARO_BENCH_TIMEOUT:-600}"
seconds() {
  local t0 t1 rc=0
  t0=$(date +%s.%N)
  timeout "$limit" "$@" >"$work/last.out" 2>"$work/last.err" || rc=$?
  t1=$(date +%s.%N)
  [[ $rc -eq 124 ]] && echo "stopped after $limit s (AMPARO_BENCH_TIMEOUT)" >"$work/last.err"
  awk "BEGIN { print $t1 - $t0 }"
}

# table | synth options
declare -A SYNTH=(
  [B1]="--mode flow --countries PAN"
  [B2]="--mode flow --countries MEX"
  [B3]="--mode stock --countries COL"
  [B4]="--mode stock --countries CHL"
  [B5]="--mode stock --years 5"
)
printf "\n| table | generate (s) | records/s | aggregate (s) | cells | method | hidden cells | protect (s) | audit (s) | audit verdict |\n|---|---|---|---|---|---|---|---|---|---|\n"
for table in "${tables[@]}"; do
  data="$work/$table.parquet"
  # shellcheck disable=SC2086
  gen=$(seconds "$AMPARO" synth -n "$records" ${SYNTH[$table]} --seed 1 -o "$data" --nationality-codes "$work/nationality_codes.csv" --overwrite)
  rate=$(awk "BEGIN { printf \"%.0f\", $records / $gen }")
  # Linked tables are protected together, which `patterns` and `fast`
  # cannot do. AMPARO_BENCH_METHODS (e.g. "patterns modular") overrides.
  methods="fast patterns"
  grep -q "^\[tables\." "bench/tables/$table.toml" && methods="modular"
  methods="${AMPARO_BENCH_METHODS:-$methods}"
  for method in $methods; do
    case "$method" in
      controlled | pls | noise | cellkey)
        # The table's dimensions (and linked tables) with the method's
        # section instead of [primary]/[secondary].
        sed '/^\[primary\]/,$d' "bench/tables/$table.toml" > "$work/$table.toml"
        case "$method" in
          controlled | pls) printf '[rounding]\nmethod = "%s"\nbase = 5\n' "$method" >> "$work/$table.toml" ;;
          noise) printf '[noise]\nmethod = "discrete_gaussian"\nrho = "1/2"\nseed = 1\n' >> "$work/$table.toml" ;;
          cellkey)
            sed -i 's/^kind = "microdata"$/kind = "microdata"\nrecord_key = "record_key"/' "$work/$table.toml"
            printf '[perturbation]\nmethod = "cell_key"\nmax_deviation = 2\nvariance = 1\njs = 1\n' >> "$work/$table.toml" ;;
        esac ;;
      *) sed "s/METHOD/$method/" "bench/tables/$table.toml" > "$work/$table.toml" ;;
    esac
    # Aggregation alone: reading the records and building the cube (linked tables: the first table's).
    sed -n '1,/^\[tables\./p' "$work/$table.toml" | grep -v '^\[tables\.' > "$work/$table-one.toml"
    [[ $table == B1 ]] && sed -i '/^\[dimensions.station\]/,/^column = "point_of_entry"/d' "$work/$table-one.toml"
    [[ $table == B4 ]] && sed -i '/^\[dimensions.age_band\]/,/^tree = /d' "$work/$table-one.toml"
    agg=$(seconds "$AMPARO" validate -p "$work/$table-one.toml" "$data")
    out="$work/$table-$method"
    if grep -q "^\[tables\." "$work/$table.toml"; then mkdir -p "$out"; target="$out"; else target="$out.csv"; fi
    prot=$(seconds "$AMPARO" protect -p "$work/$table.toml" "$data" -o "$target")
    cp "$work/last.err" "$work/protect.err"
    hidden=$(awk '/^hidden:/ {s += $2} END {print s}' "$work/last.out")
    cells=$(awk '/^cells:/ {s += $2} END {print s}' "$work/last.out")
    # The audit reads the publication, as a CI gate does (`amparo publish`
    # refuses a table whose own audit failed: then the producer's table).
    source_table="$target"
    if [[ -d "$target" ]]; then publication="$out-pub"; else publication="$out-pub.csv"; fi
    "$AMPARO" publish -p "$work/$table.toml" "$target" -o "$publication" >/dev/null 2>&1 && target="$publication"
    published=("$target")
    [[ -d "$target" ]] && mapfile -t published < <(for t in $(grep -Eo '^\[tables\.[a-z_]+' "$work/$table.toml" | cut -d. -f2); do echo "$target/$t.csv"; done)
    target="$source_table"
    aud=0
    # Rounding, the cell key method and noise hide no cell: their own run says so.
    [[ -n "$hidden" && ! "$method" =~ ^(controlled|pls|noise|cellkey)$ ]] && aud=$(seconds "$AMPARO" audit --lang en -p "$work/$table.toml" "${published[@]}")
    verdict=$(awk '/^audit:/ {sub(/^audit: */, ""); print substr($0, 1, 40); exit}' "$work/last.out")
    [[ "$aud" != 0 ]] && grep -q "^stopped after" "$work/last.err" && verdict="audit $(cat "$work/last.err")"
    if [[ -z "$hidden" ]]; then
      # protect stopped: say why (its time limit, usually), from its error.
      hidden="-"; aud="0"; verdict="not run: $(head -c 90 "$work/protect.err" | tr '\n|' '  ')"
    fi
    printf "| %s | %.1f | %s | %.1f | %s | %s | %s | %.1f | %.1f | %s |\n" "$table" "$gen" "$rate" "$agg" "$cells" "$method" "$hidden" "$prot" "$aud" "${verdict:-see log}"
  done
done
