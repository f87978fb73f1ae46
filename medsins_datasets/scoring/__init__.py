"""MedS-Bench scoring: the official rules, per benchmark category, as pure functions.

This package is shared by the ``meds_bench`` evaluate metric (``metrics/meds_bench``),
the ``medsins score`` command and the benchmark runner. The rules follow the official
evaluation scripts of MedS-Bench (``Metrics/*.py`` of MAGIC-AI4Med/MedS-Ins) as written
down in ``metrics/meds_bench/README.md``; the scores are percentages (0-100) like the
paper's tables. ``strict=True`` (the default) applies the official rules, quirks included
(:data:`OFFICIAL_QUIRKS`), ``strict=False`` the corrected ones; :mod:`.rules` says how missing
values are treated.

Per-sample rules and corpus aggregation are kept apart (as lighteval keeps its
``metrics_sample`` and ``metrics_corpus``):

* :mod:`.rules`: value handling, one pure function per rule, the rule kinds and the task ->
  rule map (read from ``data/benchmark.yaml``), :func:`score_sample`;
* :mod:`.similarity`: BLEU-1 / ROUGE-L of text pairs, batched and over worker processes
  (:mod:`.overlap` computes them, :mod:`.text_tokenizers` tokenises per language);
* :mod:`.corpus`: per-task statistics and the corpus-level metrics (means, NER micro and HoC
  macro P/R/F1, pooled groups);
* :mod:`.bootstrap`: the bootstrap confidence intervals;
* :mod:`.tables`: the paper's Tables 1-8 and the CT/MRI groups (from ``data/benchmark.yaml``);
* :mod:`.inputs`: checks of what is scored, and the predictions-file reader of ``medsins score``;
* :mod:`.aggregation`: :func:`collect`, :func:`aggregate` and :func:`score`, the entry point;
* :mod:`.report`: the tables as text (:func:`format_tables`);
* :mod:`.metric`: metric config names (:func:`resolve_scope`), :func:`metric_path`,
  :func:`register_metric`.

This module only re-exports the public names (``from medsins_datasets.scoring import score``).
"""

from __future__ import annotations

from medsins_datasets.registry.benchmark import METRICS
from medsins_datasets.scoring.aggregation import aggregate, collect, score, settings
from medsins_datasets.scoring.bootstrap import (
    DEFAULT_BOOTSTRAP,
    DEFAULT_BOOTSTRAP_SEED,
    DEFAULT_CONFIDENCE,
)
from medsins_datasets.scoring.corpus import TaskStats, prf_macro, prf_micro
from medsins_datasets.scoring.inputs import (
    MissingReferenceError,
    ScoreFileError,
    check_rows,
    prepare_inputs,
    read_rows,
)
from medsins_datasets.scoring.metric import (
    CATEGORY_SLUGS,
    Scope,
    metric_path,
    register_metric,
    resolve_scope,
)
from medsins_datasets.scoring.report import format_tables
from medsins_datasets.scoring.rules import (
    DIAGNOSIS,
    FV_ACC,
    HOC,
    HOC_LABELS,
    IE,
    MCQA,
    MCQA_YN,
    NER,
    NLI_ACC,
    NO_ENTITY,
    NO_ENTITY_CORRECT,
    OFFICIAL_QUIRKS,
    OUTCOME,
    TEXT_EBMS,
    TEXT_EXPLANATION,
    TEXT_PLAIN,
    TEXT_RATIONALE,
    TEXT_RULES,
    TREATMENT,
    ScoringInputError,
    as_text,
    diagnosis_correct,
    fact_verification_correct,
    hoc_labels,
    information_extraction_correct,
    is_missing,
    mcqa_correct,
    metrics_of,
    ner_counts,
    ner_entities,
    nli_correct,
    official_str,
    option_letter,
    outcome_correct,
    rule_of,
    score_sample,
    skips_missing_reference,
    text_pair,
    treatment_correct,
)
from medsins_datasets.scoring.similarity import (
    DEFAULT_MAX_PREDICTION_CHARS,
    bleu1,
    rouge_l,
    text_scores,
    text_scores_batch,
)
from medsins_datasets.scoring.tables import GROUPS, TABLES, Column, Table

__all__ = [
    "CATEGORY_SLUGS",
    "DEFAULT_BOOTSTRAP",
    "DEFAULT_BOOTSTRAP_SEED",
    "DEFAULT_CONFIDENCE",
    "DEFAULT_MAX_PREDICTION_CHARS",
    "DIAGNOSIS",
    "FV_ACC",
    "GROUPS",
    "HOC",
    "HOC_LABELS",
    "IE",
    "MCQA",
    "MCQA_YN",
    "METRICS",
    "NER",
    "NLI_ACC",
    "NO_ENTITY",
    "NO_ENTITY_CORRECT",
    "OFFICIAL_QUIRKS",
    "OUTCOME",
    "TABLES",
    "TEXT_EBMS",
    "TEXT_EXPLANATION",
    "TEXT_PLAIN",
    "TEXT_RATIONALE",
    "TEXT_RULES",
    "TREATMENT",
    "Column",
    "MissingReferenceError",
    "Scope",
    "ScoreFileError",
    "ScoringInputError",
    "Table",
    "TaskStats",
    "aggregate",
    "as_text",
    "bleu1",
    "check_rows",
    "collect",
    "diagnosis_correct",
    "fact_verification_correct",
    "format_tables",
    "hoc_labels",
    "information_extraction_correct",
    "is_missing",
    "mcqa_correct",
    "metric_path",
    "metrics_of",
    "ner_counts",
    "ner_entities",
    "nli_correct",
    "official_str",
    "option_letter",
    "outcome_correct",
    "prepare_inputs",
    "prf_macro",
    "prf_micro",
    "read_rows",
    "register_metric",
    "resolve_scope",
    "rouge_l",
    "rule_of",
    "score",
    "score_sample",
    "settings",
    "skips_missing_reference",
    "text_pair",
    "text_scores",
    "text_scores_batch",
    "treatment_correct",
]
