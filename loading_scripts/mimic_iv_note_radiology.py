"""MIMIC-IV-Note radiology reports (PhysioNet, credentialed) -> 17 summarization tasks and
the modality / anatomy classification tasks (task78-task96).

Raw file: ``radiology.csv.gz`` (or the unpacked ``radiology.csv``) from the ``note/``
folder of MIMIC-IV-Note (columns note_id, subject_id, hadm_id, note_type, note_seq,
charttime, storetime, text).

Sections (default), cut as the official scripts (``mimic_iv_modality_anatomy_summaries.py``,
``mimic_modality_and_anatomy_classification.py``) cut them: only reports containing
``FINDINGS:``, ``IMPRESSION:``, ``EXAMINATION:`` and ``INDICATION:`` are used; findings = the text
between the first ``FINDINGS:`` and the first ``IMPRESSION:``, impression = the text after
``IMPRESSION:`` to the end of the report, examination = the text between ``EXAMINATION:`` and
``INDICATION:``, each stripped, line breaks kept. ``--clean``: the sections parsed by heading
(``_reports.py``: a section stops at the next top-level heading, so the impression no longer
carries trailing NOTIFICATION / RECOMMENDATION paragraphs) and reflowed (hard line wraps joined;
paragraphs and list items kept); INDICATION is then not required. Reports whose findings or
impression come out empty are skipped (documented fix: the script's slices give an empty input
when IMPRESSION precedes FINDINGS).

Task layout (the official ``mimic_iv_modality_anatomy_summaries.py`` numbering):

* task78-82 = modality index + 75 for Ultrasound, Angiography, Mammogram, Pathology,
  Fluoroscopy: findings -> impression, for every report whose EXAMINATION line names the
  modality;
* task83-94 = 83 + 6*m + a for m in (CT, MRI) and a in (Chest, Head_and_neck, Brain,
  Abdomen, Pelvis, Spine): findings -> impression;
* task95: findings + impression -> "The imaging modality used for the diagnosis is X."
  (or "The imaging modalities ... are X, Y."), at most 10,000 training reports per
  modality as officially;
* task96: findings + impression -> "The anatomical location of the diagnosis is X." (X as the
  official script writes it: Chest, Head_and_neck, Brain...; ``--clean`` writes "Head and neck"),
  at most 10,000 training reports per anatomy.

Modality / anatomy come from keywords of the EXAMINATION line, the rules of the official
``mimic_modality_and_anatomy_classification.py``: ``x-ray``, the words CT/CTA, MR/MRI/MRA,
``ultrasound``, ``angiography``, ``mammogram``, ``pathology``, ``fluoroscopy``; anatomy is
the first of chest, head or neck, brain, abdomen, pelvis, spine. The official summary
script used weaker rules that we do not repeat: "ct" as a substring (any "CONTRAST" exam
counted as CT, so contrast MRIs landed in the CT tasks) and the literal "head_and_neck"
(never present, so the two head-and-neck tasks stayed empty).

Splits: MIMIC-IV-Note has none. A fixed hash of ``subject_id`` holds out 5 % of patients
(the same patients in every MIMIC converter); training files hold the other patients'
reports, test files a seeded sample of 100 held-out reports per task (the paper's size).
Task78 (ultrasound) and task83-94 (CT / MRI) are MedS-Bench summarization tasks.
"""

from __future__ import annotations

from pathlib import Path

from medsins_datasets.sources.converters import Converter, RawFile, TaskWriter
from medsins_datasets.errors import SourceError

from ._rawfiles import (
    TEST_PER_TASK, Outputs, Reservoir, content_free_errors, first_match, heldout, iter_csv, where
)
from ._reports import reflow, sections

MODALITY = ("X-ray", "CT", "MRI", "Ultrasound", "Angiography", "Mammogram", "Pathology", "Fluoroscopy")
ANATOMY = ("Chest", "Head_and_neck", "Brain", "Abdomen", "Pelvis", "Spine")
ANATOMY_WORDS = ("chest", "head and neck", "brain", "abdomen", "pelvis", "spine")
MAX_PER_CLASS = 10_000

#: modality index (3..7) -> task id (official formula idx + 75)
MODALITY_TASKS = {i: f"task{i + 75}" for i in range(3, 8)}
#: (0 = CT / 1 = MRI, anatomy index) -> task id (official formula 83 + 6*m + a)
CT_MRI_TASKS = {(m, a): f"task{83 + 6 * m + a}" for m in range(2) for a in range(len(ANATOMY))}
TASK_IDS = tuple(sorted(set(MODALITY_TASKS.values()) | set(CT_MRI_TASKS.values()) | {"task95", "task96"},
                        key=lambda t: int(t[4:])))


def _definitions() -> dict[str, str]:
    """Our own fallback wording (the official definitions file replaces it when given)."""
    d = {}
    for i, tid in MODALITY_TASKS.items():
        d[tid] = (f"Below are the findings of a {MODALITY[i].lower()} report. Write the report's impression: "
                  "a brief conclusion of the findings.")
    for (m, a), tid in CT_MRI_TASKS.items():
        d[tid] = (f"Below are the findings of a {MODALITY[1 + m]} report of the {ANATOMY_WORDS[a]}. Write the "
                  "report's impression: a brief conclusion of the findings.")
    d["task95"] = ("Below are the findings and impression of an imaging report. Name the imaging modality (or "
                   "modalities) of the examination.")
    d["task96"] = ("Below are the findings and impression of an imaging report. Name the body region the "
                   "examination covers.")
    return d


DEFINITIONS = _definitions()


def modalities(exam: str) -> list[int]:
    """Modality indices named by an EXAMINATION line (official keyword rules)."""
    low, words = exam.lower(), exam.split()
    found = []
    if "x-ray" in low:
        found.append(0)
    if "CT" in words or "CTA" in words:
        found.append(1)
    if "MRI" in words or "MR" in words or "MRA" in words:
        found.append(2)
    for i, word in ((3, "ultrasound"), (4, "angiography"), (5, "mammogram"), (6, "pathology"), (7, "fluoroscopy")):
        if word in low:
            found.append(i)
    return found


def anatomy(exam: str) -> int:
    """Anatomy index named by an EXAMINATION line (first match), or -1."""
    low = exam.lower()
    for i, words in enumerate((("chest",), ("head", "neck"), ("brain",), ("abdomen",), ("pelvis",), ("spine",))):
        if any(w in low for w in words):
            return i
    return -1


def modality_answer(mods: list[int]) -> str:
    if len(mods) == 1:
        return f"The imaging modality used for the diagnosis is {MODALITY[mods[0]]}."
    return "The imaging modalities used for the diagnosis are " + ", ".join(MODALITY[i] for i in mods) + "."


def anatomy_answer(a: int, clean: bool = False) -> str:
    name = ANATOMY_WORDS[a].capitalize() if clean else ANATOMY[a]
    return f"The anatomical location of the diagnosis is {name}."


CLEAN_NOTE = ("sections parsed by heading (impression stops at the next heading) and reflowed; anatomy label "
              "'Head and neck' instead of 'Head_and_neck'")

_OFFICIAL_HEADINGS = ("FINDINGS:", "IMPRESSION:", "EXAMINATION:", "INDICATION:")


def official_parts(text: str) -> tuple[str, str, str] | None:
    """(examination, findings, impression) cut as the official scripts cut them, or None."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")  # the scripts read the CSV in text mode
    if not all(h in text for h in _OFFICIAL_HEADINGS):
        return None
    f, i = text.find("FINDINGS:"), text.find("IMPRESSION:")
    findings = text[f + len("FINDINGS:"):i].strip()
    impression = text[i + len("IMPRESSION:"):].strip()
    exam = text[text.find("EXAMINATION:") + len("EXAMINATION:"):text.find("INDICATION:")].strip()
    return (exam, findings, impression) if findings and impression else None


def report_parts(text: str, clean: bool = False) -> tuple[str, str, str] | None:
    """(examination, findings, impression) of a report, or None when one is missing/empty."""
    if not clean:
        return official_parts(text)
    sec = sections(text)
    exam, findings = sec.get("EXAMINATION") or sec.get("EXAM"), sec.get("FINDINGS")
    impression = sec.get("IMPRESSION") or sec.get("IMPRESSIONS")
    if exam is None or findings is None or impression is None:
        return None
    exam, findings, impression = " ".join(exam.split()), reflow(findings), reflow(impression)
    if not (exam and findings and impression):
        return None
    return exam, findings, impression


def route(exam: str, findings: str, impression: str, clean: bool = False) -> list[tuple[str, str, str]]:
    """[(task id, input, output)] for one report (classification tasks not capped here)."""
    out: list[tuple[str, str, str]] = []
    mods = modalities(exam)
    for i in mods:
        if i in MODALITY_TASKS:
            out.append((MODALITY_TASKS[i], findings, impression))
    a = anatomy(exam)
    if (1 in mods or 2 in mods) and a >= 0:
        out.append((CT_MRI_TASKS[(0 if 1 in mods else 1, a)], findings, impression))
    both = f"{findings}\n{impression}"
    if mods:
        out.append(("task95", both, modality_answer(mods)))
    if a >= 0:
        out.append(("task96", both, anatomy_answer(a, clean)))
    return out


@content_free_errors("MIMIC-IV-Note radiology")
def convert(data_dir: Path, writer: TaskWriter) -> None:
    path = first_match(data_dir, ("radiology.csv", "radiology.csv.gz"))
    assert path is not None  # checked by Converter.check_raw_files
    out = Outputs(writer, DEFINITIONS)
    tests = {t: Reservoir(TEST_PER_TASK, f"mimic-iv-note-radiology-{t}") for t in TASK_IDS}
    mod_count = [0] * len(MODALITY)
    ana_count = [0] * len(ANATOMY)
    n_rows = n_used = 0
    for line, row in iter_csv(path, ("note_id", "subject_id", "text")):
        n_rows += 1
        subject, note_id = row["subject_id"].strip(), row["note_id"].strip()
        if not subject:
            raise SourceError(f"{where(path, line, 'subject_id')}: empty")
        if not note_id:
            raise SourceError(f"{where(path, line, 'note_id')}: empty")
        parts = report_parts(row["text"], writer.clean)
        if parts is None:
            continue
        n_used += 1
        routed = route(*parts, clean=writer.clean)
        if heldout(subject):
            for tid, inp, outp in routed:
                tests[tid].offer((note_id, inp, outp))
            continue
        mods = modalities(parts[0])
        for tid, inp, outp in routed:
            if tid == "task95":
                if any(mod_count[i] >= MAX_PER_CLASS for i in mods):
                    continue
                for i in mods:
                    mod_count[i] += 1
            elif tid == "task96":
                a = anatomy(parts[0])
                if ana_count[a] >= MAX_PER_CLASS:
                    continue
                ana_count[a] += 1
            out.add(tid, "train", inp, outp, id=note_id)
    if n_used == 0:
        raise SourceError(
            f"{where(path)}: none of its {n_rows} report(s) has non-empty EXAMINATION, FINDINGS and IMPRESSION "
            "sections (and, without --clean, an INDICATION heading); is this MIMIC-IV-Note's radiology file?"
        )
    for tid in TASK_IDS:
        for note_id, inp, outp in tests[tid].items():
            out.add(tid, "test", inp, outp, id=note_id)
    out.report_empty("MIMIC-IV-Note radiology", TASK_IDS, ("train", "test"))


CONVERTER = Converter(
    name="mimic_iv_note_radiology",
    source="MIMIC-IV",
    access="credentialed",
    raw_files=(
        RawFile("radiology.csv*", "MIMIC-IV-Note radiology reports, note/radiology.csv.gz (or unpacked .csv)"),
    ),
    task_ids=TASK_IDS,
    convert=convert,
    version="2",
    clean_note=CLEAN_NOTE,
    notes="Credentialed. Test files: 100 reports per task from 5% held-out patients (subject_id hash).",
)
