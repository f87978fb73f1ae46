"""Hallmarks of Cancer (HoC) -> task106 (abstract classification into the 10 hallmarks).

Raw files, as github.com/sb895/Hallmarks-of-Cancer distributes them: ``text/<pmid>.txt`` (an
abstract, one sentence per line) and ``labels/<pmid>.txt`` (one segment per sentence,
segments separated by ``<``; a segment holds the sentence's annotations joined by ``AND``,
each a path ``Hallmark--subcategory--...``, or ``NULL``/nothing).

Label set of an abstract: the top-level hallmarks annotated on any of its sentences. Output:
those hallmark names in the order of the official definition, joined by ``", "`` (the
official scorer, :func:`medsins_datasets.scoring.hoc_labels`, finds the names as substrings);
an abstract without a hallmark is answered ``None of the ten hallmarks.``. Input: the
abstract, its sentences joined by spaces.

Split: the distribution has no official split, so a documented deterministic one is used:
an abstract is a test instance when the SHA-256 hash of ``hoc:<pmid>`` falls in the lowest
10% (``_rawfiles.heldout``), otherwise a training instance (about 185 / 1,667 abstracts).
"""

from __future__ import annotations

import re
from pathlib import Path

from medsins_datasets.registry.source_datasets import source_dataset
from medsins_datasets.sources.converters import Converter, RawFile, TaskWriter
from medsins_datasets.errors import SourceError
from medsins_datasets.scoring import HOC_LABELS

from ._rawfiles import _read_guard, heldout, where

TASK = "task106"
HOMEPAGE = source_dataset("HoC").homepage  # data/sources.csv
TEST_FRACTION = 0.10
NO_HALLMARK = "None of the ten hallmarks."
#: Canonical spelling (as in the official definition) keyed by the lower-cased name.
HALLMARKS = {name: name[0].upper() + name[1:] for name in HOC_LABELS}
DEFINITIONS = {TASK: (
    "Given a biomedical publication abstract, classify which hallmarks of cancer it discusses (one or more of: "
    + "; ".join(HALLMARKS.values()) + "). List them separated by commas.")}


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError) as e:
        raise _read_guard(path, None, e) from None


def abstract_hallmarks(label_text: str, path: Path) -> list[str]:
    """The canonical hallmark names annotated in one ``labels/<pmid>.txt`` (definition order)."""
    found: set[str] = set()
    for k, segment in enumerate(label_text.split("<"), 1):
        for ann in re.split(r"AND(?=\s*[A-Z])", segment):
            top = ann.split("--")[0].strip().lower()
            if not top or top == "null":
                continue
            if top not in HALLMARKS:
                raise SourceError(f"{where(path, None, f'sentence {k}')}: unknown hallmark {top!r} "
                                  f"(expected one of the 10 HoC hallmarks)")
            found.add(top)
    return [HALLMARKS[h] for h in HOC_LABELS if h in found]


def convert(data_dir: Path, writer: TaskWriter) -> None:
    texts = sorted((data_dir / "text").glob("*.txt"))
    streams = {}
    for tpath in texts:
        pmid = tpath.stem
        lpath = data_dir / "labels" / tpath.name
        if not lpath.is_file():
            raise SourceError(f"HoC: {tpath.name} has no labels/{tpath.name} in {data_dir} (distributed at {HOMEPAGE})")
        sentences = [s.strip() for s in _read(tpath).splitlines() if s.strip()]
        if not sentences:
            raise SourceError(f"{where(tpath)}: empty abstract")
        hallmarks = abstract_hallmarks(_read(lpath), lpath)
        split = "test" if heldout(f"hoc:{pmid}", TEST_FRACTION) else "train"
        if split not in streams:
            streams[split] = writer.open(TASK, split, definition=DEFINITIONS[TASK])
        streams[split].add(" ".join(sentences), ", ".join(hallmarks) if hallmarks else NO_HALLMARK, id=pmid)


CONVERTER = Converter(
    name="hoc",
    source="HoC",
    access="public",
    raw_files=(
        RawFile("text/*.txt", f"HoC abstracts, one file per PubMed id ({HOMEPAGE})"),
        RawFile("labels/*.txt", f"HoC sentence annotations, one file per PubMed id ({HOMEPAGE})"),
    ),
    task_ids=(TASK,),
    convert=convert,
    notes="No official split in the distribution: a deterministic 10% hash split by PubMed id gives the test set.",
)
