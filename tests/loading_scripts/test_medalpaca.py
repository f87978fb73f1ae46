"""The ``medalpaca`` converter (medAlpaca's WikiDoc and flashcards -> task69, task70, task71) on the
SELF-MADE fixture."""

from __future__ import annotations

from medsins_datasets.sources.converters import run_converter

from converter_helpers import FIXTURES, missing_files_are_named, pairs


def test_medalpaca(tmp_path):
    out = tmp_path / "o"
    run_converter("medalpaca", FIXTURES / "medalpaca", out)
    assert pairs(out, "train", "task69") == [("medical_meadow_wikidoc-0", "FIXTURE: What is the textbook definition of a wobble?",
                                              ["FIXTURE: A wobble is an invented term."])]
    assert [p[1] for p in pairs(out, "train", "task70")] == ["FIXTURE: What causes made-up fever?"]
    assert pairs(out, "train", "task71")[0][2] == ["FIXTURE: The imaginary gland."]

def test_missing_files_are_named(tmp_path):
    missing_files_are_named(tmp_path, "medalpaca", "no medical_meadow_wikidoc")
