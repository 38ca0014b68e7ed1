"""The ``amparo`` command, as ``python -m amparo`` and as the wheel's console
script: the same command line as the ``amparo`` binary (``amparo audit``,
``amparo protect``, ...), run by the Rust core inside this package, so no
Rust toolchain is needed to use it (in CI: ``pip install amparo`` then
``amparo audit -p policy.toml published/``)."""

import sys

from . import _amparo


def main() -> None:
    """Run ``amparo`` with this process's arguments and exit with its code
    (0 done or safe, 1 unsafe, 2 could not run)."""
    sys.exit(_amparo.run_cli(["amparo", *sys.argv[1:]]))


if __name__ == "__main__":
    main()
