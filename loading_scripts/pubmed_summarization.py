"""PubMed long-document summarization (Cohan et al. 2018) -> task111.

Raw files: ``train.txt``, ``val.txt`` and ``test.txt`` of the ``pubmed-dataset`` from
github.com/armancohan/long-summarization - JSON lines with ``article_id``,
``article_text`` (the body as a list of sentences) and ``abstract_text`` (the abstract as
a list of ``<S> sentence </S>`` strings), plus section fields that are not used.

Input: the article body (sentences joined by spaces); output: the abstract with the
``<S>``/``</S>`` markers removed. Articles without body or abstract are skipped. Splits:
train -> train, val -> validation, test -> test (task111 is not in MedS-Bench).
"""

from __future__ import annotations

import re
from pathlib import Path

from medsins_datasets.registry.source_datasets import source_dataset
from medsins_datasets.sources.converters import Converter, RawFile, TaskWriter
from medsins_datasets.errors import SourceError

from ._rawfiles import Outputs, first_match, iter_jsonl, where

TASK = "task111"
HOMEPAGE = source_dataset("PubMed").homepage  # data/sources.csv
SPLITS = {"train": ("train.txt", "train.jsonl"), "validation": ("val.txt", "val.jsonl"), "test": ("test.txt", "test.jsonl")}
DEFINITIONS = {TASK: "Write the abstract of the biomedical research article below: a concise summary of its content."}

_TAG = re.compile(r"</?S>")


def _sentences(value, path: Path, line: int, field: str) -> str:
    if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
        raise SourceError(f"{where(path, line, field)}: expected a list of sentences")
    return " ".join(" ".join(_TAG.sub(" ", s).split()) for s in value if s.strip()).strip()


def convert(data_dir: Path, writer: TaskWriter) -> None:
    out = Outputs(writer, DEFINITIONS)
    files = {split: first_match(data_dir, names) for split, names in SPLITS.items()}
    if files["train"] is None:
        raise SourceError(f"PubMed summarization: no train.txt in {data_dir} (the pubmed-dataset of {HOMEPAGE})")
    for split, path in files.items():
        if path is None:
            continue
        for line, rec in iter_jsonl(path):
            article = _sentences(rec.get("article_text"), path, line, "article_text")
            abstract = _sentences(rec.get("abstract_text"), path, line, "abstract_text")
            if article and abstract:
                out.add(TASK, split, article, abstract, id=str(rec.get("article_id") or f"{split}-{line}"))
    if out.total == 0:
        raise SourceError(f"PubMed summarization: no article with both body and abstract in {data_dir}")


CONVERTER = Converter(
    name="pubmed_summarization",
    source="PubMed",
    access="public",
    raw_files=(
        RawFile("train.txt", "pubmed-dataset training articles (JSON lines)"),
        RawFile("val.txt", "validation articles", required=False),
        RawFile("test.txt", "test articles", required=False),
    ),
    task_ids=(TASK,),
    convert=convert,
)
