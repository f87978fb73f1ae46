"""medsins: MedS-Ins and MedS-Bench as Hugging Face-native datasets, metrics and recipes."""

__version__ = "0.1.0"

from .errors import MedsinsError, TaskFormatError, UnknownTaskError  # noqa: E402
from .registry import Task, all_tasks, get_task, select_tasks  # noqa: E402


def __getattr__(name: str):
    # the builder imports `datasets`; load it only when asked for
    if name in ("MedSIns", "MedSInsConfig"):
        from . import builder

        return getattr(builder, name)
    raise AttributeError(name)


__all__ = ["MedSIns", "MedSInsConfig", "MedsinsError", "TaskFormatError", "UnknownTaskError", "Task",
           "all_tasks", "get_task", "select_tasks", "__version__"]
