"""MIMIC-IV-Note discharge summaries (PhysioNet, credentialed) -> task76, discharge
instruction completion.

Raw file: ``discharge.csv.gz`` (or the unpacked ``discharge.csv``) from the ``note/``
folder of MIMIC-IV-Note (columns note_id, subject_id, hadm_id, note_type, note_seq,
charttime, storetime, text).

Instances (default), as the official script (``data_preparing/mimic_iv_discharge_instruction_
completion.py``) builds them: the summary's line breaks inside sentences are removed first (a
break before a lower-case letter, ``_``, or after indentation becomes a space; a break before
``, ; : ' " ( ) .`` is dropped; a break after a colon is kept), then the text is split at the
first ``Discharge Instructions:`` + line break: input = everything before it, output = the
heading, its line break and everything after it (follow-up appointments included). Summaries
without that heading are skipped.

``--clean``: no newline removal; input = the summary up to its ``Discharge Instructions:``
heading line, output = that heading and its section up to the ``Followup Instructions:`` heading
when there is one, lines keeping their layout (trailing spaces removed, runs of blank lines
shortened, stripped).

Documented differences from the official script (bug fixes): its newline removal glued the words
of consecutive lines together (``re.sub(r"\\n([a-z,_])", r"\\1", ...)``: "word\\nnext" ->
"wordnext", "patient\\n___" -> "patient___"); here a break before a lower-case letter or ``_``
becomes a space. A summary whose part before or after the heading is empty is skipped (the
script wrote it).

Splits: as for the radiology tasks, 5 % of patients (subject_id hash) are held out;
training holds every other patient's summary, the test file a seeded sample of 100
held-out summaries (task76 is not a MedS-Bench task).
"""

from __future__ import annotations

import re
from pathlib import Path

from medsins_datasets.sources.converters import Converter, RawFile, TaskWriter
from medsins_datasets.errors import SourceError

from ._rawfiles import (
    TEST_PER_TASK, Outputs, Reservoir, content_free_errors, first_match, heldout, iter_csv, where
)

TASK = "task76"
HEADING = "Discharge Instructions:"
_HEADING_RE = re.compile(r"^[ \t]*Discharge Instructions:[ \t]*$", re.MULTILINE)
_FOLLOWUP_RE = re.compile(r"^[ \t]*Followup Instructions:", re.MULTILINE)

DEFINITIONS = {
    TASK: (
        "Below is a hospital discharge summary without its final part. Write the missing 'Discharge "
        "Instructions' section: what the patient should know and do after leaving the hospital, in plain "
        "language addressed to the patient."
    ),
}


CLEAN_NOTE = ("no newline removal; the instructions stop at the 'Followup Instructions:' heading; trailing spaces "
              "and extra blank lines removed")
OFFICIAL_SPLIT = "Discharge Instructions:\n"


def remove_unnecessary_newlines(text: str) -> str:
    """The official newline removal, with its word-gluing slip fixed (see the module docstring)."""
    text = text.replace(":\n", ":<COLON_NEWLINE>")
    text = re.sub(r"\n([a-z_])", r" \1", text)  # officially r"\1" (glued the words) and "," included
    text = re.sub(r"\n,", ",", text)
    text = re.sub(r"\n\s+([a-z])", r" \1", text)
    text = re.sub(r"\n([,;:'\"().])", r"\1", text)
    return text.replace(":<COLON_NEWLINE>", ":\n")


def official_split(text: str) -> tuple[str, str] | None:
    """(input, output) as the official script splits a summary, or None."""
    text = remove_unnecessary_newlines(text)
    if OFFICIAL_SPLIT not in text:
        return None
    before, after = text.split(OFFICIAL_SPLIT, 1)
    if not before.strip() or not after.strip():
        return None
    return before, OFFICIAL_SPLIT + after


def _tidy(text: str) -> str:
    lines = [ln.rstrip() for ln in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def split_summary(text: str) -> tuple[str, str] | None:
    """(summary before the instructions, the instructions section with its heading) or None."""
    m = _HEADING_RE.search(text)
    if m is None:
        return None
    before, after = text[: m.start()], text[m.end():]
    f = _FOLLOWUP_RE.search(after)
    if f is not None:
        after = after[: f.start()]
    before, after = _tidy(before), _tidy(after)
    if not before or not after:
        return None
    return before, f"{HEADING}\n{after}"


@content_free_errors("MIMIC-IV-Note discharge")
def convert(data_dir: Path, writer: TaskWriter) -> None:
    path = first_match(data_dir, ("discharge.csv", "discharge.csv.gz"))
    assert path is not None
    out = Outputs(writer, DEFINITIONS)
    test = Reservoir(TEST_PER_TASK, "mimic-iv-note-discharge")
    n_rows = n_used = 0
    for line, row in iter_csv(path, ("note_id", "subject_id", "text")):
        n_rows += 1
        subject, note_id = row["subject_id"].strip(), row["note_id"].strip()
        for name, value in (("subject_id", subject), ("note_id", note_id)):
            if not value:
                raise SourceError(f"{where(path, line, name)}: empty")
        parts = split_summary(row["text"]) if writer.clean else official_split(row["text"])
        if parts is None:
            continue
        n_used += 1
        if heldout(subject):
            test.offer((note_id, *parts))
        else:
            out.add(TASK, "train", parts[0], parts[1], id=note_id)
    if n_used == 0:
        raise SourceError(
            f"{where(path)}: none of its {n_rows} summaries has a non-empty '{HEADING}' section; "
            "is this MIMIC-IV-Note's discharge file?"
        )
    for note_id, inp, outp in test.items():
        out.add(TASK, "test", inp, outp, id=note_id)
    out.report_empty("MIMIC-IV-Note discharge", (TASK,), ("train", "test"))


CONVERTER = Converter(
    name="mimic_iv_note_discharge",
    source="MIMIC-IV-Notes",
    access="credentialed",
    raw_files=(
        RawFile("discharge.csv*", "MIMIC-IV-Note discharge summaries, note/discharge.csv.gz (or unpacked .csv)"),
    ),
    task_ids=(TASK,),
    convert=convert,
    version="2",
    clean_note=CLEAN_NOTE,
    notes="Credentialed. Test file: 100 summaries from 5% held-out patients (subject_id hash).",
)
