#!/usr/bin/env bash
# Cube building from microdata (criterion): prints time and records/second for
# 10^6 and 10^7 rows with 5 dimensions, Utf8 and dictionary-encoded columns.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
echo "machine: $(machine); $(rustc --version)"
cargo bench -q -p amparo-core --bench cube 2>/dev/null | grep -E "^cube_from|time:|thrpt:"
