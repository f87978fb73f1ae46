"""MedicationQA (MedInfo 2019) -> task65, consumer questions about medications.

Raw file: ``MedInfo2019-QA-Medications.xlsx`` from
github.com/abachaa/Medication_QA_MedInfo2019 (one sheet; columns ``Question``,
``Focus (Drug)``, ``Question Type``, ``Answer``, ``Section Title``, ``URL``).

Input: the question; output: the answer. Rows without a question or an answer are
skipped. All instances are training instances (no split; not in MedS-Bench). The
official preparation loaded LiveQA instead of this file (a copy-paste slip) - not repeated.
Reading .xlsx needs the ``openpyxl`` package.
"""

from __future__ import annotations

from pathlib import Path

from medsins_datasets.registry.source_datasets import source_dataset
from medsins_datasets.sources.converters import Converter, RawFile, TaskWriter
from medsins_datasets.errors import SourceError

from ._rawfiles import first_match, where

TASK = "task65"
HOMEPAGE = source_dataset("MedicationQA").homepage  # data/sources.csv
DEFINITIONS = {TASK: ("Answer the consumer's question about a medication (its use, dose, side effects, interactions "
                      "or action) accurately and carefully.")}


def read_rows(path: Path) -> tuple[list[str], list[tuple[int, list]]]:
    try:
        import openpyxl
    except ImportError:  # pragma: no cover - depends on the installation
        raise SourceError("reading MedInfo2019-QA-Medications.xlsx needs the openpyxl package (pip install 'medsins[convert]')") from None
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as e:  # openpyxl raises several unrelated types for a bad file
        raise SourceError(f"{where(path)}: not a readable .xlsx workbook ({type(e).__name__})") from None
    try:
        rows = wb.worksheets[0].iter_rows(values_only=True)
        header = [str(c).strip() if c is not None else "" for c in next(rows, ())]
        body = [(n, list(r)) for n, r in enumerate(rows, 2)]
    finally:
        wb.close()
    return header, body


def convert(data_dir: Path, writer: TaskWriter) -> None:
    path = first_match(data_dir, ("MedInfo2019-QA-Medications.xlsx", "*.xlsx"))
    assert path is not None
    header, body = read_rows(path)
    missing = [c for c in ("Question", "Answer") if c not in header]
    if missing:
        raise SourceError(f"{where(path, 1)}: missing column(s) {', '.join(missing)} (the header has {', '.join(header)})")
    qi, ai = header.index("Question"), header.index("Answer")
    out = writer.open(TASK, "train", definition=DEFINITIONS[TASK])
    for n, row in body:
        q = row[qi] if qi < len(row) else None
        a = row[ai] if ai < len(row) else None
        q, a = (" ".join(str(v).split()) if v is not None else "" for v in (q, a))
        if q and a:
            out.add(q, a, id=f"medicationqa-{n}")
    if out.count == 0:
        raise SourceError(f"{where(path)}: no row with both a question and an answer")


CONVERTER = Converter(
    name="medicationqa",
    source="MedicationQA",
    access="public",
    raw_files=(RawFile("*.xlsx", "MedInfo2019-QA-Medications.xlsx (needs the openpyxl package)"),),
    task_ids=(TASK,),
    convert=convert,
)
