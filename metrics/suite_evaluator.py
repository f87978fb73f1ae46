"""The evaluator behind the MedS-Bench ``evaluate.EvaluationSuite`` (``metrics/meds_bench_suite``).

Why an adaptation is needed. ``EvaluationSuite.run`` hands every ``SubTask`` to
``evaluate.evaluator(task_type)``; with the installed evaluate 0.4.6 and transformers 5 (checked
against both sources) that path cannot run a generation benchmark:

* ``evaluator("text2text-generation")`` and ``evaluator("summarization")`` raise ``KeyError``:
  transformers 5 removed those pipelines; only ``"text-generation"`` is left;
* its ``TextGenerationEvaluator`` is built to *measure* generations (``word_count``): its
  ``prepare_data`` gives the metric no references, its predictions reach the metric as ``data=``,
  and its ``compute`` takes no generation arguments (the class-level ``PIPELINE_KWARGS`` are
  empty), so a task's output budget and greedy decoding cannot be set per task;
* ``Evaluator.__init__`` refuses to start without scipy, which only ``strategy="bootstrap"``
  uses (``meds_bench`` computes its own seeded per-task bootstrap intervals);
* ``Evaluator.prepare_pipeline`` tests ``isinstance(x, transformers.TFPreTrainedModel)``, a class
  transformers 5 no longer has: any pipeline argument ends in ``AttributeError``;
* ``EvaluationSuite.run`` replaces each ``SubTask.data`` with the preprocessed ``Dataset``, so a
  suite can run only once.

:class:`MedsBenchEvaluator` subclasses evaluate's ``TextGenerationEvaluator`` and changes only
those points; :func:`run_suite` is ``EvaluationSuite.run``'s loop with it. Loading the split
(``datasets``), the metric, the timing figures and the result layout stay evaluate's. The
prompts reach the model exactly as ``medsins bench``'s ``hf`` backend feeds them: the rendered
official messages through the model's chat template (or the official plain text without one,
BOS added by the tokenizer), cut to the protocol's first ``max_prompt_tokens`` tokens, greedy,
at most the task's budget of new tokens, the completion decoded without special tokens and
stripped (:func:`medsins_datasets.runner.backends.prompt_text`).
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Sequence

from evaluate.evaluator import TextGenerationEvaluator
from evaluate.evaluator.utils import DatasetColumnPair

from medsins_datasets.runner.backends import prompt_text
from medsins_datasets.errors import MedsinsError
from medsins_datasets.prompts import ChatPrompt

logger = logging.getLogger(__name__)

#: columns the suite's ``data_preprocessor`` adds: the official chat messages and plain text
MESSAGES_COLUMN = "messages"
TEXT_COLUMN = "prompt_text"


class MedsBenchEvaluator(TextGenerationEvaluator):
    """``text-generation`` evaluator that scores generations against references with a metric.

    ``compute(..., generation_kwargs={"max_new_tokens": N, "do_sample": False},
    max_prompt_tokens=2048)``: the data needs the :data:`MESSAGES_COLUMN` and
    :data:`TEXT_COLUMN` columns (the suite's ``data_preprocessor`` writes them) and the label
    column (the gold answer).
    """

    def __init__(self, task: str = "text-generation", default_metric_name: str | None = None):
        # evaluate's __init__ only adds a check for scipy (strategy="bootstrap"), refused below
        self.task = task
        self.default_metric_name = default_metric_name
        self.predictions_prefix = "generated"
        self.pipeline_kwargs: dict[str, Any] = {}
        self.max_prompt_tokens: int | None = None

    def compute(self, model_or_pipeline: Any = None, data: Any = None, subset: str | None = None,
                split: str | None = None, metric: Any = None, tokenizer: Any = None, strategy: str = "simple",
                device: int | None = None, input_column: str = MESSAGES_COLUMN, label_column: str = "output",
                generation_kwargs: dict | None = None, max_prompt_tokens: int | None = None,
                **kwargs: Any) -> dict[str, Any]:
        if strategy != "simple":
            raise MedsinsError(f"strategy {strategy!r}: the meds_bench metric computes its own bootstrap "
                               "intervals (its `bootstrap` option); use strategy='simple'")
        self.pipeline_kwargs = {"do_sample": False, **(generation_kwargs or {})}
        self.max_prompt_tokens = max_prompt_tokens or None
        return super().compute(model_or_pipeline=model_or_pipeline, data=data, subset=subset, split=split,
                               metric=metric, tokenizer=tokenizer, strategy="simple", device=device,
                               input_column=input_column, label_column=label_column, **kwargs)

    def prepare_data(self, data, input_column: str, label_column: str, *args, **kwargs):
        self.check_required_columns(data, {"input_column": input_column, "label_column": label_column,
                                           "text_column": TEXT_COLUMN})
        prompts = DatasetColumnPair(data, input_column, TEXT_COLUMN, "messages", "text")
        return {"references": list(data[label_column])}, prompts

    def prepare_pipeline(self, model_or_pipeline: Any, tokenizer: Any = None, feature_extractor: Any = None,
                         device: int | None = None):
        from transformers import Pipeline, PreTrainedModel, pipeline

        if isinstance(model_or_pipeline, Pipeline):
            pipe = model_or_pipeline
        elif isinstance(model_or_pipeline, (str, PreTrainedModel)):
            pipe = pipeline(self.task, model=model_or_pipeline, tokenizer=tokenizer,
                            device=self._infer_device() if device is None else device)
        else:
            raise MedsinsError("the MedS-Bench suite runs a transformers text-generation pipeline, a model or a "
                               f"model name; got {type(model_or_pipeline).__name__}")
        if pipe.task != self.task:
            raise MedsinsError(f"the MedS-Bench suite needs a {self.task!r} pipeline, got a {pipe.task!r} one")
        return pipe

    def call_pipeline(self, pipe, prompts, *args, **kwargs):
        from time import perf_counter

        tok = pipe.tokenizer
        chat = bool(getattr(tok, "chat_template", None))
        texts = [prompt_text(tok, ChatPrompt(tuple((m["role"], m["content"]) for m in p["messages"]), p["text"]),
                             chat) for p in prompts]
        call_kwargs: dict[str, Any] = {"return_full_text": False, "add_special_tokens": not chat,
                                       **self.pipeline_kwargs}
        if self.max_prompt_tokens:
            if getattr(tok, "truncation_side", "right") != "right":
                raise MedsinsError(f"the tokenizer cuts prompts on the {tok.truncation_side} side; the protocol keeps "
                                   "the FIRST max_prompt_tokens tokens (set tokenizer.truncation_side = 'right')")
            call_kwargs.update(truncation=True, tokenizer_encode_kwargs={"max_length": self.max_prompt_tokens})
        start = perf_counter()
        outputs = pipe(texts, **call_kwargs)
        end = perf_counter()
        return outputs, self._compute_time_perf(start, end, len(outputs))

    def predictions_processor(self, predictions, *args, **kwargs):
        return {"predictions": [str(out[0][f"{self.predictions_prefix}_text"]).strip() for out in predictions]}


def run_suite(subtasks: Sequence[Any], model_or_pipeline: Any,
              evaluator_factory: Callable[[], MedsBenchEvaluator] = MedsBenchEvaluator) -> list[dict[str, Any]]:
    """``EvaluationSuite.run`` with :class:`MedsBenchEvaluator`: for each ``SubTask``, load its
    split, apply its ``data_preprocessor`` (in memory: the prompts depend on shots drawn from
    other rows, which no cache fingerprint sees), generate and score. Returns one result dict
    per sub-task (the metric's output, evaluate's timing figures, ``task_name``, ``split``,
    ``data_preprocessor``), like ``EvaluationSuite.run``; the sub-tasks are left unchanged."""
    from datasets import load_dataset

    if not subtasks:
        raise MedsinsError("the suite has no task: the data holds none of the selected MedS-Bench tasks")
    results = []
    for task in subtasks:
        data = task.data
        if isinstance(data, str):
            data = load_dataset(data, name=task.subset, split=task.split)
        if task.data_preprocessor is not None:
            data = data.map(task.data_preprocessor, keep_in_memory=True, load_from_cache_file=False)
        out = evaluator_factory(task.task_type).compute(model_or_pipeline=model_or_pipeline, data=data,
                                                        **dict(task.args_for_task or {}))
        name = task.data if isinstance(task.data, str) else "dataset"
        out["task_name"] = f"{name}/{task.subset}" if task.subset else name
        out["split"] = task.split
        out["data_preprocessor"] = str(task.data_preprocessor) if task.data_preprocessor is not None else None
        results.append(out)
    return results
