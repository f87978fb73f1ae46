"""MedQA (USMLE English and Chinese mainland, 4-option) test sets -> task57 (MedQA) and task58
(MedQA Chinese, the Chinese part of MMedBench).

Raw files: the JSON-lines test sets of github.com/aistairc/medLLM_QA_benchmark
(``medqa_en_4op.jsonl``, 1,273 questions; ``medqa_zh_4op.jsonl``, 3,426 questions - the
paper's MedS-Bench test sizes), one question per line with ``problem_id``, ``problem_text``,
``choices`` (the option texts, A-D in order) and ``answer`` (a list with the gold letter).

Only test instances are written: these files are the official test splits, and training
instances must never be made from them (MedQA's train files are not read by this converter).
Format: the layout of the MedS-Bench MCQA files (``_mcqa.py``): task57 ``Question: <q>\\nOptions:
A: <a>\\tB: <b>\\tC: <c>\\tD: <d>`` -> ``The right answer is B: <b>``; task58 the same with the
Chinese labels ``问题`` / ``选项`` / ``正确答案是``. Texts are written as the files hold them
(MedQA's English vignettes keep their line breaks); ``--clean`` strips them. No official
preparation script for these tasks is published.
"""

from __future__ import annotations

from pathlib import Path

from medsins_datasets.sources.converters import Converter, RawFile, TaskWriter

from ._mcqa import write_mcqa_jsonl

HOMEPAGE = "https://github.com/aistairc/medLLM_QA_benchmark (original: https://github.com/jind11/MedQA)"
FILES = {"task57": "medqa_en_4op.jsonl", "task58": "medqa_zh_4op.jsonl"}
LANGS = {"task57": "en", "task58": "zh"}
DEFINITIONS = {
    "task57": "Given a question and a list of options, select the correct answer from the options directly.",
    "task58": "Given a question and a list of options, select the correct answer from the options directly.",
}


def convert(data_dir: Path, writer: TaskWriter) -> None:
    for task, name in FILES.items():
        write_mcqa_jsonl(writer, task, "test", data_dir / name, DEFINITIONS[task], n_options=4, lang=LANGS[task])


CONVERTER = Converter(
    name="medqa",
    source="MedQA",
    access="public",
    raw_files=(
        RawFile(FILES["task57"], f"MedQA USMLE 4-option test set, JSON lines ({HOMEPAGE})"),
        RawFile(FILES["task58"], f"MedQA Chinese (mainland) 4-option test set, JSON lines ({HOMEPAGE})"),
    ),
    task_ids=tuple(FILES),
    convert=convert,
    version="2",
    notes="Test splits only (the staged files are the official test sets).",
    clean_note="question and option texts stripped",
)
