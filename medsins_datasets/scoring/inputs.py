"""What the scorer takes in: checks of the predictions / references / tasks lists, and the
reader of a predictions file (JSON lines or CSV) that ``medsins score`` scores.

:func:`prepare_inputs` is the one place that turns what callers pass (task names or ids, one
reference or several per sample, missing values) into a task and a gold answer per sample, with
errors that name the sample; the ``meds_bench`` metric calls it to check its inputs before
scoring. :func:`read_rows` and :func:`check_rows` do the same for a file and name its rows.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from medsins_datasets.errors import MedsinsError, UnknownTaskError
from medsins_datasets.registry.tasks import Task, get_task
from medsins_datasets.scoring.rules import (
    ScoringInputError,
    is_missing,
    rule_of,
    skips_missing_reference,
)


class MissingReferenceError(ScoringInputError):
    """A sample without a gold answer (``None``/``NaN``/no reference at all)."""


def _resolve_tasks(tasks: Any, size: int) -> list[Task]:
    if isinstance(tasks, (str, Task)):
        tasks = [tasks] * size
    cache: dict[Any, Task] = {}
    out: list[Task] = []
    for i, name in enumerate(tasks):
        t = cache.get(name) if isinstance(name, (str, int)) else None
        if t is None:
            t = _lookup_task(name, i)
            rule_of(t)  # raises for non-benchmark tasks
            if isinstance(name, (str, int)):
                cache[name] = t
        out.append(t)
    return out


def _lookup_task(name: Any, index: int) -> Task:
    if isinstance(name, Task):
        return name
    if isinstance(name, (int, np.integer)) and not isinstance(name, bool):
        name = f"task{int(name)}"
    if not isinstance(name, str) or not name.strip():
        raise UnknownTaskError(f"sample {index}: task name must be a config name or official id, got {name!r}")
    try:
        return get_task(name)
    except UnknownTaskError as e:
        raise UnknownTaskError(f"sample {index}: {e}") from None


def _first_reference(ref: Any) -> Any:
    if isinstance(ref, (list, tuple)):
        return ref[0] if ref else None
    if isinstance(ref, np.ndarray):
        return ref.flat[0] if ref.size else None
    return ref


def _as_list(values: Any, what: str) -> list:
    if values is None:
        raise ScoringInputError(f"{what} are required")
    if isinstance(values, (str, bytes)):
        raise ScoringInputError(f"{what} must be a list (one entry per sample), got a single string")
    if isinstance(values, Mapping):
        raise ScoringInputError(f"{what} must be a list (one entry per sample), got a mapping")
    try:
        return list(values)
    except TypeError:
        raise ScoringInputError(f"{what} must be a list (one entry per sample), got {type(values).__name__}") from None


def prepare_inputs(
    predictions: Sequence[Any],
    references: Sequence[Any],
    tasks: Sequence[Any] | str | Task,
    *,
    categories: Iterable[str] | None = None,
) -> tuple[list[Any], list[Any], list[Task]]:
    """Validate inputs; return ``(predictions, first references, Task per sample)``.

    Raises :class:`ScoringInputError` (mismatched lengths, tasks outside ``categories`` or
    outside MedS-Bench), :class:`UnknownTaskError` and :class:`MissingReferenceError`.
    """
    preds = _as_list(predictions, "predictions")
    if references is None:
        raise MissingReferenceError("references are required (one gold answer per prediction)")
    refs = _as_list(references, "references")
    if len(preds) != len(refs):
        raise ScoringInputError(f"got {len(preds)} predictions but {len(refs)} references")
    if isinstance(tasks, (str, Task)):
        task_list = _resolve_tasks(tasks, len(preds))
    else:
        raw_tasks = _as_list(tasks, "tasks")
        if len(raw_tasks) != len(preds):
            raise ScoringInputError(f"got {len(preds)} predictions but {len(raw_tasks)} task names")
        task_list = _resolve_tasks(raw_tasks, len(preds))
    if categories is not None:
        allowed = set(categories)
        for i, t in enumerate(task_list):
            if t.bench_category not in allowed:
                raise ScoringInputError(
                    f"sample {i}: task {t.config_name!r} ({t.task_id}) belongs to {t.bench_category!r}, "
                    f"not to {', '.join(sorted(allowed))}"
                )
    gold = [_first_reference(r) for r in refs]
    missing: dict[str, list[int]] = {}
    for i, (g, t) in enumerate(zip(gold, task_list)):
        if ((g is None or (isinstance(g, float) and math.isnan(g)) or type(g).__name__ == "NAType")
                and not skips_missing_reference(t)):
            missing.setdefault(t.config_name, []).append(i)
    if missing:
        parts = [f"{name} (samples {', '.join(map(str, idx[:5]))}{', ...' if len(idx) > 5 else ''})"
                 for name, idx in missing.items()]
        raise MissingReferenceError("references are missing for " + "; ".join(parts))
    return preds, gold, task_list


# --------------------------------------------------------------------------- predictions files


#: accepted column names, first match wins
TASK_KEYS = ("task", "task_id", "task_name", "config_name")
PREDICTION_KEYS = ("prediction", "output", "predictions", "response")
REFERENCE_KEYS = ("reference", "GT", "references", "gold", "answer")


class ScoreFileError(MedsinsError, ValueError):
    """A predictions file that cannot be read as task / prediction / reference rows."""


def _pick(row: dict[str, Any], keys: tuple[str, ...], what: str, where: str) -> Any:
    for k in keys:
        if k in row:
            return row[k]
    raise ScoreFileError(f"{where}: no {what} column (expected one of {', '.join(keys)}); got {', '.join(row)}")


def read_rows(path: str | Path, fmt: str = "auto") -> tuple[list[Any], list[Any], list[Any], list[str]]:
    """``(tasks, predictions, references, row labels)`` from a JSONL or CSV file."""
    path = Path(path)
    if not path.is_file():
        raise ScoreFileError(f"no such file: {path}")
    if fmt == "auto":
        fmt = "csv" if path.suffix.lower() in (".csv", ".tsv") else "jsonl"
    tasks: list[Any] = []
    preds: list[Any] = []
    refs: list[Any] = []
    labels: list[str] = []
    if fmt == "csv":
        import pandas as pd

        try:
            # dtype=str keeps numbers as text; empty cells stay NaN like in the official scripts
            df = pd.read_csv(path, dtype=str, sep="\t" if path.suffix.lower() == ".tsv" else ",")
        except (ValueError, pd.errors.ParserError) as e:
            raise ScoreFileError(f"{path}: cannot read as CSV: {e}") from None
        cols = list(df.columns)
        header = {c: c for c in cols}
        t_col = _pick(header, TASK_KEYS, "task", str(path))
        p_col = _pick(header, PREDICTION_KEYS, "prediction", str(path))
        r_col = _pick(header, REFERENCE_KEYS, "reference", str(path))
        tasks = df[t_col].tolist()
        preds = df[p_col].tolist()
        refs = df[r_col].tolist()
        labels = [f"{path.name} row {i + 2}" for i in range(len(df))]  # +1 header, +1 one-based
    else:
        with open(path, "rb") as fh:
            for lineno, raw in enumerate(fh, 1):
                where = f"{path.name} line {lineno}"
                try:
                    line = raw.decode("utf-8")
                except UnicodeDecodeError as e:
                    raise ScoreFileError(f"{where}: invalid UTF-8 at byte {e.start} of the line") from None
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as e:
                    raise ScoreFileError(f"{where}: not valid JSON ({e.msg})") from None
                except RecursionError:
                    raise ScoreFileError(f"{where}: JSON nested too deeply") from None
                if not isinstance(row, dict):
                    raise ScoreFileError(f"{where}: expected a JSON object, got {type(row).__name__}")
                tasks.append(_pick(row, TASK_KEYS, "task", where))
                pred = _pick(row, PREDICTION_KEYS, "prediction", where)
                if pred is not None and not isinstance(pred, str):
                    raise ScoreFileError(f"{where}: the prediction is a {type(pred).__name__}, not a string "
                                         "(null counts as a missing prediction)")
                preds.append(pred)
                refs.append(_pick(row, REFERENCE_KEYS, "reference", where))
                labels.append(where)
    if not tasks:
        raise ScoreFileError(f"{path}: no rows")
    return tasks, preds, refs, labels


def check_rows(tasks: list[Any], refs: list[Any], labels: list[str]) -> None:
    """Name the file row of the first bad task / missing reference (the scorer only knows indices)."""
    seen: dict[str, Any] = {}
    for label, name, ref in zip(labels, tasks, refs):
        key = f"task{name}" if isinstance(name, int) and not isinstance(name, bool) else str(name)
        if key not in seen:
            if is_missing(name):
                raise UnknownTaskError(f"{label}: empty task name")
            try:
                seen[key] = get_task(key)
            except UnknownTaskError as e:
                raise UnknownTaskError(f"{label}: {e}") from None
            try:
                rule_of(seen[key])
            except ScoringInputError as e:
                raise ScoringInputError(f"{label}: {e}") from None
        first = ref[0] if isinstance(ref, list) and ref else ref
        if skips_missing_reference(seen[key]):
            continue  # skipped and counted by the scorer, as the official script does
        if first is None or (isinstance(first, float) and first != first) or ref == []:
            raise MissingReferenceError(f"{label}: the reference (gold answer) of task {seen[key].config_name} "
                                        "is missing")
