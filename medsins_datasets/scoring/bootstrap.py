"""Bootstrap confidence intervals of the MedS-Bench scores.

A task's (or a summarization group's) samples are resampled with replacement ``resamples``
times; every resample is scored with the same corpus metric as the point estimate
(:mod:`.corpus`: means, NER micro P/R/F1, HoC macro P/R/F1) and the interval is the
percentiles of those scores. Resamples are drawn as multiplicity matrices in blocks, so a
thousand resamples of a large task cost a few matrix products, not a thousand re-scorings.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from medsins_datasets.scoring.corpus import hoc_matrices, macro_from_sums, safe_div
from medsins_datasets.scoring.rules import HOC, NER, ScoringInputError

#: resamples, seed and level of the intervals unless the caller says otherwise
DEFAULT_BOOTSTRAP = 1000
DEFAULT_BOOTSTRAP_SEED = 42
DEFAULT_CONFIDENCE = 0.95


def _weights(rng: np.random.Generator, n: int, resamples: int, block_cells: int = 2_000_000) -> Iterator[np.ndarray]:
    """Bootstrap multiplicity matrices (rows = resamples, columns = samples), in blocks."""
    block = max(1, block_cells // max(n, 1))
    done = 0
    while done < resamples:
        b = min(block, resamples - done)
        idx = rng.integers(0, n, size=(b, n))
        flat = idx + (np.arange(b)[:, None] * n)
        yield np.bincount(flat.ravel(), minlength=b * n).reshape(b, n)
        done += b


def resample_scores(st_like: dict[str, Any], rule: str, rng: np.random.Generator,
                    resamples: int) -> dict[str, np.ndarray]:
    """Resampled metric values (percentages) for one task or group."""
    out: dict[str, list[np.ndarray]] = {}
    if rule == NER:
        counts = np.asarray(st_like["counts"], dtype=float).reshape(-1, 3)
        n = len(counts)
        for w in _weights(rng, n, resamples):
            s = w @ counts
            tp, fp, fn = s[:, 0], s[:, 1], s[:, 2]
            p = safe_div(tp, tp + fp)
            r = safe_div(tp, tp + fn)
            f = safe_div(2 * p * r, p + r)
            for k, v in (("precision", p), ("recall", r), ("f1", f)):
                out.setdefault(k, []).append(100 * v)
    elif rule == HOC:
        yt, yp = hoc_matrices(st_like["labels"])
        yt, yp = yt.astype(float), yp.astype(float)
        n = len(yt)
        tp_m = yt * yp
        for w in _weights(rng, n, resamples):
            p, r, f = macro_from_sums(w @ tp_m, w @ yp, w @ yt)
            for k, v in (("precision", p), ("recall", r), ("f1", f)):
                out.setdefault(k, []).append(100 * v)
    else:
        mat = np.column_stack([np.asarray(v, dtype=float) for v in st_like["values"].values()])
        names = list(st_like["values"])
        n = len(mat)
        for w in _weights(rng, n, resamples):
            means = (w @ mat) / n
            for j, k in enumerate(names):
                out.setdefault(k, []).append(100 * means[:, j])
    return {k: np.concatenate(v) for k, v in out.items()}


def percentile_ci(samples: dict[str, np.ndarray], confidence: float) -> dict[str, list[float]]:
    """``[low, high]`` percentiles of each metric's resampled values at level ``confidence``."""
    lo_q, hi_q = 50 * (1 - confidence), 50 * (1 + confidence)
    return {k: [float(np.percentile(v, lo_q)), float(np.percentile(v, hi_q))] for k, v in samples.items()}


def check_options(bootstrap: int, confidence: float) -> None:
    """Refuse a confidence level outside (0, 1) or a resample count that is not an integer >= 0."""
    if not isinstance(confidence, (int, float)) or not 0 < confidence < 1:
        raise ScoringInputError(f"confidence must be between 0 and 1, got {confidence!r}")
    if isinstance(bootstrap, bool) or not isinstance(bootstrap, (int, np.integer)) or bootstrap < 0:
        raise ScoringInputError(f"bootstrap must be a number of resamples >= 0, got {bootstrap!r}")


def bootstrap_ci(st_like: dict[str, Any], rule: str, *, resamples: int, seed: list[int],
                 confidence: float) -> dict[str, list[float]]:
    """The percentile interval of every metric of one task or group over ``resamples`` resamples
    drawn by a generator seeded with ``seed`` (the caller gives each task and group its own stream)."""
    rng = np.random.default_rng(seed)
    return percentile_ci(resample_scores(st_like, rule, rng, resamples), confidence)
