"""MedS-Ins training sources MASH-QA, MEDIQA-AnS, LCT (ClinicalTrials.gov criteria), LIMA and
the PLOS readability corpus, on SELF-MADE fixtures laid out like the real files (no real data
of these sources is in ../shared)."""

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


def copy_fixture(tmp_path, source):
    bad = tmp_path / "bad"
    shutil.copytree(FIXTURES / source, bad)
    return bad


@pytest.mark.parametrize("task,name", [("task101", "mashqa"), ("task102", "mediqa_ans"),
                                       ("task77", "clinicaltrials_criteria"), ("task40", "lima"),
                                       ("task113", "readability")])
def test_registry_routes_tasks(task, name):
    assert converter_for_task(task).name == name


# ---------------------------------------------------------------- MASH-QA
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


# ---------------------------------------------------------------- MEDIQA-AnS
def test_mediqa_ans(tmp_path, caplog):
    out = tmp_path / "o"
    with caplog.at_level(logging.WARNING):
        run_converter("mediqa_ans", FIXTURES / "mediqa_ans", out)
    assert written_splits(out) == {"train": {"task102"}}
    assert pairs(out, "train", "task102") == [
        ("1", "FIXTURE: can I take inventol with coffee?",
         ["FIXTURE: Yes, inventol is safe with coffee.",
          "FIXTURE: Inventol does not interact with caffeine. Take it with food."]),
        ("2", "FIXTURE: what is snurfle fever?", ["FIXTURE: An invented fever."]),  # identical summaries kept once
    ]
    assert "1 question(s) without a summary skipped" in caplog.text


def test_mediqa_ans_errors(tmp_path):
    with pytest.raises(SourceError, match="question_driven_answer_summarization_primary_dataset.json"):
        run_converter("mediqa_ans", tmp_path, tmp_path / "o")
    raw = copy_fixture(tmp_path, "mediqa_ans")
    p = raw / "question_driven_answer_summarization_primary_dataset.json"
    data = json.loads(p.read_text())
    data["2"]["question"] = ["not", "text"]
    p.write_text(json.dumps(data))
    with pytest.raises(SourceError, match="field 'question'.*question 2: missing or empty"):
        run_converter("mediqa_ans", raw, tmp_path / "o2")


# ---------------------------------------------------------------- LCT / ClinicalTrials.gov
def test_clinicaltrials_criteria(tmp_path, caplog):
    out = tmp_path / "o"
    with caplog.at_level(logging.WARNING):
        run_converter("clinicaltrials_criteria", FIXTURES / "clinicaltrials_criteria", out)
    assert written_splits(out) == {"train": {"task77"}, "validation": {"task77"}, "test": {"task77"}}
    train = instances(out, "train", "task77")
    assert [i.id for i in train] == ["NCT90000001", "NCT90000002"]
    assert "1 annotated trial(s) without a text file" in caplog.text  # NCT90000099
    first = train[0]
    assert first.input == ("Inclusion Criteria:\n  - Chronic blorp pain\n  - Age 20 - 40 years\n"
                           "Exclusion Criteria:\n  - FIXTURE snurfle fever")
    got = json.loads(first.output[0])
    # every line up to the last annotated one; entities and relations in annotation order (official)
    assert list(got) == ["Line0", "Line1", "Line2", "Line3", "Line4"]
    assert got["Line1"] == {
        "Entities": [{"blorp pain": "Condition"}, {"blorp pain": "Condition-Name"}, {"Chronic": "Acuteness___chronic"}],
        "Relations": [[{"blorp pain": "Condition"}, {"Chronic": "Acuteness___chronic"}, "Acuteness"]],
    }
    assert got["Line2"] == got["Line3"] == got["Line0"] == {"Entities": [], "Relations": []}
    assert got["Line4"] == {"Entities": [{"snurfle fever": "Condition"}], "Relations": []}
    assert first.output[0].startswith('{\n    "Line0"')  # indent 4, as the official data
    assert json.loads(instances(out, "validation", "task77")[0].output[0])["Line1"]["Entities"] == [{"invented pills": "Drug"}]
    test_ids = {i.id for i in instances(out, "test", "task77")}
    assert test_ids == {"NCT90000004"} and not test_ids & {i.id for i in train}
    # --clean: entities in order of appearance, relations remapped
    clean = tmp_path / "c"
    run_converter("clinicaltrials_criteria", FIXTURES / "clinicaltrials_criteria", clean, clean=True)
    got = json.loads(instances(clean, "train", "task77")[0].output[0])
    assert got["Line1"] == {
        "Entities": [{"Chronic": "Acuteness___chronic"}, {"blorp pain": "Condition"}, {"blorp pain": "Condition-Name"}],
        "Relations": [[{"blorp pain": "Condition"}, {"Chronic": "Acuteness___chronic"}, "Acuteness"]],
    }


def test_clinicaltrials_criteria_errors(tmp_path):
    raw = copy_fixture(tmp_path, "clinicaltrials_criteria")
    (raw / "data/ner/spert/train.json").unlink()
    with pytest.raises(SourceError, match=r"(?s)missing raw file.*data/ner/spert/train\.json"):
        run_converter("clinicaltrials_criteria", raw, tmp_path / "o")
    data = json.loads((FIXTURES / "clinicaltrials_criteria/data/ner/spert/train.json").read_text())
    data[2]["relations"] = [{"type": "Or", "head": 0, "tail": 5}]
    (raw / "data/ner/spert/train.json").write_text(json.dumps(data))
    with pytest.raises(SourceError, match=r"file train\.json, field 'relations', record 2: relation 0 is not"):
        run_converter("clinicaltrials_criteria", raw, tmp_path / "o2")
    data[2]["relations"] = []
    data[3]["orig_id"] = "NCT90000002"
    (raw / "data/ner/spert/train.json").write_text(json.dumps(data))
    with pytest.raises(SourceError, match=r"field 'orig_id', record 3: expected '<line>_<document id>'"):
        run_converter("clinicaltrials_criteria", raw, tmp_path / "o3")


# ---------------------------------------------------------------- LIMA
def test_lima_medical_filter(tmp_path):
    from medsins_datasets.loading_scripts.lima import is_medical

    out = tmp_path / "o"
    run_converter("lima", FIXTURES / "lima", out)
    assert written_splits(out) == {"train": {"task40"}}
    # bookshelf ("organize") and pillow poems are not medical; the multi-turn one keeps its first exchange
    assert pairs(out, "train", "task40") == [
        ("train-1", "FIXTURE: My doctor says my blorp levels are high, is that bad?",
         ["FIXTURE: Not necessarily; ask about diet."]),
        ("train-3", "FIXTURE: What are the SYMPTOMS of snurfle fever?", ["FIXTURE: Sneezing and purple spots."]),
    ]
    assert is_medical("Was he diagnosed early?") and is_medical("Is this vaccine safe?")
    assert not is_medical("How do I organise a pillow fight?") and not is_medical("Tell me a story")


def test_lima_errors(tmp_path):
    raw = copy_fixture(tmp_path, "lima")
    (raw / "train.jsonl").write_text(json.dumps({"conversations": ["only a prompt"], "source": "x"}) + "\n")
    with pytest.raises(SourceError, match=r"file train\.jsonl, line 1, field 'conversations': .*got 1 turn"):
        run_converter("lima", raw, tmp_path / "o")
    (raw / "train.jsonl").write_text('{"conversations": ["a", "b"]}\n{"conversations": "text"}\n')
    with pytest.raises(SourceError, match=r"file train\.jsonl, line 2, field 'conversations': expected a list"):
        run_converter("lima", raw, tmp_path / "o2")
    (raw / "train.jsonl").unlink()
    with pytest.raises(SourceError, match=r"(?s)missing raw file.*train\.jsonl"):
        run_converter("lima", raw, tmp_path / "o3")


# ---------------------------------------------------------------- PLOS readability
def test_readability(tmp_path, caplog):
    out = tmp_path / "o"
    with caplog.at_level(logging.WARNING):
        run_converter("readability", FIXTURES / "readability", out)
    assert pairs(out, "train", "task113") == [
        # the summary is removed from the article text, as in the official script; texts untouched
        ("train-1", "FIXTURE: An invented  study of blorp\nFIXTURE: Background text.  Results follow.",
         ["FIXTURE: We studied blorp in mice."]),
        ("train-3", "FIXTURE: Snurfle genes\nFIXTURE: Methods and results about snurfle genes.",
         ["FIXTURE: Snurfle genes  matter."]),
    ]
    assert "1 article(s) without text skipped" in caplog.text
    clean = tmp_path / "c"
    run_converter("readability", FIXTURES / "readability", clean, clean=True)
    assert pairs(clean, "train", "task113") == [
        ("train-1", "FIXTURE: An invented study of blorp\nFIXTURE: Background text. Results follow.",
         ["FIXTURE: We studied blorp in mice."]),
        ("train-3", "FIXTURE: Snurfle genes\nFIXTURE: Methods and results about snurfle genes.",
         ["FIXTURE: Snurfle genes matter."]),
    ]


def test_readability_errors(tmp_path):
    with pytest.raises(SourceError, match=r"(?s)missing raw file.*train_plos\.jsonl"):
        run_converter("readability", tmp_path, tmp_path / "o")
    raw = copy_fixture(tmp_path, "readability")
    lines = (raw / "train_plos.jsonl").read_text().splitlines()
    rec = json.loads(lines[2])
    del rec["plain language summary"]
    lines[2] = json.dumps(rec)
    (raw / "train_plos.jsonl").write_text("\n".join(lines) + "\n")
    with pytest.raises(SourceError, match=r"file train_plos\.jsonl, line 3, field 'plain language summary': missing"):
        run_converter("readability", raw, tmp_path / "o2")
    assert not (tmp_path / "o2").exists()
