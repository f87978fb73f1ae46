"""The ``mimic_iv_note_radiology`` converter (MIMIC-IV-Note radiology reports -> task78-96,
credentialed) on SYNTHETIC fixtures (tests/fixtures/mimic_iv_note), and the report-section helpers
(``_reports``) and the patient hold-out (``_rawfiles.heldout``) the MIMIC-IV-Note converters share."""

from __future__ import annotations

import csv
import io
import json
import logging
from pathlib import Path

import pytest

from medsins_datasets.errors import SourceError
from medsins_datasets.sources.converters import run_converter
from medsins_datasets.loading_scripts import mimic_iv_note_radiology as rad
from medsins_datasets.loading_scripts._rawfiles import heldout
from medsins_datasets.loading_scripts._reports import reflow, sections

from converter_helpers import (FIXTURES, assert_credentialed_output, assert_no_text_leak, assert_push_refused, cli_convert,
                     damaged_gzip_copy, instances, note_texts, written_splits)


RAW = FIXTURES / "mimic_iv_note"

HELD_OUT = {"19000006", "19000014", "19000032"}

# routing of each usable fixture report, worked out by hand from its EXAMINATION line
EXPECTED_TRAIN = {
    "19000001-RR-1": {"task84", "task95", "task96"},
    "19000001-RR-2": {"task83", "task95", "task96"},
    "19000002-RR-1": {"task92", "task95", "task96"},  # MR ... W/ CONTRAST is MRI, not CT
    "19000002-RR-2": {"task91", "task95", "task96"},
    "19000003-RR-1": {"task78", "task95", "task96"},
    "19000003-RR-2": {"task78", "task95"},
    "19000004-RR-1": {"task79", "task95"},
    "19000004-RR-2": {"task80", "task95"},
    "19000005-RR-1": {"task81", "task95"},
    "19000005-RR-2": {"task82", "task95", "task96"},
    "19000007-RR-1": {"task95", "task96"},
    "19000007-RR-2": {"task88", "task95", "task96"},
    "19000008-RR-1": {"task87", "task95", "task96"},
    "19000008-RR-2": {"task86", "task95", "task96"},
    "19000009-RR-1": {"task85", "task95", "task96"},
    "19000009-RR-2": {"task90", "task95", "task96"},
    "19000010-RR-1": {"task89", "task95", "task96"},
    "19000010-RR-2": {"task93", "task95", "task96"},
    "19000011-RR-1": {"task94", "task95", "task96"},
    "19000011-RR-2": {"task83", "task95", "task96"},
}

EXPECTED_TEST = {
    "19000006-RR-1": {"task84", "task95", "task96"},
    "19000014-RR-1": {"task78", "task95"},
    "19000032-RR-1": {"task91", "task95", "task96"},
}

def routing(out: Path, split: str) -> dict[str, set[str]]:
    got: dict[str, set[str]] = {}
    for p in sorted((out / split).glob("task*_*.json")):
        tid = p.name.split("_", 1)[0]
        for inst in instances(out, split, tid):
            got.setdefault(inst.id, set()).add(tid)
    return got

def test_fixture_subjects_are_held_out_as_planned():
    assert {s for s in (f"190000{i:02d}" for i in range(1, 40)) if heldout(s)} == HELD_OUT

def test_sections_and_reflow():
    text = note_texts("radiology.csv.gz")[0]
    sec = sections(text)
    assert {"EXAMINATION", "INDICATION", "TECHNIQUE", "COMPARISON", "FINDINGS", "IMPRESSION", "NOTIFICATION"} <= set(sec)
    # IMPRESSION stops at the next top-level heading (NOTIFICATION is not part of the summary)
    assert "NOTIFICATION" not in sec["IMPRESSION"] and "discussed" not in sec["IMPRESSION"]
    assert reflow(sec["FINDINGS"]) == ("SYNTHETIC: no intracranial hemorrhage. The ventricles are normal in size "
                                       "and configuration.")
    assert reflow(sec["IMPRESSION"]) == ("1. SYNTHETIC: no acute intracranial process.\n"
                                         "2. SYNTHETIC: mild sinus thickening.")
    # organ sub-headings stay inside FINDINGS
    f = sections(note_texts("radiology.csv.gz")[2])["FINDINGS"]
    assert reflow(f) == "LIVER: SYNTHETIC: a 1 cm cyst.\nKIDNEYS: SYNTHETIC: normal."

def test_radiology_tasks_routing_and_patient_split(capsys, tmp_path, caplog):
    out = tmp_path / "rad"
    with caplog.at_level(logging.INFO):
        rc, stdout, err = cli_convert(capsys, "mimic_iv_note_radiology", RAW, out)
    assert rc == 0, err
    assert routing(out, "train") == EXPECTED_TRAIN
    assert routing(out, "test") == EXPECTED_TEST
    assert not HELD_OUT & {i.split("-")[0] for i in routing(out, "train")}
    # tasks without any instance in this small copy are not written (and say so in the log)
    assert written_splits(out)["test"] == {"task78", "task84", "task91", "task95", "task96"}
    assert "no instances for" in caplog.text
    # no report text in logs or terminal output
    secrets = [t for t in note_texts("radiology.csv.gz")]
    pieces = [line.strip() for t in secrets for line in t.splitlines() if "SYNTHETIC" in line]
    for piece in pieces:
        assert piece not in caplog.text and piece not in stdout + err

    # default: the sections cut as the official scripts cut them (text between the headings,
    # stripped, line breaks kept; the impression runs to the end of the report)
    text = note_texts("radiology.csv.gz")[0]
    head = instances(out, "train", "task84")[0]
    assert head.input == text[text.find("FINDINGS:") + 9:text.find("IMPRESSION:")].strip()
    assert head.input == "SYNTHETIC: no intracranial hemorrhage. The ventricles\nare normal in size and configuration."
    assert head.output == [text[text.find("IMPRESSION:") + 11:].strip()]
    assert head.output[0].endswith("NOTIFICATION:  SYNTHETIC: findings discussed with Dr. ___ by phone.")
    t95 = {i.id: i for i in instances(out, "train", "task95")}
    assert t95["19000001-RR-1"].output == ["The imaging modality used for the diagnosis is CT."]
    assert t95["19000007-RR-1"].output == ["The imaging modality used for the diagnosis is X-ray."]
    assert t95["19000001-RR-1"].input == head.input + "\n" + head.output[0]
    t96 = {i.id: i.output[0] for i in instances(out, "train", "task96")}
    assert t96["19000001-RR-1"] == "The anatomical location of the diagnosis is Head_and_neck."  # official label
    assert t96["19000008-RR-1"] == "The anatomical location of the diagnosis is Pelvis."
    assert_credentialed_output(out)
    assert_push_refused(capsys, out, tmp_path / "built")

def test_radiology_clean_sections_and_labels(tmp_path):
    """--clean: sections end at the next heading, text reflowed, readable anatomy label; same routing."""
    out = tmp_path / "rad"
    run_converter("mimic_iv_note_radiology", RAW, out, clean=True)
    assert routing(out, "train") == EXPECTED_TRAIN and routing(out, "test") == EXPECTED_TEST
    head = instances(out, "train", "task84")[0]
    assert head.input == ("SYNTHETIC: no intracranial hemorrhage. The ventricles are normal in size and "
                          "configuration.")
    assert head.output == ["1. SYNTHETIC: no acute intracranial process.\n2. SYNTHETIC: mild sinus thickening."]
    t96 = {i.id: i.output[0] for i in instances(out, "train", "task96")}
    assert t96["19000001-RR-1"] == "The anatomical location of the diagnosis is Head and neck."
    m = json.loads((out / ".medsins_convert.json").read_text())
    assert m["clean"] is True and m["clean_applied"] is True

def test_classification_cap_and_test_sample_size(tmp_path, monkeypatch):
    monkeypatch.setattr(rad, "MAX_PER_CLASS", 2)
    monkeypatch.setattr(rad, "TEST_PER_TASK", 1)
    out = tmp_path / "rad"
    run_converter("mimic_iv_note_radiology", RAW, out)
    t95 = instances(out, "train", "task95")
    # the first two CT, MRI and ultrasound reports each, one of each other modality
    assert [i.id for i in t95] == ["19000001-RR-1", "19000001-RR-2", "19000002-RR-1", "19000002-RR-2",
                                   "19000003-RR-1", "19000003-RR-2", "19000004-RR-1", "19000004-RR-2",
                                   "19000005-RR-1", "19000005-RR-2", "19000007-RR-1"]
    counts: dict[str, int] = {}
    for i in instances(out, "train", "task96"):
        counts[i.output[0]] = counts.get(i.output[0], 0) + 1
    assert max(counts.values()) == 2
    assert all(len(instances(out, "test", t)) == 1 for t in ("task95", "task96", "task84"))

def test_no_usable_report_is_an_error(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["note_id", "subject_id", "hadm_id", "note_type", "note_seq", "charttime", "storetime", "text"])
    w.writerow(["1-RR-1", "1", "", "RR", "1", "", "", "SYNTHETIC note without sections"])
    (raw / "radiology.csv").write_text(buf.getvalue(), encoding="utf-8")
    with pytest.raises(SourceError, match="none of its 1 report"):
        run_converter("mimic_iv_note_radiology", raw, tmp_path / "out")
    assert not (tmp_path / "out").exists()

@pytest.mark.parametrize("edit, expect", [
    (lambda rows: rows[:3] + [rows[3][:-1]] + rows[4:], "the record has 7 field(s), the header 8"),
    (lambda rows: rows[:3] + [[""] + rows[3][1:]] + rows[4:], "field 'note_id': empty"),
    (lambda rows: [[c for c in rows[0] if c != "subject_id"]] + [r[:1] + r[2:] for r in rows[1:]],
     "missing column(s) subject_id"),
])
def test_malformed_radiology_record_names_line_not_text(capsys, tmp_path, edit, expect):
    raw = damaged_gzip_copy(tmp_path, "radiology.csv.gz", edit)
    out = tmp_path / "out"
    rc, stdout, err = cli_convert(capsys, "mimic_iv_note_radiology", raw, out)
    assert rc == 2 and "file radiology.csv.gz" in err and expect in err
    pieces = [line.strip() for t in note_texts("radiology.csv.gz") for line in t.splitlines() if len(line.strip()) > 12]
    assert_no_text_leak(err + stdout, pieces)
    assert not out.exists()

def test_corrupt_gzip_is_reported_without_content(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    data = (RAW / "radiology.csv.gz").read_bytes()
    (raw / "radiology.csv.gz").write_bytes(data[: len(data) // 2])
    with pytest.raises(SourceError, match="file radiology.csv.gz.*truncated or corrupt"):
        run_converter("mimic_iv_note_radiology", raw, tmp_path / "out")

def test_unexpected_exception_is_replaced_by_a_content_free_error(capsys, tmp_path, monkeypatch):
    def broken_route(exam, findings, impression, clean=False):
        raise ValueError(f"cannot handle {findings!r}")  # a bug whose message would quote the report

    monkeypatch.setattr(rad, "route", broken_route)
    out = tmp_path / "out"
    rc, stdout, err = cli_convert(capsys, "mimic_iv_note_radiology", RAW, out)
    assert rc == 2
    assert "conversion failed with ValueError" in err and "mimic_iv_note_radiology.py:" in err
    assert "SYNTHETIC" not in err + stdout and "Traceback" not in err
    assert not out.exists()
