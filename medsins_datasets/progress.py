"""Progress bars for long work: tqdm, as datasets and huggingface_hub draw theirs.

A bar is drawn on a terminal and left out when stderr is not one (CI logs, pipes), and every bar,
ours and the libraries', is off after :func:`set_quiet` (the ``--quiet`` option of every command).
"""

from __future__ import annotations

from typing import Any, Iterable

_quiet = False


def set_quiet(quiet: bool) -> None:
    """Turn every progress bar off (or back on): ours, datasets' and huggingface_hub's."""
    global _quiet
    _quiet = bool(quiet)
    import datasets
    from huggingface_hub.utils import disable_progress_bars, enable_progress_bars

    if _quiet:
        datasets.disable_progress_bars()
        disable_progress_bars()
    else:
        datasets.enable_progress_bars()
        enable_progress_bars()


def is_quiet() -> bool:
    return _quiet


def bar(iterable: Iterable | None = None, *, enabled: bool = True, **kwargs: Any):
    """A tqdm bar: hidden with ``--quiet``, when ``enabled`` is False, or when stderr is not a terminal."""
    from tqdm.auto import tqdm

    return tqdm(iterable, disable=True if (_quiet or not enabled) else None, **kwargs)
