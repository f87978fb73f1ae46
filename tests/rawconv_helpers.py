"""Helpers for the raw-source converter tests (credentialed and remaining public sources)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from medsins_datasets import get_task
from medsins_datasets.cli import main
from medsins_datasets.sources.converters import CONVERT_MANIFEST
from medsins_datasets.errors import CredentialedDataError
from medsins_datasets.taskfile.reader import iter_instances, read_header

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def cli_convert(capsys, source: str, raw: Path, out: Path, *extra: str) -> tuple[int, str, str]:
    """Run ``medsins convert`` in-process; returns (exit code, stdout, stderr)."""
    rc = main(["convert", source, "--data-dir", str(raw), "--out", str(out), *extra])
    cap = capsys.readouterr()
    return rc, cap.out, cap.err


def task_path(out: Path, split: str, task_id: str) -> Path:
    return out / split / f"{task_id}_{get_task(task_id).config_name}.json"


def instances(out: Path, split: str, task_id: str) -> list:
    p = task_path(out, split, task_id)
    assert p.is_file(), f"{p} was not written"
    return list(iter_instances(p))


def header_fields(out: Path, split: str, task_id: str) -> dict:
    return read_header(task_path(out, split, task_id)).fields


def manifest(out: Path) -> dict:
    return json.loads((out / CONVERT_MANIFEST).read_text(encoding="utf-8"))


def written_splits(out: Path) -> dict[str, set[str]]:
    """{split folder: {task ids}} of a converter output folder."""
    found: dict[str, set[str]] = {}
    for p in sorted(out.glob("*/task*_*.json")):
        found.setdefault(p.parent.name, set()).add(p.name.split("_", 1)[0])
    return found


def assert_credentialed_output(out: Path) -> None:
    """Every task file carries the Access mark and the manifest says credentialed."""
    files = sorted(out.glob("*/task*_*.json"))
    assert files
    for p in files:
        assert read_header(p).fields.get("Access") == "credentialed", p
    assert manifest(out)["credentialed"] is True


def assert_push_refused(capsys, out: Path, built: Path) -> None:
    """``medsins build`` the converted folder, then the push guard must refuse a public push."""
    from medsins_datasets.builder.push import check_push_allowed

    rc = main(["build", "--source", str(out), "--out", str(built), "--no-progress"])
    cap = capsys.readouterr()
    assert rc == 0, cap.err
    assert "[credentialed]" in cap.out
    with pytest.raises(CredentialedDataError, match="public repo"):
        check_push_allowed(built, private=False, allow_credentialed=False)
    with pytest.raises(CredentialedDataError, match="--allow-credentialed"):
        check_push_allowed(built, private=True, allow_credentialed=False)


def assert_no_text_leak(message: str, secrets: list[str]) -> None:
    """The error message must not contain any of the record texts (nor a long piece of one)."""
    for s in secrets:
        assert s not in message
        for piece in (s[:25], s[-25:]):
            if len(piece.strip()) >= 12:
                assert piece not in message, f"record text leaked into the error: {piece!r}"
