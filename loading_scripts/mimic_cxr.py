"""MIMIC-CXR free-text reports (PhysioNet, credentialed) -> task112, chest X-ray report
summarization (findings -> impression).

Raw files, as PhysioNet distributes them:

* the reports: ``mimic-cxr-reports.zip`` from MIMIC-CXR 2.x, or its unpacked ``files/``
  folder (``files/p10/p10000032/s50414267.txt``: one report per study);
* optionally the official split, ``mimic-cxr-2.0.0-split.csv.gz`` from MIMIC-CXR-JPG
  (dicom_id, study_id, subject_id, split = train / validate / test).

Instances (default), as the official script (``data_preparing/mimic_cxr_text_summarization.py``)
cuts them: a report containing both ``FINDINGS:`` and ``IMPRESSION:`` gives input = the text
between the first ``FINDINGS:`` and the first ``IMPRESSION:``, output = the text after
``IMPRESSION:`` to the end of the report, both with line breaks replaced by spaces and stripped
(runs of spaces kept). ``--clean``: the sections parsed by heading (``_reports.py``: the impression
stops at the next top-level heading, e.g. a NOTIFICATION or RECOMMENDATION paragraph) and
reflowed (hard wraps joined, paragraphs and list items kept, runs of spaces collapsed).

Documented differences from the official script (bug fixes): a report whose findings or
impression come out empty (e.g. IMPRESSION before FINDINGS, which the script's slice turns into
an empty input) is skipped; the script cut ``len("FINDINGS: ")`` characters after the heading's
start, dropping the first character of a section written right after the colon - the section
here starts right after the colon (the same text after stripping otherwise); and splits:

With the split file, a study's split decides (train -> train, validate -> validation, test ->
test; studies missing from it are skipped and counted in the log). Without it, 5 % of patients
are held out by subject_id hash (the same patients as in the other MIMIC converters) and the
test file holds a seeded sample of 100 of their reports, the paper's test size. (The script
wrote every report into one file, from which MedS-Bench also drew its test reports.)
"""

from __future__ import annotations

import logging
import re
import zipfile
from pathlib import Path
from typing import Iterator

from medsins_datasets.registry.source_datasets import source_dataset
from medsins_datasets.sources.converters import Converter, RawFile, TaskWriter
from medsins_datasets.errors import SourceError

from ._rawfiles import (
    TEST_PER_TASK, Outputs, Reservoir, _read_guard, content_free_errors, first_match, heldout, iter_csv,
    where
)
from ._reports import reflow, sections

logger = logging.getLogger(__name__)

TASK = "task112"
HOMEPAGE = source_dataset("MIMIC-CXR").homepage  # data/sources.csv
_REPORT_RE = re.compile(r"(?:^|/)p(\d+)/s(\d+)\.txt$")
SPLIT_NAMES = {"train": "train", "validate": "validation", "validation": "validation", "test": "test"}

DEFINITIONS = {
    TASK: (
        "Below are the findings of a chest X-ray report. Write the report's impression: a short summary of the "
        "findings that matter most clinically."
    ),
}


def iter_reports(data_dir: Path) -> Iterator[tuple[str, str, str, str]]:
    """(subject id, study id, where, text) for every report, in path order."""
    archive = first_match(data_dir, ("mimic-cxr-reports.zip",))
    if archive is not None:
        try:
            with zipfile.ZipFile(archive) as zf:
                names = sorted(n for n in zf.namelist() if _REPORT_RE.search(n))
                for name in names:
                    m = _REPORT_RE.search(name)
                    try:
                        text = zf.read(name).decode("utf-8")
                    except UnicodeDecodeError:
                        raise SourceError(f"file {archive.name}, member {name}: not UTF-8 text") from None
                    yield m.group(1), m.group(2), f"{archive.name}:{name}", text
        except (zipfile.BadZipFile, OSError, EOFError) as e:
            raise _read_guard(archive, None, e) from None
        return
    files = sorted(data_dir.glob("files/p*/p*/s*.txt")) or sorted(data_dir.glob("p*/p*/s*.txt"))
    if not files:
        raise SourceError(
            f"MIMIC-CXR: no reports in {data_dir}: expected mimic-cxr-reports.zip or its unpacked "
            f"files/pXX/pSUBJECT/sSTUDY.txt folder (distributed at {HOMEPAGE})"
        )
    for p in files:
        m = _REPORT_RE.search(p.as_posix())
        if m is None:
            continue
        try:
            text = p.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError) as e:
            raise _read_guard(p, None, e) from None
        yield m.group(1), m.group(2), str(p.relative_to(data_dir)), text


def read_split(path: Path) -> dict[str, str]:
    """study id -> our split name, from MIMIC-CXR-JPG's split file."""
    split: dict[str, str] = {}
    for line, row in iter_csv(path, ("study_id", "split")):
        name = SPLIT_NAMES.get(row["split"].strip().lower())
        if name is None:
            raise SourceError(f"{where(path, line, 'split')}: must be one of train, validate, test")
        study = row["study_id"].strip().lstrip("s")
        if split.setdefault(study, name) != name:
            raise SourceError(f"{where(path, line, 'split')}: study {study} is listed in two splits")
    return split


CLEAN_NOTE = "sections parsed by heading (impression stops at the next heading) and reflowed"


def official_pair(text: str) -> tuple[str, str] | None:
    """(findings, impression) cut as the official script cuts them (see the module docstring)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")  # the script read the files in text mode
    if "FINDINGS:" not in text or "IMPRESSION:" not in text:
        return None
    f, i = text.find("FINDINGS:"), text.find("IMPRESSION:")
    findings = text[f + len("FINDINGS:"):i].replace("\n", " ").strip()
    impression = text[i + len("IMPRESSION:"):].replace("\n", " ").strip()
    return (findings, impression) if findings and impression else None


def summary_pair(text: str, clean: bool = False) -> tuple[str, str] | None:
    if not clean:
        return official_pair(text)
    sec = sections(text)
    findings, impression = sec.get("FINDINGS"), sec.get("IMPRESSION") or sec.get("IMPRESSIONS")
    if findings is None or impression is None:
        return None
    findings, impression = reflow(findings), reflow(impression)
    return (findings, impression) if findings and impression else None


@content_free_errors("MIMIC-CXR")
def convert(data_dir: Path, writer: TaskWriter) -> None:
    split_file = first_match(data_dir, ("mimic-cxr-2.0.0-split.csv", "mimic-cxr-2.0.0-split.csv.gz"))
    official = read_split(split_file) if split_file is not None else None
    out = Outputs(writer, DEFINITIONS)
    test = Reservoir(TEST_PER_TASK, "mimic-cxr-task112")
    n_reports = n_used = unlisted = 0
    for subject, study, _where, text in iter_reports(data_dir):
        n_reports += 1
        pair = summary_pair(text, writer.clean)
        if pair is None:
            continue
        n_used += 1
        iid = f"s{study}"
        if official is not None:
            split = official.get(study)
            if split is None:
                unlisted += 1
                continue
            out.add(TASK, split, pair[0], pair[1], id=iid)
        elif heldout(subject):
            test.offer((iid, *pair))
        else:
            out.add(TASK, "train", pair[0], pair[1], id=iid)
    if n_used == 0:
        raise SourceError(
            f"MIMIC-CXR: none of the {n_reports} report(s) in {data_dir} has non-empty FINDINGS and IMPRESSION sections"
        )
    for iid, inp, outp in test.items():
        out.add(TASK, "test", inp, outp, id=iid)
    if unlisted:
        logger.warning("MIMIC-CXR: %d usable report(s) skipped: their study is not in %s", unlisted, split_file.name)
    out.report_empty("MIMIC-CXR", (TASK,), ("train", "test"))


CONVERTER = Converter(
    name="mimic_cxr",
    source="MIMIC-CXR",
    access="credentialed",
    raw_files=(
        RawFile("mimic-cxr-reports.zip", "MIMIC-CXR free-text reports archive (or its unpacked files/ folder)",
                required=False),
        RawFile("files/p*/p*/s*.txt", "unpacked reports, files/pXX/pSUBJECT/sSTUDY.txt", required=False),
        RawFile("mimic-cxr-2.0.0-split.csv*", "official split from MIMIC-CXR-JPG (study_id, split)",
                required=False),
    ),
    task_ids=(TASK,),
    convert=convert,
    version="2",
    clean_note=CLEAN_NOTE,
    notes="Credentialed. Needs mimic-cxr-reports.zip or files/; the MIMIC-CXR-JPG split file is used when present.",
)
