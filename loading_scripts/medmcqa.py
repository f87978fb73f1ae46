"""MedMCQA -> task122 (MedS-Bench MedMCQA test, test-only), task64 (MCQA, training) and task63
(MCQA with the explanation as chain of thought, training).

Raw files (both optional, at least one needed):

* ``medmcqa.jsonl`` of github.com/aistairc/medLLM_QA_benchmark - the 4,183 questions of
  MedMCQA's public dev split (its test answers are not public; MedS-Bench calls this set its
  test split, 4,183 questions), one per line with ``problem_id``, ``problem_text``, ``choices``
  (A-D) and ``answer`` (a list with the gold letter) -> task122 (test).
* ``train.json`` of MedMCQA's original release (medmcqa.github.io / github.com/medmcqa/medmcqa,
  the data download): despite its name JSON lines, one question per line with ``id``,
  ``question``, ``opa``, ``opb``, ``opc``, ``opd``, ``cop``, ``choice_type``, ``exp``,
  ``subject_name`` and ``topic_name`` (182,822 questions) -> task64 and task63 (train).
  ``cop`` is 1-based in this release (1 = ``opa`` ... 4 = ``opd``; the official training code
  subtracts 1); the Hugging Face copy (``openlifescienceai/medmcqa``) stores it 0-based. Only
  the original 1-based file is supported: a ``cop`` of 0 is reported as an error (it signals
  the 0-based copy, whose other values would silently shift by one option).

Splits: task122 is the dev split (the only test here); task63/64 come from ``train.json`` only,
so no test question reaches training. task63 is written only for questions with a non-empty
``exp`` (questions without one are counted in the log); task64 for every question.

Formats (``_mcqa.py``): input = the question and ``A. ...``-``D. ...`` lines; task64/task122
output = ``<letter>. <option text>``; task63 output = ``<explanation>\\nAnswer: <letter>. <option
text>`` (reasoning first, the choice on a last line that is easy to find).
"""

from __future__ import annotations

import logging
from pathlib import Path

from medsins_datasets.sources.converters import Converter, RawFile, TaskWriter
from medsins_datasets.errors import SourceError

from ._mcqa import mcqa_answer, mcqa_input, write_mcqa_jsonl
from ._rawfiles import iter_jsonl, text_field, where

logger = logging.getLogger(__name__)

HOMEPAGE = "https://github.com/aistairc/medLLM_QA_benchmark (original: https://medmcqa.github.io/)"
TEST_FILE, TRAIN_FILE = "medmcqa.jsonl", "train.json"
TASK, MCQA, COT = "task122", "task64", "task63"
OPTION_FIELDS = ("opa", "opb", "opc", "opd")
DEFINITIONS = {
    TASK: "Given a question and a list of options, select the correct answer from the options directly.",
    MCQA: "Given a question and a list of options, select the correct answer from the options directly.",
    COT: ("Answer the multiple-choice medical question as a doctor would: first explain your reasoning step by step, "
          "then give the chosen option on a final line starting with \"Answer:\"."),
}


def gold_index(obj: dict, path: Path, line: int) -> int:
    """The 0-based gold option of an original-release record (``cop`` 1-4)."""
    cop = obj.get("cop")
    if isinstance(cop, str) and cop.strip().isdigit():
        cop = int(cop)
    if isinstance(cop, bool) or not isinstance(cop, int):
        raise SourceError(f"{where(path, line, 'cop')}: expected the correct option number 1-4")
    if cop == 0:
        raise SourceError(f"{where(path, line, 'cop')}: 0 is not a 1-based option number - this looks like the 0-based "
                          "Hugging Face copy; use train.json of the original MedMCQA release")
    if not 1 <= cop <= 4:
        raise SourceError(f"{where(path, line, 'cop')}: {cop} is not an option number 1-4")
    return cop - 1


def write_train(writer: TaskWriter, path: Path) -> None:
    mcqa = writer.open(MCQA, "train", definition=DEFINITIONS[MCQA])
    cot = writer.open(COT, "train", definition=DEFINITIONS[COT])
    seen: set[str] = set()
    no_exp = 0
    for line, obj in iter_jsonl(path):
        question = text_field(obj, "question", path, line)
        options = [text_field(obj, f, path, line) for f in OPTION_FIELDS]
        answer = mcqa_answer(options, ["ABCD"[gold_index(obj, path, line)]])
        qid = text_field(obj, "id", path, line)
        if qid in seen:
            raise SourceError(f"{where(path, line, 'id')}: id {qid} was already used on an earlier line")
        seen.add(qid)
        text = mcqa_input(question, options)
        mcqa.add(text, answer, id=qid)
        exp = obj.get("exp")
        if exp is not None and not isinstance(exp, str):
            raise SourceError(f"{where(path, line, 'exp')}: not a string (a JSON {type(exp).__name__})")
        if exp and exp.strip():
            cot.add(text, f"{exp.strip()}\nAnswer: {answer}", id=qid)
        else:
            no_exp += 1
    if mcqa.count == 0:
        raise SourceError(f"{where(path)}: no questions (expected one JSON object per line)")
    logger.info("MedMCQA %s: %d question(s) without an explanation left out of %s", path.name, no_exp, COT)


def convert(data_dir: Path, writer: TaskWriter) -> None:
    test, train = data_dir / TEST_FILE, data_dir / TRAIN_FILE
    if not test.is_file() and not train.is_file():
        raise SourceError(f"MedMCQA: neither {TEST_FILE} (dev split as test, {HOMEPAGE}) nor {TRAIN_FILE} "
                          f"(original training file, https://medmcqa.github.io/) is in {data_dir}")
    if test.is_file():
        write_mcqa_jsonl(writer, TASK, "test", test, DEFINITIONS[TASK], n_options=4, layout="lines")
    if train.is_file():
        write_train(writer, train)


CONVERTER = Converter(
    name="medmcqa",
    source="MedMCQA",
    access="public",
    raw_files=(
        RawFile(TEST_FILE, f"MedMCQA dev split (4,183 questions) as JSON lines -> task122 ({HOMEPAGE})", required=False),
        RawFile(TRAIN_FILE, "MedMCQA original train.json (JSON lines, cop 1-based) -> task63/task64 "
                            "(https://medmcqa.github.io/)", required=False),
    ),
    task_ids=(TASK, MCQA, COT),
    convert=convert,
    version="2",
    clean_note="task122 question and option texts stripped",
    notes="task122 from medmcqa.jsonl; task63/task64 from the original train.json (cop 1-based). Either file may be absent.",
)
