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

step "CI workflows: the release workflow and the CI examples against their schemas, and zizmor's checks"
.venv/bin/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml examples/ci/github-actions.yml
.venv/bin/check-jsonschema --builtin-schema vendor.gitlab-ci examples/ci/gitlab-ci.yml
.venv/bin/zizmor --offline --quiet --config .github/zizmor.yml .github/workflows/*.yml examples/ci/github-actions.yml

step "Rust: cargo test (core, CLI)"
cargo test --release --workspace

step "Python: build the extension into .venv"
VIRTUAL_ENV="$ROOT/.venv" PATH="$ROOT/.venv/bin:$PATH" \
  maturin develop --release -q -m py/Cargo.toml

step "Python: pytest"
.venv/bin/python -m pytest -q py/tests py/python/amparo --doctest-modules -p no:cacheprovider

step "Python: the wheel (abi3, manylinux) installed where there is no Rust, cmake or compiler: quickstart and the amparo command"
fresh="$CARGO_TARGET_DIR/fresh-venv"
rm -rf "$fresh" "$CARGO_TARGET_DIR/wheels"
python3 -m venv "$fresh"
# The wheel `pip install ./py` would build, tagged for PyPI: manylinux with
# the oldest glibc it runs on, checked by maturin's auditwheel (the same
# build as the extension above: nothing is compiled again).
.venv/bin/maturin build --release -q -m py/Cargo.toml -o "$CARGO_TARGET_DIR/wheels"
wheel=$(ls "$CARGO_TARGET_DIR"/wheels/amparo-*-cp39-abi3-manylinux*.whl 2>/dev/null | head -1)
[ -n "$wheel" ] || { echo "the wheel is not a manylinux abi3 wheel for Python 3.9+: $(ls "$CARGO_TARGET_DIR/wheels")"; exit 1; }
echo "wheel: $(basename "$wheel")"
# A PATH with the system's tools but no Rust toolchain, cmake, make or
# compiler: a user's machine. The wheel and the R binary package install there.
bare="$CARGO_TARGET_DIR/bare-bin"
rm -rf "$bare" && mkdir -p "$bare"
for f in /usr/local/bin/* /usr/bin/* /bin/*; do
  name=$(basename "$f")
  case "$name" in
    cargo*|rustc|rustdoc|rustup|cmake|make|cc|c++|cpp|gcc*|g++*|clang*|ld|ld.*|*-gcc*|*-g++*|*-ld|*-ld.*) continue ;;
  esac
  [ -e "$bare/$name" ] || ln -s "$f" "$bare/$name"
done
PATH="$bare" sh -c 'for t in cargo rustc cmake make cc c++ gcc g++; do if command -v $t >/dev/null; then echo "$t is on the bare PATH"; exit 1; fi; done'
PATH="$fresh/bin:$bare" "$fresh/bin/pip" install -q --disable-pip-version-check "$wheel"
PATH="$fresh/bin:$bare" "$fresh/bin/python" examples/quickstart.py "$CARGO_TARGET_DIR/quickstart" | tail -1
# The wheel's `amparo` command, as the CI examples use it.
PATH="$fresh/bin:$bare" amparo --version
PATH="$fresh/bin:$bare" amparo audit -p examples/policy.toml "$CARGO_TARGET_DIR/quickstart/suppressed.csv" | tail -1

step "R: install the package into target/rlib, and build its binary package"
mkdir -p "$CARGO_TARGET_DIR/rlib" "$CARGO_TARGET_DIR/rbinary"
(cd "$CARGO_TARGET_DIR/rbinary" && rm -f amparo_*.tar.gz \
  && R CMD INSTALL --build --no-multiarch -l "$CARGO_TARGET_DIR/rlib" "$ROOT/r") >"$CARGO_TARGET_DIR/r-install.log" 2>&1 \
  || { cat "$CARGO_TARGET_DIR/r-install.log"; exit 1; }

step "R: the binary package installed into a fresh library where there is no Rust, cmake or compiler: the quickstart"
rbinary=$(ls "$CARGO_TARGET_DIR"/rbinary/amparo_*_R_*.tar.gz)
echo "binary package: $(basename "$rbinary")"
rm -rf "$CARGO_TARGET_DIR/rlib-binary" && mkdir -p "$CARGO_TARGET_DIR/rlib-binary"
PATH="$bare" R CMD INSTALL -l "$CARGO_TARGET_DIR/rlib-binary" "$rbinary" >"$CARGO_TARGET_DIR/r-binary-install.log" 2>&1 \
  || { cat "$CARGO_TARGET_DIR/r-binary-install.log"; exit 1; }
PATH="$bare" R_LIBS="$CARGO_TARGET_DIR/rlib-binary" Rscript examples/quickstart.R "$CARGO_TARGET_DIR/quickstart-r-binary" | tail -1

step "R: testthat"
(cd r/tests && R_LIBS="$CARGO_TARGET_DIR/rlib" AMPARO_FIXTURES="$ROOT/tests/fixtures" Rscript testthat.R)

step "R: R CMD build (offline tarball) and R CMD check --as-cran --no-manual"
bash scripts/r-check.sh >"$CARGO_TARGET_DIR/r-check.log" 2>&1 \
  || { tail -60 "$CARGO_TARGET_DIR/r-check.log"; exit 1; }
grep -E "^(vendored sources|tarball|Status):" "$CARGO_TARGET_DIR/r-check.log"

step "all tests passed"
