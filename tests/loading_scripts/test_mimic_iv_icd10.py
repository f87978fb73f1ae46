"""The ``mimic_iv_icd10`` converter (MIMIC-IV ICD-10 coding, task116, credentialed) on SYNTHETIC
discharge summaries (tests/fixtures/mimic_iv_icd10) with the SELF-MADE code tables."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest

from medsins_datasets.errors import SourceError
from medsins_datasets.sources.converters import run_converter

from converter_helpers import FIXTURES, assert_credentialed_output, cli_convert, instances, manifest, written_splits


TABLES = FIXTURES / "icd10"

@pytest.fixture
def mimic_icd_raw(tmp_path) -> Path:
    raw = tmp_path / "raw"
    shutil.copytree(FIXTURES / "mimic_iv_icd10", raw)
    shutil.copytree(TABLES, raw / "cms")
    return raw

def test_mimic_iv_icd10_coding(capsys, tmp_path, mimic_icd_raw, caplog):
    out = tmp_path / "m"
    with caplog.at_level(logging.WARNING):
        rc, stdout, err = cli_convert(capsys, "mimic_iv_icd10", mimic_icd_raw, out)
    assert rc == 0, err
    assert written_splits(out) == {"train": {"task116"}, "validation": {"task116"}, "test": {"task116"}}
    train = instances(out, "train", "task116")
    # the summary whose only code is unknown is skipped
    assert [i.id for i in train] == ["hadm29000001", "hadm29000002"]
    # the official layout: codes as the labels write them (no dot), "; "-joined, in label order
    assert train[0].output == ["S72001A: Fracture of unspecified part of neck of right femur, initial encounter for "
                               "closed fracture; I10: Essential (primary) hypertension; 0DTJ4ZZ: Resection of Appendix, "
                               "Percutaneous Endoscopic Approach"]
    assert train[1].output == ["E785: Hyperlipidemia, unspecified"]
    assert train[0].input.startswith("SYNTHETIC discharge summary: admitted")
    assert [i.output[0] for i in instances(out, "validation", "task116")] == [
        "A000: Cholera due to Vibrio cholerae 01, biovar cholerae"]
    assert [i.id for i in instances(out, "test", "task116")] == ["hadm29000005"]
    assert "2 label(s) not in the code tables" in caplog.text and "1 summaries had no known code" in caplog.text
    assert "SYNTHETIC" not in caplog.text + stdout + err
    assert_credentialed_output(out)

def test_mimic_iv_icd10_clean_writes_dotted_codes(tmp_path, mimic_icd_raw):
    out = tmp_path / "m"
    run_converter("mimic_iv_icd10", mimic_icd_raw, out, clean=True)
    train = instances(out, "train", "task116")
    assert train[0].output[0].startswith("S72.001A: Fracture of unspecified part")
    assert train[1].output == ["E78.5: Hyperlipidemia, unspecified"]
    assert manifest(out)["clean_applied"] is True

def test_mimic_iv_icd10_errors(tmp_path, mimic_icd_raw):
    shutil.rmtree(mimic_icd_raw / "cms")
    with pytest.raises(SourceError, match=r"missing raw file.*\n.*icd10cm_order_<year>.txt.*www\.cms\.gov"):
        run_converter("mimic_iv_icd10", mimic_icd_raw, tmp_path / "out")
    shutil.copytree(TABLES, mimic_icd_raw / "cms")
    p = mimic_icd_raw / "disch_test_split.csv"
    p.write_text(p.read_text(encoding="utf-8").replace(",29000005,", ",,"), encoding="utf-8")
    with pytest.raises(SourceError) as ei:
        run_converter("mimic_iv_icd10", mimic_icd_raw, tmp_path / "out")
    assert str(ei.value) == "file disch_test_split.csv, line 2, field 'hadm_id': empty"
    for name in ("disch_train_split.csv", "disch_test_split.csv"):
        (mimic_icd_raw / name).unlink()
    with pytest.raises(SourceError, match="no split file.*disch_train_split.csv"):
        run_converter("mimic_iv_icd10", mimic_icd_raw, tmp_path / "out")
    assert not (tmp_path / "out").exists()
