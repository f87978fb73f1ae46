"""The ``chatdoctor`` converter (ChatDoctor -> task66, task67, task68) on the SELF-MADE fixture."""

from __future__ import annotations

import logging

from converter_helpers import FIXTURES, cli_convert, header_fields, manifest, missing_files_are_named, pairs, written_splits


def test_chatdoctor(capsys, tmp_path, caplog):
    out = tmp_path / "o"
    with caplog.at_level(logging.WARNING):
        rc, _, err = cli_convert(capsys, "chatdoctor", FIXTURES / "chatdoctor", out)
    assert rc == 0, err
    assert written_splits(out) == {"train": {"task66", "task67", "task68"}}
    assert pairs(out, "train", "task66")[0] == ("chatdoctor5k-0", "FIXTURE: Doctor, I keep sneezing in spring.",
                                                ["FIXTURE: It may be hay fever; try an antihistamine."])
    assert [i[0] for i in pairs(out, "train", "task67")] == ["HealthCareMagic-100k-0"]  # the empty question is skipped
    assert "1 record(s) without input" in caplog.text
    # iCliniq: the real doctor's answer, not the model answers
    assert pairs(out, "train", "task68")[0][2] == ["FIXTURE: Hi, it is usually safe; use a decongestant."]
    assert manifest(out)["credentialed"] is False and "Access" not in header_fields(out, "train", "task66")

def test_missing_files_are_named(tmp_path):
    missing_files_are_named(tmp_path, "chatdoctor", "none of chatdoctor5k.json")
