"""LINNAEUS species corpus, IOB version -> task33.

Raw files: the ``linnaeus-IOB/`` folder of github.com/cambridgeltl/MTL-Bioinformatics-2016
(``data/``) with ``train.tsv``, ``devel.tsv`` and ``test.tsv`` (``word<TAB>tag``, a blank line
between sentences). Pass the folder that holds ``linnaeus-IOB/`` as ``--data-dir``.

Splits: train instances from ``train.tsv`` + ``devel.tsv``, test instances from ``test.tsv``
only. task33 follows its Super-NaturalInstructions original (SuperNI task1484): only sentences
with a mention, every distinct mention being an accepted answer ("write one of them"); the
superni converter produces the same task from the SuperNI file. Inputs are joined as the
official NER preparation joins tokens (``. , ; : ? !`` glued to the previous token, see
``_iob.py``), mentions are their tokens joined by spaces, de-duplicated exactly; ``--clean`` gives
readable detokenisation and case-insensitive de-duplication.

The official (SuperNI) definition of task33 asks for genes or proteins although LINNAEUS annotates
species names; the outputs written here are the corpus's species mentions, as in SuperNI.
"""

from __future__ import annotations

from pathlib import Path

from medsins_datasets.sources.converters import Converter, TaskWriter

from ._iob import IOB_CLEAN_NOTE, iob_raw_files, write_ner

FOLDER = "linnaeus-IOB"
TASK = "task33"
DEFINITIONS = {TASK: "Given a sentence, write the name of a species (organism) it mentions (one of them if there are several)."}


def convert(data_dir: Path, writer: TaskWriter) -> None:
    write_ner(writer, data_dir, FOLDER, {
        TASK: {"splits": ("train", "test"), "style": "superni", "definition": DEFINITIONS[TASK]},
    })


CONVERTER = Converter(
    name="linnaeus",
    source="Linnaeus Corpus",
    access="public",
    raw_files=iob_raw_files(FOLDER),
    task_ids=(TASK,),
    convert=convert,
    version="2",
    clean_note=IOB_CLEAN_NOTE,
    notes="--data-dir is the folder holding linnaeus-IOB/ (MTL-Bioinformatics-2016 data/). Outputs are species mentions (the official task33 definition says gene/protein, a SuperNI slip).",
)
