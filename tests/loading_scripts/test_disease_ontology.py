"""The ``disease_ontology`` converter (Human Disease Ontology: doid.obo -> task45/task46, HumanDO.tsv ->
task47): the real release staged in ../shared/data/disease_ontology_obo against the converter's
documented rules (no official script), the later HumanDO.tsv in ../shared/data/disease_ontology,
and the SELF-MADE fixture (tests/fixtures/disease_ontology)."""

from __future__ import annotations

import csv
import json
import re
import shutil
from pathlib import Path

import pytest

from common import shared_file
from medsins_datasets.errors import SourceError
from medsins_datasets.sources.converters import get_converter, run_converter

from converter_helpers import (FIXTURES, by_id, copy_fixture, hash_heldout, instances, manifest, pairs,
                     raises_nothing_written, written_splits)


_QUOTED = re.compile(r'^"((?:[^"\\]|\\.)*)"(.*)$')

def _unquote(value: str) -> tuple[str, str]:
    m = _QUOTED.match(value)
    assert m, value
    return re.sub(r"\\(.)", lambda x: {"n": "\n", "t": "\t"}.get(x.group(1), x.group(1)), m.group(1)).strip(), m.group(2)

def obo_terms(path: Path) -> list[dict]:
    """Own reading of the OBO file: the non-obsolete [Term] stanzas with name, def and EXACT synonyms."""
    terms, cur = [], None
    for line in path.read_text(encoding="utf-8").splitlines() + ["[End]"]:
        line = line.strip()
        if line.startswith("["):
            if cur is not None and not cur.get("obsolete"):
                terms.append(cur)
            cur = {"exact": []} if line == "[Term]" else None
        elif cur is not None and ": " in line:
            tag, value = line.split(": ", 1)
            if tag in ("id", "name"):
                cur[tag] = value.strip()
            elif tag == "def":
                cur["def"] = _unquote(value)[0]
            elif tag == "synonym":
                text, rest = _unquote(value)
                if rest.split()[0] == "EXACT" and text:
                    cur["exact"].append(text)
            elif tag == "is_obsolete":
                cur["obsolete"] = value.strip() == "true"
    return terms

def test_disease_ontology_obo_release_counts_and_instances(tmp_path):
    raw = shared_file("data/disease_ontology_obo/doid.obo").parent
    out = tmp_path / "do"
    counts = run_converter("disease_ontology", raw, out)
    # the counts data/README.md gives for this release
    assert counts == {"do_relation_classification": {"train": 15374}, "do_synonym_generation": {"train": 7934},
                      "do_entity_explanation": {"train": 8692, "test": 454}}
    terms = obo_terms(raw / "doid.obo")
    assert len(terms) == 13982 - 2481  # stanzas minus obsolete ones (the folder README)
    # task46: name -> definition; 5 % of terms held out by DOID hash, all of them written
    exp46 = {t["id"]: ("test" if hash_heldout(t["id"], 0.05) else "train", t["name"], [t["def"]]) for t in terms if t.get("def")}
    assert by_id(out, "task46") == exp46
    # task45: name -> EXACT synonyms differing from the name, de-duplicated case-insensitively
    exp45 = {}
    for t in terms:
        seen, syn = {t["name"].lower()}, []
        for s in t["exact"]:
            if s.lower() not in seen:
                seen.add(s.lower())
                syn.append(s)
        if syn:
            exp45[t["id"]] = ("train", t["name"], [", ".join(syn)])
    assert by_id(out, "task45") == exp45
    # task47 from the same release's HumanDO.tsv: each (term, parent) link once as parent or child,
    # plus one unrelated pair per three links
    with open(raw / "HumanDO.tsv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    links = {(r["label"].strip(), r["subClassOf"].strip()) for r in rows
             if r["subClassOf"].strip() and r["subClassOf"].strip() != r["label"].strip()}
    labels: dict[str, int] = {}
    for _, inp, outp in by_id(out, "task47").values():
        w1, w2 = (x.split(": ", 1)[1] for x in inp.split("\n"))
        labels[outp[0]] = labels.get(outp[0], 0) + 1
        if outp[0] == "parent":
            assert (w2, w1) in links
        elif outp[0] == "child":
            assert (w1, w2) in links
        else:
            assert outp[0] == "unrelated" and (w1, w2) not in links and (w2, w1) not in links
    assert labels["parent"] + labels["child"] == len(links) == 11531
    assert labels["unrelated"] == len(links) // 3 == 3843

def test_disease_ontology_real(tmp_path):
    path = shared_file("data/disease_ontology/HumanDO.tsv")
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    links = {(r["label"], r["subClassOf"]) for r in rows if r["subClassOf"] and r["subClassOf"] != r["label"]}
    out = tmp_path / "do"
    run_converter("disease_ontology", path.parent, out)
    assert written_splits(out) == {"train": {"task47"}}  # task45/46 need doid.obo (synonyms, definitions)
    insts = instances(out, "train", "task47")
    by_label: dict[str, int] = {}
    for inst in insts:
        w1, w2 = (x.split(": ", 1)[1] for x in inst.input.split("\n"))
        label = inst.output[0]
        by_label[label] = by_label.get(label, 0) + 1
        if label == "parent":
            assert (w2, w1) in links
        elif label == "child":
            assert (w1, w2) in links
        else:
            assert label == "unrelated" and (w1, w2) not in links and (w2, w1) not in links
    assert by_label["parent"] + by_label["child"] == len(links)
    assert by_label["unrelated"] == len(links) // 3 and "synonym" not in by_label
    assert set(get_converter("disease_ontology").task_ids) == {"task45", "task46", "task47"}

def test_disease_ontology_bad_id_is_named(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "HumanDO.tsv").write_text('id\tlabel\tsubClassOf\n"DOID:1"\t"fixture disease"\t"disease"\n"X:2"\t"other"\t"disease"\n')
    with pytest.raises(SourceError, match=r"file HumanDO\.tsv, line 3, field 'id': not a DOID identifier"):
        run_converter("disease_ontology", raw, tmp_path / "o")

def test_disease_ontology_obo_fixture_exact(tmp_path):
    out = tmp_path / "o"
    counts = run_converter("disease_ontology", FIXTURES / "disease_ontology", out)
    assert counts == {"do_relation_classification": {"train": 4}, "do_synonym_generation": {"train": 3},
                      "do_entity_explanation": {"train": 2, "test": 1}}
    # exact synonyms only, the name itself and case variants dropped, obsolete terms skipped
    assert pairs(out, "train", "task45") == [
        ("DOID:90001", "fixture disease", ["fixturopathy"]),
        ("DOID:90002", "fixture fever", ["fixturitis, fixture pyrexia"]),
        ("DOID:90024", "held-out fixture syndrome", ["hofs"]),
    ]
    assert pairs(out, "train", "task46") == [
        ("DOID:90001", "fixture disease", ["A FIXTURE disease that is the root of the invented tree."]),
        ("DOID:90002", "fixture fever", ['A FIXTURE disease with a "quoted" fever, located in the fixture organ.']),
    ]
    # DOID:90024 is in the heldout() pool: its definition is test-only and never in training
    test = pairs(out, "test", "task46")
    assert test == [("DOID:90024", "held-out fixture syndrome",
                     ["A FIXTURE syndrome whose definition must only appear in the test split."])]
    train_text = json.dumps([pairs(out, "train", t) for t in ("task45", "task46", "task47")])
    assert test[0][2][0] not in train_text
    assert "obsolete" not in train_text
    assert manifest(out)["tasks"]["do_relation_classification"] == {"train": 4}

def test_disease_ontology_tsv_only_still_task47(tmp_path):
    raw = copy_fixture(tmp_path, "disease_ontology")
    (raw / "doid.obo").unlink()
    out = tmp_path / "o"
    run_converter("disease_ontology", raw, out)
    assert written_splits(out) == {"train": {"task47"}}
    assert [o for _, _, o in pairs(out, "train", "task47")] == [["parent"], ["parent"], ["child"], ["unrelated"]]

def test_disease_ontology_real_tsv_with_obo_fixture(tmp_path):
    """The staged real HumanDO.tsv next to an OBO file: task47 unchanged, task45/46 added."""
    tsv = shared_file("data/disease_ontology/HumanDO.tsv")
    raw = tmp_path / "raw"
    raw.mkdir()
    shutil.copy(tsv, raw / "HumanDO.tsv")
    only = tmp_path / "only"
    run_converter("disease_ontology", tsv.parent, only)
    shutil.copy(FIXTURES / "disease_ontology/doid.obo", raw / "doid.obo")
    both = tmp_path / "both"
    run_converter("disease_ontology", raw, both)
    name = "train/task47_do_relation_classification.json"
    assert (both / name).read_bytes() == (only / name).read_bytes()
    assert written_splits(both) == {"train": {"task45", "task46", "task47"}, "test": {"task46"}}

@pytest.mark.parametrize("edit, expect", [
    (lambda s: s.replace('def: "A FIXTURE disease with a', 'def: A FIXTURE disease with a'),
     r"file doid\.obo, line 16, field 'def': expected a quoted text"),
    (lambda s: s.replace('synonym: "hofs" EXACT []', 'synonym: "hofs EXACT []'),
     r"file doid\.obo, line 30, field 'synonym': the quoted text is not closed"),
    (lambda s: s.replace("id: DOID:90003\n", ""), r"file doid\.obo, line 21, field 'id': the \[Term\] stanza starting here has no id"),
])
def test_disease_ontology_malformed_obo_is_named(tmp_path, edit, expect):
    raw = copy_fixture(tmp_path, "disease_ontology")
    p = raw / "doid.obo"
    p.write_text(edit(p.read_text(encoding="utf-8")), encoding="utf-8")
    raises_nothing_written(tmp_path, "disease_ontology", raw, expect)

def test_disease_ontology_no_file(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    raises_nothing_written(tmp_path, "disease_ontology", empty, r"(?s)neither HumanDO\.tsv .* nor doid\.obo .*HumanDiseaseOntology")
