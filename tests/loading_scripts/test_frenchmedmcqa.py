"""The ``frenchmedmcqa`` converter (task60) on the real files staged in ../shared/data/frenchmedmcqa."""

from __future__ import annotations

import json
import logging

from common import shared_file
from medsins_datasets.sources.converters import run_converter

from converter_helpers import instances


def test_frenchmedmcqa_real(tmp_path, caplog):
    raw = shared_file("data/frenchmedmcqa/test.json").parent
    out = tmp_path / "fr"
    with caplog.at_level(logging.WARNING):
        counts = run_converter("frenchmedmcqa", raw, out)
    assert counts == {"frenchmedmcqa_fr": {"train": 2170, "validation": 312, "test": 622}}
    assert "repeats question" in caplog.text  # the one verbatim duplicate of train.json, kept once
    test = json.loads((raw / "test.json").read_text(encoding="utf-8"))
    insts = instances(out, "test", "task60")
    for inst, q in zip(insts, test):
        letters = sorted(q["correct_answers"])
        assert inst.id == q["id"]
        opts = [q["answers"][k] for k in sorted(q["answers"])]
        assert inst.input == f"Question: {q['question']}\nOptions: " + "\t".join(f"{x}: {o}" for x, o in zip("ABCDE", opts))
        assert inst.output == ["Les bonnes réponses est " + ", ".join(f"{x.upper()}: {q['answers'][x]}" for x in letters)]
    # the first test question is the instance quoted from MCQA/task60_frenchmedmcqa_question_answering.jsonl
    assert insts[0].output == ["Les bonnes réponses est C: Le suc pancréatique"]
    assert insts[0].input.endswith("\nOptions: A: Le suc gastrique\tB: La bile vésiculaire\tC: Le suc pancréatique\t"
                                   "D: La salive\tE: Les sécrétions intestinales")
