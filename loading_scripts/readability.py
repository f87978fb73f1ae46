"""PLOS readability corpus (Luo, Xie and Ananiadou, "Readability Controllable Biomedical Document
Summarization", Findings of EMNLP 2022; the paper's "Readibility" source) -> task113 (lay
summary of a biomedical research article).

Raw file, as read by the official MedS-Ins preparation script
(``data_preparing/readability_summarization.py``, source URL www.nactem.ac.uk/readability/):
``train_plos.jsonl`` (from the corpus's ``plos_corpus/`` folder) - one JSON object a line per
PLOS article with ``title``, ``article`` (the full text) and ``plain language summary`` (the
author summary written for lay readers). Only these three fields are used; other fields of the
file are ignored.

Instances (default), as the official script writes them: input = the title, a line break, then
the article text with every verbatim occurrence of the plain language summary removed (the
PLOS full text may contain the author summary); output = the plain language summary; texts
untouched. ``--clean``: the title and summary with whitespace collapsed, the article with runs of
spaces collapsed (line breaks kept) and stripped.

Documented differences from the official script: a record without title or summary is an
error naming the line (the script would write an empty title or an empty answer); a record
whose article is empty once the summary is removed is skipped (counted in the log; the script
would write an instance made of the title alone).

Split: the training file only (the official script's), all training instances; task113 is not
in MedS-Bench. Instance ids are ``train-<line number>``.

Not confirmed: the corpus's download layout beyond the training file name (the names of its
validation/test files, any further fields such as a DOI); the nactem page could not be read
from here. The PLOS/eLife corpora of Goldsack et al. (github.com/TGoldsack1/Corpora_for_Lay_Summarisation,
fields ``summary`` / ``sections``) are a different release and are not read by this converter.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from medsins_datasets.registry.source_datasets import source_dataset
from medsins_datasets.sources.converters import Converter, RawFile, TaskWriter
from medsins_datasets.errors import SourceError

from ._rawfiles import first_match, iter_jsonl, text_field, where

logger = logging.getLogger(__name__)

TASK = "task113"
HOMEPAGE = source_dataset("Readibility").homepage  # data/sources.csv
PATTERNS = ("train_plos.jsonl", "**/train_plos.jsonl")
SUMMARY = "plain language summary"
DEFINITIONS = {TASK: "Read the biomedical research article below and write a short summary of it for non-specialist readers."}


def convert(data_dir: Path, writer: TaskWriter) -> None:
    path = first_match(data_dir, PATTERNS)
    assert path is not None  # checked before convert runs
    out = writer.open(TASK, "train", definition=DEFINITIONS[TASK])
    empty = 0
    for n, rec in iter_jsonl(path):
        text_field(rec, "title", path, n)  # validated: a non-blank string
        text_field(rec, SUMMARY, path, n)
        title, summary = rec["title"], rec[SUMMARY]
        article = rec.get("article")
        if article is not None and not isinstance(article, str):
            raise SourceError(f"{where(path, n, 'article')}: not a string (a JSON {type(article).__name__})")
        body = (article or "").replace(summary, "")
        if not body.strip():
            empty += 1
            continue
        if writer.clean:
            title, summary = " ".join(title.split()), " ".join(summary.split())
            body = re.sub(r"[ \t]+", " ", body).strip()
        out.add(f"{title}\n{body}", summary, id=f"train-{n}")
    if empty:
        logger.warning("Readability: %d article(s) without text skipped", empty)
    if out.count == 0:
        raise SourceError(f"{where(path)}: no article with text")


CONVERTER = Converter(
    name="readability",
    source="Readibility",
    access="public",
    raw_files=(RawFile("**/train_plos.jsonl", f"PLOS readability corpus, training JSON lines ({HOMEPAGE})"),),
    task_ids=(TASK,),
    convert=convert,
    version="2",
    clean_note="title and summary whitespace collapsed; article runs of spaces collapsed (line breaks kept), stripped",
)
