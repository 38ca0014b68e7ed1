#!/usr/bin/env bash
# The publication gate on a large table: `amparo audit` of a published
# 99,045-cell table (bench/make_tables.py "large", protected by interval
# suppression), as a CI job would run it: reading the CSV, rebuilding the
# hierarchy, the threshold, additivity and LP protection checks, the report.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
build_cli
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 bench/make_tables.py "$work"
sed -e 's/METHOD/interval/' -e 's/^PROTECTION$//' -e 's/^EXTRA$//' "$work/large.toml" > "$work/policy.toml"
echo "machine: $(machine); $(date -u +%F)"
"$AMPARO" protect -p "$work/policy.toml" "$work/large.csv" -o "$work/published.csv" | grep -E "^(cells|hidden):"
for format in text json junit html; do
  /usr/bin/time -f "audit --format $format: %e s, peak memory %M KB" \
    "$AMPARO" audit --lang en --format "$format" -p "$work/policy.toml" "$work/published.csv" >"$work/report.$format" || true
  [[ $format == text ]] && head -8 "$work/report.text"
done
echo "html page: $(du -k "$work/report.html" | cut -f1) KB"
