"""The ``icd10cm`` converter (ICD-10-CM code explanation, task115, public) on SELF-MADE tables laid out
like CMS's (tests/fixtures/icd10), and the table reader it shares with ``mimic_iv_icd10``."""

from __future__ import annotations

import pytest

from medsins_datasets.errors import SourceError
from medsins_datasets.sources.converters import run_converter
from medsins_datasets.loading_scripts._icd10 import display_code, read_table

from converter_helpers import FIXTURES, cli_convert, header_fields, instances, manifest, written_splits


TABLES = FIXTURES / "icd10"

def test_table_layouts():
    order = read_table(TABLES / "icd10cm_order_2024.txt")
    assert order["A00"] == "Cholera"  # category headers are in the order file
    assert order["S72001A"].endswith("initial encounter for closed fracture")  # the long description
    codes = read_table(TABLES / "icd10cm_codes_2023.txt")
    assert "A00" not in codes and codes["I10"] == "Essential (primary) hypertension"
    assert read_table(TABLES / "icd10pcs_order_2024.txt", valid_only=True) == {
        "0DTJ4ZZ": "Resection of Appendix, Percutaneous Endoscopic Approach"}
    assert display_code("A000", "cm") == "A00.0" and display_code("I10", "cm") == "I10"
    assert display_code("0DTJ4ZZ", "pcs") == "0DTJ4ZZ"

def test_icd10cm_code_explanation(capsys, tmp_path):
    out = tmp_path / "icd"
    rc, stdout, err = cli_convert(capsys, "icd10cm", TABLES, out)
    assert rc == 0, err
    assert written_splits(out) == {"train": {"task115"}}
    got = [(i.input, i.output[0]) for i in instances(out, "train", "task115")]
    # the newest table (2024 order file) wins over the 2023 codes file; PCS codes are not included;
    # codes without their dot, as the official preparation wrote them
    expected = [
        ("A00", "Cholera"),
        ("A000", "Cholera due to Vibrio cholerae 01, biovar cholerae"),
        ("E785", "Hyperlipidemia, unspecified"),
        ("I10", "Essential (primary) hypertension"),
        ("S72001A", "Fracture of unspecified part of neck of right femur, initial encounter for closed fracture"),
    ]
    assert got == expected
    assert "Access" not in header_fields(out, "train", "task115")
    assert manifest(out)["credentialed"] is False
    # --clean: the usual written form with the dot
    run_converter("icd10cm", TABLES, tmp_path / "clean", clean=True)
    assert [(i.input, i.output[0]) for i in instances(tmp_path / "clean", "train", "task115")] == [
        (display_code(code, "cm"), desc) for code, desc in expected]

def test_malformed_table_line(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    lines = (TABLES / "icd10cm_order_2024.txt").read_text(encoding="utf-8").splitlines()
    lines[2] = "garbage line"
    (raw / "icd10cm_order_2024.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(SourceError, match="file icd10cm_order_2024.txt, line 3: not in the fixed-column layout"):
        run_converter("icd10cm", raw, tmp_path / "out")
