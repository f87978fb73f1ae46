"""Rows of the shared dataset schema, produced from task files.

Both the ``datasets`` builder and the hub-native Parquet build read rows from here, so
there is one definition of what a MedS-Ins example is.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import datasets

from medsins_datasets.registry.tasks import Task
from medsins_datasets.taskfile.reader import IdDigests, OnError, ParseStats, iter_instances, read_header

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
    id_prefix: str | None = None,
    ids: IdDigests | None = None,
) -> Iterator[tuple[dict[str, str], dict[str, list]]]:
    """Stream one task file as column batches: ``(constant columns, {varying column: values})``.

    The column-wise form lets writers fill constant columns without a per-row copy. Several
    files of one split: use :func:`iter_split_batches`.
    """
    const = task_constants(task, path)
    seen = ids
    cols: dict[str, list] = {k: [] for k in VARYING}
    ids, inputs, outputs, refs = (cols[k] for k in VARYING)
    for inst in iter_instances(path, id_prefix=id_prefix or task.task_id, on_error=on_error, stats=stats,
                               ids=seen):
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
    id_prefix: str | None = None,
    ids: IdDigests | None = None,
) -> Iterator[dict[str, Any]]:
    """Stream one task file as rows of :data:`FEATURES` (several files of one split:
    :func:`iter_split_rows`)."""
    const = task_constants(task, path)
    for inst in iter_instances(path, id_prefix=id_prefix or task.task_id, on_error=on_error, stats=stats,
                               ids=ids):
        row: dict[str, Any] = dict(const)
        row["id"] = inst.id
        row["input"] = inst.input
        row["output"] = inst.output[0]
        row["references"] = inst.output
        yield row


def file_id_prefix(task: Task, position: int) -> str:
    """The prefix of ids derived for instances without one in the ``position``-th file of a
    split: ``task57`` for the first file (``task57-0``, ``task57-1``, ...), ``task57-f1`` for
    the second, so that files without ids (as the official generators write them) never
    produce the same id twice."""
    return task.task_id if position == 0 else f"{task.task_id}-f{position}"


def iter_split_batches(
    task: Task,
    paths: Sequence[str | Path],
    *,
    batch_size: int,
    on_error: OnError = "raise",
    stats_for: Callable[[Path], ParseStats] | None = None,
) -> Iterator[tuple[Path, dict[str, str], dict[str, list]]]:
    """Column batches of every file of one split, as ``(file, constants, columns)``. An id used
    twice, in one file or across files, raises :class:`~medsins_datasets.errors.TaskFormatError`
    once the last file has been read (naming both places); rows must not be treated as final
    before the iteration ends."""
    seen = IdDigests()
    for k, path in enumerate(paths):
        path = Path(path)
        stats = stats_for(path) if stats_for else None
        for const, cols in iter_batches(task, path, batch_size=batch_size, on_error=on_error, stats=stats,
                                        id_prefix=file_id_prefix(task, k), ids=seen):
            yield path, const, cols
    seen.check()


def iter_split_rows(
    task: Task,
    paths: Sequence[str | Path],
    *,
    on_error: OnError = "raise",
    stats_for: Callable[[Path], ParseStats] | None = None,
) -> Iterator[tuple[Path, dict[str, Any]]]:
    """Rows of every file of one split, as ``(file, row)``, with ids checked across the files
    (see :func:`iter_split_batches`)."""
    seen = IdDigests()
    for k, path in enumerate(paths):
        path = Path(path)
        stats = stats_for(path) if stats_for else None
        for row in iter_rows(task, path, on_error=on_error, stats=stats, id_prefix=file_id_prefix(task, k),
                             ids=seen):
            yield path, row
    seen.check()
