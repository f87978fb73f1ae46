"""Argument types for the command line: numbers are checked when the options are parsed.

argparse turns a ``ValueError``/``ArgumentTypeError`` raised here into one line naming the
option (``error: argument --limit: must be at least 1, got 0``) and exit code 2.
"""

from __future__ import annotations

import argparse
from typing import Callable


def _bounded(kind: type, low: float, what: str) -> Callable[[str], float]:
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if value != value or value < low:  # NaN or below the bound
            raise argparse.ArgumentTypeError(f"must be {what}, got {text}")
        return value

    parse.__name__ = what
    return parse


#: an integer >= 1 (counts, sizes, limits)
positive_int = _bounded(int, 1, "an integer of at least 1")
#: an integer >= 0 (0 meaning none/off where the help says so)
non_negative_int = _bounded(int, 0, "an integer of at least 0")
#: a number >= 0
non_negative_float = _bounded(float, 0.0, "a number of at least 0")


def positive_float(text: str) -> float:
    value = non_negative_float(text)
    if value == 0:
        raise argparse.ArgumentTypeError(f"must be a number above 0, got {text}")
    return value


def probability(text: str) -> float:
    value = non_negative_float(text)
    if value > 1:
        raise argparse.ArgumentTypeError(f"must be a number between 0 and 1, got {text}")
    return value
