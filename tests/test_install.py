"""A non-editable install works from any working directory (package data, converters, metric)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from common import REPO_ROOT, shared_file


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("site")
    build = tmp_path_factory.mktemp("build")
    # a real (non-editable) install of this checkout into a separate folder, without deps
    res = subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "--no-compile",
         "--target", str(target), str(REPO_ROOT)],
        capture_output=True, text=True, env={**os.environ, "TMPDIR": str(build)},
    )
    assert res.returncode == 0, res.stderr[-2000:]
    return target


def run_installed(target: Path, cwd: Path, code: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(target), "PYTHONNOUSERSITE": "1"}
    res = subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, env=env)
    assert res.returncode == 0, res.stderr[-3000:]
    return res.stdout


def test_registry_and_converters_from_elsewhere(installed, tmp_path):
    raw = shared_file("data/superni_medical")
    code = f"""
import json, medsins_datasets, medsins_datasets.registry as r
from medsins_datasets.sources.converters import converters, run_converter
assert medsins_datasets.__file__.startswith({str(installed)!r}), medsins_datasets.__file__
written = run_converter("superni", {str(raw)!r}, "out")
print(json.dumps({{"n": len(r.all_tasks()), "convs": sorted(converters()), "written": written}}))
"""
    out = json.loads(run_installed(installed, tmp_path, code))
    assert out["n"] == 125
    assert "superni" in out["convs"]
    assert out["written"]["pico_outcome"]["train"] == 48
    assert (tmp_path / "out" / "train" / "task3_pico_outcome.json").exists()
