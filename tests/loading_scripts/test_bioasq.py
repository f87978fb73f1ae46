"""The ``bioasq`` converter (BioASQ, task104) on the SELF-MADE fixture."""

from __future__ import annotations

from medsins_datasets.sources.converters import run_converter

from converter_helpers import FIXTURES, pairs


def test_bioasq_uses_newest_release(tmp_path):
    out = tmp_path / "o"
    run_converter("bioasq", FIXTURES / "bioasq", out)
    assert pairs(out, "train", "task104") == [
        ("fixture01", "FIXTURE: What does invented gene ABC1 do?",
         ["FIXTURE: ABC1 regulates imaginary pathways.", "FIXTURE: It controls nothing real."]),
        ("fixture02", "FIXTURE: Is ABC1 essential?", ["FIXTURE: Yes, in tests."]),
    ]
