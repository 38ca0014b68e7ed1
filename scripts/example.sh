#!/usr/bin/env bash
# The main job: build the CLI and protect the bundled example (synthetic
# microdata of 3,000 migrant children) with the example policy, then print a
# summary (cells, hidden, by reason). Output: examples/out/protected.csv.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
cd "$ROOT"
bash scripts/setup.sh build
cargo build --release -q -p amparo-cli
mkdir -p examples/out
"$CARGO_TARGET_DIR/release/amparo" validate --policy examples/policy.toml examples/children.csv
echo
"$CARGO_TARGET_DIR/release/amparo" protect --policy examples/policy.toml examples/children.csv -o examples/out/protected.csv
