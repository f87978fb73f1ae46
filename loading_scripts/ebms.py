"""EBM Summariser corpus (Mollá and Santiago-Martinez 2011) -> task99 (question answering) and
task100 (justification; MedS-Bench Fact Verification).

Raw file, as the corpus distributes it (sourceforge.net/projects/ebmsumcorpus):
``ClinicalInquiries.xml`` - a root element holding one ``<record id=...>`` per Clinical
Inquiry of the Journal of Family Practice, each with a ``<question>`` and an ``<answer>`` made
of ``<snip id=...>`` elements (one evidence-based answer part: ``<sniptext>``, its strength of
recommendation ``<sor>``, and one or more ``<long id=...>`` justifications, each with a
``<longtext>`` and the ``<ref>`` elements of the cited abstracts). The element names are those
the official MedS-Ins preparation script reads (``record``, ``question``, ``answer/snip``,
``sniptext``, ``long``, ``longtext``); the ``id`` attributes are used when present (record
position / element position otherwise).

Tasks, built as the official preparation script
(``data_preparing/ebms_question_answering_and_justification.py``) builds them:

* task99: input the question; output the record's snip texts joined by a space.
* task100: input a snip text (the statement); output one of its justification texts - one
  instance per ``<long>``.

Text (default): each element's text as ElementTree gives it (XML entities decoded once,
whitespace untouched), as the official script takes it (``element.text``) - except that the text
inside nested markup is kept (``itertext``): ``.text`` stops at the first child element
(``A <i>second</i> trial agreed.`` -> ``A ``), a loss the official files suffered wherever the
corpus has inline markup. ``--clean`` also decodes entities that the file escapes twice
(``&amp;quot;``) and collapses whitespace.

Documented differences from the official script (bug fixes):

* split: the script wrote every record into both files, and MedS-Bench tested task100 on
  instances of the same records. The corpus has no official split, so a documented
  deterministic one is used: a record (question) is a test instance for both tasks when the
  SHA-256 hash of ``ebms:<record id>`` falls in the lowest 10% (``_rawfiles.heldout``), otherwise
  a training instance (the paper samples 140 task100 test instances, ``--paper-test-sizes``);
* records without a question or without any snip (the script would stop on them) are skipped
  (counted in the log); a snip without text is an error naming the record; a justification
  without text is left out (the script would write ``null``).
"""

from __future__ import annotations

import html
import logging
import xml.etree.ElementTree as ET
from pathlib import Path

from medsins_datasets.registry.source_datasets import source_dataset
from medsins_datasets.sources.converters import Converter, RawFile, TaskWriter
from medsins_datasets.errors import SourceError

from ._rawfiles import Outputs, heldout, where
from ._xml import parse_xml

logger = logging.getLogger(__name__)

HOMEPAGE = source_dataset("EBM Summariser Corpus").homepage  # data/sources.csv
FILE = "ClinicalInquiries.xml"
TEST_FRACTION = 0.10
DEFINITIONS = {
    "task99": "Answer the clinical question below in detail, summarizing what the evidence shows.",
    "task100": "Given a statement answering a clinical question, write the evidence that justifies it.",
}


CLEAN_NOTE = "doubly escaped entities decoded, whitespace collapsed"


def text_of(el: ET.Element | None, clean: bool = False) -> str:
    """The element's text, nested markup included (whitespace collapsed and entities decoded with ``clean``)."""
    if el is None:
        return ""
    text = "".join(el.itertext())
    return " ".join(html.unescape(text).split()) if clean else text


def convert(data_dir: Path, writer: TaskWriter) -> None:
    path = data_dir / FILE
    root = parse_xml(path)
    records = root.findall("record") if root.tag != "record" else [root]
    if not records:
        raise SourceError(f"{where(path)}: no <record> elements")
    out = Outputs(writer, DEFINITIONS)
    skipped = 0
    seen: set[str] = set()
    for k, rec in enumerate(records, 1):
        rid = (rec.get("id") or "").strip() or f"record{k}"
        if rid in seen:
            raise SourceError(f"{where(path, None, 'record id')}: duplicate id {rid!r} (record {k})")
        seen.add(rid)
        question = text_of(rec.find("question"), writer.clean)
        answer = rec.find("answer")
        snips = answer.findall("snip") if answer is not None else []
        if not question.strip() or not snips:
            skipped += 1
            continue
        split = "test" if heldout(f"ebms:{rid}", TEST_FRACTION) else "train"
        statements = []
        for j, snip in enumerate(snips, 1):
            sid = (snip.get("id") or "").strip() or str(j)
            statement = text_of(snip.find("sniptext"), writer.clean)
            if not statement.strip():
                raise SourceError(f"{where(path, None, 'sniptext')}: missing or empty in snip {sid} of record {rid}")
            statements.append(statement)
            for m, long in enumerate(snip.findall("long"), 1):
                lid = (long.get("id") or "").strip() or f"{sid}_{m}"
                justification = text_of(long.find("longtext"), writer.clean)
                if justification.strip():
                    out.add("task100", split, statement, justification, id=f"{rid}-{lid}")
        out.add("task99", split, question, " ".join(statements), id=rid)
    if skipped:
        logger.info("EBMS: %d record(s) without a question or an answer skipped", skipped)
    if out.total == 0:
        raise SourceError(f"{where(path)}: no record with a question and an answer")


CONVERTER = Converter(
    name="ebms",
    source="EBM Summariser Corpus",
    access="public",
    raw_files=(RawFile(FILE, f"the corpus XML ({HOMEPAGE})"),),
    task_ids=("task99", "task100"),
    convert=convert,
    version="2",
    clean_note=CLEAN_NOTE,
    notes="No official split: deterministic 10% hash split by record for test.",
)
