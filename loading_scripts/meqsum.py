"""MeQSum -> task114 (consumer health question summarization).

Raw file, as github.com/abachaa/MeQSum distributes it:
``MeQSum_ACL2019_BenAbacha_Demner-Fushman.xlsx`` - one sheet with the columns ``File``,
``CHQ`` (the consumer health question, often "SUBJECT: ... MESSAGE: ...") and ``Summary``
(the expert-written summary question); 1,000 rows. Reading it needs ``openpyxl``
(``pip install medsins[convert]``).

Instances (default) are those of the official preparation script
(``data_preparing/meqsum_text_summarization.py``, which reads the sheet with pandas): input =
the ``CHQ`` cell, output = the ``Summary`` cell, both exactly as the sheet holds them (line
breaks, double spaces and trailing spaces included), in sheet order. ``--clean`` tidies the
whitespace: each line stripped with inner runs of spaces collapsed, blank lines dropped (this
changes about half of the questions).

Documented differences from the official script (bug fixes):

* split: the script wrote all 1,000 rows into one file, the training task, while MedS-Bench
  tested task114 on 100 of the same rows. MeQSum has no official split, so a documented
  deterministic one is used: a row is a test instance when the SHA-256 hash of
  ``meqsum:<File>`` falls in the lowest 10% (``_rawfiles.heldout``), otherwise a training
  instance (``--paper-test-sizes`` then keeps 100 test rows, the paper's number);
* a row without question or summary (pandas would give NaN) is an error naming the row.
"""

from __future__ import annotations

from pathlib import Path

from medsins_datasets.registry.source_datasets import source_dataset
from medsins_datasets.sources.converters import Converter, RawFile, TaskWriter
from medsins_datasets.errors import SourceError

from ._rawfiles import heldout, where

TASK = "task114"
HOMEPAGE = source_dataset("MeQSum").homepage  # data/sources.csv
FILE = "MeQSum_ACL2019_BenAbacha_Demner-Fushman.xlsx"
TEST_FRACTION = 0.10
COLUMNS = ("File", "CHQ", "Summary")
DEFINITIONS = {TASK: "You will be given a long consumer health question. Summarize it as one short question."}


CLEAN_NOTE = "question and summary whitespace tidied: lines stripped, inner runs of spaces collapsed, blank lines dropped"


def _tidy(text: str) -> str:
    return "\n".join(" ".join(line.split()) for line in text.strip().splitlines() if line.strip())


def _cell_text(value: object) -> str:
    """A cell as the official script's pandas frame holds it, as text (strings unchanged)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return value if isinstance(value, str) else str(value)


def read_rows(path: Path, clean: bool = False) -> list[tuple[int, str, str, str]]:
    """``(row number, file id, question, summary)`` of the sheet, validated (texts tidied with ``clean``)."""
    try:
        import openpyxl
    except ImportError:
        raise SourceError("MeQSum is an .xlsx file: install openpyxl (pip install 'medsins[convert]')") from None
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as e:  # noqa: BLE001 - openpyxl raises zipfile/KeyError/ValueError for bad files
        raise SourceError(f"{where(path)}: not a readable .xlsx workbook ({type(e).__name__})") from None
    try:
        rows = wb.worksheets[0].iter_rows(values_only=True)
        header = [str(c).strip() if c is not None else "" for c in next(rows, ())]
        missing = [c for c in COLUMNS if c not in header]
        if missing:
            raise SourceError(f"{where(path, 1)}: missing column(s) {', '.join(missing)} (the header has "
                              f"{', '.join(h for h in header if h) or 'no columns'})")
        idx = {c: header.index(c) for c in COLUMNS}
        out = []
        for n, row in enumerate(rows, 2):
            cells = {c: (row[i] if i < len(row) else None) for c, i in idx.items()}
            if all(v is None or not str(v).strip() for v in cells.values()):
                continue
            for c in ("CHQ", "Summary"):
                if cells[c] is None or not str(cells[c]).strip():
                    raise SourceError(f"{where(path, n, c)}: empty (row {n} of the sheet)")
            fid = str(cells["File"]).strip() if cells["File"] is not None and str(cells["File"]).strip() else f"row{n}"
            question, summary = _cell_text(cells["CHQ"]), _cell_text(cells["Summary"])
            if clean:
                question, summary = _tidy(question), _tidy(summary)
            out.append((n, fid, question, summary))
        return out
    finally:
        wb.close()


def convert(data_dir: Path, writer: TaskWriter) -> None:
    path = data_dir / FILE
    rows = read_rows(path, clean=writer.clean)
    if not rows:
        raise SourceError(f"{where(path)}: no question rows")
    streams = {}
    seen: set[str] = set()
    for n, fid, question, summary in rows:
        iid = fid if fid not in seen else f"{fid}-row{n}"
        seen.add(iid)
        split = "test" if heldout(f"meqsum:{fid}", TEST_FRACTION) else "train"
        if split not in streams:
            streams[split] = writer.open(TASK, split, definition=DEFINITIONS[TASK])
        streams[split].add(question, summary, id=iid)


CONVERTER = Converter(
    name="meqsum",
    source="MeQSum",
    access="public",
    raw_files=(RawFile(FILE, f"MeQSum questions and summaries, Excel workbook ({HOMEPAGE})"),),
    task_ids=(TASK,),
    convert=convert,
    version="2",
    notes="Needs openpyxl (the `convert` extra). No official split: deterministic 10% hash split for test.",
    clean_note=CLEAN_NOTE,
)
