"""MedS-Bench as an ``evaluate.EvaluationSuite``: one ``SubTask`` per benchmark task.

Each sub-task reads a task's config and test split from a dataset built by ``medsins build``
(a local folder, by default ``./medsins``, or a Hub dataset repo), renders the official
benchmark prompt of every instance in a ``data_preprocessor`` (the prompt ``medsins bench``
builds: the official protocol's system + user messages with 3 shots drawn from the task's
train split, else from the other test instances), generates greedily with the task's output
budget, and scores with the ``meds_bench`` metric loaded with the task's config name::

    import evaluate
    from transformers import pipeline
    suite = evaluate.EvaluationSuite.load("metrics/meds_bench_suite")   # or metric_path("meds_bench_suite")
    suite.configure(data="medsins", tasks=["medqa_en"], limit=20)        # optional
    results = suite.run(pipeline("text-generation", model="ORG/MODEL"))

``run`` returns one dict per task: the metric's output (``results[i]["tasks"][config]`` holds
the task's scores and bootstrap interval, as in ``medsins bench``'s ``results.json``) plus
evaluate's timing figures. ``medsins bench`` stays the fast path (continuous batching, resuming,
the paper's tables over all tasks); on the same instances, model (in the same dtype) and settings both give the
same scores. Generation goes through
``medsins_datasets.metrics.suite_evaluator``, which explains why evaluate's own
``evaluator(...)`` cannot be used with transformers 5.
"""

import logging
import os
from typing import Any

import datasets
import evaluate
from evaluate.evaluation_suite import SubTask

from medsins_datasets.runner.run import budget_for
from medsins_datasets.errors import MedsinsError
from medsins_datasets.metrics.suite_evaluator import MESSAGES_COLUMN, TEXT_COLUMN, run_suite
from medsins_datasets.prompts import (
    DEFAULT_POOL_SIZE,
    ShotPool,
    choose_shot_pool,
    get_protocol,
    render_instance,
)
from medsins_datasets.registry.tasks import get_task, has_task
from medsins_datasets.scoring import DEFAULT_BOOTSTRAP, metric_path

logger = logging.getLogger(__name__)

#: the dataset read when none is configured: a ``medsins build`` folder named ``medsins`` in the
#: current directory (``load_dataset("medsins", CONFIG)`` resolves it before the Hub)
DEFAULT_DATA = "medsins"


class OfficialPrompt:
    """``data_preprocessor`` of one task: a test row of the built dataset -> its benchmark prompt.

    Adds ``messages`` (the protocol's chat messages), ``prompt_text`` (its plain form, for models
    without a chat template) and ``num_shots``. The shots are drawn as ``medsins bench`` draws
    them (``medsins_datasets.prompts.iter_task_prompts``): a seeded pool of at most 1,000 rows of
    the task's train split when the data has one (under the paper protocol, a test-only task
    borrows its training equivalent's), else of its whole test split; per instance, a generator
    seeded by (seed, task, instance id); never the instance itself.
    """

    def __init__(self, data: str, config_name: str, *, protocol: str = "official", shots: int | None = None,
                 seed: int = 0, max_prompt_chars: int | None = None, pool_size: int = DEFAULT_POOL_SIZE):
        self.data = data
        self.task = get_task(config_name)
        self.protocol = get_protocol(protocol)
        self.shots = self.protocol.num_shots(self.task) if shots is None else shots
        self.seed = seed
        self.max_prompt_chars = max_prompt_chars
        self.pool_size = pool_size
        self._pool = None

    def __repr__(self) -> str:
        return (f"OfficialPrompt({self.task.config_name}, protocol={self.protocol.name}, shots={self.shots}, "
                f"seed={self.seed})")

    def _pool_rows(self, config_name: str, split: str):
        ds = datasets.load_dataset(self.data, name=config_name, split=split)
        return ((r["id"], r["input"], r["output"]) for r in ds.select_columns(["id", "input", "output"]))

    def pool(self) -> ShotPool:
        """The rows shots are drawn from (built on first use, then kept)."""
        if self._pool is None:
            self._pool = self._build_pool()
        return self._pool

    def _build_pool(self) -> ShotPool:
        configs = set(datasets.get_dataset_config_names(self.data))

        def train_rows(donor):
            if donor.config_name in configs and "train" in datasets.get_dataset_split_names(self.data,
                                                                                          donor.config_name):
                return self._pool_rows(donor.config_name, "train")
            return None

        return choose_shot_pool(self.task, self.protocol, want_shots=self.shots, seed=self.seed,
                                pool_size=self.pool_size, train_rows=train_rows,
                                eval_rows=lambda: self._pool_rows(self.task.config_name, "test"), where=self.data)

    def __call__(self, row: dict) -> dict:
        prompt, kept = render_instance(self.task, self.protocol, self.pool(), row, shots=self.shots, seed=self.seed,
                                       max_length=self.max_prompt_chars)
        if isinstance(prompt, str):  # the paper layout: one user turn
            messages, text = [{"role": "user", "content": prompt}], prompt
        else:
            messages, text = prompt.as_messages(), prompt.text
        return {MESSAGES_COLUMN: messages, TEXT_COLUMN: text, "num_shots": kept}


class Suite(evaluate.EvaluationSuite):
    """MedS-Bench: one ``text-generation`` sub-task per benchmark task found in the data.

    ``EvaluationSuite.load`` builds it with the defaults (every benchmark task of ``./medsins``,
    official protocol, all test instances); :meth:`configure` changes them. The sub-tasks
    (``suite.suite``) are built when first used.
    """

    def __init__(self, name: str = "meds_bench_suite", **settings: Any):
        super().__init__(name)
        self.configure(**settings)

    def configure(self, *, data: str = DEFAULT_DATA, tasks: "list[str] | None" = None, limit: "int | None" = None,
                  protocol: str = "official", shots: "int | None" = None, seed: int = 0,
                  max_new_tokens: "int | None" = None, budgets: "dict[str, int] | None" = None,
                  max_prompt_tokens: "int | None" = None, max_prompt_chars: "int | None" = None,
                  bootstrap: int = DEFAULT_BOOTSTRAP) -> "Suite":
        """Set what the suite runs (every argument not given takes its default); returns the suite.

        ``data``: a ``medsins build`` folder or Hub dataset id; ``tasks``: config names or ids
        (default: every benchmark task the data has a test split for); ``limit``: the first N
        test instances per task (``medsins bench --limit``); ``protocol``, ``shots``, ``seed``,
        ``max_new_tokens``, ``budgets`` (task or category -> new tokens), ``max_prompt_tokens``
        (default: the protocol's, official 2048; 0 = never cut), ``max_prompt_chars`` and
        ``bootstrap``: as the ``medsins bench`` options of the same names.
        """
        proto = get_protocol(protocol)
        if limit is not None and limit < 1:
            raise MedsinsError(f"limit must be a positive number of instances per task, got {limit}")
        if shots is not None and shots < 0:
            raise MedsinsError(f"shots must be >= 0, got {shots}")
        chosen = [get_task(t) for t in tasks] if tasks else None
        for t in chosen or []:
            if not t.bench_category:
                raise MedsinsError(f"task {t.config_name} ({t.task_id}) is not a MedS-Bench task")
        self.data = str(data)
        self.tasks = [t.config_name for t in chosen] if chosen else None
        self.limit = limit
        self.protocol = proto.name
        self.shots = shots
        self.seed = seed
        self.max_new_tokens = max_new_tokens
        self.budgets = dict(budgets or {})
        self.max_prompt_tokens = proto.max_prompt_tokens if max_prompt_tokens is None else (max_prompt_tokens or None)
        self.max_prompt_chars = max_prompt_chars
        self.bootstrap = bootstrap
        self._suite = None
        return self

    def _task_names(self) -> list:
        if "/" not in self.data.replace(os.sep, "/") and not os.path.isdir(self.data):
            # a bare name that is no folder here: datasets would look it up on the Hub and, offline,
            # quietly serve an earlier load of ANOTHER folder of that name from its cache
            raise MedsinsError(f"no folder {self.data!r} in {os.getcwd()}: run from the folder that holds the "
                               "`medsins build` output, or configure(data=PATH or ORG/NAME)")
        try:
            configs = datasets.get_dataset_config_names(self.data)
        except Exception as e:  # noqa: BLE001 - datasets raises several kinds for a missing dataset
            raise MedsinsError(f"cannot read the MedS-Bench data {self.data!r} (a `medsins build` folder or a Hub "
                               f"dataset; configure(data=...)): {e}") from e
        if self.tasks is not None:
            missing = [t for t in self.tasks if t not in configs]
            if missing:
                raise MedsinsError(f"{self.data} has no config {', '.join(missing)} (build it with `medsins build "
                                   f"--tasks ...`)")
            return list(self.tasks)
        bench = [c for c in configs if has_task(c) and get_task(c).bench_category]
        return sorted(bench, key=lambda c: get_task(c).number)

    def _subtask(self, config_name: str) -> SubTask:
        task = get_task(config_name)
        if "test" not in datasets.get_dataset_split_names(self.data, config_name):
            raise MedsinsError(f"{self.data}: config {config_name} has no test split")
        budget = budget_for(task, self.max_new_tokens, self.budgets, self.protocol)
        metric = evaluate.load(metric_path(), config_name, bootstrap=self.bootstrap)
        return SubTask(
            task_type="text-generation",
            data=self.data,
            subset=config_name,
            split=f"test[:{self.limit}]" if self.limit else "test",
            data_preprocessor=OfficialPrompt(self.data, config_name, protocol=self.protocol, shots=self.shots,
                                             seed=self.seed, max_prompt_chars=self.max_prompt_chars),
            args_for_task={
                "metric": metric,
                "input_column": MESSAGES_COLUMN,
                "label_column": "output",
                "generation_kwargs": {"max_new_tokens": budget, "do_sample": False},
                "max_prompt_tokens": self.max_prompt_tokens,
            },
        )

    @property
    def suite(self) -> list:
        """The sub-tasks, one per benchmark task (tasks without a test split are left out when
        no task list was configured)."""
        if self._suite is None:
            names = self._task_names()
            if self.tasks is None:
                names = [c for c in names if "test" in datasets.get_dataset_split_names(self.data, c)]
            self._suite = [self._subtask(c) for c in names]
        return self._suite

    def __repr__(self) -> str:
        tasks = ", ".join(f"{t.subset} ({t.split}, {t.args_for_task['generation_kwargs']['max_new_tokens']} new tokens)"
                          for t in self.suite)
        return f'EvaluationSuite name: "{self.name}", data: {self.data}, protocol: {self.protocol}, tasks: [{tasks}]'

    def run(self, model_or_pipeline: Any) -> list:
        """Generate and score every sub-task; one result dict per task (see the module docstring)."""
        return run_suite(self.suite, model_or_pipeline)
