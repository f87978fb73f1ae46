"""MedS-Ins training sources PubMed MeSH (task107) and the Radiopaedia caption NER (task72, from
RaTE-NER), on SELF-MADE fixtures laid out like the real files (tests/fixtures/pubmed_mesh: NLM's
PubMed XML, one gzip baseline file and one unpacked update file; tests/fixtures/radiopaedia:
the RaTE-NER span files, plus MIMIC decoys that must never be read)."""

from __future__ import annotations

import gzip
import json
import logging
import shutil
import tracemalloc

import pytest

from medsins_datasets.sources.converters import converter_for_task, run_converter
from medsins_datasets.errors import SourceError

from rawconv_helpers import FIXTURES, cli_convert, header_fields, instances, manifest, task_path, written_splits

PUBMED_URL = "ftp.ncbi.nlm.nih.gov/pubmed/baseline/"
RATE_URL = "huggingface.co/datasets/Angelakeke/RaTE-NER"
BASELINE = "baseline/pubmed25n0001.xml.gz"
UPDATE = "updatefiles/pubmed25n0002.xml"


def pairs(out, split, tid):
    return [(i.id, i.input, i.output) for i in instances(out, split, tid)]


def copy_fixture(tmp_path, source):
    raw = tmp_path / "raw"
    shutil.copytree(FIXTURES / source, raw)
    return raw


def xml_text(raw, rel):
    p = raw / rel
    return gzip.decompress(p.read_bytes()).decode() if p.name.endswith(".gz") else p.read_text(encoding="utf-8")


def write_xml(raw, rel, text):
    p = raw / rel
    p.write_bytes(gzip.compress(text.encode(), mtime=0) if p.name.endswith(".gz") else text.encode())


@pytest.mark.parametrize("task,name", [("task107", "pubmed_mesh"), ("task72", "radiopaedia_ner")])
def test_registry_routes_tasks(task, name):
    conv = converter_for_task(task)
    assert conv.name == name and conv.task_ids == (task,) and conv.access == "public"


# ---------------------------------------------------------------- PubMed MeSH
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
    raw = copy_fixture(tmp_path, "pubmed_mesh")
    shutil.rmtree(raw / "updatefiles")
    run_converter("pubmed_mesh", raw, tmp_path / "gz")
    got = pairs(tmp_path / "gz", "train", "task107")
    assert got[0] == ARTICLE_1
    assert [(i, o) for i, _, o in got[1:]] == [("90000004", ["Fever"]), ("90000005", ["Humans"])]

    raw2 = copy_fixture(tmp_path / "x", "pubmed_mesh")
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
    raw = copy_fixture(tmp_path, "pubmed_mesh")
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
    raw = copy_fixture(tmp_path, "pubmed_mesh")
    data = (raw / BASELINE).read_bytes()
    (raw / BASELINE).write_bytes(data[: len(data) // 2])
    with pytest.raises(SourceError, match=r"file pubmed25n0001\.xml\.gz: the compressed file is truncated or corrupt"):
        run_converter("pubmed_mesh", raw, out)
    assert task_path(out, "train", "task107").read_bytes() == before  # nothing half-written
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o", "raw"]


def test_pubmed_mesh_nothing_usable(tmp_path):
    raw = copy_fixture(tmp_path, "pubmed_mesh")
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


# ---------------------------------------------------------------- Radiopaedia caption NER (RaTE-NER)
def test_radiopaedia_cli_official_splits(capsys, tmp_path):
    out = tmp_path / "o"
    rc, _, err = cli_convert(capsys, "radiopaedia_ner", FIXTURES / "radiopaedia", out)
    assert rc == 0, err
    assert written_splits(out) == {"train": {"task72"}, "validation": {"task72"}, "test": {"task72"}}
    assert manifest(out)["tasks"] == {"radiopaedia_report_entity_extraction": {"train": 3, "validation": 1, "test": 1}}
    assert manifest(out)["credentialed"] is False
    # parts in the file's order (as the official script; the file lists the first one second), type
    # spelled as in the file, python-list repr as in the official script; no entity gives []
    assert pairs(out, "train", "task72") == [
        ("train-1", "FIXTURE : Enlarged left kidney without hydronephrosis .",
         ["[['left kidney', 'ANATOMY'], ['Enlarged', 'ABNORMALITY'], ['hydronephrosis', 'NON-ABNORMALITY']]"]),
        ("train-2", "FIXTURE report follows .", ["[]"]),
        ("train-3", "FIXTURE : Findings of Crohn's disease in the terminal ileum , no blorpitis .",
         ["[[\"Crohn's disease\", 'DISEASE'], ['terminal ileum', 'ANATOMY'], ['blorpitis', 'NON-DISEASE']]"]),
    ]
    assert pairs(out, "validation", "task72") == [
        ("validation-1", "FIXTURE lung nodule .", ["[['lung', 'ANATOMY'], ['nodule', 'ABNORMALITY']]"])]
    assert pairs(out, "test", "task72") == [
        ("test-1", "FIXTURE normal heart size .", ["[['heart size', 'ANATOMY'], ['normal', 'NON-ABNORMALITY']]"])]
    # the MIMIC_IV/ and all/ folders (credentialed MIMIC-IV sentences) are never read
    for p in out.glob("*/task*.json"):
        assert "MIMIC_SECRET" not in p.read_text(encoding="utf-8")
    # --clean: parts in sentence order
    run_converter("radiopaedia_ner", FIXTURES / "radiopaedia", tmp_path / "c", clean=True)
    assert pairs(tmp_path / "c", "train", "task72")[0][2] == [
        "[['Enlarged', 'ABNORMALITY'], ['left kidney', 'ANATOMY'], ['hydronephrosis', 'NON-ABNORMALITY']]"]


def test_radiopaedia_train_only_and_type_case_kept(tmp_path):
    raw = copy_fixture(tmp_path, "radiopaedia")
    (raw / "Radiopaedia" / "dev_span.json").unlink()
    (raw / "Radiopaedia" / "test_span.json").unlink()
    rec = {"note_id": 7, "sentences": [["FIXTURE", "small", "liver"]], "ner": [[[2, 2, "Anatomy"], [1, 1, "abnormality"]]]}
    (raw / "Radiopaedia" / "train_span.json").write_text(json.dumps(rec) + "\n\n", encoding="utf-8")
    run_converter("radiopaedia_ner", raw, tmp_path / "o")
    assert written_splits(tmp_path / "o") == {"train": {"task72"}}
    assert pairs(tmp_path / "o", "train", "task72") == [
        ("train-1", "FIXTURE small liver", ["[['liver', 'Anatomy'], ['small', 'abnormality']]"])]


def test_radiopaedia_missing_files_never_fall_back_to_mimic(tmp_path):
    raw = copy_fixture(tmp_path, "radiopaedia")
    shutil.rmtree(raw / "Radiopaedia")
    with pytest.raises(SourceError, match=rf"(?s)Radiopaedia Caption NER: missing raw file.*"
                                          rf"Radiopaedia/train_span\.json.*{RATE_URL}"):
        run_converter("radiopaedia_ner", raw, tmp_path / "o")
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("line2,message", [
    ("{not json", r"file train_span\.json, line 2: not a valid JSON object"),
    (json.dumps({"sentences": [["a", "b"]], "ner": [[[1, 2, "ANATOMY"]]]}),
     r"file train_span\.json, line 2, field 'ner': span 0 is not \[start, end, type\] with 0 <= start <= end < 2"),
    (json.dumps({"sentences": [["a", "b"]], "ner": [[[0, 0, "ANATOMY"], [1, 1, "ORGAN"]]]}),
     r"file train_span\.json, line 2, field 'ner': span 1 has type 'ORGAN', expected one of ANATOMY, ABNORMALITY"),
    (json.dumps({"sentences": [["a"], ["b"]], "ner": [[], []]}),
     r"file train_span\.json, line 2, field 'sentences': expected one sentence"),
    (json.dumps({"sentences": [["a"]]}),
     r"file train_span\.json, line 2, field 'ner': expected one list of \[start, end, type\] spans"),
])
def test_radiopaedia_malformed_records_are_named(tmp_path, line2, message):
    raw = copy_fixture(tmp_path, "radiopaedia")
    p = raw / "Radiopaedia" / "train_span.json"
    first = p.read_text(encoding="utf-8").splitlines()[0]
    p.write_text(first + "\n" + line2 + "\n", encoding="utf-8")
    with pytest.raises(SourceError, match=message) as e:
        run_converter("radiopaedia_ner", raw, tmp_path / "o")
    if "JSON" not in message:
        assert RATE_URL in str(e.value)
    assert not (tmp_path / "o").exists()
