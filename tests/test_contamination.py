"""Contamination check on real staged data: leaked, paraphrased and partial copies of MedS-Bench
test instances in training tasks; exclusion from mixtures; the CLI."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from common import mcqa_instances
from common import pubmedqa_instances, stage_pico, stage_pubmedqa, write_task_file
from medsins_datasets.cli import main
from medsins_datasets.contamination import BenchIndex, build_index, check_contamination, normalize, tokens
from medsins_datasets.errors import MedsinsError
from medsins_datasets.mixture import MixtureSpec, mixture_counts, plan_mixture


@pytest.fixture
def leaky(tmp_path) -> Path:
    """pico (clean) + PubMedQA training data with 4 PQA-L test instances copied in (new ids)."""
    src = stage_pico(tmp_path / "data")
    stage_pubmedqa(src, n_train=80, n_test=40, leak=4)
    return src


def test_normalisation():
    assert normalize("  The RESULTS: p<0.05, (n=12)!  ") == "the results p 0 05 n 12"
    assert tokens("ＣＴ扫描显示肺结节。") == ["ct", "扫", "描", "显", "示", "肺", "结", "节"]
    assert tokens("abc中文def") == ["abc", "中", "文", "def"]


def test_leaked_test_instances_found_exactly(leaky, tmp_path):
    rep = check_contamination(MixtureSpec(), leaky, cache_dir=tmp_path / "c")
    _, test = pubmedqa_instances()
    pq = rep.tasks["pubmedqa_pqal_test"]
    assert pq.test_instances == 40 and pq.exact == 4 and pq.contaminated == 4
    assert pq.ids == [t["id"] for t in test[:4]]
    assert pq.train_tasks == {"pubmedqa_yes_no_maybe": 4}
    assert rep.tasks["pico_outcome"].contaminated == 0 and rep.tasks["pico_outcome"].test_instances == 8
    assert rep.flagged_rows == {"pubmedqa_yes_no_maybe": 4}
    assert rep.train_rows == 40 + 84
    assert rep.excluded_ids() == {"pubmedqa_pqal_test": pq.ids}
    assert "4 contaminated test instances" in rep.table()


def test_mixture_can_exclude_contaminated_rows(leaky, tmp_path):
    cache = tmp_path / "c"
    plan = plan_mixture(MixtureSpec(exclude_contaminated=True), leaky, cache_dir=cache)
    assert plan.counts == {"pico_outcome": 40, "pubmedqa_yes_no_maybe": 80}
    assert {tp.task.config_name: tp.contaminated for tp in plan.tasks} == {"pico_outcome": 0, "pubmedqa_yes_no_maybe": 4}
    ids = {r["id"] for r in plan.iter_rows()}
    assert not any(i.startswith("leak-") for i in ids)
    assert mixture_counts(MixtureSpec(), leaky, cache_dir=cache)["pubmedqa_yes_no_maybe"] == 84
    # checking the cleaned rows finds nothing
    rows = ({"input": ex.input, "output": ex.output, "task": ex.task} for ex in plan.iter_examples())
    assert check_contamination(rows, leaky).contaminated == 0


def test_normalised_and_partial_overlap(tmp_path):
    src = tmp_path / "src"
    train, test = pubmedqa_instances()
    test = test[:30]
    a, b, c = test[0]["input"], test[1]["input"], test[2]["input"]
    # a: re-formatted copy inside a longer text (case, punctuation and whitespace changed)
    reformatted = "Passage for the exam.\n" + re.sub(r"[.,;:()]", " ", a.upper()) + "\nAnswer yes, no or maybe."
    # b: only its first fifth
    words = b.split()
    partial = " ".join(words[: len(words) // 5])
    # c: copied into an OUTPUT (e.g. a generation task)
    rows = [{"id": "x1", "input": reformatted, "output": ["yes"]},
            {"id": "x2", "input": partial + " What do you conclude?", "output": ["no"]},
            {"id": "x3", "input": "Write the abstract of this study.", "output": [c]}] + train[:20]
    write_task_file(src / "task11_pubmedqa_qgen_with_answer.json", "task11", rows)
    write_task_file(src / "test" / "task123_pubmedqa_pqal_test.json", "task124", test)
    rep = check_contamination(MixtureSpec(), src, cache_dir=tmp_path / "c")
    pq = rep.tasks["pubmedqa_pqal_test"]
    assert pq.exact == 0
    assert pq.ids == [test[0]["id"], test[2]["id"]] and pq.ngram == 2
    idx = build_index(src, ["task123"])
    idx.scan([(partial, "")], "t")
    assert 0.1 < idx.instances[1].max_overlap < 0.3 and not idx.instances[1].contaminated
    strict = check_contamination(MixtureSpec(), src, threshold=0.15, cache_dir=tmp_path / "c")
    assert test[1]["id"] in strict.tasks["pubmedqa_pqal_test"].ids


def test_short_inputs_and_boilerplate():
    template = "Answer the following question with one of the options A B C or D and explain why"
    instances = [("medqa_en", f"q{i}", f"{template}: question number {i} about drug {i * 7}") for i in range(20)]
    instances.append(("medqa_en", "short", "Is aspirin an NSAID?"))
    idx = BenchIndex(instances, n=8, threshold=0.5, max_gram_instances=10)
    # the shared template alone does not flag anything
    assert not idx.scan([(template + " something else entirely here", "")], "t").any()
    # a short instance matches on normalised equality only
    assert idx.scan([("is ASPIRIN an nsaid", "")], "t").tolist() == [True]
    assert not idx.scan([("Is aspirin an NSAID? Yes, it is one of many.", "")], "t").any()
    assert [i.id for i in idx.instances if i.contaminated] == ["short"]
    # a full copy of a templated instance is found through its own n-grams
    assert idx.scan([(instances[3][2].lower(), "")], "t").tolist() == [True]


def test_chinese_mcqa_overlap(tmp_path):
    src = tmp_path / "src"
    qs = mcqa_instances("medqa_zh_4op", 40)
    write_task_file(src / "test" / "task58_medqa_zh.json", "task58", qs[:20])
    # a training row that rewrites a test question with full-width punctuation and other spacing
    leaked = qs[5]["input"].replace("，", ", ").replace("。", ". ").replace("（", "(").replace("）", ")")
    write_task_file(src / "task64_medmcqa_mcqa.json", "task64",
                    qs[20:] + [{"id": "copy", "input": "题目：" + leaked, "output": qs[5]["output"]}])
    rep = check_contamination(MixtureSpec(), src, cache_dir=tmp_path / "c")
    zh = rep.tasks["medqa_zh"]
    assert zh.ids == [qs[5]["id"]] and zh.exact == 0


def test_no_benchmark_data_is_an_error(tmp_path):
    src = tmp_path / "src"
    write_task_file(src / "task124_pubmedqa_yes_no_maybe.json", "task124", pubmedqa_instances()[0][:5])
    with pytest.raises(MedsinsError, match=r"no benchmark test instances for any MedS-Bench task in local folder"):
        check_contamination(MixtureSpec(), src, cache_dir=tmp_path / "c")
    with pytest.raises(MedsinsError, match="no benchmark test instances"):
        plan_mixture(MixtureSpec(exclude_contaminated=True), src, cache_dir=tmp_path / "c")


def test_cli_report_exit_status_and_ids(leaky, tmp_path, capsys):
    ids = tmp_path / "ids.json"
    rc = main(["contamination", "--source", str(leaky), "--cache-dir", str(tmp_path / "c"), "--json",
               "--write-ids", str(ids)])
    assert rc == 1
    out = json.loads(capsys.readouterr().out)
    assert out["contaminated_test_instances"] == 4
    assert out["tasks"]["pubmedqa_pqal_test"]["exact"] == 4
    assert json.loads(ids.read_text()) == {"pubmedqa_pqal_test": out["tasks"]["pubmedqa_pqal_test"]["ids"]}
    rc = main(["contamination", "--source", str(leaky), "--tasks", "task3", "--cache-dir", str(tmp_path / "c")])
    assert rc == 0
    assert "0 contaminated test instances" in capsys.readouterr().out
    rc = main(["mix", "--source", str(leaky), "--exclude-contaminated", "--out", str(tmp_path / "mix"),
               "--cache-dir", str(tmp_path / "c")])
    assert rc == 0
    assert "4 overlapping the benchmark excluded" in capsys.readouterr().out
    manifest = json.loads((tmp_path / "mix" / ".medsins_mix.json").read_text())
    assert manifest["counts"] == {"pico_outcome": 40, "pubmedqa_yes_no_maybe": 80}
