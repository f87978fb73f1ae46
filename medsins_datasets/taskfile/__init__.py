"""Stage 1, task files: the MedS-Ins task format.

* :mod:`.reader`: streaming, validating reader of official task files (JSON or JSON lines);
* :mod:`.definitions`: the official hand-written definitions and their rewrites;
* :mod:`.rows`: the row schema (``FEATURES``) every stage writes, and rows per file and split.
  It imports ``datasets``; import it as ``medsins_datasets.taskfile.rows``.
"""

from medsins_datasets.taskfile.definitions import Definitions, load_definitions
from medsins_datasets.taskfile.reader import (
    Instance,
    OnError,
    ParseStats,
    TaskHeader,
    is_json_lines,
    iter_events,
    iter_instances,
    read_header,
)

__all__ = ["Definitions", "Instance", "OnError", "ParseStats", "TaskHeader", "is_json_lines", "iter_events",
           "iter_instances", "load_definitions", "read_header"]
