"""Hub-native build: task files -> Parquet shards per config and split + a dataset card.

``load_dataset(OUT, "pico_outcome")`` then works offline (and ``load_dataset("medsins", ...)``
from OUT's parent when OUT is named ``medsins``), and ``medsins push`` can upload OUT as is.

Memory stays flat: rows are streamed from the task file and written in record batches.
A manifest (``.medsins_build.json``) records, per config, a fingerprint of its inputs, so a
re-run with the same inputs skips that config.
"""

from __future__ import annotations

import json
import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import pyarrow as pa
import pyarrow.parquet as pq
from tqdm.auto import tqdm

from medsins_datasets import __version__
from medsins_datasets._files import (
    check_own_folder,
    check_replaceable,
    discard,
    fingerprint_files,
    make_output_folder,
    new_staging,
    output_lock,
    publish,
)
from medsins_datasets.builder.card import write_card
from medsins_datasets.builder.manifest import BUILD_MANIFEST, ConfigBuild, read_manifest
from medsins_datasets.errors import SourceError
from medsins_datasets.progress import bar as progress_bar
from medsins_datasets.registry.tasks import Task, get_task
from medsins_datasets.sources.converters import file_is_credentialed
from medsins_datasets.sources.resolve import SPLITS, Source, TaskFiles, resolve_source
from medsins_datasets.taskfile.reader import OnError, ParseStats
from medsins_datasets.taskfile.rows import FEATURES, iter_split_batches

logger = logging.getLogger(__name__)

BATCH_ROWS = 10_000
SHARD_ROWS = 500_000



@dataclass
class BuildReport:
    out: Path
    configs: dict[str, ConfigBuild] = field(default_factory=dict)

    @property
    def built(self) -> list[str]:
        return [c for c, b in self.configs.items() if not b.reused]

    @property
    def reused(self) -> list[str]:
        return [c for c, b in self.configs.items() if b.reused]


def _schema() -> pa.Schema:
    return FEATURES.arrow_schema



def _write_split(task: Task, paths: list[Path], dest: Path, split: str, on_error: OnError,
                 bar: tqdm) -> tuple[int, list[str], list[ParseStats]]:
    """Stream the rows of ``paths`` into ``dest/<split>-NNNNN.parquet`` shards."""
    schema = _schema()
    n = 0
    all_stats: list[ParseStats] = []
    written: list[str] = []
    writer: pq.ParquetWriter | None = None
    shard_rows = 0
    try:
        def stats_for(path: Path) -> ParseStats:
            all_stats.append(ParseStats(str(path)))
            return all_stats[-1]

        for _, const, cols in iter_split_batches(task, paths, batch_size=BATCH_ROWS, on_error=on_error,
                                                 stats_for=stats_for):
            rows = len(cols["id"])
            arrays = [
                pa.array(cols[f.name], f.type) if f.name in cols else pa.array([const[f.name]] * rows, f.type)
                for f in schema
            ]
            if writer is None:
                fname = f"{split}-{len(written):05d}.parquet"
                writer = pq.ParquetWriter(dest / fname, schema, compression="zstd")
                written.append(fname)
            writer.write_table(pa.Table.from_arrays(arrays, schema=schema))
            n += rows
            shard_rows += rows
            bar.update(rows)
            if shard_rows >= SHARD_ROWS:
                writer.close()
                writer, shard_rows = None, 0
    finally:
        if writer is not None:
            writer.close()
    return n, written, all_stats


def build(
    source: str | Path | Source,
    out: str | Path,
    tasks: Iterable[str] | None = None,
    *,
    on_error: OnError = "raise",
    force: bool = False,
    progress: bool = True,
    revision: str | None = None,
) -> BuildReport:
    """Build a hub-native dataset folder from a task-file source.

    ``tasks`` selects config names or official ids (default: every task the source has).
    Each config is written to a temporary folder and moved into place when complete, and
    the manifest and card are rewritten after every config, so an interrupted build keeps
    every config finished before the interruption. For Hub sources, ``revision`` pins a
    branch, tag or commit, and the commits read are recorded in the manifest
    (``source_commits``).
    """
    src = resolve_source(source, revision=revision)
    out = Path(out).expanduser().resolve()
    wanted = [get_task(t) for t in tasks] if tasks is not None else None
    found: dict[str, TaskFiles] = src.task_files(wanted)
    created = make_output_folder(out, "--out")  # one line naming a file in the way
    _check_own_configs(out, found)
    try:
        with output_lock(out, "build"):
            return _build_into(out, src, found, on_error=on_error, force=force, progress=progress)
    except BaseException:
        if created and not (out / BUILD_MANIFEST).exists():  # nothing finished: leave no empty folder behind
            shutil.rmtree(out, ignore_errors=True)
        raise


def _build_into(out: Path, src: Source, found: dict[str, TaskFiles], *, on_error: OnError, force: bool,
                progress: bool) -> BuildReport:
    # under the lock no other build writes here: staging folders left by a killed build are debris
    for stale in out.glob(".*.tmp-*"):
        if stale.is_dir() and not stale.is_symlink():
            logger.info("removing %s, left by an interrupted build", stale)
            shutil.rmtree(stale, ignore_errors=True)
    manifest = read_manifest(out)
    manifest.setdefault("source_commits", {}).update(getattr(src, "commits", {}) or {})
    report = BuildReport(out)
    for name, prev in manifest.get("configs", {}).items():
        if name not in found and (out / name).is_dir():
            report.configs[name] = ConfigBuild(**prev, reused=True)  # built earlier from another source

    total = len(found)
    for i, (name, tf) in enumerate(found.items(), 1):
        task = tf.task
        fp = fingerprint_files(tf.all_files(), json.dumps([__version__, on_error]))
        prev = manifest.get("configs", {}).get(name)
        if (not force and prev and prev.get("fingerprint") == fp
                and all((out / name / f).exists() for fs in prev["files"].values() for f in fs)):
            report.configs[name] = ConfigBuild(**prev, reused=True)
            logger.info("[%d/%d] %s: unchanged, kept", i, total, name)
            continue
        staging = new_staging(out / name, "build")
        try:
            splits: dict[str, int] = {}
            files: dict[str, list[str]] = {}
            stats: list[ParseStats] = []
            with progress_bar(desc=f"[{i}/{total}] {name}", unit=" rows", enabled=progress) as bar:
                for split in SPLITS:
                    paths = tf.splits.get(split)
                    if not paths:
                        continue
                    n, written, st = _write_split(task, paths, staging, split, on_error, bar)
                    stats.extend(st)
                    if n:
                        splits[split] = n
                        files[split] = written
            skipped = sum(s.skipped for s in stats)
            if not splits:
                raise SourceError(f"{name}: no valid instance in {', '.join(map(str, tf.all_files()))}")
            cred = any(file_is_credentialed(Path(s.path), task, s.fields) for s in stats)
            publish(staging, out / name)
        except BaseException:
            discard(staging)
            raise
        cb = ConfigBuild(name, task.task_id, splits, files, fp, cred, skipped)
        report.configs[name] = cb
        manifest.setdefault("configs", {})[name] = cb.to_dict()
        _save(out, manifest, report)
    _save(out, manifest, report)
    return report


def _check_own_configs(out: Path, found: dict[str, TaskFiles]) -> None:
    """Refuse to write into a folder that holds files ``medsins build`` did not write (the
    user's README.md, a sub-folder that happens to have a config's name): nothing outside a
    build's own folder is ever overwritten or deleted."""
    check_own_folder(out, BUILD_MANIFEST, "--out", "build")
    if not (out / BUILD_MANIFEST).is_file():
        return  # a new or empty folder
    own = read_manifest(out).get("configs", {})
    for name in found:
        if (out / name).exists() and name not in own:
            raise SourceError(f"{out / name} was not written by `medsins build` (not in {BUILD_MANIFEST}); "
                              "nothing was changed: move it away or choose another --out")
        if (out / name).is_dir():  # rebuilt configs replace their folder: never with a file of the user's in it
            files = [f for fs in (own[name].get("files") or {}).values() for f in fs]
            check_replaceable(out / name, files[0] if files else "", files, "--out", "build")


def _save(out: Path, manifest: dict, report: BuildReport) -> None:
    manifest["configs"] = {
        name: cb.to_dict() for name, cb in sorted(report.configs.items(), key=lambda kv: get_task(kv[0]).number)
    }
    manifest["medsins_version"] = __version__
    manifest["credentialed"] = any(cb.credentialed for cb in report.configs.values())
    tmp = out / (BUILD_MANIFEST + ".tmp")
    tmp.write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    tmp.replace(out / BUILD_MANIFEST)
    write_card(out, list(report.configs.values()))


