"""The scores of a ``medsins bench`` run written into a Hub model repo, the way the Hub shows
evaluation results.

* ``model-index`` in the model card's metadata (``README.md``), built with huggingface_hub's
  :class:`~huggingface_hub.EvalResult` / :class:`~huggingface_hub.ModelCardData`: one result per
  task and metric (accuracy; BLEU-1 and ROUGE-L; precision, recall and F1), on the benchmark
  dataset, the task's config and the test split. An existing card keeps its text and its other
  metadata; results of other benchmarks stay, and a result for the same task, dataset, config,
  split, revision and metric is replaced (the latest push wins). A repo without a card gets one
  from ``templates/model_card.md``.
* optionally (``eval_results_file=True``), ``.eval_results/meds_bench.yaml`` in huggingface_hub's
  :class:`~huggingface_hub.EvalResultEntry` format: one entry per task with its headline metric.
  The Hub aggregates these files into leaderboards for benchmark datasets it has registered
  (with an ``eval.yaml``), so it is off by default.

Nothing else is uploaded: never ``results.json`` (it names local paths), never predictions. The
card is read at one commit and written with that commit as parent, so a concurrent change of the
card is refused by the Hub instead of being overwritten.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from medsins_datasets.errors import MedsinsError, UnknownTaskError
from medsins_datasets.registry.tasks import get_task
from medsins_datasets.sources.resolve import OFFICIAL_TEST_REPO

if TYPE_CHECKING:
    from huggingface_hub import EvalResult, EvalResultEntry, ModelCard

RESULTS = "results.json"
EVAL_RESULTS_DIR = ".eval_results"
#: metric key in results.json -> the name the card shows, in the order the card lists them
METRIC_NAMES = {"accuracy": "Accuracy", "bleu1": "BLEU-1", "rougeL": "ROUGE-L", "precision": "Precision",
                "recall": "Recall", "f1": "F1"}
#: the one metric per task an ``.eval_results`` entry holds (the first the task has), as in the
#: leaderboard's radar charts: F1 for NER-style tasks, BLEU-1 for free text, else accuracy
HEADLINE_METRICS = ("f1", "accuracy", "bleu1")
#: the task type of every result: the models are evaluated as text generators
TASK_TYPE = "text-generation"


@dataclass
class RunScores:
    """What a run folder's ``results.json`` says, checked."""

    path: Path
    results: dict[str, Any]

    @property
    def protocol(self) -> str:
        proto = self.results.get("protocol")
        return str(proto.get("name", "official")) if isinstance(proto, dict) else str(proto or "official")

    @property
    def limit(self) -> int | None:
        return (self.results.get("run_settings") or {}).get("limit")

    @property
    def split(self) -> str:
        """The split the scores are on, in ``datasets``' slicing syntax when the run had ``--limit``."""
        return f"test[:{self.limit}]" if self.limit else "test"

    @property
    def commits(self) -> dict[str, str]:
        return dict(self.results.get("source_commits") or {})

    def date(self) -> str:
        """When the scores were written (the file's modification time, UTC)."""
        return datetime.fromtimestamp(self.path.stat().st_mtime, timezone.utc).isoformat(timespec="seconds")


def load_scores(run_dir: str | Path) -> RunScores:
    """Read and check ``RUN_DIR/results.json``; every problem is a :class:`MedsinsError` naming it."""
    path = Path(run_dir) / RESULTS
    if not Path(run_dir).is_dir():
        raise MedsinsError(f"run folder {run_dir} does not exist (give a `medsins bench --output` folder)")
    if not path.is_file():
        raise MedsinsError(f"{path} not found: is {run_dir} the folder of a finished `medsins bench` run?")
    try:
        res = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as e:
        raise MedsinsError(f"{path} is not a medsins results file ({e})") from e
    if not isinstance(res, dict) or not isinstance(res.get("tasks"), dict) or "model" not in res:
        raise MedsinsError(f"{path} is not a medsins results file (no 'model' or 'tasks')")
    if res.get("slice") or res.get("demo"):
        raise MedsinsError(f"{path} holds scores on the bundled MedS-Bench slice (a few instances per task): they "
                           "are not benchmark results and are not written to a model card; run `medsins bench` "
                           "on the full test data (e.g. --source hub)")
    if not res["tasks"]:
        raise MedsinsError(f"{path} has no task scores ('tasks' is empty)")
    for name, entry in res["tasks"].items():
        try:
            get_task(name)
        except UnknownTaskError as e:
            raise MedsinsError(f"{path}, tasks: {e}") from e
        if not isinstance(entry, dict) or not any(isinstance(entry.get(m), (int, float)) for m in METRIC_NAMES):
            raise MedsinsError(f"{path}, tasks.{name}: no score ({', '.join(METRIC_NAMES)})")
    return RunScores(path, res)


def benchmark_dataset(scores: RunScores, dataset: str | None = None) -> tuple[str, str | None]:
    """``(dataset id, revision)`` the results are recorded on: ``dataset`` if given, else the Hub
    repo the run read its test data from (official MedS-Bench, or an ``hf://`` source), else
    the official MedS-Bench repo (a local copy of its test files), without a revision."""
    commits = scores.commits
    if dataset:
        return dataset, commits.get(dataset)
    if OFFICIAL_TEST_REPO in commits:
        return OFFICIAL_TEST_REPO, commits[OFFICIAL_TEST_REPO]
    if len(commits) == 1:
        return next(iter(commits.items()))
    return OFFICIAL_TEST_REPO, None


def _tasks(scores: RunScores) -> list[tuple[str, dict]]:
    return sorted(scores.results["tasks"].items(), key=lambda kv: get_task(kv[0]).number)


def _value(v: float) -> float:
    return round(float(v), 2)


def eval_results(scores: RunScores, *, dataset: str | None = None) -> list["EvalResult"]:
    """One :class:`~huggingface_hub.EvalResult` per task and metric of the run (percent, 2 decimals)."""
    from huggingface_hub import EvalResult

    dataset_id, revision = benchmark_dataset(scores, dataset)
    out = []
    for name, entry in _tasks(scores):
        task = get_task(name)
        for metric, pretty in METRIC_NAMES.items():
            v = entry.get(metric)
            if not isinstance(v, (int, float)):
                continue
            out.append(EvalResult(
                task_type=TASK_TYPE,
                task_name=f"{task.bench_category or task.category} ({scores.protocol} protocol)",
                dataset_type=dataset_id,
                dataset_name=f"MedS-Bench {name}",
                dataset_config=name,
                dataset_split=scores.split,
                dataset_revision=revision,
                metric_type=metric,
                metric_name=pretty,
                metric_value=_value(v),
            ))
    return out


def eval_result_entries(scores: RunScores, *, dataset: str | None = None) -> list["EvalResultEntry"]:
    """One :class:`~huggingface_hub.EvalResultEntry` per task: its headline metric."""
    from huggingface_hub import EvalResultEntry

    dataset_id, revision = benchmark_dataset(scores, dataset)
    out = []
    for name, entry in _tasks(scores):
        metric = next((m for m in HEADLINE_METRICS if isinstance(entry.get(m), (int, float))), None)
        if metric is None:  # e.g. only precision/recall: no headline
            continue
        n = entry.get("n")
        notes = f"{METRIC_NAMES[metric]} (percent), {scores.protocol} protocol, greedy decoding"
        if scores.limit:
            notes += f", first {scores.limit} test instances"
        elif isinstance(n, int):
            notes += f", {n} test instances"
        out.append(EvalResultEntry(dataset_id=dataset_id, task_id=name, value=_value(entry[metric]),
                                   dataset_revision=revision, date=scores.date(), notes=notes))
    return out


def _key(r: "EvalResult") -> tuple:
    return (*r.unique_identifier, r.metric_type)


def merge_card(existing: str | None, results: list["EvalResult"], *, model_name: str,
               scores: RunScores) -> "ModelCard":
    """The model card with ``results`` merged into its ``model-index`` (see the module docstring)."""
    from huggingface_hub import ModelCard, ModelCardData

    from medsins_datasets import __version__
    from medsins_datasets.cards import render_template

    if existing is None:
        rows = [f"| `{r.dataset_config}` | {r.task_name} | {r.metric_name} | {r.metric_value:.2f} |" for r in results]
        body = render_template("model_card.md", model_name=model_name, medsins_version=__version__,
                               protocol=scores.protocol, split=scores.split, dataset=results[0].dataset_type,
                               result_rows="\n".join(rows))
        data = ModelCardData(model_name=model_name, eval_results=list(results), tags=["medsins", "meds-bench"])
        return ModelCard(f"---\n{data.to_yaml()}\n---\n\n{body}")
    try:
        card = ModelCard(existing)
    except ValueError as e:  # unparsable YAML, or a model-index huggingface_hub cannot read
        raise MedsinsError(f"the repo's README.md cannot be merged into: {e}") from e
    new_keys = {_key(r) for r in results}
    kept = [r for r in (card.data.eval_results or []) if _key(r) not in new_keys]
    card.data.eval_results = kept + list(results)
    if not card.data.model_name:
        card.data.model_name = model_name
    return ModelCard(str(card))  # re-parsed: what is uploaded is exactly what the Hub will read


def merge_eval_results_file(existing: str | None, entries: list["EvalResultEntry"], *, path: str) -> str:
    """YAML of ``.eval_results/<file>``: ``entries`` replacing those of the same dataset and task."""
    import yaml
    from huggingface_hub import eval_result_entries_to_yaml, parse_eval_result_entries

    old: list = []
    if existing:
        try:
            data = yaml.safe_load(existing)
            old = parse_eval_result_entries(data if isinstance(data, list) else [])
        except (yaml.YAMLError, KeyError, TypeError, ValueError) as e:
            raise MedsinsError(f"the repo's {path} cannot be merged into: {e}") from e
    new_keys = {(e.dataset_id, e.task_id) for e in entries}
    merged = [e for e in old if (e.dataset_id, e.task_id) not in new_keys] + list(entries)
    return yaml.safe_dump(eval_result_entries_to_yaml(merged), sort_keys=False, allow_unicode=True)


def _download(api, repo_id: str, filename: str, revision: str) -> str | None:
    """A file of the repo at ``revision`` as text, or None when the repo does not have it."""
    from huggingface_hub.errors import EntryNotFoundError

    with tempfile.TemporaryDirectory() as tmp:
        try:
            local = api.hf_hub_download(repo_id, filename, repo_type="model", revision=revision, cache_dir=tmp)
        except EntryNotFoundError:
            return None
        return Path(local).read_text(encoding="utf-8-sig")


@dataclass
class PushReport:
    repo_id: str
    commit_url: str
    files: list[str]
    results: int
    tasks: int


def push_results(run_dir: str | Path, repo_id: str, *, dataset: str | None = None, eval_results_file: bool = False,
                 revision: str | None = None, commit_message: str | None = None, token: str | None = None,
                 api=None) -> PushReport:
    """Write the scores of ``run_dir`` into the model repo ``repo_id`` (which must exist)."""
    from huggingface_hub import CommitOperationAdd, HfApi
    from huggingface_hub.errors import (
        HfHubHTTPError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    from medsins_datasets.cards import validate_card

    scores = load_scores(run_dir)
    results = eval_results(scores, dataset=dataset)
    api = api or HfApi(token=token)
    try:
        info = api.model_info(repo_id, revision=revision)
    except (RepositoryNotFoundError, RevisionNotFoundError) as e:
        raise MedsinsError(f"model repo {repo_id}{'@' + revision if revision else ''} not found on the Hub "
                           "(check the name and your token; results are only written to an existing model repo)") from e
    except ValueError as e:  # a malformed repo id
        raise MedsinsError(f"model repo {repo_id!r}: {e}") from e
    except (HfHubHTTPError, OSError) as e:
        raise MedsinsError(f"cannot read model repo {repo_id}: {e}") from e
    parent = info.sha
    try:
        existing = _download(api, repo_id, "README.md", parent)
        card = merge_card(existing, results, model_name=repo_id.split("/")[-1], scores=scores)
        validate_card(card, repo_type="model")
        ops = [CommitOperationAdd(path_in_repo="README.md", path_or_fileobj=str(card).encode("utf-8"))]
        if eval_results_file:
            path = f"{EVAL_RESULTS_DIR}/meds_bench{'' if scores.protocol == 'official' else '_' + scores.protocol}.yaml"
            text = merge_eval_results_file(_download(api, repo_id, path, parent),
                                           eval_result_entries(scores, dataset=dataset), path=path)
            ops.append(CommitOperationAdd(path_in_repo=path, path_or_fileobj=text.encode("utf-8")))
        commit = api.create_commit(
            repo_id, ops, repo_type="model", revision=revision, parent_commit=parent,
            commit_message=commit_message or f"Add MedS-Bench results ({len(results)} scores, "
                                             f"{len(scores.results['tasks'])} tasks) with medsins")
    except (HfHubHTTPError, OSError) as e:
        raise MedsinsError(f"cannot write the results to {repo_id}: {e}") from e
    return PushReport(repo_id, str(getattr(commit, "commit_url", commit)), [op.path_in_repo for op in ops],
                      len(results), len(scores.results["tasks"]))
