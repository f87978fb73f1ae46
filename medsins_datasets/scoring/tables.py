"""The paper's Tables 1-8 filled from per-task and per-group scores.

Which columns a table has, what each one reads (a task or a CT/MRI summarization group), the
metrics it shows and which columns make its "Avg." are data: ``tables`` and ``groups`` of
``data/benchmark.yaml``, read by :mod:`medsins_datasets.registry.benchmark`. :data:`TABLES` and
:data:`GROUPS` are those settings under the names the scorer, the leaderboard and the docs use.
"""

from __future__ import annotations

from typing import Any

from medsins_datasets.registry.benchmark import (
    AVG_COLUMN,
    Column,
    Table,
    benchmark_settings,
)

#: Summarization groups that the paper reports as one column each (pooled samples).
GROUPS: dict[str, tuple[str, ...]] = dict(benchmark_settings().groups)

#: The paper's Tables 1-8 (column order as printed).
TABLES: tuple[Table, ...] = benchmark_settings().tables

__all__ = ["AVG_COLUMN", "GROUPS", "TABLES", "Column", "Table", "column_scores", "table_cells"]


def _by_id(tasks_out: dict[str, dict[str, Any]], task_id: str) -> dict[str, Any] | None:
    for entry in tasks_out.values():
        if entry["task_id"] == task_id:
            return entry
    return None


def column_scores(col: Column, tasks_out: dict[str, dict[str, Any]],
                  groups_out: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    """The result entry a column reads (a group's or a task's), None when it was not scored."""
    return groups_out.get(col.source) if col.source in GROUPS else _by_id(tasks_out, col.source)


def table_cells(tasks_out: dict[str, dict[str, Any]], groups_out: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """``{table key: {column: {metric: value} | None, "Avg.": ...}}`` for every table with a scored column.

    "Avg." is the mean of the averaged columns, None unless all of them were scored.
    """
    tables_out: dict[str, dict[str, Any]] = {}
    for table in TABLES:
        cells: dict[str, Any] = {}
        for col in table.columns:
            src = column_scores(col, tasks_out, groups_out)
            cells[col.name] = None if src is None else {m: src[m] for m in col.metrics}
        if all(v is None for v in cells.values()):
            continue
        if table.avg_of:
            parts = [cells[c] for c in table.avg_of]
            metrics = next(c.metrics for c in table.columns if c.name == table.avg_of[0])
            cells[AVG_COLUMN] = (None if any(p is None for p in parts)
                                 else {m: sum(p[m] for p in parts) / len(parts) for m in metrics})
        tables_out[table.key] = cells
    return tables_out
