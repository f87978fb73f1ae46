"""BLEU-1 and ROUGE-L of text pairs, as the official scripts compute them: one pair, a batch
(each distinct text tokenised once) and many pairs over worker processes.

The text rules of :mod:`.rules` decide which two strings are compared (:func:`.rules.text_pair`);
this module only turns pairs into numbers (fractions). The numbers are those of NLTK's
``sentence_bleu`` and the ``rouge`` package, computed by :mod:`.overlap`, with the per-language
tokenisers of :mod:`.text_tokenizers`.
"""

from __future__ import annotations

from collections.abc import Sequence

from medsins_datasets.scoring import overlap
from medsins_datasets.scoring.text_tokenizers import language_code, tokenizer_for

#: Predictions longer than this are cut before BLEU/ROUGE (see README "Limitations").
DEFAULT_MAX_PREDICTION_CHARS = 20_000


def bleu1(prediction_tokens: Sequence[str], reference_tokens: Sequence[str]) -> float:
    """Sentence BLEU-1 (fraction) as NLTK's ``sentence_bleu`` gives it with weights (1,0,0,0) and
    smoothing method1 (the official setting); computed by :func:`overlap.bleu1`, identical numbers."""
    return overlap.bleu1(prediction_tokens, reference_tokens)


def rouge_l(prediction: str, reference: str) -> float:
    """ROUGE-L F (fraction) of the ``rouge`` package on two strings (space-joined tokens for zh/ja).

    Computed by :func:`overlap.rouge_l` (identical numbers). The package raises ValueError when
    either side has no sentence left after its split on ``.`` (e.g. ``""`` or ``"..."``); the
    official scripts crash there, this scores 0.
    """
    try:
        return overlap.rouge_l(prediction, reference)
    except ValueError:
        return 0.0


def text_scores(prediction: str, reference: str, lang: str = "en") -> tuple[float, float]:
    """``(BLEU-1, ROUGE-L F)`` as fractions for one pair, tokenised for ``lang``."""
    tok = tokenizer_for(lang)
    p_tok, r_tok = tok(prediction), tok(reference)
    b = bleu1(p_tok, r_tok)
    if language_code(lang) == "en":
        r = rouge_l(prediction, reference)
    else:
        r = rouge_l(" ".join(p_tok), " ".join(r_tok))
    return b, r


_CACHE_LIMIT = 20_000


def text_scores_batch(pairs: Sequence[tuple[str, str, str]]) -> list[tuple[float, float]]:
    """``text_scores`` for many ``(prediction, reference, lang)`` triples, tokenising each distinct text once."""
    # Caches for repeated texts and pairs (a gold answer shared by many samples, identical
    # short impressions); cleared when large so that memory stays flat on huge inputs.
    token_cache: dict[tuple[str, str], list[str]] = {}
    done: dict[tuple[str, str, str], tuple[float, float]] = {}
    out: list[tuple[float, float]] = []
    for pred, ref, lang in pairs:
        if len(token_cache) > _CACHE_LIMIT:
            token_cache.clear()
        if len(done) > _CACHE_LIMIT:
            done.clear()
        code = language_code(lang)
        hit = done.get((code, pred, ref))
        if hit is not None:
            out.append(hit)
            continue
        tok = tokenizer_for(code)
        p_tok = token_cache.get((code, pred))
        if p_tok is None:
            p_tok = token_cache[(code, pred)] = tok(pred)
        r_tok = token_cache.get((code, ref))
        if r_tok is None:
            r_tok = token_cache[(code, ref)] = tok(ref)
        b = bleu1(p_tok, r_tok)
        r = rouge_l(pred, ref) if code == "en" else rouge_l(" ".join(p_tok), " ".join(r_tok))
        done[(code, pred, ref)] = (b, r)
        out.append((b, r))
    return out


def run_text_jobs(pairs: list[tuple[str, str, str]], *, num_proc: int = 1) -> list[tuple[float, float]]:
    """:func:`text_scores_batch` over many pairs, in ``num_proc`` worker processes (<= 0: one per CPU)."""
    from medsins_datasets.progress import bar as progress_bar

    if num_proc is None or num_proc <= 0:
        import os

        num_proc = os.cpu_count() or 1
    # a bar only where the wait is noticeable (a few thousand long texts take minutes)
    with progress_bar(total=len(pairs), desc="BLEU/ROUGE", unit=" pairs", enabled=len(pairs) >= 200) as pb:
        if num_proc <= 1 or len(pairs) < 200:
            out: list[tuple[float, float]] = []
            for start in range(0, len(pairs), 256):
                out.extend(text_scores_batch(pairs[start:start + 256]))
                pb.update(len(out) - pb.n)
            return out
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        # Strided chunks (pair i goes to chunk i % k), several per worker, so that the long
        # texts of one task (rationales) are spread over all workers.
        k = min(len(pairs), num_proc * 4)
        chunks = [pairs[j::k] for j in range(k)]
        method = "fork" if "fork" in mp.get_all_start_methods() else "spawn"
        out = [(0.0, 0.0)] * len(pairs)
        with ProcessPoolExecutor(max_workers=num_proc, mp_context=mp.get_context(method)) as ex:
            for j, part in enumerate(ex.map(text_scores_batch, chunks)):
                out[j::k] = part
                pb.update(len(part))
        return out
