"""The ``covid_qa`` converter (COVID-QA, task105) on the real file staged in ../shared/data/covid_qa."""

from __future__ import annotations

import json

from common import shared_file
from medsins_datasets.sources.converters import run_converter

from converter_helpers import instances


def test_covid_qa_real(tmp_path):
    path = shared_file("data/covid_qa/200423_covidQA.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    qas = [qa for a in data["data"] for p in a["paragraphs"] for qa in p["qas"]]
    answerable = [qa for qa in qas if not qa.get("is_impossible") and any(x["text"].strip() for x in qa["answers"])]
    out = tmp_path / "cq"
    run_converter("covid_qa", path.parent, out)
    insts = instances(out, "train", "task105")
    assert len(insts) == len(answerable) == 1380
    assert insts[0].input == answerable[0]["question"].strip()
    assert insts[0].output == [" ".join(answerable[0]["answers"][0]["text"].split())]
