"""MS^2 (multi-document summarization of medical studies) -> task109.

Raw files: the ``ms2`` folder of the MSLR 2022 shared-task release
(github.com/allenai/mslr-shared-task, ``mslr_data.tar.gz``): ``{train,dev,test}-inputs.csv``
(index, ReviewID, PMID, Title, Abstract: one row per included study),
``{train,dev}-targets.csv`` (index, ReviewID, Target) and ``{train,dev,test}-reviews-info.csv``
(index, ReviewID, Background). The Cochrane folder of the same release has no
reviews-info files; it is the RCT source (task110).

Input: ``Background: ...`` followed by the review's studies (``Study N`` with title and
abstract, in file order); output: the review's conclusion (Target). Reviews without a
target are skipped, so the test split (targets withheld) is not written: train -> train,
dev -> validation. Inputs are streamed: a review is written as soon as all its study rows
were read, whatever their order in the file. Task109 is not in MedS-Bench.
"""

from __future__ import annotations

from pathlib import Path

from medsins_datasets.sources.converters import Converter, RawFile, TaskWriter
from medsins_datasets.errors import SourceError

from ._rawfiles import Outputs, first_match, iter_csv, iter_review_studies, review_split_files

TASK = "task109"
DOWNLOAD = "https://github.com/allenai/mslr-shared-task"
SPLITS = {"train": "train", "validation": "dev"}
DEFINITIONS = {TASK: ("Below are the background of a systematic review and the titles and abstracts of the studies it "
                      "includes. Summarize the main conclusions the studies support.")}


def _by_review(path: Path, column: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for _, row in iter_csv(path, ("ReviewID", column)):
        text = " ".join(row[column].split())
        if text:
            found[row["ReviewID"].strip()] = text
    return found


def convert(data_dir: Path, writer: TaskWriter) -> None:
    out = Outputs(writer, DEFINITIONS)
    for split, prefix, inputs, targets in review_split_files(data_dir, SPLITS, "MS2", DOWNLOAD):
        target = _by_review(targets, "Target")
        info = first_match(data_dir, (f"{prefix}-reviews-info.csv",))
        background = _by_review(info, "Background") if info is not None else {}
        for rid, studies in iter_review_studies(inputs):
            if rid not in target:
                continue
            head = [f"Background: {background[rid]}"] if rid in background else []
            text = [f"Study {n}: {title}\n{abstract}".strip() for n, (title, abstract) in enumerate(studies, 1)]
            out.add(TASK, split, "\n\n".join(head + text), target[rid], id=f"review{rid}")
    if out.total == 0:
        raise SourceError(f"MS2: no review with both studies and a target in {data_dir}")


CONVERTER = Converter(
    name="ms2",
    source="MS2",
    access="public",
    download=DOWNLOAD,
    raw_files=(
        RawFile("train-inputs.csv", "studies of the training reviews (ReviewID, PMID, Title, Abstract)"),
        RawFile("train-targets.csv", "training review conclusions (ReviewID, Target)"),
        RawFile("train-reviews-info.csv", "training review backgrounds (ReviewID, Background); MS2 only"),
        RawFile("dev-*.csv", "the same three files for dev (-> validation)", required=False),
    ),
    task_ids=(TASK,),
    convert=convert,
)
