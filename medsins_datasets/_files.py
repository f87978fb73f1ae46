"""Files and folders every stage writes: outputs that appear whole, never in a folder of the user's.

* **Output folders**: :func:`make_output_folder` names a file in the way in one line;
  :func:`check_own_folder` refuses a folder a command did not write (its marker file is missing);
  :func:`check_replaceable` refuses to replace an earlier output holding a file the user added.
* **Staging**: ``convert``, ``build`` and ``mix`` write into a staging folder next to their output
  (``.NAME.tmp-XXXX``, :func:`new_staging`) and rename it into place when it is complete
  (:func:`publish`), so a reader never sees half an output. A ``kill -9`` leaves the staging folder
  behind; the next run of a command writing the same output removes it. Only folders this module
  created are ever removed: each holds a marker file (:data:`MARKER`) naming the process that wrote
  it, and a folder is stale only when that process is gone (on this host; a folder written from
  another host is left alone). Replacing an earlier output moves it aside first (``.NAME.old-PID``);
  if a kill lands between the two renames, the next run puts the earlier output back instead of
  losing it. Temporary files (the mixture's Arrow cache) carry the writer's pid in their name
  (``FILE.PID-XXXX.tmp``) for the same check.
* **One writer per folder**: :func:`output_lock`.
* **Caches and fingerprints**: :func:`default_cache_dir`, :func:`fingerprint_files`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import socket
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Iterator

from medsins_datasets.errors import MedsinsError

logger = logging.getLogger(__name__)

#: file inside every staging folder: who writes it
MARKER = ".medsins-staging.json"
_PID_TMP = re.compile(r"\.(\d+)-[^.]*\.tmp$")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    except OSError:
        return True
    return True


def _owner_gone(marker: Path) -> bool:
    try:
        owner = json.loads(marker.read_text(encoding="utf-8"))
        pid, host = int(owner["pid"]), str(owner["host"])
    except (OSError, ValueError, KeyError, TypeError):
        return False  # not ours, or being written: leave it
    return host == socket.gethostname() and pid != os.getpid() and not _alive(pid)


def make_output_folder(path: Path, option: str, *, parent_only: bool = False) -> bool:
    """Create the output folder ``path`` (or only its parent, for an output renamed into place)
    for the command option ``option`` (e.g. ``--out``), or say in one line why it cannot be: a
    file where a folder is needed. Returns whether a folder was created."""
    path = Path(path)
    for p in (path, *path.parents):
        if p.is_dir():
            break
        if p.exists() or p.is_symlink():
            what = "is a file" if p.is_file() else ("is a dangling link" if not p.exists() else "is not a folder")
            raise OutputLocationError(f"{option} {path} cannot be written: {p} {what}, not a folder; "
                                      f"choose another {option}")
    target = path.parent if parent_only else path
    created = not target.is_dir()
    target.mkdir(parents=True, exist_ok=True)
    return created


def check_own_folder(folder: Path, marker: str, option: str, command: str, *, also: tuple[str, ...] = ()) -> None:
    """Refuse to write into an existing, non-empty ``folder`` that has no ``marker`` file (what
    ``medsins COMMAND`` writes first) nor one of the ``also`` markers (folders of other medsins
    commands it may write into): it holds somebody else's files. An empty folder, medsins' own
    lock files and staging folders do not count; anything else does, hidden files included (a
    folder holding only ``.git`` is the user's)."""
    folder = Path(folder)
    if not folder.is_dir() or any((folder / m).exists() for m in (marker, *also)):
        return
    if any(not _is_own_debris(p) for p in folder.iterdir()):
        raise OutputLocationError(f"{option} {folder} holds files that `medsins {command}` did not write (no "
                                  f"{marker}); nothing was changed: choose another {option}")


def check_replaceable(folder: Path, manifest: str, listed: Iterable[str], option: str, command: str) -> None:
    """Before an earlier output ``folder`` is replaced: every file in it must be one the command
    wrote (its ``manifest`` or a path in ``listed``, relative to ``folder``); a file the user
    added there stops the replacement, so it is never lost."""
    known = {manifest, *listed}
    for p in sorted(Path(folder).rglob("*")):
        rel = p.relative_to(folder).as_posix()
        if (p.is_file() or p.is_symlink()) and rel not in known and p.name not in _LOCKS:
            raise OutputLocationError(f"{option} {folder} holds {rel}, which `medsins {command}` did not write; "
                                      f"nothing was changed: move it away or choose another {option}")


_LOCKS = (".medsins.lock", ".medsins.lock.owner")


def _is_own_debris(p: Path) -> bool:
    """A lock file, or a staging folder of a medsins command (it holds the staging marker)."""
    return p.name in _LOCKS or (p.is_dir() and not p.is_symlink() and (p / MARKER).is_file())


class OutputLocationError(MedsinsError):
    """An output path that cannot be a folder (a file is in the way)."""


def new_staging(final: Path, command: str, option: str = "--out") -> Path:
    """A fresh staging folder for ``final`` (a sibling, so the final rename stays on one file
    system), after removing what killed runs left for the same output."""
    final = Path(final)
    make_output_folder(final, option, parent_only=True)
    remove_stale(final)
    staging = Path(tempfile.mkdtemp(prefix=f".{final.name}.tmp-", dir=final.parent))
    (staging / MARKER).write_text(json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                                              "command": f"medsins {command}", "output": str(final)}),
                                  encoding="utf-8")
    return staging


def publish(staging: Path, final: Path) -> None:
    """Rename the complete ``staging`` folder to ``final``, replacing an earlier ``final`` (the
    caller checked that it may). The earlier output is moved aside first and removed last."""
    (staging / MARKER).unlink(missing_ok=True)
    staging.chmod(0o755)  # mkdtemp makes it 0700
    if final.exists():
        backup = final.with_name(f".{final.name}.old-{os.getpid()}")
        shutil.rmtree(backup, ignore_errors=True)
        final.rename(backup)
        staging.rename(final)
        shutil.rmtree(backup, ignore_errors=True)
    else:
        staging.rename(final)


def discard(staging: Path) -> None:
    """Remove a staging folder after a failure."""
    shutil.rmtree(staging, ignore_errors=True)


def remove_stale(final: Path) -> list[Path]:
    """Remove the staging folders of ``final`` whose writer is gone, and put back an earlier
    output that a killed run had moved aside (or remove it when the new one made it). Returns
    what was removed or restored."""
    final = Path(final)
    done: list[Path] = []
    if not final.parent.is_dir():
        return done
    for d in final.parent.glob(f".{glob_escape(final.name)}.tmp-*"):
        if d.is_dir() and not d.is_symlink() and _owner_gone(d / MARKER):
            logger.info("removing %s, left by an interrupted run", d)
            shutil.rmtree(d, ignore_errors=True)
            done.append(d)
    for b in final.parent.glob(f".{glob_escape(final.name)}.old-*"):
        pid = b.name.rsplit("-", 1)[-1]
        if not (pid.isdigit() and b.is_dir() and not b.is_symlink()) or int(pid) == os.getpid() or _alive(int(pid)):
            continue
        if final.exists():
            logger.info("removing %s, the output an interrupted run replaced", b)
            shutil.rmtree(b, ignore_errors=True)
        else:
            logger.warning("restoring %s from %s (a run was killed while replacing it)", final, b)
            b.rename(final)
        done.append(b)
    return done


def glob_escape(name: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", name)


def temp_file(target: Path) -> Path:
    """A temporary file next to ``target`` whose name carries this process's pid, for
    :func:`remove_stale_files`; the caller renames it onto ``target`` when complete."""
    fd, tmp = tempfile.mkstemp(prefix=f"{target.name}.{os.getpid()}-", suffix=".tmp", dir=target.parent)
    os.close(fd)
    return Path(tmp)


def remove_stale_files(folder: Path, pattern: str = "*.tmp") -> list[Path]:
    """Remove the :func:`temp_file` files in ``folder`` matching ``pattern`` whose writer is gone."""
    removed: list[Path] = []
    if not Path(folder).is_dir():
        return removed
    for f in Path(folder).glob(pattern):
        m = _PID_TMP.search(f.name)
        if m and f.is_file() and not f.is_symlink() and int(m.group(1)) != os.getpid() and not _alive(int(m.group(1))):
            f.unlink(missing_ok=True)
            removed.append(f)
    if removed:
        logger.info("removed %d temporary file(s) left by interrupted runs in %s", len(removed), folder)
    return removed


# --------------------------------------------------------------------------- one writer per folder
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


# --------------------------------------------------------------------------- caches and fingerprints

def default_cache_dir() -> Path:
    base = os.environ.get("MEDSINS_CACHE") or os.path.join(
        os.environ.get("HF_HOME", os.path.join(os.path.expanduser("~"), ".cache", "huggingface")), "medsins"
    )
    return Path(base)


def fingerprint_files(paths: list[Path], extra: str = "") -> str:
    """A cheap content fingerprint: path, size and mtime of each file (+ ``extra``)."""
    h = hashlib.sha256(extra.encode())
    for p in sorted(paths):
        st = p.stat()
        h.update(f"{p.resolve()}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:16]
