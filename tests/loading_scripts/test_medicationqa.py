"""The ``medicationqa`` converter (MedicationQA, task65) on the SELF-MADE fixture."""

from __future__ import annotations

from medsins_datasets.sources.converters import run_converter

from converter_helpers import FIXTURES, pairs


def test_medicationqa(tmp_path):
    out = tmp_path / "o"
    run_converter("medicationqa", FIXTURES / "medicationqa", out)
    assert pairs(out, "train", "task65") == [
        ("medicationqa-2", "FIXTURE: how much inventol can I take?", ["FIXTURE: at most two tablets a day."]),
        ("medicationqa-4", "FIXTURE: what is inventol for?", ["FIXTURE: invented headaches."]),
    ]
