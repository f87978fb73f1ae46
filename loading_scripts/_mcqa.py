"""Multiple-choice formatting shared by the MCQA converters (not a converter: leading underscore).

Benchmark layout (:func:`official_input` / :func:`official_answer`): the MCQA files of MedS-Bench
(task57-61, task129) hold ``<Question label>: <question>\\n<Options label>: A: <text>\\tB: <text>...``
-> ``<answer prefix> <letter>: <option text>``, with the labels and the prefix in the task's
language (:data:`OFFICIAL_LABELS`). Sources: the official generator
``data_preparing/igakuqa_mcqa.py`` (github.com/MAGIC-AI4Med/MedS-Ins; Japanese labels, options
joined by tabs, several answers joined by ``", "``), the MedS-Bench MCQA adapter of
github.com/HealthCoreBench/HealthCoreBench (``medsbench_mcqa.py``, which parses all 8,518
instances of the six files with that layout and quotes ``Question: ...\\nOptions: A: x\\tB: y\\t``
and ``The right answer is B: y``), and a public benchmark-summary markdown on GitHub (repository
not identified, see ``reference/official_layout.md`` 3.2) that quotes one instance of each file:
zh ``问题``/``选项``/``正确答案是``, ja ``質問``/``オプション``/``正しい答えは ... です``, fr
``Question``/``Options``/``Les bonnes réponses est``, ru ``Вопрос``/``Варианты``/``Правильные
ответ:``, es ``Pregunta``/``Opciones``/``La respuesta correcta es:``. Not verified: whether the
option list ends with a tab (HealthCoreBench's docstring shows one, the official generator joins
with tabs and adds none; none is written here) and the English labels of task57 beyond
HealthCoreBench's quote.

Scoring note: the official MCQA rule (``medsins_datasets.scoring.mcqa_correct``) removes only
the English "the right answer is" and compares the first character among a-d, so a localized gold
answer ("正确答案是 D: ...") reads as no letter at all: with the official rule every non-English
MCQA instance scores 0, gold answers included (a defect of the official evaluation, which the
published files share).

Training layout (:func:`mcqa_input` / :func:`mcqa_answer`, used by the MedMCQA training tasks
task63/64, whose official layout is not published): the question, then one option per line as
``A. <text>``; the answer is ``<letter>. <option text>``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from medsins_datasets.sources.converters import TaskWriter
from medsins_datasets.errors import SourceError

from ._rawfiles import iter_jsonl, text_field, where

LETTERS = "ABCDEFGHIJ"

#: language -> (question label, options label, answer prefix, answer suffix) of the official MCQA files
OFFICIAL_LABELS = {
    "en": ("Question", "Options", "The right answer is", ""),
    "zh": ("问题", "选项", "正确答案是", ""),
    "ja": ("質問", "オプション", "正しい答えは", " です"),
    "fr": ("Question", "Options", "Les bonnes réponses est", ""),
    "ru": ("Вопрос", "Варианты", "Правильные ответ:", ""),
    "es": ("Pregunta", "Opciones", "La respuesta correcta es:", ""),
}


def official_input(question: str, options: Sequence[str], lang: str) -> str:
    """``<Question label>: <question>\\n<Options label>: A: <text>\\tB: <text>...`` (texts as given)."""
    q_label, o_label = OFFICIAL_LABELS[lang][:2]
    return f"{q_label}: {question}\n{o_label}: " + "\t".join(f"{LETTERS[i]}: {o}" for i, o in enumerate(options))


def answer_body(options: Sequence[str], letters: Sequence[str]) -> str:
    """``B: <text>``, or ``A: <text>, C: <text>`` for several correct options (official layout)."""
    return ", ".join(f"{x}: {options[LETTERS.index(x)]}" for x in letters)


def official_answer(options: Sequence[str], letters: Sequence[str], lang: str) -> str:
    """``<answer prefix> B: <text><suffix>`` in the task's language (see :data:`OFFICIAL_LABELS`)."""
    _, _, prefix, suffix = OFFICIAL_LABELS[lang]
    return f"{prefix} {answer_body(options, letters)}{suffix}"


def mcqa_input(question: str, options: Sequence[str]) -> str:
    """``question`` followed by ``A. ...`` lines."""
    return "\n".join([question.strip(), *(f"{LETTERS[i]}. {o.strip()}" for i, o in enumerate(options))])


def mcqa_answer(options: Sequence[str], letters: Sequence[str]) -> str:
    """``B. text`` for one correct option, ``B, D. text B; text D`` for several (FrenchMedMCQA)."""
    idx = [LETTERS.index(x) for x in letters]
    return f"{', '.join(LETTERS[i] for i in idx)}. {'; '.join(options[i].strip() for i in idx)}"


def answer_letters(raw: object, n_options: int, path: Path, line: int | None, field: str) -> list[str]:
    """Validate gold letters (``"b"``, ``["a", "c"]``) against the number of options; upper-cased."""
    vals = [raw] if isinstance(raw, str) else raw if isinstance(raw, list) else None
    if not vals or not all(isinstance(v, str) and len(v.strip()) == 1 for v in vals):
        raise SourceError(f"{where(path, line, field)}: expected an option letter or a list of option letters")
    letters = [v.strip().upper() for v in vals]
    bad = [x for x in letters if x not in LETTERS[:n_options]]
    if bad:
        raise SourceError(f"{where(path, line, field)}: answer {', '.join(bad)} is not among the "
                          f"{n_options} options ({LETTERS[0]}-{LETTERS[n_options - 1]})")
    return sorted(dict.fromkeys(letters))


def write_mcqa_jsonl(writer: TaskWriter, task_id: str, split: str, path: Path, definition: str, *, n_options: int,
                     lang: str = "en", layout: str = "official") -> int:
    """One MCQA task split from a JSON-lines file with ``problem_id``, ``problem_text``,
    ``choices`` and ``answer`` (the medLLM_QA_benchmark layout); returns the count.

    ``layout``: ``"official"`` (:func:`official_input` in ``lang``), ``"lines"`` (the MedMCQA test
    layout ``Question: ...\\nOptions:\\nA. ...`` -> ``The right answer is A: ...``). Texts are written
    as the file holds them; ``writer.clean`` strips them."""
    out = writer.open(task_id, split, definition=definition)
    for line, obj in iter_jsonl(path):
        text_field(obj, "problem_text", path, line)  # validated: present, a non-empty string
        question = obj["problem_text"].strip() if writer.clean else obj["problem_text"]
        choices = obj.get("choices")
        if not isinstance(choices, list) or len(choices) != n_options or not all(
                isinstance(c, str) and c.strip() for c in choices):
            raise SourceError(f"{where(path, line, 'choices')}: expected a list of {n_options} non-empty option texts")
        if writer.clean:
            choices = [c.strip() for c in choices]
        letters = answer_letters(obj.get("answer"), n_options, path, line, "answer")
        if len(letters) != 1:
            raise SourceError(f"{where(path, line, 'answer')}: expected exactly one gold letter, got {len(letters)}")
        pid = obj.get("problem_id")
        iid = str(pid) if isinstance(pid, (str, int)) and str(pid).strip() else f"{path.stem}-{line}"
        if layout == "lines":
            text = "Question: " + question + "\nOptions:\n" + "\n".join(f"{LETTERS[i]}. {c}" for i, c in enumerate(choices))
            answer = f"{OFFICIAL_LABELS['en'][2]} {answer_body(choices, letters)}"
        else:
            text, answer = official_input(question, choices, lang), official_answer(choices, letters, lang)
        out.add(text, answer, id=iid)
    if out.count == 0:
        raise SourceError(f"{where(path)}: no questions (expected one JSON object per line)")
    return out.count
