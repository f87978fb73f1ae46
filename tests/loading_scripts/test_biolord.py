"""The ``biolord`` converter (BioLORD -> task48, task49, task50) on the SELF-MADE fixture."""

from __future__ import annotations

import pytest

from medsins_datasets.errors import SourceError
from medsins_datasets.sources.converters import run_converter

from converter_helpers import FIXTURES, header_fields, pairs, written_splits


def test_biolord_three_tasks(tmp_path):
    out = tmp_path / "o"
    run_converter("biolord", FIXTURES / "biolord", out)
    assert written_splits(out) == {"train": {"task48", "task49", "task50"}, "test": {"task48", "task49", "task50"}}
    train50 = pairs(out, "train", "task50")
    # 10 rows: one exact duplicate and one without definition dropped, 2 held-out concepts
    assert len(train50) == 6 and len(pairs(out, "test", "task50")) == 2
    assert train50[0] == ("train-0", "FIXTURE concept a", ["FIXTURE concept a is an invented disorder of the imaginary gland."])
    assert train50[2] == ("train-2", "FIXTURE concept a", ["A second invented description: a made-up gland disease."])
    assert ("train-4", "FIXTURE concept e is an invented virus.", ["FIXTURE concept e"]) in pairs(out, "train", "task49")
    assert pairs(out, "test", "task49") == [
        ("test-0", "FIXTURE term 3 is an invented held-out procedure.", ["FIXTURE term 3"]),
        ("test-1", "FIXTURE term 8 is an invented held-out symptom.", ["FIXTURE term 8"])]
    for split in ("train", "test"):
        for iid, text, answer in pairs(out, split, "task48"):
            definition, listing = text.split("\nConcepts:\n")
            choices = [line.split(". ", 1)[1] for line in listing.split("\n")]
            assert definition.startswith("Definition: ") and answer[0] in choices
            assert len(choices) == len(set(choices)) == (5 if split == "train" else 2)
            # distractors come from the same split only
            assert all(("term" in c) == (split == "test") for c in choices)
    head = header_fields(out, "test", "task50")
    assert head["Categories"] == ["Explanation"] and head["Source"] == ["BioLORD"]

def test_biolord_csv_columns_and_errors(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "biolord.csv").write_text('concept_name,description\nFIXTURE concept a,"FIXTURE concept a is invented."\n'
                                     "FIXTURE concept b,FIXTURE concept b is invented too.\n", encoding="utf-8")
    out = tmp_path / "o"
    run_converter("biolord", raw, out)
    assert pairs(out, "train", "task50")[1] == ("train-1", "FIXTURE concept b", ["FIXTURE concept b is invented too."])
    (raw / "biolord.csv").write_text("cui,text_a\nC1,x\n", encoding="utf-8")
    with pytest.raises(SourceError, match=r"file biolord.csv: no concept-name and definition columns .*the file has cui, text_a"):
        run_converter("biolord", raw, tmp_path / "o2")
    (raw / "biolord.csv").unlink()
    with pytest.raises(SourceError, match="BioLORD: no data file"):
        run_converter("biolord", raw, tmp_path / "o2")
    assert not (tmp_path / "o2").exists()
