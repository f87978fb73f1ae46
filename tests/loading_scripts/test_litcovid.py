"""The ``litcovid`` converter (BioCreative VII LitCovid topics, task108) on the SELF-MADE fixture."""

from __future__ import annotations

import shutil

import pytest

from medsins_datasets.errors import SourceError
from medsins_datasets.sources.converters import run_converter

from converter_helpers import FIXTURES, pairs


def test_litcovid(tmp_path):
    out = tmp_path / "o"
    run_converter("litcovid", FIXTURES / "litcovid", out)
    assert pairs(out, "train", "task108") == [
        ("pmid900001", "Title: FIXTURE: a made-up trial\nAbstract: FIXTURE: we invented a drug.", ["treatment, mechanism"]),
        ("pmid900002", "Title: FIXTURE: invented spread\nAbstract: FIXTURE: droplets in tests.", ["transmission"]),
    ]
    assert pairs(out, "validation", "task108")[0][2] == ["forecasting"]
    assert pairs(out, "test", "task108")[0][2] == ["case report, diagnosis"]
    bad = tmp_path / "bad"
    shutil.copytree(FIXTURES / "litcovid", bad)
    p = bad / "BC7-LitCovid-Dev.csv"
    p.write_text(p.read_text().replace("Epidemic Forecasting", "Astrology"))
    with pytest.raises(SourceError, match="file BC7-LitCovid-Dev.csv, line 2, field 'label': unknown topic 'Astrology'"):
        run_converter("litcovid", bad, tmp_path / "o2")
