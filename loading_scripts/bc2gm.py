"""BioCreative II gene mention corpus (BC2GM), IOB version -> task31 (gene/protein name recognition).

Raw files: the ``BC2GM-IOB/`` folder of github.com/cambridgeltl/MTL-Bioinformatics-2016
(``data/``) with ``train.tsv``, ``devel.tsv`` and ``test.tsv`` (``word<TAB>tag``, a blank line
between sentences). Pass the folder that holds ``BC2GM-IOB/`` as ``--data-dir``.

Splits: train instances from ``train.tsv`` + ``devel.tsv``, test instances from ``test.tsv``
only. task31 follows its Super-NaturalInstructions original (SuperNI task1481): only sentences
with a mention, every distinct mention being an accepted answer ("write one of them"); the
superni converter produces the same task from the SuperNI file. Inputs are joined as the
official NER preparation joins tokens (``. , ; : ? !`` glued to the previous token, see
``_iob.py``), mentions are their tokens joined by spaces, de-duplicated exactly; ``--clean`` gives
readable detokenisation and case-insensitive de-duplication.
"""

from __future__ import annotations

from pathlib import Path

from medsins_datasets.sources.converters import Converter, TaskWriter

from ._iob import IOB_CLEAN_NOTE, iob_raw_files, write_ner

FOLDER = "BC2GM-IOB"
TASK = "task31"
DEFINITIONS = {TASK: "Given a sentence, write the name of a gene or protein it mentions (one of them if there are several)."}


def convert(data_dir: Path, writer: TaskWriter) -> None:
    write_ner(writer, data_dir, FOLDER, {
        TASK: {"splits": ("train", "test"), "style": "superni", "definition": DEFINITIONS[TASK]},
    })


CONVERTER = Converter(
    name="bc2gm",
    source="BC2GM",
    access="public",
    raw_files=iob_raw_files(FOLDER),
    task_ids=(TASK,),
    convert=convert,
    version="2",
    clean_note=IOB_CLEAN_NOTE,
    notes="--data-dir is the folder holding BC2GM-IOB/ (MTL-Bioinformatics-2016 data/).",
)
