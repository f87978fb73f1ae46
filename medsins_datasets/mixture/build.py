"""The mixture's entry points: :func:`plan_mixture`, :func:`build_mixture`, :func:`mixture_counts`.

They are :func:`medsins_datasets.mixture.plan.plan_tasks` plus, when the spec asks for it
(``exclude_contaminated``), the removal of training rows that overlap MedS-Bench test instances.
That step lives here, not in ``plan.py``, because it needs :mod:`medsins_datasets.contamination`,
which itself plans mixtures with ``plan_tasks`` (``check_contamination``): with the exclusion here,
the imports go one way (this module -> contamination -> plan/spill) and there is no cycle.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from medsins_datasets.contamination import build_index, scan_task
from medsins_datasets.mixture.plan import MixturePlan, TaskPlan, plan_tasks
from medsins_datasets.mixture.spec import MixtureSpec
from medsins_datasets.prompts import PAPER_TEMPLATE, PromptTemplate
from medsins_datasets.sources.resolve import Source

logger = logging.getLogger(__name__)


def exclude_contaminated(spec: MixtureSpec, src: Source, plans: list[TaskPlan], keeps: list[np.ndarray]) -> None:
    """Clear, in each task's ``keep`` mask, the rows that overlap a MedS-Bench test instance (test
    splits read from ``spec.bench_source``, default the mixture's source) and count them on the
    task plans (``TaskPlan.contaminated``)."""
    index = build_index(spec.bench_source if spec.bench_source is not None else src,
                        n=spec.contamination_ngram, threshold=spec.contamination_threshold)
    for tp, keep in zip(plans, keeps):
        hit = scan_task(index, tp, only=keep)
        keep &= ~hit
        tp.contaminated = int(hit.sum())
        if tp.contaminated:
            logger.warning("mixture: %s: %d row(s) overlapping MedS-Bench test instances excluded",
                           tp.task.config_name, tp.contaminated)


def plan_mixture(spec: MixtureSpec, source, *, cache_dir: str | Path | None = None,
                 template: PromptTemplate = PAPER_TEMPLATE) -> MixturePlan:
    """Resolve ``spec`` against ``source``: read (and cache) the task files, dedup, exclude rows
    overlapping the benchmark (``spec.exclude_contaminated``), cap, weight.

    Errors in task files surface here, before any training starts.
    """
    return plan_tasks(spec, source, cache_dir=cache_dir, template=template,
                      exclude=exclude_contaminated if spec.exclude_contaminated else None)


def build_mixture(spec: MixtureSpec, source, *, cache_dir: str | Path | None = None,
                  template: PromptTemplate = PAPER_TEMPLATE):
    """The mixture as a streaming ``datasets.IterableDataset`` with ``prompt``/``completion``
    (chat turns, or strings when ``spec.plain``) or ``messages``, ``task`` and ``id`` columns.
    Planning happens here (see :func:`plan_mixture`)."""
    return plan_mixture(spec, source, cache_dir=cache_dir, template=template).dataset()


def mixture_counts(spec: MixtureSpec, source, *, cache_dir: str | Path | None = None) -> dict[str, int]:
    """Rows per task config that the mixture yields (for model cards)."""
    return plan_mixture(spec, source, cache_dir=cache_dir).counts
