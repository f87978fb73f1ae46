"""The MedS-Ins / MedS-Bench task registry.

The registry is data: one row per task in ``data/tasks.csv`` (facts from Table 10 of the
paper and the official repository) and one row per source dataset in ``data/sources.csv``
(homepage and licence). This module only reads those tables and offers look-ups. What the
benchmark does with its tasks (rules, shots, budgets, paper tables) is ``data/benchmark.yaml``,
read by :mod:`.benchmark`.
"""

from __future__ import annotations

import csv
import difflib
import re
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Iterable, Iterator

from medsins_datasets.errors import UnknownTaskError
from medsins_datasets.registry.access import CREDENTIALED
from medsins_datasets.registry.source_datasets import source_table


@dataclass(frozen=True)
class Task:
    """One MedS-Ins task (or MedS-Bench test-only task)."""

    task_id: str
    config_name: str
    paper_task_name: str
    source: str
    category: str
    domain: str
    input_languages: tuple[str, ...]
    output_languages: tuple[str, ...]
    access: str
    origin: str
    bench_category: str | None
    bench_metric: str | None
    test_only: bool
    #: the test sample size the paper gives (supplementary A.2); None where it evaluates the whole split
    paper_test_size: int | None = None
    homepage: str = ""
    license: str = ""
    number: int = field(default=0, compare=False)

    @property
    def in_bench(self) -> bool:
        return self.bench_category is not None

    @property
    def is_credentialed(self) -> bool:
        return self.access == CREDENTIALED

    @property
    def input_language(self) -> str:
        return ";".join(self.input_languages)

    @property
    def output_language(self) -> str:
        return ";".join(self.output_languages)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["input_languages"] = list(self.input_languages)
        d["output_languages"] = list(self.output_languages)
        d["in_bench"] = self.in_bench
        d.pop("number")
        return d



#: an official task id (``task57``), its number in group 1
TASK_ID_RE = re.compile(r"^task(\d+)$")


def task_number(task_id: str) -> int:
    m = TASK_ID_RE.match(task_id)
    if not m:
        raise ValueError(f"not an official task id: {task_id!r} (expected 'task<N>')")
    return int(m.group(1))


def _read_csv(name: str) -> list[dict[str, str]]:
    text = resources.files("medsins_datasets").joinpath("data", name).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


@lru_cache(maxsize=1)
def _load() -> tuple[Task, ...]:
    table = source_table()
    tasks = []
    for r in _read_csv("tasks.csv"):
        src = table.get(r["source"])
        tasks.append(
            Task(
                task_id=r["task_id"],
                config_name=r["config_name"],
                paper_task_name=r["paper_task_name"],
                source=r["source"],
                category=r["category"],
                domain=r["domain"],
                input_languages=tuple(r["input_language"].split(";")),
                output_languages=tuple(r["output_language"].split(";")),
                access=r["access"],
                origin=r["origin"],
                bench_category=r["bench_category"] or None,
                bench_metric=r["bench_metric"] or None,
                test_only=r["test_only"] == "true",
                paper_test_size=int(r["paper_test_size"]) if (r.get("paper_test_size") or "").strip() else None,
                homepage=src.homepage if src else "",
                license=src.license if src else "",
                number=task_number(r["task_id"]),
            )
        )
    return tuple(sorted(tasks, key=lambda t: t.number))


def all_tasks() -> tuple[Task, ...]:
    """Every task: the 122 MedS-Ins tasks plus the MedS-Bench test-only ones."""
    return _load()


@lru_cache(maxsize=1)
def _index() -> dict[str, Task]:
    idx: dict[str, Task] = {}
    for t in _load():
        idx[t.config_name] = t
        idx[t.task_id] = t
    return idx


def get_task(name: str) -> Task:
    """Look a task up by config name (``pico_outcome``) or official id (``task3``)."""
    idx = _index()
    key = name.strip() if isinstance(name, str) else name
    if isinstance(key, str) and key in idx:
        return idx[key]
    if isinstance(key, str) and key.lower() in idx:
        return idx[key.lower()]
    close = difflib.get_close_matches(str(name), list(idx), n=3)
    hint = f" Did you mean: {', '.join(close)}?" if close else ""
    raise UnknownTaskError(f"unknown task {name!r}.{hint} Run `medsins tasks` to list all tasks.")


def has_task(name: str) -> bool:
    return name in _index()


def _match(value: str | Iterable[str], wanted: str | Iterable[str] | None) -> bool:
    if wanted is None:
        return True
    wanted_set = {wanted.lower()} if isinstance(wanted, str) else {w.lower() for w in wanted}
    values = {value.lower()} if isinstance(value, str) else {v.lower() for v in value}
    return bool(values & wanted_set)


def select_tasks(
    names: Iterable[str] | None = None,
    *,
    category: str | Iterable[str] | None = None,
    domain: str | Iterable[str] | None = None,
    language: str | Iterable[str] | None = None,
    access: str | Iterable[str] | None = None,
    bench: bool | None = None,
    bench_category: str | Iterable[str] | None = None,
    source: str | Iterable[str] | None = None,
    include_test_only: bool = True,
) -> list[Task]:
    """Filter the registry. All filters are case-insensitive and combine with AND.

    ``language`` matches a task whose input or output language is one of the given ones.
    ``bench=True`` keeps MedS-Bench tasks, ``bench=False`` keeps the others.
    """
    pool: Iterable[Task]
    if names is not None:
        seen: dict[str, Task] = {}
        for n in names:
            t = get_task(n)
            seen.setdefault(t.task_id, t)
        pool = sorted(seen.values(), key=lambda t: t.number)
    else:
        pool = _load()
    out = []
    for t in pool:
        if not include_test_only and t.test_only:
            continue
        if not _match(t.category, category) or not _match(t.domain, domain):
            continue
        if not _match(t.input_languages + t.output_languages, language):
            continue
        if not _match(t.access, access) or not _match(t.source, source):
            continue
        if bench is not None and t.in_bench != bench:
            continue
        if bench_category is not None and not (t.bench_category and _match(t.bench_category, bench_category)):
            continue
        out.append(t)
    return out


def iter_config_names() -> Iterator[str]:
    return (t.config_name for t in _load())


def sources() -> list[dict[str, str]]:
    """The source datasets with homepage and licence, and the tasks built from each."""
    by_source: dict[str, list[str]] = {}
    for t in _load():
        by_source.setdefault(t.source, []).append(t.task_id)
    return [{"source": s.name, "homepage": s.homepage, "license": s.license, "tasks": by_source.get(s.name, [])}
            for s in source_table().values()]
