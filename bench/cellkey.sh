#!/usr/bin/env bash
# The cell key method: 10^7 microdata records with record keys into a ~10^5-cell
# table (aggregation, keys summed per cell, ptable lookup).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
echo "machine: $(machine); $(date -u +%F)"
cargo bench -q -p amparo-core --bench cellkey 2>/dev/null
