#!/usr/bin/env bash
# Every test: Rust (core and CLI), Python (pytest and doctests) and R
# (testthat), all over the shared fixtures in tests/fixtures. Installs what is
# missing first (scripts/setup.sh). One release profile and one target dir are
# shared by all builds, so each crate is compiled once.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
cd "$ROOT"
start=$(date +%s)
step() { echo; echo "=== $* ($(( $(date +%s) - start ))s)"; }

step "setup"
bash scripts/setup.sh all

step "Rust: cargo test (core, CLI)"
cargo test --release --workspace

step "Python: build the extension into .venv"
VIRTUAL_ENV="$ROOT/.venv" PATH="$ROOT/.venv/bin:$PATH" \
  maturin develop --release -q -m py/Cargo.toml

step "Python: pytest"
.venv/bin/python -m pytest -q py/tests py/python/amparo --doctest-modules -p no:cacheprovider

step "R: install the package into target/rlib"
mkdir -p "$CARGO_TARGET_DIR/rlib"
R CMD INSTALL --no-multiarch -l "$CARGO_TARGET_DIR/rlib" r >"$CARGO_TARGET_DIR/r-install.log" 2>&1 \
  || { cat "$CARGO_TARGET_DIR/r-install.log"; exit 1; }

step "R: testthat"
(cd r/tests && R_LIBS="$CARGO_TARGET_DIR/rlib" AMPARO_FIXTURES="$ROOT/tests/fixtures" Rscript testthat.R)

step "all tests passed"
