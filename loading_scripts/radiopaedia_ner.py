"""Radiopaedia caption NER (RaTE-NER, Radiopaedia part) -> task72 (decompose a radiology report
sentence into its Anatomy / Abnormality / Non-Abnormality / Disease parts).

Provenance. The official MedS-Ins preparation script for task72,
``data_preparing/report_entity_report.py`` in github.com/MAGIC-AI4Med/MedS-Ins (source name
``radiopaedio_caption_ner``, contributor Weike Zhao), reads an internal file
``Report_NER/train_new_new.jsonl``: for each JSON line it takes the tokens
``sentences[0]`` and the spans ``ner[0]`` (``[start, end, type]``, ``end`` inclusive) and writes
``repr([[" ".join(tokens[start:end + 1]), type], ...])`` as the output. The internal file is
not public. The same contributor (Weike Zhao, MAGIC-AI4Med) is first author of RaTE-NER,
https://huggingface.co/datasets/Angelakeke/RaTE-NER (paper arXiv:2406.16845), a
radiology NER set with the same record layout, a Radiopaedia part, and task72's entity types
(``label2idx.json``: ABNORMALITY, NON-ABNORMALITY, DISEASE, NON-DISEASE, ANATOMY); this
converter reads that public release as the closest available source.

Raw files, as the dataset repository lays them out (``--data-dir`` is the root of a download
of it): ``Radiopaedia/train_span.json`` (required), ``Radiopaedia/dev_span.json`` and
``Radiopaedia/test_span.json`` (optional). The ``*_span.json`` files are JSON lines, one
sentence per line: ``{"note_id": ..., "sentences": [[token, ...]], "ner": [[[start, end,
type], ...]]}`` - the layout the official script reads (``sentences``/``ner``, inclusive end),
confirmed from the dataset card's file list and from public code that reads
``RaTE-NER/train_span.json`` line by line with ``rec["sentences"][0]``, ``rec["ner"][0]`` and
``tokens[s:e + 1]``. ``MIMIC_IV/`` and ``all/`` (which includes the MIMIC-IV sentences, data
under the PhysioNet credentialed licence) are never read; the ``*_IOB.json`` files are not
used either.

Instances: input = the sentence's tokens joined by spaces (the official script used a
``subtext`` field of its internal file, which the public files are not known to have); output
= the official format, ``repr`` of ``[[part, type], ...]`` in the file's span order, the type
spelled as the file spells it (as the official script did). A sentence without entities gets
``[]``, as in the official script. ``--clean``: parts sorted by position (the definition asks for
the order of the sentence; the file order normally is the same) and types stripped. The fifth RaTE type,
NON-DISEASE, is kept although the definition names only four parts. Not confirmed: the exact
spelling of the types in the span files (upper case in the IOB tag set; the converter accepts
the five types in any case and errs on any other type) and whether the internal training file
was exactly the released Radiopaedia training set.

Splits: the release's own - train -> train, dev -> validation, test -> test (its test set is
the manually labelled one; train/dev were annotated with GPT-4 help). task72 is not in
MedS-Bench. Instance ids: ``<split>-<line>``.
"""

from __future__ import annotations

import logging
from pathlib import Path

from medsins_datasets.registry.source_datasets import source_dataset
from medsins_datasets.sources.converters import Converter, RawFile, TaskWriter
from medsins_datasets.errors import SourceError

from ._rawfiles import iter_jsonl, where

logger = logging.getLogger(__name__)

TASK = "task72"
SOURCE = "Radiopaedia Caption NER"
HOMEPAGE = source_dataset("Radiopaedia Caption NER").homepage  # data/sources.csv
FOLDER = "Radiopaedia"
SPLITS = {"train": "train_span.json", "validation": "dev_span.json", "test": "test_span.json"}
TYPES = ("ANATOMY", "ABNORMALITY", "NON-ABNORMALITY", "DISEASE", "NON-DISEASE")
DEFINITIONS = {TASK: (
    "In this task, you have to decompose a medical clinical report sentence. I will input a sentence scratched from "
    "a medical report and your goal is to decompose it into Anatomy part, Abnormality part, Non-Abnormality part, or "
    "Disease part.In output, you have to organize the answer in a typical python list format, like "
    "'[[A,type],[B,type],...]' and please do not destroy the order in which the original part appears in the given "
    "sentence. ")}


def _fail(path: Path, line: int, field: str, problem: str) -> SourceError:
    return SourceError(f"{where(path, line, field)}: {problem} (RaTE-NER span format, distributed at {HOMEPAGE})")


def sentence_parts(rec: dict, path: Path, line: int, clean: bool = False) -> tuple[list[str], list[list[str]]]:
    """The tokens of one span record and its ``[part, type]`` list (file order; sentence order with ``clean``)."""
    sents = rec.get("sentences")
    if (not isinstance(sents, list) or len(sents) != 1 or not isinstance(sents[0], list) or not sents[0]
            or not all(isinstance(t, str) for t in sents[0])):
        raise _fail(path, line, "sentences", "expected one sentence, a non-empty list of token strings")
    tokens = sents[0]
    ner = rec.get("ner")
    if ner == []:
        spans: list = []
    elif isinstance(ner, list) and len(ner) == 1 and isinstance(ner[0], list):
        spans = ner[0]
    else:
        raise _fail(path, line, "ner", "expected one list of [start, end, type] spans (one per sentence)")
    found = []
    for s, span in enumerate(spans):
        ok = (isinstance(span, list) and len(span) == 3
              and all(isinstance(x, int) and not isinstance(x, bool) for x in span[:2])
              and 0 <= span[0] <= span[1] < len(tokens) and isinstance(span[2], str))
        if not ok:
            raise _fail(path, line, "ner", f"span {s} is not [start, end, type] with 0 <= start <= end < "
                                           f"{len(tokens)} (the number of tokens)")
        if span[2].strip().upper() not in TYPES:
            raise _fail(path, line, "ner", f"span {s} has type {span[2]!r}, expected one of {', '.join(TYPES)}")
        found.append((span[0], span[1], s, [" ".join(tokens[span[0]:span[1] + 1]), span[2].strip() if clean else span[2]]))
    if clean:
        found.sort(key=lambda x: x[:3])
    return tokens, [part for *_, part in found]


def _write(writer: TaskWriter, split: str, path: Path) -> None:
    out = writer.open(TASK, split, definition=DEFINITIONS[TASK])
    empty = 0
    for line, rec in iter_jsonl(path):
        tokens, parts = sentence_parts(rec, path, line, writer.clean)
        empty += not parts
        out.add(" ".join(tokens), repr(parts), id=f"{split}-{line}")
    if out.count == 0:
        raise SourceError(f"{where(path)}: no sentence records ({HOMEPAGE})")
    if empty:
        logger.info("%s: %s: %d sentence(s) without entities (output [])", SOURCE, path.name, empty)


def convert(data_dir: Path, writer: TaskWriter) -> None:
    for split, name in SPLITS.items():
        path = data_dir / FOLDER / name
        if path.is_file():
            _write(writer, split, path)


CONVERTER = Converter(
    name="radiopaedia_ner",
    source=SOURCE,
    access="public",
    raw_files=(
        RawFile(f"{FOLDER}/{SPLITS['train']}", f"RaTE-NER Radiopaedia training sentences, span format ({HOMEPAGE})"),
        RawFile(f"{FOLDER}/{SPLITS['validation']}", "RaTE-NER Radiopaedia development sentences (-> validation)",
                required=False),
        RawFile(f"{FOLDER}/{SPLITS['test']}", "RaTE-NER Radiopaedia test sentences, manually labelled (-> test)",
                required=False),
    ),
    task_ids=(TASK,),
    convert=convert,
    version="2",
    clean_note="parts sorted by position in the sentence, types stripped",
    notes="--data-dir is the root of a download of the RaTE-NER dataset; only its Radiopaedia/ folder is read "
          "(MIMIC_IV/ and all/ hold credentialed MIMIC-IV text and are never read).",
)
