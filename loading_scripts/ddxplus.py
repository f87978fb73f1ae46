"""DDXPlus -> task130 (MedS-Bench Diagnosis: choose the pathology from a symptom dialogue).

Raw files, as the DDXPlus figshare releases distribute them (English release
figshare 22687585, original French release figshare 20043374; github.com/mila-iqia/ddxplus):

* ``release_train_patients.zip``, ``release_validate_patients.zip``,
  ``release_test_patients.zip``: each a zip archive holding one CSV file (named
  ``release_<split>_patients``, without extension) with one synthetic patient per row and the
  columns ``AGE``, ``DIFFERENTIAL_DIAGNOSIS``, ``SEX`` (``M``/``F``), ``PATHOLOGY``,
  ``EVIDENCES`` (a Python-style list of evidence codes, e.g.
  ``['E_48', 'E_54_@_V_161', 'E_56_@_4']``: a binary evidence is its name; a categorical or
  multi-choice evidence is ``<name>_@_<value>`` where the value is a value code ``V_..`` or a
  number) and ``INITIAL_EVIDENCE`` (the evidence the patient opened with). The extracted CSV
  (with or without a ``.csv`` extension) is accepted as well as the zip.
* ``release_evidences.json``: ``{evidence name: {"name", "code_question", "question_en",
  "question_fr", "is_antecedent", "data_type" (B/C/M), "possible-values", "default_value",
  "value_meaning": {value code: {"en", "fr"}}}}``.
* ``release_conditions.json``: ``{condition name: {"condition_name", "cond-name-eng",
  "cond-name-fr", "icd10-id", "symptoms", "antecedents", "severity"}}``.

The field names above were confirmed against public code that reads the releases; the
French release keys PATHOLOGY / conditions by French names, the English one by English
names - both are mapped to ``cond-name-eng``.

Input (the paper: "the model must make diagnostic decisions based on dialogues"): a
doctor-patient dialogue built from the record - first the patient's age and sex, then the
initial evidence, then every other evidence in file order, one ``Doctor:`` turn with the
evidence's ``question_en`` and one ``Patient:`` turn with the answer (``Yes.`` for a binary
evidence, the English value meanings, or the number, for the others; the values of a
multi-choice evidence are joined in one answer). Output: ``The diagnosis result is
<pathology>.`` with the lower-cased English pathology name (the official definition lists
the candidates in lower case; the official scorer strips that phrase and the full stop,
lower-cases and looks the name up in the prediction).

Splits: the official ones - train -> train, validate -> validation, test -> test (the paper
evaluates 50 random test patients; all are written here). The official definition is used
with ``--definitions``; otherwise a definition listing the 49 English condition names of
``release_conditions.json`` is written.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Iterator

from medsins_datasets.sources.converters import Converter, RawFile, TaskWriter
from medsins_datasets.errors import SourceError

from ._rawfiles import end_with_period, first_match, iter_csv, load_json, where

TASK = "task130"
DOWNLOAD = "https://github.com/mila-iqia/ddxplus (data: figshare.com/articles/dataset/DDXPlus_Dataset_English_/22687585)"
SPLITS = {"train": "train", "validation": "validate", "test": "test"}
COLUMNS = ("AGE", "SEX", "PATHOLOGY", "EVIDENCES", "INITIAL_EVIDENCE")
ANSWER_PREFIX = "The diagnosis result is"
SEXES = {"M": "male", "F": "female"}


def definition(candidates: list[str]) -> str:
    return ("Read the dialogue between a doctor and a patient about the patient's symptoms and history, then give "
            "the most likely diagnosis. Answer with exactly one of these conditions: " + "; ".join(candidates) + ".")


def _patients_file(data_dir: Path, prefix: str) -> Path | None:
    return first_match(data_dir, (f"release_{prefix}_patients.zip", f"release_{prefix}_patients.csv",
                                  f"release_{prefix}_patients"))


def iter_patients(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """``(line, row)`` of a patients CSV, read from the zip archive or the extracted file."""
    return iter_csv(path, COLUMNS)


class Decoder:
    """Turns evidence codes and pathology names into English text."""

    def __init__(self, evidences_path: Path, conditions_path: Path):
        self.evidences_path, self.conditions_path = evidences_path, conditions_path
        self.evidences = load_json(evidences_path)
        conditions = load_json(conditions_path)
        if not isinstance(self.evidences, dict) or not self.evidences:
            raise SourceError(f"{where(evidences_path)}: expected a JSON object keyed by evidence name")
        if not isinstance(conditions, dict) or not conditions:
            raise SourceError(f"{where(conditions_path)}: expected a JSON object keyed by condition name")
        self.english: dict[str, str] = {}
        self.candidates: list[str] = []
        for key, entry in conditions.items():
            eng = entry.get("cond-name-eng") if isinstance(entry, dict) else None
            if not isinstance(eng, str) or not eng.strip():
                raise SourceError(f"{where(conditions_path, None, 'cond-name-eng')}: missing for condition {key!r}")
            eng = " ".join(eng.split())
            for alias in (key, entry.get("condition_name"), entry.get("cond-name-fr"), eng):
                if isinstance(alias, str) and alias.strip():
                    self.english[alias.strip()] = eng
            if eng.lower() not in self.candidates:
                self.candidates.append(eng.lower())

    def pathology(self, name: str, path: Path, line: int) -> str:
        eng = self.english.get(name.strip())
        if eng is None:
            raise SourceError(f"{where(path, line, 'PATHOLOGY')}: not a condition of {self.conditions_path.name}")
        return eng

    def _meta(self, name: str, path: Path, line: int, field: str) -> dict:
        meta = self.evidences.get(name)
        if not isinstance(meta, dict):
            raise SourceError(f"{where(path, line, field)}: evidence {name!r} is not in {self.evidences_path.name}")
        q = meta.get("question_en")
        if not isinstance(q, str) or not q.strip():
            raise SourceError(f"{where(self.evidences_path, None, 'question_en')}: missing for evidence {name!r}")
        return meta

    def _value(self, meta: dict, value: str) -> str:
        meaning = (meta.get("value_meaning") or {}).get(value)
        if isinstance(meaning, dict) and isinstance(meaning.get("en"), str) and meaning["en"].strip():
            return meaning["en"].strip()
        return value

    def dialogue(self, row: dict[str, str], path: Path, line: int) -> str:
        try:
            codes = ast.literal_eval(row["EVIDENCES"].strip())
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            raise SourceError(f"{where(path, line, 'EVIDENCES')}: not a list of evidence codes") from None
        if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
            raise SourceError(f"{where(path, line, 'EVIDENCES')}: not a list of evidence codes")
        initial = row["INITIAL_EVIDENCE"].strip()
        if not initial:
            raise SourceError(f"{where(path, line, 'INITIAL_EVIDENCE')}: empty")
        answers: dict[str, list[str]] = {initial: []}  # insertion order: the initial evidence first
        for code in codes:
            name, _, value = code.strip().partition("_@_")
            answers.setdefault(name, [])
            if value:
                answers[name].append(value)
        age, sex = row["AGE"].strip(), SEXES.get(row["SEX"].strip().upper())
        if not age.isdigit():
            raise SourceError(f"{where(path, line, 'AGE')}: not a whole number of years")
        if sex is None:
            raise SourceError(f"{where(path, line, 'SEX')}: expected M or F")
        turns = ["Doctor: How old are you, and what is your sex?", f"Patient: I am {age} years old, {sex}."]
        for name, values in answers.items():
            meta = self._meta(name, path, line, "INITIAL_EVIDENCE" if name == initial else "EVIDENCES")
            answer = "Yes." if not values else end_with_period(", ".join(self._value(meta, v) for v in values))
            turns += [f"Doctor: {' '.join(meta['question_en'].split())}", f"Patient: {answer}"]
        return "\n".join(turns)


def convert(data_dir: Path, writer: TaskWriter) -> None:
    decoder = Decoder(data_dir / "release_evidences.json", data_dir / "release_conditions.json")
    files = {split: _patients_file(data_dir, prefix) for split, prefix in SPLITS.items()}
    if not any(files.values()):
        raise SourceError(f"DDXPlus: no release_{{train,validate,test}}_patients(.zip) in {data_dir} (see {DOWNLOAD})")
    text = definition(decoder.candidates)
    for split, path in files.items():
        if path is None:
            continue
        stream = None
        for k, (line, row) in enumerate(iter_patients(path)):
            answer = f"{ANSWER_PREFIX} {decoder.pathology(row['PATHOLOGY'], path, line).lower()}."
            if stream is None:
                stream = writer.open(TASK, split, definition=text)
            stream.add(decoder.dialogue(row, path, line), answer, id=f"{SPLITS[split]}-{k}")
        if stream is None:
            raise SourceError(f"{where(path)}: no patient records")


CONVERTER = Converter(
    name="ddxplus",
    source="DDXPlus",
    access="public",
    download=DOWNLOAD,
    raw_files=(
        RawFile("release_evidences.json", "evidence dictionary (question_en, value_meaning) of the release"),
        RawFile("release_conditions.json", "condition dictionary (cond-name-eng) of the release"),
        RawFile("release_*_patients*", "release_{train,validate,test}_patients.zip (or the extracted CSVs)"),
    ),
    task_ids=(TASK,),
    convert=convert,
    notes="Official train/validate/test splits (validate -> validation). English or French release.",
)
