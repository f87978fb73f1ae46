"""The ``rumedbench`` converter (RuMedDaNet -> task61) on the real files staged in ../shared/data/rumedbench."""

from __future__ import annotations

import json

from common import shared_file
from medsins_datasets.sources.converters import get_converter, run_converter

from converter_helpers import instances


def test_rumedbench_real(tmp_path):
    raw = shared_file("data/rumedbench/RuMedDaNet/test_v1.jsonl").parent.parent
    out = tmp_path / "ru"
    counts = run_converter("rumedbench", raw, out)
    assert counts == {"rumedbench_ru": {"train": 1052, "validation": 256, "test": 256}}  # MMedBench ru: 256
    rows = [json.loads(x) for x in (raw / "RuMedDaNet/test_v1.jsonl").read_text(encoding="utf-8").splitlines() if x.strip()]
    insts = instances(out, "test", "task61")
    assert [i.output[0] for i in insts] == [("Правильные ответ: A: да" if r["answer"] == "да" else
                                             "Правильные ответ: B: нет") for r in rows]
    # the question alone, as in the instance quoted from the official file (no context passage)
    assert [i.input for i in insts] == [f"Вопрос: {r['question']}\nВарианты: A: да\tB: нет" for r in rows]
    quoted = "Вопрос: Противокашлевое действие бутамирата цитрата обусловлено главным образом воздействием на кашлевой центр в мозге?"
    assert any(i.input.startswith(quoted) and i.output == ["Правильные ответ: A: да"] for i in insts)
    assert "RuMedTest" in get_converter("rumedbench").notes
