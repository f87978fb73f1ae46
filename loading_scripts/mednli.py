"""MedNLI (PhysioNet, credentialed) -> the four MedNLI tasks, task41-task44.

Raw files, as PhysioNet distributes them (``mednli/1.0.0/``): ``mli_train_v1.jsonl``,
``mli_dev_v1.jsonl`` and ``mli_test_v1.jsonl``, one JSON object per line with at least
``sentence1`` (premise), ``sentence2`` (hypothesis) and ``gold_label`` (entailment,
neutral or contradiction); ``pairID`` is used for instance ids when present.

Splits: train instances come from the train file only, validation instances from the
dev file, test instances from the test file (all four tasks; the builder exposes the
three splits). The official preparation used only the train file.

* task41 discriminative: ``Sentence1: <premise>\\n\\nSentence2: <hypothesis>`` ->
  ``Entailment`` / ``Neutral`` / ``Contradiction`` (the official layout; the metric
  looks for the gold label word in the answer).
* task42 generative: premise -> its entailed hypothesis.
* task43 wrong-hypothesis generation: premise -> its contradicting hypothesis.
* task44 three-statement classification: a premise with its three hypotheses in a
  seeded random order -> ``SentenceN is <label>.`` per line. Hypotheses are grouped by
  premise text; a premise without exactly one hypothesis per label is skipped. (The
  official script took every three consecutive lines as one group.)

Differences from the official preparation, on purpose: texts are only stripped (the
official ``str.capitalize()`` lower-cased every character after the first, e.g. "BP"
became "Bp"), and a full stop is added to generated hypotheses only when missing.
"""

from __future__ import annotations

import random
from pathlib import Path

from medsins_datasets.convert import Converter, RawFile, TaskWriter
from medsins_datasets.errors import SourceError

from ._rawfiles import Outputs, content_free_errors, end_with_period, iter_jsonl, text_field, where

LABELS = ("entailment", "neutral", "contradiction")

FILES = {"train": "mli_train_v1.jsonl", "validation": "mli_dev_v1.jsonl", "test": "mli_test_v1.jsonl"}

#: Our own wording, used when no official definitions file is given.
DEFINITIONS = {
    "task41": (
        "You are given a premise from a patient's clinical record (Sentence1) and a hypothesis (Sentence2). "
        "Decide whether the premise entails the hypothesis, contradicts it, or neither. Answer with one word: "
        "Entailment, Contradiction or Neutral."
    ),
    "task42": (
        "You are given a premise from a patient's clinical record. Write one hypothesis statement that "
        "certainly follows from the premise."
    ),
    "task43": (
        "You are given a premise from a patient's clinical record. Write one hypothesis statement that is "
        "clearly false given the premise, i.e. that the premise contradicts."
    ),
    "task44": (
        "You are given a premise from a patient's clinical record and three numbered statements. For each "
        "statement, say whether the premise entails it, contradicts it, or is neutral towards it, one line per "
        "statement in the form 'SentenceN is <entailment|contradiction|neutral>.'"
    ),
}


def _read(path: Path, split: str) -> list[dict]:
    """The records of one MedNLI file: id, premise, hypothesis, label (validated)."""
    records: list[dict] = []
    for line, obj in iter_jsonl(path):
        label = text_field(obj, "gold_label", path, line).lower()
        if label not in LABELS:
            raise SourceError(f"{where(path, line, 'gold_label')}: must be one of {', '.join(LABELS)}")
        pair = obj.get("pairID")
        rid = str(pair).strip() if isinstance(pair, (str, int)) and str(pair).strip() else f"{split}-{line}"
        records.append({
            "id": rid,
            "line": line,
            "premise": text_field(obj, "sentence1", path, line),
            "hypothesis": text_field(obj, "sentence2", path, line),
            "label": label,
        })
    if not records:
        raise SourceError(f"{where(path)}: no records (expected one JSON object per line)")
    return records


def _write_split(out: Outputs, records: list[dict], split: str) -> None:
    for r in records:
        out.add("task41", split, f"Sentence1: {r['premise']}\n\nSentence2: {r['hypothesis']}",
                r["label"].capitalize(), id=r["id"])
    for r in records:
        if r["label"] == "entailment":
            out.add("task42", split, r["premise"], end_with_period(r["hypothesis"]), id=r["id"])
    for r in records:
        if r["label"] == "contradiction":
            out.add("task43", split, r["premise"], end_with_period(r["hypothesis"]), id=r["id"])
    groups: dict[str, list[dict]] = {}
    for r in records:
        groups.setdefault(r["premise"], []).append(r)
    for k, (premise, members) in enumerate(groups.items()):
        if sorted(m["label"] for m in members) != sorted(LABELS):
            continue
        order = list(members)
        random.Random(f"mednli-task44-{split}-{members[0]['id']}").shuffle(order)
        lines = [f"Statement: {premise}"]
        lines += [f"Sentence{i}: {end_with_period(m['hypothesis'])}" for i, m in enumerate(order, 1)]
        answer = "\n".join(f"Sentence{i} is {m['label']}." for i, m in enumerate(order, 1))
        out.add("task44", split, "\n".join(lines), answer, id=f"{split}-premise{k}")


@content_free_errors("MedNLI")
def convert(data_dir: Path, writer: TaskWriter) -> None:
    out = Outputs(writer, DEFINITIONS)
    for split, name in FILES.items():
        path = data_dir / name
        if not path.is_file():
            continue  # the dev file is optional; train and test are checked before convert runs
        _write_split(out, _read(path, split), split)
    out.report_empty("MedNLI", DEFINITIONS, [s for s, n in FILES.items() if (data_dir / n).is_file()])


CONVERTER = Converter(
    name="mednli",
    source="MedNLI",
    homepage="https://physionet.org/content/mednli/",
    license="PhysioNet Credentialed Health Data License 1.5.0",
    access="credentialed",
    raw_files=(
        RawFile("mli_train_v1.jsonl", "MedNLI training pairs (JSON lines: sentence1, sentence2, gold_label)"),
        RawFile("mli_dev_v1.jsonl", "MedNLI development pairs (-> validation split)", required=False),
        RawFile("mli_test_v1.jsonl", "MedNLI test pairs (-> test split)"),
    ),
    task_ids=("task41", "task42", "task43", "task44"),
    convert=convert,
    notes="Credentialed: needs your own PhysioNet copy; output is marked credentialed and never pushed publicly.",
)
