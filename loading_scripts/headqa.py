"""HEAD-QA (Spanish healthcare specialisation exams, MCQA) -> task129 (MedS-Bench MCQA, es; its
test split is MMedBench's Spanish part, 2,742 questions).

Raw files, as github.com/aghie/head-qa distributes the Spanish data set (``HEAD/`` from the
ES_HEAD download): ``train_HEAD.json``, ``dev_HEAD.json`` and ``test_HEAD.json`` (also
``HEAD.json`` with everything and per-exam ``*.gold`` files, not read). Each is one JSON object
``{"version", "language", "exams": {<exam key>: {"name", "year", "category", "data": [...]}}}``;
a question has ``qid`` (string number), ``qtext``, ``ra`` (the ``aid`` of the right answer, a
string), ``image`` (a path or empty) and ``answers`` (a list of ``{"aid", "atext"}``, four or
five options). Field names as read by the Hugging Face / BigBio ``head_qa`` scripts. Pass the
folder holding the three files as ``--data-dir``.

Splits: the official supervised split - train from ``train_HEAD.json``, validation from
``dev_HEAD.json``, test from ``test_HEAD.json``. Questions that refer to an image are kept
(MMedBench's 2,742 Spanish test questions are the whole test file); ids are ``<exam key>-<qid>``.

Format: the layout of the MedS-Bench file ``MCQA/task129_headqa_question_answering.jsonl``
(``_mcqa.py``): ``Pregunta: <qtext>\\nOpciones: A: <atext 1>\\tB: <atext 2>\\t...`` (options in
``aid`` order) -> ``La respuesta correcta es: B: <atext>``. The first test question
(``Forma fibras extracelulares con gran resistencia a la tensión:``) gives exactly the instance
quoted from the official file. Texts are written as the files hold them (84 test questions have
line breaks, tabs or double spaces inside); ``--clean`` collapses their whitespace. No official
preparation script for this task is published. Older exams have five options; the official
first-letter MCQA scorer knows only a-d (and finds no letter in a Spanish answer, see
``_mcqa.py``), so a gold answer E can never be scored correct (documented scorer defect).

The SuperNI-derived HeadQA tasks (task22-25: English answer generation, en<->es translation,
topic classification) are produced by the ``superni`` converter from SuperNI's files, not here.
"""

from __future__ import annotations

from pathlib import Path

from medsins_datasets.registry.source_datasets import source_dataset
from medsins_datasets.sources.converters import Converter, RawFile, TaskWriter
from medsins_datasets.errors import SourceError

from ._mcqa import LETTERS, official_answer, official_input
from ._rawfiles import load_json, where

TASK = "task129"
HOMEPAGE = source_dataset("HeadQA").homepage  # data/sources.csv
FILES = {"train": "train_HEAD.json", "validation": "dev_HEAD.json", "test": "test_HEAD.json"}
DEFINITIONS = {TASK: "Given a question and a list of options, select the correct answer from the options directly."}


def _aid(value: object, path: Path, rec: str, field: str) -> int:
    try:
        return int(str(value).strip())
    except ValueError:
        raise SourceError(f"{where(path, None, field)}, {rec}: not a number") from None


def _write(writer: TaskWriter, split: str, path: Path) -> None:
    data = load_json(path)
    exams = data.get("exams") if isinstance(data, dict) else None
    if not isinstance(exams, dict) or not exams:
        raise SourceError(f"{where(path, None, 'exams')}: expected an object of exams (HEAD-QA {path.name})")
    out = writer.open(TASK, split, definition=DEFINITIONS[TASK])
    for exam_key, exam in exams.items():
        questions = exam.get("data") if isinstance(exam, dict) else None
        if not isinstance(questions, list):
            raise SourceError(f"{where(path, None, 'data')}, exam {exam_key!r}: expected a list of questions")
        for k, q in enumerate(questions):
            rec = f"exam {exam_key!r}, question {k}"
            if not isinstance(q, dict):
                raise SourceError(f"{where(path)}, {rec}: not an object")
            qtext = q.get("qtext")
            if not isinstance(qtext, str) or not qtext.strip():
                raise SourceError(f"{where(path, None, 'qtext')}, {rec}: missing, empty or not a string")
            answers = q.get("answers")
            if not isinstance(answers, list) or not 2 <= len(answers) <= len(LETTERS) or not all(
                    isinstance(a, dict) and isinstance(a.get("atext"), str) and a["atext"].strip() for a in answers):
                raise SourceError(f"{where(path, None, 'answers')}, {rec}: expected a list of {{aid, atext}} options")
            ordered = sorted(answers, key=lambda a: _aid(a.get("aid"), path, rec, "aid"))
            aids = [_aid(a.get("aid"), path, rec, "aid") for a in ordered]
            if len(set(aids)) != len(aids):
                raise SourceError(f"{where(path, None, 'aid')}, {rec}: repeated option ids")
            ra = _aid(q.get("ra"), path, rec, "ra")
            if ra not in aids:
                raise SourceError(f"{where(path, None, 'ra')}, {rec}: right answer {ra} is not among the option ids "
                                  f"{', '.join(map(str, aids))}")
            options = [a["atext"] for a in ordered]
            if writer.clean:
                qtext, options = " ".join(qtext.split()), [" ".join(o.split()) for o in options]
            letter = LETTERS[aids.index(ra)]
            qid = str(q.get("qid", k)).strip() or str(k)
            out.add(official_input(qtext, options, "es"), official_answer(options, [letter], "es"), id=f"{exam_key}-{qid}")


def convert(data_dir: Path, writer: TaskWriter) -> None:
    for split, name in FILES.items():
        if (data_dir / name).is_file():
            _write(writer, split, data_dir / name)


CONVERTER = Converter(
    name="headqa",
    source="HeadQA",
    access="public",
    raw_files=(
        RawFile("train_HEAD.json", f"HEAD-QA Spanish training questions ({HOMEPAGE}, ES_HEAD download)"),
        RawFile("dev_HEAD.json", f"HEAD-QA Spanish development questions (-> validation) ({HOMEPAGE})", required=False),
        RawFile("test_HEAD.json", f"HEAD-QA Spanish test questions (2,742) ({HOMEPAGE})"),
    ),
    task_ids=(TASK,),
    convert=convert,
    version="2",
    clean_note="whitespace runs (line breaks, tabs) inside questions and options collapsed to one space",
    notes="task129 only (Spanish MCQA). task22-25 (HeadQA via SuperNI) are produced by the superni converter.",
)
