"""The ``cmedqa2`` converter (cMedQA2, task120) on the SELF-MADE fixture."""

from __future__ import annotations

import logging

from medsins_datasets.sources.converters import run_converter

from converter_helpers import FIXTURES, header_fields, missing_files_are_named, pairs


def test_cmedqa2_splits_from_candidate_files(tmp_path, caplog):
    out = tmp_path / "o"
    with caplog.at_level(logging.WARNING):
        run_converter("cmedqa2", FIXTURES / "cmedqa2", out)
    assert pairs(out, "train", "task120") == [("q1", "FIXTURE：头疼怎么办？", ["FIXTURE：多休息。", "FIXTURE：可以吃止痛药。"])]
    assert pairs(out, "validation", "task120") == [("q2", "FIXTURE：咳嗽吃什么药？", ["FIXTURE：多喝水。"])]
    assert pairs(out, "test", "task120") == [("q3", "FIXTURE：发烧要去医院吗？", ["FIXTURE：高烧要去。"])]
    assert "1 answered question(s) are in no candidate file" in caplog.text
    assert header_fields(out, "train", "task120")["Input_language"] == ["Chinese"]
    # the repository ships zip archives: they work too
    zipped = tmp_path / "zipped"
    zipped.mkdir()
    import zipfile
    for name in ("question.csv", "answer.csv", "train_candidates.txt", "dev_candidates.txt", "test_candidates.txt"):
        with zipfile.ZipFile(zipped / (name.rsplit(".", 1)[0] + ".zip"), "w") as zf:
            zf.write(FIXTURES / "cmedqa2" / name, name)
    out2 = tmp_path / "o2"
    run_converter("cmedqa2", zipped, out2)
    assert (out2 / "train" / "task120_cmedqa2_qa.json").read_bytes() == (out / "train" / "task120_cmedqa2_qa.json").read_bytes()

def test_missing_files_are_named(tmp_path):
    missing_files_are_named(tmp_path, "cmedqa2", "missing raw file")
