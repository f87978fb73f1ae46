"""Benchmark contamination: which MedS-Bench test instances also appear in training data.

The official data-preparation scripts risked leaking test data into training tasks (e.g. the
Species-800 training task built from its test file), so a mixture should be checked, and can be
cleaned. Two measures per test instance:

* **exact**: its input (whitespace-stripped) is verbatim the input of a training row;
* **n-gram**: after normalisation (Unicode NFKC, case-folding, punctuation removed; CJK/kana/
  hangul characters are one token each) at least ``threshold`` of its distinct word ``n``-grams
  (default 13, as in the GPT-3 decontamination) occur in ONE training row (input or output).
  Inputs shorter than ``n`` tokens count when their normalised text equals a training row's
  normalised input or output. n-grams shared by more than ``max_gram_instances`` test instances
  are boilerplate (templates, option lists) and are ignored.

Memory is bounded by the benchmark side: the test instances' n-grams are kept as a sorted
``uint64`` array (12 bytes per n-gram); training rows are streamed in batches and their n-grams
hashed and looked up with numpy. Hashes are stable (blake2b), so results do not depend on the
process.

Of the mixture package this module uses only the planner without exclusion
(:func:`medsins_datasets.mixture.plan.plan_tasks`), the spec and the spill reader
(:func:`medsins_datasets.mixture.spill.read_batch`), imported inside the functions that need
them: :mod:`medsins_datasets.mixture.build` imports this module for ``exclude_contaminated``, and
importing the mixture package here at load time would load that module before this one is
complete.
"""

from __future__ import annotations

import hashlib
import logging
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import numpy as np

from medsins_datasets.errors import MedsinsError
from medsins_datasets.progress import bar as progress_bar
from medsins_datasets.registry.tasks import Task, get_task, select_tasks
from medsins_datasets.sources.resolve import Source, resolve_source

logger = logging.getLogger(__name__)

DEFAULT_N = 13
DEFAULT_THRESHOLD = 0.5
DEFAULT_MAX_GRAM_INSTANCES = 10

_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_TOKEN_RE = re.compile(f"[{_CJK}]|[^\\W_{_CJK}]+")
_MULT = np.uint64(0x100000001B3)  # FNV prime: the rolling combination of token hashes


def normalize(text: str) -> str:
    """NFKC, case-folded, tokens joined by single spaces (punctuation dropped)."""
    return " ".join(tokens(text))


def tokens(text: str) -> list[str]:
    return _TOKEN_RE.findall(unicodedata.normalize("NFKC", text).casefold())


def _digest(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little")


class _TokenHasher:
    """Stable 64-bit token hashes, memoised (the memo is cleared when it grows past ``limit``)."""

    def __init__(self, limit: int = 2_000_000):
        self.memo: dict[str, int] = {}
        self.limit = limit

    def __call__(self, toks: list[str]) -> list[int]:
        memo = self.memo
        out = []
        for t in toks:
            h = memo.get(t)
            if h is None:
                if len(memo) >= self.limit:
                    memo.clear()
                h = memo[t] = _digest(t)
            out.append(h)
        return out


def _grams(hashes: Sequence[list[int]], n: int) -> tuple[np.ndarray, np.ndarray]:
    """n-gram keys of several token-hash sequences: (keys, index of the sequence of each key)."""
    lengths = np.fromiter((len(h) for h in hashes), dtype=np.int64, count=len(hashes))
    counts = np.maximum(lengths - n + 1, 0)
    total = int(counts.sum())
    if not total:
        return np.zeros(0, np.uint64), np.zeros(0, np.int64)
    flat = np.fromiter((x for h in hashes for x in h), dtype=np.uint64, count=int(lengths.sum()))
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    owner = np.repeat(np.arange(len(hashes)), counts)
    offset = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
    pos = np.repeat(starts, counts) + offset
    acc = np.zeros(total, np.uint64)
    with np.errstate(over="ignore"):
        for j in range(n):
            acc = acc * _MULT + flat[pos + j]
    return acc, owner


@dataclass
class TestInstance:
    task: str
    id: str
    exact: bool = False
    ngram: bool = False
    max_overlap: float = 0.0
    train_tasks: Counter = field(default_factory=Counter)

    @property
    def contaminated(self) -> bool:
        return self.exact or self.ngram


class BenchIndex:
    """The n-gram index of benchmark test instances that training rows are matched against."""

    def __init__(self, instances: Iterable[tuple[str, str, str]], *, n: int = DEFAULT_N,
                 threshold: float = DEFAULT_THRESHOLD, max_gram_instances: int = DEFAULT_MAX_GRAM_INSTANCES):
        """``instances``: ``(task config name, instance id, input)``."""
        if n < 1:
            raise ValueError(f"n must be >= 1, got {n}")
        if not 0.0 < threshold <= 1.0:
            raise ValueError(f"threshold must be in (0, 1], got {threshold}")
        self.n, self.threshold = n, threshold
        self.hasher = _TokenHasher()
        self.instances: list[TestInstance] = []
        self.exact: dict[int, list[int]] = {}
        self.short: dict[int, list[int]] = {}
        keys_parts: list[np.ndarray] = []
        inst_parts: list[np.ndarray] = []
        batch: list[list[int]] = []
        batch_idx: list[int] = []

        def flush() -> None:
            keys, owner = _grams(batch, n)
            owner = np.asarray(batch_idx, np.int64)[owner] if owner.size else owner
            # distinct (gram, instance) pairs
            pairs = np.unique(np.stack([keys, owner.astype(np.uint64)], axis=1), axis=0) if keys.size else \
                np.zeros((0, 2), np.uint64)
            keys_parts.append(pairs[:, 0])
            inst_parts.append(pairs[:, 1].astype(np.int32))
            batch.clear()
            batch_idx.clear()

        for task, iid, text in instances:
            i = len(self.instances)
            self.instances.append(TestInstance(task, iid))
            self.exact.setdefault(_digest(text.strip()), []).append(i)
            toks = tokens(text)
            if len(toks) < n:
                if toks:
                    self.short.setdefault(_digest(" ".join(toks)), []).append(i)
                continue
            batch.append(self.hasher(toks))
            batch_idx.append(i)
            if len(batch) >= 1024:
                flush()
        if batch:
            flush()
        keys = np.concatenate(keys_parts) if keys_parts else np.zeros(0, np.uint64)
        inst = np.concatenate(inst_parts) if inst_parts else np.zeros(0, np.int32)
        order = np.argsort(keys, kind="stable")
        keys, inst = keys[order], inst[order]
        # drop boilerplate n-grams (shared by too many test instances)
        if keys.size:
            uniq, cnt = np.unique(keys, return_counts=True)
            frequent = uniq[cnt > max_gram_instances]
            if frequent.size:
                drop = np.isin(keys, frequent)
                logger.info("contamination: ignoring %d boilerplate n-grams shared by > %d test instances",
                            frequent.size, max_gram_instances)
                keys, inst = keys[~drop], inst[~drop]
        self.keys, self.inst = keys, inst
        self.grams_per_instance = np.bincount(inst, minlength=len(self.instances)) if inst.size else \
            np.zeros(len(self.instances), np.int64)

    def __len__(self) -> int:
        return len(self.instances)

    def scan(self, rows: Sequence[tuple[str, str]], train_task: str = "") -> np.ndarray:
        """Match training rows ``(input, output)``; record matches on the test instances and
        return a boolean mask of the rows that contaminate at least one test instance."""
        flagged = np.zeros(len(rows), dtype=bool)
        texts: list[list[int]] = []
        owner_rows: list[int] = []
        for r, (inp, out) in enumerate(rows):
            for i in self.exact.get(_digest(inp.strip()), ()):
                self._mark(i, r, flagged, train_task, exact=True)
            for k, text in enumerate((inp, out)):
                toks = tokens(text)
                if not toks:
                    continue
                if self.short and len(toks) < self.n:
                    for i in self.short.get(_digest(" ".join(toks)), ()):
                        self._mark(i, r, flagged, train_task, overlap=1.0)
                if len(toks) >= self.n and self.keys.size:
                    texts.append(self.hasher(toks))
                    owner_rows.append(r)
        if not texts:
            return flagged
        grams, owner = _grams(texts, self.n)
        rows_of = np.asarray(owner_rows, np.int64)[owner]
        pos = np.searchsorted(self.keys, grams)
        pos_c = np.minimum(pos, self.keys.size - 1)
        hit = self.keys[pos_c] == grams
        if not hit.any():
            return flagged
        g, r_hit = grams[hit], rows_of[hit]
        left = pos[hit]
        right = np.searchsorted(self.keys, g, side="right")
        span = right - left
        entry = np.repeat(left, span) + (np.arange(int(span.sum())) - np.repeat(np.cumsum(span) - span, span))
        r_e = np.repeat(r_hit, span)
        # distinct (row, index entry) pairs, then distinct n-grams per (row, instance)
        pair = np.unique(r_e * np.int64(self.keys.size) + entry)
        rr, ee = pair // self.keys.size, pair % self.keys.size
        key = rr * np.int64(len(self.instances)) + self.inst[ee].astype(np.int64)
        uk, cnt = np.unique(key, return_counts=True)
        r_u, i_u = uk // len(self.instances), uk % len(self.instances)
        cover = cnt / self.grams_per_instance[i_u]
        for r, i, c in zip(r_u.tolist(), i_u.tolist(), cover.tolist()):
            inst = self.instances[i]
            if c > inst.max_overlap:
                inst.max_overlap = c
            if c >= self.threshold:
                self._mark(i, r, flagged, train_task, overlap=c)
        return flagged

    def _mark(self, i: int, r: int, flagged: np.ndarray, train_task: str, *, exact: bool = False,
              overlap: float = 0.0) -> None:
        inst = self.instances[i]
        if exact:
            inst.exact = True
            overlap = 1.0
        else:
            inst.ngram = True
        inst.max_overlap = max(inst.max_overlap, overlap)
        if not flagged[r]:
            inst.train_tasks[train_task] += 1
        flagged[r] = True


def bench_instances(source: Source, tasks: Sequence[Task] | None = None) -> Iterator[tuple[str, str, str]]:
    """``(task, id, input)`` of the test split of MedS-Bench tasks in ``source``.

    ``tasks`` default: every MedS-Bench task the source has a test split for.
    """
    from medsins_datasets.taskfile.rows import iter_split_rows

    if tasks is None:
        wanted = select_tasks(bench=True)
        have = source.splits()  # a listing: only the benchmark tasks' files are read (or downloaded)
        with_test = [t for t in wanted if "test" in have.get(t.config_name, ())]
        found = source.task_files(with_test) if with_test else {}
    else:
        found = source.task_files(list(tasks))
    for name, tf in found.items():
        for _, row in iter_split_rows(tf.task, tf.splits.get("test", [])):
            yield name, row["id"], row["input"]


def build_index(source, tasks: Sequence[str | Task] | None = None, *, n: int = DEFAULT_N,
                threshold: float = DEFAULT_THRESHOLD,
                max_gram_instances: int = DEFAULT_MAX_GRAM_INSTANCES) -> BenchIndex:
    """Index the test instances of ``tasks`` (default: all MedS-Bench tasks) found in ``source``."""
    src = resolve_source(source)
    resolved = [t if isinstance(t, Task) else get_task(t) for t in tasks] if tasks is not None else None
    index = BenchIndex(bench_instances(src, resolved), n=n, threshold=threshold,
                       max_gram_instances=max_gram_instances)
    if not len(index):
        which = ", ".join(t.config_name for t in resolved) if resolved else "any MedS-Bench task"
        raise MedsinsError(f"no benchmark test instances for {which} in {src.describe()} (a test split is "
                           "needed: files under test/ or named *test*)")
    return index


@dataclass
class TaskContamination:
    task: str
    task_id: str
    test_instances: int
    exact: int
    ngram: int
    contaminated: int
    ids: list[str]
    train_tasks: dict[str, int]

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class ContaminationReport:
    n: int
    threshold: float
    tasks: dict[str, TaskContamination]
    train_rows: int
    flagged_rows: dict[str, int]

    @property
    def contaminated(self) -> int:
        return sum(t.contaminated for t in self.tasks.values())

    def to_dict(self) -> dict:
        return {"n": self.n, "threshold": self.threshold, "train_rows": self.train_rows,
                "flagged_train_rows": self.flagged_rows, "contaminated_test_instances": self.contaminated,
                "tasks": {k: v.to_dict() for k, v in self.tasks.items()}}

    def excluded_ids(self) -> dict[str, list[str]]:
        """Contaminated test ids per benchmark task (to leave out of an evaluation)."""
        return {k: v.ids for k, v in self.tasks.items() if v.ids}

    def table(self) -> str:
        lines = [f"{'benchmark task':34s} {'test':>6s} {'exact':>6s} {'n-gram':>7s} {'contam.':>8s}  training tasks"]
        for t in self.tasks.values():
            src = ", ".join(f"{k} ({v})" for k, v in sorted(t.train_tasks.items()))
            lines.append(f"{t.task:34s} {t.test_instances:>6d} {t.exact:>6d} {t.ngram:>7d} {t.contaminated:>8d}  {src}")
        flagged = sum(self.flagged_rows.values())
        lines.append(f"{self.contaminated} contaminated test instances; {flagged} of {self.train_rows} training rows "
                     f"overlap the benchmark ({self.n}-grams, threshold {self.threshold:g})")
        return "\n".join(lines)


def report(index: BenchIndex, train_rows: int, flagged: dict[str, int]) -> ContaminationReport:
    per: dict[str, list[TestInstance]] = {}
    for inst in index.instances:
        per.setdefault(inst.task, []).append(inst)
    tasks = {}
    for name, insts in per.items():
        train_tasks: Counter = Counter()
        for i in insts:
            train_tasks.update(i.train_tasks)
        tasks[name] = TaskContamination(
            task=name, task_id=get_task(name).task_id, test_instances=len(insts),
            exact=sum(i.exact for i in insts), ngram=sum(i.ngram for i in insts),
            contaminated=sum(i.contaminated for i in insts), ids=[i.id for i in insts if i.contaminated],
            train_tasks=dict(train_tasks),
        )
    return ContaminationReport(index.n, index.threshold, tasks, train_rows, flagged)


def check_rows(rows: Iterable[dict], index: BenchIndex, *, batch_size: int = 512) -> ContaminationReport:
    """Check any training rows (dicts with ``input``, ``output`` and optionally ``task``)."""
    flagged: Counter = Counter()
    total = 0
    buf: list[dict] = []

    def flush() -> None:
        by_task: dict[str, list[tuple[str, str]]] = {}
        for row in buf:
            by_task.setdefault(row.get("task", ""), []).append((row["input"], row["output"]))
        for task, rs in by_task.items():
            flagged[task] += int(index.scan(rs, task).sum())
        buf.clear()

    for row in rows:
        total += 1
        buf.append(row)
        if len(buf) >= batch_size:
            flush()
    if buf:
        flush()
    return report(index, total, {k: v for k, v in flagged.items() if v})


def check_contamination(spec, source, *, bench_source=None, bench_tasks: Sequence[str] | None = None,
                        n: int = DEFAULT_N, threshold: float = DEFAULT_THRESHOLD,
                        max_gram_instances: int = DEFAULT_MAX_GRAM_INSTANCES,
                        cache_dir: str | Path | None = None) -> ContaminationReport:
    """Report, per benchmark task, the test instances that a training mixture contains.

    ``spec`` is a :class:`~medsins_datasets.mixture.MixtureSpec` (the rows the mixture would
    yield from ``source`` are checked, before any contamination exclusion) or an iterable of
    row dicts with ``input``/``output``/``task``. Benchmark test instances come from
    ``bench_source`` (default: ``source``), tasks ``bench_tasks`` (default: every MedS-Bench
    task with a test split there).
    """
    from medsins_datasets.mixture.plan import plan_tasks
    from medsins_datasets.mixture.spec import MixtureSpec

    index = build_index(bench_source if bench_source is not None else source, bench_tasks, n=n,
                        threshold=threshold, max_gram_instances=max_gram_instances)
    if not isinstance(spec, MixtureSpec):
        return check_rows(spec, index)
    if spec.exclude_contaminated:  # the rows before any exclusion, and a plan that says so
        spec = MixtureSpec.from_dict({**spec.to_dict(), "exclude_contaminated": False})
    plan = plan_tasks(spec, source, cache_dir=cache_dir)
    flagged: dict[str, int] = {}
    total = 0
    for tp in progress_bar(plan.tasks, desc="scanning for overlap", unit=" tasks"):
        mask = scan_task(index, tp, only=tp.mult > 0)
        total += int((tp.mult > 0).sum())
        if mask.any():
            flagged[tp.task.config_name] = int(mask.sum())
    return report(index, total, flagged)


def scan_task(index: BenchIndex, tp, *, only: np.ndarray | None = None) -> np.ndarray:
    """Flag the rows of one planned task (a :class:`medsins_datasets.mixture.plan.TaskPlan`) that
    overlap the benchmark.

    ``only`` restricts the scan to rows where it is True. Returns a mask over the task's rows.
    """
    from medsins_datasets.mixture.spill import SPILL_BATCH, read_batch

    mask = np.zeros(tp.rows, dtype=bool)
    start = 0
    for f in tp.files:
        for bi in range(f.batches):
            lo = start + bi * SPILL_BATCH
            hi = min(lo + SPILL_BATCH, start + f.rows)
            sel = np.arange(hi - lo) if only is None else np.flatnonzero(only[lo:hi])
            if not sel.size:
                continue
            batch = read_batch(f, bi, sel)
            rows = list(zip(batch.column(1).to_pylist(), batch.column(2).to_pylist()))
            hits = index.scan(rows, tp.task.config_name)
            mask[lo + sel[hits]] = True
        start += f.rows
    return mask
