#!/usr/bin/env bash
# Rounding: random rounding of a 10^7-cell table, and controlled rounding (an
# integer program in HiGHS) of a ~10^4-cell three-way hierarchical table.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
cd "$ROOT"
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores; $(date -u +%F)"
cargo bench -q -p amparo-core --bench rounding 2>/dev/null
