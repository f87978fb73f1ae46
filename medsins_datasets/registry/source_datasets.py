"""The source datasets' table, ``data/sources.csv`` (source, homepage, licence): the ONE place
where a source's homepage and licence are written.

Everything that shows a licence or a homepage reads it from here: the registry's tasks
(:attr:`Task.homepage`, :attr:`Task.license`), the converters (:attr:`Converter.homepage`,
:attr:`Converter.license` and the ``sources`` entry of their manifests), ``medsins sources`` and
the dataset cards. A converter declares only the source it reads (and, with ``download``, where
its raw files come from when that is not the source's homepage).

The table has one row per source of the registry (the ``source`` column of ``data/tasks.csv``,
58 sources), and this module is its only reader. ``medsins sources --markdown``
(:mod:`medsins_datasets.cli.sources`) prints it with the converters, access and tasks produced; a
test checks that README.md holds exactly that table, so the README cannot go stale when a converter
is added.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from medsins_datasets.errors import SourceError

#: the table, under ``medsins_datasets/data/``
SOURCES_FILE = "sources.csv"


@dataclass(frozen=True)
class SourceDataset:
    """One row of ``data/sources.csv``."""

    name: str
    homepage: str
    license: str


@lru_cache(maxsize=1)
def source_table() -> dict[str, SourceDataset]:
    """``{source name: SourceDataset}``: every row of ``data/sources.csv``, in file order."""
    text = resources.files("medsins_datasets").joinpath("data", SOURCES_FILE).read_text(encoding="utf-8")
    return {r["source"]: SourceDataset(r["source"], (r.get("homepage") or "").strip(), (r.get("license") or "").strip())
            for r in csv.DictReader(text.splitlines())}


def has_source_dataset(name: str) -> bool:
    return name in source_table()


def source_dataset(name: str) -> SourceDataset:
    """The row of ``name``; raises :class:`SourceError` naming the table when there is none."""
    try:
        return source_table()[name]
    except KeyError:
        raise SourceError(f"source {name!r} is not in data/sources.csv (the table of the source datasets' "
                          "homepages and licences)") from None
