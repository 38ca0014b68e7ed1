# Sourced by the bench scripts: the project root as the working directory,
# one shared target dir, and helpers for the CLI and the machine line.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
cd "$ROOT"

# Build the release CLI and set AMPARO to it.
build_cli() {
  cargo build --release -q -p amparo-cli
  AMPARO="$CARGO_TARGET_DIR/release/amparo"
}

# "AMD EPYC, 2 cores": what the figures were measured on.
machine() {
  echo "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores"
}
