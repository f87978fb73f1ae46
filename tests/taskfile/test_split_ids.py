"""Instance ids are unique within a split, across all of its files.

The official generators write no ids, so ids are derived from positions (``task57-0``); a second
file of the same split derives ``task57-f1-0``. Explicit ids repeated in two files of one split
stop every reader (hub-native build, the ``datasets`` builder, the benchmark runner) with one
line naming both places, because a repeated id silently merges predictions and rows.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from medsins_datasets import MedSIns, cli
from medsins_datasets.errors import TaskFormatError

TASK = "task57_medqa_question_answering_en"


def _write(path: Path, instances) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"Definition": ["Answer the question."], "Instances": instances}, indent=2))


def _inst(i: int, *, with_id: bool) -> dict:
    d = {"input": f"Question: q{i}?\nOptions: A: x\tB: y\t", "output": "The right answer is A: x"}
    return {"id": f"q{i}", **d} if with_id else d


def _source(root: Path, *, with_ids: bool, overlap: bool) -> Path:
    src = root / "src"
    _write(src / "MCQA" / f"{TASK}_part1.json", [_inst(i, with_id=with_ids) for i in range(3)])
    start = 2 if overlap else 3
    _write(src / "MCQA" / f"{TASK}_part2.json", [_inst(i, with_id=with_ids) for i in range(start, start + 3)])
    return src


def test_files_without_ids_get_distinct_derived_ids(tmp_path, capsys):
    src = _source(tmp_path, with_ids=False, overlap=False)
    assert cli.main(["build", "--source", str(src), "--out", str(tmp_path / "out")]) == 0
    import datasets

    ds = datasets.load_dataset(str(tmp_path / "out"), "medqa_en", split="test")
    assert sorted(ds["id"]) == sorted(["task57-0", "task57-1", "task57-2", "task57-f1-0", "task57-f1-1",
                                       "task57-f1-2"])
    b = MedSIns(config_name="medqa_en", source=str(src), cache_dir=str(tmp_path / "cache"))
    b.download_and_prepare()
    assert sorted(b.as_dataset(split="test")["id"]) == sorted(ds["id"])


def test_repeated_ids_across_files_of_a_split_stop_the_build(tmp_path, capsys):
    src = _source(tmp_path, with_ids=True, overlap=True)
    out = tmp_path / "out"
    assert cli.main(["build", "--source", str(src), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert f"{TASK}_part2.json" in err and "duplicate id 'q2'" in err and f"{TASK}_part1.json" in err, err
    assert not out.exists() or not any(out.rglob("*.parquet"))


def test_repeated_ids_across_files_stop_the_datasets_builder(tmp_path):
    src = _source(tmp_path, with_ids=True, overlap=True)
    b = MedSIns(config_name="medqa_en", source=str(src), cache_dir=str(tmp_path / "cache"))
    with pytest.raises(Exception) as e:  # datasets wraps generator errors in DatasetGenerationError
        b.download_and_prepare()
    chain = [e.value, e.value.__cause__, e.value.__context__]
    assert any(isinstance(x, TaskFormatError) and "duplicate id 'q2'" in str(x) for x in chain), chain


def test_repeated_ids_across_files_stop_the_benchmark(tmp_path, capsys):
    src = _source(tmp_path, with_ids=True, overlap=True)
    code = cli.main(["bench", "--backend", "openai", "--model", "m", "--source", str(src), "--tasks", "medqa_en",
                     "--output", str(tmp_path / "run")])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "duplicate id 'q2'" in err and f"{TASK}_part2.json" in err, err
