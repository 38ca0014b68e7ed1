#!/usr/bin/env bash
# B5 stress (DATA.md): 10^8 child-events aggregated on one machine, streamed
# from a folder of Parquet files, with the time and the peak memory.
#
#   bash bench/stress.sh [records, default 10^8] [files, default 10]
#
# Generates the records with `amparo synth --mode stock --years 5` (every
# admin-2 unit; a file per 10^7 records, seeds
# 1, 2, ...) into a temporary folder (about 0.3 GB per 10^7), then runs
# `amparo validate` on the folder (every row read and checked, the table of
# 110 million cells with margins built) under /usr/bin/time.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
build_cli
records="${1:-100000000}"
files="${2:-10}"
work="$(mktemp -d "${AMPARO_BENCH_DIR:-/tmp}/amparo-stress.XXXXXX")"
trap 'rm -rf "$work"' EXIT
echo "machine: $(machine); $(date -u +%F); $records records in $files Parquet files"
per_file=$(( records / files ))
t0=$(date +%s.%N)
for k in $(seq 1 "$files"); do
  "$AMPARO" synth --mode stock --years 5 -n "$per_file" --seed "$k" -o "$work/part-$(printf %03d "$k").parquet" >/dev/null
done
t1=$(date +%s.%N)
echo "generated: $(awk "BEGIN { printf \"%.1f\", $t1 - $t0 }") s, $(du -sh "$work" | cut -f1) on disk"
/usr/bin/time -v "$AMPARO" validate --progress -p bench/tables/B5stress.toml "$work" >"$work/validate.out" 2>"$work/validate.err" \
  || { cat "$work/validate.err"; exit 1; }
cat "$work/validate.out"
grep -E "amparo: reading rows" "$work/validate.err" | tail -1
wall=$(grep "Elapsed (wall clock)" "$work/validate.err" | awk '{print $NF}')
peak_kb=$(grep "Maximum resident set size" "$work/validate.err" | awk '{print $NF}')
seconds=$(echo "$wall" | awk -F: '{ if (NF == 3) print $1 * 3600 + $2 * 60 + $3; else print $1 * 60 + $2 }')
echo
echo "| records | files | aggregate and validate (s) | records/s | peak memory |"
echo "|---|---|---|---|---|"
awk -v r="$records" -v f="$files" -v s="$seconds" -v kb="$peak_kb" \
  'BEGIN { printf "| %d | %d | %.1f | %.2f million | %.2f GB |\n", r, f, s, r / s / 1e6, kb / 1048576 }'
