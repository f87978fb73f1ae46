"""The ``liveqa`` converter (TREC 2017 LiveQA medical, task62) on the SELF-MADE fixture."""

from __future__ import annotations

from medsins_datasets.sources.converters import run_converter

from converter_helpers import FIXTURES, missing_files_are_named, pairs


def test_liveqa(tmp_path):
    out = tmp_path / "o"
    run_converter("liveqa", FIXTURES / "liveqa", out)
    got = pairs(out, "train", "task62")
    assert got == [
        ("train1-Q1", 'FIXTURE: Where can I read about "made-up syndrome"?',
         ["FIXTURE: Made-up syndrome is invented.", "FIXTURE: It exists only in tests."]),
        ("train1-Q2", "FIXTURE: What causes it and how is it treated?",
         ["FIXTURE: cause answer.\n\nFIXTURE: treatment answer."]),
        ("train2-Q2", "FIXTURE: second file question", ["FIXTURE: second file answer."]),
    ]

def test_missing_files_are_named(tmp_path):
    missing_files_are_named(tmp_path, "liveqa", "missing raw file")
