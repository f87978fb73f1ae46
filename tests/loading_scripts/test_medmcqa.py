"""The ``medmcqa`` converter (MedMCQA: task122 from the dev split, training tasks task63/64) on the
real test file (../shared/data/medqa_medmcqa) and the SELF-MADE fixture (tests/fixtures/medmcqa)."""

from __future__ import annotations

import json

import pytest

from medsins_datasets.errors import SourceError
from medsins_datasets.sources.converters import get_converter, run_converter

from converter_helpers import (FIXTURES, check_mcqa_real_counts_and_answers, copy_fixture, instances, pairs,
                     raises_nothing_written, written_splits)


@pytest.mark.parametrize("name, file, task, size", [
    ("medmcqa", "medmcqa.jsonl", "task122", 4183),
])
def test_mcqa_real_counts_and_answers(tmp_path, name, file, task, size):
    check_mcqa_real_counts_and_answers(tmp_path, name, file, task, size)

def test_mcqa_malformed_answer_is_named(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    good = {"problem_id": 1, "problem_text": "FIXTURE question?", "choices": ["a1", "a2", "a3", "a4"], "answer": ["b"]}
    bad = dict(good, problem_id=2, answer=["e"])
    (raw / "medmcqa.jsonl").write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n")
    with pytest.raises(SourceError, match=r"file medmcqa\.jsonl, line 2, field 'answer': answer E is not among the 4 options"):
        run_converter("medmcqa", raw, tmp_path / "o")
    (raw / "medmcqa.jsonl").write_text(json.dumps(dict(good, choices=["only one"])) + "\n")
    with pytest.raises(SourceError, match=r"line 1, field 'choices'"):
        run_converter("medmcqa", raw, tmp_path / "o")

def test_medmcqa_train_tasks_exact_and_task122_kept(tmp_path, caplog):
    out = tmp_path / "o"
    counts = run_converter("medmcqa", FIXTURES / "medmcqa", out)
    assert counts == {"medmcqa_test": {"test": 1}, "medmcqa_mcqa": {"train": 3}, "medmcqa_cot_explanation": {"train": 1}}
    assert written_splits(out) == {"test": {"task122"}, "train": {"task63", "task64"}}
    q1 = "FIXTURE train question 1?\nA. a1\nB. b1\nC. c1\nD. d1"
    # cop is 1-based in the original release: 3 -> C, 1 -> A, 4 -> D
    assert [(i, o) for i, _, o in pairs(out, "train", "task64")] == [("fx-0001", ["C. c1"]), ("fx-0002", ["A. a2"]), ("fx-0003", ["D. d3"])]
    assert pairs(out, "train", "task63") == [("fx-0001", q1, ["FIXTURE explanation 1.\nAnswer: C. c1"])]  # null/blank exp left out
    assert pairs(out, "test", "task122") == [("1", "Question: FIXTURE dev question?\nOptions:\nA. w\nB. x\nC. y\nD. z",
                                             ["The right answer is D: z"])]
    train_inputs = {i.input for t in ("task63", "task64") for i in instances(out, "train", t)}
    assert not {i.input for i in instances(out, "test", "task122")} & train_inputs
    assert not any("dev question" in i for i in train_inputs)
    assert get_converter("medmcqa").task_ids == ("task122", "task64", "task63")

def test_medmcqa_only_one_file_each_way(tmp_path):
    raw = copy_fixture(tmp_path, "medmcqa")
    (raw / "medmcqa.jsonl").unlink()
    out = tmp_path / "o"
    run_converter("medmcqa", raw, out)
    assert written_splits(out) == {"train": {"task63", "task64"}}
    (raw / "train.json").unlink()
    raises_nothing_written(tmp_path / "x", "medmcqa", raw, r"neither medmcqa\.jsonl .* nor train\.json")

@pytest.mark.parametrize("cop, expect", [
    (0, r"line 2, field 'cop': 0 is not a 1-based option number - this looks like the 0-based Hugging Face copy"),
    (5, r"line 2, field 'cop': 5 is not an option number 1-4"),
    ("b", r"line 2, field 'cop': expected the correct option number 1-4"),
])
def test_medmcqa_bad_cop_is_named(tmp_path, cop, expect):
    raw = copy_fixture(tmp_path, "medmcqa")
    p = raw / "train.json"
    rows = [json.loads(x) for x in p.read_text().splitlines()]
    rows[1]["cop"] = cop
    p.write_text("".join(json.dumps(r) + "\n" for r in rows))
    raises_nothing_written(tmp_path, "medmcqa", raw, expect)
