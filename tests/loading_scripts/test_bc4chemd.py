"""The ``bc4chemd`` converter (BC4CHEMD, task125) on the SELF-MADE fixture (tests/fixtures/bc4chemd):
exact outputs, the folder names users have, error messages."""

from __future__ import annotations

import shutil

import pytest

from medsins_datasets import scoring as S
from medsins_datasets.sources.converters import run_converter

from converter_helpers import FIXTURES, NO_ENTITY, copy_fixture, header_fields, instances, pairs, raises_nothing_written


def test_bc4chemd_fixture_exact_answers(tmp_path):
    out = tmp_path / "o"
    counts = run_converter("bc4chemd", FIXTURES / "bc4chemd", out)
    assert counts == {"bc4chemd_chemical_ner": {"train": 3, "test": 2}}
    assert pairs(out, "train", "task125") == [
        ("train-0", "FIXTURE fixturol and sodium fixturate mix.", ["fixturol, sodium fixturate."]),
        ("train-1", "FIXTURE no chemicals.", [NO_ENTITY]),
        # devel -> train; official joining (brackets spaced) and duplicate mentions kept
        ("devel-0", "FIXTURE Fixturol ( fixturol ) again.", ["Fixturol, fixturol."]),
    ]
    assert pairs(out, "test", "task125") == [
        ("test-0", "FIXTURE testoxin only.", ["testoxin."]),
        ("test-1", "FIXTURE nothing.", [NO_ENTITY]),
    ]
    assert header_fields(out, "test", "task125")["Source"] == ["BC4-Chem"]
    refs = [i.output[0] for i in instances(out, "test", "task125")]
    entry = next(iter(S.score(refs, refs, "task125", bootstrap=0)["tasks"].values()))
    assert entry["f1"] == 100.0 and entry["n"] == 2

def _to_iobes(text: str) -> str:
    """The same corpus tagged IOBES (S- single tokens, E- last tokens), as MTL's *-IOBES folders."""
    out = []
    for block in text.split("\n\n"):
        rows = [line.split("\t") for line in block.splitlines() if line]
        for k, (word, tag) in enumerate(rows):
            nxt = rows[k + 1][1] if k + 1 < len(rows) else "O"
            if tag != "O" and not nxt.startswith("I-"):
                tag = ("S-" if tag.startswith("B-") else "E-") + tag[2:]
            out.append(f"{word}\t{tag}")
        out.append("")
    return "\n".join(out)

@pytest.mark.parametrize("folder", ["BC4CHEMD", "BC4CHEMD-IOBES"])
def test_bc4chemd_folder_names_users_have(tmp_path, folder):
    """MTL-Bioinformatics-2016 names the folders BC4CHEMD/ and BC4CHEMD-IOBES/ (S- and E- tags)."""
    raw = tmp_path / "raw"
    (raw / folder).mkdir(parents=True)
    for name in ("train.tsv", "devel.tsv", "test.tsv"):
        text = (FIXTURES / "bc4chemd/BC4CHEMD-IOB" / name).read_text(encoding="utf-8")
        (raw / folder / name).write_text(_to_iobes(text) if folder.endswith("IOBES") else text, encoding="utf-8")
    if folder.endswith("IOBES"):
        assert "S-Chemical" in (raw / folder / "train.tsv").read_text() and "E-Chemical" in (raw / folder / "train.tsv").read_text()
    reference = tmp_path / "iob"
    run_converter("bc4chemd", FIXTURES / "bc4chemd", reference)
    out = tmp_path / "o"
    assert run_converter("bc4chemd", raw, out) == {"bc4chemd_chemical_ner": {"train": 3, "test": 2}}
    for split in ("train", "test"):
        assert pairs(out, split, "task125") == pairs(reference, split, "task125")

def test_bc4chemd_errors(tmp_path):
    raw = copy_fixture(tmp_path, "bc4chemd")
    (raw / "BC4CHEMD-IOB/test.tsv").unlink()
    raises_nothing_written(tmp_path, "bc4chemd", raw, r"(?s)BC4CHEMD\*/test\.tsv.*BC4CHEMD-IOBES.*chemdner")
    raw = copy_fixture(tmp_path / "b", "bc4chemd")
    p = raw / "BC4CHEMD-IOB/train.tsv"
    p.write_text(p.read_text().replace("sodium\tB-Chemical", "sodium\tX-Chemical"))
    raises_nothing_written(tmp_path, "bc4chemd", raw,
                            r"file train\.tsv, line 4, field 'tag': 'X-Chemical' is not an IOB / IOBES tag")
    # a folder with only test.tsv, next to one with only train.tsv, is not a corpus
    raw = tmp_path / "c"
    (raw / "BC4CHEMD").mkdir(parents=True)
    (raw / "BC4CHEMD-IOBES").mkdir()
    shutil.copy(FIXTURES / "bc4chemd/BC4CHEMD-IOB/train.tsv", raw / "BC4CHEMD/train.tsv")
    shutil.copy(FIXTURES / "bc4chemd/BC4CHEMD-IOB/test.tsv", raw / "BC4CHEMD-IOBES/test.tsv")
    raises_nothing_written(tmp_path, "bc4chemd", raw, r"no folder with train\.tsv and test\.tsv among BC4CHEMD-IOB/")
