"""BioASQ Task B training set (registration required) -> task104, biomedical question
answering with the "ideal" (paragraph) answers.

Raw file: the Task B training file from participants-area.bioasq.org (e.g.
``training12b.json`` / ``BioASQ-training12b/training12b.json``): ``{"questions": [...]}``
with ``id``, ``body`` (the question), ``type`` and ``ideal_answer`` (a string or a list of
alternative answers written by experts).

Input: the question; outputs: every ideal answer (alternative references). Questions
without an ideal answer are skipped. All instances are training instances (task104 is not
in MedS-Bench). Access: BioASQ data needs a (free) registration and its terms of use.
"""

from __future__ import annotations

import re
from pathlib import Path

from medsins_datasets.registry.source_datasets import source_dataset
from medsins_datasets.sources.converters import Converter, RawFile, TaskWriter
from medsins_datasets.errors import SourceError

from ._rawfiles import load_json, where

TASK = "task104"
HOMEPAGE = source_dataset("BIOASQ").homepage  # data/sources.csv
DEFINITIONS = {TASK: "Answer the biomedical question below with a short paragraph that gives the key facts."}


def _release(p: Path) -> tuple[int, str]:
    m = re.search(r"(\d+)b", p.name)
    return (int(m.group(1)) if m else -1, str(p))


def convert(data_dir: Path, writer: TaskWriter) -> None:
    files = sorted(data_dir.glob("**/training*b*.json"), key=_release)
    assert files
    path = files[-1]  # the newest release
    data = load_json(path)
    questions = data.get("questions") if isinstance(data, dict) else None
    if not isinstance(questions, list):
        raise SourceError(f"{where(path)}: expected an object with a 'questions' list (BioASQ Task B training file)")
    out = writer.open(TASK, "train", definition=DEFINITIONS[TASK])
    for i, q in enumerate(questions):
        if not isinstance(q, dict):
            raise SourceError(f"{where(path)}: questions[{i}] is not an object")
        body = q.get("body")
        ideal = q.get("ideal_answer")
        ideal = [ideal] if isinstance(ideal, str) else ideal if isinstance(ideal, list) else []
        answers = list(dict.fromkeys(" ".join(a.split()) for a in ideal if isinstance(a, str) and a.strip()))
        if not isinstance(body, str) or not body.strip() or not answers:
            continue
        out.add(" ".join(body.split()), answers, id=str(q.get("id") or f"q{i}"))
    if out.count == 0:
        raise SourceError(f"{where(path)}: no question with an ideal answer")


CONVERTER = Converter(
    name="bioasq",
    source="BIOASQ",
    access="unknown",
    raw_files=(RawFile("**/training*b*.json", "BioASQ Task B training file, e.g. training12b.json"),),
    task_ids=(TASK,),
    convert=convert,
    notes="Download after registering at bioasq.org; the newest training file found is used.",
)
