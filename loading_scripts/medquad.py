"""MedQuAD -> task103, consumer health question answering.

Raw files: the repository github.com/abachaa/MedQuAD as distributed - 12 folders
(``1_CancerGov_QA/`` ... ``12_MPlusHerbsSupplements_QA/``) of XML documents, each with a
``<Focus>`` and ``<QAPairs>`` of ``<Question qid=... qtype=...>`` / ``<Answer>``.
The answers of the three MedlinePlus collections (A.D.A.M., drugs, herbs) were removed by
the authors for copyright reasons; such empty answers are skipped (counted in the log).

Input: the question; output: the answer, whitespace collapsed. Instance ids are the
question ids (``qid``). All instances are training instances (not in MedS-Bench).
"""

from __future__ import annotations

import logging
from pathlib import Path

from medsins_datasets.registry.source_datasets import source_dataset
from medsins_datasets.sources.converters import Converter, RawFile, TaskWriter
from medsins_datasets.errors import SourceError

from ._xml import clean_text, parse_xml

logger = logging.getLogger(__name__)

TASK = "task103"
HOMEPAGE = source_dataset("MedQuAD").homepage  # data/sources.csv
DEFINITIONS = {TASK: "Answer the consumer health question below in detail, as a trusted health information source would."}


def convert(data_dir: Path, writer: TaskWriter) -> None:
    files = sorted(data_dir.glob("*_QA/*.xml")) or sorted(data_dir.glob("*.xml"))
    if not files:
        raise SourceError(f"MedQuAD: no <N>_<Collection>_QA/*.xml documents in {data_dir} (distributed at {HOMEPAGE})")
    out = writer.open(TASK, "train", definition=DEFINITIONS[TASK])
    empty = 0
    seen: set[str] = set()
    for path in files:
        root = parse_xml(path)
        for k, pair in enumerate(root.iter("QAPair")):
            q_el, a_el = pair.find("Question"), pair.find("Answer")
            question = clean_text(q_el.text if q_el is not None else None)
            answer = clean_text("".join(a_el.itertext()) if a_el is not None else None)
            if not question or not answer:
                empty += 1
                continue
            qid = (q_el.get("qid") or f"{path.stem}-{k}").strip()
            if qid in seen:  # a few documents repeat a question id: keep the first
                continue
            seen.add(qid)
            out.add(question, answer, id=qid)
    if empty:
        logger.warning("MedQuAD: %d question(s) without an answer skipped (answers removed by the authors)", empty)
    if out.count == 0:
        raise SourceError(f"MedQuAD: no question with an answer in {data_dir}")


CONVERTER = Converter(
    name="medquad",
    source="MedQuAD",
    access="public",
    raw_files=(RawFile("*_QA/*.xml", "the MedQuAD collection folders (1_CancerGov_QA/ ... ) of XML documents"),),
    task_ids=(TASK,),
    convert=convert,
)
