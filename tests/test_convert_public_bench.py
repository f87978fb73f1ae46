"""Converters for the public MedS-Bench sources with real staged data in ../shared/data:
PubMedQA, the IOB NER corpora (BC5CDR, NCBI-disease, BC2GM, LINNAEUS), MedQA / MedMCQA,
FrenchMedMCQA, RuMedBench, HoC, MeQSum, COVID-QA and the Disease Ontology; plus error paths
on SELF-MADE fixtures (tests/fixtures/pubmedqa, tests/fixtures/bionlp_ner) and the README
sources table."""

from __future__ import annotations

import csv
import json
import logging
import shutil
from pathlib import Path

import pytest

from conftest import REPO_ROOT, shared_file
from medsins_datasets import scoring as S
from medsins_datasets.cli import main
from medsins_datasets.sources.converters import converter_for_task, get_converter, run_converter
from medsins_datasets.errors import SourceError
from medsins_datasets.registry.tasks import sources
from medsins_datasets.registry.source_datasets import END_MARKER, START_MARKER, markdown_table, readme_section

from rawconv_helpers import FIXTURES, cli_convert, header_fields, instances, manifest, written_splits


def _io(out, split, tid):
    return [(i.id, i.input, i.output) for i in instances(out, split, tid)]


# ---------------------------------------------------------------------------------------------
# PubMedQA (issue "Done when": exactly the 500 official test ids, no test question in training)
# ---------------------------------------------------------------------------------------------

PUBMEDQA_TRAIN_TASKS = ("task124", "task11", "task12", "task13", "task14", "task15")


def test_pubmedqa_real_test_split_and_clean_training(capsys, tmp_path):
    raw = shared_file("data/pubmedqa/ori_pqal.json").parent
    gold = json.loads((raw / "test_ground_truth.json").read_text(encoding="utf-8"))
    pqal = json.loads((raw / "ori_pqal.json").read_text(encoding="utf-8"))
    defs = shared_file("data/medsins_definitions/RewriteDefinitions.json")
    out = tmp_path / "pubmedqa"
    rc, stdout, err = cli_convert(capsys, "pubmedqa", raw, out, "--definitions", str(defs))
    assert rc == 0, err
    assert "pubmedqa_pqal_test: test=500" in stdout
    assert written_splits(out) == {"test": {"task123"}, "train": set(PUBMEDQA_TRAIN_TASKS)}

    test = instances(out, "test", "task123")
    assert len(test) == 500
    assert {i.id: i.output[0] for i in test} == gold  # exactly the official ids and answers
    assert {a for a in gold.values()} == {"yes", "no", "maybe"}
    assert all(" ".join(pqal[i.id]["QUESTION"].split()) in i.input for i in test)

    test_questions = {" ".join(pqal[p]["QUESTION"].split()) for p in gold}
    test_conclusions = {" ".join(pqal[p]["LONG_ANSWER"].split()) for p in gold}
    for tid in PUBMEDQA_TRAIN_TASKS:
        insts = instances(out, "train", tid)
        assert insts, tid
        for inst in insts:
            assert inst.id.split("-")[0] not in gold, (tid, inst.id)
            text = inst.input + "\n" + "\n".join(inst.output)
            assert not any(q in text for q in test_questions), (tid, inst.id)
            assert not any(c in text for c in test_conclusions), (tid, inst.id)
    train124 = instances(out, "train", "task124")
    assert len(train124) == 500 and {i.id for i in train124} == set(pqal) - set(gold)
    assert all(i.output == [pqal[i.id]["final_decision"]] for i in train124)
    t12 = instances(out, "train", "task12")
    assert sorted({i.output[0] for i in t12}) == ["no", "yes"] and len(t12) == 1000
    # the official definitions file is used when given; task123 has none there and keeps ours
    assert header_fields(out, "train", "task124")["Definition"].startswith("Next I will give you a 'context'")
    assert "yes, no or maybe" in header_fields(out, "test", "task123")["Definition"]
    # gold answers scored against themselves: every yes/no counts, a gold "maybe" scores 0 (official rule)
    n_maybe = sum(a == "maybe" for a in gold.values())
    acc = S.score([i.output[0] for i in test], [i.output[0] for i in test], "task123", bootstrap=0)
    assert acc["tasks"]["pubmedqa_pqal_test"]["accuracy"] == pytest.approx(100 * (500 - n_maybe) / 500)


def test_pubmedqa_fixture_exact_output(capsys, tmp_path):
    out = tmp_path / "o"
    run_converter("pubmedqa", FIXTURES / "pubmedqa", out)
    assert _io(out, "test", "task123") == [
        ("1001", "Context: FIXTURE context 1 part one. FIXTURE context 1 part two.\n"
                 "Question: FIXTURE question 1: does fixturol work?", ["no"]),
        ("1002", "Context: FIXTURE context 2 part one. FIXTURE context 2 part two.\n"
                 "Question: FIXTURE question 2: does fixturol work?", ["maybe"]),
    ]
    assert [(i, o) for i, _, o in _io(out, "train", "task124")] == [("1000", ["yes"]), ("1003", ["yes"])]
    # objective classification from the section labels (1000 has OBJECTIVE, 1003 only METHODS)
    assert [o for _, _, o in _io(out, "train", "task14")] == [["1"], ["0"]]
    t12 = _io(out, "train", "task12")
    assert [(i, o) for i, _, o in t12] == [("1000-yes", ["yes"]), ("1000-no", ["no"]), ("1003-yes", ["yes"]), ("1003-no", ["no"])]
    assert t12[1][1].endswith("Answer: FIXTURE conclusion 3.")  # the other TRAINING question's conclusion
    assert _io(out, "train", "task15")[0][2] == ["FIXTURE conclusion 0."]
    assert manifest(out)["converter"] == "pubmedqa" and manifest(out)["credentialed"] is False
    # `medsins build --source` takes the converted folder unchanged
    assert main(["build", "--source", str(out), "--out", str(tmp_path / "built"), "--no-progress"]) == 0
    assert "pubmedqa_pqal_test (task123): test=2" in capsys.readouterr().out


def _copy_fixture(tmp_path, name) -> Path:
    dst = tmp_path / f"raw-{name}"
    shutil.copytree(FIXTURES / name, dst)
    return dst


def test_pubmedqa_missing_file_names_it_and_the_source(tmp_path):
    raw = _copy_fixture(tmp_path, "pubmedqa")
    (raw / "test_ground_truth.json").unlink()
    with pytest.raises(SourceError, match=r"(?s)test_ground_truth\.json.*github\.com/pubmedqa/pubmedqa"):
        run_converter("pubmedqa", raw, tmp_path / "o")
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("edit, expect", [
    (lambda d, g: d["1000"].update(final_decision="perhaps"), r"ori_pqal\.json, record '1000', field 'final_decision'"),
    (lambda d, g: d["1003"].pop("QUESTION"), r"ori_pqal\.json, record '1003', field 'QUESTION'"),
    (lambda d, g: d["1002"].update(CONTEXTS="not a list"), r"record '1002', field 'CONTEXTS'"),
    (lambda d, g: g.update({"999": "yes"}), r"test_ground_truth\.json, record '999': this test id is not in ori_pqal\.json"),
])
def test_pubmedqa_malformed_records_are_named(tmp_path, edit, expect):
    raw = _copy_fixture(tmp_path, "pubmedqa")
    data = json.loads((raw / "ori_pqal.json").read_text())
    gold = json.loads((raw / "test_ground_truth.json").read_text())
    edit(data, gold)
    (raw / "ori_pqal.json").write_text(json.dumps(data))
    (raw / "test_ground_truth.json").write_text(json.dumps(gold))
    out = tmp_path / "o"
    (out / "test").mkdir(parents=True)
    earlier = out / "test" / "task123_pubmedqa_pqal_test.json"  # an earlier conversion's folder and file
    earlier.write_text("previous output")
    (out / ".medsins_convert.json").write_text(json.dumps({"tasks": {"pubmedqa_pqal_test": {"test": 1}}}))
    with pytest.raises(SourceError, match=expect):
        run_converter("pubmedqa", raw, out)
    assert earlier.read_text() == "previous output"  # nothing half-written or replaced
    assert not list(tmp_path.glob(".o.tmp-*"))


# ---------------------------------------------------------------------------------------------
# IOB NER corpora
# ---------------------------------------------------------------------------------------------

def _raw_sentences(path: Path) -> int:
    return sum(1 for block in path.read_text(encoding="utf-8").split("\n\n") if block.strip())


def test_bc5cdr_real_full_corpus(capsys, tmp_path):
    raw = shared_file("data/bionlp_ner/BC5CDR-chem-IOB/test.tsv").parent.parent
    out = tmp_path / "bc5"
    rc, stdout, err = cli_convert(capsys, "bc5cdr", raw, out)
    assert rc == 0, err
    assert written_splits(out) == {"train": {"task126", "task28"}, "test": {"task126", "task127", "task28"}}
    n = {s: _raw_sentences(raw / "BC5CDR-chem-IOB" / f"{s}.tsv") for s in ("train", "devel", "test")}
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
    # (the instance-by-instance comparison with the official rules is in test_convert_parity.py)
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


@pytest.mark.parametrize("name, folder, task, n_test", [
    ("ncbi_disease", "NCBI-disease-IOB", "task27", None),
    ("bc2gm", "BC2GM-IOB", "task31", None),
    ("linnaeus", "linnaeus-IOB", "task33", None),
])
def test_other_iob_corpora_real(tmp_path, name, folder, task, n_test):
    raw = shared_file(f"data/bionlp_ner/{folder}/test.tsv").parent.parent
    out = tmp_path / name
    counts = run_converter(name, raw, out)
    assert written_splits(out) == {"train": {task}, "test": {task}}
    train, test = instances(out, "train", task), instances(out, "test", task)
    assert {i.id.split("-")[0] for i in train} <= {"train", "devel"} and {i.id.split("-")[0] for i in test} == {"test"}
    assert 0 < len(test) < _raw_sentences(raw / folder / "test.tsv")  # only sentences with a mention
    assert all(i.output and len(i.output) == len(set(i.output)) for i in train + test)
    assert sum(counts[next(iter(counts))].values()) == len(train) + len(test)
    assert converter_for_task(task) is not None


def test_iob_fixture_exact_answers(tmp_path):
    out = tmp_path / "o"
    run_converter("bc5cdr", FIXTURES / "bionlp_ner", out)
    # default = the official NER preparation: ". , ; : ? !" glued, brackets spaced, duplicates kept
    assert _io(out, "train", "task126") == [
        ("train-0", "FIXTURE fixturol and fixtamine hydro chloride help.", ["fixturol, fixtamine, hydro chloride."]),
        ("train-1", "FIXTURE nothing here.", ["There is no related enetity."]),
        ("devel-0", "FIXTURE Fixturol ( fixturol ) again.", ["Fixturol, fixturol."]),  # devel goes to train
    ]
    # an I- tag with no open mention belongs to none (official rule)
    assert _io(out, "test", "task126")[0] == ("test-0", "FIXTURE testamine, none else.", ["There is no related enetity."])
    assert manifest(out)["clean"] is False
    # --clean: readable text, an opening I- tag starts a mention, case-insensitive de-duplication
    clean = tmp_path / "c"
    run_converter("bc5cdr", FIXTURES / "bionlp_ner", clean, clean=True)
    assert _io(clean, "train", "task126")[2] == ("devel-0", "FIXTURE Fixturol (fixturol) again.", ["Fixturol."])
    assert _io(clean, "test", "task126")[0] == ("test-0", "FIXTURE testamine, none else.", ["testamine."])
    assert manifest(clean)["clean"] is True and manifest(clean)["clean_applied"] is True
    assert _io(out, "test", "task127") == [
        ("test-0", "FIXTURE test syndrome and fixture fever.", ["test syndrome, fixture fever."]),
        ("test-1", "FIXTURE healthy.", ["There is no related enetity."]),
    ]
    assert _io(out, "train", "task28") == [("train-0", "FIXTURE fixture fever seen.", ["fixture fever"])]
    assert S.ner_entities("test syndrome, fixture fever.") == {"test syndrome", "fixture feve"}  # the official quirk


def test_iob_errors_name_file_line_and_source(tmp_path):
    raw = _copy_fixture(tmp_path, "bionlp_ner")
    (raw / "BC5CDR-disease-IOB" / "test.tsv").unlink()
    with pytest.raises(SourceError, match=r"(?s)BC5CDR-disease-IOB/test\.tsv.*MTL-Bioinformatics-2016"):
        run_converter("bc5cdr", raw, tmp_path / "o")
    assert not (tmp_path / "o").exists()

    raw = _copy_fixture(tmp_path / "b", "bionlp_ner")
    path = raw / "BC5CDR-chem-IOB" / "train.tsv"
    path.write_text(path.read_text().replace("fixtamine\tB-Chemical", "fixtamine B-Chemical"))
    with pytest.raises(SourceError, match=r"file train\.tsv, line 4, field 'word<TAB>tag'"):
        run_converter("bc5cdr", raw, tmp_path / "o")
    path.write_text(path.read_text().replace("fixtamine B-Chemical", "fixtamine\tX-Chemical"))
    with pytest.raises(SourceError, match=r"file train\.tsv, line 4, field 'tag': 'X-Chemical' is not an IOB / IOBES tag"):
        run_converter("bc5cdr", raw, tmp_path / "o")
    assert not (tmp_path / "o").exists()


# ---------------------------------------------------------------------------------------------
# MCQA: MedQA, MedMCQA, FrenchMedMCQA, RuMedBench
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, file, task, size", [
    ("medqa", "medqa_en_4op.jsonl", "task57", 1273),
    ("medqa", "medqa_zh_4op.jsonl", "task58", 3426),
    ("medmcqa", "medmcqa.jsonl", "task122", 4183),
])
def test_mcqa_real_counts_and_answers(tmp_path, name, file, task, size):
    path = shared_file(f"data/medqa_medmcqa/{file}")
    out = tmp_path / name
    run_converter(name, path.parent, out)
    insts = instances(out, "test", task)
    assert len(insts) == size  # the paper's test-set sizes
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    labels = {"task57": ("Question", "Options", "The right answer is"), "task58": ("问题", "选项", "正确答案是")}
    for inst, row in zip(insts, rows):
        letter = row["answer"][0].upper()
        gold = row["choices"]["ABCD".index(letter)]
        if task == "task122":  # the layout of MCQA/task122_medmcqa_test_set.json
            assert inst.input == ("Question: " + row["problem_text"] + "\nOptions:\n"
                                  + "\n".join(f"{x}. {c}" for x, c in zip("ABCD", row["choices"])))
            assert inst.output == [f"The right answer is {letter}: {gold}"]
        else:  # the layout of MCQA/task57_*.jsonl / task58_*.jsonl, texts untouched
            q, o, prefix = labels[task]
            assert inst.input == f"{q}: {row['problem_text']}\n{o}: " + "\t".join(
                f"{x}: {c}" for x, c in zip("ABCD", row["choices"]))
            assert inst.output == [f"{prefix} {letter}: {gold}"]
        if task != "task58":  # the official rule strips only the English prefix (documented in _mcqa.py)
            assert S.mcqa_correct(inst.output[0], inst.output[0])
            assert not S.mcqa_correct("ABCD"[("ABCD".index(letter) + 1) % 4], inst.output[0])
        else:
            assert not S.mcqa_correct(inst.output[0], inst.output[0])
    assert "train" not in written_splits(out)  # test files never become training data
    # the first Chinese / MedMCQA questions give exactly the instances quoted from the official files
    if task == "task58":
        assert insts[0].input.startswith("问题: 经调查证实出现医院感染流行时") and insts[0].output == ["正确答案是 D: 24小时内"]
        assert insts[0].input.endswith("\n选项: A: 2小时\tB: 4小时内\tC: 12小时内\tD: 24小时内")


def test_mcqa_malformed_answer_is_named(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    good = {"problem_id": 1, "problem_text": "FIXTURE question?", "choices": ["a1", "a2", "a3", "a4"], "answer": ["b"]}
    bad = dict(good, problem_id=2, answer=["e"])
    (raw / "medmcqa.jsonl").write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n")
    with pytest.raises(SourceError, match=r"file medmcqa\.jsonl, line 2, field 'answer': answer E is not among the 4 options"):
        run_converter("medmcqa", raw, tmp_path / "o")
    (raw / "medmcqa.jsonl").write_text(json.dumps(dict(good, choices=["only one"])) + "\n")
    with pytest.raises(SourceError, match=r"line 1, field 'choices'"):
        run_converter("medmcqa", raw, tmp_path / "o")
    with pytest.raises(SourceError, match=r"(?s)medqa_en_4op\.jsonl.*medqa_zh_4op\.jsonl.*github\.com/jind11/MedQA"):
        run_converter("medqa", raw, tmp_path / "o")


def test_frenchmedmcqa_real(tmp_path, caplog):
    raw = shared_file("data/frenchmedmcqa/test.json").parent
    out = tmp_path / "fr"
    with caplog.at_level(logging.WARNING):
        counts = run_converter("frenchmedmcqa", raw, out)
    assert counts == {"frenchmedmcqa_fr": {"train": 2170, "validation": 312, "test": 622}}
    assert "repeats question" in caplog.text  # the one verbatim duplicate of train.json, kept once
    test = json.loads((raw / "test.json").read_text(encoding="utf-8"))
    insts = instances(out, "test", "task60")
    for inst, q in zip(insts, test):
        letters = sorted(q["correct_answers"])
        assert inst.id == q["id"]
        opts = [q["answers"][k] for k in sorted(q["answers"])]
        assert inst.input == f"Question: {q['question']}\nOptions: " + "\t".join(f"{x}: {o}" for x, o in zip("ABCDE", opts))
        assert inst.output == ["Les bonnes réponses est " + ", ".join(f"{x.upper()}: {q['answers'][x]}" for x in letters)]
    # the first test question is the instance quoted from MCQA/task60_frenchmedmcqa_question_answering.jsonl
    assert insts[0].output == ["Les bonnes réponses est C: Le suc pancréatique"]
    assert insts[0].input.endswith("\nOptions: A: Le suc gastrique\tB: La bile vésiculaire\tC: Le suc pancréatique\t"
                                   "D: La salive\tE: Les sécrétions intestinales")


def test_rumedbench_real(tmp_path):
    raw = shared_file("data/rumedbench/RuMedDaNet/test_v1.jsonl").parent.parent
    out = tmp_path / "ru"
    counts = run_converter("rumedbench", raw, out)
    assert counts == {"rumedbench_ru": {"train": 1052, "validation": 256, "test": 256}}  # MMedBench ru: 256
    rows = [json.loads(x) for x in (raw / "RuMedDaNet/test_v1.jsonl").read_text(encoding="utf-8").splitlines() if x.strip()]
    insts = instances(out, "test", "task61")
    assert [i.output[0] for i in insts] == [("Правильные ответ: A: да" if r["answer"] == "да" else
                                             "Правильные ответ: B: нет") for r in rows]
    # the question alone, as in the instance quoted from the official file (no context passage)
    assert [i.input for i in insts] == [f"Вопрос: {r['question']}\nВарианты: A: да\tB: нет" for r in rows]
    quoted = "Вопрос: Противокашлевое действие бутамирата цитрата обусловлено главным образом воздействием на кашлевой центр в мозге?"
    assert any(i.input.startswith(quoted) and i.output == ["Правильные ответ: A: да"] for i in insts)
    assert "RuMedTest" in get_converter("rumedbench").notes


# ---------------------------------------------------------------------------------------------
# HoC, MeQSum, COVID-QA, Disease Ontology
# ---------------------------------------------------------------------------------------------

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


def test_covid_qa_real(tmp_path):
    path = shared_file("data/covid_qa/200423_covidQA.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    qas = [qa for a in data["data"] for p in a["paragraphs"] for qa in p["qas"]]
    answerable = [qa for qa in qas if not qa.get("is_impossible") and any(x["text"].strip() for x in qa["answers"])]
    out = tmp_path / "cq"
    run_converter("covid_qa", path.parent, out)
    insts = instances(out, "train", "task105")
    assert len(insts) == len(answerable) == 1380
    assert insts[0].input == answerable[0]["question"].strip()
    assert insts[0].output == [" ".join(answerable[0]["answers"][0]["text"].split())]


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


# ---------------------------------------------------------------------------------------------
# registry and README sources table
# ---------------------------------------------------------------------------------------------

def test_registry_knows_the_new_converters():
    for tid, name in [("task123", "pubmedqa"), ("task124", "pubmedqa"), ("task126", "bc5cdr"), ("task127", "bc5cdr"),
                      ("task57", "medqa"), ("task58", "medqa"), ("task122", "medmcqa"), ("task60", "frenchmedmcqa"),
                      ("task61", "rumedbench"), ("task106", "hoc"), ("task114", "meqsum"), ("task105", "covid_qa"),
                      ("task47", "disease_ontology")]:
        assert converter_for_task(tid).name == name


def test_readme_sources_table_is_current(capsys):
    table = markdown_table()
    rows = [line for line in table.splitlines() if line.startswith("| ") and not line.startswith("| Source |")]
    assert len(rows) == len(sources()) == 58
    assert any(r.startswith("| PubMedQA |") and "`pubmedqa`" in r and "task123" in r for r in rows)
    assert any(r.startswith("| BC4-Chem |") and "`bc4chemd`" in r for r in rows)
    assert any(r.startswith("| SEER |") and "| no |" in r for r in rows)
    do_row = next(r for r in rows if r.startswith("| DO |"))
    assert do_row.endswith("| task45, task46, task47 |")
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    assert "## Source datasets" in readme and START_MARKER in readme and END_MARKER in readme
    assert readme_section(readme) == table, "README.md is stale: paste `medsins sources --markdown` between the markers"
    assert main(["sources", "--markdown"]) == 0
    assert capsys.readouterr().out.strip() == table
