from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES

# Reports in English whatever the machine's locale (tests that want another language ask for it).
import os  # noqa: E402

os.environ["LC_ALL"] = "C"
