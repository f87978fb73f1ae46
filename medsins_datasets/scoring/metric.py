"""The ``meds_bench`` evaluate metric's side of the scorer: what a metric config name fixes
(:func:`resolve_scope`), where the installed evaluate modules are (:func:`metric_path`) and the
opt-in install into evaluate's module cache (:func:`register_metric`).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from medsins_datasets.errors import MedsinsError, UnknownTaskError
from medsins_datasets.registry.benchmark import BENCH_CATEGORIES, benchmark_settings
from medsins_datasets.registry.tasks import (
    Task,
    get_task,
    select_tasks,
)
from medsins_datasets.scoring.rules import rule_of

#: Short names accepted as metric config names for the benchmark categories (``slug`` of each
#: category in ``data/benchmark.yaml``).
CATEGORY_SLUGS: dict[str, str] = {c.slug: c.name for c in benchmark_settings().categories}


@dataclass(frozen=True)
class Scope:
    """What a metric config name fixes: nothing, one task, or one benchmark category."""

    name: str
    task: Task | None = None
    category: str | None = None

    @property
    def needs_tasks(self) -> bool:
        """Whether per-sample task names are an input (not for one-task scopes)."""
        return self.task is None


def resolve_scope(config_name: str | None) -> Scope:
    """Interpret a metric config name: ``default``, a bench task (name or id) or a category.

    A category with a single task (diagnosis, treatment_planning, text_classification)
    fixes that task.
    """
    name = (config_name or "default").strip()
    if name.lower() in ("default", "all", "meds_bench"):
        return Scope("default")
    key = name.lower().replace("-", "_").replace(" ", "_")
    category = CATEGORY_SLUGS.get(key)
    if category is None:
        for cat in BENCH_CATEGORIES:
            if cat.lower().replace(" ", "_").replace("-", "_") == key:
                category = cat
    if category is not None:
        members = select_tasks(bench_category=category)
        if len(members) == 1:
            return Scope(name, task=members[0], category=category)
        return Scope(name, category=category)
    try:
        task = get_task(name)
    except UnknownTaskError:
        raise UnknownTaskError(
            f"unknown meds_bench config {name!r}: use 'default', a benchmark task (config name or id, "
            f"e.g. 'medqa_en' or 'task57') or a category ({', '.join(CATEGORY_SLUGS)})"
        ) from None
    rule_of(task)
    return Scope(name, task=task, category=task.bench_category)


def metric_path(name: str = "meds_bench") -> str:
    """Folder of an installed evaluate module, for ``evaluate.load(metric_path())`` (offline, any cwd).

    This is the documented offline route to the metric: ``evaluate.load`` loads a local folder
    that holds ``<name>/<name>.py`` before it looks anything up on the Hub, so it works after
    ``pip install medsins`` from any directory, with ``HF_EVALUATE_OFFLINE=1``. ``name`` is
    ``"meds_bench"`` (the metric) or ``"meds_bench_suite"`` (the evaluation suite, for
    ``evaluate.EvaluationSuite.load(metric_path("meds_bench_suite"))``). The online route is
    ``evaluate.load("ORG/meds_bench")`` after ``medsins push-metric ORG/meds_bench``.
    """
    shipped = ("meds_bench", "meds_bench_suite")  # the folders of metrics/ (medsins_datasets.metrics)
    if name not in shipped:
        raise MedsinsError(f"unknown medsins evaluate module {name!r}; one of: {', '.join(shipped)}")
    path = Path(str(resources.files("medsins_datasets.metrics") / name))
    if not (path / f"{name}.py").is_file():  # pragma: no cover - broken install
        raise MedsinsError(f"the {name} module is not installed at {path} (reinstall medsins)")
    return str(path)


def register_metric(modules_cache: str | None = None) -> str:
    """Make the bare name ``evaluate.load("meds_bench")`` work offline in any directory; returns
    the folder written.

    An explicit opt-in (importing medsins never does it): evaluate resolves a bare name as a
    ``meds_bench/meds_bench.py`` folder in the current directory, else as
    ``evaluate-metric/meds_bench`` on the Hub (which does not exist), and when both fail it falls
    back to the newest copy in its dynamic-modules cache
    (``$HF_MODULES_CACHE/evaluate_modules/metrics/evaluate-metric--meds_bench/<hash>/``). This
    copies the installed metric (``meds_bench.py`` and its card) there, under the SHA-256 of
    their content; the copy registered last is the one used. evaluate logs a warning ("Using the
    latest cached version of the module...") on every such load, and with evaluate online each
    load first asks the Hub (a failed request). Prefer ``evaluate.load(metric_path())`` offline
    or ``evaluate.load("ORG/meds_bench")`` online. ``modules_cache`` defaults to evaluate's
    ``HF_MODULES_CACHE``. Calling it again re-registers (idempotent for the same version).
    """
    import hashlib
    import shutil

    from evaluate import config as ev_config

    src = Path(metric_path())
    files = [src / "meds_bench.py", src / "README.md"]
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in files)).hexdigest()
    cache = Path(modules_cache or ev_config.HF_MODULES_CACHE)
    base = cache / "evaluate_modules"
    dest = base / "metrics" / "evaluate-metric--meds_bench" / digest
    dest.mkdir(parents=True, exist_ok=True)
    for d in (base, base / "metrics", dest.parent, dest):
        (d / "__init__.py").touch()
    for p in files:
        shutil.copyfile(p, dest / p.name)
    return str(dest)
