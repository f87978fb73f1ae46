"""MEDIQA-AnS (question-driven answer summarization) -> task102 (consumer health question
answering).

Raw file, as the authors distribute it (osf.io/9d3tf, ``summarization_datasets/``):
``question_driven_answer_summarization_primary_dataset.json`` - one JSON object keyed by
question id (``"1"``, ``"2"``, ... 156 consumer health questions), each
``{"question", "multi_abs_summ", "multi_ext_summ", "answers": {"<qid>_Answer<k>":
{"section", "article", "url", "rating", "answer_abs_summ", "answer_ext_summ"}}}``:
``multi_abs_summ`` / ``multi_ext_summ`` are the expert-written abstractive and extractive
summaries of all the answers of the question, i.e. complete reference answers to it.

task102's definition asks to answer a question "with comprehensive details" without a
passage, so the input is the question and the accepted outputs are the question's
multi-document abstractive and extractive summaries (whitespace collapsed, in that order, a
duplicate kept once). Questions with neither summary are skipped (counted in the log).

Split: the dataset has no training split (it was released as a test collection); task102 is
not in MedS-Bench and all instances are training instances. Instance ids are the question ids.
The derived ``section2answer_*``/``page2answer_*`` files of the authors' code repository are
not read.
"""

from __future__ import annotations

import logging
from pathlib import Path

from medsins_datasets.registry.source_datasets import source_dataset
from medsins_datasets.sources.converters import Converter, RawFile, TaskWriter
from medsins_datasets.errors import SourceError

from ._rawfiles import load_json, where

logger = logging.getLogger(__name__)

TASK = "task102"
HOMEPAGE = source_dataset("MEDIQA-AnS").homepage  # data/sources.csv
FILE = "question_driven_answer_summarization_primary_dataset.json"
SUMMARIES = ("multi_abs_summ", "multi_ext_summ")
DEFINITIONS = {TASK: "Answer the consumer's health question below completely and in detail."}


def convert(data_dir: Path, writer: TaskWriter) -> None:
    path = data_dir / FILE
    data = load_json(path)
    if not isinstance(data, dict) or not data:
        raise SourceError(f"{where(path)}: expected a non-empty JSON object keyed by question id")
    out = writer.open(TASK, "train", definition=DEFINITIONS[TASK])
    skipped = 0
    for qid, rec in data.items():
        loc = f"question {qid}"
        if not isinstance(rec, dict):
            raise SourceError(f"{where(path)}, {loc}: not an object")
        question = rec.get("question")
        if not isinstance(question, str) or not question.strip():
            raise SourceError(f"{where(path, None, 'question')}, {loc}: missing or empty")
        outputs: list[str] = []
        for key in SUMMARIES:
            v = rec.get(key)
            if v is None:
                continue
            if not isinstance(v, str):
                raise SourceError(f"{where(path, None, key)}, {loc}: not a string (a JSON {type(v).__name__})")
            v = " ".join(v.split())
            if v and v not in outputs:
                outputs.append(v)
        if not outputs:
            skipped += 1
            continue
        out.add(" ".join(question.split()), outputs, id=str(qid))
    if skipped:
        logger.warning("MEDIQA-AnS: %d question(s) without a summary skipped", skipped)
    if out.count == 0:
        raise SourceError(f"{where(path)}: no question with a summary")


CONVERTER = Converter(
    name="mediqa_ans",
    source="MEDIQA-AnS",
    access="public",
    raw_files=(RawFile(FILE, f"MEDIQA-AnS primary dataset, JSON keyed by question id ({HOMEPAGE})"),),
    task_ids=(TASK,),
    convert=convert,
)
