"""The ``igakuqa`` converter (IgakuQA, task59) on the SELF-MADE fixture: split by exam year, skips,
documented scorer defects, error messages."""

from __future__ import annotations

import json
import shutil

from medsins_datasets import scoring as S
from medsins_datasets.sources.converters import run_converter

from converter_helpers import FIXTURES, copy_fixture, pairs, raises_nothing_written


def test_igakuqa_fixture_split_by_year_and_skips(tmp_path):
    out = tmp_path / "o"
    counts = run_converter("igakuqa", FIXTURES / "igakuqa", out)
    assert counts == {"igakuqa_ja": {"train": 2, "test": 1}}  # image question and numeric question skipped
    # the official generator's layout (data_preparing/igakuqa_mcqa.py)
    assert pairs(out, "test", "task59") == [
        ("116A1", "質問: FIXTURE 2022 問題1はどれか。\nオプション: A: 選択肢a\tB: 選択肢b\tC: 選択肢c\tD: 選択肢d\tE: 選択肢e",
         ["正しい答えは E: 選択肢e です"])]
    train = pairs(out, "train", "task59")
    assert [(i, o) for i, _, o in train] == [("115A1", ["正しい答えは B: 選択肢b です"]),
                                              ("115A3", ["正しい答えは A: 選択肢a, D: 選択肢d です"])]
    assert all(i.startswith("115") for i, _, _ in train)  # no 2022 (test) question in training
    # documented scorer defects: the official first-letter rule knows only A-D, and strips only the
    # English "the right answer is", so a Japanese gold answer reads as no letter at all
    assert S.mcqa_correct("B", "B. 選択肢b") and not S.mcqa_correct("E", "E. 選択肢e")
    assert not S.mcqa_correct("B", "正しい答えは B: 選択肢b です")

def test_igakuqa_errors(tmp_path):
    raw = copy_fixture(tmp_path, "igakuqa")
    shutil.rmtree(raw / "2022")
    raises_nothing_written(tmp_path, "igakuqa", raw, r"no test exam files .*test year 2022")
    raw = copy_fixture(tmp_path / "b", "igakuqa")
    p = raw / "2021/115-A.jsonl"
    rows = [json.loads(x) for x in p.read_text(encoding="utf-8").splitlines()]
    rows[2]["answer"] = ["a", "f"]
    p.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    raises_nothing_written(tmp_path, "igakuqa", raw, r"file 115-A\.jsonl, line 3, field 'answer': answer F is not among the 5 options")
    empty = tmp_path / "empty"
    empty.mkdir()
    raises_nothing_written(tmp_path, "igakuqa", empty, r"(?s)missing raw file.*github\.com/jungokasai/IgakuQA")
