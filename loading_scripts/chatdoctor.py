"""ChatDoctor conversations -> task66 (GenMedGPT-5k), task67 (HealthCareMagic-100k),
task68 (iCliniq).

Raw files, as the ChatDoctor project (github.com/Kent0n-Li/ChatDoctor) distributes them,
each a JSON array: ``chatdoctor5k.json`` (also published as ``GenMedGPT-5k.json``) and
``HealthCareMagic-100k.json`` with ``instruction`` / ``input`` / ``output`` records, and
``iCliniq.json`` with ``input`` and ``answer_icliniq`` (the real doctor's answer; the
``answer_chatgpt`` / ``answer_chatdoctor`` fields are model outputs and are not used).
Any subset of the three files may be given.

Input: the patient's message; output: the doctor's reply. Records with an empty message
or reply are skipped (counted in the log). All instances are training instances (no
split exists and none of these tasks is in MedS-Bench).
"""

from __future__ import annotations

import logging
from pathlib import Path

from medsins_datasets.registry.source_datasets import source_dataset
from medsins_datasets.sources.converters import Converter, RawFile, TaskWriter
from medsins_datasets.errors import SourceError

from ._rawfiles import json_records, load_json, where

logger = logging.getLogger(__name__)

HOMEPAGE = source_dataset("ChatDoctor").homepage  # data/sources.csv
#: task id -> (file name patterns, lower-cased substring rule, answer field)
FILES = {
    "task66": (("chatdoctor5k.json", "GenMedGPT-5k.json"), "output"),
    "task67": (("HealthCareMagic-100k.json",), "output"),
    "task68": (("iCliniq.json", "icliniq.json"), "answer_icliniq"),
}
DEFINITIONS = {
    "task66": "Act as a doctor talking with a patient. Reply to the patient's message with helpful medical advice.",
    "task67": "Act as a doctor on an online health forum. Reply to the patient's message with helpful medical advice.",
    "task68": "Act as a doctor answering a patient's online question. Reply with helpful medical advice.",
}


def _find(data_dir: Path, names: tuple[str, ...]) -> Path | None:
    wanted = {n.lower() for n in names}
    hits = sorted(p for p in data_dir.iterdir() if p.is_file() and p.name.lower() in wanted)
    return hits[0] if hits else None


def convert(data_dir: Path, writer: TaskWriter) -> None:
    found = {tid: _find(data_dir, names) for tid, (names, _) in FILES.items()}
    if not any(found.values()):
        raise SourceError(
            f"ChatDoctor: none of chatdoctor5k.json (GenMedGPT-5k.json), HealthCareMagic-100k.json, iCliniq.json "
            f"in {data_dir} (distributed at {HOMEPAGE})"
        )
    for tid, path in found.items():
        if path is None:
            continue
        answer_key = FILES[tid][1]
        records = json_records(path, load_json(path), "array of conversation records")
        out = writer.open(tid, "train", definition=DEFINITIONS[tid])
        skipped = 0
        for i, rec in records:
            q, a = rec.get("input"), rec.get(answer_key)
            if not isinstance(q, str) or not isinstance(a, str) or not q.strip() or not a.strip():
                skipped += 1
                continue
            out.add(q.strip(), a.strip(), id=f"{path.stem}-{i}")
        if skipped:
            logger.warning("ChatDoctor %s: %d record(s) without input or %s skipped", path.name, skipped, answer_key)
        if out.count == 0:
            raise SourceError(f"{where(path)}: no record with both 'input' and '{answer_key}'")


CONVERTER = Converter(
    name="chatdoctor",
    source="ChatDoctor",
    access="public",
    raw_files=(
        RawFile("*5k.json", "chatdoctor5k.json / GenMedGPT-5k.json (-> task66)", required=False),
        RawFile("HealthCareMagic-100k.json", "HealthCareMagic-100k.json (-> task67)", required=False),
        RawFile("*liniq.json", "iCliniq.json (-> task68)", required=False),
    ),
    task_ids=tuple(FILES),
    convert=convert,
    notes="Any subset of the three files; at least one is needed.",
)
