"""Converters for DDXPlus, PMC-Patients, RCT, EBMS and BioLORD on SELF-MADE fixtures laid out
like the real distributions (no real data for these sources is in ../shared)."""

from __future__ import annotations

import json
import shutil
import zipfile

import pytest

from medsins_datasets.sources.converters import converter_for_task, run_converter
from medsins_datasets.errors import SourceError

from rawconv_helpers import FIXTURES, cli_convert, header_fields, instances, manifest, written_splits


def pairs(out, split, tid):
    return [(i.id, i.input, i.output) for i in instances(out, split, tid)]


def copy_fixture(tmp_path, name):
    dst = tmp_path / f"raw_{name}"
    shutil.copytree(FIXTURES / name, dst)
    return dst


# --------------------------------------------------------------------------------------------
# DDXPlus
# --------------------------------------------------------------------------------------------

def test_ddxplus_dialogue_and_official_splits(capsys, tmp_path):
    out = tmp_path / "o"
    rc, _, err = cli_convert(capsys, "ddxplus", FIXTURES / "ddxplus", out)
    assert rc == 0, err
    assert written_splits(out) == {"train": {"task130"}, "validation": {"task130"}, "test": {"task130"}}
    got = pairs(out, "train", "task130")
    assert got[0] == ("train-0", "\n".join([
        "Doctor: How old are you, and what is your sex?", "Patient: I am 45 years old, female.",
        # the initial evidence comes first, then the others in file order
        "Doctor: FIXTURE: Do you have a fever?", "Patient: Yes.",
        "Doctor: FIXTURE: Do you have pain somewhere?", "Patient: Yes.",
        # a multi-choice evidence: its values' English meanings in one answer
        "Doctor: FIXTURE: Where is the pain located?", "Patient: forehead, temple(L).",
        "Doctor: FIXTURE: How intense is the pain (0-10)?", "Patient: 4."]),
        ["The diagnosis result is fixture influenza."])
    # the French condition key is mapped to cond-name-eng, lower-cased
    assert got[1][2] == ["The diagnosis result is fixture urti."]
    assert got[1][1].endswith("Doctor: FIXTURE: Have you travelled out of the country recently?\nPatient: Africa.")
    # validate (extracted, no extension) -> validation; test from its own zip
    assert [i[0] for i in pairs(out, "validation", "task130")] == ["validate-0"]
    test = pairs(out, "test", "task130")
    assert test == [("test-0", "Doctor: How old are you, and what is your sex?\nPatient: I am 33 years old, female.\n"
                     "Doctor: FIXTURE: Do you have a fever?\nPatient: Yes.", ["The diagnosis result is fixture influenza."])]
    assert {i[1] for i in test}.isdisjoint(i[1] for i in got)
    head = header_fields(out, "test", "task130")
    assert head["Categories"] == ["Diagnosis"] and head["Source"] == ["DDXPlus"]
    assert "fixture influenza; fixture urti" in head["Definition"]  # fallback lists the release's conditions
    assert manifest(out)["credentialed"] is False


def test_ddxplus_official_definition_is_used(tmp_path):
    from conftest import shared_file

    defs = shared_file("data/medsins_definitions/RewriteDefinitions.json")
    out = tmp_path / "o"
    run_converter("ddxplus", FIXTURES / "ddxplus", out, definitions=defs)
    assert header_fields(out, "test", "task130")["Definition"].startswith("Imagine you are a doctor")


def test_ddxplus_errors_name_file_line_and_field(tmp_path):
    raw = copy_fixture(tmp_path, "ddxplus")
    (raw / "release_evidences.json").unlink()
    with pytest.raises(SourceError, match="release_evidences.json"):
        run_converter("ddxplus", raw, tmp_path / "o")
    assert not (tmp_path / "o").exists()

    raw = copy_fixture(tmp_path / "b", "ddxplus")
    p = raw / "release_validate_patients"
    p.write_text(p.read_text().replace("['E_53']", "['E_999']"))
    with pytest.raises(SourceError, match=r"file release_validate_patients, line 2, field 'EVIDENCES': evidence 'E_999'"):
        run_converter("ddxplus", raw, tmp_path / "o")
    p.write_text(p.read_text().replace("['E_999']", "['E_53']").replace(",IVRS fixture,", ",Unknown fixture,"))
    with pytest.raises(SourceError, match=r"line 2, field 'PATHOLOGY': not a condition of release_conditions.json"):
        run_converter("ddxplus", raw, tmp_path / "o")
    with zipfile.ZipFile(raw / "release_test_patients.zip", "w") as zf:
        zf.writestr("release_test_patients", "AGE,SEX,PATHOLOGY\n1,M,x\n")
    p.write_text(p.read_text().replace(",Unknown fixture,", ",IVRS fixture,"))
    with pytest.raises(SourceError, match=r"file release_test_patients.zip, line 1: missing column\(s\) EVIDENCES"):
        run_converter("ddxplus", raw, tmp_path / "o")
    with zipfile.ZipFile(raw / "release_test_patients.zip", "w") as zf:
        zf.writestr("a.csv", "AGE\n")
        zf.writestr("b.csv", "AGE\n")
    with pytest.raises(SourceError, match=r"file release_test_patients.zip: expected one file in the archive, found 2"):
        run_converter("ddxplus", raw, tmp_path / "o")
    (raw / "release_test_patients.zip").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(SourceError, match=r"file release_test_patients.zip.*(truncated or corrupt|not a zip)"):
        run_converter("ddxplus", raw, tmp_path / "o")
    assert not (tmp_path / "o").exists()


def test_registry_knows_the_bench_source_converters():
    for tid, name in [("task130", "ddxplus"), ("task73", "pmc_patients"), ("task75", "pmc_patients"), ("task110", "rct"), ("task99", "ebms"), ("task100", "ebms"), ("task48", "biolord"), ("task50", "biolord")]:
        assert converter_for_task(tid).name == name


# --------------------------------------------------------------------------------------------
# PMC-Patients
# --------------------------------------------------------------------------------------------

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


# --------------------------------------------------------------------------------------------
# RCT summarization
# --------------------------------------------------------------------------------------------

def test_rct_groups_trials_by_review(tmp_path):
    out = tmp_path / "o"
    run_converter("rct", FIXTURES / "rct", out)
    assert written_splits(out) == {"train": {"task110"}, "validation": {"task110"}, "test": {"task110"}}
    assert pairs(out, "train", "task110") == [
        ("CD900002", "Study 1\nTitle: FIXTURE: Diet Y for invented fatigue",  # empty abstract left out
         ["FIXTURE: There is not enough evidence on diet Y."]),
        ("CD900001", "Study 1\nTitle: FIXTURE: Drug X versus placebo for invented pain\n"
                     "Abstract: FIXTURE: Drug X reduced pain in 40 patients.\n\n"
                     "Study 2\nTitle: FIXTURE: A second trial of drug X\nAbstract: FIXTURE: Drug X helped a little, with nausea.",
         ["FIXTURE: Drug X probably reduces invented pain.\nMore trials are needed."]),
    ]  # CD900003 has no target: skipped
    assert [i[0] for i in pairs(out, "validation", "task110")] == ["CD900010"]
    test = pairs(out, "test", "task110")
    assert test == [("CD900020", "Study 1\nTitle: FIXTURE: Herb W for invented cough\nAbstract: FIXTURE: Herb W did nothing.\n\n"
                                 "Study 2\nTitle: FIXTURE: Herb W again\nAbstract: FIXTURE: Herb W did nothing again.",
                     ["FIXTURE: Herb W does not help invented cough."])]
    assert header_fields(out, "test", "task110")["Categories"] == ["Text Summarization"]


def test_rct_without_test_targets_and_errors(tmp_path):
    raw = copy_fixture(tmp_path, "rct")
    (raw / "test-targets.csv").unlink()  # the MSLR Cochrane copy withholds test targets
    out = tmp_path / "o"
    run_converter("rct", raw, out)
    assert "test" not in written_splits(out)
    (raw / "train-targets.csv").write_text(",ReviewID,Target\n0,CD900001,a\n1,CD900001,b\n")
    with pytest.raises(SourceError, match=r"file train-targets.csv, line 3, field 'ReviewID': review 'CD900001' has a second target"):
        run_converter("rct", raw, tmp_path / "o2")
    (raw / "train-targets.csv").write_text(",ReviewID\n0,CD900001\n")
    with pytest.raises(SourceError, match=r"file train-targets.csv, line 1: missing column\(s\) Target"):
        run_converter("rct", raw, tmp_path / "o2")
    (raw / "train-inputs.csv").unlink()
    with pytest.raises(SourceError, match="missing raw file"):
        run_converter("rct", raw, tmp_path / "o2")
    assert not (tmp_path / "o2").exists()


# --------------------------------------------------------------------------------------------
# EBM Summariser corpus
# --------------------------------------------------------------------------------------------

def test_ebms_qa_and_justification(tmp_path, caplog):
    import logging

    out = tmp_path / "o"
    with caplog.at_level(logging.INFO):
        run_converter("ebms", FIXTURES / "ebms", out)
    assert written_splits(out) == {"train": {"task99", "task100"}, "test": {"task99", "task100"}}
    # default = the official script: element texts untouched (the question's triple space kept)
    assert pairs(out, "train", "task99") == [
        ("9001", "FIXTURE: Does invented drug X relieve   made-up pain?",
         ["FIXTURE: Yes, drug X relieves made-up pain. FIXTURE: It may cause nausea."])]
    assert pairs(out, "train", "task100") == [
        ("9001-1_1", "FIXTURE: Yes, drug X relieves made-up pain.", ["FIXTURE: A trial of 40 patients found less pain & no harm."]),
        ("9001-1_2", "FIXTURE: Yes, drug X relieves made-up pain.", ["FIXTURE: A second trial agreed."]),
        ("9001-2_1", "FIXTURE: It may cause nausea.", ["FIXTURE: Nausea was reported in one case series."]),
    ]
    # record 9013 is held out for both tasks; 9002 has no answer
    assert pairs(out, "test", "task100") == [("9013-1_1", "FIXTURE: Exercise Z probably helps.",
                                              ["FIXTURE: One invented cohort improved."])]
    assert [i[0] for i in pairs(out, "test", "task99")] == ["9013"]
    assert "1 record(s) without a question or an answer skipped" in caplog.text
    head = header_fields(out, "test", "task100")
    assert head["Source"] == ["EBM Summariser Corpus"] and head["Categories"] == ["Question Answering"]
    # --clean collapses whitespace; the instances are otherwise the same
    clean = tmp_path / "c"
    run_converter("ebms", FIXTURES / "ebms", clean, clean=True)
    assert pairs(clean, "train", "task99")[0][1] == "FIXTURE: Does invented drug X relieve made-up pain?"
    assert pairs(clean, "train", "task100") == pairs(out, "train", "task100")


def test_ebms_errors(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(SourceError, match="missing raw file"):
        run_converter("ebms", empty, tmp_path / "o")
    raw = copy_fixture(tmp_path, "ebms")
    p = raw / "ClinicalInquiries.xml"
    p.write_text(p.read_text().replace("<sniptext>FIXTURE: It may cause nausea.</sniptext>", ""))
    with pytest.raises(SourceError, match=r"file ClinicalInquiries.xml, field 'sniptext': missing or empty in snip 2 of record 9001"):
        run_converter("ebms", raw, tmp_path / "o")
    p.write_text(p.read_text().replace("</records>", ""))
    with pytest.raises(SourceError, match=r"file ClinicalInquiries.xml, line \d+: not well-formed XML"):
        run_converter("ebms", raw, tmp_path / "o")
    assert not (tmp_path / "o").exists()


# --------------------------------------------------------------------------------------------
# BioLORD
# --------------------------------------------------------------------------------------------

def test_biolord_three_tasks(tmp_path):
    out = tmp_path / "o"
    run_converter("biolord", FIXTURES / "biolord", out)
    assert written_splits(out) == {"train": {"task48", "task49", "task50"}, "test": {"task48", "task49", "task50"}}
    train50 = pairs(out, "train", "task50")
    # 10 rows: one exact duplicate and one without definition dropped, 2 held-out concepts
    assert len(train50) == 6 and len(pairs(out, "test", "task50")) == 2
    assert train50[0] == ("train-0", "FIXTURE concept a", ["FIXTURE concept a is an invented disorder of the imaginary gland."])
    assert train50[2] == ("train-2", "FIXTURE concept a", ["A second invented description: a made-up gland disease."])
    assert ("train-4", "FIXTURE concept e is an invented virus.", ["FIXTURE concept e"]) in pairs(out, "train", "task49")
    assert pairs(out, "test", "task49") == [
        ("test-0", "FIXTURE term 3 is an invented held-out procedure.", ["FIXTURE term 3"]),
        ("test-1", "FIXTURE term 8 is an invented held-out symptom.", ["FIXTURE term 8"])]
    for split in ("train", "test"):
        for iid, text, answer in pairs(out, split, "task48"):
            definition, listing = text.split("\nConcepts:\n")
            choices = [line.split(". ", 1)[1] for line in listing.split("\n")]
            assert definition.startswith("Definition: ") and answer[0] in choices
            assert len(choices) == len(set(choices)) == (5 if split == "train" else 2)
            # distractors come from the same split only
            assert all(("term" in c) == (split == "test") for c in choices)
    head = header_fields(out, "test", "task50")
    assert head["Categories"] == ["Explanation"] and head["Source"] == ["BioLORD"]


def test_biolord_csv_columns_and_errors(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "biolord.csv").write_text('concept_name,description\nFIXTURE concept a,"FIXTURE concept a is invented."\n'
                                     "FIXTURE concept b,FIXTURE concept b is invented too.\n", encoding="utf-8")
    out = tmp_path / "o"
    run_converter("biolord", raw, out)
    assert pairs(out, "train", "task50")[1] == ("train-1", "FIXTURE concept b", ["FIXTURE concept b is invented too."])
    (raw / "biolord.csv").write_text("cui,text_a\nC1,x\n", encoding="utf-8")
    with pytest.raises(SourceError, match=r"file biolord.csv: no concept-name and definition columns .*the file has cui, text_a"):
        run_converter("biolord", raw, tmp_path / "o2")
    (raw / "biolord.csv").unlink()
    with pytest.raises(SourceError, match="BioLORD: no data file"):
        run_converter("biolord", raw, tmp_path / "o2")
    assert not (tmp_path / "o2").exists()
