#!/usr/bin/env bash
# Build the R package as a source tarball that installs offline, and run
# `R CMD check --as-cran --no-manual` on it (offline: CRAN's incoming
# checks against its archive are skipped). The tarball carries the core crate and
# every Rust dependency's source (src/rust/vendor.tar.xz, unpacked by
# src/Makevars), so installing it downloads nothing.
#
#   scripts/r-check.sh            tarball and check in $CARGO_TARGET_DIR/r-check
#
# The tarball's builds (R CMD build installs it once for the vignette, R CMD
# check once more) compile the vendored crates in a target dir of their own,
# $CARGO_TARGET_DIR/r-check-target: crates compiled from the vendored sources
# are fingerprinted by their path, so sharing the project's target dir would
# make the two kinds of build recompile each other's crates. The first run
# compiles everything once; later runs recompile only the package's crates.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
cd "$ROOT"
work="$CARGO_TARGET_DIR/r-check"
check_target="$CARGO_TARGET_DIR/r-check-target"
stage="$work/amparo"
rm -rf "$work"
mkdir -p "$work"

# The package without build products.
cp -r r "$stage"
rm -rf "$stage/src/rust/target" "$stage"/src/*.o "$stage"/src/*.so "$stage"/tests/testthat/testthat-problems.rds

# The core crate as `cargo package` writes it (workspace settings resolved).
cargo package -q -p amparo-core --no-verify --allow-dirty
tar -xzf "$CARGO_TARGET_DIR/package/amparo-core-$(cargo metadata --no-deps --format-version 1 | python3 -c 'import json,sys; print(next(p["version"] for p in json.load(sys.stdin)["packages"] if p["name"] == "amparo-core"))').crate" -C "$stage/src/rust"
mv "$stage"/src/rust/amparo-core-* "$stage/src/rust/core"
rm -f "$stage/src/rust/core/Cargo.toml.orig" "$stage/src/rust/core/.cargo_vcs_info.json"
# The packaged files keep the archive's times, older than a cached build of
# an earlier core in the shared target: newer times make cargo rebuild it.
find "$stage/src/rust/core" -type f -exec touch {} +

# The R crate on its own: the staged core, the workspace's lock file (the same
# dependency versions as every other build), and a workspace of its own.
sed -i 's|^amparo-core = { path = "../../../core" }|amparo-core = { path = "core" }|' "$stage/src/rust/Cargo.toml"
printf '\n[workspace]\n\n[profile.release]\ndebug = false\n' >> "$stage/src/rust/Cargo.toml"
cp Cargo.lock "$stage/src/rust/Cargo.lock"

# Every dependency's source, packed in one file (no long paths or hidden
# files in the tarball); Makevars unpacks it and builds --offline.
(cd "$stage/src/rust" && cargo vendor -q vendor >/dev/null)
tar -cJf "$stage/src/rust/vendor.tar.xz" -C "$stage/src/rust" vendor
rm -rf "$stage/src/rust/vendor"
echo "vendored sources: $(du -h "$stage/src/rust/vendor.tar.xz" | cut -f1)"

cd "$work"
export CARGO_TARGET_DIR="$check_target"
R CMD build --no-manual amparo
tarball="$(ls amparo_*.tar.gz)"
echo "tarball: $tarball ($(du -h "$tarball" | cut -f1))"
_R_CHECK_FORCE_SUGGESTS_=false _R_CHECK_CRAN_INCOMING_REMOTE_=false R CMD check --as-cran --no-manual "$tarball" | tee check.log
if grep -Eq "^Status: .*(ERROR|WARNING)" check.log; then
  echo "R CMD check found errors or warnings (see $work/amparo.Rcheck)"
  exit 1
fi
