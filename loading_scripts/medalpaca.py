"""MedAlpaca "Medical Meadow" sets -> task69 (WikiDoc textbook QA), task70 (WikiDoc patient
information QA), task71 (medical flashcards QA).

Raw files, from the medalpaca project (github.com/kbressem/medAlpaca, published as the
``medalpaca/medical_meadow_*`` datasets): ``medical_meadow_wikidoc.json``,
``medical_meadow_wikidoc_patient_information.json`` and
``medical_meadow_medical_flashcards.json`` - JSON arrays (JSON lines are accepted too) of
Alpaca-style records with ``instruction``, ``input`` (the question) and ``output`` (the
answer). Any subset may be given; a file is recognised by ``wikidoc_patient_information``,
``wikidoc`` or ``flashcards`` in its name.

Input: the question; output: the answer. Records with an empty question or answer are
skipped. All instances are training instances (no split; not in MedS-Bench).
"""

from __future__ import annotations

import logging
from pathlib import Path

from medsins_datasets.registry.source_datasets import source_dataset
from medsins_datasets.sources.converters import Converter, RawFile, TaskWriter
from medsins_datasets.errors import SourceError

from ._rawfiles import iter_jsonl, json_records, load_json, where

logger = logging.getLogger(__name__)

HOMEPAGE = source_dataset("WikiDoc").homepage  # data/sources.csv
DEFINITIONS = {
    "task69": "Answer the medical question below as a knowledgeable doctor would.",
    "task70": "Answer the patient's question below about a disease, as a knowledgeable doctor would.",
    "task71": "Answer the medical study question below correctly and concisely.",
}


def task_for(name: str) -> str | None:
    low = name.lower()
    if not low.endswith((".json", ".jsonl")):
        return None
    if "wikidoc_patient_information" in low:
        return "task70"
    if "wikidoc" in low:
        return "task69"
    if "flashcards" in low:
        return "task71"
    return None


def _records(path: Path):
    if path.name.lower().endswith(".jsonl"):
        for line, obj in iter_jsonl(path):
            yield f"line {line}", obj
        return
    for i, obj in json_records(path, load_json(path), "array of records"):
        yield f"record {i}", obj


def convert(data_dir: Path, writer: TaskWriter) -> None:
    files: dict[str, Path] = {}
    for p in sorted(data_dir.iterdir()):
        tid = task_for(p.name) if p.is_file() else None
        if tid and tid not in files:
            files[tid] = p
    if not files:
        raise SourceError(
            f"MedAlpaca: no medical_meadow_wikidoc*.json / medical_meadow_wikidoc_patient_information*.json / "
            f"medical_meadow_medical_flashcards*.json in {data_dir} (see {HOMEPAGE})"
        )
    for tid, path in sorted(files.items()):
        out = writer.open(tid, "train", definition=DEFINITIONS[tid])
        skipped = 0
        for n, (_, rec) in enumerate(_records(path)):
            q, a = rec.get("input"), rec.get("output")
            if not isinstance(q, str) or not isinstance(a, str) or not q.strip() or not a.strip():
                skipped += 1
                continue
            out.add(q.strip(), a.strip(), id=f"{path.stem}-{n}")
        if skipped:
            logger.warning("MedAlpaca %s: %d record(s) without input or output skipped", path.name, skipped)
        if out.count == 0:
            raise SourceError(f"{where(path)}: no record with both 'input' and 'output'")


CONVERTER = Converter(
    name="medalpaca",
    source="WikiDoc",
    access="public",
    raw_files=(
        RawFile("*wikidoc*.json*", "medical_meadow_wikidoc.json and/or ..._wikidoc_patient_information.json",
                required=False),
        RawFile("*flashcards*.json*", "medical_meadow_medical_flashcards.json (-> task71)", required=False),
    ),
    task_ids=("task69", "task70", "task71"),
    convert=convert,
    notes="task71's registry source is MedAlpaca, task69/70's WikiDoc; any subset of the files.",
)
