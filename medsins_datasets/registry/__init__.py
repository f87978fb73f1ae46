"""Stage 0, the registry: what the 122 tasks are, and what the benchmark does with them, as data.

* :mod:`.tasks`: the task table (``data/tasks.csv``) and look-ups;
* :mod:`.benchmark`: the MedS-Bench settings (``data/benchmark.yaml``: shots, output budgets,
  scoring rules, official folders, the paper tables);
* :mod:`.access`: the credentialed-data policy;
* :mod:`.source_datasets`: the source datasets' table (homepages, licences) for ``medsins sources``.
"""

from medsins_datasets.registry.access import CREDENTIALED, access_is_credentialed
from medsins_datasets.registry.benchmark import (
    BenchmarkSettings,
    BenchmarkSettingsError,
    benchmark_settings,
)
from medsins_datasets.registry.tasks import (
    Task,
    all_tasks,
    get_task,
    has_task,
    iter_config_names,
    select_tasks,
    sources,
    task_number,
)

__all__ = ["BENCH_CATEGORIES", "CREDENTIALED", "BenchmarkSettings", "BenchmarkSettingsError", "Task",
           "access_is_credentialed", "all_tasks", "benchmark_settings", "get_task", "has_task", "iter_config_names",
           "select_tasks", "sources", "task_number"]


def __getattr__(name: str):
    if name == "BENCH_CATEGORIES":  # read from data/benchmark.yaml on first use
        from medsins_datasets.registry import benchmark

        return benchmark.BENCH_CATEGORIES
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
