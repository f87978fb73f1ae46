"""Planning a mixture (which rows, how often) and iterating it.

1. **Planning** (:func:`plan_tasks`) caches each selected task file as Arrow
   (:mod:`medsins_datasets.mixture.spill`), gathers only the 8-byte row digests to deduplicate,
   and keeps a per-row multiplicity array (4 bytes per row) recording how often each row appears
   (0 = dropped by dedup, cap or down-sampling; >1 = up-sampled by the temperature).
2. **Iterating** (:meth:`MixturePlan.iter_examples`) interleaves the tasks: task labels are drawn
   block-wise from a multivariate hypergeometric distribution over the remaining per-task quotas
   (an exactly uniform interleaving), and each task streams its rows batch by batch, batches in a
   seeded random order and rows shuffled within a batch. Only the current batch of each task is
   in memory.

This module knows nothing of the benchmark: dropping rows that overlap MedS-Bench test instances is
the ``exclude`` step that :func:`medsins_datasets.mixture.build.plan_mixture` passes in (so that
:mod:`medsins_datasets.contamination` can plan a mixture here without an import cycle).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from medsins_datasets._files import default_cache_dir
from medsins_datasets.errors import CredentialedDataError, MedsinsError, SourceError
from medsins_datasets.mixture.rows import (
    PLAIN_SEPARATOR,
    MixtureExample,
    fit_shots,
    render_training_row,
    row_features,
)
from medsins_datasets.mixture.spec import MixtureSpec
from medsins_datasets.mixture.spill import (
    SPILL_BATCH,
    FileSpill,
    read_batch,
    read_digests,
    spill_file,
)
from medsins_datasets.progress import bar as progress_bar
from medsins_datasets.prompts import (
    OFFICIAL_SENTENCE,
    PAPER_TEMPLATE,
    PromptTemplate,
    ShotPool,
    stable_seed,
)
from medsins_datasets.registry.tasks import Task, get_task, select_tasks
from medsins_datasets.sources.resolve import SPLITS, Source, TaskFiles, resolve_source
from medsins_datasets.taskfile.definitions import (
    DefinitionChooser,
    load_definitions,
    merge_rewrites,
)

logger = logging.getLogger(__name__)

#: task labels drawn per interleaving block
INTERLEAVE_BLOCK = 4096

@dataclass
class TaskPlan:
    """One task's part of a mixture."""

    task: Task
    files: list[FileSpill]
    rows: int  # rows in the selected files
    unique: int  # after dedup (and contamination exclusion)
    available: int  # after the per-task cap
    quota: int = 0  # rows this task contributes
    contaminated: int = 0  # rows dropped for overlapping the benchmark
    mult: np.ndarray = field(default_factory=lambda: np.zeros(0, np.uint32), repr=False)
    keep: np.ndarray = field(default_factory=lambda: np.zeros(0, bool), repr=False)  # survived dedup
    rewrites: list[str] = field(default_factory=list, repr=False)

    def summary(self) -> dict:
        return {"task_id": self.task.task_id, "rows": self.rows, "unique": self.unique,
                "available": self.available, "quota": self.quota, "contaminated": self.contaminated}


def _largest_remainder(raw: np.ndarray, total: int) -> np.ndarray:
    base = np.floor(raw).astype(np.int64)
    short = int(total - base.sum())
    if short > 0:
        frac = raw - base
        order = np.lexsort((np.arange(len(raw)), -frac))  # ties: task order
        base[order[:short]] += 1
    return base


def _select_tasks(spec: MixtureSpec, src: Source) -> list[tuple[Task, TaskFiles]]:
    explicit = spec.tasks is not None
    if explicit:
        named = select_tasks(spec.tasks)  # raises UnknownTaskError for unknown names
    wanted = select_tasks(
        spec.tasks, category=spec.categories, domain=spec.domains, language=spec.languages, access=spec.access,
        include_test_only=explicit or "test" in spec.splits,
    )
    if not spec.allows_credentialed:
        wanted = [t for t in wanted if not t.is_credentialed]
    if spec.exclude_tasks:
        drop = {get_task(n).task_id for n in spec.exclude_tasks}
        wanted = [t for t in wanted if t.task_id not in drop]
    if explicit:
        kept = {t.task_id for t in wanted}
        blocked = [t for t in named if t.task_id not in kept and (
            (spec.access is not None and t.access.lower() not in {a.lower() for a in spec.access})
            or (t.is_credentialed and not spec.allows_credentialed))]
        if blocked:
            err = CredentialedDataError if any(t.is_credentialed for t in blocked) else MedsinsError
            raise err(
                "task(s) " + ", ".join(f"{t.config_name} (access {t.access})" for t in blocked)
                + f" are excluded by access={spec.access}; add their access level to 'access' to include them"
            )
    if not wanted:
        raise MedsinsError(f"the mixture selects no task (filters: {spec.describe_filters()})")
    if explicit:
        found = src.task_files(wanted)
    else:
        try:
            found = src.task_files(wanted)
        except SourceError:
            available = src.splits()  # a listing: unselected tasks are never read or downloaded
            missing = [t.config_name for t in wanted if t.config_name not in available]
            logger.info("mixture: %s has no files for %d selected task(s): %s", src.describe(), len(missing),
                        ", ".join(missing))
            present = [t for t in wanted if t.config_name in available]
            found = src.task_files(present) if present else {}
    out = []
    for t in wanted:
        tf = found.get(t.config_name)
        if tf is None:
            continue
        if not any(tf.splits.get(s) for s in spec.splits):
            if explicit:
                have = ", ".join(s for s, p in tf.splits.items() if p) or "none"
                raise SourceError(f"{src.describe()} has no {'/'.join(spec.splits)} split for {t.config_name} "
                                  f"({t.task_id}); splits present: {have}")
            continue
        out.append((t, tf))
    if not out:
        raise MedsinsError(f"the mixture selects no task with data in {src.describe()} "
                           f"(filters: {spec.describe_filters()})")
    return out


@dataclass
class MixturePlan:
    """The resolved mixture: per-task quotas and row multiplicities. Iterate with :meth:`iter_rows`."""

    spec: MixtureSpec
    tasks: list[TaskPlan]
    template: PromptTemplate = PAPER_TEMPLATE

    @property
    def counts(self) -> dict[str, int]:
        return {tp.task.config_name: tp.quota for tp in self.tasks}

    @property
    def num_rows(self) -> int:
        return sum(tp.quota for tp in self.tasks)

    @property
    def credentialed(self) -> bool:
        return any(tp.task.is_credentialed or any(f.credentialed for f in tp.files) for tp in self.tasks)

    def fingerprint(self) -> str:
        """Identifies the mixture's content: spec (with its layout and row form), template, task file
        versions, medsins version."""
        from medsins_datasets import __version__

        files = [Path(f.arrow).name for tp in self.tasks for f in tp.files]
        layout = [self.spec.layout, self.spec.plain, OFFICIAL_SENTENCE, PLAIN_SEPARATOR]
        data = json.dumps([__version__, self.spec.to_dict(), dataclasses.asdict(self.template), files, layout],
                          sort_keys=True, ensure_ascii=False)
        return f"{stable_seed(data):016x}"

    def summary(self) -> dict:
        return {"spec": self.spec.to_dict(), "num_rows": self.num_rows,
                "tasks": {tp.task.config_name: tp.summary() for tp in self.tasks}}

    def features(self):
        """The rows' ``datasets.Features`` (:func:`~medsins_datasets.mixture.rows.row_features`)."""
        return row_features(self.spec.format, self.spec.plain)

    # -- iteration -------------------------------------------------------------------------

    def _task_rows(self, tp: TaskPlan) -> Iterator[tuple[int, str, str, str]]:
        """(file index, id, input, output) of one task in its mixture order."""
        rng = np.random.default_rng(stable_seed("order", self.spec.seed, tp.task.task_id))
        batches = [(fi, bi) for fi, f in enumerate(tp.files) for bi in range(f.batches)]
        starts = np.cumsum([0] + [f.rows for f in tp.files])
        passes = int(tp.mult.max()) if tp.mult.size else 0
        for p in range(passes):
            for b in rng.permutation(len(batches)).tolist():
                fi, bi = batches[b]
                lo = int(starts[fi]) + bi * SPILL_BATCH
                hi = min(lo + SPILL_BATCH, int(starts[fi + 1]))
                sel = np.flatnonzero(tp.mult[lo:hi] > p)
                if not sel.size:
                    continue
                rng.shuffle(sel)
                batch = read_batch(tp.files[fi], bi, sel)
                ids = batch.column(0).to_pylist()
                inputs = batch.column(1).to_pylist()
                outputs = batch.column(2).to_pylist()
                for j in range(len(ids)):
                    yield fi, ids[j], inputs[j], outputs[j]

    def _shot_pool(self, tp: TaskPlan) -> ShotPool:
        """A seeded sample of the task's train-split rows (after dedup)."""
        spec = self.spec
        rng = np.random.default_rng(stable_seed("pool", spec.seed, tp.task.task_id))
        starts = np.cumsum([0] + [f.rows for f in tp.files])
        items: list[tuple[str, str, str]] = []
        cands = []
        for fi, f in enumerate(tp.files):
            if f.split == "train":
                cands.append(np.arange(int(starts[fi]), int(starts[fi + 1]), dtype=np.int64))
        if not cands:
            return ShotPool([])
        idx = np.concatenate(cands)
        idx = idx[tp.keep[idx]]  # only rows that survived dedup
        if idx.size > spec.shot_pool_size:
            idx = np.sort(rng.choice(idx, spec.shot_pool_size, replace=False))
        for fi, f in enumerate(tp.files):
            local = idx[(idx >= starts[fi]) & (idx < starts[fi + 1])] - starts[fi]
            for bi in np.unique(local // SPILL_BATCH).tolist():
                rows = local[(local // SPILL_BATCH) == bi] - bi * SPILL_BATCH
                batch = read_batch(f, bi, rows)
                items.extend(zip(batch.column(0).to_pylist(), batch.column(1).to_pylist(),
                                 batch.column(2).to_pylist()))
        return ShotPool(items)

    def iter_examples(self) -> Iterator[MixtureExample]:
        """What each row of :meth:`iter_rows` is rendered from, in the same order: the task, the
        instance, the (original or rewritten) definition and the shots kept in the prompt."""
        spec = self.spec
        active = [tp for tp in self.tasks if tp.quota > 0]
        streams = [self._task_rows(tp) for tp in active]
        rngs = [random.Random(stable_seed("render", spec.seed, tp.task.task_id)) for tp in active]
        choosers = [[DefinitionChooser(f.definition, merge_rewrites(f.rewrites, tp.rewrites, exclude=f.definition),
                                       spec.rewrite_prob) for f in tp.files] for tp in active]
        pools: list[ShotPool | None] = [None] * len(active)
        names = [tp.task.config_name for tp in active]
        few = spec.few_shot_ratio
        remaining = np.array([tp.quota for tp in active], dtype=np.int64)
        order_rng = np.random.default_rng(stable_seed("interleave", spec.seed))
        while True:
            left = int(remaining.sum())
            if not left:
                return
            counts = order_rng.multivariate_hypergeometric(remaining, min(INTERLEAVE_BLOCK, left))
            remaining -= counts
            labels = np.repeat(np.arange(len(active)), counts)
            order_rng.shuffle(labels)
            for t in labels.tolist():
                fi, iid, inp, out = next(streams[t])
                rng = rngs[t]
                definition = choosers[t][fi].choose(rng)
                shots: list[tuple[str, str]] = []
                if few and rng.random() < few:
                    pool = pools[t]
                    if pool is None:
                        pool = pools[t] = self._shot_pool(active[t])
                    shots = pool.draw(rng.randint(1, spec.max_shots), rng, exclude_id=iid, exclude_input=inp)
                shots = fit_shots(definition, inp, shots, layout=spec.layout, template=self.template,
                                  max_chars=spec.max_prompt_chars)
                yield MixtureExample(names[t], iid, definition, inp, tuple(shots), out)

    def iter_rows(self) -> Iterator[dict]:
        """The mixture's rows, rendered (:func:`render_training_row`), in order (the generator
        behind :meth:`dataset`)."""
        spec = self.spec
        for ex in self.iter_examples():
            row = render_training_row(ex.definition, ex.input, ex.output, ex.shots, layout=spec.layout,
                                      plain=spec.plain, format=spec.format, template=self.template)
            row["task"], row["id"] = ex.task, ex.id
            yield row

    def dataset(self):
        """The mixture as a streaming ``datasets.IterableDataset`` (one shard)."""
        import datasets

        return datasets.IterableDataset.from_generator(_generate, features=self.features(),
                                                       gen_kwargs={"plan": self})


def _generate(plan: MixturePlan) -> Iterator[dict]:
    yield from plan.iter_rows()


#: ``exclude(spec, source, task_plans, keeps)``: clears, in each task's ``keep`` mask, the rows to
#: leave out of the mixture (after dedup, before the caps), and records them on the task plans
Exclude = Callable[[MixtureSpec, Source, list[TaskPlan], list[np.ndarray]], None]


def plan_tasks(spec: MixtureSpec, source, *, cache_dir: str | Path | None = None,
               template: PromptTemplate = PAPER_TEMPLATE, exclude: Exclude | None = None) -> MixturePlan:
    """Resolve ``spec`` against ``source``: read (and cache) the task files, dedup, cap, weight.

    Errors in task files surface here, before any training starts. ``spec.exclude_contaminated``
    is not looked at here: rows are left out only by ``exclude`` (after dedup, before the caps);
    :func:`medsins_datasets.mixture.plan_mixture` passes the benchmark-contamination exclusion.
    """
    src = resolve_source(source)
    selected = _select_tasks(spec, src)
    cache = Path(cache_dir) if cache_dir else default_cache_dir() / "mixture"
    on_error = "skip" if spec.skip_invalid else "raise"
    defs = load_definitions(spec.definitions_file) if spec.definitions_file else None
    plans: list[TaskPlan] = []
    for task, tf in progress_bar(selected, desc="reading task files", unit=" tasks"):
        spills = [spill_file(task, Path(p), s, cache, on_error)
                  for s in SPLITS if s in spec.splits for p in tf.splits.get(s, [])]
        cred = [f.source for f in spills if f.credentialed]
        if cred and not spec.allows_credentialed:
            raise CredentialedDataError(
                f"{task.config_name}: task file(s) {', '.join(cred)} are marked credentialed but the mixture's "
                f"access={spec.access}; add 'credentialed' to access to include them"
            )
        rows = sum(f.rows for f in spills)
        plans.append(TaskPlan(task, spills, rows, rows, rows,
                              rewrites=defs.rewrites(task.task_id) if defs is not None else []))
    # dedup: first occurrence in (task, split, file, row) order
    keeps: list[np.ndarray] = []
    if spec.dedup:
        parts = [read_digests(f) for tp in plans for f in tp.files]
        digests = np.concatenate(parts) if parts else np.zeros(0, np.uint64)
        del parts
        keep_all = np.zeros(digests.size, dtype=bool)
        keep_all[np.unique(digests, return_index=True)[1]] = True
        del digests
        pos = 0
        for tp in plans:
            keeps.append(keep_all[pos:pos + tp.rows])
            pos += tp.rows
        dup = int(keep_all.size - keep_all.sum())
        if dup:
            logger.info("mixture: %d duplicate (definition, input, output) rows dropped", dup)
    else:
        keeps = [np.ones(tp.rows, dtype=bool) for tp in plans]
    if exclude is not None:
        exclude(spec, src, plans, keeps)
    # cap
    selected_idx: list[np.ndarray] = []
    for tp, keep in zip(plans, keeps):
        idx = np.flatnonzero(keep)
        tp.unique = int(idx.size)
        if spec.max_per_task is not None and idx.size > spec.max_per_task:
            rng = np.random.default_rng(stable_seed("cap", spec.seed, tp.task.task_id))
            idx = np.sort(rng.choice(idx, spec.max_per_task, replace=False))
        tp.available = int(idx.size)
        tp.keep = keep
        selected_idx.append(idx)
    sizes = np.array([tp.available for tp in plans], dtype=np.float64)
    if not sizes.sum():
        raise MedsinsError(f"the mixture yields no rows: the selected tasks "
                           f"({', '.join(tp.task.config_name for tp in plans)}) have no instances in "
                           f"{src.describe()} (filters: {spec.describe_filters()})")
    weights = np.where(sizes > 0, sizes ** (1.0 / spec.temperature), 0.0)
    total = spec.num_rows if spec.num_rows is not None else int(sizes.sum())
    quotas = _largest_remainder(total * weights / weights.sum(), total)
    if spec.max_epochs_per_task is not None:
        quotas = np.minimum(quotas, np.floor(sizes * spec.max_epochs_per_task).astype(np.int64))
    for tp, idx, q in zip(plans, selected_idx, quotas.tolist()):
        tp.quota = int(q)
        mult = np.zeros(tp.rows, dtype=np.uint32)
        m = idx.size
        if m and q:
            base, rem = divmod(int(q), m)
            mult[idx] = base
            if rem:
                rng = np.random.default_rng(stable_seed("quota", spec.seed, tp.task.task_id))
                mult[idx[rng.choice(m, rem, replace=False)]] += 1
        tp.mult = mult
    return MixturePlan(spec, plans, template)

