"""Pytest fixtures shared by every test (helpers are in ``common.py``).

Real data lives in ``../shared`` (read-only, never copied into the repo). A test that needs
it calls :func:`shared_file`; the test is SKIPPED with the reason when the file is absent,
unless ``MEDSINS_REQUIRE_SHARED=1`` (set by ``.ci/run``), where absence FAILS the test.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fakehub import fake_hub, fake_hub_env  # noqa: F401  (fixtures for every test)
from common import shared_file

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_EVALUATE_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")


@pytest.fixture
def superni_dir() -> Path:
    return shared_file("data/superni_medical")
