"""Bench results on the Hub, tested on the fake Hub: `medsins push-results` (model-index in a model
card, optional .eval_results file) and the leaderboard push with its dataset card."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from huggingface_hub import DatasetCard, HfApi, ModelCard, parse_eval_result_entries

from medsins_datasets import cli
from medsins_datasets.runner.run import SLICE_SOURCE, BenchSettings, run_bench, slice_dir
from medsins_datasets.errors import MedsinsError
from medsins_datasets.runner.leaderboard import (
    PUSHED_FILES,
    leaderboard_card,
    push_leaderboard,
    write_leaderboard,
)
from medsins_datasets.runner.results_push import RunScores, benchmark_dataset, load_scores

TASKS = ["medqa_en", "meqsum_summarization", "bc5cdr_chemical_ner"]  # accuracy; BLEU-1/ROUGE-L; P/R/F1
LIMIT = 3


class CannedBackend:
    """Answers with the real reference of every other test instance and half of it (or "I do not
    know.") otherwise:
    real, non-trivial scores without a model. The evaluated instance is the one whose input comes
    last in the prompt (the shots come before it)."""

    name = "canned"
    model_name = "canned"

    def __init__(self):
        self.answers: dict[str, str] = {}
        for f in sorted(slice_dir().rglob("task*.json*")):
            for i, inst in enumerate(json.loads(f.read_text(encoding="utf-8"))["Instances"]):
                ref = inst["output"][0] if isinstance(inst["output"], list) else inst["output"]
                words = ref.split()
                half = " ".join(words[:len(words) // 2]) if len(words) > 3 else "I do not know."
                self.answers[inst["input"]] = ref if i % 2 == 0 else half

    def generate(self, prompts, max_new_tokens):
        out = []
        for p in prompts:
            text = p.text if hasattr(p, "text") else str(p)
            last = max(self.answers, key=lambda inp: text.rfind(inp))
            assert text.rfind(last) >= 0, "the evaluated instance is not in the prompt"
            out.append(self.answers[last])
        return out


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    """A real run on real test instances (the bundled slice's files, read as a local source)."""
    out = tmp_path_factory.mktemp("runs") / "run"
    settings = BenchSettings(model="org/canned-7b", source=str(slice_dir()), tasks=TASKS, limit=LIMIT, bootstrap=0)
    run_bench(settings, out, CannedBackend, progress=False)
    return out


@pytest.fixture(scope="module")
def slice_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "slice"
    run_bench(BenchSettings(model="org/canned-7b", source=SLICE_SOURCE, tasks=["medqa_en"], limit=1, bootstrap=0),
              out, CannedBackend, progress=False)
    return out


def _results(run: Path) -> dict:
    return json.loads((run / "results.json").read_text(encoding="utf-8"))


def _expected(run: Path) -> dict[tuple[str, str], float]:
    """(config, metric) -> value, as the model-index must hold them (percent, 2 decimals)."""
    return {(name, m): round(v, 2) for name, entry in _results(run)["tasks"].items()
            for m, v in entry.items() if m in ("accuracy", "bleu1", "rougeL", "precision", "recall", "f1")}


def _ours(card: ModelCard) -> dict[tuple[str, str], float]:
    return {(r.dataset_config, r.metric_type): r.metric_value for r in card.data.eval_results
            if r.dataset_type == "Henrychur/MedS-Bench"}


EXISTING = """---
license: apache-2.0
base_model: org/base-7b
tags:
- medical
model-index:
- name: canned-7b
  results:
  - task:
      type: text-generation
    dataset:
      name: MMLU
      type: cais/mmlu
      split: test
    metrics:
    - type: accuracy
      value: 51.0
  - task:
      type: text-generation
    dataset:
      name: MedS-Bench medqa_en
      type: Henrychur/MedS-Bench
      config: medqa_en
      split: test[:3]
    metrics:
    - type: accuracy
      value: 1.5
---

# canned-7b

A model card written by its authors.

## Training

Details that must survive.
"""


def _model_repo(hub, repo_id: str, card: str | None) -> None:
    api = HfApi()
    api.create_repo(repo_id)
    api.upload_file(path_or_fileobj=b'{"model_type": "llama"}', path_in_repo="config.json", repo_id=repo_id)
    if card is not None:
        api.upload_file(path_or_fileobj=card.encode(), path_in_repo="README.md", repo_id=repo_id)


def test_results_merge_into_an_existing_card(run_dir, fake_hub_env, capsys):
    _model_repo(fake_hub_env, "tester/canned-7b", EXISTING)
    n_commits = len(fake_hub_env.commits)
    assert cli.main(["push-results", str(run_dir), "tester/canned-7b"]) == 0
    printed = capsys.readouterr().out
    expected = _expected(run_dir)
    assert f"wrote {len(expected)} scores of 3 task(s) to tester/canned-7b (README.md)" in printed
    commit = fake_hub_env.commits[-1]
    assert len(fake_hub_env.commits) == n_commits + 1 and commit.added == ["README.md"] and commit.deleted == []
    files = fake_hub_env.repo("tester/canned-7b").files
    assert files["config.json"] == b'{"model_type": "llama"}'
    card = ModelCard.load("tester/canned-7b")
    old = ModelCard(EXISTING)
    assert card.text == old.text  # the authors' text, byte for byte
    assert (card.data.license, card.data.base_model, card.data.tags) == ("apache-2.0", "org/base-7b", ["medical"])
    assert card.data.model_name == "canned-7b"
    # the other benchmark is kept; the stale medqa_en accuracy is replaced, not duplicated
    mmlu = [r for r in card.data.eval_results if r.dataset_type == "cais/mmlu"]
    assert [(r.metric_type, r.metric_value) for r in mmlu] == [("accuracy", 51.0)]
    assert _ours(card) == expected
    assert len(card.data.eval_results) == len(expected) + 1
    ours = [r for r in card.data.eval_results if r.dataset_type == "Henrychur/MedS-Bench"]
    assert {r.dataset_split for r in ours} == {f"test[:{LIMIT}]"} and {r.dataset_revision for r in ours} == {None}
    assert {r.task_type for r in ours} == {"text-generation"}
    assert {r.metric_name for r in ours} >= {"Accuracy", "BLEU-1", "ROUGE-L", "F1"}
    # the card was checked by the Hub's validator before the commit, and is what was uploaded
    assert fake_hub_env.validated[-1] == ("model", files["README.md"].decode())
    # pushing again changes nothing but the commit
    assert cli.main(["push-results", str(run_dir), "tester/canned-7b"]) == 0
    again = ModelCard.load("tester/canned-7b", )
    assert len(again.data.eval_results) == len(card.data.eval_results) and _ours(again) == expected


def test_results_into_a_repo_without_a_card(run_dir, fake_hub_env, capsys):
    _model_repo(fake_hub_env, "tester/bare", None)
    assert cli.main(["push-results", str(run_dir), "tester/bare", "--eval-results"]) == 0
    assert "(README.md, .eval_results/meds_bench.yaml)" in capsys.readouterr().out
    commit = fake_hub_env.commits[-1]
    assert commit.added == [".eval_results/meds_bench.yaml", "README.md"]
    files = fake_hub_env.repo("tester/bare").files
    card = ModelCard(files["README.md"].decode())
    assert card.data.model_name == "bare" and _ours(card) == _expected(run_dir)
    # the body comes from the template and lists every score
    for (config, metric), value in _expected(run_dir).items():
        assert f"| `{config}` |" in card.text and f"| {value:.2f} |" in card.text
    assert "medsins push-results" in card.text and "${" not in card.text
    # the .eval_results file in huggingface_hub's format: one headline score per task
    entries = parse_eval_result_entries(yaml.safe_load(files[".eval_results/meds_bench.yaml"]))
    res = _results(run_dir)["tasks"]
    assert {(e.dataset_id, e.task_id, e.value) for e in entries} == {
        ("Henrychur/MedS-Bench", "medqa_en", round(res["medqa_en"]["accuracy"], 2)),
        ("Henrychur/MedS-Bench", "meqsum_summarization", round(res["meqsum_summarization"]["bleu1"], 2)),
        ("Henrychur/MedS-Bench", "bc5cdr_chemical_ner", round(res["bc5cdr_chemical_ner"]["f1"], 2)),
    }
    assert all("official protocol" in e.notes and f"first {LIMIT}" in e.notes and e.date for e in entries)
    # a second push merges the file too (no duplicate entries)
    assert cli.main(["push-results", str(run_dir), "tester/bare", "--eval-results"]) == 0
    files = fake_hub_env.repo("tester/bare").files
    assert len(yaml.safe_load(files[".eval_results/meds_bench.yaml"])) == 3


def test_dataset_of_the_results_follows_the_run_source(run_dir):
    scores = load_scores(run_dir)
    assert benchmark_dataset(scores) == ("Henrychur/MedS-Bench", None)  # local copy of the test files
    hub = RunScores(scores.path, {**scores.results, "source_commits": {"Henrychur/MedS-Ins": "a" * 40,
                                                                       "Henrychur/MedS-Bench": "b" * 40}})
    assert benchmark_dataset(hub) == ("Henrychur/MedS-Bench", "b" * 40)
    other = RunScores(scores.path, {**scores.results, "source_commits": {"org/split": "c" * 40}})
    assert benchmark_dataset(other) == ("org/split", "c" * 40)
    assert benchmark_dataset(hub, "org/mine") == ("org/mine", None)


@pytest.mark.parametrize("case", ["no-folder", "no-results", "not-json", "no-tasks", "unknown-task", "no-score",
                                  "slice"])
def test_bad_run_folder_is_one_line_and_exit_2(case, run_dir, slice_run, tmp_path, fake_hub_env, capsys):
    _model_repo(fake_hub_env, "tester/m", None)
    n_commits = len(fake_hub_env.commits)
    run = tmp_path / "run"
    run.mkdir()
    good = _results(run_dir)
    if case == "no-folder":
        run = tmp_path / "missing"
    elif case == "not-json":
        (run / "results.json").write_text("{truncated", encoding="utf-8")
    elif case == "no-tasks":
        (run / "results.json").write_text(json.dumps({**good, "tasks": {}}), encoding="utf-8")
    elif case == "unknown-task":
        (run / "results.json").write_text(json.dumps({**good, "tasks": {"medqa_xx": {"accuracy": 1.0}}}))
    elif case == "no-score":
        (run / "results.json").write_text(json.dumps({**good, "tasks": {"medqa_en": {"n": 3}}}))
    elif case == "slice":
        run = slice_run
    assert cli.main(["push-results", str(run), "tester/m"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err and err.startswith("medsins push-results:")
    assert {"no-folder": "does not exist", "no-results": "results.json not found", "not-json": "not a medsins results",
            "no-tasks": "no task scores", "unknown-task": "medqa_xx", "no-score": "tasks.medqa_en: no score",
            "slice": "bundled MedS-Bench slice"}[case] in err
    assert len(fake_hub_env.commits) == n_commits  # nothing written


def test_hub_problems_are_clear_errors(run_dir, fake_hub_env, monkeypatch, capsys):
    # no such repo
    assert cli.main(["push-results", str(run_dir), "tester/nope"]) == 2
    assert "model repo tester/nope not found" in capsys.readouterr().err
    # a card huggingface_hub cannot parse is not overwritten
    _model_repo(fake_hub_env, "tester/broken", "---\nmodel-index: [{name: x}]\n---\n# text\n")
    n = len(fake_hub_env.commits)
    assert cli.main(["push-results", str(run_dir), "tester/broken"]) == 2
    assert "README.md cannot be merged into" in capsys.readouterr().err and len(fake_hub_env.commits) == n
    # the card changed on the Hub while we merged: the commit is refused, nothing overwritten
    from medsins_datasets.runner import results_push

    _model_repo(fake_hub_env, "tester/busy", EXISTING)
    real = results_push.merge_card

    def merge_while_someone_commits(*a, **kw):
        HfApi().upload_file(path_or_fileobj=b"# edited meanwhile\n", path_in_repo="README.md", repo_id="tester/busy")
        return real(*a, **kw)

    monkeypatch.setattr(results_push, "merge_card", merge_while_someone_commits)
    assert cli.main(["push-results", str(run_dir), "tester/busy"]) == 2
    assert "cannot write the results to tester/busy" in capsys.readouterr().err
    assert fake_hub_env.repo("tester/busy").files["README.md"] == b"# edited meanwhile\n"


def test_push_results_offline_is_a_clear_error(run_dir, capsys):
    assert cli.main(["push-results", str(run_dir), "tester/m"]) == 2  # HF_HUB_OFFLINE=1 in tests
    err = capsys.readouterr().err
    assert "cannot read model repo tester/m" in err and len(err.strip().splitlines()) == 1


def test_push_results_help():
    with pytest.raises(SystemExit) as e:
        cli.build_parser().parse_args(["push-results", "--help"])
    assert e.value.code == 0


# --------------------------------------------------------------------------- leaderboard push

def test_leaderboard_push_carries_a_dataset_card(run_dir, slice_run, tmp_path, fake_hub_env):
    lb = tmp_path / "lb"
    write_leaderboard([run_dir, slice_run], lb, include_paper=True, charts=True)
    (lb / "README.md").write_text("# my notes, not for the Hub\n")
    (lb / "predictions.jsonl").write_text("{}\n")
    url = push_leaderboard(lb, "tester/medsbench-lb")
    assert "tester/medsbench-lb" in url
    repo = fake_hub_env.repo("tester/medsbench-lb")
    charts = sorted(p.name for p in lb.glob("radar_*.png"))
    assert charts and sorted(repo.files) == sorted(["README.md", "leaderboard.md", "results/00_run.json",
                                                    "results/01_slice.json", *charts])
    assert fake_hub_env.messages("tester/medsbench-lb") == ["Update MedS-Bench leaderboard"]  # one commit
    card = DatasetCard.load("tester/medsbench-lb", repo_type="dataset")
    assert repo.files["README.md"].decode() == str(leaderboard_card(lb))
    assert fake_hub_env.validated[-1] == ("dataset", repo.files["README.md"].decode())
    assert card.data.viewer is False and "leaderboard" in card.data.tags and card.data.pretty_name
    text = card.text
    assert "| org/canned-7b | local task files | official | 9 | 3 |" in text
    assert "| org/canned-7b | bundled MedS-Bench slice | official | 1 | 1 |" in text
    assert all(f"]({c})" in text for c in charts)
    md = (lb / "leaderboard.md").read_text(encoding="utf-8")
    assert md.split("\n", 1)[1].strip() in text and "with the numbers published in the paper" in text
    assert str(run_dir) not in text  # no local paths in the public card


def test_leaderboard_push_refused_card_creates_nothing(run_dir, tmp_path, fake_hub_env, capsys):
    lb = tmp_path / "lb"
    write_leaderboard([run_dir], lb, charts=False)
    fake_hub_env.fail(400, path_contains="validate-yaml")
    assert cli.main(["leaderboard", str(run_dir), "--out", str(lb), "--no-charts", "--push", "tester/lb"]) == 2
    err = capsys.readouterr().err
    assert "card validator rejected it" in err and len(err.strip().splitlines()) == 1
    assert "tester/lb" not in fake_hub_env.repos
    with pytest.raises(MedsinsError, match="leaderboard.md not found"):
        push_leaderboard(tmp_path, "tester/lb")
    assert "README.md" not in PUSHED_FILES  # the user's README.md never leaves the folder
