"""RuMedBench -> task61 (Russian medical QA; MMedBench's Russian part, 256 test questions, comes
from RuMedDaNet).

Raw files, as github.com/sb-ai-lab/MedBench distributes them (``data/``):
``RuMedDaNet/train_v1.jsonl``, ``dev_v1.jsonl`` and ``test_v1.jsonl``: one yes/no question per
line with ``pairID``, ``context``, ``question`` and ``answer`` (``да`` / ``нет``).

Splits: train from the train file, validation from the dev file, test from the test file
(256 questions, the size of MMedBench's Russian test). As in MMedBench, each question is a
two-option multiple-choice question, in the layout of the MedS-Bench file
``MCQA/task61_rumedbench_question_answering.jsonl`` (``_mcqa.py``): ``Вопрос: <question>\\nВарианты:
A: да\\tB: нет`` -> ``Правильные ответ: A: да`` (sic). The question is written WITHOUT its context
passage: the instance quoted from the official file (a RuMedDaNet test question, found in the
staged test file) has none, i.e. MMedBench kept only the question. Texts as the file holds them;
``--clean`` strips them. No official preparation script for this task is published.

Not converted: ``RuMedTest/private_test_v1.jsonl`` (the RuMedTest multiple-choice questions)
is distributed WITHOUT answers, so it cannot give test instances; RuMedBench's other parts
(RuMedNLI, RuMedNER, RuMedTop3, RuMedSymptomRec) serve no MedS-Ins task. MMedBench's Russian
rationales (task55) are not in RuMedBench.
"""

from __future__ import annotations

from pathlib import Path

from medsins_datasets.sources.converters import Converter, RawFile, TaskWriter
from medsins_datasets.errors import SourceError

from ._mcqa import official_answer, official_input
from ._rawfiles import iter_jsonl, text_field, where

TASK = "task61"
HOMEPAGE = "https://github.com/sb-ai-lab/MedBench (data/RuMedDaNet/)"
FILES = {"train": "RuMedDaNet/train_v1.jsonl", "validation": "RuMedDaNet/dev_v1.jsonl", "test": "RuMedDaNet/test_v1.jsonl"}
OPTIONS = ("да", "нет")
DEFINITIONS = {TASK: "Given a question and a list of options, select the correct answer from the options directly."}


def convert(data_dir: Path, writer: TaskWriter) -> None:
    for split, name in FILES.items():
        path = data_dir / name
        if not path.is_file():
            continue  # dev is optional; train and test are checked before convert runs
        out = writer.open(TASK, split, definition=DEFINITIONS[TASK])
        for line, obj in iter_jsonl(path):
            answer = text_field(obj, "answer", path, line).lower()
            if answer not in OPTIONS:
                raise SourceError(f"{where(path, line, 'answer')}: must be да or нет")
            question = text_field(obj, "question", path, line)  # validated, stripped
            if not writer.clean:
                question = obj["question"]
            pid = obj.get("pairID")
            out.add(official_input(question, OPTIONS, "ru"),
                    official_answer(OPTIONS, ["AB"[OPTIONS.index(answer)]], "ru"),
                    id=str(pid) if isinstance(pid, str) and pid else f"{split}-{line}")


CONVERTER = Converter(
    name="rumedbench",
    source="RuMedBench",
    access="public",
    raw_files=(
        RawFile(FILES["train"], f"RuMedDaNet training questions, JSON lines ({HOMEPAGE})"),
        RawFile(FILES["validation"], f"RuMedDaNet development questions (-> validation) ({HOMEPAGE})", required=False),
        RawFile(FILES["test"], f"RuMedDaNet test questions (256) ({HOMEPAGE})"),
    ),
    task_ids=(TASK,),
    convert=convert,
    version="2",
    clean_note="question text stripped",
    notes="task61 from RuMedDaNet; RuMedTest has no public answers and is not converted.",
)
