#!/usr/bin/env bash
# Rounding: random rounding of a 10^7-cell table, and controlled rounding (an
# integer program in HiGHS) of a ~10^4-cell three-way hierarchical table.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
echo "machine: $(machine); $(date -u +%F)"
cargo bench -q -p amparo-core --bench rounding 2>/dev/null
