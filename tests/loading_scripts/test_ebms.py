"""The ``ebms`` converter (EBM Summariser corpus -> task99, task100) on the SELF-MADE fixture."""

from __future__ import annotations

import pytest

from medsins_datasets.errors import SourceError
from medsins_datasets.sources.converters import run_converter

from converter_helpers import FIXTURES, copy_fixture, header_fields, pairs, written_splits


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
