"""MedS-Bench per-sample rules: value handling, one pure function per rule, the task -> rule map.

The rules follow the official evaluation scripts of MedS-Bench (``Metrics/*.py`` of
MAGIC-AI4Med/MedS-Ins) as written down in ``metrics/meds_bench/README.md``. Which rule a task
gets is data (``tasks.<id>.rule`` of ``data/benchmark.yaml``, read by
:mod:`medsins_datasets.registry.benchmark`); this module implements each rule kind. What is
computed over a whole task (NER micro and HoC macro P/R/F1, means) is in :mod:`.corpus`, BLEU-1
and ROUGE-L in :mod:`.similarity`.

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
from typing import Any

from medsins_datasets.errors import MedsinsError
from medsins_datasets.registry.benchmark import BENCHMARK_FILE, benchmark_settings
from medsins_datasets.registry.tasks import Task, get_task
from medsins_datasets.scoring.similarity import (
    DEFAULT_MAX_PREDICTION_CHARS,
    text_scores,
)
from medsins_datasets.scoring.text_tokenizers import language_code


class ScoringInputError(MedsinsError, ValueError):
    """Predictions, references or task names that cannot be scored as given."""


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


# ---------------------------------------------------------------------------
# task -> rule
# ---------------------------------------------------------------------------

#: rule kinds (the values ``tasks.<id>.rule`` of ``data/benchmark.yaml`` may take:
#: :data:`medsins_datasets.registry.benchmark.RULE_KINDS`)
MCQA, MCQA_YN, IE, DIAGNOSIS, TREATMENT, OUTCOME, FV_ACC, NLI_ACC, NER, HOC = (
    "mcqa", "mcqa_yes_no", "information_extraction", "diagnosis", "treatment_planning",
    "clinical_outcome", "fact_verification", "nli", "ner", "hoc",
)
TEXT_PLAIN, TEXT_EXPLANATION, TEXT_RATIONALE, TEXT_EBMS = "text", "text_explanation", "text_rationale", "text_ebms"
TEXT_RULES = (TEXT_PLAIN, TEXT_EXPLANATION, TEXT_RATIONALE, TEXT_EBMS)

#: accuracy rule kind -> its per-sample function (MCQA has its own: it needs ``yes_no``)
ACCURACY_FUNCS = {
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
    """The scoring rule kind of a MedS-Bench task (``tasks.<id>.rule`` of ``data/benchmark.yaml``)."""
    if task.bench_category is None:
        raise ScoringInputError(
            f"task {task.config_name!r} ({task.task_id}) is not a MedS-Bench task: it has no official scoring rule. "
            "Run `medsins tasks --bench` to list the benchmark tasks."
        )
    entry = benchmark_settings().task(task.task_id)
    if entry is None:  # pragma: no cover - tests/registry/test_benchmark_settings.py keeps both files in step
        raise ScoringInputError(f"benchmark task {task.config_name!r} ({task.task_id}) has no scoring rule in "
                                f"{BENCHMARK_FILE}")
    return entry.rule


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
    elif rule in ACCURACY_FUNCS:
        out["accuracy"] = 100.0 * ACCURACY_FUNCS[rule](prediction, reference, strict=strict)
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
            b, r = text_scores(pair[0], pair[1], task_language(t))
            out["bleu1"], out["rougeL"] = 100 * b, 100 * r
    return out


def task_language(task: Task) -> str:
    """The language code a task's outputs are tokenised in for BLEU/ROUGE (its first output language)."""
    return language_code(task.output_languages[0]) if task.output_languages else "en"
