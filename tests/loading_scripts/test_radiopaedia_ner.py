"""The ``radiopaedia_ner`` converter (Radiopaedia caption NER from RaTE-NER, task72) on the SELF-MADE
fixture laid out like the RaTE-NER span files (tests/fixtures/radiopaedia, with MIMIC decoys that
must never be read)."""

from __future__ import annotations

import json
import shutil

import pytest

from medsins_datasets.errors import SourceError
from medsins_datasets.sources.converters import converter_for_task, run_converter

from converter_helpers import FIXTURES, cli_convert, copy_fixture, manifest, pairs, written_splits


RATE_URL = "huggingface.co/datasets/Angelakeke/RaTE-NER"

@pytest.mark.parametrize("task,name", [("task72", "radiopaedia_ner")])
def test_registry_routes_tasks(task, name):
    conv = converter_for_task(task)
    assert conv.name == name and conv.task_ids == (task,) and conv.access == "public"

def test_radiopaedia_cli_official_splits(capsys, tmp_path):
    out = tmp_path / "o"
    rc, _, err = cli_convert(capsys, "radiopaedia_ner", FIXTURES / "radiopaedia", out)
    assert rc == 0, err
    assert written_splits(out) == {"train": {"task72"}, "validation": {"task72"}, "test": {"task72"}}
    assert manifest(out)["tasks"] == {"radiopaedia_report_entity_extraction": {"train": 3, "validation": 1, "test": 1}}
    assert manifest(out)["credentialed"] is False
    # parts in the file's order (as the official script; the file lists the first one second), type
    # spelled as in the file, python-list repr as in the official script; no entity gives []
    assert pairs(out, "train", "task72") == [
        ("train-1", "FIXTURE : Enlarged left kidney without hydronephrosis .",
         ["[['left kidney', 'ANATOMY'], ['Enlarged', 'ABNORMALITY'], ['hydronephrosis', 'NON-ABNORMALITY']]"]),
        ("train-2", "FIXTURE report follows .", ["[]"]),
        ("train-3", "FIXTURE : Findings of Crohn's disease in the terminal ileum , no blorpitis .",
         ["[[\"Crohn's disease\", 'DISEASE'], ['terminal ileum', 'ANATOMY'], ['blorpitis', 'NON-DISEASE']]"]),
    ]
    assert pairs(out, "validation", "task72") == [
        ("validation-1", "FIXTURE lung nodule .", ["[['lung', 'ANATOMY'], ['nodule', 'ABNORMALITY']]"])]
    assert pairs(out, "test", "task72") == [
        ("test-1", "FIXTURE normal heart size .", ["[['heart size', 'ANATOMY'], ['normal', 'NON-ABNORMALITY']]"])]
    # the MIMIC_IV/ and all/ folders (credentialed MIMIC-IV sentences) are never read
    for p in out.glob("*/task*.json"):
        assert "MIMIC_SECRET" not in p.read_text(encoding="utf-8")
    # --clean: parts in sentence order
    run_converter("radiopaedia_ner", FIXTURES / "radiopaedia", tmp_path / "c", clean=True)
    assert pairs(tmp_path / "c", "train", "task72")[0][2] == [
        "[['Enlarged', 'ABNORMALITY'], ['left kidney', 'ANATOMY'], ['hydronephrosis', 'NON-ABNORMALITY']]"]

def test_radiopaedia_train_only_and_type_case_kept(tmp_path):
    raw = copy_fixture(tmp_path, "radiopaedia", "raw")
    (raw / "Radiopaedia" / "dev_span.json").unlink()
    (raw / "Radiopaedia" / "test_span.json").unlink()
    rec = {"note_id": 7, "sentences": [["FIXTURE", "small", "liver"]], "ner": [[[2, 2, "Anatomy"], [1, 1, "abnormality"]]]}
    (raw / "Radiopaedia" / "train_span.json").write_text(json.dumps(rec) + "\n\n", encoding="utf-8")
    run_converter("radiopaedia_ner", raw, tmp_path / "o")
    assert written_splits(tmp_path / "o") == {"train": {"task72"}}
    assert pairs(tmp_path / "o", "train", "task72") == [
        ("train-1", "FIXTURE small liver", ["[['liver', 'Anatomy'], ['small', 'abnormality']]"])]

def test_radiopaedia_missing_files_never_fall_back_to_mimic(tmp_path):
    raw = copy_fixture(tmp_path, "radiopaedia", "raw")
    shutil.rmtree(raw / "Radiopaedia")
    with pytest.raises(SourceError, match=rf"(?s)Radiopaedia Caption NER: missing raw file.*"
                                          rf"Radiopaedia/train_span\.json.*{RATE_URL}"):
        run_converter("radiopaedia_ner", raw, tmp_path / "o")
    assert not (tmp_path / "o").exists()

@pytest.mark.parametrize("line2,message", [
    ("{not json", r"file train_span\.json, line 2: not a valid JSON object"),
    (json.dumps({"sentences": [["a", "b"]], "ner": [[[1, 2, "ANATOMY"]]]}),
     r"file train_span\.json, line 2, field 'ner': span 0 is not \[start, end, type\] with 0 <= start <= end < 2"),
    (json.dumps({"sentences": [["a", "b"]], "ner": [[[0, 0, "ANATOMY"], [1, 1, "ORGAN"]]]}),
     r"file train_span\.json, line 2, field 'ner': span 1 has type 'ORGAN', expected one of ANATOMY, ABNORMALITY"),
    (json.dumps({"sentences": [["a"], ["b"]], "ner": [[], []]}),
     r"file train_span\.json, line 2, field 'sentences': expected one sentence"),
    (json.dumps({"sentences": [["a"]]}),
     r"file train_span\.json, line 2, field 'ner': expected one list of \[start, end, type\] spans"),
])
def test_radiopaedia_malformed_records_are_named(tmp_path, line2, message):
    raw = copy_fixture(tmp_path, "radiopaedia", "raw")
    p = raw / "Radiopaedia" / "train_span.json"
    first = p.read_text(encoding="utf-8").splitlines()[0]
    p.write_text(first + "\n" + line2 + "\n", encoding="utf-8")
    with pytest.raises(SourceError, match=message) as e:
        run_converter("radiopaedia_ner", raw, tmp_path / "o")
    if "JSON" not in message:
        assert RATE_URL in str(e.value)
    assert not (tmp_path / "o").exists()
