#!/usr/bin/env bash
# The cell key method: 10^7 microdata records with record keys into a ~10^5-cell
# table (aggregation, keys summed per cell, ptable lookup).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
cd "$ROOT"
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores; $(date -u +%F)"
cargo bench -q -p amparo-core --bench cellkey 2>/dev/null
