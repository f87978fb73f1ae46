"""Leaf Clinical Trials (LCT) corpus, ClinicalTrials.gov eligibility criteria -> task77
(entity and relation extraction from eligibility criteria).

The task derives from the LCT corpus (Dobbins et al., Sci Data 2022) as published in
github.com/uw-bionlp/clinical-trials-gov-data: task77's official definition lists exactly the
LCT entity and relation types, and the official MedS-Ins preparation script
(``data_preparing/clinical_trials_ner_relation_classification.py``) reads that repository.
Pass the repository root as ``--data-dir``; the files read, as the repository lays them out:

* ``data/docs/brat/batch<N>/<NCT id>.txt`` - the eligibility criteria text of one trial
  (the ``.ann`` brat files beside them are not read);
* ``data/ner/spert/{train,dev,test}.json`` - the annotations in SpERT format, a JSON list of
  line records ``{"orig_id": "<line>_<NCT id>", "tokens": [...], "entities": [{"type",
  "start", "end"}], "relations": [{"type", "head", "tail"}]}``: token offsets are
  end-exclusive, ``head``/``tail`` index the record's ``entities``; tokens include the
  whitespace between criteria (``"\\n  "``), and entity types may carry a normalised value
  after ``___`` (``Acuteness___chronic``, ``Eq-Operator___LT``).

One instance per trial, as the official script (``data_preparing/clinical_trials_ner_relation_
classification.py``) builds it: input = the trial's criteria text, as the file holds it; output
= a JSON object (indent 4) keyed ``Line0``, ``Line1``, ... (every line up to the last annotated
one, empty lines included) with ``Entities`` - a list of ``{"<entity text>": "<type>"}`` in
annotation order - and ``Relations`` - a list of ``[<head entity>, <tail entity>, "<relation
type>"]`` in annotation order. Entity text is the tokens of the span joined by single spaces
(whitespace tokens included, as officially); entity types are kept as the corpus writes them
(normalised values included), like the official data.

``--clean``: the criteria text stripped, entity texts with whitespace collapsed, and - as the
definition asks for entities and relations in order of appearance - entities sorted by start
token (annotation order kept for ties) and relations by the position of their head then tail
entity.

Splits: the corpus's own - ``train.json`` -> train (the only file the official script read),
``dev.json`` -> validation, ``test.json`` -> test (optional). task77 is not in MedS-Bench.
Instance ids are the NCT ids. Documented difference from the official script: annotated trials
whose text file is missing are skipped (counted in the log; the script wrote them with an empty
input). Not confirmed here: the size of ``train.json`` (not visible in the indexed copy of
the repository; its layout is taken from ``dev.json``/``test.json`` and the official script).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from medsins_datasets.sources.converters import Converter, RawFile, TaskWriter
from medsins_datasets.errors import SourceError

from ._rawfiles import _read_guard, load_json, where

logger = logging.getLogger(__name__)

TASK = "task77"
DOWNLOAD = "https://github.com/uw-bionlp/clinical-trials-gov-data"
DOCS = "data/docs/brat"
SPERT = "data/ner/spert"
SPLITS = {"train": "train.json", "validation": "dev.json", "test": "test.json"}
DEFINITIONS = {TASK: (
    "Below are the eligibility criteria of a clinical trial. Extract the medical entities of each line with "
    "their types, and the relations between them. Answer in JSON keyed by line (Line0, Line1, ...), each with "
    "'Entities' (entity: type) and 'Relations' ([head entity, tail entity, relation]), in order of appearance.")}


def document_texts(data_dir: Path) -> dict[str, Path]:
    """``{NCT id: text file}`` of ``data/docs/brat/**`` (first in path order for a repeated id)."""
    found: dict[str, Path] = {}
    for p in sorted((data_dir / DOCS).glob("**/*.txt")):
        found.setdefault(p.stem, p)
    return found


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError) as e:
        raise _read_guard(path, None, e) from None


def _record(path: Path, k: int, rec: object, clean: bool = False
            ) -> tuple[str, int, list[tuple[int, str, str]], list[tuple[int, int, str]]]:
    """Validate one SpERT line record -> (doc id, line, entities (start, text, type), relations)."""
    loc = f"record {k}"
    if not isinstance(rec, dict):
        raise SourceError(f"{where(path)}, {loc}: not an object")
    oid = rec.get("orig_id")
    line, sep, doc = oid.partition("_") if isinstance(oid, str) else ("", "", "")
    if not sep or not line.isdigit() or not doc:
        raise SourceError(f"{where(path, None, 'orig_id')}, {loc}: expected '<line>_<document id>'")
    tokens = rec.get("tokens")
    if not isinstance(tokens, list) or not all(isinstance(t, str) for t in tokens):
        raise SourceError(f"{where(path, None, 'tokens')}, {loc}: expected a list of strings")
    ents = []
    raw_ents = rec.get("entities", [])
    if not isinstance(raw_ents, list):
        raise SourceError(f"{where(path, None, 'entities')}, {loc}: expected a list")
    for e, ent in enumerate(raw_ents):
        ok = (isinstance(ent, dict) and isinstance(ent.get("type"), str) and ent["type"]
              and isinstance(ent.get("start"), int) and isinstance(ent.get("end"), int)
              and 0 <= ent["start"] < ent["end"] <= len(tokens))
        if not ok:
            raise SourceError(f"{where(path, None, 'entities')}, {loc}: entity {e} is not "
                              "{type, start, end} with 0 <= start < end <= number of tokens")
        text = " ".join(tokens[ent["start"]:ent["end"]])
        if clean:
            text = " ".join(text.split())
        ents.append((ent["start"], text, ent["type"]))
    rels = []
    raw_rels = rec.get("relations", [])
    if not isinstance(raw_rels, list):
        raise SourceError(f"{where(path, None, 'relations')}, {loc}: expected a list")
    for r, rel in enumerate(raw_rels):
        ok = (isinstance(rel, dict) and isinstance(rel.get("type"), str) and rel["type"]
              and all(isinstance(rel.get(x), int) and 0 <= rel[x] < len(ents) for x in ("head", "tail")))
        if not ok:
            raise SourceError(f"{where(path, None, 'relations')}, {loc}: relation {r} is not "
                              "{type, head, tail} with head and tail indexing the entities")
        rels.append((rel["head"], rel["tail"], rel["type"]))
    return doc, int(line), ents, rels


def line_output(ents: list[tuple[int, str, str]], rels: list[tuple[int, int, str]], clean: bool = False) -> dict:
    """One line's answer: entities and relations in annotation order (official), or with ``clean``
    entities in order of appearance and relations by head then tail position."""
    if not clean:
        entity = [{text: typ} for _, text, typ in ents]
        return {"Entities": entity, "Relations": [[entity[h], entity[t], typ] for h, t, typ in rels]}
    order = sorted(range(len(ents)), key=lambda i: ents[i][0])  # stable: annotation order for ties
    pos = {old: new for new, old in enumerate(order)}
    entity = [{ents[i][1]: ents[i][2]} for i in order]
    ranked = sorted(rels, key=lambda r: (pos[r[0]], pos[r[1]]))
    return {"Entities": entity, "Relations": [[entity[pos[h]], entity[pos[t]], typ] for h, t, typ in ranked]}


def document_output(lines: dict[int, dict]) -> str:
    full = {f"Line{i}": lines.get(i, {"Entities": [], "Relations": []}) for i in range(max(lines) + 1)}
    return json.dumps(full, ensure_ascii=False, indent=4)


def _write(writer: TaskWriter, split: str, path: Path, texts: dict[str, Path]) -> None:
    data = load_json(path)
    if not isinstance(data, list) or not data:
        raise SourceError(f"{where(path)}: expected a non-empty JSON list of SpERT line records")
    docs: dict[str, dict[int, dict]] = {}
    for k, rec in enumerate(data):
        doc, line, ents, rels = _record(path, k, rec, writer.clean)
        lines = docs.setdefault(doc, {})
        if line in lines:
            raise SourceError(f"{where(path, None, 'orig_id')}, record {k}: line {line} of {doc} appears twice")
        lines[line] = line_output(ents, rels, writer.clean)
    out = writer.open(TASK, split, definition=DEFINITIONS[TASK])
    missing = 0
    for doc, lines in docs.items():
        if doc not in texts:
            missing += 1
            continue
        text = _read_text(texts[doc])
        if not text.strip():
            raise SourceError(f"{where(texts[doc])}: empty criteria text")
        if writer.clean:
            text = text.strip()
        out.add(text, document_output(lines), id=doc)
    if missing:
        logger.warning("LCT: %s: %d annotated trial(s) without a text file in %s skipped", path.name, missing, DOCS)
    if out.count == 0:
        raise SourceError(f"{where(path)}: none of its trials has a text file under {DOCS}/")


def convert(data_dir: Path, writer: TaskWriter) -> None:
    texts = document_texts(data_dir)
    for split, name in SPLITS.items():
        path = data_dir / SPERT / name
        if path.is_file():
            _write(writer, split, path, texts)


CONVERTER = Converter(
    name="clinicaltrials_criteria",
    source="Clinical-Trials.gov",
    access="public",
    download=DOWNLOAD,
    raw_files=(
        RawFile(f"{SPERT}/train.json", f"LCT training annotations, SpERT JSON ({DOWNLOAD})"),
        RawFile(f"{SPERT}/dev.json", "LCT development annotations (-> validation)", required=False),
        RawFile(f"{SPERT}/test.json", "LCT test annotations (-> test)", required=False),
        RawFile(f"{DOCS}/**/*.txt", "the trials' eligibility criteria texts (data/docs/brat/batch*/NCT*.txt)"),
    ),
    task_ids=(TASK,),
    convert=convert,
    version="2",
    clean_note="criteria text stripped, entity whitespace collapsed, entities and relations in order of appearance",
    notes="--data-dir is the root of a clone of uw-bionlp/clinical-trials-gov-data.",
)
