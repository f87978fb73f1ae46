"""A :class:`Protocol` names everything that decides a benchmark prompt and its decoding: the
layout, the shot counts (official: 3 everywhere; paper: 3, MCQA zero-shot), where shots come
from, the output budget and the prompt truncation. ``docs/protocols.md`` lists every
difference between the protocols and its effect.
"""


from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Callable, Sequence

from medsins_datasets.errors import SourceError
from medsins_datasets.prompts.render import (
    FEW_SHOT_SENTENCE,
    OFFICIAL_SENTENCE,
    PAPER_TEMPLATE,
    ChatPrompt,
    PromptTemplate,
    fit_prompt,
)
from medsins_datasets.registry.benchmark import benchmark_settings
from medsins_datasets.registry.tasks import Task, get_task

#: shots per benchmark prompt (both protocols; the paper protocol makes MCQA zero-shot), from
#: ``defaults.shots`` of ``data/benchmark.yaml``
DEFAULT_BENCH_SHOTS: int = benchmark_settings().defaults.shots


#: MedS-Bench test-only task -> the training task whose train split supplies its shots
#: (``tasks.<id>.shot_donor`` of ``data/benchmark.yaml``)
TRAIN_EQUIVALENT: Mapping[str, str] = MappingProxyType(dict(benchmark_settings().shot_donors))


@dataclass(frozen=True)
class Protocol:
    """Everything that decides a benchmark prompt and its decoding (see docs/protocols.md).

    ``shots``/``mcqa_shots``: cases per prompt; ``shots_from_test``: when the task has no train
    split in the source, draw shots from the evaluated file itself (the evaluated instance
    excluded) instead of going zero-shot; ``train_equivalents``: test-only tasks borrow the
    train split of their training equivalent (:data:`TRAIN_EQUIVALENT`); ``max_new_tokens``:
    one output budget for every task (None: the per-category budgets of ``data/benchmark.yaml``);
    ``max_prompt_tokens``: prompts are cut to their first N tokens, as the official code's
    ``tokenizer(..., max_length=2048, truncation=True)`` does.
    """

    name: str
    layout: str  # "official" (system + user messages) | "paper" (one user turn, paper prose)
    shots: int = DEFAULT_BENCH_SHOTS
    mcqa_shots: int = DEFAULT_BENCH_SHOTS
    shots_from_test: bool = True
    train_equivalents: bool = False
    max_new_tokens: int | None = benchmark_settings().defaults.official_max_new_tokens
    max_prompt_tokens: int | None = 2048
    sentence: str = OFFICIAL_SENTENCE

    def num_shots(self, task: "str | Task") -> int:
        # mcqa_shots: the tasks the paper runs zero-shot (``paper_zero_shot`` in data/benchmark.yaml)
        return self.mcqa_shots if benchmark_settings().zero_shot_in_paper(_as_task(task).task_id) else self.shots

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


def _as_task(task: str | Task) -> Task:
    return task if isinstance(task, Task) else get_task(task)


def bench_num_shots(task: str | Task, protocol: "str | Protocol | None" = None) -> int:
    """Shots of a benchmark prompt under ``protocol`` (default official: 3 everywhere; the
    paper's text: 0 for multiple-choice QA, 3 otherwise)."""
    return get_protocol(protocol).num_shots(task)
