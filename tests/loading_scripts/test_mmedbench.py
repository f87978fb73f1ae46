"""The ``mmedbench`` converter (MMedBench rationales, task51-56) on the SELF-MADE fixture."""

from __future__ import annotations

import json

import pytest

from medsins_datasets.sources.converters import run_converter

from converter_helpers import FIXTURES, copy_fixture, header_fields, pairs, raises_nothing_written, written_splits


MMED = {"task51": "Chinese", "task52": "English", "task53": "French", "task54": "Japanese", "task55": "Russian",
        "task56": "Spanish"}

def test_mmedbench_fixture_exact_and_split(tmp_path):
    out = tmp_path / "o"
    counts = run_converter("mmedbench", FIXTURES / "mmedbench", out)
    assert counts["mmedbench_rationale_ja"] == {"train": 2, "test": 1} and len(counts) == 6
    assert written_splits(out) == {"train": set(MMED), "test": set(MMED)}
    # the layout of the official Rationale files: localized MCQA input, then the answer sentence
    labels = {"task51": ("问题", "选项", "正确答案是 ", "。"), "task52": ("Question", "Options", "The right answer is ", "."),
              "task53": ("Question", "Options", "La bonne réponse est ", "."),
              "task54": ("質問", "オプション", "正しい答えは ", " です。"),
              "task55": ("Вопрос", "Варианты", "Правильный ответ: ", "."),
              "task56": ("Pregunta", "Opciones", "La respuesta correcta es ", ".")}
    for task, lang in MMED.items():
        q, o, pre, post = labels[task]
        assert pairs(out, "test", task) == [(
            "test-1",
            f"{q}: FIXTURE {lang} Test question 1?\n{o}: A: alpha\tB: beta\tC: gamma\tD: delta\n{pre}B: beta{post}",
            [f"FIXTURE {lang} Test rationale 1."])]
        train = pairs(out, "train", task)
        assert train[1] == (
            "train-2",
            f"{q}: FIXTURE {lang} Train question 2?\n{o}: A: one\tB: two\tC: three\tD: four\tE: five\n"
            f"{pre}A: one, C: three{post}",
            [f"FIXTURE {lang} Train rationale 2."])
        assert not any("Test" in i for _, i, _ in train)  # training reads Train/ only
    assert header_fields(out, "test", "task54")["Input_language"] == ["Japanese"]

@pytest.mark.parametrize("edit, expect", [
    (lambda r: r.update(answer_idx="F"), r"file English\.jsonl, line 1, field 'answer_idx': answer F is not among the 4 options"),
    (lambda r: r.update(rationale=""), r"file English\.jsonl, line 1, field 'rationale': empty"),
    (lambda r: r.update(options={"A": "x", "C": "y"}), r"line 1, field 'options': option keys A, C are not A, B"),
])
def test_mmedbench_malformed_record_is_named(tmp_path, edit, expect):
    raw = copy_fixture(tmp_path, "mmedbench")
    p = raw / "Test/English.jsonl"
    rec = json.loads(p.read_text(encoding="utf-8").splitlines()[0])
    edit(rec)
    p.write_text(json.dumps(rec) + "\n", encoding="utf-8")
    raises_nothing_written(tmp_path, "mmedbench", raw, expect)

def test_mmedbench_missing_file_is_named(tmp_path):
    raw = copy_fixture(tmp_path, "mmedbench")
    (raw / "Test/Russian.jsonl").unlink()
    raises_nothing_written(tmp_path, "mmedbench", raw, r"(?s)Test/Russian\.jsonl.*Henrychur/MMedBench")
