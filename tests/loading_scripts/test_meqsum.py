"""The ``meqsum`` converter (MeQSum, task114) on the real sheet staged in ../shared/data/meqsum: the
default output is the official script's (``data_preparing/meqsum_text_summarization.py``: pandas
rows, CHQ -> Summary), ``--clean`` tidies whitespace."""

from __future__ import annotations

import pytest

from common import shared_file
from medsins_datasets.errors import SourceError
from medsins_datasets.sources.converters import run_converter

from converter_helpers import by_id, hash_heldout, instances, manifest


def test_meqsum_default_is_the_official_sheet_text(tmp_path):
    pd = pytest.importorskip("pandas")
    pytest.importorskip("openpyxl")
    path = shared_file("data/meqsum/MeQSum_ACL2019_BenAbacha_Demner-Fushman.xlsx")
    # the official script: pd.read_excel, then input = row['CHQ'], output = row['Summary'], untouched
    frame = pd.read_excel(path)
    official = {row["File"]: (row["CHQ"], row["Summary"]) for _, row in frame.iterrows()}
    assert len(official) == 1000
    out = tmp_path / "meq"
    run_converter("meqsum", path.parent, out)
    got = by_id(out, "task114")
    assert set(got) == set(official)  # every row once, train or test
    for fid, (split, inp, outp) in got.items():
        assert (inp, outp) == (official[fid][0], [official[fid][1]]), fid
        # documented split: 10 % of rows by hash, never both
        assert split == ("test" if hash_heldout(f"meqsum:{fid}", 0.10) else "train"), fid
    n_test = sum(s == "test" for s, _, _ in got.values())
    assert manifest(out)["tasks"]["meqsum_summarization"] == {"train": 1000 - n_test, "test": n_test}
    assert 70 < n_test < 130

    # --clean tidies whitespace (own re-statement); it changes about half of the questions
    clean = tmp_path / "clean"
    run_converter("meqsum", path.parent, clean, clean=True)

    def tidy(text: str) -> str:
        lines = [" ".join(line.split()) for line in text.strip().split("\n")]
        return "\n".join(line for line in lines if line)

    cgot = by_id(clean, "task114")
    assert {k: (v[1], v[2]) for k, v in cgot.items()} == {k: (tidy(q), [tidy(a)]) for k, (q, a) in official.items()}
    changed = sum(cgot[k][1] != got[k][1] for k in got)
    assert 400 < changed < 600, changed  # 495 of the 1,000 questions on the real sheet
    assert manifest(clean)["clean"] is True and manifest(clean)["clean_applied"] is True

def test_meqsum_real_and_bad_sheet(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    path = shared_file("data/meqsum/MeQSum_ACL2019_BenAbacha_Demner-Fushman.xlsx")
    out = tmp_path / "meq"
    counts = run_converter("meqsum", path.parent, out)["meqsum_summarization"]
    assert counts["train"] + counts["test"] == 1000 and 70 < counts["test"] < 130
    first = instances(out, "train", "task114")[0]
    assert first.id == "1-131188152.xml.txt" and first.output == ["Who manufactures cetirizine?"]
    assert first.input.startswith("SUBJECT: who and where to get cetirizine")

    raw = tmp_path / "bad"
    raw.mkdir()
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["File", "CHQ", "Summary"])
    ws.append(["fx1", "FIXTURE: what is fixturol?", "What is fixturol?"])
    ws.append(["fx2", "FIXTURE: a question without summary", None])
    wb.save(raw / path.name)
    with pytest.raises(SourceError, match=r"line 3, field 'Summary': empty"):
        run_converter("meqsum", raw, tmp_path / "o")
    ws.delete_rows(3)
    ws["C1"] = "Abstract"
    wb.save(raw / path.name)
    with pytest.raises(SourceError, match=r"line 1: missing column\(s\) Summary"):
        run_converter("meqsum", raw, tmp_path / "o")
