"""MedS-Bench corpus-level metrics: what is computed over the scored samples of a whole task.

The per-sample rules (:mod:`.rules`) give each sample its values (a 0/1 accuracy, BLEU-1 and
ROUGE-L, NER counts, HoC label sets), gathered in a :class:`TaskStats` per task; this module
turns them into the task's official scores: the mean of per-sample values, micro P/R/F1 from
summed NER counts, macro P/R/F1 over the HoC labels (scikit-learn's definitions), and the
pooled samples of a summarization group. The same primitives score the bootstrap resamples
(:mod:`.bootstrap`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from medsins_datasets.registry.tasks import Task
from medsins_datasets.scoring.rules import HOC, HOC_LABELS, NER


@dataclass
class TaskStats:
    """Per-sample statistics of one task (only the scored samples), in input order."""

    task: Task
    rule: str
    skipped: int = 0
    truncated: int = 0
    values: dict[str, list[float]] = field(default_factory=dict)  # per-sample metric values (fractions)
    counts: list[tuple[int, int, int]] = field(default_factory=list)  # NER
    labels: list[tuple[frozenset, frozenset]] = field(default_factory=list)  # HoC (gold, predicted)

    @property
    def n(self) -> int:
        if self.rule == NER:
            return len(self.counts)
        if self.rule == HOC:
            return len(self.labels)
        return len(next(iter(self.values.values()), []))


def prf_micro(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    """Precision, recall, F1 (fractions) from summed counts, 0 where undefined (official NER)."""
    p = tp / (tp + fp) if tp + fp > 0 else 0
    r = tp / (tp + fn) if tp + fn > 0 else 0
    f = 2 * (p * r) / (p + r) if p + r > 0 else 0
    return float(p), float(r), float(f)


def prf_macro(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[float, float, float]:
    """Macro precision/recall/F1 (fractions) over label columns, zero_division=0 (scikit-learn's definitions)."""
    yt = np.asarray(y_true, dtype=bool)
    yp = np.asarray(y_pred, dtype=bool)
    tp = (yt & yp).sum(axis=0).astype(float)
    pred_sum = yp.sum(axis=0).astype(float)
    true_sum = yt.sum(axis=0).astype(float)
    p, r, f = macro_from_sums(tp[None, :], pred_sum[None, :], true_sum[None, :])
    return float(p[0]), float(r[0]), float(f[0])


def safe_div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """``num / den`` elementwise, 0 where ``den`` is 0."""
    out = np.zeros_like(num, dtype=float)
    np.divide(num, den, out=out, where=den > 0)
    return out


def macro_from_sums(tp: np.ndarray, pred_sum: np.ndarray, true_sum: np.ndarray):
    """Macro P/R/F1 (fractions) per row of per-label sums (one row per resample)."""
    p = safe_div(tp, pred_sum)
    r = safe_div(tp, true_sum)
    f = safe_div(2 * tp, true_sum + pred_sum)
    return p.mean(axis=1), r.mean(axis=1), f.mean(axis=1)


def point_scores(st: TaskStats) -> dict[str, float]:
    """The official aggregate of one task (percentages), summing in input order like the scripts."""
    if st.rule == NER:
        tp = sum(c[0] for c in st.counts)
        fp = sum(c[1] for c in st.counts)
        fn = sum(c[2] for c in st.counts)
        p, r, f = prf_micro(tp, fp, fn)
        return {"precision": 100 * p, "recall": 100 * r, "f1": 100 * f}
    if st.rule == HOC:
        if not st.labels:
            return {"precision": 0.0, "recall": 0.0, "f1": 0.0}
        yt, yp = hoc_matrices(st.labels)
        p, r, f = prf_macro(yt, yp)
        return {"precision": 100 * p, "recall": 100 * r, "f1": 100 * f}
    n = st.n
    return {m: (100 * sum(v) / n if n else 0.0) for m, v in st.values.items()}


def hoc_matrices(labels: list[tuple[frozenset, frozenset]]) -> tuple[np.ndarray, np.ndarray]:
    """(gold, predicted) label indicator matrices (samples x :data:`HOC_LABELS`)."""
    yt = np.array([[lab in g for lab in HOC_LABELS] for g, _ in labels], dtype=bool).reshape(-1, len(HOC_LABELS))
    yp = np.array([[lab in p for lab in HOC_LABELS] for _, p in labels], dtype=bool).reshape(-1, len(HOC_LABELS))
    return yt, yp


def group_stats(stats: dict[str, TaskStats], members: tuple[str, ...]) -> dict[str, Any] | None:
    """The pooled BLEU-1/ROUGE-L samples of a summarization group's tasks (None: none of them scored)."""
    present = [stats[t] for t in members if t in stats]
    if not present:
        return None
    values: dict[str, list[float]] = {"bleu1": [], "rougeL": []}
    for st in present:  # task order, like the official script
        for k in values:
            values[k].extend(st.values.get(k, []))
    return {"tasks": [st.task.config_name for st in present], "values": values,
            "skipped": sum(st.skipped for st in present)}
