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


#: columns that vary per instance; every other column is constant within a task file
VARYING = ("id", "input", "output", "references")


def task_constants(task: Task, path: str | Path) -> dict[str, str]:
    """The columns shared by every row of one task file.

    Languages come from the file when it states them, else from the registry.
    """
    header = read_header(path)
    return {
        "task_id": task.task_id,
        "task": task.config_name,
        "definition": header.definition,
        "category": task.category,
        "domain": task.domain,
        "source": task.source,
        "input_language": ";".join(header.languages("Input_language")) or task.input_language,
        "output_language": ";".join(header.languages("Output_language")) or task.output_language,
    }


def iter_batches(
    task: Task,
    path: str | Path,
    *,
    batch_size: int,
    on_error: OnError = "raise",
    stats: ParseStats | None = None,
) -> Iterator[tuple[dict[str, str], dict[str, list]]]:
    """Stream one task file as column batches: ``(constant columns, {varying column: values})``.

    The column-wise form lets writers fill constant columns without a per-row copy.
    """
    const = task_constants(task, path)
    cols: dict[str, list] = {k: [] for k in VARYING}
    ids, inputs, outputs, refs = (cols[k] for k in VARYING)
    for inst in iter_instances(path, id_prefix=task.task_id, on_error=on_error, stats=stats):
        ids.append(inst.id)
        inputs.append(inst.input)
        outputs.append(inst.output[0])
        refs.append(inst.output)
        if len(ids) >= batch_size:
            yield const, cols
            cols = {k: [] for k in VARYING}
            ids, inputs, outputs, refs = (cols[k] for k in VARYING)
    if ids:
        yield const, cols


def iter_rows(
    task: Task,
    path: str | Path,
    *,
    on_error: OnError = "raise",
    stats: ParseStats | None = None,
) -> Iterator[dict[str, Any]]:
    """Stream one task file as rows of :data:`FEATURES`."""
    const = task_constants(task, path)
    for inst in iter_instances(path, id_prefix=task.task_id, on_error=on_error, stats=stats):
        row: dict[str, Any] = dict(const)
        row["id"] = inst.id
        row["input"] = inst.input
        row["output"] = inst.output[0]
        row["references"] = inst.output
        yield row
