"""The manifest of a hub-native build (``.medsins_build.json``): what each config's files are
and the fingerprint of the inputs they were built from."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

from medsins_datasets.errors import SourceError

logger = logging.getLogger(__name__)

BUILD_MANIFEST = ".medsins_build.json"


@dataclass
class ConfigBuild:
    """What a build wrote (or kept) for one config."""

    config_name: str
    task_id: str
    splits: dict[str, int]
    files: dict[str, list[str]]
    fingerprint: str
    credentialed: bool
    skipped_instances: int = 0
    reused: bool = False

    def to_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "reused"}


def read_manifest(out: Path) -> dict:
    p = out / BUILD_MANIFEST
    if not p.exists():
        return {"configs": {}}
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except ValueError:
        logger.warning("ignoring unreadable build manifest %s", p)
        return {"configs": {}}


def read_build_manifest(out: str | Path) -> dict:
    """The manifest of a built folder (raises if the folder was not built by ``medsins build``)."""
    out = Path(out)
    if not (out / BUILD_MANIFEST).exists():
        raise SourceError(f"{out} is not a folder written by `medsins build` (no {BUILD_MANIFEST})")
    return read_manifest(out)
