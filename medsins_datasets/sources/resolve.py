"""Where task files come from.

Every source ends up as task files in the upstream layout (one file per task named
``task<ID>_<anything>.json`` or ``.jsonl``, the MedS-Ins task format, read by content; see
:mod:`medsins_datasets.taskfile`), so the builder reads one format:

* :class:`LocalSource`: a local folder in that layout (a clone of the official Hub repos,
  the output of ``medsins convert``...);
* :class:`HubSource`: the official Hub repos (``Henrychur/MedS-Ins`` for training files,
  ``Henrychur/MedS-Bench`` for test files), downloading only the files of the requested tasks;
* :class:`ConverterSource`: raw source data turned into task files by a converter from
  ``loading_scripts/`` (cached by the raw files' fingerprint).

Splits: files under a folder named ``test`` (or whose name has a ``test`` token, as in the
official ``task122_medmcqa_test_set.json``) are the test split, and so are files under one of
the official MedS-Bench category folders (``MCQA/``, ``NER/``, ``Fact_verication/``, ...: a
local mirror of ``Henrychur/MedS-Bench`` or ``-SPLIT`` is test data); ``dev``/``valid``/
``validation`` is the validation split, the rest train. Test-only tasks are always test.
Files that are not task files (``README.md``, ``.gitattributes``) are ignored.
"""

from __future__ import annotations

import json
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from medsins_datasets._files import default_cache_dir, fingerprint_files
from medsins_datasets.errors import SourceError, UnknownTaskError
from medsins_datasets.registry.benchmark import benchmark_settings
from medsins_datasets.registry.tasks import Task, get_task, has_task

logger = logging.getLogger(__name__)

TASK_FILE_RE = re.compile(r"^(task\d+)_.*\.jsonl?$")
_TEST_RE = re.compile(r"(^|[/_.\-])test([/_.\-]|$)", re.IGNORECASE)
_VALID_RE = re.compile(r"(^|[/_.\-])(dev|valid|validation)([/_.\-]|$)", re.IGNORECASE)

OFFICIAL_TRAIN_REPO = "Henrychur/MedS-Ins"
OFFICIAL_TEST_REPO = "Henrychur/MedS-Bench"

#: benchmark category (tasks.csv ``bench_category``) -> its folder at the root of
#: Henrychur/MedS-Bench (and -SPLIT), spelled as published (``categories.<name>.folder`` of
#: ``data/benchmark.yaml``)
BENCH_CATEGORY_FOLDERS: dict[str, str] = {c.name: c.folder for c in benchmark_settings().categories}
BENCH_FOLDERS = frozenset(BENCH_CATEGORY_FOLDERS.values())

SPLITS = ("train", "validation", "test")


def infer_split(relpath: str, task: Task) -> str:
    folders = relpath.split("/")[:-1]
    if task.test_only or _TEST_RE.search(relpath) or any(f in BENCH_FOLDERS for f in folders):
        return "test"
    if _VALID_RE.search(relpath):
        return "validation"
    return "train"


@dataclass
class TaskFiles:
    """The files of one task, per split, in a stable order."""

    task: Task
    splits: dict[str, list[Path]] = field(default_factory=dict)

    def add(self, split: str, path: Path) -> None:
        self.splits.setdefault(split, []).append(path)

    def all_files(self) -> list[Path]:
        return [p for s in SPLITS for p in self.splits.get(s, [])]


class Source(Protocol):
    """Anything that can give the task files of requested tasks."""

    def describe(self) -> str: ...

    def task_files(self, tasks: list[Task] | None = None) -> dict[str, TaskFiles]:
        """Map config name -> files, for the given tasks (all available tasks when None)."""
        ...

    def splits(self) -> dict[str, set[str]]:
        """Map config name -> the splits the source has for it, without downloading anything."""
        ...


def _scan(root: Path, split: str | None, ignore_unknown: bool) -> dict[str, TaskFiles]:
    found: dict[str, TaskFiles] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            m = TASK_FILE_RE.match(name)
            if not m:
                continue
            path = Path(dirpath) / name
            if not path.is_file():
                raise SourceError(f"{path} is named like a task file but is not a readable file "
                                  "(a dangling link?)")
            if path.is_symlink() and not path.resolve().is_relative_to(root):
                raise SourceError(f"{path} is a link to {path.resolve()}, outside the source folder {root}; "
                                  "copy the file into the folder instead")
            rel = path.relative_to(root).as_posix()
            if not has_task(m.group(1)):
                if ignore_unknown:
                    logger.warning("ignoring %s: %s is not a MedS-Ins/MedS-Bench task id", path, m.group(1))
                    continue
                raise UnknownTaskError(
                    f"file {path}: unknown task id {m.group(1)!r} (not in the MedS-Ins registry; "
                    "rename the file or pass ignore_unknown=True / --ignore-unknown)"
                )
            task = get_task(m.group(1))
            s = "test" if task.test_only else (split or infer_split(rel, task))
            found.setdefault(task.config_name, TaskFiles(task)).add(s, path)
    return found


def _select(found: dict[str, TaskFiles], tasks: list[Task] | None, where: str) -> dict[str, TaskFiles]:
    if not found:
        raise SourceError(f"{where} holds no task files (searched for task<ID>_<name>.json / .jsonl, "
                          "e.g. MCQA/task57_medqa_question_answering_en.jsonl)")
    if tasks is None:
        return dict(sorted(found.items(), key=lambda kv: kv[1].task.number))
    missing = [t for t in tasks if t.config_name not in found]
    if missing:
        names = ", ".join(f"{t.config_name} ({t.task_id})" for t in missing)
        cred = [t for t in missing if t.is_credentialed]
        hint = (
            " Credentialed tasks are never distributed: build them from your own licensed copy "
            "with `medsins convert`." if cred else ""
        )
        raise SourceError(f"{where} has no task file for: {names}. Expected files named task<ID>_<name>.json.{hint}")
    return {t.config_name: found[t.config_name] for t in tasks}


class LocalSource:
    """A local folder of task files in the upstream layout (searched recursively)."""

    def __init__(self, root: str | Path, *, split: str | None = None, ignore_unknown: bool = False):
        self.root = Path(root).expanduser().resolve()
        if not self.root.is_dir():
            raise SourceError(f"source folder {self.root} does not exist or is not a folder")
        if split is not None and split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
        self.split = split
        self.ignore_unknown = ignore_unknown
        self._found: dict[str, TaskFiles] | None = None

    def describe(self) -> str:
        return f"local folder {self.root}"

    def task_files(self, tasks: list[Task] | None = None) -> dict[str, TaskFiles]:
        if self._found is None:
            self._found = _scan(self.root, self.split, self.ignore_unknown)
        return _select(self._found, tasks, self.describe())

    def splits(self) -> dict[str, set[str]]:
        return {name: {s for s, p in tf.splits.items() if p} for name, tf in self.task_files(None).items()}


class HubSource:
    """The official MedS-Ins / MedS-Bench dataset repos on the Hugging Face Hub, read as published.

    ``revision`` (a branch, tag or commit; default ``main``) is resolved to a commit once, and
    every listing and download uses that commit, so one run never mixes two versions of a repo;
    :attr:`commits` records them (``results.json`` and the build manifest carry it). Only the
    files of the requested tasks are downloaded, in parallel, with ``snapshot_download`` into
    the usual Hub cache. ``repos`` maps repo id -> split (None = infer from the path: the
    category folders of MedS-Bench are test data, MedS-Ins files train).
    """

    def __init__(
        self,
        repos: dict[str, str | None] | None = None,
        *,
        revision: str | None = None,
        cache_dir: str | None = None,
        token: str | bool | None = None,
        api=None,
        max_workers: int = 8,
    ):
        from huggingface_hub import HfApi

        self.repos = repos if repos is not None else {OFFICIAL_TRAIN_REPO: None, OFFICIAL_TEST_REPO: "test"}
        self.revision = revision
        self.cache_dir = cache_dir
        self.token = token
        self.max_workers = max_workers
        self.api = api or HfApi(token=token)
        #: repo id -> the commit sha ``revision`` resolved to (filled when the repos are listed)
        self.commits: dict[str, str] = {}
        self._listing: dict[str, list[tuple[Task, str, str, str]]] | None = None

    def describe(self) -> str:
        rev = f"@{self.revision}" if self.revision else ""
        return "Hugging Face Hub repos " + ", ".join(f"{r}{rev}" for r in self.repos)

    def _resolve(self, repo_id: str) -> str:
        try:
            info = self.api.repo_info(repo_id, repo_type="dataset", revision=self.revision)
        except Exception as e:  # network, auth, offline mode, unknown revision...
            rev = f" at revision {self.revision!r}" if self.revision else ""
            raise SourceError(f"cannot read dataset repo {repo_id}{rev}: {type(e).__name__}: {e}") from e
        sha = getattr(info, "sha", None)
        if not sha:
            raise SourceError(f"dataset repo {repo_id}: the Hub did not give the commit of "
                              f"{self.revision or 'main'}")
        return sha

    def _list(self) -> dict[str, list[tuple[Task, str, str, str]]]:
        """config name -> [(task, split, repo_id, filename)]"""
        if self._listing is None:
            listing: dict[str, list[tuple[Task, str, str, str]]] = {}
            for repo_id, split in self.repos.items():
                sha = self.commits.get(repo_id) or self._resolve(repo_id)
                self.commits[repo_id] = sha
                try:
                    files = self.api.list_repo_files(repo_id, repo_type="dataset", revision=sha)
                except Exception as e:  # network, auth, offline mode...
                    raise SourceError(f"cannot list files of dataset repo {repo_id}: {e}") from e
                for fn in sorted(files):
                    m = TASK_FILE_RE.match(fn.rsplit("/", 1)[-1])
                    if not m:
                        continue
                    if not has_task(m.group(1)):
                        logger.warning("ignoring %s/%s: unknown task id %s", repo_id, fn, m.group(1))
                        continue
                    task = get_task(m.group(1))
                    s = "test" if task.test_only else (split or infer_split(fn, task))
                    listing.setdefault(task.config_name, []).append((task, s, repo_id, fn))
            self._listing = listing
        return self._listing

    def splits(self) -> dict[str, set[str]]:
        listing = self._list()
        _select({n: TaskFiles(e[0][0]) for n, e in listing.items()}, None, self.describe())  # empty -> error
        return {name: {split for _, split, _, _ in entries} for name, entries in listing.items()}

    def task_files(self, tasks: list[Task] | None = None) -> dict[str, TaskFiles]:
        listing = self._list()
        stub = {name: TaskFiles(entries[0][0]) for name, entries in listing.items()}
        selected = _select(stub, tasks, self.describe())
        wanted: dict[str, list[str]] = {}
        for name in selected:
            for _, _, repo_id, fn in listing[name]:
                wanted.setdefault(repo_id, []).append(fn)
        roots: dict[str, Path] = {}
        for repo_id, fns in wanted.items():
            try:
                roots[repo_id] = Path(self.api.snapshot_download(
                    repo_id, repo_type="dataset", revision=self.commits[repo_id], cache_dir=self.cache_dir,
                    allow_patterns=fns, max_workers=self.max_workers))
            except Exception as e:
                raise SourceError(f"cannot download {len(fns)} file(s) from dataset repo {repo_id}: "
                                  f"{type(e).__name__}: {e}") from e
        out: dict[str, TaskFiles] = {}
        for name in selected:
            tf = TaskFiles(selected[name].task)
            for _, split, repo_id, fn in listing[name]:
                local = roots[repo_id] / fn
                if not local.is_file():
                    raise SourceError(f"dataset repo {repo_id}: {fn} was listed but not downloaded")
                tf.add(split, local)
            out[name] = tf
        return out



class ConverterSource:
    """Raw source data converted on the fly by a converter from ``loading_scripts/``."""

    def __init__(self, converter: str, data_dir: str | Path, *, definitions: str | Path | None = None,
                 cache_dir: str | Path | None = None):
        from medsins_datasets.sources.converters import get_converter

        self.converter = get_converter(converter)
        self.data_dir = Path(data_dir).expanduser().resolve()
        self.definitions = Path(definitions) if definitions else None
        self.cache_dir = Path(cache_dir) if cache_dir else default_cache_dir() / "converted"
        self._local: LocalSource | None = None

    def describe(self) -> str:
        return f"converter {self.converter.name!r} on {self.data_dir}"

    def _ensure(self) -> LocalSource:
        if self._local is None:
            from medsins_datasets.sources.converters import run_converter

            raw = self.converter.check_raw_files(self.data_dir)
            extra = json.dumps([self.converter.name, self.converter.version, str(self.definitions)])
            fp = fingerprint_files(raw + ([self.definitions] if self.definitions else []), extra)
            out = self.cache_dir / f"{self.converter.name}-{fp}"
            if not out.is_dir():
                run_converter(self.converter.name, self.data_dir, out, definitions=self.definitions)
            self._local = LocalSource(out)
        return self._local

    def task_files(self, tasks: list[Task] | None = None) -> dict[str, TaskFiles]:
        return self._ensure().task_files(tasks)

    def splits(self) -> dict[str, set[str]]:
        return self._ensure().splits()


def resolve_source(spec: "str | Path | Source | None", *, revision: str | None = None) -> Source:
    """Turn a source spec into a :class:`Source`.

    * an existing folder -> :class:`LocalSource`;
    * ``hub`` / ``hub@REV`` -> the official repos; ``hf://datasets/ORG/NAME[@REV]`` -> that repo;
      ``revision`` (e.g. ``--revision``) pins a branch, tag or commit for either;
    * ``raw:<converter>:<raw-data-folder>`` -> :class:`ConverterSource`.
    """
    if spec is None:
        raise SourceError(
            "no data source given: pass a folder of task files, 'hub', 'hf://datasets/ORG/NAME' "
            "or 'raw:<converter>:<folder>'"
        )
    if not isinstance(spec, (str, Path)):
        return spec
    s = str(spec)
    if s == "hub" or s.startswith("hub@"):
        rev = s.partition("@")[2] or revision
        return HubSource(revision=rev or None)
    if s.startswith("hf://datasets/"):
        repo, _, rev = s[len("hf://datasets/"):].partition("@")
        return HubSource({repo.strip("/"): None}, revision=rev or revision or None)
    if s.startswith("raw:"):
        parts = s.split(":", 2)
        if len(parts) != 3 or not parts[1] or not parts[2]:
            raise SourceError(f"bad source {s!r}: expected raw:<converter>:<raw-data-folder>")
        return ConverterSource(parts[1], parts[2])
    p = Path(s).expanduser()
    if p.is_dir():
        if revision:
            raise SourceError(f"--revision applies to Hub sources, not to the local folder {s}")
        return LocalSource(p)
    raise SourceError(
        f"source {s!r} is not an existing folder, 'hub', 'hf://datasets/ORG/NAME' or 'raw:<converter>:<folder>'"
    )
