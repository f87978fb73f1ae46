"""MedNLI (PhysioNet, credentialed) -> the four MedNLI tasks, task41-task44.

Raw files, as PhysioNet distributes them (``mednli/1.0.0/``): ``mli_train_v1.jsonl``,
``mli_dev_v1.jsonl`` and ``mli_test_v1.jsonl``, one JSON object per line with at least
``sentence1`` (premise), ``sentence2`` (hypothesis) and ``gold_label`` (entailment,
neutral or contradiction); ``pairID`` is used for instance ids when present.

Splits: train instances come from the train file only, validation instances from the
dev file, test instances from the test file (all four tasks; the builder exposes the
three splits). The official preparation used only the train file.

Instances (default) are those of the official script
(``data_preparing/mednli_textual_entailment_generator.py``), text transformations included:

* task41 discriminative: ``Sentence1: <premise>\\n\\nSentence2: <hypothesis>`` (texts as the
  file holds them) -> ``Entailment`` / ``Neutral`` / ``Contradiction`` (``str.capitalize()`` of
  the label; the metric looks for the gold label word in the answer).
* task42 generative: premise -> its entailed hypothesis; task43 wrong-hypothesis generation:
  premise -> its contradicting hypothesis. Both texts ``strip().capitalize()``-d (which also
  lower-cases every character after the first: "BP 150/90" -> "bp 150/90") and the hypothesis
  followed by ``"."`` (even after its own full stop).
* task44 three-statement classification: ``Statement: <premise>`` and ``Sentence1: ...`` to
  ``Sentence3: ...`` lines (texts ``strip().capitalize()``-d, no full stop added) -> ``SentenceN
  is <label>.`` lines, each ended by a line break.

``--clean``: texts only stripped (letter case kept), a full stop added to generated hypotheses
(task42/43 outputs, task44 statements) only when missing, and no trailing line break in task44
answers.

Documented differences from the official script (bug fixes):

* task44 groups: the script took every three consecutive lines of the file as one group, so a
  group could mix hypotheses of different premises; here a group is three consecutive records
  of the same premise holding one hypothesis per label (the same groups when the file is laid
  out in premise triples), other records are left out;
* task44 order: the script shuffled each group's statements without a seed; here the order is
  a seeded shuffle (reproducible files).
"""

from __future__ import annotations

import random
from pathlib import Path

from medsins_datasets.sources.converters import Converter, RawFile, TaskWriter
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
            "raw_premise": obj["sentence1"],
            "raw_hypothesis": obj["sentence2"],
            "label": label,
        })
    if not records:
        raise SourceError(f"{where(path)}: no records (expected one JSON object per line)")
    return records


CLEAN_NOTE = ("texts only stripped (letter case kept, no str.capitalize()), a full stop added to generated "
              "hypotheses only when missing, no trailing line break in task44 answers")


def _text(value: str, clean: bool) -> str:
    """A premise / hypothesis as the official generative tasks write it (``strip().capitalize()``)."""
    return value.strip() if clean else value.strip().capitalize()


def _hypothesis(value: str, clean: bool) -> str:
    return end_with_period(value) if clean else value.strip().capitalize() + "."


def premise_triples(records: list[dict]) -> list[list[dict]]:
    """task44 groups: three consecutive records of one premise with one hypothesis per label."""
    groups: list[list[dict]] = []
    run: list[dict] = []
    for r in records + [None]:  # a sentinel closes the last run
        if r is not None and run and r["premise"] == run[0]["premise"]:
            run.append(r)
            continue
        for k in range(0, len(run) - 2, 3):
            triple = run[k:k + 3]
            if sorted(m["label"] for m in triple) == sorted(LABELS):
                groups.append(triple)
        run = [r] if r is not None else []
    return groups


def _write_split(out: Outputs, records: list[dict], split: str, clean: bool) -> None:
    for r in records:
        s1, s2 = (r["premise"], r["hypothesis"]) if clean else (r["raw_premise"], r["raw_hypothesis"])
        out.add("task41", split, f"Sentence1: {s1}\n\nSentence2: {s2}", r["label"].capitalize(), id=r["id"])
    for r in records:
        if r["label"] == "entailment":
            out.add("task42", split, _text(r["premise"], clean), _hypothesis(r["hypothesis"], clean), id=r["id"])
    for r in records:
        if r["label"] == "contradiction":
            out.add("task43", split, _text(r["premise"], clean), _hypothesis(r["hypothesis"], clean), id=r["id"])
    for k, members in enumerate(premise_triples(records)):
        order = list(members)
        random.Random(f"mednli-task44-{split}-{members[0]['id']}").shuffle(order)
        lines = [f"Statement: {_text(members[0]['premise'], clean)}"]
        if clean:
            lines += [f"Sentence{i}: {end_with_period(m['hypothesis'])}" for i, m in enumerate(order, 1)]
            answer = "\n".join(f"Sentence{i} is {m['label']}." for i, m in enumerate(order, 1))
        else:
            lines += [f"Sentence{i}: {_text(m['hypothesis'], clean)}" for i, m in enumerate(order, 1)]
            answer = "".join(f"Sentence{i} is {m['label']}.\n" for i, m in enumerate(order, 1))
        out.add("task44", split, "\n".join(lines), answer, id=f"{split}-premise{k}")


@content_free_errors("MedNLI")
def convert(data_dir: Path, writer: TaskWriter) -> None:
    out = Outputs(writer, DEFINITIONS)
    for split, name in FILES.items():
        path = data_dir / name
        if not path.is_file():
            continue  # the dev file is optional; train and test are checked before convert runs
        _write_split(out, _read(path, split), split, writer.clean)
    out.report_empty("MedNLI", DEFINITIONS, [s for s, n in FILES.items() if (data_dir / n).is_file()])


CONVERTER = Converter(
    name="mednli",
    source="MedNLI",
    access="credentialed",
    raw_files=(
        RawFile("mli_train_v1.jsonl", "MedNLI training pairs (JSON lines: sentence1, sentence2, gold_label)"),
        RawFile("mli_dev_v1.jsonl", "MedNLI development pairs (-> validation split)", required=False),
        RawFile("mli_test_v1.jsonl", "MedNLI test pairs (-> test split)"),
    ),
    task_ids=("task41", "task42", "task43", "task44"),
    convert=convert,
    version="2",
    clean_note=CLEAN_NOTE,
    notes="Credentialed: needs your own PhysioNet copy; output is marked credentialed and never pushed publicly.",
)
