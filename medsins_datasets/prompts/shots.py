"""Shots are chosen deterministically from a seed: a per-instance random generator seeded by a
stable hash of (seed, task, instance id), so the same instance gets the same shots whatever
the order, the ``limit`` or the process, and never include the evaluated instance (same id or
same input text). The official code drew them with an unseeded ``random.sample`` from the
evaluated file and did not exclude the instance (5 of its 300 recorded prompts contain it).
"""


from __future__ import annotations

import hashlib
import logging
import random
from typing import Any, Callable, Iterable, Iterator, Sequence

from medsins_datasets.errors import SourceError
from medsins_datasets.prompts.protocols import (
    Protocol,
    _as_task,
    get_protocol,
)
from medsins_datasets.prompts.render import ChatPrompt, PromptTemplate
from medsins_datasets.registry.benchmark import benchmark_settings
from medsins_datasets.registry.tasks import Task, get_task

logger = logging.getLogger(__name__)

#: a callable giving the evaluated file's (id, input, output) rows, for shots drawn from it
RowsOf = Callable[[], "Iterable[tuple[str, str, str]] | None"]

#: how many training instances are kept (reservoir-sampled) as the pool shots are drawn from
DEFAULT_POOL_SIZE = 1000


def stable_seed(*parts: Any) -> int:
    """A 64-bit integer from ``parts`` that is the same in every process (unlike ``hash()``)."""
    data = "\x1f".join(str(p) for p in parts).encode("utf-8", "surrogatepass")
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "little")


class ShotPool:
    """Training instances of one task that few-shot cases are drawn from.

    ``items`` are ``(id, input, output)``. :meth:`draw` never returns the excluded instance
    (same id, or same input text: a training copy of the evaluated question is not a valid case).
    """

    def __init__(self, items: Sequence[tuple[str, str, str]]):
        self.items = list(items)

    def __len__(self) -> int:
        return len(self.items)

    @classmethod
    def sample(cls, rows: Iterable[tuple[str, str, str]], size: int, seed: int | str) -> "ShotPool":
        """Uniform sample of at most ``size`` rows, in one streaming pass (reservoir sampling)."""
        if size <= 0:
            return cls([])
        rng = random.Random(stable_seed("shot-pool", seed))
        pool: list[tuple[str, str, str]] = []
        for i, row in enumerate(rows):
            if i < size:
                pool.append(row)
            else:
                j = rng.randrange(i + 1)
                if j < size:
                    pool[j] = row
        return cls(pool)

    def draw(self, k: int, rng: random.Random, *, exclude_id: str | None = None,
             exclude_input: str | None = None) -> list[tuple[str, str]]:
        """Up to ``k`` distinct cases as ``(input, output)``."""
        n = len(self.items)
        if k <= 0 or n == 0:
            return []
        # draw a few spare candidates, in case some are the excluded instance
        picks = rng.sample(range(n), min(n, k + 2))
        out: list[tuple[str, str]] = []
        for j in picks:
            iid, inp, outp = self.items[j]
            if iid == exclude_id or inp == exclude_input:
                continue
            out.append((inp, outp))
            if len(out) == k:
                return out
        if len(out) < k and n > len(picks):  # rare: scan the rest deterministically
            for j in range(n):
                if j in picks:
                    continue
                iid, inp, outp = self.items[j]
                if iid == exclude_id or inp == exclude_input:
                    continue
                out.append((inp, outp))
                if len(out) == k:
                    break
        return out


def _iter_task_rows(task: Task, paths: Sequence, on_error: str = "raise") -> Iterator[dict]:
    from medsins_datasets.taskfile.rows import iter_split_rows

    for _, row in iter_split_rows(task, paths, on_error=on_error):  # type: ignore[arg-type]
        yield row


def shot_donor(task: Task, protocol: Protocol) -> Task:
    """The task whose train split gives ``task``'s shots: itself, or under protocols that allow
    it, the training equivalent of a test-only task (``shot_donor`` in data/benchmark.yaml)."""
    donor = benchmark_settings().shot_donors.get(task.task_id)
    if task.test_only and protocol.train_equivalents and donor:
        return get_task(donor)
    return task


def choose_shot_pool(task: Task, protocol: Protocol, *, want_shots: int, seed: int, pool_size: int,
                     train_rows: Callable[[Task], "Iterable[tuple[str, str, str]] | None"],
                     eval_rows: RowsOf | None, where: str) -> ShotPool:
    """The pool ``task``'s shots are drawn from, whatever holds the data: the donor's train split
    (``train_rows(donor)`` gives its ``(id, input, output)`` rows, or None without one); else,
    when ``protocol`` takes shots from the evaluated data (the official code does), the
    evaluated rows (``eval_rows()``); else none (zero-shot, with a warning naming ``where``).
    Every pool is a seeded sample of at most ``pool_size`` rows."""
    if want_shots <= 0:
        return ShotPool([])
    donor = shot_donor(task, protocol)
    rows = train_rows(donor)
    if rows is not None:
        pool = ShotPool.sample(rows, pool_size, f"{seed}\x1f{donor.task_id}")
        if len(pool):
            return pool
    if protocol.shots_from_test and eval_rows is not None:
        # the official code draws shots from the evaluated file; the instance itself is excluded
        return ShotPool.sample(eval_rows(), pool_size, f"{seed}\x1f{task.task_id}")
    logger.warning("%s has no train split in %s: zero-shot prompts (protocol %r never takes shots from a "
                   "test split)", donor.config_name, where, protocol.name)
    return ShotPool([])


def render_instance(task: Task, protocol: Protocol, pool: ShotPool, row: dict, *, shots: int, seed: int,
                    template: PromptTemplate | None = None, max_length: int | None = None,
                    length_fn: Callable[[str], int] = len) -> tuple["str | ChatPrompt", int]:
    """``(prompt, shots kept)`` for one row (``id``, ``definition``, ``input``): ``shots`` cases
    drawn from ``pool`` with a generator seeded by (seed, task, instance id), never the instance
    itself, rendered under ``protocol``."""
    cases = []
    if shots:
        rng = random.Random(stable_seed("shots", seed, task.task_id, row["id"]))
        cases = pool.draw(shots, rng, exclude_id=row["id"], exclude_input=row["input"])
    return protocol.render(row["definition"], row["input"], cases, template=template, max_length=max_length,
                           length_fn=length_fn)


def _shot_source(task: Task, src, want_shots: int, seed: int, pool_size: int, *,
                 protocol: Protocol, eval_paths: Sequence = ()) -> ShotPool:
    """:func:`choose_shot_pool` over the task files of a source."""
    def file_rows(t: Task, paths: Sequence):
        return ((r["id"], r["input"], r["output"]) for r in _iter_task_rows(t, paths))

    def train_rows(donor: Task):
        try:
            train = src.task_files([donor])[donor.config_name].splits.get("train") or []
        except SourceError as e:
            logger.debug("no training data for %s shots: %s", task.config_name, e)
            return None
        return file_rows(donor, train) if train else None

    return choose_shot_pool(task, protocol, want_shots=want_shots, seed=seed, pool_size=pool_size,
                            train_rows=train_rows, eval_rows=(lambda: file_rows(task, eval_paths)) if eval_paths
                            else None, where=src.describe())


def iter_task_prompts(
    task: str | Task,
    source,
    *,
    split: str = "test",
    shots: int = 0,
    seed: int = 0,
    limit: int | None = None,
    template: PromptTemplate | None = None,
    max_length: int | None = None,
    length_fn: Callable[[str], int] = len,
    pool_size: int = DEFAULT_POOL_SIZE,
    on_error: str = "raise",
    protocol: "str | Protocol | None" = "paper",
) -> Iterator[dict]:
    """Rendered prompts for the instances of one split of a task, in file order.

    Yields ``{"id", "task", "task_id", "prompt", "completion", "reference", "references",
    "num_shots"}``; ``prompt`` is a string (paper layout) or a :class:`ChatPrompt` (official
    layout). Shots come from the task's train split (never the instance itself); when there is
    none, ``protocol`` decides (see :class:`Protocol`). The definition is the one of the
    instance's task file (``Definition[0]``).
    """
    from medsins_datasets.sources.resolve import resolve_source

    proto = get_protocol(protocol)
    t = _as_task(task)
    src = resolve_source(source)
    files = src.task_files([t])[t.config_name]
    paths = files.splits.get(split) or []
    if not paths:
        have = ", ".join(s for s, p in files.splits.items() if p) or "none"
        raise SourceError(f"{src.describe()} has no {split} split for {t.config_name} ({t.task_id}); "
                          f"splits present: {have}")
    pool = _shot_source(t, src, shots, seed, pool_size, protocol=proto,
                        eval_paths=paths if split != "train" else ())
    n = 0
    for row in _iter_task_rows(t, paths, on_error):
        if limit is not None and n >= limit:
            return
        prompt, kept = render_instance(t, proto, pool, row, shots=shots, seed=seed, template=template,
                                       max_length=max_length, length_fn=length_fn)
        yield {
            "id": row["id"],
            "task": t.config_name,
            "task_id": t.task_id,
            "prompt": prompt,
            "completion": row["output"],
            "reference": row["references"][0],
            "references": row["references"],
            "num_shots": kept,
        }
        n += 1


def iter_bench_prompts(
    task: str | Task,
    source,
    *,
    shots: int | None = None,
    seed: int = 0,
    limit: int | None = None,
    template: PromptTemplate | None = None,
    max_length: int | None = None,
    length_fn: Callable[[str], int] = len,
    pool_size: int = DEFAULT_POOL_SIZE,
    protocol: "str | Protocol | None" = None,
) -> Iterator[dict]:
    """MedS-Bench prompts for one task's TEST split, in file order.

    ``protocol`` defaults to ``official``: the official two-message layout, 3 shots in every
    category, drawn from the task's train split when the source has one, else from the
    evaluated file (the evaluated instance excluded). ``paper``: the paper's prose template,
    MCQA zero-shot, shots only from training data (test-only tasks borrow the train split of
    their training equivalent: task122 -> task64, task123 -> task124, task127 -> task28;
    without one the prompts are zero-shot and a warning is logged). ``shots`` overrides the
    protocol's count. Yields the records of :func:`iter_task_prompts`.
    """
    proto = get_protocol(protocol)
    t = _as_task(task)
    k = proto.num_shots(t) if shots is None else shots
    if k < 0:
        raise ValueError(f"shots must be >= 0, got {k}")
    yield from iter_task_prompts(t, source, split="test", shots=k, seed=seed, limit=limit, template=template,
                                 max_length=max_length, length_fn=length_fn, pool_size=pool_size, protocol=proto)
