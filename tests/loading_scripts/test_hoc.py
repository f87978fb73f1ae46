"""The ``hoc`` converter (Hallmarks of Cancer, task106) on the real corpus staged in ../shared/data/hoc."""

from __future__ import annotations

import pytest

from common import shared_file
from medsins_datasets import scoring as S
from medsins_datasets.errors import SourceError
from medsins_datasets.sources.converters import run_converter

from converter_helpers import instances


def test_hoc_real(tmp_path):
    raw = shared_file("data/hoc/labels").parent
    out = tmp_path / "hoc"
    counts = run_converter("hoc", raw, out)["hoc_classification"]
    assert counts["train"] + counts["test"] == 1852 and 150 < counts["test"] < 230
    insts = {i.id: i for split in ("train", "test") for i in instances(out, split, "task106")}
    assert set(insts) == {p.stem for p in (raw / "text").glob("*.txt")}
    assert not {i.id for i in instances(out, "train", "task106")} & {i.id for i in instances(out, "test", "task106")}
    # the scorer reads back exactly the hallmarks annotated on the abstract's sentences
    first = insts["11773160"]
    assert S.hoc_labels(first.output[0]) == {"sustaining proliferative signaling", "evading growth suppressors",
                                             "resisting cell death"}
    assert sum(not S.hoc_labels(i.output[0]) for i in insts.values()) > 100  # abstracts without a hallmark
    assert all(i.output[0] == "None of the ten hallmarks." for i in insts.values() if not S.hoc_labels(i.output[0]))
    # deterministic split: a second run gives the same files
    out2 = tmp_path / "hoc2"
    run_converter("hoc", raw, out2)
    assert (out / "test/task106_hoc_classification.json").read_bytes() == (out2 / "test/task106_hoc_classification.json").read_bytes()

def test_hoc_unknown_hallmark_is_named(tmp_path):
    raw = tmp_path / "raw"
    (raw / "text").mkdir(parents=True)
    (raw / "labels").mkdir()
    (raw / "text/1.txt").write_text("FIXTURE sentence one .\nFIXTURE sentence two .\n")
    (raw / "labels/1.txt").write_text("<Made up hallmark--sub")
    with pytest.raises(SourceError, match=r"file 1\.txt, field 'sentence 2': unknown hallmark 'made up hallmark'"):
        run_converter("hoc", raw, tmp_path / "o")
    (raw / "labels/1.txt").unlink()
    with pytest.raises(SourceError, match=r"(?s)labels/\*\.txt.*github\.com/sb895/Hallmarks-of-Cancer"):
        run_converter("hoc", raw, tmp_path / "o")
