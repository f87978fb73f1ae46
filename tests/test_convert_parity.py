"""Parity of the converters' DEFAULT output with the official MedS-Ins preparation, on the REAL
raw files staged in ../shared/data (skipped when absent, failing under MEDSINS_REQUIRE_SHARED=1).

Each test re-states, in a few lines of its own, what the official script does (or, where no
script is published, the documented layout of the official files / the converter's documented
rules) and compares EVERY instance the converter writes with that re-statement:

* MeQSum (task114): ``data_preparing/meqsum_text_summarization.py`` - pandas rows, CHQ -> Summary;
* the IOB corpora (BC5CDR chem/disease, NCBI-disease, BC2GM, LINNAEUS): the joining and mention
  rules of ``data_preparing/species800_named_entity_recognition.py``;
* HEAD-QA (task129): the layout of ``MCQA/task129_headqa_question_answering.jsonl``;
* Disease Ontology doid.obo (task45-47): the converter's documented rules (no official script);
* DDXPlus (task130): the real dictionaries, with and without a (hand-made) patients file.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import shutil
from pathlib import Path

import pytest

from conftest import shared_file
from medsins_datasets.sources.converters import run_converter
from medsins_datasets.errors import SourceError

from rawconv_helpers import instances, manifest, written_splits

NO_ENTITY = "There is no related enetity."  # the published files' / scorer's spelling (the script: "entity")


def _by_id(out: Path, task: str) -> dict[str, tuple[str, str, list[str]]]:
    """{instance id: (split, input, output)} over every split written for ``task``."""
    got = {}
    for split in written_splits(out):
        if any((out / split).glob(f"{task}_*.json")):
            for inst in instances(out, split, task):
                got[inst.id] = (split, inst.input, inst.output)
    return got


def _heldout(key: str, fraction: float) -> bool:
    """The documented hash split (sha256 of ``medsins-heldout-v1:<key>``, lowest ``fraction``)."""
    h = hashlib.sha256(f"medsins-heldout-v1:{key}".encode()).digest()
    return int.from_bytes(h[:8], "big") < fraction * 2**64


# ---------------------------------------------------------------------------------------------
# MeQSum
# ---------------------------------------------------------------------------------------------

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
    got = _by_id(out, "task114")
    assert set(got) == set(official)  # every row once, train or test
    for fid, (split, inp, outp) in got.items():
        assert (inp, outp) == (official[fid][0], [official[fid][1]]), fid
        # documented split: 10 % of rows by hash, never both
        assert split == ("test" if _heldout(f"meqsum:{fid}", 0.10) else "train"), fid
    n_test = sum(s == "test" for s, _, _ in got.values())
    assert manifest(out)["tasks"]["meqsum_summarization"] == {"train": 1000 - n_test, "test": n_test}
    assert 70 < n_test < 130

    # --clean tidies whitespace (own re-statement); it changes about half of the questions
    clean = tmp_path / "clean"
    run_converter("meqsum", path.parent, clean, clean=True)

    def tidy(text: str) -> str:
        lines = [" ".join(line.split()) for line in text.strip().split("\n")]
        return "\n".join(line for line in lines if line)

    cgot = _by_id(clean, "task114")
    assert {k: (v[1], v[2]) for k, v in cgot.items()} == {k: (tidy(q), [tidy(a)]) for k, (q, a) in official.items()}
    changed = sum(cgot[k][1] != got[k][1] for k in got)
    assert 400 < changed < 600, changed  # 495 of the 1,000 questions on the real sheet
    assert manifest(clean)["clean"] is True and manifest(clean)["clean_applied"] is True


# ---------------------------------------------------------------------------------------------
# IOB corpora: the official Species-800 preparation's rules
# ---------------------------------------------------------------------------------------------

def official_ner(path: Path) -> list[tuple[str, list[str]]]:
    """Re-statement of ``species800_named_entity_recognition.py``: (sentence, entities) per sentence."""
    data: list[tuple[str, list[str]]] = []
    words: list[str] = []
    entities: list[str] = []
    current: list[str] = []

    def sentence(ws: list[str]) -> str:
        text = ws[0] if ws else ""
        for w in ws[1:]:
            text += w if w in {".", ",", ";", ":", "?", "!"} else " " + w
        return text

    for raw in path.read_text(encoding="utf-8").splitlines() + [""]:
        line = raw.strip()
        if line:
            word, tag = line.split()
            words.append(word)
            if tag[0] == "B":
                if current:
                    entities.append(" ".join(current))
                current = [word]
            elif tag[0] == "I" and current:
                current.append(word)
            elif tag[0] == "O" and current:
                entities.append(" ".join(current))
                current = []
        else:
            if current:
                entities.append(" ".join(current))
            if words:
                data.append((sentence(words), entities))
            words, entities, current = [], [], []
    return data


def official_instances(folder: Path, files: tuple[str, ...]) -> dict[str, tuple[str, list[str]]]:
    """{<file stem>-<k>: (input, entities)} for the files that build one split."""
    return {f"{Path(name).stem}-{k}": inst for name in files if (folder / name).is_file()
            for k, inst in enumerate(official_ner(folder / name))}


SPLIT_FILES = {"train": ("train.tsv", "devel.tsv"), "test": ("test.tsv",)}


def _check_list_task(out: Path, task: str, folder: Path, splits: tuple[str, ...]) -> int:
    """Every instance = the official sentence and ``", ".join(entities) + "."`` (duplicates kept)."""
    n = 0
    for split in splits:
        expected = official_instances(folder, SPLIT_FILES[split])
        got = [(i.id, i.input, i.output) for i in instances(out, split, task)]
        assert [g[0] for g in got] == list(expected), (task, split)  # same sentences, same order
        for iid, inp, outp in got:
            text, ents = expected[iid]
            assert inp == text, (task, iid)
            assert outp == [", ".join(ents) + "." if ents else NO_ENTITY], (task, iid)
        n += len(got)
    return n


def _check_superni_task(out: Path, task: str, folder: Path) -> int:
    """SuperNI style: only sentences with a mention; their distinct mentions (exact) as answers."""
    n = 0
    for split in ("train", "test"):
        expected = {k: v for k, v in official_instances(folder, SPLIT_FILES[split]).items() if v[1]}
        got = [(i.id, i.input, i.output) for i in instances(out, split, task)]
        assert [g[0] for g in got] == list(expected), (task, split)
        for iid, inp, outp in got:
            text, ents = expected[iid]
            assert (inp, outp) == (text, list(dict.fromkeys(ents))), (task, iid)
        n += len(got)
    return n


def test_bc5cdr_matches_the_official_ner_rules(tmp_path):
    raw = shared_file("data/bionlp_ner/BC5CDR-chem-IOB/test.tsv").parent.parent
    out = tmp_path / "bc5"
    run_converter("bc5cdr", raw, out)
    n126 = _check_list_task(out, "task126", raw / "BC5CDR-chem-IOB", ("train", "test"))
    n127 = _check_list_task(out, "task127", raw / "BC5CDR-disease-IOB", ("test",))
    n28 = _check_superni_task(out, "task28", raw / "BC5CDR-disease-IOB")
    assert (n126, n127) == (13938, 4797) and 0 < n28 < 13938
    # duplicate mentions are kept, as the script keeps them
    assert any(len(set(i.output[0][:-1].split(", "))) < len(i.output[0][:-1].split(", "))
               for i in instances(out, "test", "task126") if i.output[0] != NO_ENTITY)


@pytest.mark.parametrize("name, folder, task, n_sentences", [
    ("ncbi_disease", "NCBI-disease-IOB", "task27", 7287),
    ("bc2gm", "BC2GM-IOB", "task31", 20131),
    ("linnaeus", "linnaeus-IOB", "task33", 23155),
])
def test_other_iob_corpora_match_the_official_rules(tmp_path, name, folder, task, n_sentences):
    raw = shared_file(f"data/bionlp_ner/{folder}/test.tsv").parent.parent
    out = tmp_path / name
    run_converter(name, raw, out)
    n = _check_superni_task(out, task, raw / folder)
    total = sum(len(official_instances(raw / folder, files)) for files in SPLIT_FILES.values())
    assert total == n_sentences and 0 < n < total


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


# ---------------------------------------------------------------------------------------------
# HEAD-QA: the layout of the official MedS-Bench file
# ---------------------------------------------------------------------------------------------

def test_headqa_matches_the_official_file_layout(tmp_path):
    raw = shared_file("data/headqa/test_HEAD.json").parent
    out = tmp_path / "hq"
    counts = run_converter("headqa", raw, out)
    assert counts == {"headqa_es": {"train": 2657, "validation": 1366, "test": 2742}}
    for split, name in (("train", "train_HEAD.json"), ("validation", "dev_HEAD.json"), ("test", "test_HEAD.json")):
        data = json.loads((raw / name).read_text(encoding="utf-8"))
        expected = []
        for exam_key, exam in data["exams"].items():
            for q in exam["data"]:
                answers = sorted(q["answers"], key=lambda a: int(a["aid"]))
                letters = "ABCDE"[:len(answers)]
                gold = [int(a["aid"]) for a in answers].index(int(q["ra"]))
                expected.append((
                    f"{exam_key}-{q['qid']}",
                    f"Pregunta: {q['qtext']}\nOpciones: " + "\t".join(f"{x}: {a['atext']}" for x, a in zip(letters, answers)),
                    [f"La respuesta correcta es: {letters[gold]}: {answers[gold]['atext']}"],
                ))
        assert [(i.id, i.input, i.output) for i in instances(out, split, "task129")] == expected, split
    # the instance quoted from MCQA/task129_headqa_question_answering.jsonl
    first = instances(out, "test", "task129")[0]
    assert first.input == ("Pregunta: Forma fibras extracelulares con gran resistencia a la tensión:\n"
                           "Opciones: A: Fibronectina.\tB: Colágeno.\tC: Integrinas.\tD: Proteoglucanos.")
    assert first.output == ["La respuesta correcta es: B: Colágeno."]


# ---------------------------------------------------------------------------------------------
# Disease Ontology (doid.obo release 2024-01-31 and its HumanDO.tsv)
# ---------------------------------------------------------------------------------------------

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
    exp46 = {t["id"]: ("test" if _heldout(t["id"], 0.05) else "train", t["name"], [t["def"]]) for t in terms if t.get("def")}
    assert _by_id(out, "task46") == exp46
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
    assert _by_id(out, "task45") == exp45
    # task47 from the same release's HumanDO.tsv: each (term, parent) link once as parent or child,
    # plus one unrelated pair per three links
    with open(raw / "HumanDO.tsv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    links = {(r["label"].strip(), r["subClassOf"].strip()) for r in rows
             if r["subClassOf"].strip() and r["subClassOf"].strip() != r["label"].strip()}
    labels: dict[str, int] = {}
    for _, inp, outp in _by_id(out, "task47").values():
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


# ---------------------------------------------------------------------------------------------
# DDXPlus: real dictionaries, no patients staged
# ---------------------------------------------------------------------------------------------

def test_ddxplus_real_dictionaries_without_patients_is_a_clear_error(tmp_path):
    raw = shared_file("data/ddxplus/release_evidences.json").parent
    with pytest.raises(SourceError) as e:
        run_converter("ddxplus", raw, tmp_path / "o")
    msg = str(e.value)
    assert "DDXPlus: missing raw file(s)" in msg and "release_*_patients*" in msg
    assert "release_{train,validate,test}_patients.zip" in msg and "mila-iqia/ddxplus" in msg
    assert not (tmp_path / "o").exists() and "Traceback" not in msg


def test_ddxplus_real_dictionaries_with_a_hand_made_patients_file(tmp_path):
    real = shared_file("data/ddxplus/release_evidences.json").parent
    raw = tmp_path / "raw"
    raw.mkdir()
    for name in ("release_evidences.json", "release_conditions.json"):
        shutil.copy(real / name, raw / name)
    evidences = json.loads((real / "release_evidences.json").read_text(encoding="utf-8"))
    conditions = json.loads((real / "release_conditions.json").read_text(encoding="utf-8"))
    assert len(evidences) == 223 and len(conditions) == 49
    # hand-made patients (not real records) using real codes: a binary evidence (E_91 fever), a
    # multi-choice one with two values (E_55 pain location) and a numeric one (E_59 pain onset)
    header = "AGE,DIFFERENTIAL_DIAGNOSIS,SEX,PATHOLOGY,EVIDENCES,INITIAL_EVIDENCE\n"
    train = header + ("34,\"[['Spontaneous pneumothorax', 0.6]]\",M,Spontaneous pneumothorax,"
                      "\"['E_91', 'E_55_@_V_14', 'E_55_@_V_15', 'E_59_@_4']\",E_55\n")
    test = header + "61,[],F,Cluster headache,\"['E_91']\",E_91\n"
    (raw / "release_train_patients.csv").write_text(train, encoding="utf-8")
    (raw / "release_test_patients.csv").write_text(test, encoding="utf-8")
    out = tmp_path / "o"
    assert run_converter("ddxplus", raw, out) == {"ddxplus_diagnosis": {"train": 1, "test": 1}}
    (inst,) = instances(out, "train", "task130")
    q = {k: " ".join(evidences[k]["question_en"].split()) for k in ("E_91", "E_55", "E_59")}
    vm = evidences["E_55"]["value_meaning"]
    assert inst.input == "\n".join([
        "Doctor: How old are you, and what is your sex?", "Patient: I am 34 years old, male.",
        f"Doctor: {q['E_55']}", f"Patient: {vm['V_14']['en']}, {vm['V_15']['en']}.",  # the initial evidence first
        f"Doctor: {q['E_91']}", "Patient: Yes.",
        f"Doctor: {q['E_59']}", "Patient: 4."])
    assert inst.output == ["The diagnosis result is spontaneous pneumothorax."]  # the official label prefix
    assert instances(out, "test", "task130")[0].output == ["The diagnosis result is cluster headache."]
    definition = json.loads((out / "test/task130_ddxplus_diagnosis.json").read_text(encoding="utf-8"))["Definition"]
    assert all(c["cond-name-eng"].lower() in definition for c in conditions.values())
