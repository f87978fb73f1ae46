"""The ``clinicaltrials_criteria`` converter (LCT annotations of ClinicalTrials.gov criteria, task77)
on the SELF-MADE fixture."""

from __future__ import annotations

import json
import logging

import pytest

from medsins_datasets.errors import SourceError
from medsins_datasets.sources.converters import run_converter

from converter_helpers import FIXTURES, copy_fixture, instances, written_splits


def test_clinicaltrials_criteria(tmp_path, caplog):
    out = tmp_path / "o"
    with caplog.at_level(logging.WARNING):
        run_converter("clinicaltrials_criteria", FIXTURES / "clinicaltrials_criteria", out)
    assert written_splits(out) == {"train": {"task77"}, "validation": {"task77"}, "test": {"task77"}}
    train = instances(out, "train", "task77")
    assert [i.id for i in train] == ["NCT90000001", "NCT90000002"]
    assert "1 annotated trial(s) without a text file" in caplog.text  # NCT90000099
    first = train[0]
    assert first.input == ("Inclusion Criteria:\n  - Chronic blorp pain\n  - Age 20 - 40 years\n"
                           "Exclusion Criteria:\n  - FIXTURE snurfle fever")
    got = json.loads(first.output[0])
    # every line up to the last annotated one; entities and relations in annotation order (official)
    assert list(got) == ["Line0", "Line1", "Line2", "Line3", "Line4"]
    assert got["Line1"] == {
        "Entities": [{"blorp pain": "Condition"}, {"blorp pain": "Condition-Name"}, {"Chronic": "Acuteness___chronic"}],
        "Relations": [[{"blorp pain": "Condition"}, {"Chronic": "Acuteness___chronic"}, "Acuteness"]],
    }
    assert got["Line2"] == got["Line3"] == got["Line0"] == {"Entities": [], "Relations": []}
    assert got["Line4"] == {"Entities": [{"snurfle fever": "Condition"}], "Relations": []}
    assert first.output[0].startswith('{\n    "Line0"')  # indent 4, as the official data
    assert json.loads(instances(out, "validation", "task77")[0].output[0])["Line1"]["Entities"] == [{"invented pills": "Drug"}]
    test_ids = {i.id for i in instances(out, "test", "task77")}
    assert test_ids == {"NCT90000004"} and not test_ids & {i.id for i in train}
    # --clean: entities in order of appearance, relations remapped
    clean = tmp_path / "c"
    run_converter("clinicaltrials_criteria", FIXTURES / "clinicaltrials_criteria", clean, clean=True)
    got = json.loads(instances(clean, "train", "task77")[0].output[0])
    assert got["Line1"] == {
        "Entities": [{"Chronic": "Acuteness___chronic"}, {"blorp pain": "Condition"}, {"blorp pain": "Condition-Name"}],
        "Relations": [[{"blorp pain": "Condition"}, {"Chronic": "Acuteness___chronic"}, "Acuteness"]],
    }

def test_clinicaltrials_criteria_errors(tmp_path):
    raw = copy_fixture(tmp_path, "clinicaltrials_criteria")
    (raw / "data/ner/spert/train.json").unlink()
    with pytest.raises(SourceError, match=r"(?s)missing raw file.*data/ner/spert/train\.json"):
        run_converter("clinicaltrials_criteria", raw, tmp_path / "o")
    data = json.loads((FIXTURES / "clinicaltrials_criteria/data/ner/spert/train.json").read_text())
    data[2]["relations"] = [{"type": "Or", "head": 0, "tail": 5}]
    (raw / "data/ner/spert/train.json").write_text(json.dumps(data))
    with pytest.raises(SourceError, match=r"file train\.json, field 'relations', record 2: relation 0 is not"):
        run_converter("clinicaltrials_criteria", raw, tmp_path / "o2")
    data[2]["relations"] = []
    data[3]["orig_id"] = "NCT90000002"
    (raw / "data/ner/spert/train.json").write_text(json.dumps(data))
    with pytest.raises(SourceError, match=r"field 'orig_id', record 3: expected '<line>_<document id>'"):
        run_converter("clinicaltrials_criteria", raw, tmp_path / "o3")
