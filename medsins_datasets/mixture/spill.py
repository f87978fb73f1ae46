"""The per-file Arrow cache of the mixture (the "spill"), and its public reader.

Planning reads each task file once, streaming, into an Arrow IPC file of record batches of
:data:`SPILL_BATCH` rows (reused while the task file is unchanged) holding id, input, output and
an 8-byte blake2b digest of (definition, input, output). Only the digests (8 bytes per row) are
gathered to deduplicate; iterating reads one batch at a time (:func:`read_batch`), so memory stays
flat at MedS-Ins scale. :mod:`medsins_datasets.contamination` scans planned tasks through
:func:`read_batch` too.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from medsins_datasets._files import fingerprint_files, glob_escape, remove_stale_files, temp_file
from medsins_datasets.registry.tasks import Task
from medsins_datasets.taskfile.definitions import header_rewrites

logger = logging.getLogger(__name__)

#: rows per record batch of the per-file cache (the unit of reading and of within-task shuffling)
SPILL_BATCH = 512
_SPILL_VERSION = "1"
_SPILL_SCHEMA = pa.schema(
    [("id", pa.string()), ("input", pa.string()), ("output", pa.string()), ("digest", pa.uint64())]
)


@dataclass
class FileSpill:
    """One task file, cached as Arrow record batches, with what the mixture needs to know of it."""

    arrow: str
    source: str
    split: str
    rows: int
    definition: str
    rewrites: list[str]
    credentialed: bool

    @property
    def batches(self) -> int:
        return (self.rows + SPILL_BATCH - 1) // SPILL_BATCH


def _digest_prefix(definition: str):
    h = hashlib.blake2b(digest_size=8)
    h.update(definition.encode("utf-8", "surrogatepass"))
    h.update(b"\x00")
    return h


def spill_file(task: Task, path: Path, split: str, cache: Path, on_error: str) -> FileSpill:
    """Cache one task file as Arrow (once per file version) and return its description."""
    from medsins_datasets.sources.converters import file_is_credentialed
    from medsins_datasets.taskfile.reader import ParseStats, read_header
    from medsins_datasets.taskfile.rows import iter_batches

    key = fingerprint_files([path], json.dumps([_SPILL_VERSION, task.task_id, on_error]))
    arrow, meta_path = cache / f"{task.task_id}-{key}.arrow", cache / f"{task.task_id}-{key}.json"
    if arrow.exists() and meta_path.exists():
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            return FileSpill(arrow=str(arrow), source=str(path), split=split, **meta)
        except (ValueError, TypeError):
            logger.warning("rebuilding unreadable mixture cache entry %s", meta_path)
    header = read_header(path)
    rewrites = header_rewrites(header.fields, path)
    stats = ParseStats(str(path))
    cache.mkdir(parents=True, exist_ok=True)
    remove_stale_files(cache, f"{glob_escape(task.task_id)}-*.tmp")  # left by killed runs
    tmp = temp_file(arrow)
    rows = 0
    try:
        with pa.OSFile(str(tmp), "wb") as sink, pa.ipc.new_file(sink, _SPILL_SCHEMA) as writer:
            prefix = _digest_prefix(header.definition)
            ids: list[str] = []
            inputs: list[str] = []
            outputs: list[str] = []
            digests: list[int] = []

            def flush() -> None:
                writer.write_batch(pa.record_batch(
                    [pa.array(ids, pa.string()), pa.array(inputs, pa.string()), pa.array(outputs, pa.string()),
                     pa.array(digests, pa.uint64())], schema=_SPILL_SCHEMA))
                for lst in (ids, inputs, outputs, digests):
                    lst.clear()

            for _, cols in iter_batches(task, path, batch_size=SPILL_BATCH, on_error=on_error, stats=stats):
                for iid, inp, out in zip(cols["id"], cols["input"], cols["output"]):
                    h = prefix.copy()
                    h.update(inp.encode("utf-8", "surrogatepass"))
                    h.update(b"\x00")
                    h.update(out.encode("utf-8", "surrogatepass"))
                    ids.append(iid)
                    inputs.append(inp)
                    outputs.append(out)
                    digests.append(int.from_bytes(h.digest(), "little"))
                    if len(ids) == SPILL_BATCH:
                        rows += len(ids)
                        flush()
            if ids:
                rows += len(ids)
                flush()
        meta = {
            "rows": rows,
            "definition": header.definition,
            "rewrites": rewrites,
            "credentialed": file_is_credentialed(path, task, {**header.fields, **stats.fields}),
        }
        os.replace(tmp, arrow)
        tmp_meta = temp_file(meta_path)
        tmp_meta.write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp_meta, meta_path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    if stats.skipped:
        logger.warning("mixture: %s", stats.report())
    return FileSpill(arrow=str(arrow), source=str(path), split=split, **meta)


def read_batch(spill: FileSpill, index: int, rows: np.ndarray | None = None) -> pa.RecordBatch:
    """Record batch ``index`` of a cached file (columns id, input, output, digest), or only its
    ``rows`` (positions within the batch, in that order). Batch ``b`` holds the file's rows
    ``b * SPILL_BATCH`` up to ``(b + 1) * SPILL_BATCH``."""
    with pa.OSFile(spill.arrow, "rb") as f:
        batch = pa.ipc.open_file(f).get_batch(index)
    return batch if rows is None else batch.take(pa.array(rows))


def read_digests(spill: FileSpill) -> np.ndarray:
    """The (definition, input, output) digests of every row of a cached file, in file order."""
    with pa.memory_map(spill.arrow, "r") as f:
        table = pa.ipc.open_file(f).read_all()
        return np.asarray(table.column("digest").to_numpy(), dtype=np.uint64).copy()
