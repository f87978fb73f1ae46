"""The ``ms2`` converter (MS^2 multi-document summarization, task109) on the SELF-MADE fixture."""

from __future__ import annotations

from medsins_datasets.sources.converters import run_converter

from converter_helpers import FIXTURES, pairs, written_splits


def test_ms2_groups_studies_by_review(tmp_path):
    out = tmp_path / "o"
    run_converter("ms2", FIXTURES / "ms2", out)
    assert written_splits(out) == {"train": {"task109"}, "validation": {"task109"}}  # test targets are withheld
    assert pairs(out, "train", "task109") == [
        ("reviewr2", "Study 1: FIXTURE: trial C\nFIXTURE: diet Y did nothing.", ["FIXTURE: diet Y shows no effect."]),
        ("reviewr1", "Background: FIXTURE: does drug X help?\n\nStudy 1: FIXTURE: trial A\nFIXTURE: drug X helped.\n\n"
                     "Study 2: FIXTURE: trial B\nFIXTURE: drug X helped a little.", ["FIXTURE: drug X probably helps."]),
    ]
    assert pairs(out, "validation", "task109")[0][0] == "reviewr9"
