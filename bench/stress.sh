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
# 110 million cells with margins built) under /usr/bin/time; then the whole
# cell key run on it (`amparo protect` to Parquet: D = 2, V = 1, js = 1, the
# records' own keys), also under /usr/bin/time.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
build_cli
records="${1:-100000000}"
files="${2:-10}"
work="$(mktemp -d "${AMPARO_BENCH_DIR:-/tmp}/amparo-stress.XXXXXX")"
trap 'rm -rf "$work"' EXIT
# The records alone in their folder: the runs' own files stay beside it.
data="$work/records"
mkdir -p "$data"
echo "machine: $(machine); $(date -u +%F); $records records in $files Parquet files"

# `timed NAME COMMAND...`: run under /usr/bin/time, stdout to $work/NAME.out;
# sets `seconds` (wall clock) and `peak_kb` (maximum resident set).
timed() {
  local name="$1"
  shift
  /usr/bin/time -v "$@" >"$work/$name.out" 2>"$work/$name.err" || { cat "$work/$name.err"; exit 1; }
  local wall
  wall=$(grep "Elapsed (wall clock)" "$work/$name.err" | awk '{print $NF}')
  peak_kb=$(grep "Maximum resident set size" "$work/$name.err" | awk '{print $NF}')
  seconds=$(echo "$wall" | awk -F: '{ if (NF == 3) print $1 * 3600 + $2 * 60 + $3; else print $1 * 60 + $2 }')
}
per_file=$(( records / files ))
t0=$(date +%s.%N)
for k in $(seq 1 "$files"); do
  "$AMPARO" synth --mode stock --years 5 -n "$per_file" --seed "$k" -o "$data/part-$(printf %03d "$k").parquet" >/dev/null
done
t1=$(date +%s.%N)
echo "generated: $(awk "BEGIN { printf \"%.1f\", $t1 - $t0 }") s, $(du -sh "$data" | cut -f1) on disk"
timed validate "$AMPARO" validate --progress -p bench/tables/B5stress.toml "$data"
cat "$work/validate.out"
grep -E "amparo: reading rows" "$work/validate.err" | tail -1
echo
echo "| records | files | aggregate and validate (s) | records/s | peak memory |"
echo "|---|---|---|---|---|"
awk -v r="$records" -v f="$files" -v s="$seconds" -v kb="$peak_kb" \
  'BEGIN { printf "| %d | %d | %.1f | %.2f million | %.2f GB |\n", r, f, s, r / s / 1e6, kb / 1048576 }'

# The cell key method on the same records: the whole protect run, written to Parquet.
sed '/^\[primary\]/,$d' bench/tables/B5stress.toml | sed 's/^kind = "microdata"$/kind = "microdata"\nrecord_key = "record_key"/' >"$work/cellkey.toml"
printf '[perturbation]\nmethod = "cell_key"\nmax_deviation = 2\nvariance = 1\njs = 1\n' >>"$work/cellkey.toml"
timed cellkey "$AMPARO" protect -p "$work/cellkey.toml" "$data" -o "$work/cellkey.parquet"
echo
echo "| records | cells | cell key, whole protect run to Parquet (s) | peak memory |"
echo "|---|---|---|---|"
awk -v r="$records" -v c="$(awk '/^cells:/ {print $2}' "$work/cellkey.out")" -v s="$seconds" -v kb="$peak_kb" \
  'BEGIN { printf "| %d | %s | %.1f | %.2f GB |\n", r, c, s, kb / 1048576 }'
