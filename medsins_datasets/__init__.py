"""medsins: MedS-Ins and MedS-Bench as Hugging Face-native datasets, metrics and recipes."""

__version__ = "0.1.0"

from medsins_datasets.errors import MedsinsError, TaskFormatError, UnknownTaskError  # noqa: E402
from medsins_datasets.registry.tasks import Task, all_tasks, get_task, select_tasks  # noqa: E402
from medsins_datasets import _moved  # noqa: E402

_moved.install()


def __getattr__(name: str):
    # the builder imports `datasets`; load it only when asked for
    if name in ("MedSIns", "MedSInsConfig"):
        from medsins_datasets import builder

        return getattr(builder, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["MedSIns", "MedSInsConfig", "MedsinsError", "TaskFormatError", "UnknownTaskError", "Task",
           "all_tasks", "get_task", "select_tasks", "__version__"]
