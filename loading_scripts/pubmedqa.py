"""PubMedQA PQA-L -> task123 (MedS-Bench PubMedQA test), task124 (yes/no/maybe training task)
and the SuperNI-style PubMedQA training tasks task11-task15.

Raw files, as github.com/pubmedqa/pubmedqa distributes them (``data/``):

* ``ori_pqal.json``: the 1,000 expert-labelled questions keyed by PubMed id, each with
  ``QUESTION``, ``CONTEXTS`` (abstract sections without the conclusion), ``LABELS`` (their
  section names), ``LONG_ANSWER`` (the conclusion) and ``final_decision`` (yes/no/maybe);
* ``test_ground_truth.json``: ``{pmid: answer}`` for the 500 questions of the official test
  split.

Splits: task123 is written from exactly the 500 official test ids with the answers of
``test_ground_truth.json``; every training task uses only the other 500 questions (the
official train/dev pool), so no test question (nor its abstract) reaches training data.
(The paper's appendix A.2 gives 1,000 PubMedQA test samples, i.e. all of PQA-L; task123 here
is the official 500-question test split, so that training on task124 stays clean.)

* task123 / task124: ``Context: <abstract>\\nQuestion: <question>`` -> ``yes`` / ``no`` / ``maybe``.
* task11: passage + conclusion -> the question; task13: passage -> the question.
* task12 (answer verification): passage, question and a candidate answer -> ``yes`` when the
  candidate is the question's own conclusion, ``no`` for the conclusion of another training
  question (one of each per question, the other drawn with a seeded RNG).
* task14 (objective classification): passage -> ``1`` when the abstract has an objective
  section (a LABELS entry OBJECTIVE(S), AIM(S), PURPOSE or GOAL), else ``0``. This is our
  reconstruction of SuperNI task848 from the section labels.
* task15: passage with question -> the conclusion (``LONG_ANSWER``).

The SuperNI tasks (task11-15) are also produced by the superni converter from SuperNI's own
files (SuperNI 845-849), which came from other PubMedQA subsets.
"""

from __future__ import annotations

import random
from pathlib import Path

from medsins_datasets.sources.converters import Converter, RawFile, TaskWriter
from medsins_datasets.errors import SourceError

from ._rawfiles import load_json, where

HOMEPAGE = "https://github.com/pubmedqa/pubmedqa (data/ori_pqal.json, data/test_ground_truth.json)"
DECISIONS = ("yes", "no", "maybe")
OBJECTIVE_LABELS = {"OBJECTIVE", "OBJECTIVES", "AIM", "AIMS", "PURPOSE", "GOAL", "GOALS"}

DEFINITIONS = {
    "task123": ("Read the context passage from a biomedical paper and answer the closed research question "
                "with yes, no or maybe."),
    "task124": ("Read the context passage from a biomedical paper and answer the closed research question "
                "with yes, no or maybe."),
    "task11": "Given a passage and the answer it supports, write the research question that the answer addresses.",
    "task12": ("Given a passage, a question and an answer, output 'yes' if the answer actually answers the question "
               "and 'no' if it does not."),
    "task13": "Given a passage from a biomedical abstract, write the research question it investigates.",
    "task14": ("Given a passage, output '1' if it states a definite objective/aim/goal and '0' if it does not."),
    "task15": "Given a passage with a question and its context, write the answer to the question.",
}


def _records(path: Path) -> dict[str, dict]:
    data = load_json(path)
    if not isinstance(data, dict) or not data:
        raise SourceError(f"{where(path)}: expected an object keyed by PubMed id (PubMedQA ori_pqal.json)")
    out: dict[str, dict] = {}
    for pmid, rec in data.items():
        loc = f"{where(path)}, record {pmid!r}"
        if not isinstance(rec, dict):
            raise SourceError(f"{loc}: not an object")
        for key in ("QUESTION", "LONG_ANSWER", "final_decision"):
            if not isinstance(rec.get(key), str) or not rec[key].strip():
                raise SourceError(f"{loc}, field {key!r}: missing or not a non-empty string")
        ctx = rec.get("CONTEXTS")
        if not isinstance(ctx, list) or not ctx or not all(isinstance(c, str) for c in ctx):
            raise SourceError(f"{loc}, field 'CONTEXTS': expected a non-empty list of strings")
        labels = rec.get("LABELS") if isinstance(rec.get("LABELS"), list) else []
        decision = rec["final_decision"].strip().lower()
        if decision not in DECISIONS:
            raise SourceError(f"{loc}, field 'final_decision': {decision!r} is not yes, no or maybe")
        out[str(pmid)] = {
            "question": " ".join(rec["QUESTION"].split()),
            "context": " ".join(" ".join(c.split()) for c in ctx),
            "labels": [str(x).upper() for x in labels],
            "long_answer": " ".join(rec["LONG_ANSWER"].split()),
            "decision": decision,
        }
    return out


def _test_answers(path: Path, records: dict[str, dict], pqal: Path) -> dict[str, str]:
    data = load_json(path)
    if not isinstance(data, dict) or not data:
        raise SourceError(f"{where(path)}: expected an object {{pmid: answer}} (PubMedQA test_ground_truth.json)")
    out: dict[str, str] = {}
    for pmid, ans in data.items():
        if not isinstance(ans, str) or ans.strip().lower() not in DECISIONS:
            raise SourceError(f"{where(path)}, record {pmid!r}: the answer is not yes, no or maybe")
        if str(pmid) not in records:
            raise SourceError(f"{where(path)}, record {pmid!r}: this test id is not in {pqal.name}")
        out[str(pmid)] = ans.strip().lower()
    return out


def _qa_input(r: dict) -> str:
    return f"Context: {r['context']}\nQuestion: {r['question']}"


def convert(data_dir: Path, writer: TaskWriter) -> None:
    pqal = data_dir / "ori_pqal.json"
    records = _records(pqal)
    gold = _test_answers(data_dir / "test_ground_truth.json", records, pqal)

    test = writer.open("task123", "test", definition=DEFINITIONS["task123"])
    for pmid, ans in gold.items():
        test.add(_qa_input(records[pmid]), ans, id=pmid)

    train_ids = [p for p in records if p not in gold]
    if not train_ids:
        raise SourceError(f"{where(pqal)}: every question is a test question; no training data left")
    streams = {t: writer.open(t, "train", definition=DEFINITIONS[t])
               for t in ("task124", "task11", "task12", "task13", "task14", "task15")}
    rng = random.Random("medsins-pubmedqa-task12")
    for pmid in train_ids:
        r = records[pmid]
        streams["task124"].add(_qa_input(r), r["decision"], id=pmid)
        streams["task11"].add(f"Passage: {r['context']}\nAnswer: {r['long_answer']}", r["question"], id=pmid)
        streams["task13"].add(f"Passage: {r['context']}", r["question"], id=pmid)
        has_objective = any(lab in OBJECTIVE_LABELS for lab in r["labels"])
        streams["task14"].add(f"Passage: {r['context']}", "1" if has_objective else "0", id=pmid)
        streams["task15"].add(f"Question: {r['question']}\nContext: {r['context']}", r["long_answer"], id=pmid)
        base = f"Passage: {r['context']}\nQuestion: {r['question']}\nAnswer: "
        streams["task12"].add(base + r["long_answer"], "yes", id=f"{pmid}-yes")
        if len(train_ids) > 1:
            other = pmid
            while other == pmid:
                other = rng.choice(train_ids)
            streams["task12"].add(base + records[other]["long_answer"], "no", id=f"{pmid}-no")


CONVERTER = Converter(
    name="pubmedqa",
    source="PubMedQA",
    access="public",
    raw_files=(
        RawFile("ori_pqal.json", f"PQA-L: 1,000 expert-labelled questions keyed by PubMed id ({HOMEPAGE})"),
        RawFile("test_ground_truth.json", f"the 500 ids of the official PQA-L test split with their answers ({HOMEPAGE})"),
    ),
    task_ids=("task123", "task124", "task11", "task12", "task13", "task14", "task15"),
    convert=convert,
    notes="task123 = the 500 official test questions; all training tasks use only the other 500.",
)
