"""One writer per output folder.

``medsins bench`` and ``medsins build`` hold a lock file in their output folder while they write
to it (``filelock``, which datasets and huggingface_hub already depend on). A second command
aimed at the same folder fails at once with a message naming the process that holds it, instead
of interleaving its writes with the first one's (duplicated predictions, a manifest and card that
only list the last writer's configs).
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from .errors import MedsinsError

LOCK_FILE = ".medsins.lock"


@contextmanager
def output_lock(folder: Path, command: str) -> Iterator[None]:
    """Hold ``folder/.medsins.lock`` for the duration; raise a :class:`MedsinsError` when another
    process holds it. The lock file records the holder's pid and command."""
    from filelock import FileLock, Timeout

    path = Path(folder) / LOCK_FILE
    owner = path.with_name(LOCK_FILE + ".owner")
    lock = FileLock(str(path))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        who = owner.read_text(encoding="utf-8").strip() if owner.is_file() else "another process"
        raise MedsinsError(f"{folder} is in use by {who} (lock {path}); wait for it to finish or use another "
                           "output folder") from None
    try:
        owner.write_text(f"`medsins {command}` (pid {os.getpid()})\n", encoding="utf-8")
        yield
    finally:
        owner.unlink(missing_ok=True)
        lock.release()
