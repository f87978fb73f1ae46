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

from . import __version__
from .card import write_card
from .convert import CONVERT_MANIFEST
from .examples import FEATURES, iter_split_batches
from .locking import LOCK_FILE, output_lock
from .registry import Task, access_is_credentialed, get_task
from .progress import bar as progress_bar
from .staging import check_replaceable, discard, make_output_folder, new_staging, publish
from .sources import SPLITS, Source, TaskFiles, fingerprint_files, resolve_source
from .errors import SourceError
from .taskfile import OnError, ParseStats

logger = logging.getLogger(__name__)

BUILD_MANIFEST = ".medsins_build.json"
BATCH_ROWS = 10_000
SHARD_ROWS = 500_000


@dataclass
class ConfigBuild:
    """What a build wrote (or kept) for one config."""

    config_name: str
    task_id: str
    splits: dict[str, int]
    files: dict[str, list[str]]
    fingerprint: str
    credentialed: bool
    skipped_instances: int = 0
    reused: bool = False

    def to_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "reused"}


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


def _read_manifest(out: Path) -> dict:
    p = out / BUILD_MANIFEST
    if not p.exists():
        return {"configs": {}}
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except ValueError:
        logger.warning("ignoring unreadable build manifest %s", p)
        return {"configs": {}}


def _file_is_credentialed(path: Path, task: Task, fields: dict) -> bool:
    """Credentialed by registry, by an ``Access`` field anywhere in the file, or by a converter mark."""
    if task.is_credentialed or access_is_credentialed(fields.get("Access")):
        return True
    # a converter output folder marks its data in its manifest
    for parent in path.parents:
        m = parent / CONVERT_MANIFEST
        if m.exists():
            try:
                return bool(json.loads(m.read_text(encoding="utf-8")).get("credentialed"))
            except ValueError:
                return True  # unreadable marker: err on the safe side
    return False


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
    _check_own_folder(out, found)
    created = make_output_folder(out, "--out")
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
    manifest = _read_manifest(out)
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
            cred = any(_file_is_credentialed(Path(s.path), task, s.fields) for s in stats)
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


def _check_own_folder(out: Path, found: dict[str, TaskFiles]) -> None:
    """Refuse to write into a folder that holds files ``medsins build`` did not write (the
    user's README.md, a sub-folder that happens to have a config's name): nothing outside a
    build's own folder is ever overwritten or deleted."""
    if out.exists() and not out.is_dir():
        raise SourceError(f"--out {out} exists and is not a folder; choose another --out")
    if not out.is_dir() or not any(p for p in out.iterdir() if not p.name.startswith(LOCK_FILE)):
        return
    if not (out / BUILD_MANIFEST).is_file():
        raise SourceError(f"--out {out} holds files that `medsins build` did not write (no {BUILD_MANIFEST}); "
                          "nothing was changed: choose a new or empty folder")
    own = _read_manifest(out).get("configs", {})
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


def read_build_manifest(out: str | Path) -> dict:
    """The manifest of a built folder (raises if the folder was not built by ``medsins build``)."""
    out = Path(out)
    if not (out / BUILD_MANIFEST).exists():
        raise SourceError(f"{out} is not a folder written by `medsins build` (no {BUILD_MANIFEST})")
    return _read_manifest(out)
