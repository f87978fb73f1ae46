"""Species-800 (S800) organism corpus, IOB version -> task128 (organism NER, in MedS-Bench).

Raw files: the ``s800/`` folder of the BioBERT NER data (github.com/dmis-lab/biobert, the copy
behind the Hugging Face ``species_800`` dataset that the official MedS-Ins preparation names)
with ``train.tsv``, ``devel.tsv`` and ``test.tsv`` (``word<TAB>tag``, a blank line between
sentences; untyped tags ``B`` / ``I`` / ``O``). Pass the folder that holds ``s800/`` as
``--data-dir``. Species-800 is not among the corpora of github.com/cambridgeltl/MTL-Bioinformatics-2016
(not found in its ``data/`` listing); a typed ``B-Species`` copy, or an IOBES one, converts too.

Instances (default) are those of the official preparation script
(``data_preparing/species800_named_entity_recognition.py``), described in ``_iob.py``: input =
the tokens joined with ``. , ; : ? !`` glued, output = every organism mention in order
(duplicates kept) joined by ``", "`` and ended by ``"."``. ``--clean``: readable detokenisation and
de-duplicated mentions (``_iob.py``).

Documented differences from the official script (bug fixes):

* split: the script built its (training) file from ``test.tsv``, the test split of MedS-Bench's
  task128, so the benchmark's test sentences were training data. Here train instances come from
  ``train.tsv`` + ``devel.tsv`` and test instances from ``test.tsv`` only (a test checks that no
  test sentence reaches the training file);
* no-entity answer: ``There is no related enetity.`` (sic), the spelling of the published
  MedS-Bench NER files and of the official scorer; the script wrote "entity", which the scorer
  would not recognise as the empty answer.
"""

from __future__ import annotations

from pathlib import Path

from medsins_datasets.registry.source_datasets import source_dataset
from medsins_datasets.sources.converters import Converter, TaskWriter

from ._iob import IOB_CLEAN_NOTE, iob_raw_files, write_ner

FOLDER = "s800"
TASK = "task128"
HOMEPAGE = source_dataset("Species-800").homepage  # data/sources.csv
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
    access="public",
    raw_files=iob_raw_files(FOLDER, "Species-800", BIOBERT),
    task_ids=(TASK,),
    convert=convert,
    version="2",
    notes="--data-dir is the folder holding s800/ (BioBERT NER data). Training uses train+devel only, never test.tsv.",
    clean_note=IOB_CLEAN_NOTE,
)
