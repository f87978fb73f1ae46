"""The ``rct`` converter (RCT summarization, task110) on the SELF-MADE fixture."""

from __future__ import annotations

import pytest

from medsins_datasets.errors import SourceError
from medsins_datasets.sources.converters import run_converter

from converter_helpers import FIXTURES, copy_fixture, header_fields, pairs, written_splits


def test_rct_groups_trials_by_review(tmp_path):
    out = tmp_path / "o"
    run_converter("rct", FIXTURES / "rct", out)
    assert written_splits(out) == {"train": {"task110"}, "validation": {"task110"}, "test": {"task110"}}
    assert pairs(out, "train", "task110") == [
        ("CD900002", "Study 1\nTitle: FIXTURE: Diet Y for invented fatigue",  # empty abstract left out
         ["FIXTURE: There is not enough evidence on diet Y."]),
        ("CD900001", "Study 1\nTitle: FIXTURE: Drug X versus placebo for invented pain\n"
                     "Abstract: FIXTURE: Drug X reduced pain in 40 patients.\n\n"
                     "Study 2\nTitle: FIXTURE: A second trial of drug X\nAbstract: FIXTURE: Drug X helped a little, with nausea.",
         ["FIXTURE: Drug X probably reduces invented pain.\nMore trials are needed."]),
    ]  # CD900003 has no target: skipped
    assert [i[0] for i in pairs(out, "validation", "task110")] == ["CD900010"]
    test = pairs(out, "test", "task110")
    assert test == [("CD900020", "Study 1\nTitle: FIXTURE: Herb W for invented cough\nAbstract: FIXTURE: Herb W did nothing.\n\n"
                                 "Study 2\nTitle: FIXTURE: Herb W again\nAbstract: FIXTURE: Herb W did nothing again.",
                     ["FIXTURE: Herb W does not help invented cough."])]
    assert header_fields(out, "test", "task110")["Categories"] == ["Text Summarization"]

def test_rct_without_test_targets_and_errors(tmp_path):
    raw = copy_fixture(tmp_path, "rct")
    (raw / "test-targets.csv").unlink()  # the MSLR Cochrane copy withholds test targets
    out = tmp_path / "o"
    run_converter("rct", raw, out)
    assert "test" not in written_splits(out)
    (raw / "train-targets.csv").write_text(",ReviewID,Target\n0,CD900001,a\n1,CD900001,b\n")
    with pytest.raises(SourceError, match=r"file train-targets.csv, line 3, field 'ReviewID': review 'CD900001' has a second target"):
        run_converter("rct", raw, tmp_path / "o2")
    (raw / "train-targets.csv").write_text(",ReviewID\n0,CD900001\n")
    with pytest.raises(SourceError, match=r"file train-targets.csv, line 1: missing column\(s\) Target"):
        run_converter("rct", raw, tmp_path / "o2")
    (raw / "train-inputs.csv").unlink()
    with pytest.raises(SourceError, match="missing raw file"):
        run_converter("rct", raw, tmp_path / "o2")
    assert not (tmp_path / "o2").exists()
