"""MedS-Bench: the official scoring rules of the MedS-Bench medical LLM benchmark, with bootstrap CIs.

The scoring itself lives in ``medsins_datasets.scoring`` (shared with ``medsins score``
and the benchmark runner); this module is the ``evaluate`` front end.
"""

import json
import math

import datasets
import evaluate

from medsins_datasets import scoring
from medsins_datasets.cards import citation

#: the paper's BibTeX entry, read from its one copy (medsins_datasets/data/citation.bib)
_CITATION = citation()

_DESCRIPTION = """\
MedS-Bench scores model outputs on the 53 tasks of the MedS-Bench benchmark (12 categories:
multiple-choice QA, summarization, information extraction, NER, explanation, rationale,
diagnosis, treatment planning, clinical outcome prediction, text classification, fact
verification, NLI) with the rules of the official evaluation scripts: first-letter MCQA
accuracy, substring accuracies, micro P/R/F1 for NER, macro P/R/F1 for HoC, and BLEU-1
(NLTK, smoothing method1) plus ROUGE-L F (the `rouge` package) with per-language tokenisers
(NLTK + English Punkt, jieba, janome). Scores are percentages, per task with 95% bootstrap
confidence intervals, per category, and as the columns of the paper's Tables 1-8.
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list` of `str`): model outputs. `None`, `NaN` and `""` are missing outputs and
        get what the official rule gives them; numbers are scored as their text.
    references (`list` of `str`, or `list` of `list` of `str`): gold answers; with several
        references per sample the first one is used.
    tasks (`list` of `str`): per sample, the task's config name (`mmedbench_rationale_zh`) or
        official id (`task51`). Not an input when the config name fixes one task.
    strict (`bool`, default `True`): `True` = the official rules with their quirks (reproduces the
        paper); `False` = corrected rules (see the metric card).
    bootstrap (`int`, default 1000): bootstrap resamples for the confidence intervals; 0 = none.
    bootstrap_seed (`int`, default 42): seed of the resampling.
    confidence (`float`, default 0.95): confidence level of the intervals.
    max_prediction_chars (`int` or `None`, default 20000): longer predictions are cut before BLEU/ROUGE.
    num_proc (`int`, default 1): worker processes for BLEU/ROUGE (0 = one per CPU).
Returns:
    `dict` with `tasks` ({config_name: {task_id, n, skipped, <metric>..., ci}}), `groups` (CT, MRI),
    `categories`, `tables` (table1..table8, paper columns) and `settings`. Metric names:
    accuracy, precision, recall, f1, bleu1, rougeL (0-100).
Examples:
    >>> meds_bench = evaluate.load("metrics/meds_bench")
    >>> out = meds_bench.compute(predictions=["The right answer is B.", "A"],
    ...                          references=["B: Aspirin", "C: Heparin"],
    ...                          tasks=["medqa_en", "task57"], bootstrap=0)
    >>> out["tasks"]["medqa_en"]["accuracy"]
    50.0
"""

_OPTIONS = ("strict", "bootstrap", "bootstrap_seed", "confidence", "max_prediction_chars", "num_proc")


def _jsonable(value):
    """A JSON-encodable copy of an input value (numpy scalars unwrapped, unknown objects as text)."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "tolist") and hasattr(value, "dtype"):  # numpy scalar or array
        return _jsonable(value.tolist())
    if scoring.is_missing(value):
        return None
    return str(value)


def _encode(values, what):
    """Inputs travel through evaluate's Arrow cache as JSON text, so that None, NaN, numbers
    and lists of references reach the scoring rules unchanged (a string column would turn
    them into text or reject them)."""
    if values is None:
        if what == "references":
            raise scoring.MissingReferenceError("references are required (one gold answer per prediction)")
        raise scoring.ScoringInputError(f"{what} are required")
    if isinstance(values, str):
        raise scoring.ScoringInputError(f"{what} must be a list with one entry per sample, got a single string")
    return [json.dumps(_jsonable(v), ensure_ascii=False) for v in values]


def _encode_tasks(values):
    if values is None:
        raise scoring.ScoringInputError("tasks are required: one task name or id per sample (or load a task config)")
    if isinstance(values, str):
        raise scoring.ScoringInputError("tasks must be a list with one task per sample (or load a task config)")
    out = []
    for v in values:
        if isinstance(v, str):
            out.append(v)
        elif hasattr(v, "__index__") and not isinstance(v, bool):  # int or numpy integer: a task number
            out.append(f"task{int(v)}")
        elif v is None or (isinstance(v, float) and math.isnan(v)):
            out.append("")
        else:
            out.append(str(v))
    return out


def _decode(values):
    return [None if v is None else json.loads(v) for v in values]


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class MedsBench(evaluate.Metric):
    """MedS-Bench official scoring (config: `default`, a task name/id, or a category such as `mcqa`)."""

    def __init__(self, *args, strict=True, bootstrap=scoring.DEFAULT_BOOTSTRAP,
                 bootstrap_seed=scoring.DEFAULT_BOOTSTRAP_SEED, confidence=scoring.DEFAULT_CONFIDENCE,
                 max_prediction_chars=scoring.DEFAULT_MAX_PREDICTION_CHARS, num_proc=1, **kwargs):
        self._options = {"strict": strict, "bootstrap": bootstrap, "bootstrap_seed": bootstrap_seed,
                         "confidence": confidence, "max_prediction_chars": max_prediction_chars,
                         "num_proc": num_proc}
        super().__init__(*args, **kwargs)

    @property
    def scope(self):
        return scoring.resolve_scope(self.config_name)

    def _info(self):
        scope = scoring.resolve_scope(self.config_name)
        features = {"predictions": datasets.Value("string"), "references": datasets.Value("string")}
        if scope.needs_tasks:
            features["tasks"] = datasets.Value("string")
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features(features),
            homepage="https://github.com/MAGIC-AI4Med/MedS-Ins",
            codebase_urls=["https://github.com/MAGIC-AI4Med/MedS-Ins/tree/main/Metrics"],
            reference_urls=["https://arxiv.org/abs/2408.12547"],
            license="Apache-2.0",
        )

    def _check_lengths(self, predictions, references, tasks):
        n_pred, n_ref = len(predictions), len(references)
        if n_pred != n_ref:
            raise scoring.ScoringInputError(f"got {n_pred} predictions but {n_ref} references")
        if tasks is not None and len(tasks) != n_pred:
            raise scoring.ScoringInputError(f"got {n_pred} predictions but {len(tasks)} task names")

    def add_batch(self, *, predictions=None, references=None, **kwargs):
        """Add a batch of predictions, references (and tasks) to the metric's cache."""
        preds = _encode(predictions, "predictions")
        refs = _encode(references, "references")
        if "tasks" in kwargs:
            if not self.scope.needs_tasks:
                raise scoring.ScoringInputError(
                    f"config {self.config_name!r} fixes the task; do not pass `tasks`")
            kwargs["tasks"] = _encode_tasks(kwargs["tasks"])
        elif self.scope.needs_tasks:
            raise scoring.ScoringInputError(
                "`tasks` is required: one task config name or official id per sample "
                "(or load a task config, e.g. evaluate.load(path, 'medqa_en'))")
        self._check_lengths(preds, refs, kwargs.get("tasks"))
        self._validate(predictions, references, kwargs.get("tasks"))
        return super().add_batch(predictions=preds, references=refs, **kwargs)

    def _validate(self, predictions, references, tasks):
        """Reject unknown tasks and missing references before anything is cached."""
        scope = self.scope
        scoring.prepare_inputs(
            list(predictions), list(references), scope.task.task_id if scope.task is not None else tasks,
            categories=[scope.category] if scope.category is not None else None,
        )

    def add(self, *, prediction=None, reference=None, **kwargs):
        """Add one prediction, reference (and task) to the metric's cache."""
        if "tasks" in kwargs:
            kwargs["tasks"] = _encode_tasks([kwargs["tasks"]])[0]
        if reference is None:
            raise scoring.MissingReferenceError("reference is required")
        self._validate([prediction], [reference], [kwargs["tasks"]] if "tasks" in kwargs else None)
        return super().add(prediction=_encode([prediction], "predictions")[0],
                           reference=_encode([reference], "references")[0], **kwargs)

    def compute(self, *, predictions=None, references=None, **kwargs):
        """Score the cached and given samples (see the metric card for the output)."""
        if "tasks" in kwargs and not self.scope.needs_tasks:
            raise scoring.ScoringInputError(f"config {self.config_name!r} fixes the task; do not pass `tasks`")
        unknown = [k for k in kwargs if k not in _OPTIONS and k not in self._feature_names()]
        if unknown:
            raise scoring.ScoringInputError(
                f"unknown argument(s) {unknown}; inputs are {self._feature_names()}, options are {list(_OPTIONS)}")
        if predictions is not None and references is None:
            raise scoring.MissingReferenceError("references are required (one gold answer per prediction)")
        if predictions is not None and self.scope.needs_tasks and kwargs.get("tasks") is None:
            raise scoring.ScoringInputError(
                "`tasks` is required: one task config name or official id per sample "
                "(or load a task config, e.g. evaluate.load(path, 'medqa_en'))")
        return super().compute(predictions=predictions, references=references, **kwargs)

    def _compute(self, predictions, references, tasks=None, **options):
        opts = dict(self._options)
        opts.update({k: v for k, v in options.items() if v is not None or k == "max_prediction_chars"})
        scope = self.scope
        return scoring.score(
            _decode(predictions),
            _decode(references),
            scope.task.task_id if scope.task is not None else list(tasks),
            categories=[scope.category] if scope.category is not None else None,
            **opts,
        )
