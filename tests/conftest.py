"""Shared test helpers.

Real data lives in ``../shared`` (read-only, never copied into the repo). A test that needs
it calls :func:`shared_file`; the test is SKIPPED with the reason when the file is absent,
unless ``MEDSINS_REQUIRE_SHARED=1`` (set by ``.ci/run``), where absence FAILS the test.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_EVALUATE_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("MEDSINS_SHARED", REPO_ROOT.parent / "shared"))


def shared_file(rel: str) -> Path:
    """Path of ``../shared/<rel>``; skip (or fail under MEDSINS_REQUIRE_SHARED=1) if missing."""
    p = SHARED / rel
    if not p.exists():
        msg = f"real data {p} is not available (../shared is absent or incomplete)"
        if os.environ.get("MEDSINS_REQUIRE_SHARED") == "1":
            pytest.fail(msg + " and MEDSINS_REQUIRE_SHARED=1")
        pytest.skip(msg)
    return p


@pytest.fixture
def superni_dir() -> Path:
    return shared_file("data/superni_medical")
