"""COVID-QA -> task105 (question answering on COVID-19 literature).

Raw file, as github.com/deepset-ai/COVID-QA distributes it (``data/question-answering/``):
``200423_covidQA.json`` (or another ``*covidQA*.json`` release) in SQuAD format -
``{"data": [{"paragraphs": [{"context", "document_id", "qas": [{"id", "question",
"answers": [{"text", "answer_start"}], "is_impossible"}]}]}]}``.

task105's definition asks to answer the question "with comprehensive details" without a
given passage, so the input is the question and the outputs are its annotated answer spans
(whitespace tidied, duplicates removed). Questions marked impossible or without an answer are
skipped. All instances are training instances (task105 is not in MedS-Bench; the source has no
official split).
"""

from __future__ import annotations

import logging
from pathlib import Path

from medsins_datasets.sources.converters import Converter, RawFile, TaskWriter
from medsins_datasets.errors import SourceError

from ._rawfiles import first_match, iter_squad, where

logger = logging.getLogger(__name__)

TASK = "task105"
HOMEPAGE = "https://github.com/deepset-ai/COVID-QA (data/question-answering/200423_covidQA.json)"
PATTERNS = ("200423_covidQA.json", "*covidQA*.json")
DEFINITIONS = {TASK: "Given a question about COVID-19, answer it with comprehensive details."}


def convert(data_dir: Path, writer: TaskWriter) -> None:
    path = first_match(data_dir, PATTERNS)
    assert path is not None  # checked before convert runs
    out = writer.open(TASK, "train", definition=DEFINITIONS[TASK])
    skipped = 0
    for loc, (a, p, q), qa, question, _context in iter_squad(path):
        answers = qa.get("answers")
        if not isinstance(answers, list):
            raise SourceError(f"{where(path, None, 'answers')}: {loc} has no 'answers' list")
        texts = list(dict.fromkeys(" ".join(x["text"].split()) for x in answers
                                   if isinstance(x, dict) and isinstance(x.get("text"), str) and x["text"].strip()))
        if qa.get("is_impossible") or not texts:
            skipped += 1
            continue
        qid = qa.get("id")
        out.add(" ".join(question.split()), texts, id=str(qid) if qid is not None else f"q{a}-{p}-{q}")
    if skipped:
        logger.warning("COVID-QA: %d question(s) without an answer skipped", skipped)


CONVERTER = Converter(
    name="covid_qa",
    source="COVID-QA",
    access="public",
    raw_files=(RawFile("*covidQA*.json", f"COVID-QA in SQuAD format ({HOMEPAGE})"),),
    task_ids=(TASK,),
    convert=convert,
)
