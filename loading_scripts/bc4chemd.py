"""BioCreative IV CHEMDNER corpus (BC4CHEMD), IOB version -> task125 (chemical NER, in MedS-Bench).

Raw files: the ``BC4CHEMD-IOB/`` folder of github.com/cambridgeltl/MTL-Bioinformatics-2016
(``data/``) with ``train.tsv``, ``devel.tsv`` and ``test.tsv`` (``word<TAB>tag``, a blank line
between sentences, tags ``B-Chemical`` / ``I-Chemical`` / ``O``). Pass the folder that holds
``BC4CHEMD-IOB/`` as ``--data-dir``. The MTL repository notes that the redistribution status of
this corpus is unclear; it is also public from the BioCreative IV CHEMDNER page.

Not confirmed: the folder name ``BC4CHEMD-IOB`` is taken from the naming of the other corpora of
that repository (``BC4CHEMD-IOBES`` is widely cited); the file content was not inspected. The
BioBERT copy (folder ``BC4CHEMD/``, untyped ``B``/``I`` tags) has the same file names and also
converts if the folder is renamed or linked as ``BC4CHEMD-IOB``.

Splits: train instances from ``train.tsv`` + ``devel.tsv``, test instances from ``test.tsv`` only
(the corpus's official split). Input = the sentence (tokens re-joined), output = the official
entity list (``m1, m2.``) or ``There is no related enetity.`` (format and scorer:
``loading_scripts/_iob.py``). MedS-Bench evaluated a sample of 50 test sentences; the full
test file is written here.
"""

from __future__ import annotations

from pathlib import Path

from medsins_datasets.convert import Converter, TaskWriter

from ._iob import iob_raw_files, write_ner

FOLDER = "BC4CHEMD-IOB"
TASK = "task125"
DEFINITIONS = {TASK: ("Given a sentence, list the names of the chemicals it mentions, separated by commas. "
                      "If it mentions none, output \"There is no related enetity.\".")}


def convert(data_dir: Path, writer: TaskWriter) -> None:
    write_ner(writer, data_dir, FOLDER, {
        TASK: {"splits": ("train", "test"), "style": "list", "definition": DEFINITIONS[TASK]},
    })


CONVERTER = Converter(
    name="bc4chemd",
    source="BC4-Chem",
    homepage="https://biocreative.bioinformatics.udel.edu/tasks/biocreative-iv/chemdner/",
    license="unknown (redistribution status unclear per MTL-Bioinformatics-2016; CHEMDNER corpus terms apply)",
    access="public",
    raw_files=iob_raw_files(FOLDER),
    task_ids=(TASK,),
    convert=convert,
    notes="--data-dir is the folder holding BC4CHEMD-IOB/ (MTL-Bioinformatics-2016 data/).",
)
