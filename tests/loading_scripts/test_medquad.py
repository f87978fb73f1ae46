"""The ``medquad`` converter (MedQuAD, task103) on the SELF-MADE fixture."""

from __future__ import annotations

import logging

from medsins_datasets.sources.converters import run_converter

from converter_helpers import FIXTURES, missing_files_are_named, pairs


def test_medquad(tmp_path, caplog):
    out = tmp_path / "o"
    with caplog.at_level(logging.WARNING):
        run_converter("medquad", FIXTURES / "medquad", out)
    got = pairs(out, "train", "task103")
    assert got == [
        ("0000001_1-1", "What is (are) FIXTURE condition ?", ['FIXTURE: an invented condition "for tests".']),
        ("0000001_1-2", "What are the treatments for FIXTURE condition ?", ["FIXTURE: rest and fluids."]),
    ]
    assert "2 question(s) without an answer" in caplog.text

def test_missing_files_are_named(tmp_path):
    missing_files_are_named(tmp_path, "medquad", "missing raw file")
