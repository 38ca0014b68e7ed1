#!/usr/bin/env bash
# Install what Amparo's builds and tests need on a fresh machine that has Rust
# and Python 3 with pip: cmake and libclang (HiGHS, the LP solver, is built
# from source), R from Debian's packages (with apt), Chromium from Debian's
# packages (the test that renders the HTML audit report takes a screenshot
# with it headless), Java 17 (amparo.spark's tests run a local Spark) and a
# Python venv in .venv with maturin, pytest, pyarrow, pandas, polars and pyspark.
#
#   scripts/setup.sh            everything
#   scripts/setup.sh build      what the Rust build needs (cmake, libclang, g++)
#   scripts/setup.sh python     the venv only
#   scripts/setup.sh r          R only
#   scripts/setup.sh browser    headless Chromium only
#   scripts/setup.sh java       Java 17 only
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
want="${1:-all}"

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else echo "setup: need root (or sudo) to run: $*" >&2; exit 2
  fi
}

apt_updated=no
apt_install() {
  if [ "$apt_updated" = no ]; then as_root apt-get update -qq; apt_updated=yes; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

if [ "$want" = all ] || [ "$want" = build ]; then
  # libclang first: bindgen fails only after the C++ build if it is missing.
  if ! command -v cmake >/dev/null || ! command -v g++ >/dev/null || ! ls /usr/lib/llvm-*/lib/libclang.so* >/dev/null 2>&1; then
    echo "setup: installing cmake, g++ and libclang-dev from Debian's packages (to build HiGHS)"
    apt_install cmake g++ libclang-dev
  fi
  echo "setup: $(cmake --version | head -1)"
fi

if [ "$want" = all ] || [ "$want" = r ]; then
  # testthat for the tests; knitr and markdown build the vignette; tibble and
  # data.table are the data.frame classes the package keeps; readxl reads back
  # the Excel publications in the tests (all in Suggests). qpdf: R CMD check
  # --as-cran checks the vignette's PDFs with it.
  if ! command -v Rscript >/dev/null || ! command -v qpdf >/dev/null || ! Rscript -e 'for (p in c("testthat", "knitr", "markdown", "tibble", "data.table", "readxl")) library(p, character.only = TRUE)' >/dev/null 2>&1; then
    echo "setup: installing R from Debian's packages (r-base-core, r-base-dev, r-cran-testthat, -knitr, -markdown, -tibble, -data.table, -readxl; qpdf)"
    apt_install r-base-core r-base-dev r-cran-testthat r-cran-knitr r-cran-markdown r-cran-tibble r-cran-data.table r-cran-readxl qpdf
  fi
  echo "setup: $(R --version | head -1)"
fi

if [ "$want" = all ] || [ "$want" = browser ]; then
  if ! command -v chromium >/dev/null && [ -z "${AMPARO_CHROMIUM:-}" ]; then
    echo "setup: installing chromium from Debian's packages (headless, for the HTML report's test)"
    apt_install chromium
  fi
  echo "setup: $(${AMPARO_CHROMIUM:-chromium} --version 2>/dev/null | tail -1)"
fi

if [ "$want" = all ] || [ "$want" = java ]; then
  # Spark 4 runs on Java 17 or later.
  if ! java -version 2>&1 | grep -Eq 'version "(1[7-9]|2[0-9])'; then
    echo "setup: installing Java 17 from Debian's packages (openjdk-17-jre-headless, for pyspark)"
    apt_install openjdk-17-jre-headless
  fi
  echo "setup: $(java -version 2>&1 | head -1)"
fi

if [ "$want" = all ] || [ "$want" = python ]; then
  if [ ! -x "$ROOT/.venv/bin/python" ]; then
    echo "setup: creating the Python venv in .venv"
    python3 -m venv "$ROOT/.venv"
  fi
  "$ROOT/.venv/bin/pip" install -q --disable-pip-version-check -r "$ROOT/py/requirements-dev.txt"
  echo "setup: $("$ROOT/.venv/bin/python" --version), maturin $("$ROOT/.venv/bin/maturin" --version | cut -d' ' -f2)"
fi
