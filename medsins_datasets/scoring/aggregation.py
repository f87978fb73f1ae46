"""Batch scoring: the per-sample rules over a whole input, then per-task, group, category and
table scores with bootstrap intervals. :func:`score` is the entry point of the ``meds_bench``
metric, ``medsins score`` and the benchmark runner.

* :func:`collect` checks the inputs (:func:`.inputs.prepare_inputs`), applies each task's rule
  (:mod:`.rules`) to its samples and gathers a :class:`~.corpus.TaskStats` per task; BLEU/ROUGE
  pairs are scored together at the end (:func:`.similarity.run_text_jobs`, optionally in worker
  processes);
* :func:`aggregate` turns the statistics into the task scores (:mod:`.corpus`), their intervals
  (:mod:`.bootstrap`), the CT/MRI groups, the category means and the paper tables (:mod:`.tables`).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from typing import Any

from medsins_datasets.registry.benchmark import BENCH_CATEGORIES, METRICS
from medsins_datasets.scoring.bootstrap import (
    DEFAULT_BOOTSTRAP,
    DEFAULT_BOOTSTRAP_SEED,
    DEFAULT_CONFIDENCE,
    bootstrap_ci,
    check_options,
)
from medsins_datasets.scoring.corpus import TaskStats, group_stats, point_scores
from medsins_datasets.scoring.inputs import prepare_inputs
from medsins_datasets.scoring.rules import (
    ACCURACY_FUNCS,
    HOC,
    MCQA,
    MCQA_YN,
    NER,
    TEXT_PLAIN,
    hoc_labels,
    mcqa_correct,
    ner_counts,
    rule_of,
    task_language,
    text_pair,
)
from medsins_datasets.scoring.similarity import (
    DEFAULT_MAX_PREDICTION_CHARS,
    run_text_jobs,
)
from medsins_datasets.scoring.tables import GROUPS, table_cells
from medsins_datasets.scoring.text_tokenizers import version_mismatches


def collect(
    predictions: Sequence[Any],
    references: Sequence[Any],
    tasks: Sequence[Any] | str,
    *,
    strict: bool = True,
    max_prediction_chars: int | None = DEFAULT_MAX_PREDICTION_CHARS,
    num_proc: int = 1,
    categories: Iterable[str] | None = None,
) -> dict[str, TaskStats]:
    """Apply the per-sample rules; return :class:`TaskStats` per task id (sorted by task number)."""
    preds, gold, task_list = prepare_inputs(predictions, references, tasks, categories=categories)

    by_task: dict[str, list[int]] = {}
    for i, t in enumerate(task_list):
        by_task.setdefault(t.task_id, []).append(i)
    tasks_by_id = {t.task_id: t for t in task_list}

    stats: dict[str, TaskStats] = {}
    text_jobs: list[tuple[str, int, str, str, str]] = []  # (task_id, position, pred, ref, lang)
    for tid in sorted(by_task, key=lambda k: tasks_by_id[k].number):
        t = tasks_by_id[tid]
        rule = rule_of(t)
        st = TaskStats(task=t, rule=rule)
        stats[tid] = st
        idx = by_task[tid]
        if rule in (MCQA, MCQA_YN):
            yn = rule == MCQA_YN
            st.values["accuracy"] = [float(mcqa_correct(preds[i], gold[i], yes_no=yn, strict=strict)) for i in idx]
        elif rule in ACCURACY_FUNCS:
            fn = ACCURACY_FUNCS[rule]
            st.values["accuracy"] = [float(fn(preds[i], gold[i], strict=strict)) for i in idx]
        elif rule == NER:
            for i in idx:
                c = ner_counts(preds[i], gold[i], strict=strict)
                if c is None:
                    st.skipped += 1
                else:
                    st.counts.append(c)
        elif rule == HOC:
            st.labels = [(hoc_labels(gold[i]), hoc_labels(preds[i])) for i in idx]
        else:
            lang = task_language(t)
            st.values["bleu1"], st.values["rougeL"] = [], []
            for i in idx:
                pred = preds[i]
                if max_prediction_chars is not None and isinstance(pred, str) and len(pred) > max_prediction_chars:
                    pred = pred[:max_prediction_chars]
                    st.truncated += 1
                pair = text_pair(rule, pred, gold[i])
                if pair == "skip":
                    st.skipped += 1
                    continue
                pos = len(st.values["bleu1"])
                st.values["bleu1"].append(0.0)
                st.values["rougeL"].append(0.0)
                if pair != "zero":
                    text_jobs.append((tid, pos, pair[0], pair[1], lang))
            if st.truncated:
                warnings.warn(
                    f"{t.config_name}: {st.truncated} prediction(s) longer than {max_prediction_chars} characters "
                    "were cut to that length before BLEU/ROUGE", stacklevel=3,
                )
    if text_jobs:
        results = run_text_jobs([(p, r, lang) for _, _, p, r, lang in text_jobs], num_proc=num_proc)
        for (tid, pos, *_), (b, r) in zip(text_jobs, results):
            stats[tid].values["bleu1"][pos] = b
            stats[tid].values["rougeL"][pos] = r
    return stats


def aggregate(
    stats: dict[str, TaskStats],
    *,
    bootstrap: int = DEFAULT_BOOTSTRAP,
    bootstrap_seed: int = DEFAULT_BOOTSTRAP_SEED,
    confidence: float = DEFAULT_CONFIDENCE,
) -> dict[str, Any]:
    """Per-task scores with CIs, CT/MRI groups, categories and paper tables (see :func:`score`)."""
    check_options(bootstrap, confidence)
    tasks_out: dict[str, dict[str, Any]] = {}
    for tid, st in stats.items():
        entry: dict[str, Any] = {"task_id": tid, "n": st.n, "skipped": st.skipped}
        if st.truncated:
            entry["truncated"] = st.truncated
        entry.update(point_scores(st))
        if bootstrap and st.n:
            like = {"values": st.values, "counts": st.counts, "labels": st.labels}
            entry["ci"] = bootstrap_ci(like, st.rule, resamples=bootstrap, seed=[bootstrap_seed, st.task.number],
                                       confidence=confidence)
        else:
            entry["ci"] = None
        tasks_out[st.task.config_name] = entry

    groups_out: dict[str, dict[str, Any]] = {}
    for gi, (gname, members) in enumerate(GROUPS.items()):
        g = group_stats(stats, members)
        if g is None:
            continue
        n = len(g["values"]["bleu1"])
        entry = {"tasks": g["tasks"], "n": n, "skipped": g["skipped"]}
        entry.update({k: (100 * sum(v) / n if n else 0.0) for k, v in g["values"].items()})
        if bootstrap and n:
            entry["ci"] = bootstrap_ci(g, TEXT_PLAIN, resamples=bootstrap, seed=[bootstrap_seed, 10_000 + gi],
                                       confidence=confidence)
        else:
            entry["ci"] = None
        groups_out[gname] = entry

    categories_out: dict[str, dict[str, Any]] = {}
    for cat in BENCH_CATEGORIES:
        members = [tasks_out[st.task.config_name] for st in stats.values() if st.task.bench_category == cat]
        if not members:
            continue
        entry = {"tasks": [st.task.config_name for st in stats.values() if st.task.bench_category == cat]}
        for m in METRICS:
            vals = [e[m] for e in members if m in e]
            if vals:
                entry[m] = sum(vals) / len(vals)
        categories_out[cat] = entry

    return {"tasks": tasks_out, "groups": groups_out, "categories": categories_out,
            "tables": table_cells(tasks_out, groups_out)}


def score(
    predictions: Sequence[Any],
    references: Sequence[Any],
    tasks: Sequence[Any] | str,
    *,
    strict: bool = True,
    bootstrap: int = DEFAULT_BOOTSTRAP,
    bootstrap_seed: int = DEFAULT_BOOTSTRAP_SEED,
    confidence: float = DEFAULT_CONFIDENCE,
    max_prediction_chars: int | None = DEFAULT_MAX_PREDICTION_CHARS,
    num_proc: int = 1,
    categories: Iterable[str] | None = None,
) -> dict[str, Any]:
    """Score model outputs with the MedS-Bench rules.

    Args:
        predictions: model outputs (strings; ``None``/``NaN``/``""`` are "missing", numbers are text).
        references: gold answers; a list/tuple per sample means several references, the
            first is used (as the official scripts have one).
        tasks: per sample a config name (``mmedbench_rationale_zh``) or official id
            (``task51``), or one name for all samples.
        strict: ``True`` = the official rules with their quirks; ``False`` = corrected rules.
        bootstrap: number of bootstrap resamples for the confidence intervals (0: none).
        bootstrap_seed: seed of the resampling (each task gets its own stream).
        confidence: level of the percentile intervals.
        max_prediction_chars: cut longer predictions before BLEU/ROUGE (None: never).
        num_proc: worker processes for BLEU/ROUGE (<= 0: one per CPU).
        categories: if given, every task must belong to one of these benchmark categories.

    Returns a dict (scores in percent, unrounded)::

        {"tasks": {config_name: {"task_id", "n", "skipped", <metric>..., "ci": {<metric>: [lo, hi]}}},
         "groups": {"CT"|"MRI": {"tasks", "n", "skipped", "bleu1", "rougeL", "ci"}},
         "categories": {bench category: {"tasks": [config names], <metric>: macro mean over its tasks}},
         "tables": {"table1".."table8": {column: {<metric>: value} | None, "Avg.": ...}},
         "settings": {...}}
    """
    check_options(bootstrap, confidence)
    stats = collect(predictions, references, tasks, strict=strict, max_prediction_chars=max_prediction_chars,
                    num_proc=num_proc, categories=categories)
    result = aggregate(stats, bootstrap=bootstrap, bootstrap_seed=bootstrap_seed, confidence=confidence)
    result["settings"] = settings(strict=strict, bootstrap=bootstrap, bootstrap_seed=bootstrap_seed,
                                  confidence=confidence, max_prediction_chars=max_prediction_chars)
    return result


def settings(**kwargs: Any) -> dict[str, Any]:
    """The scoring settings recorded in every result (mode, bootstrap, package versions)."""
    mismatches = version_mismatches()
    strict = kwargs.pop("strict", True)
    out = {"mode": "official" if strict else "corrected", **kwargs}
    out["version_mismatches"] = {k: {"installed": v[0], "official": v[1]} for k, v in mismatches.items()}
    return out
