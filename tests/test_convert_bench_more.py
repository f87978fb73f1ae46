"""Converters for more MedS-Bench sources: BC4CHEMD (task125), Species-800 (task128), MMedBench
rationales (task51-56), IgakuQA (task59), HEAD-QA (task129), MedMCQA training (task63/64) and the
Disease Ontology OBO tasks (task45/46). Exact outputs, split separation and error messages on
SELF-MADE fixtures (tests/fixtures/<source>/, see their README.md); no real data of these sources
is staged in ../shared, except HumanDO.tsv (task47 only, covered by test_convert_public_bench.py)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import shared_file
from medsins_datasets import scoring as S
from medsins_datasets.sources.converters import converter_for_task, get_converter, run_converter
from medsins_datasets.errors import SourceError

from rawconv_helpers import FIXTURES, header_fields, instances, manifest, written_splits

NO_ENTITY = "There is no related enetity."


def _io(out, split, tid):
    return [(i.id, i.input, i.output) for i in instances(out, split, tid)]


def _copy(tmp_path: Path, name: str) -> Path:
    dst = tmp_path / f"raw-{name}"
    shutil.copytree(FIXTURES / name, dst)
    return dst


def _raises_nothing_written(tmp_path: Path, name: str, raw: Path, match: str) -> None:
    out = tmp_path / "o"
    with pytest.raises(SourceError, match=match):
        run_converter(name, raw, out)
    assert not out.exists() and not list(tmp_path.glob(".o.tmp-*"))


def _iob_sentences(path: Path) -> list[list[str]]:
    blocks = [b for b in path.read_text(encoding="utf-8").split("\n\n") if b.strip()]
    return [[line.split("\t")[0] for line in b.strip().splitlines()] for b in blocks]


# ---------------------------------------------------------------------------------------------
# BC4CHEMD (task125)
# ---------------------------------------------------------------------------------------------

def test_bc4chemd_fixture_exact_answers(tmp_path):
    out = tmp_path / "o"
    counts = run_converter("bc4chemd", FIXTURES / "bc4chemd", out)
    assert counts == {"bc4chemd_chemical_ner": {"train": 3, "test": 2}}
    assert _io(out, "train", "task125") == [
        ("train-0", "FIXTURE fixturol and sodium fixturate mix.", ["fixturol, sodium fixturate."]),
        ("train-1", "FIXTURE no chemicals.", [NO_ENTITY]),
        # devel -> train; official joining (brackets spaced) and duplicate mentions kept
        ("devel-0", "FIXTURE Fixturol ( fixturol ) again.", ["Fixturol, fixturol."]),
    ]
    assert _io(out, "test", "task125") == [
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
        assert _io(out, split, "task125") == _io(reference, split, "task125")


def test_bc4chemd_errors(tmp_path):
    raw = _copy(tmp_path, "bc4chemd")
    (raw / "BC4CHEMD-IOB/test.tsv").unlink()
    _raises_nothing_written(tmp_path, "bc4chemd", raw, r"(?s)BC4CHEMD\*/test\.tsv.*BC4CHEMD-IOBES.*chemdner")
    raw = _copy(tmp_path / "b", "bc4chemd")
    p = raw / "BC4CHEMD-IOB/train.tsv"
    p.write_text(p.read_text().replace("sodium\tB-Chemical", "sodium\tX-Chemical"))
    _raises_nothing_written(tmp_path, "bc4chemd", raw,
                            r"file train\.tsv, line 4, field 'tag': 'X-Chemical' is not an IOB / IOBES tag")
    # a folder with only test.tsv, next to one with only train.tsv, is not a corpus
    raw = tmp_path / "c"
    (raw / "BC4CHEMD").mkdir(parents=True)
    (raw / "BC4CHEMD-IOBES").mkdir()
    shutil.copy(FIXTURES / "bc4chemd/BC4CHEMD-IOB/train.tsv", raw / "BC4CHEMD/train.tsv")
    shutil.copy(FIXTURES / "bc4chemd/BC4CHEMD-IOB/test.tsv", raw / "BC4CHEMD-IOBES/test.tsv")
    _raises_nothing_written(tmp_path, "bc4chemd", raw, r"no folder with train\.tsv and test\.tsv among BC4CHEMD-IOB/")


# ---------------------------------------------------------------------------------------------
# Species-800 (task128): training never reads test.tsv
# ---------------------------------------------------------------------------------------------

def test_species800_fixture_exact_answers_untyped_tags(tmp_path):
    out = tmp_path / "o"
    run_converter("species800", FIXTURES / "species800", out)
    assert written_splits(out) == {"train": {"task128"}, "test": {"task128"}}
    assert _io(out, "train", "task128") == [
        ("train-0", "FIXTURE Fixturus trainensis and mice seen.", ["Fixturus trainensis, mice."]),
        ("train-1", "FIXTURE plain text.", [NO_ENTITY]),
        ("devel-0", "FIXTURE human patients.", ["human."]),
    ]
    assert _io(out, "test", "task128") == [
        ("test-0", "FIXTURE Testus secretus infects rats.", ["Testus secretus, rats."]),
        ("test-1", "FIXTURE hidden test sentence.", [NO_ENTITY]),
    ]


def test_species800_no_test_sentence_in_train(tmp_path):
    """The official preparation built task128 from test.tsv; here training must never see it."""
    raw = FIXTURES / "species800"
    out = tmp_path / "o"
    run_converter("species800", raw, out)
    train = instances(out, "train", "task128")
    test_tokens = _iob_sentences(raw / "s800/test.tsv")
    train_tokens = _iob_sentences(raw / "s800/train.tsv") + _iob_sentences(raw / "s800/devel.tsv")
    assert len(train) == len(train_tokens) and len(instances(out, "test", "task128")) == len(test_tokens)
    assert {i.id.split("-")[0] for i in train} == {"train", "devel"}
    train_text = "\n".join(i.input + "\n" + "\n".join(i.output) for i in train)
    for sent in test_tokens:
        assert " ".join(sent[1:3]) not in train_text  # e.g. "Testus secretus", "hidden test"
    # the same holds when the test file is large and differs: changing test.tsv leaves train byte-identical
    raw2 = _copy(tmp_path, "species800")
    (raw2 / "s800/test.tsv").write_text("FIXTURE\tO\nOthermus\tB\n.\tO\n")
    out2 = tmp_path / "o2"
    run_converter("species800", raw2, out2)
    a = (out / "train/task128_species800_organism_ner.json").read_bytes()
    assert (out2 / "train/task128_species800_organism_ner.json").read_bytes() == a


def test_species800_missing_test_file_is_named(tmp_path):
    raw = _copy(tmp_path, "species800")
    (raw / "s800/test.tsv").unlink()
    _raises_nothing_written(tmp_path, "species800", raw, r"(?s)s800/test\.tsv.*species\.jensenlab\.org")


# ---------------------------------------------------------------------------------------------
# MMedBench rationales (task51-56)
# ---------------------------------------------------------------------------------------------

MMED = {"task51": "Chinese", "task52": "English", "task53": "French", "task54": "Japanese", "task55": "Russian",
        "task56": "Spanish"}


def test_mmedbench_fixture_exact_and_split(tmp_path):
    out = tmp_path / "o"
    counts = run_converter("mmedbench", FIXTURES / "mmedbench", out)
    assert counts["mmedbench_rationale_ja"] == {"train": 2, "test": 1} and len(counts) == 6
    assert written_splits(out) == {"train": set(MMED), "test": set(MMED)}
    # the layout of the official Rationale files: localized MCQA input, then the answer sentence
    labels = {"task51": ("问题", "选项", "正确答案是 ", "。"), "task52": ("Question", "Options", "The right answer is ", "."),
              "task53": ("Question", "Options", "La bonne réponse est ", "."),
              "task54": ("質問", "オプション", "正しい答えは ", " です。"),
              "task55": ("Вопрос", "Варианты", "Правильный ответ: ", "."),
              "task56": ("Pregunta", "Opciones", "La respuesta correcta es ", ".")}
    for task, lang in MMED.items():
        q, o, pre, post = labels[task]
        assert _io(out, "test", task) == [(
            "test-1",
            f"{q}: FIXTURE {lang} Test question 1?\n{o}: A: alpha\tB: beta\tC: gamma\tD: delta\n{pre}B: beta{post}",
            [f"FIXTURE {lang} Test rationale 1."])]
        train = _io(out, "train", task)
        assert train[1] == (
            "train-2",
            f"{q}: FIXTURE {lang} Train question 2?\n{o}: A: one\tB: two\tC: three\tD: four\tE: five\n"
            f"{pre}A: one, C: three{post}",
            [f"FIXTURE {lang} Train rationale 2."])
        assert not any("Test" in i for _, i, _ in train)  # training reads Train/ only
    assert header_fields(out, "test", "task54")["Input_language"] == ["Japanese"]


@pytest.mark.parametrize("edit, expect", [
    (lambda r: r.update(answer_idx="F"), r"file English\.jsonl, line 1, field 'answer_idx': answer F is not among the 4 options"),
    (lambda r: r.update(rationale=""), r"file English\.jsonl, line 1, field 'rationale': empty"),
    (lambda r: r.update(options={"A": "x", "C": "y"}), r"line 1, field 'options': option keys A, C are not A, B"),
])
def test_mmedbench_malformed_record_is_named(tmp_path, edit, expect):
    raw = _copy(tmp_path, "mmedbench")
    p = raw / "Test/English.jsonl"
    rec = json.loads(p.read_text(encoding="utf-8").splitlines()[0])
    edit(rec)
    p.write_text(json.dumps(rec) + "\n", encoding="utf-8")
    _raises_nothing_written(tmp_path, "mmedbench", raw, expect)


def test_mmedbench_missing_file_is_named(tmp_path):
    raw = _copy(tmp_path, "mmedbench")
    (raw / "Test/Russian.jsonl").unlink()
    _raises_nothing_written(tmp_path, "mmedbench", raw, r"(?s)Test/Russian\.jsonl.*Henrychur/MMedBench")


# ---------------------------------------------------------------------------------------------
# IgakuQA (task59)
# ---------------------------------------------------------------------------------------------

def test_igakuqa_fixture_split_by_year_and_skips(tmp_path):
    out = tmp_path / "o"
    counts = run_converter("igakuqa", FIXTURES / "igakuqa", out)
    assert counts == {"igakuqa_ja": {"train": 2, "test": 1}}  # image question and numeric question skipped
    # the official generator's layout (data_preparing/igakuqa_mcqa.py)
    assert _io(out, "test", "task59") == [
        ("116A1", "質問: FIXTURE 2022 問題1はどれか。\nオプション: A: 選択肢a\tB: 選択肢b\tC: 選択肢c\tD: 選択肢d\tE: 選択肢e",
         ["正しい答えは E: 選択肢e です"])]
    train = _io(out, "train", "task59")
    assert [(i, o) for i, _, o in train] == [("115A1", ["正しい答えは B: 選択肢b です"]),
                                              ("115A3", ["正しい答えは A: 選択肢a, D: 選択肢d です"])]
    assert all(i.startswith("115") for i, _, _ in train)  # no 2022 (test) question in training
    # documented scorer defects: the official first-letter rule knows only A-D, and strips only the
    # English "the right answer is", so a Japanese gold answer reads as no letter at all
    assert S.mcqa_correct("B", "B. 選択肢b") and not S.mcqa_correct("E", "E. 選択肢e")
    assert not S.mcqa_correct("B", "正しい答えは B: 選択肢b です")


def test_igakuqa_errors(tmp_path):
    raw = _copy(tmp_path, "igakuqa")
    shutil.rmtree(raw / "2022")
    _raises_nothing_written(tmp_path, "igakuqa", raw, r"no test exam files .*test year 2022")
    raw = _copy(tmp_path / "b", "igakuqa")
    p = raw / "2021/115-A.jsonl"
    rows = [json.loads(x) for x in p.read_text(encoding="utf-8").splitlines()]
    rows[2]["answer"] = ["a", "f"]
    p.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    _raises_nothing_written(tmp_path, "igakuqa", raw, r"file 115-A\.jsonl, line 3, field 'answer': answer F is not among the 5 options")
    empty = tmp_path / "empty"
    empty.mkdir()
    _raises_nothing_written(tmp_path, "igakuqa", empty, r"(?s)missing raw file.*github\.com/jungokasai/IgakuQA")


# ---------------------------------------------------------------------------------------------
# HEAD-QA (task129)
# ---------------------------------------------------------------------------------------------

def test_headqa_fixture_exact(tmp_path):
    out = tmp_path / "o"
    counts = run_converter("headqa", FIXTURES / "headqa", out)
    assert counts == {"headqa_es": {"train": 2, "validation": 1, "test": 1}}
    opts4 = "\nOpciones: A: FIXTURE opción 1\tB: FIXTURE opción 2\tC: FIXTURE opción 3\tD: FIXTURE opción 4"
    assert _io(out, "test", "task129") == [("cuaderno_2013_1_M-7", "Pregunta: FIXTURE pregunta de prueba" + opts4,
                                            ["La respuesta correcta es: B: FIXTURE opción 2"])]
    train = _io(out, "train", "task129")
    # options are put in aid order (the fixture lists them backwards); five-option questions keep E
    assert train[0] == ("cuaderno_2013_1_M-1", "Pregunta: FIXTURE pregunta de entrenamiento 1" + opts4,
                        ["La respuesta correcta es: C: FIXTURE opción 3"])
    assert train[1][2] == ["La respuesta correcta es: E: FIXTURE opción 5"]
    assert train[1][1].endswith("\tE: FIXTURE opción 5")
    assert "prueba" not in json.dumps(train, ensure_ascii=False)
    assert converter_for_task("task22").name == "superni"  # task22-25 (HeadQA via SuperNI) stay with superni


def test_headqa_errors(tmp_path):
    raw = _copy(tmp_path, "headqa")
    data = json.loads((raw / "test_HEAD.json").read_text(encoding="utf-8"))
    data["exams"]["cuaderno_2013_1_M"]["data"][0]["ra"] = "9"
    (raw / "test_HEAD.json").write_text(json.dumps(data), encoding="utf-8")
    _raises_nothing_written(tmp_path, "headqa", raw,
                            r"file test_HEAD\.json, field 'ra', exam 'cuaderno_2013_1_M', question 0: right answer 9 is not among")
    (raw / "test_HEAD.json").unlink()
    _raises_nothing_written(tmp_path, "headqa", raw, r"(?s)test_HEAD\.json.*github\.com/aghie/head-qa")


# ---------------------------------------------------------------------------------------------
# MedMCQA training tasks (task63/64) next to task122
# ---------------------------------------------------------------------------------------------

def test_medmcqa_train_tasks_exact_and_task122_kept(tmp_path, caplog):
    out = tmp_path / "o"
    counts = run_converter("medmcqa", FIXTURES / "medmcqa", out)
    assert counts == {"medmcqa_test": {"test": 1}, "medmcqa_mcqa": {"train": 3}, "medmcqa_cot_explanation": {"train": 1}}
    assert written_splits(out) == {"test": {"task122"}, "train": {"task63", "task64"}}
    q1 = "FIXTURE train question 1?\nA. a1\nB. b1\nC. c1\nD. d1"
    # cop is 1-based in the original release: 3 -> C, 1 -> A, 4 -> D
    assert [(i, o) for i, _, o in _io(out, "train", "task64")] == [("fx-0001", ["C. c1"]), ("fx-0002", ["A. a2"]), ("fx-0003", ["D. d3"])]
    assert _io(out, "train", "task63") == [("fx-0001", q1, ["FIXTURE explanation 1.\nAnswer: C. c1"])]  # null/blank exp left out
    assert _io(out, "test", "task122") == [("1", "Question: FIXTURE dev question?\nOptions:\nA. w\nB. x\nC. y\nD. z",
                                             ["The right answer is D: z"])]
    train_inputs = {i.input for t in ("task63", "task64") for i in instances(out, "train", t)}
    assert not {i.input for i in instances(out, "test", "task122")} & train_inputs
    assert not any("dev question" in i for i in train_inputs)
    assert get_converter("medmcqa").task_ids == ("task122", "task64", "task63")


def test_medmcqa_only_one_file_each_way(tmp_path):
    raw = _copy(tmp_path, "medmcqa")
    (raw / "medmcqa.jsonl").unlink()
    out = tmp_path / "o"
    run_converter("medmcqa", raw, out)
    assert written_splits(out) == {"train": {"task63", "task64"}}
    (raw / "train.json").unlink()
    _raises_nothing_written(tmp_path / "x", "medmcqa", raw, r"neither medmcqa\.jsonl .* nor train\.json")


@pytest.mark.parametrize("cop, expect", [
    (0, r"line 2, field 'cop': 0 is not a 1-based option number - this looks like the 0-based Hugging Face copy"),
    (5, r"line 2, field 'cop': 5 is not an option number 1-4"),
    ("b", r"line 2, field 'cop': expected the correct option number 1-4"),
])
def test_medmcqa_bad_cop_is_named(tmp_path, cop, expect):
    raw = _copy(tmp_path, "medmcqa")
    p = raw / "train.json"
    rows = [json.loads(x) for x in p.read_text().splitlines()]
    rows[1]["cop"] = cop
    p.write_text("".join(json.dumps(r) + "\n" for r in rows))
    _raises_nothing_written(tmp_path, "medmcqa", raw, expect)


# ---------------------------------------------------------------------------------------------
# Disease Ontology: doid.obo -> task45/task46; HumanDO.tsv -> task47
# ---------------------------------------------------------------------------------------------

def test_disease_ontology_obo_fixture_exact(tmp_path):
    out = tmp_path / "o"
    counts = run_converter("disease_ontology", FIXTURES / "disease_ontology", out)
    assert counts == {"do_relation_classification": {"train": 4}, "do_synonym_generation": {"train": 3},
                      "do_entity_explanation": {"train": 2, "test": 1}}
    # exact synonyms only, the name itself and case variants dropped, obsolete terms skipped
    assert _io(out, "train", "task45") == [
        ("DOID:90001", "fixture disease", ["fixturopathy"]),
        ("DOID:90002", "fixture fever", ["fixturitis, fixture pyrexia"]),
        ("DOID:90024", "held-out fixture syndrome", ["hofs"]),
    ]
    assert _io(out, "train", "task46") == [
        ("DOID:90001", "fixture disease", ["A FIXTURE disease that is the root of the invented tree."]),
        ("DOID:90002", "fixture fever", ['A FIXTURE disease with a "quoted" fever, located in the fixture organ.']),
    ]
    # DOID:90024 is in the heldout() pool: its definition is test-only and never in training
    test = _io(out, "test", "task46")
    assert test == [("DOID:90024", "held-out fixture syndrome",
                     ["A FIXTURE syndrome whose definition must only appear in the test split."])]
    train_text = json.dumps([_io(out, "train", t) for t in ("task45", "task46", "task47")])
    assert test[0][2][0] not in train_text
    assert "obsolete" not in train_text
    assert manifest(out)["tasks"]["do_relation_classification"] == {"train": 4}


def test_disease_ontology_tsv_only_still_task47(tmp_path):
    raw = _copy(tmp_path, "disease_ontology")
    (raw / "doid.obo").unlink()
    out = tmp_path / "o"
    run_converter("disease_ontology", raw, out)
    assert written_splits(out) == {"train": {"task47"}}
    assert [o for _, _, o in _io(out, "train", "task47")] == [["parent"], ["parent"], ["child"], ["unrelated"]]


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
    raw = _copy(tmp_path, "disease_ontology")
    p = raw / "doid.obo"
    p.write_text(edit(p.read_text(encoding="utf-8")), encoding="utf-8")
    _raises_nothing_written(tmp_path, "disease_ontology", raw, expect)


def test_disease_ontology_no_file(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    _raises_nothing_written(tmp_path, "disease_ontology", empty, r"(?s)neither HumanDO\.tsv .* nor doid\.obo .*HumanDiseaseOntology")


# ---------------------------------------------------------------------------------------------
# registry
# ---------------------------------------------------------------------------------------------

def test_registry_knows_these_converters():
    expected = {"task125": "bc4chemd", "task128": "species800", "task59": "igakuqa", "task129": "headqa",
                "task63": "medmcqa", "task64": "medmcqa", "task122": "medmcqa", "task45": "disease_ontology",
                "task46": "disease_ontology", "task47": "disease_ontology", **{t: "mmedbench" for t in MMED}}
    for tid, name in expected.items():
        assert converter_for_task(tid).name == name, tid
    for name in set(expected.values()):
        conv = get_converter(name)
        assert {t.source for t in conv.tasks} == {conv.source}
