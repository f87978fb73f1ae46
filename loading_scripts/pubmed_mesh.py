"""PubMed MeSH indexing -> task107 (multi-label MeSH classification of a PubMed article).

Raw files: NLM's PubMed/MEDLINE XML distribution, the annual baseline
(https://ftp.ncbi.nlm.nih.gov/pubmed/baseline/) and optionally the daily update files
(https://ftp.ncbi.nlm.nih.gov/pubmed/updatefiles/): ``pubmed25nNNNN.xml.gz`` as downloaded, or
unpacked ``.xml``, anywhere under ``--data-dir`` (``.md5`` and other files are ignored). Each
file is a ``<PubmedArticleSet>`` of ``<PubmedArticle>`` records (plus ``<PubmedBookArticle>``
records and, in update files, ``<DeleteCitation>`` lists); the elements read, with their NLM
DTD names::

    PubmedArticle/MedlineCitation/PMID                     (Version attribute, default 1)
    .../MedlineCitation/Article/ArticleTitle
    .../MedlineCitation/Article/Abstract/AbstractText      (one or several, optional Label)
    .../MedlineCitation/MeshHeadingList/MeshHeading/DescriptorName   (+ QualifierName, unused)

Input: the title on the first line, then the abstract, each ``<AbstractText>`` part on its own
line, prefixed ``"METHODS: "`` when the part has a label (``<AbstractText Label="METHODS">``).
Inline markup (``<i>``, ``<sup>``, MathML ...) is reduced to its text (so ``10<sup>3</sup>`` reads
``103``) and whitespace is collapsed.
``<OtherAbstract>`` (translations, plain-language summaries) is not used.

Output: the article's MeSH *descriptor* names (qualifiers such as "/therapy" are dropped, as
is the major-topic flag), in the order of the file, repeated names once, joined by
``"; "``. Not by ``", "``: many descriptor names contain a comma ("Tomography, X-Ray
Computed", "Receptors, Estrogen"), which a comma-joined list could not be split back into.

Skipped (counted in the log): articles without an abstract, articles without MeSH headings
(e.g. in-process or publisher-supplied records), book records.

Several files: a PMID can occur in the baseline and again in update files, and update files
delete citations (``<DeleteCitation>``). Files are read newest first (descending file name:
``pubmed25n1300`` before ``pubmed25n0001``) and the first version met of a PMID is the one
kept, so an update replaces the baseline record and a deletion removes older versions; the
instances are therefore written in that order. Records are streamed (``iterparse``, each
record cleared once read), so memory stays flat however many files are given; the PMIDs met are
kept in a bitmap (about 5 MB for today's PMID range).

Instance ids are the PMIDs (``<PMID>.<version>`` for the rare Version > 1 records). Split:
training only - task107 is not in MedS-Bench and the distribution has no split.
"""

from __future__ import annotations

import gzip
import logging
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Iterator

from medsins_datasets.sources.converters import Converter, RawFile, TaskWriter
from medsins_datasets.errors import SourceError

from ._rawfiles import _read_guard, where

logger = logging.getLogger(__name__)

TASK = "task107"
SOURCE = "PubMed MeSH"
DOWNLOAD = "https://ftp.ncbi.nlm.nih.gov/pubmed/baseline/"
DISTRIBUTED = f"distributed at {DOWNLOAD} (updates: https://ftp.ncbi.nlm.nih.gov/pubmed/updatefiles/)"
SEPARATOR = "; "
DEFINITIONS = {TASK: (
    "You will be provided with an medical article from PubMed. You need to complete a multi-label "
    "classification task based on MeSH labels. Each article usually corresponds to 10-15 labels.")}

PMID_FIELD = "MedlineCitation/PMID"
DESCRIPTOR_FIELD = "MeshHeadingList/MeshHeading/DescriptorName"


def _text(el: ET.Element | None) -> str:
    """All text of an element (inline markup included), whitespace collapsed."""
    return " ".join("".join(el.itertext()).split()) if el is not None else ""


def pubmed_files(data_dir: Path) -> list[Path]:
    """The ``.xml`` / ``.xml.gz`` files under ``data_dir``, newest first (descending name)."""
    files = [p for p in data_dir.glob("**/*") if p.is_file() and (p.name.endswith(".xml") or p.name.endswith(".xml.gz"))]
    return sorted(files, key=lambda p: (p.name, str(p)), reverse=True)


@dataclass
class Article:
    pmid: str
    input: str | None  # None: no abstract
    descriptors: list[str]


def _pmid(el: ET.Element | None, path: Path, k: int) -> str:
    """``<PMID>`` as an id, ``<pmid>.<version>`` when Version is not 1."""
    value = (el.text or "").strip() if el is not None else ""
    if not value.isdigit():
        state = "missing" if el is None else "not a number"
        raise SourceError(f"{where(path, None, PMID_FIELD)}, record {k}: {state} ({DISTRIBUTED})")
    version = (el.get("Version") or "1").strip()
    if not version.isdigit():
        raise SourceError(f"{where(path, None, PMID_FIELD + '@Version')}, record {k} (PMID {value}): not a number")
    return value if version == "1" else f"{value}.{version}"


def read_article(el: ET.Element, path: Path, k: int) -> Article:
    """One ``<PubmedArticle>``: PMID, the input text (None without an abstract), the descriptors."""
    cit = el.find("MedlineCitation")
    if cit is None:
        raise SourceError(f"{where(path, None, 'MedlineCitation')}, record {k}: missing ({DISTRIBUTED})")
    pmid = _pmid(cit.find("PMID"), path, k)
    descriptors: list[str] = []
    for h, heading in enumerate(cit.iterfind("MeshHeadingList/MeshHeading")):
        name = _text(heading.find("DescriptorName"))
        if not name:
            raise SourceError(f"{where(path, None, DESCRIPTOR_FIELD)}, record {k} (PMID {pmid}): "
                              f"MeSH heading {h + 1} has no descriptor name ({DISTRIBUTED})")
        if name not in descriptors:
            descriptors.append(name)
    parts = []
    for part in cit.iterfind("Article/Abstract/AbstractText"):
        text = _text(part)
        if text:
            label = " ".join((part.get("Label") or "").split())
            parts.append(f"{label}: {text}" if label else text)
    text = None
    if parts:
        title = _text(cit.find("Article/ArticleTitle"))
        text = "\n".join([title, *parts] if title else parts)
    return Article(pmid, text, descriptors)


def _open(path: Path) -> IO[bytes]:
    try:
        return gzip.open(path, "rb") if path.name.endswith(".gz") else open(path, "rb")
    except OSError as e:
        raise _read_guard(path, None, e) from None


def iter_records(path: Path) -> Iterator[tuple[int, ET.Element]]:
    """``(record number, element)`` for each top-level record of one file, streamed.

    Records are the ``PubmedArticle``, ``PubmedBookArticle`` and ``DeleteCitation`` children
    of the root; each is cleared from the tree after the caller has seen it.
    """
    fh = _open(path)
    k = 0
    try:
        with fh:
            root = None
            depth = 0
            for event, el in ET.iterparse(fh, events=("start", "end")):
                if event == "start":
                    depth += 1
                    if root is None:
                        root = el
                        if el.tag != "PubmedArticleSet":
                            raise SourceError(
                                f"{where(path, 1)}: the root element is <{el.tag}>, expected <PubmedArticleSet> "
                                f"(a PubMed baseline/update file, {DISTRIBUTED})")
                    continue
                depth -= 1
                if depth == 1:  # a child of the root is complete
                    k += 1
                    yield k, el
                    root.clear()
            if root is None:
                raise SourceError(f"{where(path)}: no XML content ({DISTRIBUTED})")
    except SourceError:
        raise
    except ET.ParseError as e:
        line = e.position[0] if getattr(e, "position", None) else None
        raise SourceError(f"{where(path, line)}: not well-formed XML ({DISTRIBUTED})") from None
    except (EOFError, OSError, gzip.BadGzipFile) as e:
        raise _read_guard(path, None, e) from None


class _Seen:
    """PMIDs already written or deleted: a bitmap for plain PMIDs (tens of millions fit in a
    few MB), a set for the rare versioned ids."""

    def __init__(self) -> None:
        self.bits = bytearray()
        self.other: set[str] = set()

    def add(self, pid: str) -> bool:
        """Mark ``pid``; False if it was already marked."""
        if not pid.isdigit():
            if pid in self.other:
                return False
            self.other.add(pid)
            return True
        n = int(pid)
        i, bit = n >> 3, 1 << (n & 7)
        if i >= len(self.bits):
            self.bits.extend(bytes(max(i + 1 - len(self.bits), len(self.bits))))
        if self.bits[i] & bit:
            return False
        self.bits[i] |= bit
        return True


def convert(data_dir: Path, writer: TaskWriter) -> None:
    files = pubmed_files(data_dir)
    if not files:
        raise SourceError(f"{SOURCE}: no PubMed XML files (pubmed25nNNNN.xml.gz or .xml) under {data_dir} ({DISTRIBUTED})")
    out = writer.open(TASK, "train", definition=DEFINITIONS[TASK])
    seen = _Seen()
    counts = {"no abstract": 0, "no MeSH headings": 0, "book records": 0, "older versions or deleted": 0}
    deleted = 0
    for path in files:
        for k, el in iter_records(path):
            if el.tag == "DeleteCitation":
                for p in el.iterfind("PMID"):
                    pid = _pmid(p, path, k)
                    deleted += seen.add(pid)
                continue
            if el.tag == "PubmedBookArticle":
                counts["book records"] += 1
                continue
            if el.tag != "PubmedArticle":
                raise SourceError(f"{where(path)}, record {k}: unexpected element <{el.tag}> in <PubmedArticleSet> "
                                  f"({DISTRIBUTED})")
            art = read_article(el, path, k)
            if not seen.add(art.pmid):
                counts["older versions or deleted"] += 1
                continue
            if art.input is None:
                counts["no abstract"] += 1
            elif not art.descriptors:
                counts["no MeSH headings"] += 1
            else:
                out.add(art.input, SEPARATOR.join(art.descriptors), id=art.pmid)
    skipped = ", ".join(f"{n} {why}" for why, n in counts.items() if n)
    if skipped:
        logger.warning("%s: articles skipped: %s", SOURCE, skipped)
    if deleted:
        logger.info("%s: %d PMID(s) deleted by update files", SOURCE, deleted)
    if out.count == 0:
        raise SourceError(f"{SOURCE}: no article with both an abstract and MeSH headings in "
                          f"{len(files)} file(s) under {data_dir}")


CONVERTER = Converter(
    name="pubmed_mesh",
    source=SOURCE,
    access="public",
    download=DOWNLOAD,
    raw_files=(
        RawFile("**/*.xml*", f"PubMed baseline/update files pubmed25nNNNN.xml.gz (or unpacked .xml), {DISTRIBUTED}"),
    ),
    task_ids=(TASK,),
    convert=convert,
    notes="Training only. Output: MeSH descriptor names in file order joined by '; '. Give any subset of "
          "baseline/update files; the newest version of a PMID wins.",
)
