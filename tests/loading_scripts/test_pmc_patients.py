"""The ``pmc_patients`` converter (PMC-Patients -> task73, task74, task75) on the SELF-MADE fixture."""

from __future__ import annotations

import json

import pytest

from medsins_datasets.errors import SourceError
from medsins_datasets.sources.converters import run_converter

from converter_helpers import FIXTURES, copy_fixture, pairs, written_splits


def test_pmc_patients_three_tasks_official_split(tmp_path, caplog):
    import logging

    out = tmp_path / "o"
    with caplog.at_level(logging.INFO):
        run_converter("pmc_patients", FIXTURES / "pmc_patients", out)
    assert written_splits(out) == {"train": {"task73", "task74", "task75"}, "validation": {"task73", "task74"},
                                   "test": {"task73", "task74", "task75"}}
    assert pairs(out, "train", "task73")[0] == ("900001-1", "FIXTURE: A 60-year-old man had an invented fever.",
                                                ["FIXTURE: Invented fever in two brothers: a case report"])
    assert pairs(out, "train", "task74")[1] == ("900001-2", "FIXTURE: His 1-year-2-month-old nephew had the same fever.",
                                                ["Gender: M\n\nAge: [[1.0, 'year'], [2.0, 'month']]"])
    # the patient without an age is kept for task73 but skipped for task74
    assert [i[0] for i in pairs(out, "test", "task73")] == ["900004-1", "900005-1"]
    assert pairs(out, "test", "task74") == [("900005-1", "FIXTURE: A 45-year-old man had an invented cough.",
                                             ["Gender: M\n\nAge: [[45.0, 'year']]"])]
    assert "1 patient(s) without gender or age skipped" in caplog.text
    # retrieval: similar patients (score 2 before 1) + seeded non-similar ones, 4 candidates, same split only
    q = {i[0]: i for i in pairs(out, "train", "task75")}
    assert sorted(q) == ["900001-1", "900001-2", "900002-1"]  # 900003-1 has no similar patient
    text, answer = q["900001-1"][1], q["900001-1"][2][0]
    lines = text.split("\n")
    assert lines[0] == "Query: FIXTURE: A 60-year-old man had an invented fever." and len(lines) == 4
    related = {f"Case{k}" for k, line in enumerate(lines[1:], 1)
               if line.split(": ", 1)[1] in ("FIXTURE: His 1-year-2-month-old nephew had the same fever.",
                                             "FIXTURE: A 30-year-old woman had an invented fever.")}
    assert answer == ", ".join(sorted(related)) and len(related) == 2
    test_q = pairs(out, "test", "task75")
    assert test_q[0] == ("900004-1", "Query: FIXTURE: A woman of unstated age had an invented cough.\n"
                                     "Case1: FIXTURE: A 45-year-old man had an invented cough.", ["Case1"])
    train_text = " ".join(i[1] for i in pairs(out, "train", "task75"))
    assert "cough" not in train_text and "itch" not in train_text  # no test/validation text in training
    # deterministic
    out2 = tmp_path / "o2"
    run_converter("pmc_patients", FIXTURES / "pmc_patients", out2)
    assert pairs(out2, "train", "task75") == pairs(out, "train", "task75")

def test_pmc_patients_json_release_and_hash_split(tmp_path):
    import csv

    raw = tmp_path / "raw"
    raw.mkdir()
    with open(FIXTURES / "pmc_patients" / "PMC-Patients.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    import ast
    for r in rows:  # the JSON releases hold real lists / dicts
        r["age"], r["similar_patients"] = ast.literal_eval(r["age"]), ast.literal_eval(r["similar_patients"])
    (raw / "PMC-Patients-V2.json").write_text(json.dumps(rows), encoding="utf-8")
    out = tmp_path / "o"
    run_converter("pmc_patients", raw, out)  # no split files: 5% hash split by article
    found = {}
    for split in written_splits(out):
        for iid, _, _ in pairs(out, split, "task73"):
            found[iid] = split
    assert len(found) == 7
    assert found["900001-1"] == found["900001-2"]  # an article's patients share a split
    first = dict((i[0], i[2]) for s in written_splits(out) for i in pairs(out, s, "task74"))
    assert first["900001-2"] == ["Gender: M\n\nAge: [[1.0, 'year'], [2.0, 'month']]"]

def test_pmc_patients_errors(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(SourceError, match="missing raw file"):
        run_converter("pmc_patients", empty, tmp_path / "o")
    raw = copy_fixture(tmp_path, "pmc_patients")
    p = raw / "PMC-Patients.csv"
    p.write_text(p.read_text(encoding="utf-8").replace("[[30.0, 'year']]", "[[30.0, 'decade']]"), encoding="utf-8")
    with pytest.raises(SourceError, match=r"file PMC-Patients.csv, field 'age': expected \[value, unit\] pairs .*\(line 4\)"):
        run_converter("pmc_patients", raw, tmp_path / "o")
    p.write_text(p.read_text(encoding="utf-8").replace("[[30.0, 'decade']]", "[[30.0, 'year'"), encoding="utf-8")
    with pytest.raises(SourceError, match=r"field 'age': not a valid list/dict literal \(line 4\)"):
        run_converter("pmc_patients", raw, tmp_path / "o")
    assert not (tmp_path / "o").exists()
