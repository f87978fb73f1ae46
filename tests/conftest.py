"""Shared test helpers.

Real data lives in ``../shared`` (read-only, never copied into the repo). A test that needs
it calls :func:`shared_file`; the test is SKIPPED with the reason when the file is absent,
unless ``MEDSINS_REQUIRE_SHARED=1`` (set by ``.ci/run``), where absence FAILS the test.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from fakehub import fake_hub, fake_hub_env  # noqa: F401  (fixtures for every test)
from common import REPO_ROOT, SHARED, shared_file  # noqa: F401

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_EVALUATE_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

# the converter tests' helpers (tests/loading_scripts/helpers.py) can be imported from any test
# module as ``from helpers import ...``, wherever pytest starts
_CONVERTER_TESTS = str(Path(__file__).resolve().parent / "loading_scripts")
if _CONVERTER_TESTS not in sys.path:
    sys.path.append(_CONVERTER_TESTS)

@pytest.fixture
def superni_dir() -> Path:
    return shared_file("data/superni_medical")
