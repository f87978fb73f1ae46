"""Species-800 (S800) organism corpus, IOB version -> task128 (organism NER, in MedS-Bench).

Raw files: the ``s800/`` folder of the BioBERT NER data (github.com/dmis-lab/biobert, the copy
behind the Hugging Face ``species_800`` dataset that the official MedS-Ins preparation names)
with ``train.tsv``, ``devel.tsv`` and ``test.tsv`` (``word<TAB>tag``, a blank line between
sentences; untyped tags ``B`` / ``I`` / ``O``). Pass the folder that holds ``s800/`` as
``--data-dir``. Species-800 is not among the corpora of github.com/cambridgeltl/MTL-Bioinformatics-2016
(not found in its ``data/`` listing); a typed ``B-Species`` copy in the same layout converts too.

Splits: train instances from ``train.tsv`` + ``devel.tsv``, test instances from ``test.tsv``
only. The official preparation script (``species800_named_entity_recognition.py``) builds its
file from ``test.tsv``; that is not repeated here - the training task never reads the test file
(a test checks that no test sentence reaches the training file).

Format as the other NER tasks (``_iob.py``): input = the sentence, output = the distinct
organism mentions ``m1, m2.`` or ``There is no related enetity.`` (the official scorer's
spelling; the official Species-800 script wrote "entity", which the scorer would not accept).
"""

from __future__ import annotations

from pathlib import Path

from medsins_datasets.convert import Converter, TaskWriter

from ._iob import iob_raw_files, write_ner

FOLDER = "s800"
TASK = "task128"
HOMEPAGE = "https://species.jensenlab.org/"
BIOBERT = "github.com/dmis-lab/biobert (NER data, folder s800/)"
DEFINITIONS = {TASK: ("Given a sentence, list the names of the organisms it mentions, separated by commas. "
                      "If it mentions none, output \"There is no related enetity.\".")}


def convert(data_dir: Path, writer: TaskWriter) -> None:
    write_ner(writer, data_dir, FOLDER, {
        TASK: {"splits": ("train", "test"), "style": "list", "definition": DEFINITIONS[TASK]},
    })


CONVERTER = Converter(
    name="species800",
    source="Species-800",
    homepage=HOMEPAGE,
    license="unknown (Species-800 corpus terms; see species.jensenlab.org)",
    access="public",
    raw_files=iob_raw_files(FOLDER, "Species-800", BIOBERT),
    task_ids=(TASK,),
    convert=convert,
    notes="--data-dir is the folder holding s800/ (BioBERT NER data). Training uses train+devel only, never test.tsv.",
)
