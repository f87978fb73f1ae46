"""The ``mashqa`` converter (MASH-QA, task101) on the SELF-MADE fixture."""

from __future__ import annotations

import json
import logging

import pytest

from medsins_datasets.errors import SourceError
from medsins_datasets.sources.converters import run_converter

from converter_helpers import FIXTURES, cli_convert, copy_fixture, header_fields, instances, manifest, pairs, written_splits


def test_mashqa_official_splits(capsys, tmp_path, caplog):
    out = tmp_path / "o"
    with caplog.at_level(logging.WARNING):
        rc, _, err = cli_convert(capsys, "mashqa", FIXTURES / "mashqa", out)
    assert rc == 0, err
    assert written_splits(out) == {"train": {"task101"}, "validation": {"task101"}, "test": {"task101"}}
    assert manifest(out)["tasks"] == {"mashqa_qa": {"train": 2, "validation": 1, "test": 1}}
    # multi-span answer text, whitespace collapsed; an empty text is rebuilt from answer_starts
    assert pairs(out, "train", "task101") == [
        ("q-train-1", "What is blorpitis?",
         ["FIXTURE: Blorpitis is an invented skin condition. It causes purple spots."]),
        ("q-train-2", "Is blorpitis contagious?", ["FIXTURE: It is not contagious."]),
    ]
    assert "1 question(s) without an answer skipped" in caplog.text  # is_impossible
    assert pairs(out, "validation", "task101") == [
        ("q-val-1", "How long does snurfle fever last?", ["FIXTURE: Snurfle fever lasts two days."])]
    test_ids = {i.id for i in instances(out, "test", "task101")}
    assert test_ids == {"q-test-1"}
    assert not test_ids & {i.id for i in instances(out, "train", "task101")}
    # the consec variant is ignored when the full one is present
    assert "q-consec" not in {i.id for i in instances(out, "train", "task101")}
    assert manifest(out)["credentialed"] is False and "Access" not in header_fields(out, "train", "task101")

def test_mashqa_consec_variant_and_errors(tmp_path):
    raw = copy_fixture(tmp_path, "mashqa")
    (raw / "train_webmd_squad_v2_full.json").unlink()
    run_converter("mashqa", raw, tmp_path / "o")
    assert [i.id for i in instances(tmp_path / "o", "train", "task101")] == ["q-consec"]
    for p in raw.glob("train_*"):
        p.unlink()
    with pytest.raises(SourceError, match=r"(?s)missing raw file.*train_webmd_squad_v2_\*\.json"):
        run_converter("mashqa", raw, tmp_path / "o2")
    data = json.loads((FIXTURES / "mashqa" / "train_webmd_squad_v2_full.json").read_text())
    data["data"][0]["paragraphs"][0]["qas"][1]["answers"][0]["answer_starts"] = [[0, 10_000]]
    (raw / "train_webmd_squad_v2_full.json").write_text(json.dumps(data))
    with pytest.raises(SourceError, match=r"file train_webmd_squad_v2_full\.json, field 'answer_starts': "
                                          r"data\[0\]\.paragraphs\[0\]\.qas\[1\] has a span"):
        run_converter("mashqa", raw, tmp_path / "o3")
    assert not (tmp_path / "o3").exists()
