"""The ``mediqa_ans`` converter (MEDIQA-AnS, task102) on the SELF-MADE fixture."""

from __future__ import annotations

import json
import logging

import pytest

from medsins_datasets.errors import SourceError
from medsins_datasets.sources.converters import run_converter

from converter_helpers import FIXTURES, copy_fixture, pairs, written_splits


def test_mediqa_ans(tmp_path, caplog):
    out = tmp_path / "o"
    with caplog.at_level(logging.WARNING):
        run_converter("mediqa_ans", FIXTURES / "mediqa_ans", out)
    assert written_splits(out) == {"train": {"task102"}}
    assert pairs(out, "train", "task102") == [
        ("1", "FIXTURE: can I take inventol with coffee?",
         ["FIXTURE: Yes, inventol is safe with coffee.",
          "FIXTURE: Inventol does not interact with caffeine. Take it with food."]),
        ("2", "FIXTURE: what is snurfle fever?", ["FIXTURE: An invented fever."]),  # identical summaries kept once
    ]
    assert "1 question(s) without a summary skipped" in caplog.text

def test_mediqa_ans_errors(tmp_path):
    with pytest.raises(SourceError, match="question_driven_answer_summarization_primary_dataset.json"):
        run_converter("mediqa_ans", tmp_path, tmp_path / "o")
    raw = copy_fixture(tmp_path, "mediqa_ans")
    p = raw / "question_driven_answer_summarization_primary_dataset.json"
    data = json.loads(p.read_text())
    data["2"]["question"] = ["not", "text"]
    p.write_text(json.dumps(data))
    with pytest.raises(SourceError, match="field 'question'.*question 2: missing or empty"):
        run_converter("mediqa_ans", raw, tmp_path / "o2")
