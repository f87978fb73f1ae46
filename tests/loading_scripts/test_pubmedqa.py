"""The ``pubmedqa`` converter (PubMedQA PQA-L -> task123 test, task124 and task11-15 training) on the
real files (../shared/data/pubmedqa: exactly the 500 official test ids, no test question in
training) and the SELF-MADE fixture (tests/fixtures/pubmedqa)."""

from __future__ import annotations

import json

import pytest

from common import shared_file
from medsins_datasets import scoring as S
from medsins_datasets.cli import main
from medsins_datasets.errors import SourceError
from medsins_datasets.sources.converters import run_converter

from converter_helpers import FIXTURES, cli_convert, copy_fixture, header_fields, instances, manifest, pairs, written_splits


PUBMEDQA_TRAIN_TASKS = ("task124", "task11", "task12", "task13", "task14", "task15")

def test_pubmedqa_real_test_split_and_clean_training(capsys, tmp_path):
    raw = shared_file("data/pubmedqa/ori_pqal.json").parent
    gold = json.loads((raw / "test_ground_truth.json").read_text(encoding="utf-8"))
    pqal = json.loads((raw / "ori_pqal.json").read_text(encoding="utf-8"))
    defs = shared_file("data/medsins_definitions/RewriteDefinitions.json")
    out = tmp_path / "pubmedqa"
    rc, stdout, err = cli_convert(capsys, "pubmedqa", raw, out, "--definitions", str(defs))
    assert rc == 0, err
    assert "pubmedqa_pqal_test: test=500" in stdout
    assert written_splits(out) == {"test": {"task123"}, "train": set(PUBMEDQA_TRAIN_TASKS)}

    test = instances(out, "test", "task123")
    assert len(test) == 500
    assert {i.id: i.output[0] for i in test} == gold  # exactly the official ids and answers
    assert {a for a in gold.values()} == {"yes", "no", "maybe"}
    assert all(" ".join(pqal[i.id]["QUESTION"].split()) in i.input for i in test)

    test_questions = {" ".join(pqal[p]["QUESTION"].split()) for p in gold}
    test_conclusions = {" ".join(pqal[p]["LONG_ANSWER"].split()) for p in gold}
    for tid in PUBMEDQA_TRAIN_TASKS:
        insts = instances(out, "train", tid)
        assert insts, tid
        for inst in insts:
            assert inst.id.split("-")[0] not in gold, (tid, inst.id)
            text = inst.input + "\n" + "\n".join(inst.output)
            assert not any(q in text for q in test_questions), (tid, inst.id)
            assert not any(c in text for c in test_conclusions), (tid, inst.id)
    train124 = instances(out, "train", "task124")
    assert len(train124) == 500 and {i.id for i in train124} == set(pqal) - set(gold)
    assert all(i.output == [pqal[i.id]["final_decision"]] for i in train124)
    t12 = instances(out, "train", "task12")
    assert sorted({i.output[0] for i in t12}) == ["no", "yes"] and len(t12) == 1000
    # the official definitions file is used when given; task123 has none there and keeps ours
    assert header_fields(out, "train", "task124")["Definition"].startswith("Next I will give you a 'context'")
    assert "yes, no or maybe" in header_fields(out, "test", "task123")["Definition"]
    # gold answers scored against themselves: every yes/no counts, a gold "maybe" scores 0 (official rule)
    n_maybe = sum(a == "maybe" for a in gold.values())
    acc = S.score([i.output[0] for i in test], [i.output[0] for i in test], "task123", bootstrap=0)
    assert acc["tasks"]["pubmedqa_pqal_test"]["accuracy"] == pytest.approx(100 * (500 - n_maybe) / 500)

def test_pubmedqa_fixture_exact_output(capsys, tmp_path):
    out = tmp_path / "o"
    run_converter("pubmedqa", FIXTURES / "pubmedqa", out)
    assert pairs(out, "test", "task123") == [
        ("1001", "Context: FIXTURE context 1 part one. FIXTURE context 1 part two.\n"
                 "Question: FIXTURE question 1: does fixturol work?", ["no"]),
        ("1002", "Context: FIXTURE context 2 part one. FIXTURE context 2 part two.\n"
                 "Question: FIXTURE question 2: does fixturol work?", ["maybe"]),
    ]
    assert [(i, o) for i, _, o in pairs(out, "train", "task124")] == [("1000", ["yes"]), ("1003", ["yes"])]
    # objective classification from the section labels (1000 has OBJECTIVE, 1003 only METHODS)
    assert [o for _, _, o in pairs(out, "train", "task14")] == [["1"], ["0"]]
    t12 = pairs(out, "train", "task12")
    assert [(i, o) for i, _, o in t12] == [("1000-yes", ["yes"]), ("1000-no", ["no"]), ("1003-yes", ["yes"]), ("1003-no", ["no"])]
    assert t12[1][1].endswith("Answer: FIXTURE conclusion 3.")  # the other TRAINING question's conclusion
    assert pairs(out, "train", "task15")[0][2] == ["FIXTURE conclusion 0."]
    assert manifest(out)["converter"] == "pubmedqa" and manifest(out)["credentialed"] is False
    # `medsins build --source` takes the converted folder unchanged
    assert main(["build", "--source", str(out), "--out", str(tmp_path / "built"), "--no-progress"]) == 0
    assert "pubmedqa_pqal_test (task123): test=2" in capsys.readouterr().out

def test_pubmedqa_missing_file_names_it_and_the_source(tmp_path):
    raw = copy_fixture(tmp_path, "pubmedqa")
    (raw / "test_ground_truth.json").unlink()
    with pytest.raises(SourceError, match=r"(?s)test_ground_truth\.json.*github\.com/pubmedqa/pubmedqa"):
        run_converter("pubmedqa", raw, tmp_path / "o")
    assert not (tmp_path / "o").exists()

@pytest.mark.parametrize("edit, expect", [
    (lambda d, g: d["1000"].update(final_decision="perhaps"), r"ori_pqal\.json, record '1000', field 'final_decision'"),
    (lambda d, g: d["1003"].pop("QUESTION"), r"ori_pqal\.json, record '1003', field 'QUESTION'"),
    (lambda d, g: d["1002"].update(CONTEXTS="not a list"), r"record '1002', field 'CONTEXTS'"),
    (lambda d, g: g.update({"999": "yes"}), r"test_ground_truth\.json, record '999': this test id is not in ori_pqal\.json"),
])
def test_pubmedqa_malformed_records_are_named(tmp_path, edit, expect):
    raw = copy_fixture(tmp_path, "pubmedqa")
    data = json.loads((raw / "ori_pqal.json").read_text())
    gold = json.loads((raw / "test_ground_truth.json").read_text())
    edit(data, gold)
    (raw / "ori_pqal.json").write_text(json.dumps(data))
    (raw / "test_ground_truth.json").write_text(json.dumps(gold))
    out = tmp_path / "o"
    (out / "test").mkdir(parents=True)
    earlier = out / "test" / "task123_pubmedqa_pqal_test.json"  # an earlier conversion's folder and file
    earlier.write_text("previous output")
    (out / ".medsins_convert.json").write_text(json.dumps({"tasks": {"pubmedqa_pqal_test": {"test": 1}}}))
    with pytest.raises(SourceError, match=expect):
        run_converter("pubmedqa", raw, out)
    assert earlier.read_text() == "previous output"  # nothing half-written or replaced
    assert not list(tmp_path.glob(".o.tmp-*"))
