"""MMedBench (multilingual medical MCQA with rationales) -> task51-56, the rationale tasks
(zh, en, fr, ja, ru, es; all six in MedS-Bench as "Rationale").

Raw files, as ``MMedBench.zip`` (huggingface.co/datasets/Henrychur/MMedBench) unpacks: two
folders ``Train/`` and ``Test/``, each with one JSON-lines file per language, named after it:
``Chinese.jsonl``, ``English.jsonl``, ``French.jsonl``, ``Japanese.jsonl``, ``Russian.jsonl``,
``Spanish.jsonl``. Each line holds ``question`` (string), ``options`` (an object ``{"A": ..., "B":
...}``, up to E), ``answer_idx`` (the correct letter(s), a string split by ``,``; a list of letters
is accepted too), ``rationale`` (string) and ``human_checked`` / ``human_check_passed``
(booleans). Pass the folder that holds ``Train/`` and ``Test/`` as ``--data-dir``. Fields as in
the dataset card and the MMedLM inference code; the files themselves were not inspected.

Splits: train from ``Train/<Language>.jsonl``, test from ``Test/<Language>.jsonl`` (MMedBench's
official split). All test questions are written (MedS-Bench sampled 50 per language from them);
MMedBench's own rationale score uses only rationales that passed the human check - that filter
is NOT applied here. A record with an empty rationale is an error.

Format: the layout of the MedS-Bench Rationale files (``Rationale/task5x_mmedbench_explanation_
<language>_test_only.jsonl``) as a public benchmark summary quotes one instance of each (see
``reference/official_layout.md`` 3.2; no official preparation script is published): input = the
MCQA layout of the language (``_mcqa.official_input``: ``问题: ...\\n选项: A: ...\\tB: ...``), a line
break and the answer sentence, output = the rationale. Answer sentences, as quoted: zh
``正确答案是 B: <text>。``, fr ``La bonne réponse est C: <text>.``, ja ``正しい答えは C: <text> です。``,
ru ``Правильный ответ: A: <text>.``, es ``La respuesta correcta es C: <text>.`` (a full stop is
appended even after an option's own one, as quoted); several correct options are joined by
``", "``. Not verified: the English file (the summary shows it re-formatted); written here as
``Question: ...\\nOptions: A: ...\\tB: ...\\nThe right answer is B: <text>.``, the English MCQA labels
with the same sentence pattern. Texts as the files hold them; ``--clean`` strips them.
"""

from __future__ import annotations

from pathlib import Path

from medsins_datasets.registry.source_datasets import source_dataset
from medsins_datasets.sources.converters import Converter, RawFile, TaskWriter
from medsins_datasets.errors import SourceError

from ._mcqa import LETTERS, answer_body, answer_letters, official_input
from ._rawfiles import iter_jsonl, text_field, where

HOMEPAGE = source_dataset("MMedBench").homepage  # data/sources.csv
#: task id -> language file stem (order of task51-56 per the official Rationale.py: zh en fr ja ru es)
TASKS = {"task51": "Chinese", "task52": "English", "task53": "French",
         "task54": "Japanese", "task55": "Russian", "task56": "Spanish"}
SPLITS = {"train": "Train", "test": "Test"}
#: task id -> language code of ``_mcqa.OFFICIAL_LABELS``
LANGS = {"task51": "zh", "task52": "en", "task53": "fr", "task54": "ja", "task55": "ru", "task56": "es"}
#: language -> (prefix, suffix) of the answer sentence that ends the input of the Rationale files
ANSWER_SENTENCE = {
    "zh": ("正确答案是 ", "。"),
    "en": ("The right answer is ", "."),  # inferred, see the module docstring
    "fr": ("La bonne réponse est ", "."),
    "ja": ("正しい答えは ", " です。"),
    "ru": ("Правильный ответ: ", "."),
    "es": ("La respuesta correcta es ", "."),
}
_DEF = "Given a multiple-choice question, its options and the correct answer, write an explanation of why that answer is correct."
DEFINITIONS = {t: _DEF for t in TASKS}


def read_options(obj: dict, path: Path, line: int, clean: bool = False) -> list[str]:
    """The option texts in letter order (stripped with ``clean``); the keys must be A, B, ... without gaps."""
    opts = obj.get("options")
    if not isinstance(opts, dict) or not opts:
        raise SourceError(f"{where(path, line, 'options')}: expected an object of option texts keyed A, B, ...")
    keys = sorted(opts)
    if keys != list(LETTERS[:len(keys)]):
        raise SourceError(f"{where(path, line, 'options')}: option keys {', '.join(map(str, keys))} are not A, B, ... in sequence")
    if not all(isinstance(opts[k], str) and opts[k].strip() for k in keys):
        raise SourceError(f"{where(path, line, 'options')}: an option text is empty or not a string")
    return [opts[k].strip() if clean else opts[k] for k in keys]


def gold_letters(obj: dict, n_options: int, path: Path, line: int) -> list[str]:
    raw = obj.get("answer_idx")
    if isinstance(raw, str):
        raw = [x for x in (p.strip() for p in raw.split(",")) if x]
    return answer_letters(raw, n_options, path, line, "answer_idx")


def convert(data_dir: Path, writer: TaskWriter) -> None:
    for split, folder in SPLITS.items():
        for task, lang in TASKS.items():
            path = data_dir / folder / f"{lang}.jsonl"
            out = writer.open(task, split, definition=DEFINITIONS[task])
            for line, obj in iter_jsonl(path):
                question = text_field(obj, "question", path, line)  # validated (non-blank), stripped
                options = read_options(obj, path, line, writer.clean)
                letters = gold_letters(obj, len(options), path, line)
                rationale = text_field(obj, "rationale", path, line)
                if not writer.clean:
                    question, rationale = obj["question"], obj["rationale"]
                lang = LANGS[task]
                prefix, suffix = ANSWER_SENTENCE[lang]
                text = f"{official_input(question, options, lang)}\n{prefix}{answer_body(options, letters)}{suffix}"
                out.add(text, rationale, id=f"{split}-{line}")
            if out.count == 0:
                raise SourceError(f"{where(path)}: no questions (expected one JSON object per line)")


CONVERTER = Converter(
    name="mmedbench",
    source="MMedBench",
    access="public",
    raw_files=tuple(
        RawFile(f"{folder}/{lang}.jsonl", f"MMedBench {folder.lower()} questions in {lang}, JSON lines (MMedBench.zip, {HOMEPAGE})")
        for folder in SPLITS.values() for lang in TASKS.values()
    ),
    task_ids=tuple(TASKS),
    convert=convert,
    version="2",
    clean_note="question, option and rationale texts stripped",
    notes="--data-dir is the unpacked MMedBench.zip folder (Train/, Test/). Rationale tasks only; the MCQA "
          "parts are produced from their original sources (medqa, igakuqa, frenchmedmcqa, rumedbench, headqa).",
)
