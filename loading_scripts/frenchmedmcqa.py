"""FrenchMedMCQA -> task60 (French medical MCQA; its test split is MMedBench's French part, 622
questions).

Raw files, as github.com/qanastek/FrenchMedMCQA distributes them: ``train.json``,
``dev.json`` and ``test.json``, each a JSON list of questions with ``id``, ``question``,
``answers`` (an object ``{"a": ..., "e": ...}``, five options) and ``correct_answers`` (a list
of one or more letters).

Splits: train from ``train.json``, validation from ``dev.json``, test from ``test.json`` (the
official split; the train file repeats one question verbatim, kept once).

Format: the layout of the MedS-Bench file ``MCQA/task60_frenchmedmcqa_question_answering.jsonl``
(``_mcqa.py``): ``Question: <question>\\nOptions: A: <a>\\tB: <b>\\tC: <c>\\tD: <d>\\tE: <e>`` -> ``Les
bonnes réponses est C: <c>`` (sic), or ``Les bonnes réponses est A: <a>, C: <c>`` for questions
with several correct options (the official generators' rule). The first test question matches
the instance quoted from the official file. Texts as the file holds them; ``--clean`` strips them.
No official preparation script for this task is published (MedS-Bench took MMedBench's French
part, which is FrenchMedMCQA's test split). The official MCQA scorer finds no letter in a
French answer (see ``_mcqa.py``); and it compares only the first character among a-d, so a
multi-answer question is judged by its first correct letter and an answer E can never be right.
"""

from __future__ import annotations

import logging
from pathlib import Path

from medsins_datasets.registry.source_datasets import source_dataset
from medsins_datasets.sources.converters import Converter, RawFile, TaskWriter
from medsins_datasets.errors import SourceError

from ._mcqa import answer_letters, official_answer, official_input
from ._rawfiles import load_json, text_field, where

logger = logging.getLogger(__name__)

TASK = "task60"
HOMEPAGE = source_dataset("FrenchMedMCQA").homepage  # data/sources.csv
FILES = {"train": "train.json", "validation": "dev.json", "test": "test.json"}
DEFINITIONS = {TASK: "Given a question and a list of options, select the correct answer(s) from the options directly."}


def _write(writer: TaskWriter, split: str, path: Path) -> None:
    data = load_json(path)
    if not isinstance(data, list) or not data:
        raise SourceError(f"{where(path)}: expected a non-empty JSON list of questions (FrenchMedMCQA {path.name})")
    out = writer.open(TASK, split, definition=DEFINITIONS[TASK])
    seen: dict[str, dict] = {}
    for k, q in enumerate(data):
        rec = f"record {k}"
        if not isinstance(q, dict):
            raise SourceError(f"{where(path)}, {rec}: not an object")
        question = text_field(q, "question", path, None)  # validated (a non-blank string), stripped
        if not writer.clean:
            question = q["question"]
        answers = q.get("answers")
        if not isinstance(answers, dict) or not answers or not all(
                isinstance(v, str) and v.strip() for v in answers.values()):
            raise SourceError(f"{where(path, None, 'answers')}, {rec}: expected an object of option texts")
        keys = sorted(answers)
        options = [answers[x].strip() if writer.clean else answers[x] for x in keys]
        letters = answer_letters(q.get("correct_answers"), len(options), path, None, f"correct_answers of {rec}")
        qid = q.get("id")
        qid = str(qid) if isinstance(qid, str) and qid else f"{split}-{k}"
        if qid in seen:
            if seen[qid] != q:
                raise SourceError(f"{where(path, None, 'id')}, {rec}: id {qid} was already used by a different question")
            logger.warning("FrenchMedMCQA: %s, record %d repeats question %s exactly; kept once", path.name, k, qid)
            continue
        seen[qid] = q
        out.add(official_input(question, options, "fr"), official_answer(options, letters, "fr"), id=qid)


def convert(data_dir: Path, writer: TaskWriter) -> None:
    for split, name in FILES.items():
        if (data_dir / name).is_file():
            _write(writer, split, data_dir / name)


CONVERTER = Converter(
    name="frenchmedmcqa",
    source="FrenchMedMCQA",
    access="public",
    raw_files=(
        RawFile("train.json", f"FrenchMedMCQA training questions, JSON list ({HOMEPAGE})"),
        RawFile("dev.json", f"FrenchMedMCQA development questions (-> validation) ({HOMEPAGE})", required=False),
        RawFile("test.json", f"FrenchMedMCQA test questions (622) ({HOMEPAGE})"),
    ),
    task_ids=(TASK,),
    convert=convert,
    version="2",
    clean_note="question and option texts stripped",
)
