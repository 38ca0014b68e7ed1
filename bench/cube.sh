#!/usr/bin/env bash
# Cube building from microdata (criterion): prints time and records/second for
# 10^6 and 10^7 rows with 5 dimensions, Utf8 and dictionary-encoded columns.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
cd "$ROOT"
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores; $(rustc --version)"
cargo bench -q -p amparo-core --bench cube 2>/dev/null | grep -E "^cube_from|time:|thrpt:"
