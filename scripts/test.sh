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

step "Core layering: no import loop among the core's modules"
python3 scripts/module-graph.py --check

step "Rust: cargo test (core, CLI)"
cargo test --release --workspace

step "Python: build the extension into .venv"
VIRTUAL_ENV="$ROOT/.venv" PATH="$ROOT/.venv/bin:$PATH" \
  maturin develop --release -q -m py/Cargo.toml

step "Python: pytest"
.venv/bin/python -m pytest -q py/tests py/python/amparo --doctest-modules -p no:cacheprovider

step "Python: the one-step install (pip install ./py) in a fresh venv, abi3 wheel, quickstart"
fresh="$CARGO_TARGET_DIR/fresh-venv"
rm -rf "$fresh" "$CARGO_TARGET_DIR/wheels"
python3 -m venv "$fresh"
"$fresh/bin/pip" wheel -q --no-deps -w "$CARGO_TARGET_DIR/wheels" ./py
ls "$CARGO_TARGET_DIR"/wheels/amparo-*-cp39-abi3-*.whl >/dev/null \
  || { echo "the wheel is not an abi3 wheel for Python 3.9+: $(ls "$CARGO_TARGET_DIR/wheels")"; exit 1; }
"$fresh/bin/pip" install -q --disable-pip-version-check ./py
"$fresh/bin/python" examples/quickstart.py "$CARGO_TARGET_DIR/quickstart" | tail -1

step "R: install the package into target/rlib"
mkdir -p "$CARGO_TARGET_DIR/rlib"
R CMD INSTALL --no-multiarch -l "$CARGO_TARGET_DIR/rlib" r >"$CARGO_TARGET_DIR/r-install.log" 2>&1 \
  || { cat "$CARGO_TARGET_DIR/r-install.log"; exit 1; }

step "R: testthat"
(cd r/tests && R_LIBS="$CARGO_TARGET_DIR/rlib" AMPARO_FIXTURES="$ROOT/tests/fixtures" Rscript testthat.R)

step "R: the quickstart"
R_LIBS="$CARGO_TARGET_DIR/rlib" Rscript examples/quickstart.R "$CARGO_TARGET_DIR/quickstart-r" | tail -1

step "R: R CMD build (offline tarball) and R CMD check --no-manual"
bash scripts/r-check.sh >"$CARGO_TARGET_DIR/r-check.log" 2>&1 \
  || { tail -60 "$CARGO_TARGET_DIR/r-check.log"; exit 1; }
grep -E "^(vendored sources|tarball|Status):" "$CARGO_TARGET_DIR/r-check.log"

step "all tests passed"
