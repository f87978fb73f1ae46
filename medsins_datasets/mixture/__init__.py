"""Multi-task training mixtures as streaming ``datasets.IterableDataset`` objects.

A :class:`MixtureSpec` selects tasks (by name, category, domain, language, access), caps each
task, weights tasks by temperature (FLAN/T5 style: task *i* gets a share proportional to
``min(n_i, cap) ** (1 / T)``), removes duplicate (definition, input, output) examples, renders
prompts (zero- or few-shot, original or rewritten definitions) and shuffles, all from a seed.

Rows are rendered in the **official MedS-Bench layout** by default (``layout="official"``), the
layout ``medsins bench`` prompts with, so a model trained on a mixture sees what it is evaluated
with: a system message (the shots, then the definition and the few-shot sentence) and a user
message (the input), see :func:`medsins_datasets.prompts.render_messages`. Rows are chat turns for
a model's chat template, or (``plain=True``) the official plain text for a model without one; a
plain prompt always ends on a newline, so that the completion starts a new token (see
:func:`render_training_row`). ``layout="paper"`` keeps the paper's prose template.

How it stays flat in memory at MedS-Ins scale (millions of rows):

1. **Planning** reads each task file once, streaming, into a per-file Arrow IPC cache (record
   batches of :data:`SPILL_BATCH` rows; reused while the task file is unchanged) holding id,
   input, output and an 8-byte blake2b digest of (definition, input, output). Only the digests
   (8 bytes per row) are gathered to deduplicate, and a per-row multiplicity array (4 bytes per
   row) records how often each row appears (0 = dropped by dedup, cap or down-sampling;
   >1 = up-sampled by the temperature).
2. **Iterating** interleaves the tasks: task labels are drawn block-wise from a multivariate
   hypergeometric distribution over the remaining per-task quotas (an exactly uniform
   interleaving), and each task streams its rows batch by batch, batches in a seeded random order
   and rows shuffled within a batch. Only the current batch of each task is in memory.

Everything random comes from ``numpy``/``random`` generators seeded by stable (blake2b) hashes of
the seed, so the same spec and data give byte-identical mixtures in any process.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, NamedTuple, Sequence

import numpy as np
import pyarrow as pa

from medsins_datasets._files import (
    check_replaceable,
    default_cache_dir,
    discard,
    fingerprint_files,
    glob_escape,
    new_staging,
    publish,
    remove_stale_files,
    temp_file,
)
from medsins_datasets.errors import CredentialedDataError, MedsinsError, SourceError
from medsins_datasets.progress import bar as progress_bar
from medsins_datasets.prompts import (
    OFFICIAL_SENTENCE,
    PAPER_TEMPLATE,
    PromptTemplate,
    ShotPool,
    fit_prompt,
    render_messages,
    render_plain,
    stable_seed,
    to_messages,
)
from medsins_datasets.registry.tasks import Task, get_task, select_tasks
from medsins_datasets.sources.resolve import SPLITS, Source, TaskFiles, resolve_source
from medsins_datasets.taskfile.definitions import (
    DefinitionChooser,
    header_rewrites,
    load_definitions,
    merge_rewrites,
)

logger = logging.getLogger(__name__)

FORMATS = ("prompt_completion", "messages")
#: prompt layouts: the official MedS-Bench one (the default of ``medsins bench``) and the paper's prose
LAYOUTS = ("official", "paper")
#: how every plain-text prompt ends (its trailing whitespace is removed, then this is appended), so
#: that the completion starts a new token: glued to the input ("...about pain." + "pain 2") its first
#: token can merge with the prompt's last one, and TRL then drops the end of the prompt from the
#: training sequence. Official few-shot prompts already end with "Output:\n" (unchanged); zero-shot
#: and paper-layout prompts gain it.
PLAIN_SEPARATOR = "\n"
#: rows per record batch of the per-file cache (the unit of reading and of within-task shuffling)
SPILL_BATCH = 512
#: task labels drawn per interleaving block
INTERLEAVE_BLOCK = 4096
_SPILL_VERSION = "1"
_SPILL_SCHEMA = pa.schema(
    [("id", pa.string()), ("input", pa.string()), ("output", pa.string()), ("digest", pa.uint64())]
)


def _str_list(value: Any, name: str) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return list(value)
    raise MedsinsError(f"mixture spec field {name!r} must be a list of strings, got {value!r}")


@dataclass
class MixtureSpec:
    """What goes into a training mixture. Every field has a default.

    Selection (combined with AND, case-insensitive): ``tasks`` (config names or official ids;
    None = all), ``categories``, ``domains``, ``languages`` (input or output language),
    ``access`` (default ``["public"]``; None = any level except credentialed, which always needs
    an explicit ``"credentialed"`` in the list), minus ``exclude_tasks``.

    Sizes: ``max_per_task`` caps each task (a seeded uniform subset after dedup); ``temperature``
    T re-weights tasks to shares proportional to ``min(n, cap) ** (1/T)`` of ``num_rows`` total
    rows (default: the sum of the capped sizes, so T=1 keeps every capped row exactly once;
    T>1 up-samples small tasks and down-samples large ones); ``max_epochs_per_task`` limits
    up-sampling (a task never yields more than that many times its capped size).

    Prompts: a fraction ``few_shot_ratio`` of rows get 1..``max_shots`` cases from the task's
    train split (never the row itself); with probability ``rewrite_prob`` a rewritten definition
    replaces the original (rewrites from the task files' ``Rewritten_Definitions`` and from
    ``definitions_file``); ``max_prompt_chars`` drops shots from prompts that are too long.

    ``dedup`` drops repeated (original definition, input, output) examples (first occurrence kept,
    in registry order). ``format`` is ``"prompt_completion"`` or ``"messages"``. ``splits`` are
    the source splits rows are taken from.

    ``layout``: ``"official"`` (default; the MedS-Bench system + user messages that ``medsins
    bench`` prompts with) or ``"paper"`` (the paper's prose, one user turn). ``plain``: render the
    plain text of a model without a chat template (prompt and completion strings; only with
    ``format="prompt_completion"``) instead of chat turns. See :func:`render_training_row`.

    ``exclude_contaminated`` drops training rows that overlap a MedS-Bench test instance
    (see :mod:`medsins_datasets.contamination`: exact input, or ``contamination_threshold`` of its
    ``contamination_ngram``-grams), the test splits being read from ``bench_source`` (default: the
    mixture's source).
    """

    tasks: list[str] | None = None
    categories: list[str] | None = None
    domains: list[str] | None = None
    languages: list[str] | None = None
    access: list[str] | None = field(default_factory=lambda: ["public"])
    exclude_tasks: list[str] | None = None
    max_per_task: int | None = None
    temperature: float = 1.0
    few_shot_ratio: float = 0.0
    max_shots: int = 3
    rewrite_prob: float = 0.0
    definitions_file: str | None = None
    dedup: bool = True
    seed: int = 0
    format: str = "prompt_completion"
    layout: str = "official"
    plain: bool = False
    splits: list[str] = field(default_factory=lambda: ["train"])
    num_rows: int | None = None
    max_epochs_per_task: float | None = None
    max_prompt_chars: int | None = None
    shot_pool_size: int = 256
    skip_invalid: bool = False
    exclude_contaminated: bool = False
    bench_source: str | None = None
    contamination_ngram: int = 13
    contamination_threshold: float = 0.5

    def __post_init__(self) -> None:
        for name in ("tasks", "categories", "domains", "languages", "access", "exclude_tasks", "splits"):
            setattr(self, name, _str_list(getattr(self, name), name))
        if not self.splits:
            raise MedsinsError("mixture spec field 'splits' must name at least one split")
        bad = [s for s in self.splits if s not in SPLITS]
        if bad:
            raise MedsinsError(f"mixture spec field 'splits': unknown split(s) {bad}; use {list(SPLITS)}")
        if self.format not in FORMATS:
            raise MedsinsError(f"mixture spec field 'format' must be one of {FORMATS}, got {self.format!r}")
        if self.layout not in LAYOUTS:
            raise MedsinsError(f"mixture spec field 'layout' must be one of {LAYOUTS}, got {self.layout!r}")
        if not isinstance(self.plain, bool):
            raise MedsinsError(f"mixture spec field 'plain' must be true or false, got {self.plain!r}")
        if self.plain and self.format == "messages":
            raise MedsinsError("mixture spec field 'plain' needs format 'prompt_completion' (messages are chat turns)")
        if not (isinstance(self.temperature, (int, float)) and self.temperature > 0):
            raise MedsinsError(f"mixture spec field 'temperature' must be > 0, got {self.temperature!r}")
        for name in ("few_shot_ratio", "rewrite_prob"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and 0.0 <= v <= 1.0):
                raise MedsinsError(f"mixture spec field {name!r} must be in [0, 1], got {v!r}")
        for name, low in (("max_per_task", 1), ("num_rows", 1), ("max_prompt_chars", 1)):
            v = getattr(self, name)
            if v is not None and not (isinstance(v, int) and not isinstance(v, bool) and v >= low):
                raise MedsinsError(f"mixture spec field {name!r} must be an integer >= {low} or null, got {v!r}")
        if not (isinstance(self.max_shots, int) and self.max_shots >= 1):
            raise MedsinsError(f"mixture spec field 'max_shots' must be an integer >= 1, got {self.max_shots!r}")
        if not (isinstance(self.shot_pool_size, int) and self.shot_pool_size >= 1):
            raise MedsinsError(f"mixture spec field 'shot_pool_size' must be an integer >= 1, got {self.shot_pool_size!r}")
        if self.max_epochs_per_task is not None and not (
                isinstance(self.max_epochs_per_task, (int, float)) and self.max_epochs_per_task > 0):
            raise MedsinsError(f"mixture spec field 'max_epochs_per_task' must be > 0 or null, got {self.max_epochs_per_task!r}")
        if not (isinstance(self.contamination_ngram, int) and self.contamination_ngram >= 1):
            raise MedsinsError(f"mixture spec field 'contamination_ngram' must be an integer >= 1, got {self.contamination_ngram!r}")
        if not (isinstance(self.contamination_threshold, (int, float)) and 0 < self.contamination_threshold <= 1):
            raise MedsinsError(f"mixture spec field 'contamination_threshold' must be in (0, 1], got {self.contamination_threshold!r}")
        if not isinstance(self.seed, int) or isinstance(self.seed, bool):
            raise MedsinsError(f"mixture spec field 'seed' must be an integer, got {self.seed!r}")

    @classmethod
    def from_dict(cls, d: dict) -> "MixtureSpec":
        """Build a spec from a mapping (e.g. a YAML/JSON config); unknown keys are an error."""
        if not isinstance(d, dict):
            raise MedsinsError(f"a mixture spec must be a mapping, got {type(d).__name__}")
        known = [f.name for f in dataclasses.fields(cls)]
        unknown = sorted(set(d) - set(known))
        if unknown:
            raise MedsinsError(f"unknown mixture spec key(s) {unknown}; known keys: {', '.join(known)}")
        return cls(**d)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @property
    def allows_credentialed(self) -> bool:
        """Credentialed tasks and files only with the explicit opt-in: 'credentialed' in ``access``
        (``access: null`` means every access level EXCEPT credentialed)."""
        return self.access is not None and "credentialed" in {str(a).strip().lower() for a in self.access}

    def describe_filters(self) -> str:
        parts = [f"{k}={v}" for k in ("tasks", "categories", "domains", "languages", "access", "exclude_tasks")
                 if (v := getattr(self, k)) is not None]
        parts.append(f"splits={self.splits}")
        return ", ".join(parts)


# ---------------------------------------------------------------------------------------------
# planning


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
    import hashlib

    h = hashlib.blake2b(digest_size=8)
    h.update(definition.encode("utf-8", "surrogatepass"))
    h.update(b"\x00")
    return h


def _spill_file(task: Task, path: Path, split: str, cache: Path, on_error: str) -> FileSpill:
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


def _read_batch(spill: FileSpill, index: int, rows: np.ndarray | None = None) -> pa.RecordBatch:
    with pa.OSFile(spill.arrow, "rb") as f:
        batch = pa.ipc.open_file(f).get_batch(index)
    return batch if rows is None else batch.take(pa.array(rows))


def _read_digests(spill: FileSpill) -> np.ndarray:
    with pa.memory_map(spill.arrow, "r") as f:
        table = pa.ipc.open_file(f).read_all()
        return np.asarray(table.column("digest").to_numpy(), dtype=np.uint64).copy()


@dataclass
class TaskPlan:
    """One task's part of a mixture."""

    task: Task
    files: list[FileSpill]
    rows: int  # rows in the selected files
    unique: int  # after dedup (and contamination exclusion)
    available: int  # after the per-task cap
    quota: int = 0  # rows this task contributes
    contaminated: int = 0  # rows dropped for overlapping the benchmark
    mult: np.ndarray = field(default_factory=lambda: np.zeros(0, np.uint32), repr=False)
    keep: np.ndarray = field(default_factory=lambda: np.zeros(0, bool), repr=False)  # survived dedup
    rewrites: list[str] = field(default_factory=list, repr=False)

    def summary(self) -> dict:
        return {"task_id": self.task.task_id, "rows": self.rows, "unique": self.unique,
                "available": self.available, "quota": self.quota, "contaminated": self.contaminated}


def _largest_remainder(raw: np.ndarray, total: int) -> np.ndarray:
    base = np.floor(raw).astype(np.int64)
    short = int(total - base.sum())
    if short > 0:
        frac = raw - base
        order = np.lexsort((np.arange(len(raw)), -frac))  # ties: task order
        base[order[:short]] += 1
    return base


def _select_tasks(spec: MixtureSpec, src: Source) -> list[tuple[Task, TaskFiles]]:
    explicit = spec.tasks is not None
    if explicit:
        named = select_tasks(spec.tasks)  # raises UnknownTaskError for unknown names
    wanted = select_tasks(
        spec.tasks, category=spec.categories, domain=spec.domains, language=spec.languages, access=spec.access,
        include_test_only=explicit or "test" in spec.splits,
    )
    if not spec.allows_credentialed:
        wanted = [t for t in wanted if not t.is_credentialed]
    if spec.exclude_tasks:
        drop = {get_task(n).task_id for n in spec.exclude_tasks}
        wanted = [t for t in wanted if t.task_id not in drop]
    if explicit:
        kept = {t.task_id for t in wanted}
        blocked = [t for t in named if t.task_id not in kept and (
            (spec.access is not None and t.access.lower() not in {a.lower() for a in spec.access})
            or (t.is_credentialed and not spec.allows_credentialed))]
        if blocked:
            err = CredentialedDataError if any(t.is_credentialed for t in blocked) else MedsinsError
            raise err(
                "task(s) " + ", ".join(f"{t.config_name} (access {t.access})" for t in blocked)
                + f" are excluded by access={spec.access}; add their access level to 'access' to include them"
            )
    if not wanted:
        raise MedsinsError(f"the mixture selects no task (filters: {spec.describe_filters()})")
    if explicit:
        found = src.task_files(wanted)
    else:
        try:
            found = src.task_files(wanted)
        except SourceError:
            available = src.splits()  # a listing: unselected tasks are never read or downloaded
            missing = [t.config_name for t in wanted if t.config_name not in available]
            logger.info("mixture: %s has no files for %d selected task(s): %s", src.describe(), len(missing),
                        ", ".join(missing))
            present = [t for t in wanted if t.config_name in available]
            found = src.task_files(present) if present else {}
    out = []
    for t in wanted:
        tf = found.get(t.config_name)
        if tf is None:
            continue
        if not any(tf.splits.get(s) for s in spec.splits):
            if explicit:
                have = ", ".join(s for s, p in tf.splits.items() if p) or "none"
                raise SourceError(f"{src.describe()} has no {'/'.join(spec.splits)} split for {t.config_name} "
                                  f"({t.task_id}); splits present: {have}")
            continue
        out.append((t, tf))
    if not out:
        raise MedsinsError(f"the mixture selects no task with data in {src.describe()} "
                           f"(filters: {spec.describe_filters()})")
    return out


class MixtureExample(NamedTuple):
    """One mixture row before rendering."""

    task: str  # config name
    id: str
    definition: str
    input: str
    shots: tuple[tuple[str, str], ...]  # (input, output) cases shown in the prompt
    output: str  # the answer (the completion)


def fit_shots(definition: str, input: str, shots: Sequence[tuple[str, str]], *, layout: str = "official",
              template: PromptTemplate = PAPER_TEMPLATE, max_chars: int | None = None) -> list[tuple[str, str]]:
    """The shots kept when the prompt may have at most ``max_chars`` characters: dropped from the
    last one until it fits (official layout: measured on its plain text, as ``medsins bench`` does;
    paper: on the paper prompt). The definition and the input are never cut."""
    shots = list(shots)
    if max_chars is None or not shots:
        return shots
    if layout == "paper":
        return shots[:fit_prompt(definition, input, shots, template=template, max_length=max_chars)[1]]
    k = len(shots)
    while k and len(render_plain(definition, input, shots[:k])) > max_chars:
        k -= 1
    return shots[:k]


def render_training_row(definition: str, input: str, answer: str, shots: Sequence[tuple[str, str]] = (), *,
                        layout: str = "official", plain: bool = False, format: str = "prompt_completion",
                        template: PromptTemplate = PAPER_TEMPLATE) -> dict:
    """One training row (without ``task``/``id``).

    ``layout="official"``: the MedS-Bench messages of :func:`~medsins_datasets.prompts.render_messages`
    (what ``medsins bench`` feeds a chat model); ``"paper"``: the paper's prose as one user turn.

    * chat rows (``plain=False``): ``format="prompt_completion"`` gives TRL's conversational
      prompt-completion row ``{"prompt": [system, user], "completion": [assistant]}`` (paper:
      ``[user]``); ``format="messages"`` gives ``{"messages": [..., assistant]}``. The tokenizer's
      chat template renders them, exactly as the benchmark runner renders the prompt.
    * plain rows (``plain=True``, models without a chat template): ``{"prompt": text,
      "completion": answer}`` with the official plain text of
      :func:`~medsins_datasets.prompts.render_plain` (what ``medsins bench`` feeds such a model) or
      the paper prompt. The prompt always ends with exactly one newline, so the completion starts a
      new token: trailing whitespace is removed and :data:`PLAIN_SEPARATOR` appended. Official
      few-shot prompts already end so (``"Output:\\n"``) and are unchanged; zero-shot and paper
      prompts gain the newline.

    The answer is stripped of surrounding whitespace (the official chat formatter strips message
    contents, and a leading space or newline would merge with the prompt's last token).
    """
    if layout not in LAYOUTS:
        raise MedsinsError(f"unknown prompt layout {layout!r}; one of {LAYOUTS}")
    if format not in FORMATS:
        raise MedsinsError(f"unknown mixture format {format!r}; one of {FORMATS}")
    answer = answer.strip()
    if plain:
        if format != "prompt_completion":
            raise MedsinsError("plain rows need format 'prompt_completion'")
        text = (render_plain(definition, input, shots, sentence=OFFICIAL_SENTENCE) if layout == "official"
                else template.render(definition, input, shots))
        return {"prompt": text.rstrip() + PLAIN_SEPARATOR, "completion": answer}
    if layout == "official":
        msgs = render_messages(definition, input, shots, sentence=OFFICIAL_SENTENCE)
    else:
        msgs = to_messages(template.render(definition, input, shots))
    reply = {"role": "assistant", "content": answer}
    if format == "messages":
        return {"messages": msgs + [reply]}
    return {"prompt": msgs, "completion": [reply]}


@dataclass
class MixturePlan:
    """The resolved mixture: per-task quotas and row multiplicities. Iterate with :meth:`iter_rows`."""

    spec: MixtureSpec
    tasks: list[TaskPlan]
    template: PromptTemplate = PAPER_TEMPLATE

    @property
    def counts(self) -> dict[str, int]:
        return {tp.task.config_name: tp.quota for tp in self.tasks}

    @property
    def num_rows(self) -> int:
        return sum(tp.quota for tp in self.tasks)

    @property
    def credentialed(self) -> bool:
        return any(tp.task.is_credentialed or any(f.credentialed for f in tp.files) for tp in self.tasks)

    def fingerprint(self) -> str:
        """Identifies the mixture's content: spec (with its layout and row form), template, task file
        versions, medsins version."""
        from medsins_datasets import __version__

        files = [Path(f.arrow).name for tp in self.tasks for f in tp.files]
        layout = [self.spec.layout, self.spec.plain, OFFICIAL_SENTENCE, PLAIN_SEPARATOR]
        data = json.dumps([__version__, self.spec.to_dict(), dataclasses.asdict(self.template), files, layout],
                          sort_keys=True, ensure_ascii=False)
        return f"{stable_seed(data):016x}"

    def summary(self) -> dict:
        return {"spec": self.spec.to_dict(), "num_rows": self.num_rows,
                "tasks": {tp.task.config_name: tp.summary() for tp in self.tasks}}

    def features(self):
        import datasets

        s = datasets.Value("string")
        turns = datasets.List({"role": s, "content": s})
        if self.spec.format == "messages":
            return datasets.Features({"messages": turns, "task": s, "id": s})
        if self.spec.plain:
            return datasets.Features({"prompt": s, "completion": s, "task": s, "id": s})
        return datasets.Features({"prompt": turns, "completion": turns, "task": s, "id": s})

    # -- iteration -------------------------------------------------------------------------

    def _task_rows(self, tp: TaskPlan) -> Iterator[tuple[int, str, str, str]]:
        """(file index, id, input, output) of one task in its mixture order."""
        rng = np.random.default_rng(stable_seed("order", self.spec.seed, tp.task.task_id))
        batches = [(fi, bi) for fi, f in enumerate(tp.files) for bi in range(f.batches)]
        starts = np.cumsum([0] + [f.rows for f in tp.files])
        passes = int(tp.mult.max()) if tp.mult.size else 0
        for p in range(passes):
            for b in rng.permutation(len(batches)).tolist():
                fi, bi = batches[b]
                lo = int(starts[fi]) + bi * SPILL_BATCH
                hi = min(lo + SPILL_BATCH, int(starts[fi + 1]))
                sel = np.flatnonzero(tp.mult[lo:hi] > p)
                if not sel.size:
                    continue
                rng.shuffle(sel)
                batch = _read_batch(tp.files[fi], bi, sel)
                ids = batch.column(0).to_pylist()
                inputs = batch.column(1).to_pylist()
                outputs = batch.column(2).to_pylist()
                for j in range(len(ids)):
                    yield fi, ids[j], inputs[j], outputs[j]

    def _shot_pool(self, tp: TaskPlan) -> ShotPool:
        """A seeded sample of the task's train-split rows (after dedup)."""
        spec = self.spec
        rng = np.random.default_rng(stable_seed("pool", spec.seed, tp.task.task_id))
        starts = np.cumsum([0] + [f.rows for f in tp.files])
        items: list[tuple[str, str, str]] = []
        cands = []
        for fi, f in enumerate(tp.files):
            if f.split == "train":
                cands.append(np.arange(int(starts[fi]), int(starts[fi + 1]), dtype=np.int64))
        if not cands:
            return ShotPool([])
        idx = np.concatenate(cands)
        idx = idx[tp.keep[idx]]  # only rows that survived dedup
        if idx.size > spec.shot_pool_size:
            idx = np.sort(rng.choice(idx, spec.shot_pool_size, replace=False))
        for fi, f in enumerate(tp.files):
            local = idx[(idx >= starts[fi]) & (idx < starts[fi + 1])] - starts[fi]
            for bi in np.unique(local // SPILL_BATCH).tolist():
                rows = local[(local // SPILL_BATCH) == bi] - bi * SPILL_BATCH
                batch = _read_batch(f, bi, rows)
                items.extend(zip(batch.column(0).to_pylist(), batch.column(1).to_pylist(),
                                 batch.column(2).to_pylist()))
        return ShotPool(items)

    def iter_examples(self) -> Iterator["MixtureExample"]:
        """What each row of :meth:`iter_rows` is rendered from, in the same order: the task, the
        instance, the (original or rewritten) definition and the shots kept in the prompt."""
        spec = self.spec
        active = [tp for tp in self.tasks if tp.quota > 0]
        streams = [self._task_rows(tp) for tp in active]
        rngs = [random.Random(stable_seed("render", spec.seed, tp.task.task_id)) for tp in active]
        choosers = [[DefinitionChooser(f.definition, merge_rewrites(f.rewrites, tp.rewrites, exclude=f.definition),
                                       spec.rewrite_prob) for f in tp.files] for tp in active]
        pools: list[ShotPool | None] = [None] * len(active)
        names = [tp.task.config_name for tp in active]
        few = spec.few_shot_ratio
        remaining = np.array([tp.quota for tp in active], dtype=np.int64)
        order_rng = np.random.default_rng(stable_seed("interleave", spec.seed))
        while True:
            left = int(remaining.sum())
            if not left:
                return
            counts = order_rng.multivariate_hypergeometric(remaining, min(INTERLEAVE_BLOCK, left))
            remaining -= counts
            labels = np.repeat(np.arange(len(active)), counts)
            order_rng.shuffle(labels)
            for t in labels.tolist():
                fi, iid, inp, out = next(streams[t])
                rng = rngs[t]
                definition = choosers[t][fi].choose(rng)
                shots: list[tuple[str, str]] = []
                if few and rng.random() < few:
                    pool = pools[t]
                    if pool is None:
                        pool = pools[t] = self._shot_pool(active[t])
                    shots = pool.draw(rng.randint(1, spec.max_shots), rng, exclude_id=iid, exclude_input=inp)
                shots = fit_shots(definition, inp, shots, layout=spec.layout, template=self.template,
                                  max_chars=spec.max_prompt_chars)
                yield MixtureExample(names[t], iid, definition, inp, tuple(shots), out)

    def iter_rows(self) -> Iterator[dict]:
        """The mixture's rows, rendered (:func:`render_training_row`), in order (the generator
        behind :meth:`dataset`)."""
        spec = self.spec
        for ex in self.iter_examples():
            row = render_training_row(ex.definition, ex.input, ex.output, ex.shots, layout=spec.layout,
                                      plain=spec.plain, format=spec.format, template=self.template)
            row["task"], row["id"] = ex.task, ex.id
            yield row

    def dataset(self):
        """The mixture as a streaming ``datasets.IterableDataset`` (one shard)."""
        import datasets

        return datasets.IterableDataset.from_generator(_generate, features=self.features(),
                                                       gen_kwargs={"plan": self})


def _generate(plan: MixturePlan) -> Iterator[dict]:
    yield from plan.iter_rows()


def plan_mixture(spec: MixtureSpec, source, *, cache_dir: str | Path | None = None,
                 template: PromptTemplate = PAPER_TEMPLATE) -> MixturePlan:
    """Resolve ``spec`` against ``source``: read (and cache) the task files, dedup, cap, weight.

    Errors in task files surface here, before any training starts.
    """
    src = resolve_source(source)
    selected = _select_tasks(spec, src)
    cache = Path(cache_dir) if cache_dir else default_cache_dir() / "mixture"
    on_error = "skip" if spec.skip_invalid else "raise"
    defs = load_definitions(spec.definitions_file) if spec.definitions_file else None
    plans: list[TaskPlan] = []
    for task, tf in progress_bar(selected, desc="reading task files", unit=" tasks"):
        spills = [_spill_file(task, Path(p), s, cache, on_error)
                  for s in SPLITS if s in spec.splits for p in tf.splits.get(s, [])]
        cred = [f.source for f in spills if f.credentialed]
        if cred and not spec.allows_credentialed:
            raise CredentialedDataError(
                f"{task.config_name}: task file(s) {', '.join(cred)} are marked credentialed but the mixture's "
                f"access={spec.access}; add 'credentialed' to access to include them"
            )
        rows = sum(f.rows for f in spills)
        plans.append(TaskPlan(task, spills, rows, rows, rows,
                              rewrites=defs.rewrites(task.task_id) if defs is not None else []))
    # dedup: first occurrence in (task, split, file, row) order
    keeps: list[np.ndarray] = []
    if spec.dedup:
        parts = [_read_digests(f) for tp in plans for f in tp.files]
        digests = np.concatenate(parts) if parts else np.zeros(0, np.uint64)
        del parts
        keep_all = np.zeros(digests.size, dtype=bool)
        keep_all[np.unique(digests, return_index=True)[1]] = True
        del digests
        pos = 0
        for tp in plans:
            keeps.append(keep_all[pos:pos + tp.rows])
            pos += tp.rows
        dup = int(keep_all.size - keep_all.sum())
        if dup:
            logger.info("mixture: %d duplicate (definition, input, output) rows dropped", dup)
    else:
        keeps = [np.ones(tp.rows, dtype=bool) for tp in plans]
    if spec.exclude_contaminated:
        from medsins_datasets.contamination import build_index, scan_task

        index = build_index(spec.bench_source if spec.bench_source is not None else src,
                            n=spec.contamination_ngram, threshold=spec.contamination_threshold)
        for tp, keep in zip(plans, keeps):
            hit = scan_task(index, tp, only=keep)
            keep &= ~hit
            tp.contaminated = int(hit.sum())
            if tp.contaminated:
                logger.warning("mixture: %s: %d row(s) overlapping MedS-Bench test instances excluded",
                               tp.task.config_name, tp.contaminated)
    # cap
    selected_idx: list[np.ndarray] = []
    for tp, keep in zip(plans, keeps):
        idx = np.flatnonzero(keep)
        tp.unique = int(idx.size)
        if spec.max_per_task is not None and idx.size > spec.max_per_task:
            rng = np.random.default_rng(stable_seed("cap", spec.seed, tp.task.task_id))
            idx = np.sort(rng.choice(idx, spec.max_per_task, replace=False))
        tp.available = int(idx.size)
        tp.keep = keep
        selected_idx.append(idx)
    sizes = np.array([tp.available for tp in plans], dtype=np.float64)
    if not sizes.sum():
        raise MedsinsError(f"the mixture yields no rows: the selected tasks "
                           f"({', '.join(tp.task.config_name for tp in plans)}) have no instances in "
                           f"{src.describe()} (filters: {spec.describe_filters()})")
    weights = np.where(sizes > 0, sizes ** (1.0 / spec.temperature), 0.0)
    total = spec.num_rows if spec.num_rows is not None else int(sizes.sum())
    quotas = _largest_remainder(total * weights / weights.sum(), total)
    if spec.max_epochs_per_task is not None:
        quotas = np.minimum(quotas, np.floor(sizes * spec.max_epochs_per_task).astype(np.int64))
    for tp, idx, q in zip(plans, selected_idx, quotas.tolist()):
        tp.quota = int(q)
        mult = np.zeros(tp.rows, dtype=np.uint32)
        m = idx.size
        if m and q:
            base, rem = divmod(int(q), m)
            mult[idx] = base
            if rem:
                rng = np.random.default_rng(stable_seed("quota", spec.seed, tp.task.task_id))
                mult[idx[rng.choice(m, rem, replace=False)]] += 1
        tp.mult = mult
    return MixturePlan(spec, plans, template)


def build_mixture(spec: MixtureSpec, source, *, cache_dir: str | Path | None = None,
                  template: PromptTemplate = PAPER_TEMPLATE):
    """The mixture as a streaming ``datasets.IterableDataset`` with ``prompt``/``completion``
    (chat turns, or strings when ``spec.plain``) or ``messages``, ``task`` and ``id`` columns.
    Planning happens here (see :func:`plan_mixture`)."""
    return plan_mixture(spec, source, cache_dir=cache_dir, template=template).dataset()


def mixture_counts(spec: MixtureSpec, source, *, cache_dir: str | Path | None = None) -> dict[str, int]:
    """Rows per task config that the mixture yields (for model cards)."""
    return plan_mixture(spec, source, cache_dir=cache_dir).counts


# ---------------------------------------------------------------------------------------------
# writing a mixture as a hub-native folder

MIX_MANIFEST = ".medsins_mix.json"
MIX_SHARD_ROWS = 250_000
_WRITE_BATCH = 2_000


def _describe_rows(spec: MixtureSpec) -> str:
    if spec.format == "messages":
        form = "TRL's conversational format: chat turns for the model's chat template"
    elif spec.plain:
        form = "TRL's prompt-completion format, plain text for a model without a chat template"
    else:
        form = "TRL's conversational prompt-completion format: chat turns for the model's chat template"
    if spec.layout == "official":
        how = ("prompts in the official MedS-Bench layout, as `medsins bench` prompts by default: a system message "
               "(the cases, then the definition and the few-shot sentence) and a user message (the input)")
        if spec.plain:
            how += ", as plain text (system, a newline, user; a zero-shot prompt ends with an added newline)"
    else:
        how = "prompts in the MedS-Ins paper's zero-/few-shot prose" + (
            " (each prompt ends with an added newline)" if spec.plain else ", one user turn")
    return f"{form}; {how}"


def _mix_card(plan: MixturePlan, shards: list[str]) -> str:
    import yaml

    from medsins_datasets import __version__
    from medsins_datasets.cards import LANGUAGE_CODES

    tasks = [tp.task for tp in plan.tasks if tp.quota]
    langs = sorted({LANGUAGE_CODES.get(x, x) for t in tasks for x in t.input_languages + t.output_languages})
    meta = {
        "pretty_name": "MedS-Ins training mixture",
        "license": "other",
        "language": langs,
        "task_categories": ["text-generation"],
        "tags": ["medical", "instruction-tuning", "medsins", "sft"],
        # explicit, content-named files: `datasets` keys its cache of a local folder on the listed paths,
        # so a rewritten mixture under the same folder name must not reuse a name
        "configs": [{"config_name": "default", "data_files": [{"split": "train", "path": shards}]}],
    }
    rows = "\n".join(
        f"| `{tp.task.config_name}` | {tp.task.task_id} | {tp.task.category} | {tp.task.source} | "
        f"{tp.task.license or 'unknown'} | {tp.rows:,} | {tp.unique:,} | {tp.quota:,} |"
        for tp in plan.tasks
    )
    cred = (
        "\n**This mixture contains credentialed data.** It must not be made public; share it only with "
        "people who hold the sources' data-use agreements.\n" if plan.credentialed else ""
    )
    spec = json.dumps(plan.spec.to_dict(), indent=1, ensure_ascii=False)
    body = f"""
# MedS-Ins training mixture

{plan.num_rows:,} rows in the `{plan.spec.format}` format ({_describe_rows(plan.spec)}), written by `medsins mix`
(medsins {__version__}).
{cred}
```python
from datasets import load_dataset
ds = load_dataset("<this repo or folder>", split="train")
```

## Tasks

*rows*: instances in the source files; *kept*: after deduplication of identical
(definition, input, output) and, when requested, removal of rows overlapping MedS-Bench test
instances; *in mixture*: rows in this mixture (after caps and temperature).

| config | official id | category | source | licence | rows | kept | in mixture |
|---|---|---|---|---|---|---|---|
{rows}

## Mixture spec

```json
{spec}
```
"""
    return "---\n" + yaml.safe_dump(meta, sort_keys=False, allow_unicode=True) + "---\n" + body


def write_mixture(plan: MixturePlan, out: str | Path, *, overwrite: bool = False,
                  shard_rows: int = MIX_SHARD_ROWS) -> Path:
    """Write the mixture to ``out`` as Parquet shards (``data/train-<fingerprint>-NNNNN.parquet``) plus a dataset
    card and a manifest; ``load_dataset(out, split="train")`` then reads it. Streaming: memory stays
    flat. The folder appears only when complete (written to a temporary sibling first)."""
    import pyarrow.parquet as pq

    from medsins_datasets import __version__

    out = Path(out).expanduser().resolve()
    if out.exists() and not overwrite:
        raise MedsinsError(f"output folder {out} exists (pass overwrite=True / --overwrite to replace it)")
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / MIX_MANIFEST).is_file())):
        # --overwrite replaces an earlier mixture (its manifest says so), never the user's own folder
        raise MedsinsError(f"--out {out} is not a mixture written by `medsins mix` (no {MIX_MANIFEST}); "
                           "nothing was changed: choose another --out")
    if (out / MIX_MANIFEST).is_file():
        try:
            earlier = json.loads((out / MIX_MANIFEST).read_text(encoding="utf-8")).get("files", [])
        except (ValueError, AttributeError):
            earlier = []
        check_replaceable(out, MIX_MANIFEST, [*earlier, "README.md"], "--out", "mix")
    staging = new_staging(out, "mix")
    schema = plan.features().arrow_schema
    fp = plan.fingerprint()
    try:
        (staging / "data").mkdir()
        shards: list[str] = []
        writer = None
        in_shard = 0
        buf: list[dict] = []

        def flush() -> None:
            nonlocal writer, in_shard
            if writer is None:
                shards.append(f"data/train-{fp}-{len(shards):05d}.parquet")
                writer = pq.ParquetWriter(staging / shards[-1], schema, compression="zstd")
            writer.write_table(pa.Table.from_pylist(buf, schema=schema))
            in_shard += len(buf)
            buf.clear()
            if in_shard >= shard_rows:
                writer.close()
                writer, in_shard = None, 0

        for row in progress_bar(plan.iter_rows(), total=plan.num_rows, desc=f"writing {out.name}", unit=" rows"):
            buf.append(row)
            if len(buf) >= _WRITE_BATCH:
                flush()
        if buf:
            flush()
        if writer is not None:
            writer.close()
        manifest = {"medsins_version": __version__, "fingerprint": fp, "num_rows": plan.num_rows,
                    "credentialed": plan.credentialed,
                    "counts": plan.counts, "files": shards, **plan.summary()}
        (staging / MIX_MANIFEST).write_text(json.dumps(manifest, indent=1, ensure_ascii=False), encoding="utf-8")
        (staging / "README.md").write_text(_mix_card(plan, shards), encoding="utf-8")
        publish(staging, out)
    except BaseException:
        discard(staging)
        raise
    return out
