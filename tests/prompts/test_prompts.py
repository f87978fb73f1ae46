"""Prompt rendering on real staged data (paper layout, shot selection, determinism).

The staging helpers here are also used by the mixture and contamination tests.
"""

from __future__ import annotations

import json
import logging
import random
from pathlib import Path

import pytest
from common import (
    PICO_DEF,
    pubmedqa_instances,
    stage_pico,
    stage_pubmedqa,
    write_task_file,
)

from medsins_datasets.errors import SourceError, UnknownTaskError
from medsins_datasets.prompts import (
    FEW_SHOT_SENTENCE,
    PromptTemplate,
    ShotPool,
    bench_num_shots,
    fit_prompt,
    iter_bench_prompts,
    iter_task_prompts,
    render_prompt,
    to_messages,
)

# ---------------------------------------------------------------- staging helpers (real data)



@pytest.fixture
def pico_src(tmp_path) -> Path:
    return stage_pico(tmp_path)


def _pico_instances(src: Path, split: str) -> list[dict]:
    return json.loads((src / split / "task3_pico_outcome.json").read_text(encoding="utf-8"))["Instances"]


# ---------------------------------------------------------------- the template


def test_zero_shot_exact_text_on_real_instance(pico_src):
    rows = list(iter_task_prompts("pico_outcome", pico_src, split="test", shots=0, limit=2))
    assert [r["id"] for r in rows] == ["task181-40", "task181-41"]
    assert rows[0]["prompt"] == (
        PICO_DEF + "\nInput: The addition of chronic vasodilator therapy with flosequinan to standard "
        "digitalis-diuretic regimens is capable of inducing clinical improvement in patients with moderate to "
        "severe chronic heart failure ."
    )
    assert rows[0]["completion"] == rows[0]["reference"] == "clinical improvement"
    assert rows[1]["prompt"] == PICO_DEF + (
        "\nInput: Eradication of GABHS , determined with follow-up throat cultures on days 3-6 , 12-16 and 26-36 ."
    )
    assert rows[1]["references"] == ["not found"]
    assert rows[0]["num_shots"] == 0


def test_few_shot_exact_text_paper_layout():
    shots = [
        ("Outcome results applied to life expectancy tables were used to estimate QALYs .", "QALYs"),
        ("These types of gastric myoelectrical activity and dysrhythmia can be measured by electrogastrography "
         "using cutaneous electrodes .", "not found"),
    ]
    got = render_prompt("Extract the outcomes.", "Serum calcium remained unaltered .", shots)
    assert got == (
        "Case1: Input: Outcome results applied to life expectancy tables were used to estimate QALYs ., Output: QALYs\n"
        "Case2: Input: These types of gastric myoelectrical activity and dysrhythmia can be measured by "
        "electrogastrography using cutaneous electrodes ., Output: not found\n"
        "Extract the outcomes.\n"
        "Please learn from the few-shot cases to see what content you have to output.\n"
        "Input: Serum calcium remained unaltered ."
    )
    assert render_prompt("Extract the outcomes.", "x") == "Extract the outcomes.\nInput: x"


def test_bench_few_shot_prompt_pinned(pico_src):
    """The full 3-shot benchmark prompt of one real test instance, seed 0 (a regression pin)."""
    row = next(iter_bench_prompts("pico_outcome", pico_src, seed=0, protocol="paper"))
    assert row["num_shots"] == 3 and bench_num_shots("pico_outcome", "paper") == 3
    assert row["prompt"] == (
        "Case1: Input: Amonafide was chosen for inclusion in the Cancer and Leukemia Group B ( CALGB ) master "
        "metastatic breast cancer protocol ., Output: not found\n"
        "Case2: Input: However , there is a lack of information regarding patient 's adherence to these "
        "recommendations in daily clinical practice ., Output: not found\n"
        "Case3: Input: Outcome results applied to life expectancy tables were used to estimate QALYs ., Output: QALYs\n"
        + PICO_DEF + "\n" + FEW_SHOT_SENTENCE + "\n"
        "Input: The addition of chronic vasodilator therapy with flosequinan to standard digitalis-diuretic "
        "regimens is capable of inducing clinical improvement in patients with moderate to severe chronic heart "
        "failure ."
    )


def test_template_is_a_parameter(pico_src):
    t = PromptTemplate(zero_shot="### Task\n{definition}\n### Input\n{input}",
                       case="[{n}] {input} => {output}", few_shot="{definition}\n{cases}\nQ: {input}")
    row = next(iter_bench_prompts("pico_outcome", pico_src, shots=2, template=t, protocol="paper"))
    lines = row["prompt"].split("\n")
    assert row["prompt"].startswith(PICO_DEF + "\n[1] ")
    assert lines[-1].startswith("Q: The addition of chronic vasodilator")
    assert sum(1 for ln in lines if ln.startswith(("[1] ", "[2] "))) == 2
    zero = next(iter_bench_prompts("pico_outcome", pico_src, shots=0, template=t, protocol="paper"))
    assert zero["prompt"].startswith("### Task\n" + PICO_DEF + "\n### Input\n")
    with pytest.raises(ValueError, match="unknown placeholder"):
        PromptTemplate(case="{n} {question}")
    with pytest.raises(ValueError, match="must contain"):
        PromptTemplate(zero_shot="{definition}")


def test_messages():
    assert to_messages("p") == [{"role": "user", "content": "p"}]
    assert to_messages("p", "c") == [{"role": "user", "content": "p"}, {"role": "assistant", "content": "c"}]


# ---------------------------------------------------------------- shot selection


def test_shots_come_from_train_only_and_never_the_instance(pico_src):
    train = {i["input"] for i in _pico_instances(pico_src, "train")}
    test_inputs = [i["input"] for i in _pico_instances(pico_src, "test")]
    rows = list(iter_bench_prompts("pico_outcome", pico_src, shots=5, seed=3, protocol="paper"))
    assert [r["id"] for r in rows] == [f"task181-{i}" for i in range(40, 48)]
    for r, own in zip(rows, test_inputs):
        cases = [ln for ln in r["prompt"].split("\n") if ln.startswith("Case")]
        assert len(cases) == 5
        case_inputs = [c.split(": Input: ", 1)[1].rsplit(", Output: ", 1)[0] for c in cases]
        assert all(ci in train for ci in case_inputs), "a shot is not from the train split"
        assert own not in case_inputs and len(set(case_inputs)) == 5


def test_shot_pool_excludes_instance_by_id_and_by_text():
    pool = ShotPool([("a", "same question", "x"), ("b", "other", "y"), ("c", "third", "z")])
    for s in range(50):
        got = pool.draw(3, random.Random(s), exclude_id="b", exclude_input="same question")
        assert got == [("third", "z")]
    assert pool.draw(2, random.Random(0)) and len(pool.draw(5, random.Random(0))) == 3


def test_instance_in_train_split_is_not_its_own_shot(pico_src):
    """Rendering the train split few-shot (as `medsins render` can) never uses the row itself."""
    rows = list(iter_task_prompts("pico_outcome", pico_src, split="train", shots=39, seed=0))
    for r in rows:
        own = f"Input: {r['prompt'].rsplit(chr(10) + 'Input: ', 1)[1]}, Output:"
        assert own not in r["prompt"]
        assert r["num_shots"] == 39


def test_shots_deterministic_and_independent_of_limit(pico_src):
    a = list(iter_bench_prompts("pico_outcome", pico_src, seed=7, protocol="paper"))
    b = list(iter_bench_prompts("pico_outcome", pico_src, seed=7, protocol="paper"))
    assert a == b
    assert list(iter_bench_prompts("pico_outcome", pico_src, seed=7, limit=3, protocol="paper")) == a[:3]
    c = list(iter_bench_prompts("pico_outcome", pico_src, seed=8, protocol="paper"))
    assert [r["prompt"] for r in a] != [r["prompt"] for r in c]
    assert [r["reference"] for r in a] == [r["reference"] for r in c]


def test_budget_drops_shots_never_the_input(pico_src):
    full = next(iter_bench_prompts("pico_outcome", pico_src, shots=3, protocol="paper"))
    zero = next(iter_bench_prompts("pico_outcome", pico_src, shots=0, protocol="paper"))
    budget = len(full["prompt"]) - 1
    cut = next(iter_bench_prompts("pico_outcome", pico_src, shots=3, max_length=budget, protocol="paper"))
    assert cut["num_shots"] == 2 and len(cut["prompt"]) <= budget
    assert full["prompt"].startswith(cut["prompt"].split(PICO_DEF)[0])  # first cases kept, last dropped
    tiny = next(iter_bench_prompts("pico_outcome", pico_src, shots=3, max_length=10, protocol="paper"))
    assert tiny["prompt"] == zero["prompt"] and tiny["num_shots"] == 0  # input never cut
    words = next(iter_bench_prompts("pico_outcome", pico_src, shots=3, max_length=len(zero["prompt"].split()) + 30,
                                     length_fn=lambda s: len(s.split()), protocol="paper"))
    assert words["num_shots"] < 3
    prompt, k = fit_prompt("d", "i", [("a", "b")], max_length=5)
    assert (prompt, k) == ("d\nInput: i", 0)


# ---------------------------------------------------------------- benchmark settings


def test_bench_num_shots_paper_setting():
    assert all(bench_num_shots(t, "paper") == 0 for t in ("medqa_en", "task122", "task123"))
    for t in ("task1", "task106", "task125", "task130", "task78", "task100"):
        assert bench_num_shots(t, "paper") == 3
    # the official code has no zero-shot switch: 3 shots in every category, MCQA included
    for t in ("medqa_en", "task122", "task123", "task1", "task106", "task130"):
        assert bench_num_shots(t) == 3 and bench_num_shots(t, "official") == 3
    with pytest.raises(UnknownTaskError):
        bench_num_shots("no_such_task")


def test_test_only_task_borrows_training_equivalent(tmp_path):
    src = stage_pubmedqa(tmp_path / "src", n_train=30, n_test=6)
    train_inputs = {i["input"] for i in pubmedqa_instances()[0][:30]}
    rows = list(iter_bench_prompts("pubmedqa_pqal_test", src, shots=2, protocol="paper"))
    assert len(rows) == 6 and all(r["num_shots"] == 2 for r in rows)
    for r in rows:
        assert r["task"] == "pubmedqa_pqal_test" and r["task_id"] == "task123"
        cases = r["prompt"].split(FEW_SHOT_SENTENCE)[0]
        assert sum(ti in cases for ti in train_inputs) == 2
    # MCQA default: zero-shot, no training data needed
    zero = list(iter_bench_prompts("task123", src, protocol="paper"))
    assert all(r["num_shots"] == 0 and "Case1" not in r["prompt"] for r in zero)


def test_missing_train_data_gives_zero_shot_with_warning(tmp_path, caplog):
    src = tmp_path / "src"
    _, test = pubmedqa_instances()
    write_task_file(src / "test" / "task123_pubmedqa_pqal_test.json", "task124", test[:3])
    with caplog.at_level(logging.WARNING, logger="medsins_datasets.prompts"):
        rows = list(iter_bench_prompts("task123", src, shots=3, protocol="paper"))
    assert len(rows) == 3 and all(r["num_shots"] == 0 for r in rows)
    assert "zero-shot" in caplog.text and "pubmedqa_yes_no_maybe" in caplog.text


def test_no_test_split_is_a_clear_error(tmp_path):
    src = tmp_path / "src"
    write_task_file(src / "task124_pubmedqa_yes_no_maybe.json", "task124", pubmedqa_instances()[0][:3])
    with pytest.raises(SourceError, match=r"no test split for pubmedqa_yes_no_maybe .*splits present: train"):
        list(iter_bench_prompts("task124", src))
    with pytest.raises(SourceError, match="no task file for: pico_outcome"):
        list(iter_bench_prompts("pico_outcome", src))


def test_bad_task_file_error_names_file_and_field(tmp_path):
    src = tmp_path / "src"
    write_task_file(src / "test" / "task123_pubmedqa_pqal_test.json", "task124",
                    [{"id": "a", "input": "q", "output": ["yes"]}, {"id": "b", "input": "q2", "output": 5}])
    it = iter_bench_prompts("task123", src, protocol="paper")
    assert next(it)["id"] == "a"  # the good instance before the bad one is delivered
    with pytest.raises(Exception, match=r"task123_pubmedqa_pqal_test\.json, instance 1, field 'output'"):
        next(it)
    # official: shots come from the evaluated file, which is read whole first
    with pytest.raises(Exception, match=r"task123_pubmedqa_pqal_test\.json, instance 1, field 'output'"):
        next(iter_bench_prompts("task123", src))
