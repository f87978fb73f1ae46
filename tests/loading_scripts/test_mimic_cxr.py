"""The ``mimic_cxr`` converter (MIMIC-CXR reports, task112, credentialed) on SYNTHETIC fixtures
shaped like mimic-cxr-reports.zip (tests/fixtures/mimic_cxr)."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest

from medsins_datasets.errors import SourceError
from medsins_datasets.sources.converters import run_converter

from converter_helpers import (FIXTURES, assert_credentialed_output, assert_no_text_leak, cli_convert, instances,
                     written_splits)


RAW = FIXTURES / "mimic_cxr"

def zipped_copy(tmp_path: Path, with_split: bool) -> Path:
    raw = tmp_path / "zipraw"
    raw.mkdir()
    with zipfile.ZipFile(raw / "mimic-cxr-reports.zip", "w") as zf:
        for p in sorted((RAW / "files").rglob("*.txt")):
            zf.write(p, p.relative_to(RAW).as_posix())
    if with_split:
        shutil.copy(RAW / "mimic-cxr-2.0.0-split.csv.gz", raw)
    return raw

def test_official_split_from_the_split_file(capsys, tmp_path):
    out = tmp_path / "cxr"
    rc, stdout, err = cli_convert(capsys, "mimic_cxr", RAW, out)
    assert rc == 0, err
    assert written_splits(out) == {"train": {"task112"}, "validation": {"task112"}, "test": {"task112"}}
    train = instances(out, "train", "task112")
    assert [i.id for i in train] == ["s59000001", "s59000002", "s59000004"]
    # default: the official cut - text between FINDINGS: and IMPRESSION:, line breaks -> spaces, stripped
    # (the report's double spaces and its " \n " line starts stay as spaces)
    report = (RAW / "files/p19/p19000001/s59000001.txt").read_text(encoding="utf-8")
    f, i = report.find("FINDINGS:"), report.find("IMPRESSION:")
    assert train[0].input == report[f + 10:i].replace("\n", " ").strip()
    assert train[0].input == "SYNTHETIC: the lungs are clear.  No pleural effusion or  pneumothorax."
    assert train[0].output == [report[i + 12:].replace("\n", " ").strip()]
    assert train[0].output == ["SYNTHETIC: no acute cardiopulmonary process."]
    assert [i.id for i in instances(out, "validation", "task112")] == ["s59000003"]
    # s59000006 (test) has no IMPRESSION: skipped
    assert [i.id for i in instances(out, "test", "task112")] == ["s59000005"]
    assert_credentialed_output(out)
    assert "SYNTHETIC" not in stdout + err

def test_clean_reflows_sections(tmp_path):
    out = tmp_path / "cxr"
    run_converter("mimic_cxr", RAW, out, clean=True)
    train = instances(out, "train", "task112")
    assert [i.id for i in train] == ["s59000001", "s59000002", "s59000004"]
    assert train[0].input == "SYNTHETIC: the lungs are clear. No pleural effusion or pneumothorax."
    assert train[0].output == ["SYNTHETIC: no acute cardiopulmonary process."]

def test_official_cut_edge_cases():
    from medsins_datasets.loading_scripts.mimic_cxr import official_pair

    # the impression runs to the end of the report (a NOTIFICATION paragraph included), as officially
    text = " FINDINGS: \n SYNTHETIC lungs clear.\n IMPRESSION: \n SYNTHETIC normal.\n NOTIFICATION: SYNTHETIC call.\n"
    assert official_pair(text) == ("SYNTHETIC lungs clear.", "SYNTHETIC normal.  NOTIFICATION: SYNTHETIC call.")
    # documented fixes: a section written right after the colon keeps its first letter, and an
    # IMPRESSION before FINDINGS (empty slice) is skipped instead of giving an empty input
    assert official_pair("FINDINGS:Clear.\nIMPRESSION:Normal.") == ("Clear.", "Normal.")
    assert official_pair("IMPRESSION: normal.\nFINDINGS: clear.") is None
    assert official_pair("FINDINGS: clear only.") is None

@pytest.mark.parametrize("with_split", [False, True])
def test_zip_archive_and_held_out_patients(tmp_path, with_split):
    raw = zipped_copy(tmp_path, with_split)
    out = tmp_path / "cxr"
    run_converter("mimic_cxr", raw, out)
    ids = {s: [i.id for i in instances(out, s, "task112")] for s in written_splits(out)}
    if with_split:
        assert ids == {"train": ["s59000001", "s59000002", "s59000004"], "validation": ["s59000003"],
                       "test": ["s59000005"]}
    else:
        # without the split file, patients 19000006 and 19000014 are held out (subject_id hash)
        assert ids == {"train": ["s59000001", "s59000002", "s59000003"], "test": ["s59000004", "s59000005"]}

def test_missing_reports_and_bad_split_file(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(SourceError, match="mimic-cxr-reports.zip.*physionet.org/content/mimic-cxr"):
        run_converter("mimic_cxr", empty, tmp_path / "out")
    raw = tmp_path / "raw"
    shutil.copytree(RAW, raw)
    import gzip
    (raw / "mimic-cxr-2.0.0-split.csv.gz").write_bytes(
        gzip.compress(b"dicom_id,study_id,subject_id,split\nx,59000001,19000001,holdout\n"))
    with pytest.raises(SourceError, match="file mimic-cxr-2.0.0-split.csv.gz, line 2, field 'split'"):
        run_converter("mimic_cxr", raw, tmp_path / "out")
    assert not (tmp_path / "out").exists()

def test_undecodable_report_names_the_file_only(tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(RAW, raw)
    p = raw / "files/p19/p19000002/s59000003.txt"
    text = p.read_text(encoding="utf-8")
    p.write_bytes(text.encode("utf-8") + b"\xff\xfe SYNTHETIC trailing words")
    with pytest.raises(SourceError) as ei:
        run_converter("mimic_cxr", raw, tmp_path / "out")
    assert "s59000003.txt" in str(ei.value) and "not UTF-8" in str(ei.value)
    assert_no_text_leak(str(ei.value), [line.strip() for line in text.splitlines() if len(line.strip()) > 12])
