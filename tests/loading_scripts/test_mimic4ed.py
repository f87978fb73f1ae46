"""The ``mimic4ed`` converter (MIMIC-IV-ED benchmark, task117-119, credentialed) on SYNTHETIC
benchmark-shaped CSVs (tests/fixtures/mimic4ed)."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from medsins_datasets.errors import SourceError
from medsins_datasets.sources.converters import run_converter
from medsins_datasets.loading_scripts.mimic4ed import REVISIT_VARIABLES, TASKS, TRIAGE_VARIABLES

from converter_helpers import FIXTURES, assert_credentialed_output, cli_convert, instances, written_splits


RAW = FIXTURES / "mimic4ed"

HELD_OUT = {"19000006", "19000014", "19000032"}

def rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))

def expected(row: dict[str, str], tid: str) -> tuple[str, str]:
    outcome, variables = TASKS[tid]
    text = "\n".join(f"{v}: {row[v] or 'nan'}" for v in variables)
    return text, {"True": "True", "1": "True", "False": "False", "0": "False"}[row[outcome]]

def test_variable_sets():
    assert len(TRIAGE_VARIABLES) == 64 and len(REVISIT_VARIABLES) == 67
    assert "ed_los" in REVISIT_VARIABLES and "triage_temperature" not in REVISIT_VARIABLES
    assert "ed_los" not in TRIAGE_VARIABLES

def test_benchmark_split_is_kept(capsys, tmp_path):
    out = tmp_path / "ed"
    rc, stdout, err = cli_convert(capsys, "mimic4ed", RAW / "split", out)
    assert rc == 0, err
    assert written_splits(out) == {"train": set(TASKS), "test": set(TASKS)}
    for split in ("train", "test"):
        src = rows(RAW / "split" / f"{split}.csv")
        for tid in TASKS:
            got = instances(out, split, tid)
            assert [i.id for i in got] == [f"stay{r['stay_id']}" for r in src]
            assert [(i.input, i.output[0]) for i in got] == [expected(r, tid) for r in src]
            assert {i.output[0] for i in got} <= {"True", "False"}
    t117 = instances(out, "train", "task117")
    assert t117[0].input.split("\n")[0] == f"age: {rows(RAW / 'split' / 'train.csv')[0]['age']}"
    assert "triage_pain: nan" in t117[1].input
    assert instances(out, "train", "task119")[2].output == ["True"]  # "1" in the file
    assert_credentialed_output(out)

def test_master_dataset_gets_patient_hold_out(tmp_path):
    out = tmp_path / "ed"
    run_converter("mimic4ed", RAW / "master", out)
    src = rows(RAW / "master" / "master_dataset.csv")
    by_stay = {f"stay{r['stay_id']}": r["subject_id"] for r in src}
    for tid in TASKS:
        train_subjects = {by_stay[i.id] for i in instances(out, "train", tid)}
        test_subjects = {by_stay[i.id] for i in instances(out, "test", tid)}
        assert test_subjects == HELD_OUT and not train_subjects & HELD_OUT
        assert len(train_subjects) == len(src) - len(HELD_OUT)

def test_bad_outcome_and_missing_files(tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(RAW / "split", raw)
    src = rows(raw / "test.csv")
    src[1]["outcome_ed_revisit_3d"] = "maybe"
    with open(raw / "test.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(src[0]))
        w.writeheader()
        w.writerows(src)
    with pytest.raises(SourceError, match=r"file test.csv, line 3, field 'outcome_ed_revisit_3d': expected True/False"):
        run_converter("mimic4ed", raw, tmp_path / "out")
    (raw / "test.csv").unlink()
    with pytest.raises(SourceError, match="has only train.csv; expected train.csv and test.csv"):
        run_converter("mimic4ed", raw, tmp_path / "out")
    # a missing predictor column is named
    src = rows(raw / "train.csv")
    with open(raw / "master_dataset.csv", "w", encoding="utf-8", newline="") as f:
        cols = [c for c in src[0] if c != "ed_los"]
        w = csv.DictWriter(f, fieldnames=cols, extrasaction="ignore")
        w.writeheader()
        w.writerows(src)
    (raw / "train.csv").unlink()
    with pytest.raises(SourceError, match=r"file master_dataset.csv, line 1: missing column\(s\) ed_los"):
        run_converter("mimic4ed", raw, tmp_path / "out")
    assert not (tmp_path / "out").exists()
