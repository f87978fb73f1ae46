"""BioCreative IV CHEMDNER corpus (BC4CHEMD) -> task125 (chemical NER, in MedS-Bench).

Raw files: one BC4CHEMD folder of github.com/cambridgeltl/MTL-Bioinformatics-2016 (``data/``)
with ``train.tsv``, ``devel.tsv`` and ``test.tsv`` (``word<TAB>tag``, a blank line between
sentences). Pass the folder that holds it as ``--data-dir``. The folder may be named as the
copies users actually have: ``BC4CHEMD/`` (the MTL repository's name; also BioBERT's, whose tags
are untyped ``B`` / ``I``), ``BC4CHEMD-IOBES/`` (MTL; ``S-`` / ``E-`` tags, read as IOB by
``_iob.py``: the same instances as the IOB tagging) or ``BC4CHEMD-IOB/`` (the naming of MTL's
other corpora). When several are present, ``BC4CHEMD-IOB/``, then ``BC4CHEMD/``, then
``BC4CHEMD-IOBES/`` is used (logged). The MTL repository notes that the redistribution status of
this corpus is unclear; it is also public from the BioCreative IV CHEMDNER page.

Instances (default): those of the official NER preparation (the published MedS-Ins script is
``data_preparing/species800_named_entity_recognition.py``; the official NER files share its
layout, see ``_iob.py``): input = the tokens joined with ``. , ; : ? !`` glued to the previous
token, output = every chemical mention in order, duplicates kept, ``m1, m2.``, or ``There is no
related enetity.`` (sic: the published files' and scorer's spelling; the script wrote "entity").
``--clean``: readable detokenisation, mentions cut from it and de-duplicated.

Splits: train instances from ``train.tsv`` + ``devel.tsv``, test instances from ``test.tsv`` only
(the corpus's official split). MedS-Bench evaluated a sample of 50 test sentences
(``medsins convert --paper-test-sizes``); the full test file is written by default.
"""

from __future__ import annotations

import logging
from pathlib import Path

from medsins_datasets.sources.converters import Converter, RawFile, TaskWriter
from medsins_datasets.errors import SourceError

from ._iob import IOB_CLEAN_NOTE, MTL_HOMEPAGE, write_ner

logger = logging.getLogger(__name__)

#: accepted folder names, in order of preference
FOLDERS = ("BC4CHEMD-IOB", "BC4CHEMD", "BC4CHEMD-IOBES")
TASK = "task125"
DEFINITIONS = {TASK: ("Given a sentence, list the names of the chemicals it mentions, separated by commas. "
                      "If it mentions none, output \"There is no related enetity.\".")}


def corpus_folder(data_dir: Path) -> str:
    """The BC4CHEMD folder to read: the first of :data:`FOLDERS` with train.tsv and test.tsv."""
    complete = [f for f in FOLDERS if (data_dir / f / "train.tsv").is_file() and (data_dir / f / "test.tsv").is_file()]
    if not complete:
        raise SourceError(f"BC4-Chem: no folder with train.tsv and test.tsv among {', '.join(f + '/' for f in FOLDERS)} "
                          f"in {data_dir} (distributed at {MTL_HOMEPAGE})")
    if len(complete) > 1:
        logger.info("BC4-Chem: %s/ used (also present: %s)", complete[0], ", ".join(f + "/" for f in complete[1:]))
    return complete[0]


def convert(data_dir: Path, writer: TaskWriter) -> None:
    write_ner(writer, data_dir, corpus_folder(data_dir), {
        TASK: {"splits": ("train", "test"), "style": "list", "definition": DEFINITIONS[TASK]},
    })


CONVERTER = Converter(
    name="bc4chemd",
    source="BC4-Chem",
    access="public",
    raw_files=tuple(
        RawFile(f"BC4CHEMD*/{name}", f"BC4CHEMD {name} (IOB or IOBES; folder {', '.join(FOLDERS)}; from {MTL_HOMEPAGE})",
                required=name != "devel.tsv")
        for name in ("train.tsv", "devel.tsv", "test.tsv")
    ),
    task_ids=(TASK,),
    convert=convert,
    version="2",
    notes="--data-dir is the folder holding BC4CHEMD/, BC4CHEMD-IOBES/ or BC4CHEMD-IOB/ (MTL-Bioinformatics-2016 data/).",
    clean_note=IOB_CLEAN_NOTE,
)
