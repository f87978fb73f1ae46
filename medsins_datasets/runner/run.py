"""The MedS-Bench runner: prompts -> generation -> ``predictions.jsonl`` -> ``results.json``.

A run directory holds

* ``run.json``: the settings that define the run (model, backend, data source, prompts, output
  budgets). Resuming into a directory whose settings differ is refused, so predictions made
  under different settings are never mixed.
* ``predictions.jsonl``: one line per benchmark instance, appended (and fsync'ed) after every
  generation batch. A killed run resumes where it stopped: instances already there are not
  generated again, a torn last line (the process died while writing it) is dropped.
* ``results.json``: the meds_bench scores (per task, category and paper table, with sample
  counts and bootstrap intervals), the settings and the library version, written atomically.

With no source, the run uses the bundled MedS-Bench slice (``medsins_datasets/data/bench_slice``:
a few REAL test instances per public benchmark task, converted by medsins' own converters from
redistributable sources and laid out as the official ``Henrychur/MedS-Bench`` repo; see its
README). Its results are marked ``"slice": true``: they are real scores, but on too few
instances to stand next to the paper's, and the leaderboard keeps them apart.

Prompts and decoding follow a named protocol (:class:`~medsins_datasets.prompts.Protocol`;
``official`` by default), recorded in ``run.json`` and ``results.json``.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any, Callable, Iterable, Iterator

from medsins_datasets import __version__
from medsins_datasets._files import check_own_folder, make_output_folder
from medsins_datasets.errors import (
    CredentialedDataError,
    MedsinsError,
    UnknownTaskError,
)
from medsins_datasets.registry.benchmark import BENCH_CATEGORIES, benchmark_settings
from medsins_datasets.registry.tasks import Task, get_task, select_tasks

logger = logging.getLogger(__name__)

SLICE_SOURCE = "slice"
PREDICTIONS = "predictions.jsonl"
RESULTS = "results.json"
RUN_FILE = "run.json"

#: Output budget (max new tokens) per benchmark category under the ``paper`` protocol: short
#: answers for choice and label tasks, room for a few sentences where the answer is free text.
#: (The official protocol gives every task 200 new tokens.) Both are ``data/benchmark.yaml``
#: settings (``categories.<name>.paper_max_new_tokens``, ``tasks.<id>.paper_max_new_tokens``).
CATEGORY_BUDGETS: Mapping[str, int] = MappingProxyType(
    {c.name: c.paper_max_new_tokens for c in benchmark_settings().categories})
#: Generative tasks inside otherwise short-answer categories. (Both read-only: the settings live in the YAML.)
TASK_BUDGETS: Mapping[str, int] = MappingProxyType(
    {t.task_id: t.paper_max_new_tokens for t in benchmark_settings().tasks if t.paper_max_new_tokens is not None})

#: Settings that define a run: resuming with any of them changed is refused.
IDENTITY_KEYS = ("model", "backend", "source", "revision", "protocol", "shots", "seed", "max_prompt_chars",
                 "max_prompt_tokens", "budgets", "data_fingerprint", "dtype")
#: identity keys a run file of an earlier version may lack (not compared when absent)
_LATER_KEYS = ("data_fingerprint", "dtype")


def slice_dir() -> Path:
    """The bundled MedS-Bench slice (the official repo's layout: category folders of test files)."""
    return Path(str(resources.files("medsins_datasets") / "data" / "bench_slice"))


@dataclass
class BenchSettings:
    model: str
    backend: str = "hf"
    source: str = SLICE_SOURCE
    revision: str | None = None  # Hub sources: branch, tag or commit (default main)
    protocol: str = "official"
    tasks: list[str] = field(default_factory=list)  # config names, in run order
    shots: int | None = None  # None: the protocol's setting (official 3; paper 3, MCQA 0)
    seed: int = 0
    limit: int | None = None
    max_prompt_chars: int | None = None
    max_prompt_tokens: int | None = None  # prompts cut to their first N tokens (official: 2048)
    budgets: dict[str, int] = field(default_factory=dict)  # task id -> max new tokens; set by the run
    #: what the budgets are planned from (:func:`plan_budgets`): a cap on every budget and
    #: ``--budget`` overrides by task or category; budgets given above win
    max_new_tokens: int | None = None
    budget_overrides: dict[str, int] = field(default_factory=dict)
    bootstrap: int = 1000
    #: fingerprint (path, size, mtime) of every task file the run reads; set by the run
    data_fingerprint: str | None = None
    #: the torch dtype generation runs in (``--dtype`` resolved: float32, bfloat16...); None: the backend's
    dtype: str | None = None

    @property
    def slice(self) -> bool:
        return self.source == SLICE_SOURCE

    def identity(self) -> dict[str, Any]:
        d = asdict(self)
        return {k: d[k] for k in IDENTITY_KEYS}


def budget_for(task: Task, max_new_tokens: int | None = None, overrides: dict[str, int] | None = None,
               protocol: "str | None" = "paper") -> int:
    """Max new tokens for ``task``: ``overrides`` (keys: task config name or id, or category name;
    a task key wins over its category) over the protocol's budget (official: 200 for every task;
    paper: the per-category defaults above, with their per-task exceptions), capped at ``max_new_tokens``."""
    from medsins_datasets.prompts import get_protocol

    proto = get_protocol(protocol)
    over = {k.lower(): v for k, v in (overrides or {}).items()}
    b = next((over[k] for k in (task.config_name.lower(), task.task_id.lower()) if k in over), None)
    if b is None:
        b = over.get((task.bench_category or "").lower())
    if b is None and proto.max_new_tokens is not None:
        b = proto.max_new_tokens
    if b is None:
        b = benchmark_settings().paper_max_new_tokens(task.task_id, task.bench_category)
    return min(b, max_new_tokens) if max_new_tokens else b


def plan_budgets(tasks: Iterable[Task], protocol: str | None, *, max_new_tokens: int | None = None,
                 overrides: dict[str, int] | None = None, given: dict[str, int] | None = None) -> dict[str, int]:
    """Task id -> max new tokens of a run (:func:`budget_for` of each task); a budget ``given`` for
    a task (a caller's explicit ``BenchSettings.budgets``) is kept as it is."""
    given = given or {}
    return {t.task_id: given[t.task_id] if t.task_id in given else
            budget_for(t, max_new_tokens, overrides, protocol) for t in tasks}


def parse_budget_overrides(specs: Iterable[str]) -> dict[str, int]:
    """``["Rationale=512", "task57=8"]`` -> ``{"Rationale": 512, "task57": 8}``, checking every
    key names a benchmark task or category and every value is a positive integer."""
    known_cats = {c.lower() for c in BENCH_CATEGORIES}
    out: dict[str, int] = {}
    for spec in specs:
        key, sep, val = spec.rpartition("=")
        key = key.strip()
        if not sep or not key:
            raise MedsinsError(f"--budget {spec!r}: expected TASK=N or CATEGORY=N, e.g. Rationale=512")
        try:
            n = int(val)
        except ValueError:
            n = 0
        if n < 1:
            raise MedsinsError(f"--budget {spec!r}: the budget must be a positive integer")
        if key.lower() not in known_cats:
            t = get_task(key)  # UnknownTaskError names the key
            if not t.bench_category:
                raise UnknownTaskError(f"--budget {spec!r}: {t.config_name} ({t.task_id}) is not a MedS-Bench task")
        out[key] = n
    return out


def select_bench_tasks(tasks: Iterable[str] | None = None, categories: Iterable[str] | None = None) -> list[Task]:
    """Benchmark tasks by name/id and/or category (all 53 when neither is given)."""
    chosen: list[Task] = []
    if tasks:
        for name in tasks:
            t = get_task(name)
            if not t.bench_category:
                raise UnknownTaskError(f"task {t.config_name} ({t.task_id}) is not a MedS-Bench task; "
                                       "see `medsins tasks --bench`")
            chosen.append(t)
    if categories:
        known = {c.lower(): c for c in BENCH_CATEGORIES}
        for c in categories:
            if c.lower() not in known:
                raise MedsinsError(f"unknown benchmark category {c!r}; one of: {', '.join(BENCH_CATEGORIES)}")
            chosen.extend(t for t in select_tasks(bench=True) if t.bench_category == known[c.lower()])
    if not tasks and not categories:
        chosen = list(select_tasks(bench=True))
    seen: set[str] = set()
    return [t for t in chosen if not (t.task_id in seen or seen.add(t.task_id))]


def slice_sources() -> list[tuple[str, str]]:
    """``(source, licence)`` of every dataset in the bundled slice, from its card's YAML."""
    import yaml

    text = (slice_dir() / "README.md").read_text(encoding="utf-8")
    meta = yaml.safe_load(text.split("---", 2)[1]) if text.startswith("---") else {}
    return [(e["source"], e["license"]) for e in (meta or {}).get("source_licenses", [])]


def resolve_bench_source(spec: str, revision: str | None = None):
    from medsins_datasets.sources.resolve import resolve_source

    return resolve_source(slice_dir() if spec == SLICE_SOURCE else spec, revision=revision)


def available_tasks(tasks: list[Task], src, *, explicit: bool) -> tuple[list[Task], list[str]]:
    """Split ``tasks`` into those the source has test data for and the names of the others.

    Tasks the user named explicitly must be there: a missing credentialed task raises
    :class:`CredentialedDataError` (it has to be converted from the user's own copy), any other
    missing task a :class:`MedsinsError`. Missing tasks of a category or default selection are
    skipped and reported.
    """
    found = src.splits()  # a listing: nothing is downloaded for tasks that are not run
    have, missing = [], []
    for t in tasks:
        if "test" in found.get(t.config_name, ()):
            have.append(t)
        else:
            missing.append(t)
    if missing and explicit:
        t = missing[0]
        if t.access == "credentialed":
            raise CredentialedDataError(
                f"task {t.config_name} ({t.task_id}) is credentialed and not in {src.describe()}: convert it "
                f"from your own licensed copy (`medsins sources`, `medsins convert`) and pass --source")
        raise MedsinsError(f"task {t.config_name} ({t.task_id}) has no test data in {src.describe()}")
    return have, [t.config_name for t in missing]


# --------------------------------------------------------------------------- the predictions log


class PredictionLog:
    """``predictions.jsonl``: append-only, one JSON object per instance, keyed by (task, id)."""

    def __init__(self, path: Path):
        self.path = path

    def load(self) -> dict[tuple[str, str], dict]:
        """Records already written. A last line without its newline (torn: the process died while
        writing it) is removed from the file and generated again; any other bad line or a
        duplicate key is an error naming the file and line."""
        done: dict[tuple[str, str], dict] = {}
        if not self.path.exists():
            return done
        raw = self.path.read_bytes()
        lines = raw.split(b"\n")
        good_end = 0
        for n, line in enumerate(lines, 1):
            last = n == len(lines)
            if not line.strip():
                good_end += len(line) + (0 if last else 1)
                continue
            if last:  # no newline after it: the run died while writing this line
                logger.warning("%s: dropping an incomplete last line (interrupted run)", self.path)
                with open(self.path, "r+b") as f:
                    f.truncate(good_end)
                break
            try:
                rec = json.loads(line)
                key = (rec["task"], str(rec["id"]))
                if not isinstance(rec.get("prediction"), str):
                    raise ValueError("'prediction' is not a string")
            except (ValueError, KeyError, TypeError) as e:
                raise MedsinsError(f"{self.path}, line {n}: not a prediction record ({e})") from e
            if key in done:
                raise MedsinsError(f"{self.path}, line {n}: instance {key[1]} of task {key[0]} appears twice")
            done[key] = rec
            good_end += len(line) + 1
        return done

    def append(self, records: list[dict]) -> None:
        if not records:
            return
        data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode()
        with open(self.path, "ab") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())


def _write_json_atomic(path: Path, obj: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(obj, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def _check_run_file(out: Path, settings: BenchSettings) -> None:
    run_file = out / RUN_FILE
    ident = settings.identity()
    if run_file.exists():
        try:
            before = json.loads(run_file.read_text(encoding="utf-8"))["identity"]
        except (ValueError, KeyError) as e:
            raise MedsinsError(f"{run_file} is not a medsins run file ({e})") from e
        # (a run file of an earlier version has no data fingerprint or dtype: nothing to compare)
        diff = [k for k in IDENTITY_KEYS if before.get(k) != ident.get(k)
                and not (k in _LATER_KEYS and k not in before)]
        if "dtype" not in before and ident.get("dtype"):
            logger.warning("%s was started before run files recorded the dtype; resuming it in %s", out,
                           ident["dtype"])
        if diff == ["data_fingerprint"]:
            raise MedsinsError(
                f"the benchmark data changed since the run in {out} began (a task file of {settings.source} was "
                "modified, added or removed), so its predictions and references no longer match the data; start "
                "fresh with another --output folder (or delete this one)")
        if diff:
            raise MedsinsError(
                f"{out} holds a run with other settings ({', '.join(f'{k}: {before.get(k)!r} -> {ident.get(k)!r}' for k in diff)}); "
                "use another --output folder" + (f" (or --dtype {before['dtype']} to go on in that run's dtype)"
                                                  if diff == ["dtype"] and before.get("dtype") else ""))
    _write_json_atomic(run_file, {"identity": ident, "medsins_version": __version__})


# --------------------------------------------------------------------------- the run


def run_bench(settings: BenchSettings, output_dir: str | Path, backend_factory: Callable[[], Any], *,
              explicit_tasks: bool = False, batch_size: int = 8, progress: bool = True) -> dict:
    """Generate the missing predictions, then score everything; returns the results dict.

    ``backend_factory`` is called only when something is left to generate, so a finished run
    is re-scored without loading the model. One run at a time per folder (a lock file).
    """
    from medsins_datasets._files import output_lock

    out = Path(output_dir)
    check_own_folder(out, RUN_FILE, "--output", "bench")  # before the lock file is made in it
    make_output_folder(out, "--output")
    with output_lock(out, "bench"):
        return _run_locked(settings, out, backend_factory, explicit_tasks=explicit_tasks, batch_size=batch_size,
                           progress=progress)


def _run_locked(settings: BenchSettings, out: Path, backend_factory: Callable[[], Any], *, explicit_tasks: bool,
                batch_size: int, progress: bool) -> dict:
    from medsins_datasets._files import fingerprint_files
    from medsins_datasets.progress import bar as progress_bar
    from medsins_datasets.prompts import iter_bench_prompts

    src = resolve_bench_source(settings.source, settings.revision)
    tasks, missing = available_tasks([get_task(t) for t in settings.tasks], src, explicit=explicit_tasks)
    if missing:
        # the bundled slice holds only the public tasks it was cut from: not worth a warning
        (logger.info if settings.slice else logger.warning)(
            "skipping %d task(s) without test data in %s: %s", len(missing), src.describe(), ", ".join(missing))
    if not tasks:
        raise MedsinsError(f"none of the selected benchmark tasks has test data in {src.describe()}")
    settings.budgets = plan_budgets(tasks, settings.protocol, max_new_tokens=settings.max_new_tokens,
                                    overrides=settings.budget_overrides, given=settings.budgets)
    read = src.task_files(tasks)
    settings.data_fingerprint = fingerprint_files([p for t in tasks for p in read[t.config_name].all_files()])
    _check_run_file(out, settings)

    log = PredictionLog(out / PREDICTIONS)
    done = log.load()
    planned: list[dict] = []
    for t in tasks:
        for ex in iter_bench_prompts(t, src, shots=settings.shots, seed=settings.seed, limit=settings.limit,
                                     max_length=settings.max_prompt_chars, protocol=settings.protocol):
            planned.append(ex)
    todo = [ex for ex in planned if (ex["task"], str(ex["id"])) not in done]
    if todo:
        backend = backend_factory()
        bar = progress_bar(total=len(planned), initial=len(planned) - len(todo), desc="MedS-Bench", unit="ex",
                           enabled=progress)
        for chunk in _completed(backend, todo, settings.budgets, batch_size):
            records = []
            for ex, pred in chunk:
                if not isinstance(pred, str):
                    raise MedsinsError(f"backend {backend.name} returned a {type(pred).__name__} for instance "
                                       f"{ex['id']} of task {ex['task']}; expected a string")
                records.append({"task": ex["task"], "task_id": ex["task_id"], "id": str(ex["id"]),
                                "prediction": pred, "reference": ex["reference"], "num_shots": ex["num_shots"]})
            log.append(records)
            for r in records:
                done[(r["task"], r["id"])] = r
            bar.update(len(records))
        bar.close()
    results = score_run(settings, [done[(ex["task"], str(ex["id"]))] for ex in planned], src_desc=src.describe(),
                        missing=missing, commits=dict(getattr(src, "commits", {}) or {}))
    _write_json_atomic(out / RESULTS, results)
    return results


def _completed(backend, todo: list[dict], budgets: dict[str, int], batch_size: int) -> Iterator[list[tuple[dict, Any]]]:
    """(instance, completion) pairs, in groups to append to the log together.

    A backend with ``generate_iter`` (the ``hf`` backend's continuous batching) yields each
    completion when it is done, and each is logged at once; it gets the longest budgets first
    (they decide when the run ends) and the longest prompts first within a budget. Other
    backends get the batches of :func:`plan_batches`, and a batch is logged when it is done.
    """
    from medsins_datasets.runner.backends import PromptTooLongError

    try:
        yield from _backend_completions(backend, todo, budgets, batch_size)
    except PromptTooLongError as e:
        ex = next((ex for ex in todo if ex["prompt"] is e.prompt), None)
        if ex is None:
            raise
        raise MedsinsError(f"task {ex['task']}, instance {ex['id']}: {e}") from None


def _backend_completions(backend, todo: list[dict], budgets: dict[str, int],
                         batch_size: int) -> Iterator[list[tuple[dict, Any]]]:
    if hasattr(backend, "generate_iter"):
        order = sorted(todo, key=lambda ex: (-budgets[ex["task_id"]], -len(ex["prompt"])))
        seen = 0
        for i, pred in backend.generate_iter([ex["prompt"] for ex in order],
                                             [budgets[ex["task_id"]] for ex in order]):
            seen += 1
            yield [(order[i], pred)]
        if seen != len(order):
            raise MedsinsError(f"backend {backend.name} returned {seen} completions for {len(order)} prompts")
        return
    for chunk, budget in plan_batches(todo, budgets, batch_size):
        preds = backend.generate([ex["prompt"] for ex in chunk], budget)
        if len(preds) != len(chunk):
            raise MedsinsError(f"backend {backend.name} returned {len(preds)} completions for "
                               f"{len(chunk)} prompts (tasks {', '.join(sorted({ex['task'] for ex in chunk}))})")
        yield list(zip(chunk, preds))


def plan_batches(todo: list[dict], budgets: dict[str, int], batch_size: int) -> list[tuple[list[dict], int]]:
    """Generation batches: prompts of every task that share an output budget go together (so
    small tasks still fill a batch), longest prompts first within a budget (a batch then pads
    little), shortest budgets first. Returns ``(prompts, max_new_tokens)`` pairs."""
    from medsins_datasets.runner.backends import budget_batches

    return [([todo[i] for i in idx], budget) for idx, budget in
            budget_batches([budgets[ex["task_id"]] for ex in todo], batch_size, [len(ex["prompt"]) for ex in todo])]


def score_run(settings: BenchSettings, records: list[dict], *, src_desc: str, missing: list[str],
              commits: dict[str, str] | None = None) -> dict:
    """Score prediction records with the meds_bench rules and wrap them with the run's settings."""
    from medsins_datasets.prompts import get_protocol
    from medsins_datasets.scoring import score

    scores = score([r["prediction"] for r in records], [r["reference"] for r in records],
                   [r["task"] for r in records], bootstrap=settings.bootstrap)
    empty = sum(1 for r in records if not r["prediction"].strip())
    return {
        "medsins_version": __version__,
        "slice": settings.slice,
        "model": settings.model,
        "backend": settings.backend,
        "source": src_desc,
        "source_commits": commits or {},
        "protocol": get_protocol(settings.protocol).describe(),
        "run_settings": {**settings.identity(), "tasks": settings.tasks, "limit": settings.limit,
                         "bootstrap": settings.bootstrap, "decoding": "greedy"},
        "n_predictions": len(records),
        "empty_predictions": empty,
        "missing_tasks": missing,
        **scores,
    }
