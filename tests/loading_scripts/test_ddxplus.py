"""The ``ddxplus`` converter (DDXPlus, task130): the real evidence and condition dictionaries staged in
../shared/data/ddxplus (no patients: a clear error; with a hand-made patients file: the official
label prefix) and the SELF-MADE fixture laid out like the release (tests/fixtures/ddxplus)."""

from __future__ import annotations

import json
import shutil
import zipfile

import pytest

from common import shared_file
from medsins_datasets.errors import SourceError
from medsins_datasets.sources.converters import run_converter

from converter_helpers import FIXTURES, cli_convert, copy_fixture, header_fields, instances, manifest, pairs, written_splits


def test_ddxplus_real_dictionaries_without_patients_is_a_clear_error(tmp_path):
    raw = shared_file("data/ddxplus/release_evidences.json").parent
    with pytest.raises(SourceError) as e:
        run_converter("ddxplus", raw, tmp_path / "o")
    msg = str(e.value)
    assert "DDXPlus: missing raw file(s)" in msg and "release_*_patients*" in msg
    assert "release_{train,validate,test}_patients.zip" in msg and "mila-iqia/ddxplus" in msg
    assert not (tmp_path / "o").exists() and "Traceback" not in msg

def test_ddxplus_real_dictionaries_with_a_hand_made_patients_file(tmp_path):
    real = shared_file("data/ddxplus/release_evidences.json").parent
    raw = tmp_path / "raw"
    raw.mkdir()
    for name in ("release_evidences.json", "release_conditions.json"):
        shutil.copy(real / name, raw / name)
    evidences = json.loads((real / "release_evidences.json").read_text(encoding="utf-8"))
    conditions = json.loads((real / "release_conditions.json").read_text(encoding="utf-8"))
    assert len(evidences) == 223 and len(conditions) == 49
    # hand-made patients (not real records) using real codes: a binary evidence (E_91 fever), a
    # multi-choice one with two values (E_55 pain location) and a numeric one (E_59 pain onset)
    header = "AGE,DIFFERENTIAL_DIAGNOSIS,SEX,PATHOLOGY,EVIDENCES,INITIAL_EVIDENCE\n"
    train = header + ("34,\"[['Spontaneous pneumothorax', 0.6]]\",M,Spontaneous pneumothorax,"
                      "\"['E_91', 'E_55_@_V_14', 'E_55_@_V_15', 'E_59_@_4']\",E_55\n")
    test = header + "61,[],F,Cluster headache,\"['E_91']\",E_91\n"
    (raw / "release_train_patients.csv").write_text(train, encoding="utf-8")
    (raw / "release_test_patients.csv").write_text(test, encoding="utf-8")
    out = tmp_path / "o"
    assert run_converter("ddxplus", raw, out) == {"ddxplus_diagnosis": {"train": 1, "test": 1}}
    (inst,) = instances(out, "train", "task130")
    q = {k: " ".join(evidences[k]["question_en"].split()) for k in ("E_91", "E_55", "E_59")}
    vm = evidences["E_55"]["value_meaning"]
    assert inst.input == "\n".join([
        "Doctor: How old are you, and what is your sex?", "Patient: I am 34 years old, male.",
        f"Doctor: {q['E_55']}", f"Patient: {vm['V_14']['en']}, {vm['V_15']['en']}.",  # the initial evidence first
        f"Doctor: {q['E_91']}", "Patient: Yes.",
        f"Doctor: {q['E_59']}", "Patient: 4."])
    assert inst.output == ["The diagnosis result is spontaneous pneumothorax."]  # the official label prefix
    assert instances(out, "test", "task130")[0].output == ["The diagnosis result is cluster headache."]
    definition = json.loads((out / "test/task130_ddxplus_diagnosis.json").read_text(encoding="utf-8"))["Definition"]
    assert all(c["cond-name-eng"].lower() in definition for c in conditions.values())

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
