"""MedS-Bench scoring: the official rules, per benchmark category, as pure functions.

This module is shared by the ``meds_bench`` evaluate metric (``metrics/meds_bench``),
the ``medsins score`` command and the benchmark runner. The rules follow the official
evaluation scripts of MedS-Bench (``Metrics/*.py`` of MAGIC-AI4Med/MedS-Ins) as written
down in ``metrics/meds_bench/README.md``; the scores are percentages (0-100) like the
paper's tables.

Two modes:

* ``strict=True`` (the default, "official"): the official rules, quirks included,
  so that published numbers are reproduced to two decimals. The known quirks are
  listed in :data:`OFFICIAL_QUIRKS`.
* ``strict=False`` ("corrected"): the same rules with those quirks fixed. Never
  compare its numbers with the paper.

Missing values. The official scripts read model outputs from a CSV with pandas, so an
empty or missing output reaches them as ``NaN``. Here ``None``, ``NaN`` and ``""`` are
all treated as that missing value and get exactly what the official rule does with
``NaN`` (``str(NaN) == "nan"`` where the script calls ``str()``; skipped where it
checks ``isinstance(x, str)``); where the script would crash, the sample scores 0.
Numbers are scored as their ``str()`` (what a pandas text column holds).
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from medsins_datasets.errors import MedsinsError, UnknownTaskError
from medsins_datasets.registry.tasks import BENCH_CATEGORIES, Task, get_task, select_tasks
from medsins_datasets.scoring import overlap
from medsins_datasets.scoring.text_tokenizers import language_code, tokenizer_for, version_mismatches


class ScoringInputError(MedsinsError, ValueError):
    """Predictions, references or task names that cannot be scored as given."""


class MissingReferenceError(ScoringInputError):
    """A sample without a gold answer (``None``/``NaN``/no reference at all)."""


# ---------------------------------------------------------------------------
# constants
# ---------------------------------------------------------------------------

#: The literal "no entity" answer of the NER tasks, with the official misspelling.
NO_ENTITY = "there is no related enetity"
NO_ENTITY_CORRECT = "there is no related entity"

#: The 10 Hallmarks of Cancer labels, as the official HoC scorer matches them.
HOC_LABELS = (
    "sustaining proliferative signaling",
    "evading growth suppressors",
    "resisting cell death",
    "enabling replicative immortality",
    "inducing angiogenesis",
    "activating invasion and metastasis",
    "genomic instability and mutation",
    "tumor promoting inflammation",
    "cellular energetics",
    "avoiding immune destruction",
)

#: Summarization groups that the paper reports as one column each (pooled samples).
GROUPS: dict[str, tuple[str, ...]] = {
    "CT": tuple(f"task{i}" for i in range(83, 89)),
    "MRI": tuple(f"task{i}" for i in range(89, 95)),
}

#: Metric names, in display order.
METRICS = ("accuracy", "precision", "recall", "f1", "bleu1", "rougeL")

#: Predictions longer than this are cut before BLEU/ROUGE (see README "Limitations").
DEFAULT_MAX_PREDICTION_CHARS = 20_000
DEFAULT_BOOTSTRAP = 1000
DEFAULT_BOOTSTRAP_SEED = 42
DEFAULT_CONFIDENCE = 0.95

#: The quirks of the official rules kept in the official mode (fixed by strict=False).
OFFICIAL_QUIRKS = {
    "mcqa_first_letter": "MCQA compares only the first character after removing 'the right answer is'; "
    "options beyond D (first letter e-z) are never right.",
    "pubmedqa_maybe": "PubMedQA (task123) compares the first character among y/n, so a gold 'maybe' always scores 0.",
    "missing_is_nan": "A missing/empty output reads as the text 'nan' where the official script calls str(): "
    "in PubMedQA (task123) it counts as the answer 'no'.",
    "ner_enetity": "NER recognises only the misspelled 'there is no related enetity' as the empty answer, "
    "and drops the last character of every answer before splitting on ', '.",
    "ner_missing_skipped": "NER skips samples whose output is missing, so they cost nothing.",
}

#: Short names accepted as metric config names for the benchmark categories.
CATEGORY_SLUGS = {
    "mcqa": "Multiple-choice Question Answering",
    "summarization": "Text Summarization",
    "information_extraction": "Information Extraction",
    "ner": "Named Entity Recognition",
    "explanation": "Explanation",
    "rationale": "Rationale",
    "diagnosis": "Diagnosis",
    "treatment_planning": "Treatment Planning",
    "clinical_outcome": "Clinical Outcome Prediction",
    "text_classification": "Text Classification",
    "fact_verification": "Fact Verification",
    "nli": "Natural Language Inference",
}


# ---------------------------------------------------------------------------
# value handling
# ---------------------------------------------------------------------------


def is_missing(value: Any) -> bool:
    """``None``, ``NaN`` (float, numpy or pandas NA) or the empty string."""
    if value is None:
        return True
    if isinstance(value, str):
        return value == ""
    if isinstance(value, float):
        return math.isnan(value)
    if type(value).__name__ in ("NAType", "NaTType"):  # pandas missing markers
        return True
    if isinstance(value, (int, list, tuple, dict)):
        return False
    try:  # numpy NaN scalars of other widths
        return bool(value != value)
    except (TypeError, ValueError):
        return False


def official_str(value: Any) -> str:
    """``str(value)`` as the official scripts see it after their CSV round trip (missing -> ``"nan"``)."""
    if is_missing(value):
        return "nan"
    return value if isinstance(value, str) else str(value)


def as_text(value: Any) -> str | None:
    """The text of a value, ``None`` when missing (numbers become their ``str()``)."""
    if is_missing(value):
        return None
    return value if isinstance(value, str) else str(value)


# ---------------------------------------------------------------------------
# per-sample rules (pure functions)
# ---------------------------------------------------------------------------

_ANSWER_PREFIX = "the right answer is"
#: an option letter followed by ":", "：", "." or ")" and not inside a word: "正确答案是 D: ...",
#: "La respuesta correcta es: C: ...", "the correct answer is b) ..."
_OPTION_RE = re.compile(r"(?<![a-z])([a-z])\s*[:：.)](?![a-z])")


def option_letter(text: str) -> str | None:
    """The option letter a (lower-cased, prefix-free) MCQA answer names, for the corrected rule:
    the first character when it is a letter standing alone ("b", "b: aspirin"), else the first
    letter written as an option label ("d:", "c)") anywhere, which covers the localized answer
    sentences of the official MMedBench-derived files."""
    if text and text[0].isascii() and text[0].isalpha() and (len(text) == 1 or not text[1].isalpha()):
        return text[0]
    m = _OPTION_RE.search(text)
    return m.group(1) if m else None


def mcqa_correct(prediction: Any, reference: Any, *, yes_no: bool = False, strict: bool = True) -> bool:
    """Multiple-choice accuracy for one sample.

    Official: lower-case, remove every "the right answer is", strip, then compare the
    first characters, which must both be one of ``abcd`` (``yn`` for PubMedQA, task123).
    Corrected (``strict=False``): the option letter is read with :func:`option_letter` (so the
    localized answer sentences of task58-61 and task129, which the official rule scores 0 even
    against themselves, are compared by their letters), any option letter counts, PubMedQA
    compares the first word among yes/no/maybe, and a missing prediction is wrong.
    """
    if strict:
        pred = official_str(prediction).lower().replace(_ANSWER_PREFIX, "").strip()
        gold = official_str(reference).lower().replace(_ANSWER_PREFIX, "").strip()
        if not pred or not gold:  # the official script raises IndexError here
            return False
        allowed = "yn" if yes_no else "abcd"
        return pred[0] in allowed and gold[0] in allowed and pred[0] == gold[0]
    p_text, g_text = as_text(prediction), as_text(reference)
    if p_text is None or g_text is None:
        return False
    pred = p_text.lower().replace(_ANSWER_PREFIX, "").strip()
    gold = g_text.lower().replace(_ANSWER_PREFIX, "").strip()
    if yes_no:
        pw, gw = _first_word(pred), _first_word(gold)
        return pw in ("yes", "no", "maybe") and pw == gw
    pl, gl = option_letter(pred), option_letter(gold)
    return pl is not None and pl == gl


def _first_word(text: str) -> str:
    out = []
    for ch in text.lstrip(" \t\n\"'(:"):
        if not ch.isalpha():
            break
        out.append(ch)
    return "".join(out)


def _ie_norm(text: str) -> str:
    return text.lower().strip().replace('"', "").replace("'", "").replace("\n", "")


def information_extraction_correct(prediction: Any, reference: Any, *, strict: bool = True) -> bool:
    """PICO / ADE / PMC-Patients: normalised reference is a substring of the normalised prediction.

    Norm = lower-case, strip, remove ``"``, ``'`` and newlines (in that order).
    """
    if not strict and is_missing(prediction):
        return False
    return _ie_norm(official_str(reference)) in _ie_norm(official_str(prediction))


def _phrase_rule(prediction: Any, reference: Any, phrase: str) -> bool:
    pred = as_text(prediction)
    gold = as_text(reference)
    if pred is None or gold is None:  # the official script would crash on NaN
        return False
    return gold.replace(".", "").replace(phrase, "").strip().lower() in pred.lower()


def diagnosis_correct(prediction: Any, reference: Any, *, strict: bool = True) -> bool:
    """DDXPlus: reference without ``.`` and "The diagnosis result is", stripped, lower, in lower(prediction)."""
    return _phrase_rule(prediction, reference, "The diagnosis result is")


def treatment_correct(prediction: Any, reference: Any, *, strict: bool = True) -> bool:
    """SEER: reference without ``.`` and "The treatment planning is:", stripped, lower, in lower(prediction)."""
    return _phrase_rule(prediction, reference, "The treatment planning is:")


def outcome_correct(prediction: Any, reference: Any, *, strict: bool = True) -> bool:
    """MIMIC4ED: gold is true/false; the prediction must contain that word and not the other."""
    pred = official_str(prediction).lower().strip()
    gold = official_str(reference).lower().strip()
    if gold == "true":
        return "true" in pred and "false" not in pred
    if gold == "false":
        return "false" in pred and "true" not in pred
    return False


def fact_verification_correct(prediction: Any, reference: Any, *, strict: bool = True) -> bool:
    """PubMedQA verification / HealthFact: reference (no ``.``, stripped, lower) in the prediction's first line."""
    pred = as_text(prediction)
    gold = as_text(reference)
    if pred is None or gold is None:
        return False
    return gold.replace(".", "").strip().lower() in pred.split("\n")[0].strip().lower()


def nli_correct(prediction: Any, reference: Any, *, strict: bool = True) -> bool:
    """MedNLI discriminative: reference (no ``.``, stripped, lower) in lower(prediction)."""
    if not strict and is_missing(prediction):
        return False
    return official_str(reference).replace(".", "").strip().lower() in official_str(prediction).lower().strip()


def ner_entities(text: str, *, strict: bool = True) -> frozenset[str]:
    """The entity set of an NER answer.

    Official: remove every ``.``, strip, lower; "there is no related enetity" (sic)
    is the empty set; otherwise drop the LAST character and split on ``", "``.
    Corrected: both spellings mean "none", split on ``,`` and strip each entity.
    """
    norm = text.replace(".", "").strip().lower()
    if strict:
        if norm == NO_ENTITY:
            return frozenset()
        return frozenset(norm[:-1].split(", "))
    if norm in (NO_ENTITY, NO_ENTITY_CORRECT):
        return frozenset()
    return frozenset(e.strip() for e in norm.split(",") if e.strip())


def ner_counts(prediction: Any, reference: Any, *, strict: bool = True) -> tuple[int, int, int] | None:
    """``(tp, fp, fn)`` for one NER sample, ``None`` when the official rule skips it (missing output)."""
    pred = as_text(prediction)
    if pred is None:
        if strict:
            return None
        pred = NO_ENTITY_CORRECT
    gold = ner_entities(official_str(reference), strict=strict)
    got = ner_entities(pred, strict=strict)
    tp = len(gold & got)
    return tp, len(got) - tp, len(gold) - tp


def hoc_labels(text: Any) -> frozenset[str]:
    """HoC labels whose name occurs in ``str(text).lower().strip()``."""
    low = official_str(text).lower().strip()
    return frozenset(label for label in HOC_LABELS if label in low)


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
    p, r, f = _macro_from_sums(tp[None, :], pred_sum[None, :], true_sum[None, :])
    return float(p[0]), float(r[0]), float(f[0])


def _safe_div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    out = np.zeros_like(num, dtype=float)
    np.divide(num, den, out=out, where=den > 0)
    return out


def _macro_from_sums(tp: np.ndarray, pred_sum: np.ndarray, true_sum: np.ndarray):
    p = _safe_div(tp, pred_sum)
    r = _safe_div(tp, true_sum)
    f = _safe_div(2 * tp, true_sum + pred_sum)
    return p.mean(axis=1), r.mean(axis=1), f.mean(axis=1)


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


# ---------------------------------------------------------------------------
# task -> rule
# ---------------------------------------------------------------------------

#: rule kinds
MCQA, MCQA_YN, IE, DIAGNOSIS, TREATMENT, OUTCOME, FV_ACC, NLI_ACC, NER, HOC = (
    "mcqa", "mcqa_yes_no", "information_extraction", "diagnosis", "treatment_planning",
    "clinical_outcome", "fact_verification", "nli", "ner", "hoc",
)
TEXT_PLAIN, TEXT_EXPLANATION, TEXT_RATIONALE, TEXT_EBMS = "text", "text_explanation", "text_rationale", "text_ebms"
TEXT_RULES = (TEXT_PLAIN, TEXT_EXPLANATION, TEXT_RATIONALE, TEXT_EBMS)

_ACCURACY_FUNCS = {
    IE: information_extraction_correct,
    DIAGNOSIS: diagnosis_correct,
    TREATMENT: treatment_correct,
    OUTCOME: outcome_correct,
    FV_ACC: fact_verification_correct,
    NLI_ACC: nli_correct,
}


def skips_missing_reference(task: Task) -> bool:
    """Whether a sample without a reference is skipped (and counted) instead of being an input
    error: explanation (task18/46/50), whose official script skips such samples."""
    return rule_of(task) == TEXT_EXPLANATION


def rule_of(task: Task) -> str:
    """The scoring rule kind of a MedS-Bench task."""
    cat = task.bench_category
    if cat is None:
        raise ScoringInputError(
            f"task {task.config_name!r} ({task.task_id}) is not a MedS-Bench task: it has no official scoring rule. "
            "Run `medsins tasks --bench` to list the benchmark tasks."
        )
    if cat == "Multiple-choice Question Answering":
        return MCQA_YN if task.task_id == "task123" else MCQA
    if cat == "Information Extraction":
        return IE
    if cat == "Diagnosis":
        return DIAGNOSIS
    if cat == "Treatment Planning":
        return TREATMENT
    if cat == "Clinical Outcome Prediction":
        return OUTCOME
    if cat == "Named Entity Recognition":
        return NER
    if cat == "Text Classification":
        return HOC
    if cat == "Explanation":
        return TEXT_EXPLANATION
    if cat == "Rationale":
        return TEXT_RATIONALE
    if cat == "Text Summarization":
        return TEXT_PLAIN
    if cat == "Fact Verification":
        return FV_ACC if task.bench_metric == "accuracy" else TEXT_EBMS
    if cat == "Natural Language Inference":
        return NLI_ACC if task.bench_metric == "accuracy" else TEXT_PLAIN
    raise ScoringInputError(f"no scoring rule for benchmark category {cat!r}")  # pragma: no cover


def metrics_of(rule: str) -> tuple[str, ...]:
    """The metric names a rule produces."""
    if rule in TEXT_RULES:
        return ("bleu1", "rougeL")
    if rule in (NER, HOC):
        return ("precision", "recall", "f1")
    return ("accuracy",)


def text_pair(rule: str, prediction: Any, reference: Any) -> tuple[str, str] | str:
    """The two strings a text-similarity rule compares, or ``"skip"`` / ``"zero"``.

    * explanation (task18/46/50): missing on either side -> skipped;
    * rationale (task51-56): both stripped; missing or empty -> skipped;
    * EBMS (task100): prediction stripped + lower, reference without ``.`` + stripped + lower;
      an empty prediction counts as 0;
    * summarization and generative NLI: compared as they are; a missing prediction
      counts as 0 (the official script would crash on it).
    """
    pred = as_text(prediction)
    gold = as_text(reference)
    if rule == TEXT_EXPLANATION:
        if pred is None or gold is None:
            return "skip"
        return pred, gold
    if rule == TEXT_RATIONALE:
        if pred is None or gold is None:
            return "skip"
        pred, gold = pred.strip(), gold.strip()
        if not pred or not gold:
            return "skip"
        return pred, gold
    if rule == TEXT_EBMS:
        pred = (pred or "").strip().lower()
        if not pred:
            return "zero"
        return pred, (gold or "").replace(".", "").strip().lower()
    if pred is None:
        return "zero"
    return pred, gold if gold is not None else ""


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


def score_sample(
    task: str | Task,
    prediction: Any,
    reference: Any,
    *,
    strict: bool = True,
    max_prediction_chars: int | None = DEFAULT_MAX_PREDICTION_CHARS,
) -> dict[str, Any]:
    """Score one sample and show the intermediate values (for debugging and the docs).

    Returns ``{"task", "rule", "skipped", <metric>: value (0-100)...}``; for NER and HoC
    the per-sample sets / counts are returned since their metrics are corpus-level.
    """
    t = task if isinstance(task, Task) else get_task(task)
    rule = rule_of(t)
    if (rule in TEXT_RULES and max_prediction_chars is not None and isinstance(prediction, str)
            and len(prediction) > max_prediction_chars):
        prediction = prediction[:max_prediction_chars]
    out: dict[str, Any] = {"task": t.config_name, "rule": rule, "skipped": False}
    if rule in (MCQA, MCQA_YN):
        out["accuracy"] = 100.0 * mcqa_correct(prediction, reference, yes_no=rule == MCQA_YN, strict=strict)
    elif rule in _ACCURACY_FUNCS:
        out["accuracy"] = 100.0 * _ACCURACY_FUNCS[rule](prediction, reference, strict=strict)
    elif rule == NER:
        counts = ner_counts(prediction, reference, strict=strict)
        out["skipped"] = counts is None
        if counts is not None:
            out["tp"], out["fp"], out["fn"] = counts
    elif rule == HOC:
        out["gold_labels"] = sorted(hoc_labels(reference))
        out["predicted_labels"] = sorted(hoc_labels(prediction))
    else:
        pair = text_pair(rule, prediction, reference)
        if pair == "skip":
            out["skipped"] = True
        elif pair == "zero":
            out["bleu1"] = out["rougeL"] = 0.0
        else:
            b, r = text_scores(pair[0], pair[1], _lang(t))
            out["bleu1"], out["rougeL"] = 100 * b, 100 * r
    return out


def _lang(task: Task) -> str:
    return language_code(task.output_languages[0]) if task.output_languages else "en"


# ---------------------------------------------------------------------------
# batch scoring
# ---------------------------------------------------------------------------


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


def _resolve_tasks(tasks: Any, size: int) -> list[Task]:
    if isinstance(tasks, (str, Task)):
        tasks = [tasks] * size
    cache: dict[Any, Task] = {}
    out: list[Task] = []
    for i, name in enumerate(tasks):
        t = cache.get(name) if isinstance(name, (str, int)) else None
        if t is None:
            t = _lookup_task(name, i)
            rule_of(t)  # raises for non-benchmark tasks
            if isinstance(name, (str, int)):
                cache[name] = t
        out.append(t)
    return out


def _lookup_task(name: Any, index: int) -> Task:
    if isinstance(name, Task):
        return name
    if isinstance(name, (int, np.integer)) and not isinstance(name, bool):
        name = f"task{int(name)}"
    if not isinstance(name, str) or not name.strip():
        raise UnknownTaskError(f"sample {index}: task name must be a config name or official id, got {name!r}")
    try:
        return get_task(name)
    except UnknownTaskError as e:
        raise UnknownTaskError(f"sample {index}: {e}") from None


def _first_reference(ref: Any) -> Any:
    if isinstance(ref, (list, tuple)):
        return ref[0] if ref else None
    if isinstance(ref, np.ndarray):
        return ref.flat[0] if ref.size else None
    return ref


def _as_list(values: Any, what: str) -> list:
    if values is None:
        raise ScoringInputError(f"{what} are required")
    if isinstance(values, (str, bytes)):
        raise ScoringInputError(f"{what} must be a list (one entry per sample), got a single string")
    if isinstance(values, Mapping):
        raise ScoringInputError(f"{what} must be a list (one entry per sample), got a mapping")
    try:
        return list(values)
    except TypeError:
        raise ScoringInputError(f"{what} must be a list (one entry per sample), got {type(values).__name__}") from None


def prepare_inputs(
    predictions: Sequence[Any],
    references: Sequence[Any],
    tasks: Sequence[Any] | str | Task,
    *,
    categories: Iterable[str] | None = None,
) -> tuple[list[Any], list[Any], list[Task]]:
    """Validate inputs; return ``(predictions, first references, Task per sample)``.

    Raises :class:`ScoringInputError` (mismatched lengths, tasks outside ``categories`` or
    outside MedS-Bench), :class:`UnknownTaskError` and :class:`MissingReferenceError`.
    """
    preds = _as_list(predictions, "predictions")
    if references is None:
        raise MissingReferenceError("references are required (one gold answer per prediction)")
    refs = _as_list(references, "references")
    if len(preds) != len(refs):
        raise ScoringInputError(f"got {len(preds)} predictions but {len(refs)} references")
    if isinstance(tasks, (str, Task)):
        task_list = _resolve_tasks(tasks, len(preds))
    else:
        raw_tasks = _as_list(tasks, "tasks")
        if len(raw_tasks) != len(preds):
            raise ScoringInputError(f"got {len(preds)} predictions but {len(raw_tasks)} task names")
        task_list = _resolve_tasks(raw_tasks, len(preds))
    if categories is not None:
        allowed = set(categories)
        for i, t in enumerate(task_list):
            if t.bench_category not in allowed:
                raise ScoringInputError(
                    f"sample {i}: task {t.config_name!r} ({t.task_id}) belongs to {t.bench_category!r}, "
                    f"not to {', '.join(sorted(allowed))}"
                )
    gold = [_first_reference(r) for r in refs]
    missing: dict[str, list[int]] = {}
    for i, (g, t) in enumerate(zip(gold, task_list)):
        if ((g is None or (isinstance(g, float) and math.isnan(g)) or type(g).__name__ == "NAType")
                and not skips_missing_reference(t)):
            missing.setdefault(t.config_name, []).append(i)
    if missing:
        parts = [f"{name} (samples {', '.join(map(str, idx[:5]))}{', ...' if len(idx) > 5 else ''})"
                 for name, idx in missing.items()]
        raise MissingReferenceError("references are missing for " + "; ".join(parts))
    return preds, gold, task_list


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
        elif rule in _ACCURACY_FUNCS:
            fn = _ACCURACY_FUNCS[rule]
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
            lang = _lang(t)
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
        results = _run_text_jobs([(p, r, lang) for _, _, p, r, lang in text_jobs], num_proc=num_proc)
        for (tid, pos, *_), (b, r) in zip(text_jobs, results):
            stats[tid].values["bleu1"][pos] = b
            stats[tid].values["rougeL"][pos] = r
    return stats


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


def _run_text_jobs(pairs: list[tuple[str, str, str]], *, num_proc: int = 1) -> list[tuple[float, float]]:
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


# ---------------------------------------------------------------------------
# aggregation, bootstrap, tables
# ---------------------------------------------------------------------------


def _point(st: TaskStats) -> dict[str, float]:
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
        yt, yp = _hoc_matrices(st.labels)
        p, r, f = prf_macro(yt, yp)
        return {"precision": 100 * p, "recall": 100 * r, "f1": 100 * f}
    n = st.n
    return {m: (100 * sum(v) / n if n else 0.0) for m, v in st.values.items()}


def _hoc_matrices(labels: list[tuple[frozenset, frozenset]]) -> tuple[np.ndarray, np.ndarray]:
    yt = np.array([[lab in g for lab in HOC_LABELS] for g, _ in labels], dtype=bool).reshape(-1, len(HOC_LABELS))
    yp = np.array([[lab in p for lab in HOC_LABELS] for _, p in labels], dtype=bool).reshape(-1, len(HOC_LABELS))
    return yt, yp


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


def _bootstrap_stats(st_like: dict[str, Any], rule: str, rng: np.random.Generator, resamples: int) -> dict[str, np.ndarray]:
    """Resampled metric values (percentages) for one task or group."""
    out: dict[str, list[np.ndarray]] = {}
    if rule == NER:
        counts = np.asarray(st_like["counts"], dtype=float).reshape(-1, 3)
        n = len(counts)
        for w in _weights(rng, n, resamples):
            s = w @ counts
            tp, fp, fn = s[:, 0], s[:, 1], s[:, 2]
            p = _safe_div(tp, tp + fp)
            r = _safe_div(tp, tp + fn)
            f = _safe_div(2 * p * r, p + r)
            for k, v in (("precision", p), ("recall", r), ("f1", f)):
                out.setdefault(k, []).append(100 * v)
    elif rule == HOC:
        yt, yp = _hoc_matrices(st_like["labels"])
        yt, yp = yt.astype(float), yp.astype(float)
        n = len(yt)
        tp_m = yt * yp
        for w in _weights(rng, n, resamples):
            p, r, f = _macro_from_sums(w @ tp_m, w @ yp, w @ yt)
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


def _ci(samples: dict[str, np.ndarray], confidence: float) -> dict[str, list[float]]:
    lo_q, hi_q = 50 * (1 - confidence), 50 * (1 + confidence)
    return {k: [float(np.percentile(v, lo_q)), float(np.percentile(v, hi_q))] for k, v in samples.items()}


@dataclass(frozen=True)
class Column:
    """One column of a paper table: a task id or a group, and the metrics the paper shows."""

    name: str
    source: str  # "task57" or a GROUPS key
    metrics: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    key: str
    title: str
    columns: tuple[Column, ...]
    avg_of: tuple[str, ...] = ()  # column names averaged into "Avg." (none: no Avg. column)


def _cols(metrics: tuple[str, ...], *pairs: tuple[str, str]) -> tuple[Column, ...]:
    return tuple(Column(name, src, metrics) for name, src in pairs)


_ACC = ("accuracy",)
_BR = ("bleu1", "rougeL")
_PRF = ("precision", "recall", "f1")

#: The paper's Tables 1-8 (column order as printed).
TABLES: tuple[Table, ...] = (
    Table("table1", "Table 1: multiple-choice question answering (accuracy)", _cols(
        _ACC, ("MedQA", "task57"), ("MedMCQA", "task122"), ("PubMedQA", "task123"), ("MMedBench ZH", "task58"),
        ("MMedBench JA", "task59"), ("MMedBench FR", "task60"), ("MMedBench RU", "task61"),
        ("MMedBench ES", "task129")),
        avg_of=("MedQA", "MedMCQA", "PubMedQA", "MMedBench ZH", "MMedBench JA", "MMedBench FR", "MMedBench RU",
                "MMedBench ES")),
    Table("table2", "Table 2: text summarization (BLEU-1/ROUGE-L)", _cols(
        _BR, ("MedQSum", "task114"), ("RCT-Text Study Con.", "task110"), ("MIMIC-CXR X-ray", "task112"),
        ("MIMIC-IV Ultrasound", "task78"), ("MIMIC-IV CT", "CT"), ("MIMIC-IV MRI", "MRI")),
        avg_of=("MedQSum", "RCT-Text Study Con.", "MIMIC-CXR X-ray", "MIMIC-IV Ultrasound")),
    Table("table3", "Table 3: information extraction (accuracy)", _cols(
        _ACC, ("PICO Participant Ext.", "task1"), ("PICO Intervention Ext.", "task2"),
        ("PICO Outcome Ext.", "task3"), ("ADE Drug Dose Ext.", "task29"), ("PMC-Patients Basic Info. Ext.", "task74")),
        avg_of=("PICO Participant Ext.", "PICO Intervention Ext.", "PICO Outcome Ext.", "ADE Drug Dose Ext.",
                "PMC-Patients Basic Info. Ext.")),
    Table("table4", "Table 4: concept explanation (BLEU-1/ROUGE-L)", _cols(
        _BR, ("HealthFact Exp.", "task18"), ("DO Entity Exp.", "task46"), ("BioLORD Concept Exp.", "task50")),
        avg_of=("HealthFact Exp.", "DO Entity Exp.", "BioLORD Concept Exp.")),
    Table("table5", "Table 5: rationale, MMedBench (BLEU-1/ROUGE-L)", _cols(
        _BR, ("Chinese", "task51"), ("English", "task52"), ("French", "task53"), ("Japanese", "task54"),
        ("Russian", "task55"), ("Spanish", "task56")),
        avg_of=("Chinese", "English", "French", "Japanese", "Russian", "Spanish")),
    Table("table6", "Table 6: named entity recognition (F1)", _cols(
        ("f1",), ("BC4Chem Chemical Rec.", "task125"), ("BC5Chem Chemical Rec.", "task126"),
        ("BC5Disease Disease Rec.", "task127"), ("Species800 Organism Rec.", "task128")),
        avg_of=("BC4Chem Chemical Rec.", "BC5Chem Chemical Rec.", "BC5Disease Disease Rec.",
                "Species800 Organism Rec.")),
    Table("table7", "Table 7: treatment planning, diagnosis, clinical outcome (accuracy) and HoC (P/R/F1)",
          _cols(_ACC, ("SEER", "task131"), ("DDXPlus", "task130"), ("MIMIC4ED Hospitalization", "task117"),
                ("MIMIC4ED 72h ED Revisit", "task118"), ("MIMIC4ED Critical Triage", "task119"))
          + _cols(_PRF, ("HoC Classification", "task106"))),
    Table("table8", "Table 8: fact verification and NLI", (
        Column("PubMedQA Answer Ver.", "task12", _ACC), Column("HealthFact Ver.", "task16", _ACC),
        Column("EBMS Justification Ver.", "task100", _BR), Column("MedNLI Discriminative", "task41", _ACC),
        Column("MedNLI Generative", "task42", _BR))),
)


def _group_stats(stats: dict[str, TaskStats], members: tuple[str, ...]) -> dict[str, Any] | None:
    present = [stats[t] for t in members if t in stats]
    if not present:
        return None
    values: dict[str, list[float]] = {"bleu1": [], "rougeL": []}
    for st in present:  # task order, like the official script
        for k in values:
            values[k].extend(st.values.get(k, []))
    return {"tasks": [st.task.config_name for st in present], "values": values,
            "skipped": sum(st.skipped for st in present)}


def _check_options(bootstrap: int, confidence: float) -> None:
    if not isinstance(confidence, (int, float)) or not 0 < confidence < 1:
        raise ScoringInputError(f"confidence must be between 0 and 1, got {confidence!r}")
    if isinstance(bootstrap, bool) or not isinstance(bootstrap, (int, np.integer)) or bootstrap < 0:
        raise ScoringInputError(f"bootstrap must be a number of resamples >= 0, got {bootstrap!r}")


def aggregate(
    stats: dict[str, TaskStats],
    *,
    bootstrap: int = DEFAULT_BOOTSTRAP,
    bootstrap_seed: int = DEFAULT_BOOTSTRAP_SEED,
    confidence: float = DEFAULT_CONFIDENCE,
) -> dict[str, Any]:
    """Per-task scores with CIs, CT/MRI groups, categories and paper tables (see :func:`score`)."""
    _check_options(bootstrap, confidence)
    tasks_out: dict[str, dict[str, Any]] = {}
    for tid, st in stats.items():
        entry: dict[str, Any] = {"task_id": tid, "n": st.n, "skipped": st.skipped}
        if st.truncated:
            entry["truncated"] = st.truncated
        entry.update(_point(st))
        if bootstrap and st.n:
            rng = np.random.default_rng([bootstrap_seed, st.task.number])
            like = {"values": st.values, "counts": st.counts, "labels": st.labels}
            entry["ci"] = _ci(_bootstrap_stats(like, st.rule, rng, bootstrap), confidence)
        else:
            entry["ci"] = None
        tasks_out[st.task.config_name] = entry

    groups_out: dict[str, dict[str, Any]] = {}
    for gi, (gname, members) in enumerate(GROUPS.items()):
        g = _group_stats(stats, members)
        if g is None:
            continue
        n = len(g["values"]["bleu1"])
        entry = {"tasks": g["tasks"], "n": n, "skipped": g["skipped"]}
        entry.update({k: (100 * sum(v) / n if n else 0.0) for k, v in g["values"].items()})
        if bootstrap and n:
            rng = np.random.default_rng([bootstrap_seed, 10_000 + gi])
            entry["ci"] = _ci(_bootstrap_stats(g, TEXT_PLAIN, rng, bootstrap), confidence)
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

    tables_out: dict[str, dict[str, Any]] = {}
    for table in TABLES:
        cells: dict[str, Any] = {}
        for col in table.columns:
            src = groups_out.get(col.source) if col.source in GROUPS else _by_id(tasks_out, col.source)
            cells[col.name] = None if src is None else {m: src[m] for m in col.metrics}
        if all(v is None for v in cells.values()):
            continue
        if table.avg_of:
            parts = [cells[c] for c in table.avg_of]
            metrics = next(c.metrics for c in table.columns if c.name == table.avg_of[0])
            cells["Avg."] = (None if any(p is None for p in parts)
                             else {m: sum(p[m] for p in parts) / len(parts) for m in metrics})
        tables_out[table.key] = cells

    return {"tasks": tasks_out, "groups": groups_out, "categories": categories_out, "tables": tables_out}


def _by_id(tasks_out: dict[str, dict[str, Any]], task_id: str) -> dict[str, Any] | None:
    for entry in tasks_out.values():
        if entry["task_id"] == task_id:
            return entry
    return None


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
    _check_options(bootstrap, confidence)
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


# ---------------------------------------------------------------------------
# scopes (metric config names) and the installed metric
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """What a metric config name fixes: nothing, one task, or one benchmark category."""

    name: str
    task: Task | None = None
    category: str | None = None

    @property
    def needs_tasks(self) -> bool:
        """Whether per-sample task names are an input (not for one-task scopes)."""
        return self.task is None


def resolve_scope(config_name: str | None) -> Scope:
    """Interpret a metric config name: ``default``, a bench task (name or id) or a category.

    A category with a single task (diagnosis, treatment_planning, text_classification)
    fixes that task.
    """
    name = (config_name or "default").strip()
    if name.lower() in ("default", "all", "meds_bench"):
        return Scope("default")
    key = name.lower().replace("-", "_").replace(" ", "_")
    category = CATEGORY_SLUGS.get(key)
    if category is None:
        for cat in BENCH_CATEGORIES:
            if cat.lower().replace(" ", "_").replace("-", "_") == key:
                category = cat
    if category is not None:
        members = select_tasks(bench_category=category)
        if len(members) == 1:
            return Scope(name, task=members[0], category=category)
        return Scope(name, category=category)
    try:
        task = get_task(name)
    except UnknownTaskError:
        raise UnknownTaskError(
            f"unknown meds_bench config {name!r}: use 'default', a benchmark task (config name or id, "
            f"e.g. 'medqa_en' or 'task57') or a category ({', '.join(CATEGORY_SLUGS)})"
        ) from None
    rule_of(task)
    return Scope(name, task=task, category=task.bench_category)


def metric_path(name: str = "meds_bench") -> str:
    """Folder of an installed evaluate module, for ``evaluate.load(metric_path())`` (offline, any cwd).

    This is the documented offline route to the metric: ``evaluate.load`` loads a local folder
    that holds ``<name>/<name>.py`` before it looks anything up on the Hub, so it works after
    ``pip install medsins`` from any directory, with ``HF_EVALUATE_OFFLINE=1``. ``name`` is
    ``"meds_bench"`` (the metric) or ``"meds_bench_suite"`` (the evaluation suite, for
    ``evaluate.EvaluationSuite.load(metric_path("meds_bench_suite"))``). The online route is
    ``evaluate.load("ORG/meds_bench")`` after ``medsins push-metric ORG/meds_bench``.
    """
    shipped = ("meds_bench", "meds_bench_suite")  # the folders of metrics/ (medsins_datasets.metrics)
    if name not in shipped:
        raise MedsinsError(f"unknown medsins evaluate module {name!r}; one of: {', '.join(shipped)}")
    path = Path(str(resources.files("medsins_datasets.metrics") / name))
    if not (path / f"{name}.py").is_file():  # pragma: no cover - broken install
        raise MedsinsError(f"the {name} module is not installed at {path} (reinstall medsins)")
    return str(path)


def register_metric(modules_cache: str | None = None) -> str:
    """Make the bare name ``evaluate.load("meds_bench")`` work offline in any directory; returns
    the folder written.

    An explicit opt-in (importing medsins never does it): evaluate resolves a bare name as a
    ``meds_bench/meds_bench.py`` folder in the current directory, else as
    ``evaluate-metric/meds_bench`` on the Hub (which does not exist), and when both fail it falls
    back to the newest copy in its dynamic-modules cache
    (``$HF_MODULES_CACHE/evaluate_modules/metrics/evaluate-metric--meds_bench/<hash>/``). This
    copies the installed metric (``meds_bench.py`` and its card) there, under the SHA-256 of
    their content; the copy registered last is the one used. evaluate logs a warning ("Using the
    latest cached version of the module...") on every such load, and with evaluate online each
    load first asks the Hub (a failed request). Prefer ``evaluate.load(metric_path())`` offline
    or ``evaluate.load("ORG/meds_bench")`` online. ``modules_cache`` defaults to evaluate's
    ``HF_MODULES_CACHE``. Calling it again re-registers (idempotent for the same version).
    """
    import hashlib
    import shutil

    from evaluate import config as ev_config

    src = Path(metric_path())
    files = [src / "meds_bench.py", src / "README.md"]
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in files)).hexdigest()
    cache = Path(modules_cache or ev_config.HF_MODULES_CACHE)
    base = cache / "evaluate_modules"
    dest = base / "metrics" / "evaluate-metric--meds_bench" / digest
    dest.mkdir(parents=True, exist_ok=True)
    for d in (base, base / "metrics", dest.parent, dest):
        (d / "__init__.py").touch()
    for p in files:
        shutil.copyfile(p, dest / p.name)
    return str(dest)


# ---------------------------------------------------------------------------
# text rendering of results
# ---------------------------------------------------------------------------


def _fmt_cell(cell: Mapping[str, float] | None, metrics: tuple[str, ...]) -> str:
    if cell is None:
        return "-"
    return "/".join(f"{cell[m]:.2f}" for m in metrics)


def _fmt_ci(ci: Mapping[str, list[float]] | None, metrics: tuple[str, ...]) -> str:
    if not ci:
        return ""
    return "/".join(f"[{ci[m][0]:.2f}, {ci[m][1]:.2f}]" for m in metrics)


def format_tables(result: Mapping[str, Any], *, per_task: bool = False) -> str:
    """The paper tables of a :func:`score` result as plain text (2 decimals, CI and n per column)."""
    lines: list[str] = []
    tasks_out = result.get("tasks", {})
    groups_out = result.get("groups", {})
    for table in TABLES:
        cells = result.get("tables", {}).get(table.key)
        if cells is None:
            continue
        lines.append(table.title)
        rows = [("column", "score", "95% CI" if _conf(result) == 0.95 else "CI", "n")]
        for col in table.columns:
            src = groups_out.get(col.source) if col.source in GROUPS else _by_id(tasks_out, col.source)
            if src is None:
                rows.append((col.name, "-", "", ""))
                continue
            rows.append((col.name, _fmt_cell(cells[col.name], col.metrics),
                         _fmt_ci(src.get("ci"), col.metrics), str(src["n"])))
        if table.avg_of:
            metrics = next(c.metrics for c in table.columns if c.name == table.avg_of[0])
            rows.append(("Avg.", _fmt_cell(cells.get("Avg."), metrics), "", ""))
        lines.extend(_render(rows))
        lines.append("")
    if per_task and tasks_out:
        lines.append("Per task")
        rows = [("task", "id", "n", "skipped", "scores")]
        for name, e in tasks_out.items():
            scores = ", ".join(f"{m} {e[m]:.2f}" for m in METRICS if m in e)
            rows.append((name, e["task_id"], str(e["n"]), str(e["skipped"]), scores))
        lines.extend(_render(rows))
        lines.append("")
    mism = result.get("settings", {}).get("version_mismatches")
    if mism:
        lines.append("warning: package versions differ from the official ones, scores may not match the paper: "
                     + ", ".join(f"{k} {v['installed']} (official {v['official']})" for k, v in mism.items()))
    return "\n".join(lines).rstrip() + "\n"


def _conf(result: Mapping[str, Any]) -> float:
    return result.get("settings", {}).get("confidence", DEFAULT_CONFIDENCE)


def _render(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    out = []
    for k, r in enumerate(rows):
        out.append("  " + "  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip())
        if k == 0:
            out.append("  " + "  ".join("-" * w for w in widths))
    return out
