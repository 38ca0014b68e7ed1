#!/usr/bin/env bash
# The publication gate: audit every published table in a folder against a
# policy; exit 1 if any is unsafe, 2 if any could not be audited, 0 when all
# are safe. The CI examples beside this file call it.
#
#   examples/ci/audit-published.sh POLICY FOLDER [FORMAT] [REPORTS] [OPTIONS]
#
# Tables are the files Amparo writes and reads, in any case: .csv (SDMX-CSV
# included), .parquet, .pq, .arrow, .feather, .arrows; `.`-files and
# .meta.json are skipped. For a policy with [tables] (linked tables), the
# folder holds one <table>.<ext> per table, audited together (a cell one
# table hides and another gives away is found).
# FORMAT is text (default), json, junit, github or html. With REPORTS, each
# report is written to REPORTS/<table>.<ext> instead of printed (JUnit files
# for GitLab's `artifacts:reports:junit`, HTML pages with a heat map of each
# table for reviewers); a table that cannot be audited gets a report that
# says why (a failing JUnit test case, a page with the reason), never an
# empty file.
# OPTIONS are passed to `amparo audit`: --value-column COLUMN,
# --hidden-symbols x,.., --lang es.
# AMPARO is the amparo binary (default: `amparo` on the PATH).
set -uo pipefail
positional=()
options=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --value-column|--hidden-symbols|--lang) options+=("$1" "${2:?$1 needs a value}"); shift 2 ;;
    --value-column=*|--hidden-symbols=*|--lang=*) options+=("$1"); shift ;;
    --*) echo "audit-published.sh: unknown option $1 (it takes --value-column, --hidden-symbols, --lang)" >&2; exit 2 ;;
    *) positional+=("$1"); shift ;;
  esac
done
if [[ ${#positional[@]} -lt 2 ]]; then
  echo "usage: audit-published.sh POLICY FOLDER [FORMAT] [REPORTS] [--value-column C] [--hidden-symbols x,..] [--lang es]" >&2
  exit 2
fi
policy="${positional[0]}"; folder="${positional[1]}"; format="${positional[2]:-text}"; reports="${positional[3]:-}"
amparo="${AMPARO:-amparo}"
case "$format" in junit) ext=xml ;; json) ext=json ;; html) ext=html ;; *) ext=txt ;; esac
[[ -n "$reports" ]] && mkdir -p "$reports"

# One audit: its report to REPORTS/<name>.<ext> (or standard output).
run_audit() {
  local name="$1"; shift
  if [[ -n "$reports" ]]; then
    "$amparo" audit --policy "$policy" --format "$format" "${options[@]}" "$@" >"$reports/$name.$ext"
  else
    "$amparo" audit --policy "$policy" --format "$format" "${options[@]}" "$@"
  fi
}

worst=0
record() {
  local code="$1" what="$2"
  # 2 (could not run) outranks 1 (unsafe).
  if (( code == 2 || (code == 1 && worst == 0) )); then worst=$code; fi
  (( code == 0 )) || echo "amparo audit: $what: $([[ $code == 1 ]] && echo unsafe || echo could not be audited)" >&2
}

if grep -Eq '^[[:space:]]*\[tables\.' "$policy" 2>/dev/null; then
  # Linked tables: the folder is one publication, audited at once.
  run_audit "$(basename "$folder")" "$folder"
  record $? "$folder"
  exit "$worst"
fi

shopt -s nullglob nocaseglob
tables=()
for table in "$folder"/*.csv "$folder"/*.parquet "$folder"/*.pq "$folder"/*.arrow "$folder"/*.feather "$folder"/*.arrows; do
  [[ "$(basename "$table")" == .* ]] || tables+=("$table")
done
shopt -u nocaseglob
if [[ ${#tables[@]} -eq 0 ]]; then
  echo "no tables (.csv, .parquet, .pq, .arrow, .feather, .arrows) in $folder" >&2
  exit 2
fi
for table in "${tables[@]}"; do
  run_audit "$(basename "$table")" "$table"
  record $? "$table"
done
exit "$worst"
