"""The ``readability`` converter (PLOS readability corpus, task113) on the SELF-MADE fixture."""

from __future__ import annotations

import json
import logging

import pytest

from medsins_datasets.errors import SourceError
from medsins_datasets.sources.converters import run_converter

from converter_helpers import FIXTURES, copy_fixture, pairs


def test_readability(tmp_path, caplog):
    out = tmp_path / "o"
    with caplog.at_level(logging.WARNING):
        run_converter("readability", FIXTURES / "readability", out)
    assert pairs(out, "train", "task113") == [
        # the summary is removed from the article text, as in the official script; texts untouched
        ("train-1", "FIXTURE: An invented  study of blorp\nFIXTURE: Background text.  Results follow.",
         ["FIXTURE: We studied blorp in mice."]),
        ("train-3", "FIXTURE: Snurfle genes\nFIXTURE: Methods and results about snurfle genes.",
         ["FIXTURE: Snurfle genes  matter."]),
    ]
    assert "1 article(s) without text skipped" in caplog.text
    clean = tmp_path / "c"
    run_converter("readability", FIXTURES / "readability", clean, clean=True)
    assert pairs(clean, "train", "task113") == [
        ("train-1", "FIXTURE: An invented study of blorp\nFIXTURE: Background text. Results follow.",
         ["FIXTURE: We studied blorp in mice."]),
        ("train-3", "FIXTURE: Snurfle genes\nFIXTURE: Methods and results about snurfle genes.",
         ["FIXTURE: Snurfle genes matter."]),
    ]

def test_readability_errors(tmp_path):
    with pytest.raises(SourceError, match=r"(?s)missing raw file.*train_plos\.jsonl"):
        run_converter("readability", tmp_path, tmp_path / "o")
    raw = copy_fixture(tmp_path, "readability")
    lines = (raw / "train_plos.jsonl").read_text().splitlines()
    rec = json.loads(lines[2])
    del rec["plain language summary"]
    lines[2] = json.dumps(rec)
    (raw / "train_plos.jsonl").write_text("\n".join(lines) + "\n")
    with pytest.raises(SourceError, match=r"file train_plos\.jsonl, line 3, field 'plain language summary': missing"):
        run_converter("readability", raw, tmp_path / "o2")
    assert not (tmp_path / "o2").exists()
