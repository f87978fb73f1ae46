"""The ``medqa`` converter (MedQA USMLE / mainland China 4-option test sets -> task57, task58) on the
real files staged in ../shared/data/medqa_medmcqa."""

from __future__ import annotations

import json

import pytest

from medsins_datasets.errors import SourceError
from medsins_datasets.sources.converters import run_converter

from converter_helpers import check_mcqa_real_counts_and_answers


@pytest.mark.parametrize("name, file, task, size", [
    ("medqa", "medqa_en_4op.jsonl", "task57", 1273),
    ("medqa", "medqa_zh_4op.jsonl", "task58", 3426),
])
def test_mcqa_real_counts_and_answers(tmp_path, name, file, task, size):
    check_mcqa_real_counts_and_answers(tmp_path, name, file, task, size)

def test_missing_files_name_them_and_the_source(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    good = {"problem_id": 1, "problem_text": "FIXTURE question?", "choices": ["a1", "a2", "a3", "a4"], "answer": ["b"]}
    (raw / "medmcqa.jsonl").write_text(json.dumps(good) + "\n")
    with pytest.raises(SourceError, match=r"(?s)medqa_en_4op\.jsonl.*medqa_zh_4op\.jsonl.*github\.com/jind11/MedQA"):
        run_converter("medqa", raw, tmp_path / "o")
