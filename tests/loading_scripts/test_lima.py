"""The ``lima`` converter (LIMA, medical conversations -> task40) on the SELF-MADE fixture."""

from __future__ import annotations

import json

import pytest

from medsins_datasets.errors import SourceError
from medsins_datasets.sources.converters import run_converter

from converter_helpers import FIXTURES, copy_fixture, pairs, written_splits


def test_lima_medical_filter(tmp_path):
    from medsins_datasets.loading_scripts.lima import is_medical

    out = tmp_path / "o"
    run_converter("lima", FIXTURES / "lima", out)
    assert written_splits(out) == {"train": {"task40"}}
    # bookshelf ("organize") and pillow poems are not medical; the multi-turn one keeps its first exchange
    assert pairs(out, "train", "task40") == [
        ("train-1", "FIXTURE: My doctor says my blorp levels are high, is that bad?",
         ["FIXTURE: Not necessarily; ask about diet."]),
        ("train-3", "FIXTURE: What are the SYMPTOMS of snurfle fever?", ["FIXTURE: Sneezing and purple spots."]),
    ]
    assert is_medical("Was he diagnosed early?") and is_medical("Is this vaccine safe?")
    assert not is_medical("How do I organise a pillow fight?") and not is_medical("Tell me a story")

def test_lima_errors(tmp_path):
    raw = copy_fixture(tmp_path, "lima")
    (raw / "train.jsonl").write_text(json.dumps({"conversations": ["only a prompt"], "source": "x"}) + "\n")
    with pytest.raises(SourceError, match=r"file train\.jsonl, line 1, field 'conversations': .*got 1 turn"):
        run_converter("lima", raw, tmp_path / "o")
    (raw / "train.jsonl").write_text('{"conversations": ["a", "b"]}\n{"conversations": "text"}\n')
    with pytest.raises(SourceError, match=r"file train\.jsonl, line 2, field 'conversations': expected a list"):
        run_converter("lima", raw, tmp_path / "o2")
    (raw / "train.jsonl").unlink()
    with pytest.raises(SourceError, match=r"(?s)missing raw file.*train\.jsonl"):
        run_converter("lima", raw, tmp_path / "o3")
