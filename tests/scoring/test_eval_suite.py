"""MedS-Bench as an `evaluate.EvaluationSuite` (metrics/meds_bench_suite): prompts, generation and
scores equal `medsins bench`'s on the same instances, on datasets built with `medsins build`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import evaluate
import pytest

from medsins_datasets import cli, get_task
from medsins_datasets.runner.run import slice_dir
from medsins_datasets.errors import MedsinsError
from medsins_datasets.metrics.suite_evaluator import MedsBenchEvaluator
from medsins_datasets.prompts import iter_bench_prompts
from medsins_datasets.scoring import metric_path

#: two tasks of the bundled slice: 3-shot MCQA and a summarization task (BLEU-1 / ROUGE-L)
FILES = {"medqa_en": "MCQA/task57_medqa_question_answering_en.jsonl",
         "meqsum_summarization": "Text_summarization/task114_medqsum_text_summurization.json"}


def _lines(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    """Task-file sources cut from the slice, their `medsins build` folders (each named `medsins`)
    and a tiny model whose tokenizer was trained on the slice's text."""
    from common import tiny_model, tiny_tokenizer

    w = tmp_path_factory.mktemp("suite")
    # (a) two slice tasks as published (test split only: shots come from the other test instances)
    for cfg, rel in FILES.items():
        (w / "src" / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(slice_dir() / rel, w / "src" / rel)
    # (b) one task with a TRAIN split too (its shots come from there), the test file cut to 2 instances
    doc = json.loads((slice_dir() / "NER/task126_test_bc5chem_named_enetity_recognition.json").read_text("utf-8"))
    (w / "src2" / "NER").mkdir(parents=True)
    (w / "src2" / "train").mkdir()
    (w / "src2" / "NER" / "task126_bc5chem_ner.json").write_text(
        json.dumps({**doc, "Instances": doc["Instances"][:2]}), encoding="utf-8")
    (w / "src2" / "train" / "task126_bc5chem_ner.json").write_text(
        json.dumps({**doc, "Instances": [{**i, "id": f"train-{k}"} for k, i in enumerate(doc["Instances"])]}),
        encoding="utf-8")
    for src, out in (("src", "a"), ("src2", "b")):
        assert cli.main(["build", "--source", str(w / src), "--out", str(w / out / "medsins"), "--no-progress"]) == 0
    texts = [p.read_text(encoding="utf-8")[:20000] for p in (w / "src").rglob("*.json*")]
    tok = tiny_tokenizer(texts)
    tok.save_pretrained(w / "tiny")
    tiny_model(tok).save_pretrained(w / "tiny")
    return w


@pytest.fixture(scope="module")
def pipe(work):
    from transformers import AutoModelForCausalLM, AutoTokenizer, pipeline

    tok = AutoTokenizer.from_pretrained(work / "tiny")
    return pipeline("text-generation", model=AutoModelForCausalLM.from_pretrained(work / "tiny"), tokenizer=tok,
                    device=-1)


def _recording(pipe, monkeypatch) -> list[str]:
    """Record the completions the pipeline returns (stripped, in call order)."""
    seen: list[str] = []
    orig = pipe.postprocess

    def postprocess(*args, **kwargs):
        out = orig(*args, **kwargs)
        seen.extend(o["generated_text"].strip() for o in out)
        return out

    monkeypatch.setattr(pipe, "postprocess", postprocess)
    return seen


def _suite():
    return evaluate.EvaluationSuite.load(metric_path("meds_bench_suite"))


@pytest.mark.parametrize("folder, source, protocol", [("a", "src", "official"), ("b", "src2", "official"),
                                                      ("a", "src", "paper"), ("b", "src2", "paper")])
def test_data_preprocessor_renders_the_bench_prompts(work, monkeypatch, folder, source, protocol):
    """Every instance's rendered prompt (messages and plain text) and shot count equal
    `iter_bench_prompts` on the task files the dataset was built from."""
    monkeypatch.chdir(work / folder)
    suite = _suite().configure(protocol=protocol)
    assert suite.suite, "no sub-task"
    import datasets

    for sub in suite.suite:
        rows = datasets.load_dataset("medsins", sub.subset, split="test")
        want = list(iter_bench_prompts(sub.subset, work / source, protocol=protocol))
        assert [r["id"] for r in rows] == [str(w["id"]) for w in want]
        for row, w in zip(rows, want):
            got = sub.data_preprocessor(row)
            msgs = w["prompt"].as_messages() if hasattr(w["prompt"], "as_messages") else \
                [{"role": "user", "content": w["prompt"]}]
            text = w["prompt"].text if hasattr(w["prompt"], "text") else w["prompt"]
            assert got == {"messages": msgs, "prompt_text": text, "num_shots": w["num_shots"]}
    if folder == "b" and protocol == "official":  # shots from the train split: never the test instances
        row = datasets.load_dataset("medsins", "bc5cdr_chemical_ner", split="test")[0]
        got = suite.suite[0].data_preprocessor(row)
        assert got["num_shots"] == 3 and row["input"] not in got["messages"][0]["content"]


def test_load_and_run_equals_medsins_bench(work, pipe, monkeypatch, tmp_path):
    """`EvaluationSuite.load(PATH).run(pipeline)` from the folder holding `medsins/` (defaults: all
    benchmark tasks, official protocol, all test instances) gives medsins bench's predictions and
    scores on the same data."""
    monkeypatch.chdir(work / "b")
    suite = _suite()
    assert [t.subset for t in suite.suite] == ["bc5cdr_chemical_ner"]
    assert suite.suite[0].split == "test"
    assert suite.suite[0].args_for_task["generation_kwargs"] == {"max_new_tokens": 200, "do_sample": False}
    assert suite.suite[0].args_for_task["max_prompt_tokens"] == 2048
    seen = _recording(pipe, monkeypatch)
    (res,) = suite.run(pipe)
    assert res["task_name"] == "medsins/bc5cdr_chemical_ner" and res["total_time_in_seconds"] > 0

    out = tmp_path / "bench"
    assert cli.main(["bench", "--model", str(work / "tiny"), "--source", str(work / "src2"), "--dtype", "float32",
                     "--output", str(out)]) == 0
    bench = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert seen == [r["prediction"] for r in _lines(out / "predictions.jsonl")]
    assert res["tasks"]["bc5cdr_chemical_ner"] == bench["tasks"]["bc5cdr_chemical_ner"]
    assert res["tasks"]["bc5cdr_chemical_ner"]["n"] == 2
    # the sub-tasks are left as they were (evaluate's run replaces their data with the mapped Dataset)
    assert suite.suite[0].data == "medsins"


def test_limit_budgets_and_scores_equal_medsins_bench_limit(work, pipe, monkeypatch, tmp_path):
    """configure(limit=2, budgets=...) against `medsins bench --limit 2 --budget ...` on the two
    slice tasks: the same completions, and the same per-task scores and bootstrap intervals."""
    monkeypatch.chdir(work / "a")
    suite = _suite().configure(limit=2, budgets={"medqa_en": 12}, bootstrap=200)
    assert [(t.subset, t.split, t.args_for_task["generation_kwargs"]["max_new_tokens"]) for t in suite.suite] == [
        ("medqa_en", "test[:2]", 12), ("meqsum_summarization", "test[:2]", 200)]
    seen = _recording(pipe, monkeypatch)
    results = suite.run(pipe)

    out = tmp_path / "bench"
    assert cli.main(["bench", "--model", str(work / "tiny"), "--source", str(work / "src"), "--limit", "2",
                     "--budget", "medqa_en=12", "--bootstrap", "200", "--dtype", "float32", "--output", str(out)]) == 0
    bench = json.loads((out / "results.json").read_text(encoding="utf-8"))
    preds = {(r["task"], r["id"]): r["prediction"] for r in _lines(out / "predictions.jsonl")}
    ids = {cfg: [str(e["id"]) for e in iter_bench_prompts(cfg, work / "src", limit=2)] for cfg in FILES}
    assert seen == [preds[(cfg, i)] for cfg in FILES for i in ids[cfg]]
    for res, cfg in zip(results, FILES):
        assert res["tasks"][cfg] == bench["tasks"][cfg]
        assert res["tasks"][cfg]["n"] == 2 and res["tasks"][cfg]["ci"] is not None
    assert bench["tasks"]["meqsum_summarization"]["bleu1"] > 0  # not a comparison of zeros only


def test_evaluator_takes_a_model_name_and_refuses_what_it_cannot_run(work, monkeypatch):
    import datasets

    monkeypatch.chdir(work / "a")
    suite = _suite().configure(tasks=["medqa_en"], limit=1, max_new_tokens=2, bootstrap=0)
    sub = suite.suite[0]
    data = datasets.load_dataset("medsins", "medqa_en", split="test[:1]").map(sub.data_preprocessor)
    ev = MedsBenchEvaluator()
    args = dict(sub.args_for_task)
    out = ev.compute(model_or_pipeline=str(work / "tiny"), data=data, device=-1, **args)  # a model folder
    assert out["tasks"]["medqa_en"]["n"] == 1
    with pytest.raises(MedsinsError, match="own bootstrap"):
        ev.compute(model_or_pipeline=str(work / "tiny"), data=data, strategy="bootstrap", **args)
    with pytest.raises(MedsinsError, match="text-generation pipeline"):
        ev.compute(model_or_pipeline=object(), data=data, **args)
    with pytest.raises(ValueError, match="prompt_text"):
        ev.compute(model_or_pipeline=str(work / "tiny"), data=data.remove_columns(["prompt_text"]), **args)


@pytest.mark.parametrize("settings, match", [
    ({"limit": 0}, "limit must be a positive"),
    ({"shots": -1}, "shots must be >= 0"),
    ({"tasks": ["pubmedqa_qgen"]}, "not a MedS-Bench task"),
    ({"tasks": ["nope"]}, "unknown task"),
    ({"protocol": "nope"}, "unknown prompt protocol"),
])
def test_bad_settings_are_clear_errors(settings, match):
    with pytest.raises(MedsinsError, match=match):
        _suite().configure(**settings)


def test_missing_data_and_tasks_are_clear_errors(work, tmp_path, monkeypatch):
    monkeypatch.chdir(work / "a")
    with pytest.raises(MedsinsError, match="has no config bc5cdr_chemical_ner"):
        _ = _suite().configure(tasks=["bc5cdr_chemical_ner"]).suite
    with pytest.raises(MedsinsError, match="cannot read the MedS-Bench data"):
        _ = _suite().configure(data=str(tmp_path / "absent")).suite
    # the default ./medsins from a directory without it: refused (datasets would serve an earlier
    # load of another `medsins` folder from its cache when offline)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(MedsinsError, match="no folder 'medsins' in"):
        _ = _suite().suite
    # a build holding no benchmark task (a training-only task)
    src = tmp_path / "src"
    src.mkdir()
    tid = get_task("pubmedqa_qgen").task_id
    doc = {"Definition": ["d"], "Instances": [{"input": "x", "output": ["y"]}]}
    (src / f"{tid}_qgen.json").write_text(json.dumps(doc))
    assert cli.main(["build", "--source", str(src), "--out", str(tmp_path / "train_only"), "--no-progress"]) == 0
    suite = _suite().configure(data=str(tmp_path / "train_only"))
    assert suite.suite == []
    with pytest.raises(MedsinsError, match="no task"):
        suite.run(None)
