"""The ``pubmed_mesh`` converter (PubMed MeSH classification, task107) on the SELF-MADE fixture laid out
like NLM's files (tests/fixtures/pubmed_mesh: one gzip baseline file, one unpacked update file)."""

from __future__ import annotations

import gzip
import logging
import shutil
import tracemalloc

import pytest

from medsins_datasets.errors import SourceError
from medsins_datasets.sources.converters import converter_for_task, run_converter

from converter_helpers import (FIXTURES, cli_convert, copy_fixture, header_fields, instances, manifest, pairs, task_path,
                     written_splits)


PUBMED_URL = "ftp.ncbi.nlm.nih.gov/pubmed/baseline/"

BASELINE = "baseline/pubmed25n0001.xml.gz"

UPDATE = "updatefiles/pubmed25n0002.xml"

def xml_text(raw, rel):
    p = raw / rel
    return gzip.decompress(p.read_bytes()).decode() if p.name.endswith(".gz") else p.read_text(encoding="utf-8")

def write_xml(raw, rel, text):
    p = raw / rel
    p.write_bytes(gzip.compress(text.encode(), mtime=0) if p.name.endswith(".gz") else text.encode())

@pytest.mark.parametrize("task,name", [("task107", "pubmed_mesh")])
def test_registry_routes_tasks(task, name):
    conv = converter_for_task(task)
    assert conv.name == name and conv.task_ids == (task,) and conv.access == "public"

ARTICLE_1 = ("90000001",
             "FIXTURE: Blorpitis of the left kidney.\n"
             "BACKGROUND: Blorpitis is an invented kidney disease.\n"
             "METHODS: We scanned 103 kidneys with CT (p < 0.05).\n"
             "An unlabelled part.",
             ["Humans; Kidney; Tomography, X-Ray Computed"])

def test_pubmed_mesh_cli_baseline_and_update(capsys, tmp_path, caplog):
    out = tmp_path / "o"
    with caplog.at_level(logging.WARNING):
        rc, _, err = cli_convert(capsys, "pubmed_mesh", FIXTURES / "pubmed_mesh", out)
    assert rc == 0, err
    assert written_splits(out) == {"train": {"task107"}}  # task107 is not in MedS-Bench: training only
    assert manifest(out)["tasks"] == {"pubmed_mesh_classification": {"train": 4}}
    assert manifest(out)["credentialed"] is False and "Access" not in header_fields(out, "train", "task107")
    # newest file first; the update's version of 90000004 replaces the baseline one, 90000005 is deleted,
    # a Version="2" PMID keeps its version; descriptors only (qualifiers dropped), in file order, "; "-joined
    assert pairs(out, "train", "task107") == [
        ("90000004", "FIXTURE: Snurfle fever, revised.\nFIXTURE: Snurfle fever lasts two days.",
         ["Child; Fever; Humans"]),
        ("90000006", "FIXTURE: Inventol and coffee.\nFIXTURE: Inventol does not interact with caffeine (n=12).",
         ["Caffeine; Drug Interactions"]),
        ("90000008.2", "FIXTURE: A second version of a versioned article.\n"
                       "FIXTURE: Versioned records keep their version in the id.", ["Humans"]),
        ARTICLE_1,
    ]
    assert ("articles skipped: 1 no abstract, 1 no MeSH headings, 1 book records, "
            "2 older versions or deleted") in caplog.text
    text = task_path(out, "train", "task107").read_text(encoding="utf-8")
    for absent in ("old version", "Deleted later", "copyright line", "90000099", "Book records", "diagnostic imaging"):
        assert absent not in text

def test_pubmed_mesh_gzip_only_and_xml_only(tmp_path):
    raw = copy_fixture(tmp_path, "pubmed_mesh", "raw")
    shutil.rmtree(raw / "updatefiles")
    run_converter("pubmed_mesh", raw, tmp_path / "gz")
    got = pairs(tmp_path / "gz", "train", "task107")
    assert got[0] == ARTICLE_1
    assert [(i, o) for i, _, o in got[1:]] == [("90000004", ["Fever"]), ("90000005", ["Humans"])]

    raw2 = copy_fixture(tmp_path / "x", "pubmed_mesh", "raw")
    (raw2 / BASELINE).unlink()
    (raw2 / (BASELINE + ".md5")).unlink()
    run_converter("pubmed_mesh", raw2, tmp_path / "xml")
    assert [i.id for i in instances(tmp_path / "xml", "train", "task107")] == ["90000004", "90000006", "90000008.2"]

def test_pubmed_mesh_missing_files(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(SourceError, match=rf"(?s)PubMed MeSH: missing raw file.*pubmed25nNNNN\.xml\.gz.*{PUBMED_URL}"):
        run_converter("pubmed_mesh", empty, tmp_path / "o")
    (empty / "pubmed25n0001.xml.gz.md5").write_text("MD5(pubmed25n0001.xml.gz)= 0\n")
    with pytest.raises(SourceError, match=rf"no PubMed XML files .*{PUBMED_URL}"):
        run_converter("pubmed_mesh", empty, tmp_path / "o")
    assert not (tmp_path / "o").exists()

@pytest.mark.parametrize("rel,edit,message", [
    (UPDATE, lambda t: t[: t.index("<PMID Version=\"1\">90000006")], r"file pubmed25n0002\.xml, line 36: not well-formed XML"),
    (BASELINE, lambda t: t.replace("PubmedArticleSet>", "DescriptorRecordSet>"),
     r"file pubmed25n0001\.xml\.gz, line 1: the root element is <DescriptorRecordSet>, expected <PubmedArticleSet>"),
    (UPDATE, lambda t: t.replace("<PMID Version=\"1\">90000006</PMID>", ""),
     r"file pubmed25n0002\.xml, field 'MedlineCitation/PMID', record 2: missing"),
    (UPDATE, lambda t: t.replace("<PMID Version=\"1\">90000006</PMID>", "<PMID Version=\"1\">n/a</PMID>"),
     r"file pubmed25n0002\.xml, field 'MedlineCitation/PMID', record 2: not a number"),
    (BASELINE, lambda t: t.replace(">Kidney</DescriptorName>", "></DescriptorName>"),
     r"file pubmed25n0001\.xml\.gz, field 'MeshHeadingList/MeshHeading/DescriptorName', record 1 \(PMID 90000001\): "
     r"MeSH heading 2 has no descriptor name"),
])
def test_pubmed_mesh_malformed_files_are_named(tmp_path, rel, edit, message):
    raw = copy_fixture(tmp_path, "pubmed_mesh", "raw")
    write_xml(raw, rel, edit(xml_text(raw, rel)))
    with pytest.raises(SourceError, match=message) as e:
        run_converter("pubmed_mesh", raw, tmp_path / "o")
    if "DescriptorRecordSet" not in message:
        assert PUBMED_URL in str(e.value)
    assert not (tmp_path / "o").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["raw"]  # no staging folder left behind

def test_pubmed_mesh_truncated_gzip_keeps_previous_output(tmp_path):
    out = tmp_path / "o"
    run_converter("pubmed_mesh", FIXTURES / "pubmed_mesh", out)
    before = task_path(out, "train", "task107").read_bytes()
    raw = copy_fixture(tmp_path, "pubmed_mesh", "raw")
    data = (raw / BASELINE).read_bytes()
    (raw / BASELINE).write_bytes(data[: len(data) // 2])
    with pytest.raises(SourceError, match=r"file pubmed25n0001\.xml\.gz: the compressed file is truncated or corrupt"):
        run_converter("pubmed_mesh", raw, out)
    assert task_path(out, "train", "task107").read_bytes() == before  # nothing half-written
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o", "raw"]

def test_pubmed_mesh_nothing_usable(tmp_path):
    raw = copy_fixture(tmp_path, "pubmed_mesh", "raw")
    shutil.rmtree(raw / "updatefiles")
    text = xml_text(raw, BASELINE)
    write_xml(raw, BASELINE, text.replace("<MeshHeadingList>", "<X>").replace("</MeshHeadingList>", "</X>"))
    with pytest.raises(SourceError, match=r"PubMed MeSH: no article with both an abstract and MeSH headings in 1 file"):
        run_converter("pubmed_mesh", raw, tmp_path / "o")

def test_pubmed_mesh_streams_with_flat_memory(tmp_path):
    """1,500 articles in one file: records are cleared as they are read (a full parse of the same
    file takes about 40 MB). Small PMIDs keep the seen-PMID bitmap (PMID / 8 bytes) out of the peak."""
    text = xml_text(FIXTURES / "pubmed_mesh", BASELINE)
    one = text[text.index("<PubmedArticle>"): text.index("</PubmedArticle>") + len("</PubmedArticle>")]
    raw = tmp_path / "big"
    raw.mkdir()
    body = "".join(one.replace("90000001", str(1 + i)) for i in range(1500))
    (raw / "pubmed25n0100.xml.gz").write_bytes(
        gzip.compress(f'<?xml version="1.0" ?>\n<PubmedArticleSet>{body}</PubmedArticleSet>'.encode()))
    tracemalloc.start()
    try:
        written = run_converter("pubmed_mesh", raw, tmp_path / "o")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert written == {"pubmed_mesh_classification": {"train": 1500}}
    assert peak < 5_000_000, f"peak {peak / 1e6:.1f} MB: records are not being released"
