"""Prompt rendering as the MedS-Ins paper describes it (section 4.2 and supplementary A.1).

Zero-shot::

    {DEFINITION}
    Input: {INPUT}

Few-shot (N cases from the task's *training* split)::

    Case1: Input: {CASE1_INPUT}, Output: {CASE1_OUTPUT}
    ...
    CaseN: Input: {CASEN_INPUT}, Output: {CASEN_OUTPUT}
    {DEFINITION}
    Please learn from the few-shot cases to see what content you have to output.
    Input: {INPUT}

The completion is the reference answer. Benchmark prompts are 3-shot except for
multiple-choice QA, which is zero-shot (section 2.3 of the paper).

Unlike the official evaluation code, shots are never taken from a test split, never include
the evaluated instance, and are chosen deterministically from a seed: a per-instance random
generator seeded by a stable hash of (seed, task, instance id), so the same instance gets the
same shots whatever the order, the ``limit`` or the process. When a prompt budget is given,
shots are dropped before the evaluated input is ever touched.
"""

from __future__ import annotations

import hashlib
import logging
import random
import string
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, Sequence

from .errors import SourceError
from .registry import Task, get_task

logger = logging.getLogger(__name__)

#: the sentence of the paper's few-shot template
FEW_SHOT_SENTENCE = "Please learn from the few-shot cases to see what content you have to output."

MCQA_CATEGORY = "Multiple-choice Question Answering"

#: the paper's benchmark setting: 3 shots, MCQA zero-shot
DEFAULT_BENCH_SHOTS = 3

#: MedS-Bench test-only task -> the training task whose train split supplies its shots
TRAIN_EQUIVALENT = {"task122": "task64", "task123": "task124", "task127": "task28"}

#: how many training instances are kept (reservoir-sampled) as the pool shots are drawn from
DEFAULT_POOL_SIZE = 1000


@dataclass(frozen=True)
class PromptTemplate:
    """The prompt layout. The default is the paper's; every part can be replaced.

    Placeholders: ``zero_shot`` takes ``{definition}`` and ``{input}``; ``case`` takes ``{n}``
    (1-based), ``{input}`` and ``{output}``; ``few_shot`` takes ``{cases}`` (the rendered
    cases joined by ``case_separator``), ``{definition}`` and ``{input}``.
    """

    zero_shot: str = "{definition}\nInput: {input}"
    case: str = "Case{n}: Input: {input}, Output: {output}"
    few_shot: str = "{cases}\n{definition}\n" + FEW_SHOT_SENTENCE + "\nInput: {input}"
    case_separator: str = "\n"

    def __post_init__(self) -> None:
        allowed = {
            "zero_shot": {"definition", "input"},
            "case": {"n", "input", "output"},
            "few_shot": {"cases", "definition", "input"},
        }
        for name, keys in allowed.items():
            text = getattr(self, name)
            try:
                used = {f for _, f, _, _ in string.Formatter().parse(text) if f is not None}
            except ValueError as e:
                raise ValueError(f"prompt template {name!r} is not a valid format string: {e}") from None
            bad = used - keys
            if bad:
                raise ValueError(
                    f"prompt template {name!r} uses unknown placeholder(s) {sorted(bad)}; allowed: {sorted(keys)}"
                )
            if "input" not in used and name != "case":
                raise ValueError(f"prompt template {name!r} must contain {{input}}")

    def render(self, definition: str, input: str, shots: Sequence[tuple[str, str]] = ()) -> str:
        if not shots:
            return self.zero_shot.format(definition=definition, input=input)
        cases = self.case_separator.join(
            self.case.format(n=i, input=si, output=so) for i, (si, so) in enumerate(shots, 1)
        )
        return self.few_shot.format(cases=cases, definition=definition, input=input)


PAPER_TEMPLATE = PromptTemplate()


def render_prompt(
    definition: str,
    input: str,
    shots: Sequence[tuple[str, str]] = (),
    *,
    template: PromptTemplate = PAPER_TEMPLATE,
    max_length: int | None = None,
    length_fn: Callable[[str], int] = len,
) -> str:
    """Render one prompt: zero-shot when ``shots`` is empty, else the paper's few-shot layout.

    ``shots`` are ``(input, output)`` pairs. With ``max_length``, shots are dropped from the
    last one until ``length_fn(prompt) <= max_length`` (``len`` counts characters; pass e.g.
    ``lambda s: len(tokenizer(s).input_ids)`` for a token budget). The definition and the
    evaluated input are never cut: if even the zero-shot prompt is too long it is returned whole.
    """
    return fit_prompt(definition, input, shots, template=template, max_length=max_length, length_fn=length_fn)[0]


def fit_prompt(
    definition: str,
    input: str,
    shots: Sequence[tuple[str, str]] = (),
    *,
    template: PromptTemplate = PAPER_TEMPLATE,
    max_length: int | None = None,
    length_fn: Callable[[str], int] = len,
) -> tuple[str, int]:
    """:func:`render_prompt`, also returning how many shots were kept."""
    prompt = template.render(definition, input, shots)
    if max_length is None or length_fn(prompt) <= max_length:
        return prompt, len(shots)
    for k in range(len(shots) - 1, -1, -1):
        prompt = template.render(definition, input, shots[:k])
        if length_fn(prompt) <= max_length:
            return prompt, k
    return prompt, 0


def to_messages(prompt: str, completion: str | None = None) -> list[dict[str, str]]:
    """Conversational form for chat-template models (TRL's conversational format)."""
    msgs = [{"role": "user", "content": prompt}]
    if completion is not None:
        msgs.append({"role": "assistant", "content": completion})
    return msgs


def _as_task(task: str | Task) -> Task:
    return task if isinstance(task, Task) else get_task(task)


def bench_num_shots(task: str | Task) -> int:
    """Shots the paper uses on MedS-Bench: 0 for multiple-choice QA, 3 otherwise."""
    t = _as_task(task)
    return 0 if t.bench_category == MCQA_CATEGORY else DEFAULT_BENCH_SHOTS


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
    from .examples import iter_rows

    for p in paths:
        yield from iter_rows(task, p, on_error=on_error)  # type: ignore[arg-type]


def build_shot_pool(task: Task, paths: Sequence, *, seed: int, size: int = DEFAULT_POOL_SIZE,
                    on_error: str = "raise") -> ShotPool:
    """A seeded sample of the training rows in ``paths`` (which must be train-split files)."""
    rows = ((r["id"], r["input"], r["output"]) for r in _iter_task_rows(task, paths, on_error))
    return ShotPool.sample(rows, size, f"{seed}\x1f{task.task_id}")


def _shot_source(task: Task, src, want_shots: int, seed: int, pool_size: int) -> ShotPool:
    """The pool for ``task``: its train split, or its training equivalent for test-only tasks."""
    if want_shots <= 0:
        return ShotPool([])
    donor = task
    if task.test_only:
        eq = TRAIN_EQUIVALENT.get(task.task_id)
        if eq is None:
            logger.warning("%s (%s) is test-only and has no training equivalent: zero-shot prompts",
                           task.config_name, task.task_id)
            return ShotPool([])
        donor = get_task(eq)
    try:
        files = src.task_files([donor])[donor.config_name]
    except SourceError as e:
        logger.warning("no training data for %s shots (%s): zero-shot prompts", task.config_name, e)
        return ShotPool([])
    train = files.splits.get("train") or []
    if not train:
        logger.warning("%s has no train split in %s: zero-shot prompts (shots are never taken from a "
                       "test split)", donor.config_name, src.describe())
        return ShotPool([])
    pool = build_shot_pool(donor, train, seed=seed, size=pool_size)
    if not len(pool):
        logger.warning("train split of %s is empty: zero-shot prompts", donor.config_name)
    return pool


def iter_task_prompts(
    task: str | Task,
    source,
    *,
    split: str = "test",
    shots: int = 0,
    seed: int = 0,
    limit: int | None = None,
    template: PromptTemplate = PAPER_TEMPLATE,
    max_length: int | None = None,
    length_fn: Callable[[str], int] = len,
    pool_size: int = DEFAULT_POOL_SIZE,
    on_error: str = "raise",
) -> Iterator[dict]:
    """Rendered prompts for the instances of one split of a task, in file order.

    Yields ``{"id", "task", "task_id", "prompt", "completion", "reference", "references",
    "num_shots"}``. Shots come from the task's train split only (never the instance itself),
    using the original definition of the instance's task file.
    """
    from .sources import resolve_source

    t = _as_task(task)
    src = resolve_source(source)
    files = src.task_files([t])[t.config_name]
    paths = files.splits.get(split) or []
    if not paths:
        have = ", ".join(s for s, p in files.splits.items() if p) or "none"
        raise SourceError(f"{src.describe()} has no {split} split for {t.config_name} ({t.task_id}); "
                          f"splits present: {have}")
    pool = _shot_source(t, src, shots, seed, pool_size)
    n = 0
    for row in _iter_task_rows(t, paths, on_error):
        if limit is not None and n >= limit:
            return
        rng = random.Random(stable_seed("shots", seed, t.task_id, row["id"]))
        cases = pool.draw(shots, rng, exclude_id=row["id"], exclude_input=row["input"]) if shots else []
        prompt, kept = fit_prompt(row["definition"], row["input"], cases, template=template,
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
    template: PromptTemplate = PAPER_TEMPLATE,
    max_length: int | None = None,
    length_fn: Callable[[str], int] = len,
    pool_size: int = DEFAULT_POOL_SIZE,
) -> Iterator[dict]:
    """MedS-Bench prompts for one task's TEST split, in file order.

    ``shots`` defaults to :func:`bench_num_shots` (3, or 0 for MCQA). Shots are drawn from the
    task's train split only (test-only tasks borrow the train split of their training
    equivalent: task122 -> task64, task123 -> task124, task127 -> task28; without it the
    prompts are zero-shot and a warning is logged). Yields ``{"id", "task", "task_id",
    "prompt", "reference", "references", "completion", "num_shots"}``.
    """
    t = _as_task(task)
    k = bench_num_shots(t) if shots is None else shots
    if k < 0:
        raise ValueError(f"shots must be >= 0, got {k}")
    yield from iter_task_prompts(t, source, split="test", shots=k, seed=seed, limit=limit, template=template,
                                 max_length=max_length, length_fn=length_fn, pool_size=pool_size)
