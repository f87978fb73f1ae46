"""cMedQA2 (Chinese community medical QA) -> task120.

Raw files, as github.com/zhangsheng93/cMedQA2 distributes them (zipped or unzipped):
``question.csv`` (question_id, content), ``answer.csv`` (ans_id, question_id, content)
and the candidate files that define the split, ``train_candidates.txt``
(question_id, pos_ans_id, neg_ans_id), ``dev_candidates.txt`` and ``test_candidates.txt``
(question_id, ans_id, cnt, label). A ``.zip`` holding one of these files may stand in for it.

Input: the question; outputs: every answer written for it (alternative references).
A question's split is the candidate file that lists it (train -> train, dev ->
validation, test -> test); questions in none are skipped. Task120 is not in MedS-Bench.
"""

from __future__ import annotations

import csv
import io
import logging
import zipfile
from pathlib import Path
from typing import Iterator

from medsins_datasets.registry.source_datasets import source_dataset
from medsins_datasets.sources.converters import Converter, RawFile, TaskWriter
from medsins_datasets.errors import SourceError

from ._rawfiles import Outputs, _raise_csv_field_limit, _read_guard, where

logger = logging.getLogger(__name__)

TASK = "task120"
HOMEPAGE = source_dataset("CMedQA2").homepage  # data/sources.csv
SPLIT_FILES = {"train": "train_candidates.txt", "validation": "dev_candidates.txt", "test": "test_candidates.txt"}
DEFINITIONS = {TASK: "As a doctor, answer the Chinese question below from an online medical community, in Chinese and in detail."}


def _exists(data_dir: Path, name: str) -> bool:
    return (data_dir / name).is_file() or (data_dir / (Path(name).stem + ".zip")).is_file()


def _open_member(data_dir: Path, name: str) -> tuple[str, io.TextIOBase] | None:
    plain = data_dir / name
    if plain.is_file():
        return plain.name, open(plain, encoding="utf-8-sig", newline="")
    archive = data_dir / (Path(name).stem + ".zip")
    if archive.is_file():
        try:
            with zipfile.ZipFile(archive) as zf:
                member = next((m for m in zf.namelist() if m.rsplit("/", 1)[-1] == name), None)
                if member is None:
                    raise SourceError(f"{where(archive)}: does not contain {name}")
                data = zf.read(member)
        except (zipfile.BadZipFile, OSError) as e:
            raise _read_guard(archive, None, e) from None
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise SourceError(f"{where(archive)}: {name} is not UTF-8 text") from None
        return f"{archive.name}:{name}", io.StringIO(text, newline="")
    return None


def _rows(data_dir: Path, name: str, required: tuple[str, ...]) -> Iterator[tuple[str, int, dict[str, str]]]:
    opened = _open_member(data_dir, name)
    if opened is None:
        raise SourceError(f"cMedQA2: missing {name} (or {Path(name).stem}.zip) in {data_dir} (distributed at {HOMEPAGE})")
    label, fh = opened
    _raise_csv_field_limit()
    with fh:
        reader = csv.DictReader(fh)
        header = [h.strip() for h in (reader.fieldnames or [])]
        reader.fieldnames = header
        missing = [c for c in required if c not in header]
        if missing:
            raise SourceError(f"file {label}, line 1: missing column(s) {', '.join(missing)}")
        try:
            for row in reader:
                yield label, reader.line_num, row
        except (csv.Error, UnicodeDecodeError) as e:
            raise SourceError(f"file {label}, line {reader.line_num}: unreadable ({type(e).__name__})") from None


def convert(data_dir: Path, writer: TaskWriter) -> None:
    split_of: dict[str, str] = {}
    for split, name in SPLIT_FILES.items():
        if not _exists(data_dir, name) and split != "train":
            continue
        for _, _, row in _rows(data_dir, name, ("question_id",)):
            split_of.setdefault(row["question_id"].strip(), split)
    answers: dict[str, list[str]] = {}
    for label, line, row in _rows(data_dir, "answer.csv", ("ans_id", "question_id", "content")):
        text = " ".join((row["content"] or "").split())
        if text:
            answers.setdefault(row["question_id"].strip(), []).append(text)
    out = Outputs(writer, DEFINITIONS)
    unlisted = 0
    for label, line, row in _rows(data_dir, "question.csv", ("question_id", "content")):
        qid = row["question_id"].strip()
        question = " ".join((row["content"] or "").split())
        if not question or qid not in answers:
            continue
        split = split_of.get(qid)
        if split is None:
            unlisted += 1
            continue
        out.add(TASK, split, question, answers[qid], id=f"q{qid}")
    if unlisted:
        logger.warning("cMedQA2: %d answered question(s) are in no candidate file and were skipped", unlisted)
    if out.total == 0:
        raise SourceError(f"cMedQA2: no answered question listed in a candidate file in {data_dir}")


CONVERTER = Converter(
    name="cmedqa2",
    source="CMedQA2",
    access="public",
    raw_files=(
        RawFile("question.*", "question.csv (or question.zip): question_id, content"),
        RawFile("answer.*", "answer.csv (or answer.zip): ans_id, question_id, content"),
        RawFile("train_candidates.*", "train_candidates.txt (or .zip): the training questions"),
        RawFile("dev_candidates.*", "dev_candidates.txt (-> validation)", required=False),
        RawFile("test_candidates.*", "test_candidates.txt (-> test)", required=False),
    ),
    task_ids=(TASK,),
    convert=convert,
)
