"""The paper tables of a :func:`~medsins_datasets.scoring.score` result as plain text (what
``medsins score`` and ``medsins bench`` print): 2 decimals, the interval and the sample count
per column, optionally every task.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from medsins_datasets.registry.benchmark import METRICS
from medsins_datasets.scoring.bootstrap import DEFAULT_CONFIDENCE
from medsins_datasets.scoring.tables import AVG_COLUMN, TABLES, column_scores


def _fmt_cell(cell: Mapping[str, float] | None, metrics: tuple[str, ...]) -> str:
    if cell is None:
        return "-"
    return "/".join(f"{cell[m]:.2f}" for m in metrics)


def _fmt_ci(ci: Mapping[str, list[float]] | None, metrics: tuple[str, ...]) -> str:
    if not ci:
        return ""
    return "/".join(f"[{ci[m][0]:.2f}, {ci[m][1]:.2f}]" for m in metrics)


def format_tables(result: Mapping[str, Any], *, per_task: bool = False) -> str:
    """The paper tables of a :func:`score` result as plain text (2 decimals, CI and n per column)."""
    lines: list[str] = []
    tasks_out = result.get("tasks", {})
    groups_out = result.get("groups", {})
    for table in TABLES:
        cells = result.get("tables", {}).get(table.key)
        if cells is None:
            continue
        lines.append(table.title)
        rows = [("column", "score", "95% CI" if _conf(result) == 0.95 else "CI", "n")]
        for col in table.columns:
            src = column_scores(col, tasks_out, groups_out)
            if src is None:
                rows.append((col.name, "-", "", ""))
                continue
            rows.append((col.name, _fmt_cell(cells[col.name], col.metrics),
                         _fmt_ci(src.get("ci"), col.metrics), str(src["n"])))
        if table.avg_of:
            metrics = next(c.metrics for c in table.columns if c.name == table.avg_of[0])
            rows.append((AVG_COLUMN, _fmt_cell(cells.get(AVG_COLUMN), metrics), "", ""))
        lines.extend(_render(rows))
        lines.append("")
    if per_task and tasks_out:
        lines.append("Per task")
        rows = [("task", "id", "n", "skipped", "scores")]
        for name, e in tasks_out.items():
            scores = ", ".join(f"{m} {e[m]:.2f}" for m in METRICS if m in e)
            rows.append((name, e["task_id"], str(e["n"]), str(e["skipped"]), scores))
        lines.extend(_render(rows))
        lines.append("")
    mism = result.get("settings", {}).get("version_mismatches")
    if mism:
        lines.append("warning: package versions differ from the official ones, scores may not match the paper: "
                     + ", ".join(f"{k} {v['installed']} (official {v['official']})" for k, v in mism.items()))
    return "\n".join(lines).rstrip() + "\n"


def _conf(result: Mapping[str, Any]) -> float:
    return result.get("settings", {}).get("confidence", DEFAULT_CONFIDENCE)


def _render(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    out = []
    for k, r in enumerate(rows):
        out.append("  " + "  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip())
        if k == 0:
            out.append("  " + "  ".join("-" * w for w in widths))
    return out
