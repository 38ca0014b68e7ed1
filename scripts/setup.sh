#!/usr/bin/env bash
# Install what Amparo's builds and tests need on a fresh machine that has Rust
# and Python 3 with pip: R from Debian's packages (with apt) and a Python venv
# in .venv with maturin, pytest, pyarrow, pandas and polars.
#
#   scripts/setup.sh            everything (R and Python)
#   scripts/setup.sh python     the venv only
#   scripts/setup.sh r          R only
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
want="${1:-all}"

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else echo "setup: need root (or sudo) to run: $*" >&2; exit 2
  fi
}

if [ "$want" = all ] || [ "$want" = r ]; then
  if ! command -v Rscript >/dev/null || ! Rscript -e 'library(testthat)' >/dev/null 2>&1; then
    echo "setup: installing R from Debian's packages (r-base-core, r-base-dev, r-cran-testthat)"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      r-base-core r-base-dev r-cran-testthat >/dev/null
  fi
  echo "setup: $(R --version | head -1)"
fi

if [ "$want" = all ] || [ "$want" = python ]; then
  if [ ! -x "$ROOT/.venv/bin/python" ]; then
    echo "setup: creating the Python venv in .venv"
    python3 -m venv "$ROOT/.venv"
  fi
  "$ROOT/.venv/bin/pip" install -q --disable-pip-version-check -r "$ROOT/py/requirements-dev.txt"
  echo "setup: $("$ROOT/.venv/bin/python" --version), maturin $("$ROOT/.venv/bin/maturin" --version | cut -d' ' -f2)"
fi
