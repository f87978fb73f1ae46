"""MASH-QA (Multiple Answer Spans Healthcare QA, WebMD) -> task101 (consumer health question
answering).

Raw files, as the authors distribute them (github.com/mingzhu0527/MASHQA links a Google Drive
archive; the repository's ``scripts/prepro_sentqa.sh`` reads ``data/mash_qa/``): one JSON file
per split in SQuAD v2 layout, ``train_webmd_squad_v2_full.json``,
``val_webmd_squad_v2_full.json`` and ``test_webmd_squad_v2_full.json`` (the archive also holds
``*_webmd_squad_v2_consec.json``, the variant whose answers are consecutive sentences; either
variant is accepted, ``full`` is preferred when both are present). Each file is
``{"data": [{"title", "paragraphs": [{"context", "sent_starts": [[start, length], ...],
"qas": [{"id", "question", "is_impossible", "answers": [{"text", "answer_start",
"answer_starts": [[start, length], ...]}]}]}]}]}``: one answer per question, whose ``text`` is
the whole (possibly multi-span) answer and ``answer_starts`` its sentence spans in the context.

task101's definition asks to answer a question "with comprehensive details" without a passage,
so the input is the question and the output the annotated answer text (whitespace collapsed).
When ``text`` is empty but ``answer_starts`` is given, the answer is rebuilt from those
sentence spans of the context. Questions marked impossible or without an answer are skipped
(counted in the log).

Splits: the official ones - train file -> train, val file -> validation, test file -> test.
task101 is not in MedS-Bench. Instance ids are the question ids of the files.

Not confirmed: the exact file names of the archive's ``full`` variant (the repository's
scripts name only the ``consec`` files, ``train_``/``val_webmd_squad_v2_consec.json``); the
converter therefore accepts ``<split>_webmd_squad_v2_*.json``.
"""

from __future__ import annotations

import logging
from pathlib import Path

from medsins_datasets.registry.source_datasets import source_dataset
from medsins_datasets.sources.converters import Converter, RawFile, TaskWriter
from medsins_datasets.errors import SourceError

from ._rawfiles import first_match, iter_squad, where

logger = logging.getLogger(__name__)

TASK = "task101"
HOMEPAGE = source_dataset("MASHQA").homepage  # data/sources.csv
#: MedS-Ins split -> the file-name prefix of the MASH-QA split
SPLITS = {"train": "train", "validation": "val", "test": "test"}
VARIANTS = ("full", "consec")
DEFINITIONS = {TASK: "Answer the health question below thoroughly, giving all the relevant details."}


def split_file(data_dir: Path, prefix: str) -> Path | None:
    """The file of one split, the ``full`` variant preferred."""
    return first_match(data_dir, [f"{prefix}_webmd_squad_v2_{v}.json" for v in VARIANTS]
                       + [f"{prefix}_webmd_squad_v2_*.json"])


def _answer(qa: dict, context: str, path: Path, loc: str) -> str:
    answers = qa.get("answers")
    if not isinstance(answers, list):
        raise SourceError(f"{where(path, None, 'answers')}: {loc} has no 'answers' list")
    for a in answers:
        if not isinstance(a, dict):
            raise SourceError(f"{where(path, None, 'answers')}: {loc} has an answer that is not an object")
        text = a.get("text")
        if text is not None and not isinstance(text, str):
            raise SourceError(f"{where(path, None, 'text')}: {loc} has an answer text that is not a string")
        text = " ".join((text or "").split())
        if not text and isinstance(a.get("answer_starts"), list):
            spans = []
            for s in a["answer_starts"]:
                if (not isinstance(s, (list, tuple)) or len(s) != 2 or not all(isinstance(x, int) for x in s)
                        or s[0] < 0 or s[1] < 0 or s[0] + s[1] > len(context)):
                    raise SourceError(f"{where(path, None, 'answer_starts')}: {loc} has a span that is not "
                                      "[start, length] inside the context")
                spans.append(context[s[0]:s[0] + s[1]])
            text = " ".join(" ".join(spans).split())
        if text:
            return text
    return ""


def _write(writer: TaskWriter, split: str, path: Path) -> None:
    out = writer.open(TASK, split, definition=DEFINITIONS[TASK])
    skipped = 0
    for loc, (a, p, q), qa, question, context in iter_squad(path):
        answer = "" if qa.get("is_impossible") else _answer(qa, context, path, loc)
        if not answer:
            skipped += 1
            continue
        qid = qa.get("id")
        out.add(" ".join(question.split()), answer, id=str(qid) if qid not in (None, "") else f"{split}-{a}-{p}-{q}")
    if skipped:
        logger.warning("MASH-QA: %s: %d question(s) without an answer skipped", path.name, skipped)


def convert(data_dir: Path, writer: TaskWriter) -> None:
    for split, prefix in SPLITS.items():
        path = split_file(data_dir, prefix)
        if path is not None:
            _write(writer, split, path)


CONVERTER = Converter(
    name="mashqa",
    source="MASHQA",
    access="public",
    raw_files=(
        RawFile("train_webmd_squad_v2_*.json", f"MASH-QA training split, SQuAD v2 layout ({HOMEPAGE})"),
        RawFile("val_webmd_squad_v2_*.json", "MASH-QA validation split (-> validation)", required=False),
        RawFile("test_webmd_squad_v2_*.json", "MASH-QA test split (-> test)", required=False),
    ),
    task_ids=(TASK,),
    convert=convert,
    notes="The full-answer variant (*_webmd_squad_v2_full.json) is preferred over *_consec.json.",
)
