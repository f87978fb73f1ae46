"""What goes into a training mixture: :class:`MixtureSpec`, and the one way to build it from a
mapping (:meth:`MixtureSpec.from_dict`) or a YAML/JSON file (:meth:`MixtureSpec.from_file`).

``medsins mix``, ``medsins contamination`` and the SFT recipe all build their spec here, so a field
is validated, and a bad one reported, the same way wherever it comes from.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from medsins_datasets.errors import MedsinsError
from medsins_datasets.sources.resolve import SPLITS

FORMATS = ("prompt_completion", "messages")
#: prompt layouts: the official MedS-Bench one (the default of ``medsins bench``) and the paper's prose
LAYOUTS = ("official", "paper")


def _str_list(value: Any, name: str) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return list(value)
    raise MedsinsError(f"mixture spec field {name!r} must be a list of strings, got {value!r}")


def read_spec_file(path: str | Path) -> dict:
    """The mapping of MixtureSpec fields in a YAML or JSON file (an empty file is an empty mapping)."""
    import yaml

    try:
        with open(path, encoding="utf-8") as f:
            data = yaml.safe_load(f)
    except OSError as e:
        raise MedsinsError(f"cannot read mixture file {path}: {e}") from None
    except yaml.YAMLError as e:
        raise MedsinsError(f"mixture file {path} is not valid YAML/JSON: {e}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise MedsinsError(f"mixture file {path} must hold a mapping of MixtureSpec fields")
    return data


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
    ``format="prompt_completion"``) instead of chat turns. See
    :func:`medsins_datasets.mixture.rows.render_training_row`.

    ``exclude_contaminated`` drops training rows that overlap a MedS-Bench test instance
    (see :mod:`medsins_datasets.contamination`: exact input, or ``contamination_threshold`` of its
    ``contamination_ngram``-grams), the test splits being read from ``bench_source`` (default: the
    mixture's source).

    Build one from a mapping with :meth:`from_dict` or from a file with :meth:`from_file`: both
    reject unknown keys and name the field (and the file) that is wrong.
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
    def from_dict(cls, d: Mapping, *, where: str | None = None) -> MixtureSpec:
        """Build a spec from a mapping (e.g. a YAML/JSON config); unknown keys are an error.

        ``where`` (e.g. the file the mapping came from) is added to the error messages."""
        if not isinstance(d, Mapping):
            raise MedsinsError(f"a mixture spec must be a mapping, got {type(d).__name__}")
        known = [f.name for f in dataclasses.fields(cls)]
        try:
            unknown = sorted(set(d) - set(known))
            if unknown:
                raise MedsinsError(f"unknown mixture spec key(s) {unknown}; known keys: {', '.join(known)}")
            return cls(**d)
        except MedsinsError as e:
            if where is None:
                raise
            raise MedsinsError(f"{e} (in {where})") from None

    @classmethod
    def from_file(cls, path: str | Path, overrides: Mapping | None = None) -> MixtureSpec:
        """Build a spec from a YAML or JSON file of MixtureSpec fields; ``overrides`` (e.g. command
        line options) replace the file's values key by key. Errors name the file."""
        data = read_spec_file(path)
        data.update(overrides or {})
        return cls.from_dict(data, where=str(path))

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
