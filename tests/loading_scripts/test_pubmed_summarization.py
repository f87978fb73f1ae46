"""The ``pubmed_summarization`` converter (PubMed long-document summarization, task111) on the
SELF-MADE fixture."""

from __future__ import annotations

import json
import shutil

import pytest

from medsins_datasets.errors import SourceError
from medsins_datasets.sources.converters import run_converter

from converter_helpers import FIXTURES, pairs, written_splits


def test_pubmed_summarization(tmp_path):
    out = tmp_path / "o"
    run_converter("pubmed_summarization", FIXTURES / "pubmed_summarization", out)
    assert written_splits(out) == {"train": {"task111"}, "validation": {"task111"}, "test": {"task111"}}
    assert pairs(out, "train", "task111") == [
        ("PMCfix1", "FIXTURE: background sentence . FIXTURE: results sentence .",
         ["FIXTURE: the abstract . FIXTURE: second sentence ."])]
    assert pairs(out, "test", "task111")[0][0] == "PMCfix4"
    bad = tmp_path / "bad"
    shutil.copytree(FIXTURES / "pubmed_summarization", bad)
    (bad / "val.txt").write_text(json.dumps({"article_text": "not a list", "abstract_text": []}) + "\n")
    with pytest.raises(SourceError, match="file val.txt, line 1, field 'article_text': expected a list"):
        run_converter("pubmed_summarization", bad, tmp_path / "o2")
