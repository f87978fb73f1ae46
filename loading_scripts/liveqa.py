"""TREC 2017 LiveQA medical task -> task62, consumer health question answering.

Raw files: ``TREC-2017-LiveQA-Medical-Train-1.xml`` and ``...-Train-2.xml`` from
github.com/abachaa/LiveQA_MedicalTask_TREC2017 (folder ``TrainingDatasets/``):
``<NLM-QUESTION questionid=...>`` elements with the consumer's ``<MESSAGE>`` and, per
sub-question, reference ``<ANSWER>`` elements.

Input: the message; output: the reference answers. A question with one sub-question gets
every answer of it as an acceptable reference; a question with several sub-questions gets
one reference joining the first answer of each. Questions without an answer are skipped.
Entities that the files escape twice (``&amp;quot;``) are decoded. All instances are
training instances (the test questions' answers are judged relevance pools, not
references; task62 is not in MedS-Bench).

Parity: the official preparation (``data_preparing/liveqa_qa.py``) read the Hugging Face
re-packaging ``truehealth/liveqa`` (columns ``message`` and ``answer``, under 1,000 rows), not
these XML files; how that copy was made from the TREC files (which answers, how sub-questions
were joined) is not documented, so its instances cannot be reproduced from the raw files and
this converter keeps its own documented rules.
"""

from __future__ import annotations

from pathlib import Path

from medsins_datasets.registry.source_datasets import source_dataset
from medsins_datasets.sources.converters import Converter, RawFile, TaskWriter
from medsins_datasets.errors import SourceError

from ._xml import clean_text, parse_xml

TASK = "task62"
HOMEPAGE = source_dataset("LiveQA").homepage  # data/sources.csv
DEFINITIONS = {TASK: "A patient has sent the message below. As a doctor, answer the medical question(s) it asks."}


def convert(data_dir: Path, writer: TaskWriter) -> None:
    files = sorted(data_dir.glob("TREC-2017-LiveQA-Medical-Train-*.xml"))
    assert files
    out = writer.open(TASK, "train", definition=DEFINITIONS[TASK])
    for path in files:
        for q in parse_xml(path).iter("NLM-QUESTION"):
            message = clean_text(q.findtext("MESSAGE"))
            subs = [[clean_text("".join(a.itertext())) for a in sq.iter("ANSWER")] for sq in q.iter("SUB-QUESTION")]
            subs = [[a for a in answers if a] for answers in subs]
            subs = [answers for answers in subs if answers]
            if not message or not subs:
                continue
            outputs = subs[0] if len(subs) == 1 else ["\n\n".join(answers[0] for answers in subs)]
            qid = (q.get("questionid") or "").strip()
            out.add(message, outputs, id=f"train{path.stem.rsplit('-', 1)[-1]}-{qid}")
    if out.count == 0:
        raise SourceError(f"LiveQA: no question with a reference answer in {', '.join(p.name for p in files)}")


CONVERTER = Converter(
    name="liveqa",
    source="LiveQA",
    access="public",
    raw_files=(RawFile("TREC-2017-LiveQA-Medical-Train-*.xml", "the training question files Train-1 and Train-2"),),
    task_ids=(TASK,),
    convert=convert,
)
