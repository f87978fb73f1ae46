"""The remaining public converters on SELF-MADE fixtures laid out like the real files."""

from __future__ import annotations

import json
import logging
import shutil

import pytest

from medsins_datasets.sources.converters import converter_for_task, run_converter
from medsins_datasets.errors import SourceError

from rawconv_helpers import FIXTURES, cli_convert, header_fields, instances, manifest, written_splits


def pairs(out, split, tid):
    return [(i.id, i.input, i.output) for i in instances(out, split, tid)]


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


def test_medalpaca(tmp_path):
    out = tmp_path / "o"
    run_converter("medalpaca", FIXTURES / "medalpaca", out)
    assert pairs(out, "train", "task69") == [("medical_meadow_wikidoc-0", "FIXTURE: What is the textbook definition of a wobble?",
                                              ["FIXTURE: A wobble is an invented term."])]
    assert [p[1] for p in pairs(out, "train", "task70")] == ["FIXTURE: What causes made-up fever?"]
    assert pairs(out, "train", "task71")[0][2] == ["FIXTURE: The imaginary gland."]


def test_medquad(tmp_path, caplog):
    out = tmp_path / "o"
    with caplog.at_level(logging.WARNING):
        run_converter("medquad", FIXTURES / "medquad", out)
    got = pairs(out, "train", "task103")
    assert got == [
        ("0000001_1-1", "What is (are) FIXTURE condition ?", ['FIXTURE: an invented condition "for tests".']),
        ("0000001_1-2", "What are the treatments for FIXTURE condition ?", ["FIXTURE: rest and fluids."]),
    ]
    assert "2 question(s) without an answer" in caplog.text


def test_liveqa(tmp_path):
    out = tmp_path / "o"
    run_converter("liveqa", FIXTURES / "liveqa", out)
    got = pairs(out, "train", "task62")
    assert got == [
        ("train1-Q1", 'FIXTURE: Where can I read about "made-up syndrome"?',
         ["FIXTURE: Made-up syndrome is invented.", "FIXTURE: It exists only in tests."]),
        ("train1-Q2", "FIXTURE: What causes it and how is it treated?",
         ["FIXTURE: cause answer.\n\nFIXTURE: treatment answer."]),
        ("train2-Q2", "FIXTURE: second file question", ["FIXTURE: second file answer."]),
    ]


def test_medicationqa(tmp_path):
    out = tmp_path / "o"
    run_converter("medicationqa", FIXTURES / "medicationqa", out)
    assert pairs(out, "train", "task65") == [
        ("medicationqa-2", "FIXTURE: how much inventol can I take?", ["FIXTURE: at most two tablets a day."]),
        ("medicationqa-4", "FIXTURE: what is inventol for?", ["FIXTURE: invented headaches."]),
    ]


def test_bioasq_uses_newest_release(tmp_path):
    out = tmp_path / "o"
    run_converter("bioasq", FIXTURES / "bioasq", out)
    assert pairs(out, "train", "task104") == [
        ("fixture01", "FIXTURE: What does invented gene ABC1 do?",
         ["FIXTURE: ABC1 regulates imaginary pathways.", "FIXTURE: It controls nothing real."]),
        ("fixture02", "FIXTURE: Is ABC1 essential?", ["FIXTURE: Yes, in tests."]),
    ]


def test_pubmed_summarization(tmp_path):
    out = tmp_path / "o"
    run_converter("pubmed_summarization", FIXTURES / "pubmed_summarization", out)
    assert written_splits(out) == {"train": {"task111"}, "validation": {"task111"}, "test": {"task111"}}
    assert pairs(out, "train", "task111") == [
        ("PMCfix1", "FIXTURE: background sentence . FIXTURE: results sentence .",
         ["FIXTURE: the abstract . FIXTURE: second sentence ."])]
    assert pairs(out, "test", "task111")[0][0] == "PMCfix4"
    bad = tmp_path / "bad"
    shutil.copytree(FIXTURES / "pubmed_summarization", bad)
    (bad / "val.txt").write_text(json.dumps({"article_text": "not a list", "abstract_text": []}) + "\n")
    with pytest.raises(SourceError, match="file val.txt, line 1, field 'article_text': expected a list"):
        run_converter("pubmed_summarization", bad, tmp_path / "o2")


def test_litcovid(tmp_path):
    out = tmp_path / "o"
    run_converter("litcovid", FIXTURES / "litcovid", out)
    assert pairs(out, "train", "task108") == [
        ("pmid900001", "Title: FIXTURE: a made-up trial\nAbstract: FIXTURE: we invented a drug.", ["treatment, mechanism"]),
        ("pmid900002", "Title: FIXTURE: invented spread\nAbstract: FIXTURE: droplets in tests.", ["transmission"]),
    ]
    assert pairs(out, "validation", "task108")[0][2] == ["forecasting"]
    assert pairs(out, "test", "task108")[0][2] == ["case report, diagnosis"]
    bad = tmp_path / "bad"
    shutil.copytree(FIXTURES / "litcovid", bad)
    p = bad / "BC7-LitCovid-Dev.csv"
    p.write_text(p.read_text().replace("Epidemic Forecasting", "Astrology"))
    with pytest.raises(SourceError, match="file BC7-LitCovid-Dev.csv, line 2, field 'label': unknown topic 'Astrology'"):
        run_converter("litcovid", bad, tmp_path / "o2")


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


def test_ms2_groups_studies_by_review(tmp_path):
    out = tmp_path / "o"
    run_converter("ms2", FIXTURES / "ms2", out)
    assert written_splits(out) == {"train": {"task109"}, "validation": {"task109"}}  # test targets are withheld
    assert pairs(out, "train", "task109") == [
        ("reviewr2", "Study 1: FIXTURE: trial C\nFIXTURE: diet Y did nothing.", ["FIXTURE: diet Y shows no effect."]),
        ("reviewr1", "Background: FIXTURE: does drug X help?\n\nStudy 1: FIXTURE: trial A\nFIXTURE: drug X helped.\n\n"
                     "Study 2: FIXTURE: trial B\nFIXTURE: drug X helped a little.", ["FIXTURE: drug X probably helps."]),
    ]
    assert pairs(out, "validation", "task109")[0][0] == "reviewr9"


def test_registry_knows_the_converters():
    for tid, name in [("task66", "chatdoctor"), ("task70", "medalpaca"), ("task103", "medquad"), ("task62", "liveqa"),
                      ("task65", "medicationqa"), ("task104", "bioasq"), ("task111", "pubmed_summarization"),
                      ("task108", "litcovid"), ("task120", "cmedqa2"), ("task109", "ms2"), ("task115", "icd10cm"), ("task41", "mednli"),
                      ("task84", "mimic_iv_note_radiology"), ("task76", "mimic_iv_note_discharge"),
                      ("task112", "mimic_cxr"), ("task118", "mimic4ed"), ("task116", "mimic_iv_icd10")]:
        assert converter_for_task(tid).name == name


@pytest.mark.parametrize("source, expect", [
    ("chatdoctor", "none of chatdoctor5k.json"), ("medalpaca", "no medical_meadow_wikidoc"),
    ("medquad", "missing raw file"), ("liveqa", "missing raw file"), ("cmedqa2", "missing raw file"),
])
def test_missing_files_are_named(tmp_path, source, expect):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(SourceError, match=expect):
        run_converter(source, empty, tmp_path / "o")
    assert not (tmp_path / "o").exists()
