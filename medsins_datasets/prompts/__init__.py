"""Prompt rendering: the official MedS-Bench protocol (the default) and the paper's prose template.

**Official layout** (what the official evaluation code ``Evaluation/EvalDataset.py`` builds and
what the official example outputs record, byte for byte): two chat messages,

* system: the shots, each ``"Input:\n" + input + "\n\nOutput:\n" + output + "\n"``, joined
  with ``"\n\n"``, then ``"\n\n"``, then the definition immediately followed (no space) by
  :data:`OFFICIAL_SENTENCE` (spelled "ouput", as in every recorded official prompt);
* user: ``"Input:\n" + input + "\nOutput:\n"``;

each stripped (the official Llama 3 formatter strips message contents). Zero-shot, the system
message is the definition alone and the user message the bare input. A model without a chat
template gets ``system + "\n" + user`` before stripping (the official ``default_build_inputs``;
see :func:`render_plain`). :func:`render_messages` gives the messages for any shots.

**Paper layout** (the prose of the paper, section 4.2 and supplementary A.1), one user turn::

    Case1: Input: {CASE1_INPUT}, Output: {CASE1_OUTPUT}
    ...
    {DEFINITION}
    Please learn from the few-shot cases to see what content you have to output.
    Input: {INPUT}

A :class:`Protocol` names everything that decides a benchmark prompt and its decoding: the
layout, the shot counts (official: 3 everywhere; paper: 3, MCQA zero-shot), where shots come
from, the output budget and the prompt truncation. ``docs/protocols.md`` lists every
difference between the protocols and its effect.

Shots are chosen deterministically from a seed: a per-instance random generator seeded by a
stable hash of (seed, task, instance id), so the same instance gets the same shots whatever
the order, the ``limit`` or the process, and never include the evaluated instance (same id or
same input text). The official code drew them with an unseeded ``random.sample`` from the
evaluated file and did not exclude the instance (5 of its 300 recorded prompts contain it).
"""

from __future__ import annotations

import hashlib
import logging
import random
import string
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, Sequence

from medsins_datasets.errors import SourceError
from medsins_datasets.registry.tasks import Task, get_task

logger = logging.getLogger(__name__)

#: the sentence of the paper's few-shot template
FEW_SHOT_SENTENCE = "Please learn from the few-shot cases to see what content you have to output."
#: the same sentence as every official recorded prompt spells it ("ouput", sic)
OFFICIAL_SENTENCE = "Please learn from the few-shot cases to see what content you have to ouput."

MCQA_CATEGORY = "Multiple-choice Question Answering"

#: shots per benchmark prompt (both protocols; the paper protocol makes MCQA zero-shot)
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


def official_parts(definition: str, input: str, shots: Sequence[tuple[str, str]] = (), *,
                   sentence: str = OFFICIAL_SENTENCE) -> tuple[str, str]:
    """``(instruction, query)`` of the official layout, before any stripping."""
    if not shots:
        return definition, input
    cases = "\n\n".join("Input:\n" + si + "\n\nOutput:\n" + so + "\n" for si, so in shots)
    return cases + "\n\n" + definition + sentence, "Input:\n" + input + "\nOutput:\n"


def render_messages(definition: str, input: str, shots: Sequence[tuple[str, str]] = (), *,
                    sentence: str = OFFICIAL_SENTENCE) -> list[dict[str, str]]:
    """The official MedS-Bench prompt as ``[{"role": "system", ...}, {"role": "user", ...}]``.

    ``shots`` are ``(input, output)`` pairs; with none, the system message is the definition
    and the user message the input (the official zero-shot form).
    """
    instruction, query = official_parts(definition, input, shots, sentence=sentence)
    return [{"role": "system", "content": instruction.strip()}, {"role": "user", "content": query.strip()}]


def render_plain(definition: str, input: str, shots: Sequence[tuple[str, str]] = (), *,
                 sentence: str = OFFICIAL_SENTENCE) -> str:
    """The official prompt for a model without a chat template (``default_build_inputs``:
    instruction, a newline, the query; the tokenizer adds the BOS token)."""
    instruction, query = official_parts(definition, input, shots, sentence=sentence)
    return (instruction + "\n" if instruction else "") + query


@dataclass(frozen=True)
class ChatPrompt:
    """A prompt in the official layout: ``messages`` for chat-template models and chat APIs,
    ``text`` (:func:`render_plain`) for models without a chat template."""

    messages: tuple[tuple[str, str], ...]  # (role, content), hashable
    text: str

    @classmethod
    def official(cls, definition: str, input: str, shots: Sequence[tuple[str, str]] = (), *,
                 sentence: str = OFFICIAL_SENTENCE) -> "ChatPrompt":
        msgs = render_messages(definition, input, shots, sentence=sentence)
        return cls(tuple((m["role"], m["content"]) for m in msgs),
                   render_plain(definition, input, shots, sentence=sentence))

    def as_messages(self) -> list[dict[str, str]]:
        return [{"role": r, "content": c} for r, c in self.messages]

    def __len__(self) -> int:  # prompt length in characters, for sorting and budgets
        return len(self.text)


@dataclass(frozen=True)
class Protocol:
    """Everything that decides a benchmark prompt and its decoding (see docs/protocols.md).

    ``shots``/``mcqa_shots``: cases per prompt; ``shots_from_test``: when the task has no train
    split in the source, draw shots from the evaluated file itself (the evaluated instance
    excluded) instead of going zero-shot; ``train_equivalents``: test-only tasks borrow the
    train split of their training equivalent (:data:`TRAIN_EQUIVALENT`); ``max_new_tokens``:
    one output budget for every task (None: the per-category budgets of ``bench``);
    ``max_prompt_tokens``: prompts are cut to their first N tokens, as the official code's
    ``tokenizer(..., max_length=2048, truncation=True)`` does.
    """

    name: str
    layout: str  # "official" (system + user messages) | "paper" (one user turn, paper prose)
    shots: int = DEFAULT_BENCH_SHOTS
    mcqa_shots: int = DEFAULT_BENCH_SHOTS
    shots_from_test: bool = True
    train_equivalents: bool = False
    max_new_tokens: int | None = 200
    max_prompt_tokens: int | None = 2048
    sentence: str = OFFICIAL_SENTENCE

    def num_shots(self, task: "str | Task") -> int:
        return self.mcqa_shots if _as_task(task).bench_category == MCQA_CATEGORY else self.shots

    def render(self, definition: str, input: str, shots: Sequence[tuple[str, str]], *,
               template: "PromptTemplate | None" = None, max_length: int | None = None,
               length_fn: Callable[[str], int] = len) -> "tuple[str | ChatPrompt, int]":
        """The prompt and the number of shots kept (``max_length``: shots are dropped to fit)."""
        if self.layout == "paper":
            return fit_prompt(definition, input, shots, template=template or PAPER_TEMPLATE,
                              max_length=max_length, length_fn=length_fn)
        k = len(shots)
        while True:
            prompt = ChatPrompt.official(definition, input, shots[:k], sentence=self.sentence)
            if max_length is None or k == 0 or length_fn(prompt.text) <= max_length:
                return prompt, k
            k -= 1

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "layout": self.layout, "shots": self.shots, "mcqa_shots": self.mcqa_shots,
                "shots_from_test": self.shots_from_test, "train_equivalents": self.train_equivalents,
                "max_new_tokens": self.max_new_tokens, "max_prompt_tokens": self.max_prompt_tokens,
                "sentence": self.sentence}


#: the named protocols; ``official`` is the default of ``medsins bench`` and ``render --bench``
PROTOCOLS: dict[str, Protocol] = {
    # the official evaluation code and its recorded prompts
    "official": Protocol("official", "official"),
    # the official layout with the official code's slips fixed: "output" spelled right, and
    # no right-side truncation (which cuts the evaluated input and the assistant header off)
    "clean": Protocol("clean", "official", max_prompt_tokens=None, sentence=FEW_SHOT_SENTENCE),
    # the paper's prose: its template, MCQA zero-shot, shots from training data only,
    # an output budget per category
    "paper": Protocol("paper", "paper", mcqa_shots=0, shots_from_test=False, train_equivalents=True,
                      max_new_tokens=None, max_prompt_tokens=None, sentence=FEW_SHOT_SENTENCE),
}
DEFAULT_PROTOCOL = "official"


def get_protocol(protocol: "str | Protocol | None") -> Protocol:
    if isinstance(protocol, Protocol):
        return protocol
    name = protocol or DEFAULT_PROTOCOL
    try:
        return PROTOCOLS[name]
    except KeyError:
        raise SourceError(f"unknown prompt protocol {name!r}; one of: {', '.join(PROTOCOLS)}") from None


def to_messages(prompt: str, completion: str | None = None) -> list[dict[str, str]]:
    """Conversational form for chat-template models (TRL's conversational format)."""
    msgs = [{"role": "user", "content": prompt}]
    if completion is not None:
        msgs.append({"role": "assistant", "content": completion})
    return msgs


def _as_task(task: str | Task) -> Task:
    return task if isinstance(task, Task) else get_task(task)


def bench_num_shots(task: str | Task, protocol: "str | Protocol | None" = None) -> int:
    """Shots of a benchmark prompt under ``protocol`` (default official: 3 everywhere; the
    paper's text: 0 for multiple-choice QA, 3 otherwise)."""
    return get_protocol(protocol).num_shots(task)


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
    it, the training equivalent of a test-only task."""
    if task.test_only and protocol.train_equivalents and task.task_id in TRAIN_EQUIVALENT:
        return get_task(TRAIN_EQUIVALENT[task.task_id])
    return task


RowsOf = Callable[[], "Iterable[tuple[str, str, str]] | None"]


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
