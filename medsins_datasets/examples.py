"""Rows of the shared dataset schema, produced from task files.

Both the ``datasets`` builder and the hub-native Parquet build read rows from here, so
there is one definition of what a MedS-Ins example is.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import datasets

from .registry import Task
from .taskfile import OnError, ParseStats, iter_instances, read_header

FEATURES = datasets.Features(
    {
        "id": datasets.Value("string"),
        "task_id": datasets.Value("string"),
        "task": datasets.Value("string"),
        "definition": datasets.Value("string"),
        "input": datasets.Value("string"),
        "output": datasets.Value("string"),
        "references": datasets.List(datasets.Value("string")),
        "category": datasets.Value("string"),
        "domain": datasets.Value("string"),
        "source": datasets.Value("string"),
        "input_language": datasets.Value("string"),
        "output_language": datasets.Value("string"),
    }
)


def iter_rows(
    task: Task,
    path: str | Path,
    *,
    on_error: OnError = "raise",
    stats: ParseStats | None = None,
) -> Iterator[dict[str, Any]]:
    """Stream one task file as rows of :data:`FEATURES`.

    Languages come from the file when it states them, else from the registry.
    """
    header = read_header(path)
    in_lang = ";".join(header.languages("Input_language")) or task.input_language
    out_lang = ";".join(header.languages("Output_language")) or task.output_language
    const = {
        "task_id": task.task_id,
        "task": task.config_name,
        "definition": header.definition,
        "category": task.category,
        "domain": task.domain,
        "source": task.source,
        "input_language": in_lang,
        "output_language": out_lang,
    }
    for inst in iter_instances(path, id_prefix=task.task_id, on_error=on_error, stats=stats):
        row = dict(const)
        row["id"] = inst.id
        row["input"] = inst.input
        row["output"] = inst.output[0]
        row["references"] = inst.output
        yield row
