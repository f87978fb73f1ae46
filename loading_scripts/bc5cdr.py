"""BioCreative V CDR (BC5CDR), IOB version -> task126 (chemical NER), task127 (disease NER,
MedS-Bench test-only) and task28 (the Super-NaturalInstructions-style disease task).

Raw files: the ``BC5CDR-chem-IOB/`` and ``BC5CDR-disease-IOB/`` folders of
github.com/cambridgeltl/MTL-Bioinformatics-2016 (``data/``), each with ``train.tsv``,
``devel.tsv`` and ``test.tsv`` (``word<TAB>tag``, a blank line between sentences). Pass the
folder that holds them as ``--data-dir``.

Splits: train instances from ``train.tsv`` + ``devel.tsv``, test instances from ``test.tsv``
only (the corpus's official split). task127 is test-only in MedS-Bench, so only its test split
is written.

* task126 / task127: by default the instances of the official NER preparation
  (``data_preparing/species800_named_entity_recognition.py``, whose layout the official NER files
  share; see ``_iob.py``): input = the tokens joined with ``. , ; : ? !`` glued, output = every
  mention in order, duplicates kept, ``m1, m2.``, or ``There is no related enetity.`` (sic, the
  published files' and scorer's spelling; the script wrote "entity") for sentences without one.
* task28 (SuperNI 1449 style, "write one of them"): only sentences with a disease mention;
  every distinct mention is an accepted output.

``--clean``: readable detokenisation, mentions cut from it and de-duplicated (``_iob.py``).

MedS-Bench evaluated samples of these test sets (A.2 of the paper); the full test files are
written here - sample with ``medsins build``/the bench runner, not here.
"""

from __future__ import annotations

from pathlib import Path

from medsins_datasets.sources.converters import Converter, RawFile, TaskWriter

from ._iob import IOB_CLEAN_NOTE, MTL_HOMEPAGE, write_ner

CHEM, DISEASE = "BC5CDR-chem-IOB", "BC5CDR-disease-IOB"

DEFINITIONS = {
    "task126": ("Given a sentence, list the names of the chemicals it mentions, separated by commas. "
                "If it mentions none, output \"There is no related enetity.\"."),
    "task127": ("Given a sentence, list the names of the diseases it mentions, separated by commas. "
                "If it mentions none, output \"There is no related enetity.\"."),
    "task28": "Given a sentence, write the name of a disease or disorder it mentions (one of them if there are several).",
}


def convert(data_dir: Path, writer: TaskWriter) -> None:
    write_ner(writer, data_dir, CHEM, {
        "task126": {"splits": ("train", "test"), "style": "list", "definition": DEFINITIONS["task126"]},
    })
    write_ner(writer, data_dir, DISEASE, {
        "task127": {"splits": ("test",), "style": "list", "definition": DEFINITIONS["task127"]},
        "task28": {"splits": ("train", "test"), "style": "superni", "definition": DEFINITIONS["task28"]},
    })


CONVERTER = Converter(
    name="bc5cdr",
    source="BioCreative V (BC5CDR)",
    access="public",
    raw_files=tuple(
        RawFile(f"{folder}/{name}", f"{folder} {name} (IOB, from {MTL_HOMEPAGE})", required=name != "devel.tsv")
        for folder in (CHEM, DISEASE) for name in ("train.tsv", "devel.tsv", "test.tsv")
    ),
    task_ids=("task126", "task127", "task28"),
    convert=convert,
    version="2",
    clean_note=IOB_CLEAN_NOTE,
    notes="--data-dir is the folder holding BC5CDR-chem-IOB/ and BC5CDR-disease-IOB/ "
          "(MTL-Bioinformatics-2016 data/). task28 is also produced by the superni converter from SuperNI task1449.",
)
