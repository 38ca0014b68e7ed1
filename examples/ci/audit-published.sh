#!/usr/bin/env bash
# The publication gate: audit every table (.csv, .parquet, .arrow) in a
# folder against a policy; exit 1 if any is unsafe, 2 if any could not be
# audited, 0 when all are safe. The CI examples beside this file call it.
#
#   examples/ci/audit-published.sh POLICY FOLDER [FORMAT] [REPORTS]
#
# FORMAT is text (default), json, junit, github or html. With REPORTS, each
# table's report is written to REPORTS/<table>.<ext> instead of printed
# (e.g. JUnit files for GitLab's `artifacts:reports:junit`, or HTML pages
# with a heat map of each table for reviewers).
# AMPARO is the amparo binary (default: `amparo` on the PATH).
set -uo pipefail
policy="$1"; folder="$2"; format="${3:-text}"; reports="${4:-}"
amparo="${AMPARO:-amparo}"
case "$format" in junit) ext=xml ;; json) ext=json ;; html) ext=html ;; *) ext=txt ;; esac
[[ -n "$reports" ]] && mkdir -p "$reports"
worst=0
shopt -s nullglob
tables=("$folder"/*.csv "$folder"/*.parquet "$folder"/*.arrow)
if [[ ${#tables[@]} -eq 0 ]]; then
  echo "no tables (.csv, .parquet, .arrow) in $folder" >&2
  exit 2
fi
for table in "${tables[@]}"; do
  if [[ -n "$reports" ]]; then
    "$amparo" audit --policy "$policy" --format "$format" "$table" >"$reports/$(basename "$table").$ext"
  else
    "$amparo" audit --policy "$policy" --format "$format" "$table"
  fi
  code=$?
  # 2 (could not run) outranks 1 (unsafe).
  if (( code == 2 || (code == 1 && worst == 0) )); then worst=$code; fi
  (( code == 0 )) || echo "amparo audit: $table: $([[ $code == 1 ]] && echo unsafe || echo could not be audited)" >&2
done
exit "$worst"
