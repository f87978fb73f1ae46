"""The recipe and the Hub: :class:`PushGuard` (keeps every background push of the Trainer and
reports the failed ones at the end; transformers drops them silently) and :func:`resolve_resume`
(``resume_from_checkpoint`` as a local folder, the last local checkpoint or the
``last-checkpoint/`` folder pushed to the Hub, downloaded)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from medsins_datasets.errors import MedsinsError

logger = logging.getLogger(__name__)


class PushGuard:
    """Keeps every background push future of a Trainer and reports failures.

    transformers starts ``upload_folder(..., run_as_future=True)`` on each save and forgets the
    future once it is done, so an exception in it is never seen. :meth:`on_save` (called right
    after the save that started the push) records the futures; :meth:`on_train_end` waits for them
    and logs every failure loudly; :meth:`summary` describes them for the end of the script.
    """

    def __init__(self) -> None:
        self.trainer = None
        self.jobs: list[tuple[int, Any]] = []  # (global step, future)
        self._seen: set[int] = set()
        self.final_error: BaseException | None = None

    def __getattr__(self, name: str):
        # a TrainerCallback without importing transformers here: every other event is a no-op
        if name.startswith("on_"):
            return lambda *args, **kwargs: None
        raise AttributeError(name)

    def attach(self, trainer) -> "PushGuard":
        self.trainer = trainer
        return self

    def collect(self, step: int | None = None) -> None:
        push = getattr(self.trainer, "push_in_progress", None)
        for job in getattr(push, "jobs", None) or []:
            if id(job) not in self._seen:
                self._seen.add(id(job))
                self.jobs.append((step if step is not None else -1, job))

    def on_push_begin(self, args, state, control, **kwargs):
        self.collect(state.global_step)

    def on_save(self, args, state, control, **kwargs):
        self.collect(state.global_step)

    def on_train_end(self, args, state, control, **kwargs):
        self.collect(state.global_step)
        self.wait()
        for step, exc in self.failures():
            logger.error("!!! background push to the Hub at step %s FAILED: %s", step, exc)

    def wait(self) -> None:
        from concurrent import futures

        pending = [job for _, job in self.jobs if not job.done()]
        if pending:
            futures.wait(pending)

    def failures(self) -> list[tuple[int, BaseException]]:
        out = []
        for step, job in self.jobs:
            if job.done() and not job.cancelled() and job.exception() is not None:
                out.append((step, job.exception()))
        return out

    def summary(self) -> str | None:
        """None when every push went through, else one line describing the failures."""
        self.collect()
        self.wait()
        fails = self.failures()
        if not fails and self.final_error is None:
            return None
        parts = []
        if fails:
            steps = ", ".join(str(s) for s in sorted({s for s, _ in fails}))
            errors = list(dict.fromkeys(f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
                                        for _, e in fails))
            parts.append(f"{len(fails)} of {len(self.jobs)} background push(es) to the Hub failed (at step(s) "
                         f"{steps}): " + "; ".join(errors[:3]))
        if self.final_error is not None:
            first = str(self.final_error).splitlines()[0] if str(self.final_error) else ""
            parts.append(f"the final push failed: {type(self.final_error).__name__}: {first}")
        return ". ".join(parts) + ". The local output folder and checkpoints are intact; upload them again " \
                                  "(e.g. `hf upload <repo> <output_dir>`)."


# --------------------------------------------------------------------------- resuming


def _is_checkpoint(path: Path) -> bool:
    return path.is_dir() and (path / "trainer_state.json").is_file()


def resolve_resume(value: Any, output_dir: str, *, hub_model_id: str | None = None, hub_revision: str | None = None,
                   token: str | None = None) -> str | None:
    """Where to resume from.

    * ``None``/``false``: start fresh;
    * ``true``/``last``: the newest ``checkpoint-*`` in ``output_dir``, else the ``last-checkpoint/``
      pushed to ``hub_model_id``; an error if there is none;
    * ``auto``: the same, but start fresh when there is none;
    * ``hub`` / ``hf://ORG/NAME[@REV]``: the ``last-checkpoint/`` of that model repo (default
      ``hub_model_id``), downloaded under ``output_dir/_resume`` (not pushed: ``_*`` is ignored);
    * a folder: that checkpoint.
    """
    from transformers.trainer_utils import get_last_checkpoint

    if value is None or value is False:
        return None
    v = str(value).strip()
    low = v.lower()
    if low in ("", "false", "no", "none", "0"):
        return None
    out = Path(output_dir)
    if low in ("true", "last", "auto", "yes", "1"):
        last = get_last_checkpoint(str(out)) if out.is_dir() else None
        if last:
            return last
        if hub_model_id:
            try:
                return str(_download(hub_model_id, hub_revision, out, token))
            except MedsinsError:
                if low != "auto":
                    raise
        if low == "auto":
            logger.info("no checkpoint to resume from in %s: starting fresh", out)
            return None
        raise MedsinsError(f"no checkpoint to resume from: {out} has no checkpoint-* folder"
                           + ("" if hub_model_id else " (set hub_model_id to resume from the Hub)"))
    if low == "hub" or v.startswith("hf://"):
        repo, rev = hub_model_id, hub_revision
        if v.startswith("hf://"):
            repo, _, r = v[len("hf://"):].strip("/").partition("@")
            rev = r or hub_revision
        if not repo:
            raise MedsinsError("resume_from_checkpoint: hub needs hub_model_id (or use hf://ORG/NAME)")
        return str(_download(repo, rev, out, token))
    p = Path(v).expanduser()
    if not _is_checkpoint(p):
        raise MedsinsError(f"resume_from_checkpoint {v!r} is not a checkpoint folder (no trainer_state.json)")
    return str(p)


def _download(repo: str, revision: str | None, out: Path, token: str | None) -> Path:
    from medsins_datasets.models import download_last_checkpoint

    dest = out / "_resume" / repo.replace("/", "--")
    return download_last_checkpoint(repo, dest, revision=revision, token=token)
