#!/usr/bin/env bash
# The main job: build the CLI, protect the bundled example (synthetic
# microdata of 3,000 migrant children) with the example policy and print a
# summary (cells, hidden, by reason), publish it, and audit the publication
# as the CI gate does.
# Outputs in examples/out/: protected.csv (the producer's table, NOT for
# publication), published/children.csv and published/children.xlsx (what
# people may see: hidden cells marked `x`, nothing else).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
cd "$ROOT"
bash scripts/setup.sh build
cargo build --release -q -p amparo-cli
amparo="$CARGO_TARGET_DIR/release/amparo"
mkdir -p examples/out/published
"$amparo" validate --policy examples/policy.toml examples/children.csv
echo
# --overwrite: running the example again replaces its own outputs.
"$amparo" protect --overwrite --policy examples/policy.toml examples/children.csv -o examples/out/protected.csv
echo
"$amparo" publish --overwrite --policy examples/policy.toml examples/out/protected.csv -o examples/out/published/children.csv
"$amparo" publish --overwrite --policy examples/policy.toml examples/out/protected.csv -o examples/out/published/children.xlsx
echo
"$amparo" audit --policy examples/policy.toml examples/out/published/children.csv
