"""BLEU-1 and ROUGE-L exactly as the official MedS-Bench scripts compute them, only faster.

The official scripts call NLTK's ``sentence_bleu`` (weights ``(1, 0, 0, 0)``, smoothing
``method1``) and the ``rouge`` package's ``Rouge().get_scores`` (ROUGE-L F, summary level).
Both are pure Python with heavy per-call overhead (``Fraction`` arithmetic, ``Counter`` objects
for four n-gram orders; a dict-of-tuples LCS table and a recursive LCS reconstruction). These
functions reproduce their results bit for bit (the same float operations in the same order;
``tests/scoring/test_overlap.py`` compares them with the two libraries on many random and edge-case
pairs) at a fraction of the cost:

* BLEU-1: with weights ``(1, 0, 0, 0)`` only clipped unigram matches, the hypothesis length and
  the brevity penalty matter; the zero-weight orders add ``0 * log(p)`` terms that vanish.
* ROUGE-L: the LCS table rows are computed with the bit-parallel algorithm (one big-integer
  operation per reference word); table cells needed while backtracking are read back with
  ``int.bit_count``. Backtracking follows the package's tie-breaking rule, which matters
  because the score counts the *distinct words* of the chosen LCS (the package's default
  ``exclusive=True`` mode).
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Sequence


def bleu1(prediction_tokens: Sequence[str], reference_tokens: Sequence[str]) -> float:
    """NLTK ``sentence_bleu([ref], pred, weights=(1, 0, 0, 0), smoothing_function=method1)``."""
    hyp_len = len(prediction_tokens)
    if hyp_len == 0:
        return 0.0
    ref_counts = Counter(reference_tokens)
    matches = sum(min(c, ref_counts[w]) for w, c in Counter(prediction_tokens).items() if w in ref_counts)
    if matches == 0:
        return 0.0
    ref_len = len(reference_tokens)
    bp = 1 if hyp_len > ref_len else math.exp(1 - ref_len / hyp_len)
    # NLTK: exp(fsum(w_i * log(p_i))) with p_1 = matches / hyp_len and zero-weight terms (-0.0)
    return float(bp * math.exp(math.log(matches / hyp_len)))


def _sentences(text: str) -> list[str]:
    """The ``rouge`` package's sentence split: on ``.``, non-empty parts, whitespace collapsed."""
    return [" ".join(part.split()) for part in text.split(".") if len(part) > 0]


def _lcs_words(ref: list[str], hyp: list[str]) -> set[str]:
    """Words of the LCS of ``ref`` and ``hyp`` that the ``rouge`` package reconstructs.

    Row ``i`` of the LCS table is kept as a bit vector ``rows[i]`` over ``hyp`` positions (bit
    ``j`` clear where the row increases), so ``L[i][j] = j - popcount(rows[i] & (2**j - 1))``.
    """
    m = len(hyp)
    full = (1 << m) - 1
    match: dict[str, int] = {}
    for j, w in enumerate(hyp):
        match[w] = match.get(w, 0) | (1 << j)
    rows = [full]
    v = full
    for w in ref:
        u = v & match.get(w, 0)
        v = ((v + u) | (v - u)) & full
        rows.append(v)

    def cell(i: int, j: int) -> int:
        return j - (rows[i] & ((1 << j) - 1)).bit_count()

    words: set[str] = set()
    i, j = len(ref), m
    while i > 0 and j > 0:
        if ref[i - 1] == hyp[j - 1]:
            words.add(ref[i - 1])
            i -= 1
            j -= 1
        elif cell(i - 1, j) > cell(i, j - 1):
            i -= 1
        else:
            j -= 1
    return words


def rouge_l(prediction: str, reference: str) -> float:
    """``Rouge().get_scores(prediction, reference)[0]["rouge-l"]["f"]`` of the ``rouge`` package.

    Raises ValueError, like the package, when either text has no sentence (``""``, ``"..."``).
    """
    hyp_sents = _sentences(prediction)
    ref_sents = _sentences(reference)
    if not hyp_sents or not ref_sents:
        raise ValueError("Collections must contain at least 1 sentence.")
    hyp_words = [s.split(" ") for s in hyp_sents]
    ref_words = [s.split(" ") for s in ref_sents]
    m = len({w for s in ref_words for w in s})
    n = len({w for s in hyp_words for w in s})
    union: set[str] = set()
    for r in ref_words:
        for h in hyp_words:
            union |= _lcs_words(r, h)
    llcs = len(union)
    r_lcs = llcs / m
    p_lcs = llcs / n
    return 2.0 * ((p_lcs * r_lcs) / (p_lcs + r_lcs + 1e-8))
