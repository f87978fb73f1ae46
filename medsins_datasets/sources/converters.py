"""Framework for raw-source converters (the modules in ``loading_scripts/``).

A converter module declares one :class:`Converter` named ``CONVERTER``: the source's name,
access, the raw files it expects and the official task ids it produces, plus a
``convert(data_dir, writer)`` function. It declares no homepage and no licence: those live once,
in the source datasets' table ``data/sources.csv`` (:mod:`medsins_datasets.registry.source_datasets`),
and :attr:`Converter.homepage` / :attr:`Converter.license` read them from there; ``download``
says where the raw files come from when that is not the source's homepage. Converters write task files through a
:class:`TaskWriter`, which streams instances into upstream-layout files
(``train/task<ID>_<config>.json``, ``test/task<ID>_<config>.json``) in a temporary folder
that replaces the output folder only once everything succeeded: nothing is half-written.

The registry learns which converter serves which task from these declarations
(:func:`converter_for_task`), so adding a source touches one file.

Parity and clean-ups. Where the official MedS-Ins preparation script of a source is published
(``data_preparing/`` of github.com/MAGIC-AI4Med/MedS-Ins), a converter's DEFAULT output is what
that script writes from the same raw files, text untouched; it differs only by the fixes of real
bugs that its module docstring lists (test instances kept out of training, deterministic order,
current task ids...). Text clean-ups (whitespace reflow, readable detokenisation...) are opt-in:
``run_converter(..., clean=True)`` / ``medsins convert --clean`` sets :attr:`TaskWriter.clean`,
which a converter with a clean-up reads (its :attr:`Converter.clean_note` says what changes);
the others ignore it. The manifest records the choice.

Paper test sizes. The paper evaluated a seeded random sample of most benchmark test sets
(supplementary section A.2, "Task Category Details": e.g. 50 NER sentences, 100 summaries).
``paper_test_sizes=True`` (``--paper-test-sizes``) keeps, after conversion, a deterministic
seeded sample of that size of each benchmark task's test split, in file order; the sizes are
data (column ``paper_test_size`` of ``data/tasks.csv``). ``test_size=N`` (``--test-size N``)
does the same with one size for every benchmark task. The manifest records what was kept.
"""

from __future__ import annotations

import importlib
import json
import logging
import pkgutil
import random
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterable

from medsins_datasets._files import check_own_folder, check_replaceable, discard, new_staging, publish
from medsins_datasets.errors import SourceError, UnknownTaskError
from medsins_datasets.progress import bar as progress_bar
from medsins_datasets.registry.access import access_is_credentialed
from medsins_datasets.registry.source_datasets import has_source_dataset, source_dataset
from medsins_datasets.registry.tasks import Task, all_tasks, get_task
from medsins_datasets.taskfile.definitions import REWRITES_FIELD, Definitions

logger = logging.getLogger(__name__)

#: File written at the root of a converter output folder and of a hub-native build.
CONVERT_MANIFEST = ".medsins_convert.json"


@dataclass(frozen=True)
class RawFile:
    """One raw file (or glob) the converter reads, as the source distributes it."""

    pattern: str
    description: str
    required: bool = True


@dataclass(frozen=True)
class Converter:
    """A raw-source converter's declaration. Homepage and licence are not declared here: they are
    read from ``data/sources.csv`` (see :attr:`homepage`, :attr:`license`)."""

    name: str
    #: the source as ``data/sources.csv`` names it (a distribution of several sources, such as
    #: Super-NaturalInstructions, is not a row: it says where it is with ``download``)
    source: str
    access: str  # "public" | "credentialed" | "unknown"
    raw_files: tuple[RawFile, ...]
    task_ids: tuple[str, ...]
    convert: Callable[[Path, "TaskWriter"], None]
    version: str = "1"
    notes: str = ""
    #: what ``--clean`` changes for this source ("" = nothing: the converter ignores the option)
    clean_note: str = ""
    #: where the raw files this converter reads are distributed, when that is not the source's
    #: homepage in ``data/sources.csv`` ("" = the homepage)
    download: str = ""

    @property
    def tasks(self) -> list[Task]:
        return [get_task(t) for t in self.task_ids]

    @property
    def sources(self) -> tuple[str, ...]:
        """The registry sources of the tasks it produces (its own source first when it is one)."""
        names = list(dict.fromkeys(get_task(t).source for t in self.task_ids))
        if self.source in names:
            names.remove(self.source)
            names.insert(0, self.source)
        return tuple(names)

    @property
    def homepage(self) -> str:
        """The source's homepage from ``data/sources.csv`` (a distribution that is no row of the
        table: where it is distributed)."""
        return source_dataset(self.source).homepage if has_source_dataset(self.source) else self.download

    @property
    def license(self) -> str:
        """The licence of its sources, from ``data/sources.csv``: the one licence when they share it,
        else ``"<source>: <licence>; ..."``."""
        lic = {name: source_dataset(name).license or "unknown" for name in self.sources}
        if len(set(lic.values())) == 1:
            return next(iter(lic.values()))
        return "; ".join(f"{name}: {text}" for name, text in lic.items())

    def source_licenses(self, task_ids: Iterable[str] | None = None) -> dict[str, dict[str, str]]:
        """``{source: {"homepage", "license"}}`` from ``data/sources.csv`` for the sources of
        ``task_ids`` (default: every task it declares)."""
        names = self.sources if task_ids is None else dict.fromkeys(get_task(t).source for t in task_ids)
        return {n: {"homepage": source_dataset(n).homepage, "license": source_dataset(n).license} for n in names}

    @property
    def raw_data_url(self) -> str:
        """Where the raw files are distributed: ``download``, else the source's homepage."""
        return self.download or self.homepage

    def check_raw_files(self, data_dir: Path) -> list[Path]:
        """Return the raw files found; raise naming every missing required file."""
        data_dir = Path(data_dir)
        if not data_dir.is_dir():
            raise SourceError(f"raw data folder {data_dir} for source {self.source!r} does not exist")
        found: list[Path] = []
        missing: list[RawFile] = []
        for rf in self.raw_files:
            hits = sorted(p for p in data_dir.glob(rf.pattern) if p.is_file())
            if not hits and rf.required:
                missing.append(rf)
            found.extend(hits)
        if missing:
            lines = "\n".join(f"  - {rf.pattern}: {rf.description}" for rf in missing)
            raise SourceError(
                f"{self.source}: missing raw file(s) in {data_dir}:\n{lines}\n"
                f"The source distributes them at {self.raw_data_url}"
            )
        return found

    def describe(self) -> dict:
        return {
            "name": self.name,
            "source": self.source,
            "homepage": self.homepage,
            "license": self.license,
            "download": self.download,
            "sources": self.source_licenses(),
            "access": self.access,
            "raw_files": [{"pattern": r.pattern, "description": r.description, "required": r.required} for r in self.raw_files],
            "tasks": list(self.task_ids),
            "notes": self.notes,
            "clean": self.clean_note,
        }


class _TaskFileStream:
    """Writes one task file, streaming instances (the file is valid JSON once closed)."""

    def __init__(self, path: Path, header: dict, bar: Any = None):
        self.path = path
        self.bar = bar  # the run's progress bar (instances written)
        self.count = 0
        self.ids: set[str] = set()
        self.fh = open(path, "w", encoding="utf-8")
        head = json.dumps(header, ensure_ascii=False, indent=1)
        self.fh.write(head[:-1].rstrip() + (",\n" if header else "\n") + ' "Instances": [\n')

    def add(self, input: str, output: str | Iterable[str], id: str | None = None) -> None:
        outputs = [output] if isinstance(output, str) else list(output)
        iid = id if id is not None else f"{self.path.stem.split('_', 1)[0]}-{self.count}"
        if iid in self.ids:
            raise SourceError(f"converter wrote duplicate instance id {iid!r} into {self.path.name}")
        self.ids.add(iid)
        rec = json.dumps({"id": iid, "input": input, "output": outputs}, ensure_ascii=False)
        self.fh.write(("  " if self.count == 0 else ",\n  ") + rec)
        self.count += 1
        if self.bar is not None:
            self.bar.update(1)

    def close(self) -> None:
        self.fh.write("\n ]\n}\n")
        self.fh.close()


class TaskWriter:
    """Creates task files for one converter run inside a staging folder.

    ``clean`` asks the converter for its documented text clean-ups instead of the official
    preparation's output (see the module docstring); converters without one ignore it.
    """

    def __init__(self, root: Path, converter: Converter, definitions: Definitions | None = None,
                 *, clean: bool = False):
        self.root = root
        self.converter = converter
        self.definitions = definitions
        self.clean = bool(clean)
        self.written: dict[str, dict[str, int]] = {}
        self._open: list[_TaskFileStream] = []
        self.bar = progress_bar(desc=f"converting {converter.name}", unit=" instances")

    def definition(self, task_id: str, fallback: str | None = None) -> str:
        if self.definitions is not None:
            d = self.definitions.original(task_id)
            if d:
                return d
        if fallback:
            return fallback
        raise SourceError(
            f"no definition for {task_id}: pass the official definitions file "
            "(RewriteDefinitions.json) with --definitions"
        )

    def open(self, task_id: str, split: str, *, definition: str | None = None,
             input_language: list[str] | None = None, output_language: list[str] | None = None,
             extra: dict | None = None) -> _TaskFileStream:
        task = get_task(task_id)
        if task.task_id not in self.converter.task_ids:
            raise UnknownTaskError(f"converter {self.converter.name!r} does not declare task {task.task_id}")
        if task.test_only and split != "test":
            raise SourceError(f"{task.task_id} is a test-only task; it cannot have a {split} split")
        header: dict = {
            "Definition": self.definition(task.task_id, definition),
            "Input_language": input_language or list(task.input_languages),
            "Output_language": output_language or list(task.output_languages),
            "Source": [task.source],
            "Categories": [task.category],
            "Domains": [task.domain],
        }
        if self.definitions is not None and self.definitions.rewrites(task.task_id):
            header[REWRITES_FIELD] = self.definitions.rewrites(task.task_id)
        if task.is_credentialed or self.converter.access == "credentialed":
            header["Access"] = "credentialed"
        header.update(extra or {})
        folder = self.root / split
        folder.mkdir(parents=True, exist_ok=True)
        stream = _TaskFileStream(folder / f"{task.task_id}_{task.config_name}.json", header, self.bar)
        self._open.append(stream)
        self.written.setdefault(task.config_name, {})[split] = 0
        return stream

    def close_all(self) -> None:
        for s in self._open:
            s.close()
            cfg = s.path.stem.split("_", 1)[1]
            self.written[cfg][s.path.parent.name] = s.count
        self._open.clear()
        self.bar.close()


@lru_cache(maxsize=1)
def converters() -> dict[str, Converter]:
    """All converters declared in ``loading_scripts/`` (module attribute ``CONVERTER``)."""
    pkg = importlib.import_module("medsins_datasets.loading_scripts")
    found: dict[str, Converter] = {}
    for info in pkgutil.iter_modules(pkg.__path__):
        if info.name.startswith("_"):
            continue
        mod = importlib.import_module(f"{pkg.__name__}.{info.name}")
        conv = getattr(mod, "CONVERTER", None)
        if isinstance(conv, Converter):
            if conv.name in found:
                raise RuntimeError(f"two converters named {conv.name!r}")
            found[conv.name] = conv
    return dict(sorted(found.items()))


def get_converter(name: str) -> Converter:
    convs = converters()
    if name not in convs:
        raise SourceError(f"unknown converter {name!r}; available: {', '.join(convs) or 'none'} (see `medsins sources`)")
    return convs[name]


def converter_for_task(task: str | Task) -> Converter | None:
    t = get_task(task) if isinstance(task, str) else task
    for conv in converters().values():
        if t.task_id in conv.task_ids:
            return conv
    return None


#: Seed prefix of the test-size samples (the task id is appended): recorded in the manifest.
TEST_SAMPLE_SEED = "medsins-paper-test-size-v1"

#: Where the per-task sizes come from (cited in the manifest and the docs).
PAPER_TEST_SIZE_SOURCE = ("Wu et al., Towards evaluating and building versatile large language models for medicine, "
                          "supplementary section A.2 'Task Category Details' (\"During testing, we randomly sample N ...\")")


def paper_test_size_table() -> dict[str, int]:
    """``{task id: n}``: the test sample size the paper gives for a MedS-Bench task (the registry's
    ``paper_test_size``, a column of ``data/tasks.csv``; empty where the paper gives no sample
    size: MCQA, PICO, ADE and RCT are evaluated on their whole test split)."""
    return {t.task_id: t.paper_test_size for t in all_tasks() if t.paper_test_size is not None}


def _test_size_plan(paper: bool, size: int | None) -> dict[str, int]:
    """``{task id: n}`` of the benchmark tasks whose test split is to be sampled."""
    if paper and size is not None:
        raise SourceError("choose either the paper's test sizes (--paper-test-sizes) or one size (--test-size), not both")
    if size is not None:
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise SourceError(f"--test-size must be a positive whole number, got {size!r}")
        return {t.task_id: size for t in all_tasks() if t.in_bench}
    if paper:
        bench = {t.task_id for t in all_tasks() if t.in_bench}
        return {tid: n for tid, n in paper_test_size_table().items() if tid in bench}
    return {}


def _sample_test_file(path: Path, task_id: str, k: int) -> tuple[int, int]:
    """Keep a seeded sample of ``k`` instances of a written test file, in file order.

    The file is one written by :class:`_TaskFileStream` (one instance per line); it is
    rewritten with the same header. Returns ``(kept, of)``.
    """
    header_lines: list[str] = []
    records: list[dict] = []
    with open(path, encoding="utf-8") as fh:
        in_instances = False
        for line in fh:
            if not in_instances:
                header_lines.append(line)
                in_instances = line.rstrip("\n").endswith('"Instances": [')
                continue
            body = line.strip().rstrip(",")
            if body.startswith("{"):
                records.append(json.loads(body))
    n = len(records)
    if n <= k:
        return n, n
    keep = sorted(random.Random(f"{TEST_SAMPLE_SEED}:{task_id}").sample(range(n), k))
    tmp = path.with_name(path.name + ".sample")
    with open(tmp, "w", encoding="utf-8") as out:
        out.write("".join(header_lines))
        out.write(",\n".join("  " + json.dumps(records[i], ensure_ascii=False) for i in keep))
        out.write("\n ]\n}\n")
    tmp.replace(path)
    return k, n


def _apply_test_sizes(root: Path, written: dict[str, dict[str, int]], plan: dict[str, int]) -> dict[str, dict]:
    """Sample the test files of the planned tasks in ``root``; update ``written``; return the record."""
    done: dict[str, dict] = {}
    for cfg, splits in written.items():
        task = get_task(cfg)
        k = plan.get(task.task_id)
        if k is None or "test" not in splits:
            continue
        kept, of = _sample_test_file(root / "test" / f"{task.task_id}_{cfg}.json", task.task_id, k)
        splits["test"] = kept
        done[task.task_id] = {"size": k, "kept": kept, "of": of}
    return done


def run_converter(name: str, data_dir: str | Path, out_dir: str | Path, *,
                  definitions: str | Path | Definitions | None = None, overwrite: bool = True,
                  clean: bool = False, paper_test_sizes: bool = False,
                  test_size: int | None = None) -> dict[str, dict[str, int]]:
    """Convert raw files into upstream-layout task files in ``out_dir``.

    Returns ``{config_name: {split: n_instances}}``. The output appears atomically: the
    files are written to a temporary sibling folder which replaces ``out_dir`` at the end.

    ``clean`` applies the converter's documented text clean-ups (default: the official
    preparation's output). ``paper_test_sizes`` / ``test_size`` keep a seeded sample of each
    benchmark task's test split of the paper's size / of one size (see the module docstring).
    """
    conv = get_converter(name)
    data_dir = Path(data_dir).expanduser().resolve()
    out_dir = Path(out_dir).expanduser().resolve()
    plan = _test_size_plan(paper_test_sizes, test_size)
    conv.check_raw_files(data_dir)
    defs = definitions if isinstance(definitions, Definitions) or definitions is None else Definitions(definitions)
    if out_dir.exists() and not overwrite:
        raise SourceError(f"output folder {out_dir} exists (pass overwrite=True / --overwrite)")
    if out_dir.exists() or out_dir.is_symlink():
        # only an earlier conversion (its manifest says so) or an empty folder is ever replaced
        if not out_dir.is_dir() or out_dir.is_symlink():
            raise SourceError(f"--out {out_dir} exists and is not a folder; choose another --out")
        check_own_folder(out_dir, CONVERT_MANIFEST, "--out", "convert")
        if (out_dir / CONVERT_MANIFEST).is_file():
            try:
                tasks = json.loads((out_dir / CONVERT_MANIFEST).read_text(encoding="utf-8")).get("tasks", {})
                earlier = [f"{split}/{get_task(cfg).task_id}_{cfg}.json" for cfg, splits in tasks.items()
                           for split in splits]
            except (ValueError, AttributeError, UnknownTaskError):
                earlier = []
            check_replaceable(out_dir, CONVERT_MANIFEST, earlier, "--out", "convert")
    staging = new_staging(out_dir, "convert")
    writer = TaskWriter(staging, conv, defs, clean=clean)
    try:
        conv.convert(data_dir, writer)
        writer.close_all()
        empty = [f"{cfg}/{split}" for cfg, splits in writer.written.items() for split, n in splits.items() if n == 0]
        if empty:
            raise SourceError(f"{conv.source}: no instances produced for {', '.join(empty)}")
        sampled = _apply_test_sizes(staging, writer.written, plan)
        manifest = {
            "converter": conv.name,
            "version": conv.version,
            "source": conv.source,
            "access": conv.access,
            "credentialed": conv.access == "credentialed" or any(get_task(c).is_credentialed for c in writer.written),
            # --clean: requested, and whether this converter has a clean-up to apply
            "clean": bool(clean),
            "clean_applied": bool(clean and conv.clean_note),
            "tasks": writer.written,
            # homepage and licence of the sources of the tasks written (read from data/sources.csv)
            "sources": conv.source_licenses(get_task(cfg).task_id for cfg in writer.written),
        }
        if plan:
            manifest["test_sampling"] = {
                "mode": "paper" if paper_test_sizes else "fixed",
                "source": PAPER_TEST_SIZE_SOURCE if paper_test_sizes else f"--test-size {test_size}",
                "seed": f"{TEST_SAMPLE_SEED}:<task id>",
                "tasks": sampled,
            }
        (staging / CONVERT_MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
        publish(staging, out_dir)
    except BaseException:
        for s in writer._open:
            s.fh.close()
        writer.bar.close()
        discard(staging)
        raise
    logger.info("converted %s into %s: %s", conv.source, out_dir, writer.written)
    return writer.written


def file_is_credentialed(path: Path, task: Task, fields: dict) -> bool:
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
