"""PMC-Patients -> task73 (case report title generation), task74 (basic information
extraction: gender and age; MedS-Bench Information Extraction) and task75 (similar case
retrieval).

Raw files, as the authors distribute them (huggingface.co/datasets/zhengyun21/PMC-Patients,
now THUMedInfo/PMC-Patients; github.com/pmc-patients/pmc-patients), one of:

* ``PMC-Patients.csv`` (current release): columns ``patient_id``, ``patient_uid``
  (``<PMID>-<k>``), ``PMID``, ``file_path``, ``title`` (of the source article), ``patient``
  (the patient summary), ``age`` (a Python-style list of ``[value, unit]`` pairs, unit one of
  year/month/week/day/hour, e.g. ``[[1.0, 'year'], [2.0, 'month']]``), ``gender`` (``M``/``F``),
  ``relevant_articles`` and ``similar_patients`` (Python-style dicts ``{patient_uid: score}``;
  lists of ids in older releases);
* ``PMC-Patients.json`` / ``PMC-Patients-V2.json`` / ``PMC-Patients_full.json`` (earlier and
  V2 releases): a JSON list of objects with the same keys (``age`` a list, the relations
  dicts or lists).

Optional: ``train_PMIDs.json``, ``dev_PMIDs.json``, ``test_PMIDs.json`` from
PMC-Patients-MetaData (JSON lists of the PMIDs of the official ReCDS split). With
``test_PMIDs.json`` present, patients of those articles are the test split, of
``dev_PMIDs.json`` the validation split, all others training. Without it the split is a
documented deterministic one by article: a patient is a test instance when the SHA-256 hash of
``pmc_patients:<PMID>`` falls in the lowest 5% (``_rawfiles.heldout``), so all patients of an
article share a split. The paper samples 100 test instances for task74; all are written.

Tasks (instance id: the ``patient_uid``):

* task73: input the patient summary, output the article title.
* task74: input the patient summary, output ``Gender: <M|F>\\n\\nAge: <age list>`` in the format
  the official definition asks for (e.g. ``[[60.0, 'year']]``). Patients without gender or age
  are skipped (counted in the log).
* task75: ``Query: <summary>`` followed by ``Case1: ...`` .. ``CaseN: ...``; output the related
  case labels, e.g. ``Case2, Case4``. For each patient with at least one similar patient in the
  same split: up to 2 similar patients (highest score first) plus non-similar patients of the
  same split from other articles (and not listing the query as similar), drawn with a seeded RNG, to 4 candidates, shuffled (seeded).
  Candidates never come from another split, so test texts stay out of training.

Memory: all summaries are held in memory for task75 (about 0.6 GB of text for 167k patients).
The CSV / JSON field names were confirmed on the dataset card; the exact relation encoding in
the CSV (dict vs list) was not, so both are accepted.
"""

from __future__ import annotations

import ast
import logging
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from medsins_datasets.sources.converters import Converter, RawFile, TaskWriter
from medsins_datasets.errors import SourceError

from ._rawfiles import Outputs, first_match, heldout, iter_csv, json_records, load_json, where

logger = logging.getLogger(__name__)

DOWNLOAD = "https://github.com/pmc-patients/pmc-patients (data: huggingface.co/datasets/zhengyun21/PMC-Patients)"
DATA_FILES = ("PMC-Patients.csv", "PMC-Patients.json", "PMC-Patients-V2.json", "PMC-Patients_full.json")
TEST_FRACTION = 0.05
MAX_SIMILAR = 2
CANDIDATES = 4
AGE_UNITS = ("year", "month", "week", "day", "hour")
DEFINITIONS = {
    "task73": "Write a suitable title for the case report from which the following patient description is taken.",
    "task74": ("Read the patient description and extract the patient's gender and age. Answer as "
               "'Gender: M or F' and 'Age: [[value, 'unit']]' (units: year, month, week, day, hour), "
               "on separate lines."),
    "task75": ("You are given a query patient description (after 'Query:') and several candidate patient "
               "descriptions (Case1, Case2, ...). List the candidate cases that are similar to the query."),
}


@dataclass
class Patient:
    uid: str
    pmid: str
    title: str
    text: str
    age: str | None
    gender: str | None
    similar: list[str]


def _literal(value: Any, path: Path, pos: str, field: str) -> Any:
    if not isinstance(value, str):
        return value
    value = value.strip()
    if not value:
        return None
    try:
        return ast.literal_eval(value)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        raise SourceError(f"{where(path, None, field)}: not a valid list/dict literal ({pos})") from None


def format_age(age: Any, path: Path, pos: str) -> str | None:
    """``[[60.0, 'year']]`` from the age field (list of [value, unit]); None when absent."""
    if age is None or age == []:
        return None
    if not isinstance(age, (list, tuple)):
        raise SourceError(f"{where(path, None, 'age')}: expected a list of [value, unit] pairs ({pos})")
    parts = []
    for item in age:
        if (not isinstance(item, (list, tuple)) or len(item) != 2 or isinstance(item[0], bool)
                or not isinstance(item[0], (int, float)) or item[1] not in AGE_UNITS):
            raise SourceError(f"{where(path, None, 'age')}: expected [value, unit] pairs with unit in "
                              f"{', '.join(AGE_UNITS)} ({pos})")
        parts.append(f"[{float(item[0])!r}, '{item[1]}']")
    return "[" + ", ".join(parts) + "]"


def _similar(value: Any, path: Path, pos: str) -> list[str]:
    """Similar patient uids, highest score first (dict) or in given order (list)."""
    if value is None:
        return []
    if isinstance(value, dict):
        items = sorted(value.items(), key=lambda kv: (-(kv[1] if isinstance(kv[1], (int, float)) else 0), str(kv[0])))
        return [str(k) for k, _ in items]
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    raise SourceError(f"{where(path, None, 'similar_patients')}: expected a dict or list of patient ids ({pos})")


def _records(path: Path) -> Iterator[tuple[str, dict]]:
    if path.suffix == ".csv":
        for line, row in iter_csv(path, ("patient_uid", "PMID", "title", "patient", "age", "gender", "similar_patients")):
            yield f"line {line}", row
        return
    for k, obj in json_records(path, load_json(path), "list of patient objects"):
        yield f"record {k}", obj


def read_patients(path: Path) -> list[Patient]:
    patients = []
    for pos, rec in _records(path):
        vals = {}
        for f in ("patient_uid", "PMID", "title", "patient"):
            v = rec.get(f)
            v = str(v).strip() if isinstance(v, (str, int)) else ""
            if not v:
                raise SourceError(f"{where(path, None, f)}: missing or empty ({pos})")
            vals[f] = " ".join(v.split()) if f == "title" else v.strip()
        gender = rec.get("gender")
        gender = gender.strip().upper() if isinstance(gender, str) and gender.strip() else None
        if gender not in (None, "M", "F"):
            raise SourceError(f"{where(path, None, 'gender')}: expected M or F ({pos})")
        patients.append(Patient(
            uid=vals["patient_uid"], pmid=vals["PMID"], title=vals["title"], text=vals["patient"],
            age=format_age(_literal(rec.get("age"), path, pos, "age"), path, pos), gender=gender,
            similar=_similar(_literal(rec.get("similar_patients"), path, pos, "similar_patients"), path, pos)))
    if not patients:
        raise SourceError(f"{where(path)}: no patient records")
    return patients


def _pmid_set(data_dir: Path, name: str) -> set[str] | None:
    path = data_dir / name
    if not path.is_file():
        return None
    ids = load_json(path)
    if not isinstance(ids, list):
        raise SourceError(f"{where(path)}: expected a JSON list of PMIDs")
    return {str(i).strip() for i in ids}


def retrieval_instance(query: Patient, pool: list[Patient], by_uid: dict[str, Patient]) -> tuple[str, str] | None:
    """(input, output) of task75 for ``query`` drawing candidates from ``pool`` (its split)."""
    positives = [by_uid[u] for u in query.similar if u != query.uid and u in by_uid][:MAX_SIMILAR]
    if not positives:
        return None
    rng = random.Random(f"pmc_patients:{query.uid}")
    excluded = set(query.similar) | {query.uid}
    negatives: list[Patient] = []
    for _ in range(50 * CANDIDATES):
        if len(positives) + len(negatives) >= CANDIDATES:
            break
        cand = pool[rng.randrange(len(pool))]
        if cand.uid in excluded or cand.pmid == query.pmid or query.uid in cand.similar:
            continue
        excluded.add(cand.uid)
        negatives.append(cand)
    cases = [(p, True) for p in positives] + [(n, False) for n in negatives]
    rng.shuffle(cases)
    text = "\n".join([f"Query: {query.text}"] + [f"Case{i}: {p.text}" for i, (p, _) in enumerate(cases, 1)])
    return text, ", ".join(f"Case{i}" for i, (_, pos) in enumerate(cases, 1) if pos)


def convert(data_dir: Path, writer: TaskWriter) -> None:
    path = first_match(data_dir, DATA_FILES)
    if path is None:
        raise SourceError(f"PMC-Patients: none of {', '.join(DATA_FILES)} in {data_dir} (see {DOWNLOAD})")
    patients = read_patients(path)
    test_pmids, dev_pmids = _pmid_set(data_dir, "test_PMIDs.json"), _pmid_set(data_dir, "dev_PMIDs.json")

    def split_of(p: Patient) -> str:
        if test_pmids is not None:
            return "test" if p.pmid in test_pmids else "validation" if dev_pmids and p.pmid in dev_pmids else "train"
        return "test" if heldout(f"pmc_patients:{p.pmid}", TEST_FRACTION) else "train"

    out = Outputs(writer, DEFINITIONS)
    splits: dict[str, list[Patient]] = {}
    seen: set[str] = set()
    no_info = 0
    for p in patients:
        if p.uid in seen:
            raise SourceError(f"{where(path, None, 'patient_uid')}: duplicate id {p.uid!r}")
        seen.add(p.uid)
        split = split_of(p)
        splits.setdefault(split, []).append(p)
        out.add("task73", split, p.text, p.title, id=p.uid)
        if p.gender is None or p.age is None:
            no_info += 1
        else:
            out.add("task74", split, p.text, f"Gender: {p.gender}\n\nAge: {p.age}", id=p.uid)
    if no_info:
        logger.info("PMC-Patients: %d patient(s) without gender or age skipped for task74", no_info)
    for split, pool in splits.items():
        by_uid = {p.uid: p for p in pool}
        for p in pool:
            inst = retrieval_instance(p, pool, by_uid)
            if inst is not None:
                out.add("task75", split, inst[0], inst[1], id=p.uid)
    out.report_empty("PMC-Patients", DEFINITIONS, sorted(splits))


CONVERTER = Converter(
    name="pmc_patients",
    source="PMC-Patient",
    access="public",
    download=DOWNLOAD,
    raw_files=(
        RawFile("PMC-Patients*.*", "PMC-Patients.csv (or PMC-Patients.json / -V2.json / _full.json)"),
        RawFile("*_PMIDs.json", "official split PMIDs from PMC-Patients-MetaData (optional)", required=False),
    ),
    task_ids=("task73", "task74", "task75"),
    convert=convert,
    notes="Official ReCDS split when test_PMIDs.json is given, else a 5% hash split by article PMID.",
)
