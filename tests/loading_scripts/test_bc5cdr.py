"""The ``bc5cdr`` converter (BioCreative V CDR, IOB copies of MTL-Bioinformatics-2016) -> task126,
task127 and task28: the real corpus (../shared/data/bionlp_ner), instance by instance against a
re-statement of the official NER preparation, and the SELF-MADE fixture (tests/fixtures/bionlp_ner)
for exact answers, ``--clean`` and error messages."""

from __future__ import annotations

import pytest

from common import shared_file
from medsins_datasets import scoring as S
from medsins_datasets.errors import SourceError
from medsins_datasets.sources.converters import run_converter

from converter_helpers import (FIXTURES, NO_ENTITY, check_list_task, check_superni_task, cli_convert, copy_fixture, instances,
                     manifest, pairs, raw_sentences, written_splits)


def test_bc5cdr_matches_the_official_ner_rules(tmp_path):
    raw = shared_file("data/bionlp_ner/BC5CDR-chem-IOB/test.tsv").parent.parent
    out = tmp_path / "bc5"
    run_converter("bc5cdr", raw, out)
    n126 = check_list_task(out, "task126", raw / "BC5CDR-chem-IOB", ("train", "test"))
    n127 = check_list_task(out, "task127", raw / "BC5CDR-disease-IOB", ("test",))
    n28 = check_superni_task(out, "task28", raw / "BC5CDR-disease-IOB")
    assert (n126, n127) == (13938, 4797) and 0 < n28 < 13938
    # duplicate mentions are kept, as the script keeps them
    assert any(len(set(i.output[0][:-1].split(", "))) < len(i.output[0][:-1].split(", "))
               for i in instances(out, "test", "task126") if i.output[0] != NO_ENTITY)

def test_iob_clean_layout_differs_where_documented(tmp_path):
    """--clean: readable detokenisation, mentions are substrings of the input, no duplicates."""
    raw = shared_file("data/bionlp_ner/BC5CDR-chem-IOB/test.tsv").parent.parent
    default, clean = tmp_path / "d", tmp_path / "c"
    run_converter("bc5cdr", raw, default)
    run_converter("bc5cdr", raw, clean, clean=True)
    d, c = instances(default, "test", "task126"), instances(clean, "test", "task126")
    assert [i.id for i in d] == [i.id for i in c]
    changed = sum(a.input != b.input for a, b in zip(d, c))
    assert 2000 < changed < 3500, changed  # the joining differs for about half of the sentences
    for inst in c:
        if inst.output[0] != NO_ENTITY:
            mentions = inst.output[0][:-1].split(", ")
            assert all(m in inst.input for m in mentions) and len({m.lower() for m in mentions}) == len(mentions)

def test_bc5cdr_real_full_corpus(capsys, tmp_path):
    raw = shared_file("data/bionlp_ner/BC5CDR-chem-IOB/test.tsv").parent.parent
    out = tmp_path / "bc5"
    rc, stdout, err = cli_convert(capsys, "bc5cdr", raw, out)
    assert rc == 0, err
    assert written_splits(out) == {"train": {"task126", "task28"}, "test": {"task126", "task127", "task28"}}
    n = {s: raw_sentences(raw / "BC5CDR-chem-IOB" / f"{s}.tsv") for s in ("train", "devel", "test")}
    chem_train, chem_test = instances(out, "train", "task126"), instances(out, "test", "task126")
    assert len(chem_train) == n["train"] + n["devel"] and len(chem_test) == n["test"] == 4797
    assert {i.id.split("-")[0] for i in chem_train} == {"train", "devel"}  # training never reads test.tsv
    assert {i.id.split("-")[0] for i in chem_test} == {"test"}
    dis_test = instances(out, "test", "task127")
    assert len(dis_test) == n["test"]
    for insts in (chem_train, chem_test, dis_test):
        answers = [i.output[0] for i in insts]
        assert "There is no related enetity." in answers
        for inst in insts:
            (ans,) = inst.output
            if ans != "There is no related enetity.":
                assert ans.endswith(".")
                # mentions are their tokens joined by spaces (official), the input glues . , ; : ? !
                squeezed = "".join(inst.input.split())
                assert all("".join(m.split()) in squeezed for m in ans[:-1].split(", ")), inst.id
    # (the instance-by-instance comparison with the official rules: test_bc5cdr_matches_the_official_ner_rules)
    # round trip: the gold answers scored against themselves give F1 100 with the official NER rule
    for insts, task in ((chem_test, "task126"), (dis_test, "task127")):
        refs = [i.output[0] for i in insts]
        entry = next(iter(S.score(refs, refs, task, bootstrap=0)["tasks"].values()))
        assert entry["f1"] == 100.0 and entry["n"] == len(refs)
        none = ["There is no related enetity."] * len(refs)
        assert next(iter(S.score(none, refs, task, bootstrap=0)["tasks"].values()))["recall"] == 0.0
    # task28 (SuperNI style): only sentences with a mention, each mention an accepted answer
    t28 = instances(out, "test", "task28")
    with_mention = [i for i in dis_test if i.output[0] != "There is no related enetity."]
    assert [i.id for i in t28] == [i.id for i in with_mention]
    assert all(i.input == j.input for i, j in zip(t28, with_mention))
    assert all(len(i.output) == len(set(i.output)) >= 1 for i in t28)  # distinct accepted answers

def test_iob_fixture_exact_answers(tmp_path):
    out = tmp_path / "o"
    run_converter("bc5cdr", FIXTURES / "bionlp_ner", out)
    # default = the official NER preparation: ". , ; : ? !" glued, brackets spaced, duplicates kept
    assert pairs(out, "train", "task126") == [
        ("train-0", "FIXTURE fixturol and fixtamine hydro chloride help.", ["fixturol, fixtamine, hydro chloride."]),
        ("train-1", "FIXTURE nothing here.", ["There is no related enetity."]),
        ("devel-0", "FIXTURE Fixturol ( fixturol ) again.", ["Fixturol, fixturol."]),  # devel goes to train
    ]
    # an I- tag with no open mention belongs to none (official rule)
    assert pairs(out, "test", "task126")[0] == ("test-0", "FIXTURE testamine, none else.", ["There is no related enetity."])
    assert manifest(out)["clean"] is False
    # --clean: readable text, an opening I- tag starts a mention, case-insensitive de-duplication
    clean = tmp_path / "c"
    run_converter("bc5cdr", FIXTURES / "bionlp_ner", clean, clean=True)
    assert pairs(clean, "train", "task126")[2] == ("devel-0", "FIXTURE Fixturol (fixturol) again.", ["Fixturol."])
    assert pairs(clean, "test", "task126")[0] == ("test-0", "FIXTURE testamine, none else.", ["testamine."])
    assert manifest(clean)["clean"] is True and manifest(clean)["clean_applied"] is True
    assert pairs(out, "test", "task127") == [
        ("test-0", "FIXTURE test syndrome and fixture fever.", ["test syndrome, fixture fever."]),
        ("test-1", "FIXTURE healthy.", ["There is no related enetity."]),
    ]
    assert pairs(out, "train", "task28") == [("train-0", "FIXTURE fixture fever seen.", ["fixture fever"])]
    assert S.ner_entities("test syndrome, fixture fever.") == {"test syndrome", "fixture feve"}  # the official quirk

def test_iob_errors_name_file_line_and_source(tmp_path):
    raw = copy_fixture(tmp_path, "bionlp_ner")
    (raw / "BC5CDR-disease-IOB" / "test.tsv").unlink()
    with pytest.raises(SourceError, match=r"(?s)BC5CDR-disease-IOB/test\.tsv.*MTL-Bioinformatics-2016"):
        run_converter("bc5cdr", raw, tmp_path / "o")
    assert not (tmp_path / "o").exists()

    raw = copy_fixture(tmp_path / "b", "bionlp_ner")
    path = raw / "BC5CDR-chem-IOB" / "train.tsv"
    path.write_text(path.read_text().replace("fixtamine\tB-Chemical", "fixtamine B-Chemical"))
    with pytest.raises(SourceError, match=r"file train\.tsv, line 4, field 'word<TAB>tag'"):
        run_converter("bc5cdr", raw, tmp_path / "o")
    path.write_text(path.read_text().replace("fixtamine B-Chemical", "fixtamine\tX-Chemical"))
    with pytest.raises(SourceError, match=r"file train\.tsv, line 4, field 'tag': 'X-Chemical' is not an IOB / IOBES tag"):
        run_converter("bc5cdr", raw, tmp_path / "o")
    assert not (tmp_path / "o").exists()
