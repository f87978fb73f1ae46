"""Task definitions: the original one and its rewrites, and choosing among them.

Every MedS-Ins task has one hand-written *original* definition (the ``Definition`` of its task
files, used for evaluation) and many automatically *rewritten* ones (used to diversify
training prompts). Rewrites come from two places, which are merged:

* the official definitions file ``RewriteDefinitions.json`` (object keyed by official task id,
  each entry ``{"original_def": str, "auto_rewrite_def": [str, ...]}``);
* a ``Rewritten_Definitions`` list in a task file's header (written by ``medsins convert
  --definitions``, and how definitions travel inside task files on the Hub).
"""

from __future__ import annotations

import json
import random
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Sequence

from medsins_datasets.errors import SourceError, TaskFormatError

#: task-file header field holding rewritten definitions
REWRITES_FIELD = "Rewritten_Definitions"


class Definitions:
    """The official definitions file (``RewriteDefinitions.json``: task id -> original and rewrites)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        try:
            with open(self.path, encoding="utf-8") as f:
                data = json.load(f)
        except (OSError, ValueError) as e:
            raise SourceError(f"cannot read definitions file {self.path}: {e}") from e
        if not isinstance(data, dict):
            raise SourceError(f"definitions file {self.path}: expected an object keyed by task id")
        for key, entry in data.items():
            if not isinstance(entry, dict):
                raise SourceError(f"definitions file {self.path}: entry {key!r} must be an object "
                                  "with 'original_def' and 'auto_rewrite_def'")
            v = entry.get("auto_rewrite_def")
            if v is not None and not (isinstance(v, list) and all(isinstance(x, str) for x in v)):
                raise SourceError(f"definitions file {self.path}: entry {key!r}, field 'auto_rewrite_def' "
                                  "must be a list of strings")
            o = entry.get("original_def")
            if o is not None and not isinstance(o, str):
                raise SourceError(f"definitions file {self.path}: entry {key!r}, field 'original_def' "
                                  "must be a string")
        self.data = data

    def __contains__(self, task_id: str) -> bool:
        return task_id in self.data

    def original(self, task_id: str) -> str | None:
        entry = self.data.get(task_id)
        return entry.get("original_def") if isinstance(entry, dict) else None

    def rewrites(self, task_id: str) -> list[str]:
        entry = self.data.get(task_id)
        v = entry.get("auto_rewrite_def") if isinstance(entry, dict) else None
        return [x for x in v if isinstance(x, str)] if isinstance(v, list) else []


@lru_cache(maxsize=4)
def _load_cached(path: str, mtime_ns: int, size: int) -> Definitions:
    return Definitions(path)


def load_definitions(path: str | Path) -> Definitions:
    """:class:`Definitions` for ``path``, cached while the file is unchanged."""
    p = Path(path).expanduser().resolve()
    try:
        st = p.stat()
    except OSError as e:
        raise SourceError(f"cannot read definitions file {p}: {e}") from e
    return _load_cached(str(p), st.st_mtime_ns, st.st_size)


def header_rewrites(fields: dict[str, Any], path: str | Path) -> list[str]:
    """The ``Rewritten_Definitions`` of a task-file header (empty when absent)."""
    v = fields.get(REWRITES_FIELD)
    if v is None:
        return []
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise TaskFormatError(str(path), "must be a list of strings", field=REWRITES_FIELD)
    return [x for x in v if x.strip()]


def merge_rewrites(*sources: Iterable[str], exclude: str | None = None) -> list[str]:
    """Union of rewrite lists, first occurrence order, without the original definition."""
    seen: set[str] = set()
    out: list[str] = []
    for src in sources:
        for d in src:
            if d not in seen and d != exclude:
                seen.add(d)
                out.append(d)
    return out


class DefinitionChooser:
    """Pick the definition for one training example.

    With probability ``rewrite_prob`` a rewrite (uniformly among ``rewrites``) is used, otherwise
    the original. Without rewrites the original is always used. The random draws come from the
    ``rng`` the caller passes, so the choice is reproducible.
    """

    def __init__(self, original: str, rewrites: Sequence[str] = (), rewrite_prob: float = 0.0):
        if not 0.0 <= rewrite_prob <= 1.0:
            raise ValueError(f"rewrite_prob must be in [0, 1], got {rewrite_prob}")
        self.original = original
        self.rewrites = list(rewrites)
        self.rewrite_prob = rewrite_prob if self.rewrites else 0.0

    def choose(self, rng: random.Random) -> str:
        if self.rewrite_prob and rng.random() < self.rewrite_prob:
            return self.rewrites[rng.randrange(len(self.rewrites))]
        return self.original
