"""IgakuQA (Japanese national medical licensing exams 2018-2022) -> task59 (MedS-Bench MCQA, ja).

Raw files, as github.com/jungokasai/IgakuQA distributes them in its ``data/`` folder: one
sub-folder per exam year (``2018/`` ... ``2022/``) with one JSON-lines file per exam block,
``<exam>-<block>.jsonl`` (e.g. ``2022/116-A.jsonl``, blocks A-F; the ``*_metadata.jsonl`` and
``*_translate.jsonl`` files beside them are not read). Each line holds ``problem_id``
(``116A1``), ``problem_text``, ``choices`` (a list of option texts, usually five),
``answer`` (a list of lower-case letters; two or three for "select two/three" questions),
``text_only`` (false when the question refers to an image that the data does not contain) and
``points``. Pass IgakuQA's ``data/`` folder as ``--data-dir``.

Splits: IgakuQA has no train/test split. The most recent exam (2022, the 116th) is the test
split, 2018-2021 are training (split by exam year, so no exam is shared). Not confirmed: which
questions MMedBench's Japanese test part (199 questions, used by MedS-Bench for task59) holds -
the official MedS-Ins preparation read MMedBench's Japanese files instead of IgakuQA itself; the
test written here is every usable 2022 question, not those 199.

Skipped (logged with counts): questions with ``text_only`` false (their image is missing) and
questions without choices (numeric-entry questions).

Format: that of the official generator ``data_preparing/igakuqa_mcqa.py`` (and of the MedS-Bench
file ``MCQA/task59_igakuqa_question_answering.jsonl``): ``質問: <question>\\nオプション: A: <a>\\tB:
<b>\\t...`` -> ``正しい答えは C: <c> です``, several correct options joined by ``", "`` (``正しい答えは
A: <a>, C: <c> です``). Texts as the files hold them; ``--clean`` strips them. The official generator
read MMedBench's Japanese file, not IgakuQA's (see above). The official MCQA scorer finds no letter
in a Japanese answer (``_mcqa.py``); and it compares only the first character among a-d, so
multi-answer questions are judged by their first correct letter and a question whose (first)
answer is E can never be scored correct (documented scorer defect; most IgakuQA questions have
five options).
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from medsins_datasets.registry.source_datasets import source_dataset
from medsins_datasets.sources.converters import Converter, RawFile, TaskWriter
from medsins_datasets.errors import SourceError

from ._mcqa import answer_letters, official_answer, official_input
from ._rawfiles import iter_jsonl, text_field, where

logger = logging.getLogger(__name__)

TASK = "task59"
HOMEPAGE = source_dataset("IgakuQA").homepage  # data/sources.csv
TEST_YEARS = ("2022",)
BLOCK_FILE = re.compile(r"^\d{3}-[A-Z]\.jsonl$")
DEFINITIONS = {TASK: "Given a question and a list of options, select the correct answer(s) from the options directly."}


def exam_files(data_dir: Path) -> dict[str, list[Path]]:
    """``{"train": [...], "test": [...]}``: the exam-block files by year folder, sorted."""
    files = sorted(p for p in data_dir.glob("*/*.jsonl") if p.is_file() and BLOCK_FILE.match(p.name))
    split = {"train": [p for p in files if p.parent.name not in TEST_YEARS],
             "test": [p for p in files if p.parent.name in TEST_YEARS]}
    for name, paths in split.items():
        if not paths:
            raise SourceError(f"IgakuQA: no {name} exam files (<year>/<exam>-<block>.jsonl; test year "
                              f"{', '.join(TEST_YEARS)}) in {data_dir}; pass the data/ folder of {HOMEPAGE}")
    return split


def convert(data_dir: Path, writer: TaskWriter) -> None:
    for split, paths in exam_files(data_dir).items():
        out = writer.open(TASK, split, definition=DEFINITIONS[TASK])
        skipped = {"image": 0, "no choices": 0}
        for path in paths:
            for line, obj in iter_jsonl(path):
                question = text_field(obj, "problem_text", path, line)
                text_only = obj.get("text_only")
                if not isinstance(text_only, bool):
                    raise SourceError(f"{where(path, line, 'text_only')}: expected true or false")
                choices = obj.get("choices")
                if not isinstance(choices, list) or not all(isinstance(c, str) and c.strip() for c in choices):
                    raise SourceError(f"{where(path, line, 'choices')}: expected a list of non-empty option texts")
                if not text_only:
                    skipped["image"] += 1
                    continue
                if not choices:
                    skipped["no choices"] += 1
                    continue
                if len(choices) > 10:
                    raise SourceError(f"{where(path, line, 'choices')}: {len(choices)} options (at most 10 supported)")
                letters = answer_letters(obj.get("answer"), len(choices), path, line, "answer")
                pid = text_field(obj, "problem_id", path, line)
                if writer.clean:
                    choices = [c.strip() for c in choices]
                else:
                    question = obj["problem_text"]
                out.add(official_input(question, choices, "ja"), official_answer(choices, letters, "ja"), id=pid)
        logger.info("IgakuQA %s: skipped %d image question(s) and %d without choices",
                    split, skipped["image"], skipped["no choices"])


CONVERTER = Converter(
    name="igakuqa",
    source="IgakuQA",
    access="public",
    raw_files=(RawFile("*/[0-9][0-9][0-9]-[A-Z].jsonl", f"IgakuQA exam blocks <year>/<exam>-<block>.jsonl ({HOMEPAGE}, data/)"),),
    task_ids=(TASK,),
    convert=convert,
    version="2",
    clean_note="question and option texts stripped",
    notes="--data-dir is IgakuQA's data/ folder. Test = the 2022 exam, train = 2018-2021; image questions are skipped.",
)
