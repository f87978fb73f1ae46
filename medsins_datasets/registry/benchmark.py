"""The MedS-Bench settings, as data: ``data/benchmark.yaml`` read into frozen dataclasses.

What the benchmark does with each task lives in one file, the way lm-evaluation-harness keeps
its task settings in YAML: the defaults (shots, the official output budget), per category (the
metric config slug, the official repo folder, the paper protocol's output budget), per task (the
scoring rule, the shot donor of a test-only task, whether the paper runs it zero-shot, the
paper protocol's budget exceptions), the CT/MRI summarization groups and the paper's Tables 1-8.
The facts of a task (benchmark category, metric, test-only flag, test size) stay in
``data/tasks.csv`` (:mod:`.tasks`); this file never repeats them.

This is the only module that reads the YAML. Everything else asks :func:`benchmark_settings`
(or the thin derived names kept where they were: ``registry.benchmark.BENCH_CATEGORIES``,
``runner.run.CATEGORY_BUDGETS``, ``scoring.TABLES``...). The file is checked as a whole when it
is read: a missing or unknown key, a value of the wrong type, an unknown rule, metric, task or
group reference raises :class:`BenchmarkSettingsError` naming the file and the key, never a
``KeyError`` later in the run. Whether the YAML and ``tasks.csv`` list the same tasks is
checked by ``tests/registry/test_benchmark_settings.py`` (this module does not read ``tasks.csv``).
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from medsins_datasets.errors import MedsinsError
from medsins_datasets.registry.tasks import TASK_ID_RE

#: the settings file, under ``medsins_datasets/data/``
BENCHMARK_FILE = "benchmark.yaml"

#: The scoring rule kinds a task may name (``tasks.<id>.rule``); :mod:`medsins_datasets.scoring.rules`
#: implements each one (the metric card ``metrics/meds_bench/README.md`` describes them).
RULE_KINDS: tuple[str, ...] = (
    "mcqa", "mcqa_yes_no", "information_extraction", "diagnosis", "treatment_planning", "clinical_outcome",
    "fact_verification", "nli", "ner", "hoc", "text", "text_explanation", "text_rationale", "text_ebms",
)

#: Metric names, in display order (what a table column may show).
METRICS: tuple[str, ...] = ("accuracy", "precision", "recall", "f1", "bleu1", "rougeL")

#: the column name of a table's average (never a column of the file)
AVG_COLUMN = "Avg."


class BenchmarkSettingsError(MedsinsError, ValueError):
    """``data/benchmark.yaml`` (or a settings file given to :func:`load_benchmark_settings`) is malformed."""


# --------------------------------------------------------------------------- the settings


@dataclass(frozen=True)
class Defaults:
    """Settings of every task unless its category or its own entry says otherwise."""

    #: few-shot cases per benchmark prompt
    shots: int
    #: max new tokens of every task under the official protocol
    official_max_new_tokens: int
    #: paper-protocol budget of a task outside the benchmark categories
    paper_max_new_tokens: int


@dataclass(frozen=True)
class CategorySettings:
    """One benchmark category (``tasks.csv`` ``bench_category``)."""

    name: str
    #: short name accepted as a meds_bench metric config name
    slug: str
    #: folder at the root of Henrychur/MedS-Bench, spelled as published
    folder: str
    #: output budget under the paper protocol
    paper_max_new_tokens: int


@dataclass(frozen=True)
class TaskSettings:
    """What the benchmark does with one task (official id)."""

    task_id: str
    #: scoring rule kind, one of :data:`RULE_KINDS`
    rule: str
    #: the training task whose train split supplies this test-only task's shots (paper protocol)
    shot_donor: str | None = None
    #: the paper evaluates this task zero-shot (its protocol gives it ``mcqa_shots``, 0)
    paper_zero_shot: bool = False
    #: paper-protocol budget, when not its category's
    paper_max_new_tokens: int | None = None


@dataclass(frozen=True)
class Column:
    """One column of a paper table: a task id or a group, and the metrics the paper shows."""

    name: str
    source: str  # "task57" or a group name ("CT")
    metrics: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    """One of the paper's Tables 1-8, columns in printed order."""

    key: str
    title: str
    columns: tuple[Column, ...]
    avg_of: tuple[str, ...] = ()  # column names averaged into "Avg." (none: no Avg. column)


@dataclass(frozen=True)
class BenchmarkSettings:
    """Everything ``benchmark.yaml`` holds, checked (see :func:`parse_benchmark_settings`)."""

    defaults: Defaults
    categories: tuple[CategorySettings, ...]  # the official order
    tasks: tuple[TaskSettings, ...]  # file order
    groups: tuple[tuple[str, tuple[str, ...]], ...]  # (name, member task ids)
    tables: tuple[Table, ...]

    @cached_property
    def category_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.categories)

    @cached_property
    def _categories(self) -> dict[str, CategorySettings]:
        return {c.name: c for c in self.categories}

    @cached_property
    def _tasks(self) -> dict[str, TaskSettings]:
        return {t.task_id: t for t in self.tasks}

    def category(self, name: str) -> CategorySettings | None:
        """The settings of a benchmark category (its ``tasks.csv`` name), None for another name."""
        return self._categories.get(name)

    def task(self, task_id: str) -> TaskSettings | None:
        """The settings of a benchmark task (official id), None for a task outside the benchmark."""
        return self._tasks.get(task_id)

    @cached_property
    def shot_donors(self) -> dict[str, str]:
        """Test-only task -> the training task whose train split supplies its shots."""
        return {t.task_id: t.shot_donor for t in self.tasks if t.shot_donor}

    def zero_shot_in_paper(self, task_id: str) -> bool:
        """Whether the paper evaluates ``task_id`` zero-shot (False for a task outside the benchmark)."""
        t = self.task(task_id)
        return t is not None and t.paper_zero_shot

    def paper_max_new_tokens(self, task_id: str, category: str | None) -> int:
        """Output budget under the paper protocol: the task's own, else its category's, else the default."""
        t = self.task(task_id)
        if t is not None and t.paper_max_new_tokens is not None:
            return t.paper_max_new_tokens
        c = self.category(category or "")
        return c.paper_max_new_tokens if c is not None else self.defaults.paper_max_new_tokens


# --------------------------------------------------------------------------- reading


@lru_cache(maxsize=1)
def benchmark_settings() -> BenchmarkSettings:
    """The settings shipped in ``medsins_datasets/data/benchmark.yaml`` (read once)."""
    text = resources.files("medsins_datasets").joinpath("data", BENCHMARK_FILE).read_text(encoding="utf-8")
    return _parse_text(text, f"medsins_datasets/data/{BENCHMARK_FILE}")


def load_benchmark_settings(path: str | Path) -> BenchmarkSettings:
    """Read and check a settings file in the ``benchmark.yaml`` format (for tests and forks)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise BenchmarkSettingsError(f"{path}: cannot read the benchmark settings ({e})") from None
    return _parse_text(text, str(path))


def _parse_text(text: str, where: str) -> BenchmarkSettings:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class _Loader(loader):  # type: ignore[misc, valid-type]
        """A safe loader that refuses a key given twice (YAML keeps the last one silently)."""

    def _mapping(ld: Any, node: Any, deep: bool = False) -> dict:
        seen: set = set()
        for key_node, _ in node.value:
            key = ld.construct_object(key_node, deep=deep)
            if not isinstance(key, (str, int, float, bool)):
                continue  # an unhashable or odd key: construct_mapping below says what is wrong
            if key in seen:
                raise BenchmarkSettingsError(
                    f"{where}, line {key_node.start_mark.line + 1}: key {key!r} is given twice")
            seen.add(key)
        return loader.construct_mapping(ld, node, deep=deep)

    _Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
    stream = io.StringIO(text)
    stream.name = where  # type: ignore[attr-defined]  # YAML's messages then name the file, not "<unicode string>"
    try:
        data = yaml.load(stream, Loader=_Loader)
    except yaml.YAMLError as e:
        raise BenchmarkSettingsError(f"{where}: not valid YAML ({e})") from None
    return parse_benchmark_settings(data, where)


class _Checker:
    """Type checks that name the file and the dotted key of a bad value."""

    def __init__(self, where: str):
        self.where = where

    def fail(self, key: str, problem: str) -> BenchmarkSettingsError:
        return BenchmarkSettingsError(f"{self.where}: {key}: {problem}" if key else f"{self.where}: {problem}")

    def mapping(self, value: Any, key: str, *, required: tuple[str, ...] = (),
                optional: tuple[str, ...] = ()) -> Mapping[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(key, f"expected a mapping, got {_kind(value)}")
        missing = [k for k in required if k not in value]
        if missing:
            raise self.fail(key, f"missing key(s) {', '.join(missing)}")
        if required or optional:
            unknown = [str(k) for k in value if k not in required and k not in optional]
            if unknown:
                raise self.fail(key, f"unknown key(s) {', '.join(unknown)}; allowed: "
                                     f"{', '.join(required + optional)}")
        return value

    def text(self, value: Any, key: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, f"expected a non-empty string, got {_kind(value)}")
        return value

    def integer(self, value: Any, key: str, *, minimum: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise self.fail(key, f"expected an integer >= {minimum}, got {_kind(value)}")
        return value

    def task_id(self, value: Any, key: str) -> str:
        if not isinstance(value, str) or not TASK_ID_RE.match(value):
            raise self.fail(key, f"expected an official task id like 'task57', got {_kind(value)}")
        return value

    def names(self, value: Any, key: str, allowed: tuple[str, ...] | dict, what: str,
              where: str | None = None) -> tuple[str, ...]:
        """A non-empty list of distinct names out of ``allowed`` (``where``: say where they are
        defined instead of listing them all)."""
        if not isinstance(value, list) or not value:
            raise self.fail(key, f"expected a non-empty list of {what}s, got {_kind(value)}")
        for i, v in enumerate(value):
            if v not in allowed:
                known = f"not in {where}" if where else f"one of: {', '.join(map(str, allowed))}"
                raise self.fail(f"{key}[{i}]", f"unknown {what} {v!r}; {known}")
        if len(set(value)) != len(value):
            raise self.fail(key, f"a {what} is listed twice")
        return tuple(value)


def _kind(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return f"a {type(value).__name__}"
    return repr(value)


def parse_benchmark_settings(data: Any, where: str = BENCHMARK_FILE) -> BenchmarkSettings:
    """Check the loaded YAML ``data`` and build the settings; ``where`` names the file in errors."""
    c = _Checker(where)
    top = c.mapping(data, "", required=("defaults", "categories", "tasks", "groups", "tables"))

    d = c.mapping(top["defaults"], "defaults", required=("shots", "official_max_new_tokens", "paper_max_new_tokens"))
    defaults = Defaults(
        shots=c.integer(d["shots"], "defaults.shots", minimum=0),
        official_max_new_tokens=c.integer(d["official_max_new_tokens"], "defaults.official_max_new_tokens",
                                          minimum=1),
        paper_max_new_tokens=c.integer(d["paper_max_new_tokens"], "defaults.paper_max_new_tokens", minimum=1),
    )

    categories = []
    for name, entry in c.mapping(top["categories"], "categories").items():
        key = f"categories.{name}"
        c.text(name, key)
        e = c.mapping(entry, key, required=("slug", "folder", "paper_max_new_tokens"))
        categories.append(CategorySettings(
            name=name, slug=c.text(e["slug"], f"{key}.slug"), folder=c.text(e["folder"], f"{key}.folder"),
            paper_max_new_tokens=c.integer(e["paper_max_new_tokens"], f"{key}.paper_max_new_tokens", minimum=1)))
    if not categories:
        raise c.fail("categories", "no category")
    for attr in ("slug", "folder"):
        values = [getattr(cat, attr) for cat in categories]
        dup = next((v for v in values if values.count(v) > 1), None)
        if dup is not None:
            raise c.fail("categories", f"two categories have the {attr} {dup!r}")

    tasks = []
    for tid, entry in c.mapping(top["tasks"], "tasks").items():
        key = f"tasks.{tid}"
        c.task_id(tid, key)
        e = c.mapping(entry, key, required=("rule",),
                      optional=("shot_donor", "paper_zero_shot", "paper_max_new_tokens"))
        rule = e["rule"]
        if rule not in RULE_KINDS:
            raise c.fail(f"{key}.rule", f"unknown rule {rule!r}; one of: {', '.join(RULE_KINDS)}")
        donor = e.get("shot_donor")
        zero_shot = e.get("paper_zero_shot", False)
        if not isinstance(zero_shot, bool):
            raise c.fail(f"{key}.paper_zero_shot", f"expected true or false, got {_kind(zero_shot)}")
        budget = e.get("paper_max_new_tokens")
        tasks.append(TaskSettings(
            task_id=tid, rule=rule,
            shot_donor=None if donor is None else c.task_id(donor, f"{key}.shot_donor"),
            paper_zero_shot=zero_shot,
            paper_max_new_tokens=None if budget is None else c.integer(budget, f"{key}.paper_max_new_tokens",
                                                                        minimum=1)))
    if not tasks:
        raise c.fail("tasks", "no task")
    task_ids = {t.task_id: t for t in tasks}
    for t in tasks:
        if t.shot_donor in task_ids:
            raise c.fail(f"tasks.{t.task_id}.shot_donor",
                         f"{t.shot_donor} is a benchmark task; a shot donor is a training task")

    groups = []
    for name, members in c.mapping(top["groups"], "groups").items():
        c.text(name, f"groups.{name}")
        if name in task_ids:
            raise c.fail(f"groups.{name}", "a group cannot be named like a task")
        groups.append((name, c.names(members, f"groups.{name}", task_ids, "benchmark task", "the tasks: section")))
    group_names = dict(groups)

    if not isinstance(top["tables"], list) or not top["tables"]:
        raise c.fail("tables", f"expected a non-empty list of tables, got {_kind(top['tables'])}")
    tables = []
    for i, entry in enumerate(top["tables"]):
        e = c.mapping(entry, f"tables[{i}]", required=("key", "title", "metrics", "columns"), optional=("average",))
        tkey = c.text(e["key"], f"tables[{i}].key")
        key = f"tables.{tkey}"
        if any(t.key == tkey for t in tables):
            raise c.fail(key, "two tables have this key")
        metrics = c.names(e["metrics"], f"{key}.metrics", METRICS, "metric")
        if not isinstance(e["columns"], list) or not e["columns"]:
            raise c.fail(f"{key}.columns", f"expected a non-empty list of columns, got {_kind(e['columns'])}")
        columns: list[Column] = []
        for j, col in enumerate(e["columns"]):
            ckey = f"{key}.columns[{j}]"
            ce = c.mapping(col, ckey, required=("name",), optional=("task", "group", "metrics"))
            name = c.text(ce["name"], f"{ckey}.name")
            if name == AVG_COLUMN or any(x.name == name for x in columns):
                raise c.fail(f"{ckey}.name", f"{name!r} is reserved or names two columns")
            if ("task" in ce) == ("group" in ce):
                raise c.fail(ckey, "give exactly one of task: or group:")
            if "task" in ce:
                source = c.task_id(ce["task"], f"{ckey}.task")
                if source not in task_ids:
                    raise c.fail(f"{ckey}.task", f"{source} is not a task of the tasks: section")
            else:
                source = ce["group"]
                if source not in group_names:
                    raise c.fail(f"{ckey}.group", f"unknown group {source!r}; one of: {', '.join(group_names)}")
            cm = metrics if "metrics" not in ce else c.names(ce["metrics"], f"{ckey}.metrics", METRICS, "metric")
            columns.append(Column(name, source, cm))
        avg = e.get("average")
        if avg is None:
            avg_of: tuple[str, ...] = ()
        elif avg == "all":
            avg_of = tuple(x.name for x in columns)
        else:
            avg_of = c.names(avg, f"{key}.average", tuple(x.name for x in columns), "column")
        if len({next(x.metrics for x in columns if x.name == n) for n in avg_of}) > 1:
            raise c.fail(f"{key}.average", "the averaged columns must show the same metrics")
        tables.append(Table(tkey, c.text(e["title"], f"{key}.title"), tuple(columns), avg_of))

    return BenchmarkSettings(defaults=defaults, categories=tuple(categories), tasks=tuple(tasks),
                             groups=tuple(groups), tables=tuple(tables))


def __getattr__(name: str) -> Any:
    # BENCH_CATEGORIES is read from the YAML on first use, not at import: `import medsins_datasets`
    # and `medsins --help` neither import yaml nor parse the file
    if name == "BENCH_CATEGORIES":
        #: the benchmark categories as the official scripts name them, in their order (12; the paper
        #: merges Explanation and Rationale into one, giving 11)
        return benchmark_settings().category_names
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
