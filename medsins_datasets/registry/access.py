"""The credentialed-data policy: which values of an ``Access`` field mark credentialed data."""

from __future__ import annotations

CREDENTIALED = "credentialed"


def access_is_credentialed(value: object) -> bool:
    """Whether an ``Access`` value found in a task file marks credentialed data.

    Values are normalised before any decision (case, surrounding space, a list of values):
    ``"Credentialed"`` and ``["credentialed"]`` are credentialed, and so is anything that is not
    clearly public (an unknown word, an empty list, a number). Only a missing value (None) says
    nothing; the registry then decides.
    """
    if value is None:
        return False
    values = value if isinstance(value, (list, tuple)) else [value]
    if not values:
        return True
    return any(not (isinstance(v, str) and v.strip().lower() == "public") for v in values)
