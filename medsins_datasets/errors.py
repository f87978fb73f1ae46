"""Exceptions raised by medsins. Each one carries enough context to find the problem."""

from __future__ import annotations


class MedsinsError(Exception):
    """Base class for all medsins errors (the CLI prints these without a traceback)."""


class UnknownTaskError(MedsinsError, KeyError):
    """A task name or official id that is not in the registry."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class TaskFormatError(MedsinsError, ValueError):
    """A task file that does not follow the MedS-Ins task format.

    The message names the file, the field and (for instance-level problems) the instance index.
    """

    def __init__(self, path: str, message: str, *, field: str | None = None, index: int | None = None):
        self.path = str(path)
        self.field = field
        self.index = index
        self.reason = message
        where = [f"file {self.path}"]
        if index is not None:
            where.append(f"instance {index}")
        if field is not None:
            where.append(f"field {field!r}")
        super().__init__(f"{', '.join(where)}: {message}")


class SourceError(MedsinsError):
    """A data source that cannot provide what was asked (missing files, bad layout...)."""


class CredentialedDataError(MedsinsError):
    """An action that would expose credentialed data (MIMIC-*, MedNLI, ...)."""
