"""RCT summarization (Wallace et al. 2021, "Generating (Factual?) Narrative Summaries of RCTs")
-> task110 (MedS-Bench Text Summarization, "RCT-Text").

Raw files, as github.com/bwallace/RCT-summarization-data describes them (README and
notebook): for each of ``train``, ``dev`` and ``test`` two CSV files written by pandas (a
leading unnamed index column):

* ``<split>-inputs.csv``: ``ReviewID``, ``PMID``, ``Title``, ``Abstract`` - one row per
  randomized controlled trial included in a Cochrane review (several rows per review; an
  abstract may be empty);
* ``<split>-targets.csv``: ``ReviewID``, ``Target`` - the "Authors' conclusions" of the
  review's abstract.

The same layout is used by the Cochrane subset of the MSLR 2022 shared-task release
(``mslr_data.tar.gz``, folder ``cochrane``), built from this data set; that release withholds
the test targets, so its test split is simply not written. Confirmed: the file names, the
columns and the split names (README + notebook); not confirmed: whether every distributed
copy carries the dev files (they are optional here).

Input (the paper: "we provide the LLM with the titles and abstracts of studies, and task the
model to output the primary conclusions"): the review's studies in file order, each as
``Study N`` / ``Title: ...`` / ``Abstract: ...`` (the abstract line is left out when empty),
separated by blank lines. Output: the target. Splits: the official ones (train -> train, dev
-> validation, test -> test); reviews without a target are skipped. Instance id:
``<ReviewID>``.
"""

from __future__ import annotations

from pathlib import Path

from medsins_datasets.registry.source_datasets import source_dataset
from medsins_datasets.sources.converters import Converter, RawFile, TaskWriter
from medsins_datasets.errors import SourceError

from ._rawfiles import Outputs, iter_csv, iter_review_studies, review_split_files, where

TASK = "task110"
HOMEPAGE = source_dataset("RCT").homepage  # data/sources.csv
SPLITS = {"train": "train", "validation": "dev", "test": "test"}
DEFINITIONS = {TASK: ("Below are the titles and abstracts of several randomized controlled trials on the same "
                      "question. Summarize the main conclusions that this body of evidence supports.")}


def _targets(path: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    for line, row in iter_csv(path, ("ReviewID", "Target")):
        rid, text = row["ReviewID"].strip(), row["Target"].strip()
        if not rid:
            raise SourceError(f"{where(path, line, 'ReviewID')}: empty")
        if rid in found:
            raise SourceError(f"{where(path, line, 'ReviewID')}: review {rid!r} has a second target")
        if text:
            found[rid] = "\n".join(" ".join(part.split()) for part in text.splitlines() if part.strip())
    return found


def study_text(k: int, title: str, abstract: str) -> str:
    lines = [f"Study {k}", f"Title: {title}"]
    if abstract:
        lines.append(f"Abstract: {abstract}")
    return "\n".join(lines)


def convert(data_dir: Path, writer: TaskWriter) -> None:
    out = Outputs(writer, DEFINITIONS)
    for split, _prefix, inputs, targets in review_split_files(data_dir, SPLITS, "RCT", HOMEPAGE):
        target = _targets(targets)
        for rid, studies in iter_review_studies(inputs):
            if rid in target:
                text = "\n\n".join(study_text(n, title, abstract) for n, (title, abstract) in enumerate(studies, 1))
                out.add(TASK, split, text, target[rid], id=rid)
    if out.total == 0:
        raise SourceError(f"RCT: no review with both studies and a target in {data_dir}")


CONVERTER = Converter(
    name="rct",
    source="RCT",
    access="public",
    raw_files=(
        RawFile("train-inputs.csv", "trials of the training reviews (ReviewID, PMID, Title, Abstract)"),
        RawFile("train-targets.csv", "training review conclusions (ReviewID, Target)"),
        RawFile("dev-*.csv", "the same two files for dev (-> validation)", required=False),
        RawFile("test-*.csv", "the same two files for test", required=False),
    ),
    task_ids=(TASK,),
    convert=convert,
    notes="Official train/dev/test splits; the MSLR Cochrane folder (same layout) also works.",
)
