"""``overlap.bleu1`` / ``overlap.rouge_l`` must equal NLTK's sentence_bleu and the ``rouge``
package bit for bit (the official scripts use those two libraries)."""

from __future__ import annotations

import random
import sys

import pytest
from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu
from rouge import Rouge

from medsins_datasets.scoring import overlap

_ROUGE = Rouge(metrics=["rouge-l"], stats=["f"])
_SMOOTH = SmoothingFunction().method1


def official_rouge_l(pred: str, ref: str):
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old, 20_000))
    try:
        return _ROUGE.get_scores(pred, ref)[0]["rouge-l"]["f"]
    except ValueError:
        return "ValueError"
    finally:
        sys.setrecursionlimit(old)


def ours_rouge_l(pred: str, ref: str):
    try:
        return overlap.rouge_l(pred, ref)
    except ValueError:
        return "ValueError"


EDGE_CASES = [
    ("", ""), ("", "a"), ("...", "a b"), ("a", "..."), (" . ", "a"), ("a . . b", "b . a"),
    ("the cat sat on the mat", "the cat lay on a mat"), ("a a a a", "a"), ("a b c d", "d c b a"),
    ("a  b\tc\nd", "a b c d"), ("x. y. z.", "z. y. x."), ("the the the", "the cat the dog the"),
    ("Hypertension. No effusion.", "no effusion. hypertension"),
]


@pytest.mark.parametrize("pred,ref", EDGE_CASES)
def test_rouge_l_edge_cases_identical(pred, ref):
    assert ours_rouge_l(pred, ref) == official_rouge_l(pred, ref)


def _random_text(rng: random.Random, vocab: list[str], max_len: int) -> str:
    text = " ".join(rng.choice(vocab) for _ in range(rng.randint(0, max_len)))
    if rng.random() < 0.2:  # glue some words together / create odd spacing
        text = text.replace(" ", "", rng.randint(0, 3))
    return text


def test_rouge_l_random_pairs_identical():
    rng = random.Random(1234)
    vocab = "a b c d e f g the of , x y . .. ".split(" ") + ["  ", ""]
    mismatches = []
    for _ in range(3000):
        v = vocab[: rng.randint(2, len(vocab))]
        pred, ref = _random_text(rng, v, 40), _random_text(rng, v, 40)
        if ours_rouge_l(pred, ref) != official_rouge_l(pred, ref):
            mismatches.append((pred, ref))
    assert mismatches == []


def test_rouge_l_long_texts_identical():
    rng = random.Random(7)
    vocab = [f"w{i}" for i in range(60)] + ["."] * 3
    for _ in range(20):
        pred, ref = _random_text(rng, vocab, 400), _random_text(rng, vocab, 400)
        assert ours_rouge_l(pred, ref) == official_rouge_l(pred, ref)


def test_bleu1_random_pairs_identical():
    rng = random.Random(99)
    vocab = "a b c d e f the of x".split()
    for _ in range(3000):
        v = vocab[: rng.randint(1, len(vocab))]
        pred = [rng.choice(v) for _ in range(rng.randint(0, 30))]
        ref = [rng.choice(v) for _ in range(rng.randint(0, 30))]
        want = sentence_bleu([ref], pred, weights=(1, 0, 0, 0), smoothing_function=_SMOOTH)
        got = overlap.bleu1(pred, ref)
        assert isinstance(got, float)
        assert got == want, (pred, ref)
