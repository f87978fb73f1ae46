"""The ``mednli`` converter (task41-44, credentialed) on SYNTHETIC files shaped like the PhysioNet
release (tests/fixtures/mednli)."""

from __future__ import annotations

import json
import shutil

import pytest

from common import shared_file
from medsins_datasets.errors import SourceError
from medsins_datasets.sources.converters import run_converter

from converter_helpers import (FIXTURES, assert_credentialed_output, assert_no_text_leak, assert_push_refused, cli_convert,
                     header_fields, instances, written_splits)


RAW = FIXTURES / "mednli"

TASKS = {"task41", "task42", "task43", "task44"}

def raw_records(name: str) -> list[dict]:
    return [json.loads(line) for line in (RAW / name).read_text(encoding="utf-8").splitlines() if line.strip()]

def test_cli_convert_splits_from_their_files(capsys, tmp_path):
    out = tmp_path / "mednli_tasks"
    rc, stdout, err = cli_convert(capsys, "mednli", RAW, out)
    assert rc == 0, err
    assert written_splits(out) == {"train": TASKS, "validation": TASKS, "test": TASKS}
    train, dev, test = (raw_records(f"mli_{s}_v1.jsonl") for s in ("train", "dev", "test"))

    # task41: every pair of a file, in order, with the capitalised label
    for split, recs in (("train", train), ("validation", dev), ("test", test)):
        got = instances(out, split, "task41")
        assert [i.id for i in got] == [r["pairID"] for r in recs]
        assert [i.input for i in got] == [f"Sentence1: {r['sentence1']}\n\nSentence2: {r['sentence2']}" for r in recs]
        assert [i.output for i in got] == [[r["gold_label"].capitalize()] for r in recs]
    assert "mednli_discriminative: train=7, validation=3, test=5" in stdout

    # train instances come only from the train file, test only from the test file
    train_texts = {r["sentence1"] for r in train} | {r["sentence2"] for r in train}
    test_texts = {r["sentence1"] for r in test} | {r["sentence2"].rstrip(".") for r in test}
    for tid in TASKS:
        for inst in instances(out, "train", tid):
            blob = inst.input + "\n".join(inst.output)
            assert not any(t in blob for t in test_texts), (tid, inst.id)
        for inst in instances(out, "test", tid):
            blob = inst.input + "\n".join(inst.output)
            assert not any(t.rstrip(".") in blob for t in train_texts), (tid, inst.id)

    # task42 / task43 (default = the official script): texts strip().capitalize()-d (letter case lost
    # after the first character), and a full stop appended to the hypothesis even after its own
    t42 = instances(out, "train", "task42")
    assert [(i.input, i.output) for i in t42] == [
        (r["sentence1"].strip().capitalize(), [r["sentence2"].strip().capitalize() + "."])
        for r in train if r["gold_label"] == "entailment"]
    assert [i.output[0] for i in instances(out, "test", "task42")][-1] == "Synthetic: an oral finding was documented.."
    t43 = instances(out, "test", "task43")
    assert [i.input for i in t43] == [r["sentence1"].strip().capitalize() for r in test if r["gold_label"] == "contradiction"]
    assert "bp 150/90" in t42[0].input  # the official capitalize()

    # task44: three consecutive records of one premise with one hypothesis per label; the test
    # premise that has only two hypotheses is left out
    t44 = instances(out, "train", "task44")
    assert len(t44) == 2 and len(instances(out, "test", "task44")) == 1
    for inst in t44:
        lines = inst.input.split("\n")
        premise = lines[0].removeprefix("Statement: ")
        by_hyp = {r["sentence2"].strip().capitalize(): r["gold_label"] for r in train
                  if r["sentence1"].strip().capitalize() == premise}
        assert len(by_hyp) == 3
        answers = inst.output[0].split("\n")
        assert len(lines) == 4 and len(answers) == 4 and answers[-1] == ""  # every line ends with a break
        for k, (line, ans) in enumerate(zip(lines[1:], answers), 1):
            hyp = line.removeprefix(f"Sentence{k}: ")
            assert ans == f"Sentence{k} is {by_hyp[hyp]}."
        assert sorted(a.split(" is ")[1] for a in answers[:3]) == ["contradiction.", "entailment.", "neutral."]
    # the order is seeded: a second run writes the same files
    out2 = tmp_path / "again"
    run_converter("mednli", RAW, out2)
    assert (out / "train" / "task44_mednli_three_statement_classification.json").read_bytes() == \
        (out2 / "train" / "task44_mednli_three_statement_classification.json").read_bytes()

    assert_credentialed_output(out)
    assert header_fields(out, "train", "task41")["Definition"].startswith("You are given a premise")

def test_clean_keeps_letter_case_and_adds_full_stops_only_when_missing(tmp_path):
    out = tmp_path / "o"
    run_converter("mednli", RAW, out, clean=True)
    train, test = raw_records("mli_train_v1.jsonl"), raw_records("mli_test_v1.jsonl")
    t42 = instances(out, "train", "task42")
    assert [(i.input, i.output) for i in t42] == [
        (r["sentence1"], [r["sentence2"].rstrip(".") + "."]) for r in train if r["gold_label"] == "entailment"]
    assert [i.output[0] for i in instances(out, "test", "task42")][-1] == "SYNTHETIC: An oral finding was documented."
    assert "BP 150/90" in t42[0].input
    t44 = instances(out, "train", "task44")
    assert len(t44) == 2
    for inst in t44:
        lines = inst.input.split("\n")
        premise = lines[0].removeprefix("Statement: ")
        by_hyp = {r["sentence2"].rstrip("."): r["gold_label"] for r in train if r["sentence1"] == premise}
        answers = inst.output[0].split("\n")
        assert len(answers) == 3
        for k, (line, ans) in enumerate(zip(lines[1:], answers), 1):
            assert line.endswith(".") and ans == f"Sentence{k} is {by_hyp[line.removeprefix(f'Sentence{k}: ').rstrip('.')]}."
    # task41 is the same either way (the official layout, texts untouched)
    default = tmp_path / "d"
    run_converter("mednli", RAW, default)
    assert instances(out, "test", "task41") == instances(default, "test", "task41")

def test_task44_groups_never_mix_premises():
    from medsins_datasets.loading_scripts.mednli import premise_triples

    def rec(p, lab, i):
        return {"premise": p, "label": lab, "id": str(i)}
    recs = [rec("A", "entailment", 1), rec("A", "neutral", 2), rec("B", "contradiction", 3),  # a mixed "triple"
            rec("C", "entailment", 4), rec("C", "contradiction", 5), rec("C", "neutral", 6),
            rec("D", "entailment", 7), rec("D", "entailment", 8), rec("D", "neutral", 9)]  # not one per label
    assert [[r["id"] for r in g] for g in premise_triples(recs)] == [["4", "5", "6"]]

def test_official_definitions_are_used(tmp_path):
    defs = shared_file("data/medsins_definitions/RewriteDefinitions.json")
    official = json.loads(defs.read_text(encoding="utf-8"))
    out = tmp_path / "o"
    run_converter("mednli", RAW, out, definitions=defs)
    for tid in TASKS:
        f = header_fields(out, "train", tid)
        assert f["Definition"] == official[tid]["original_def"]
        assert f["Rewritten_Definitions"] == official[tid]["auto_rewrite_def"]

def test_build_then_push_guard_refuses(capsys, tmp_path):
    out = tmp_path / "conv"
    run_converter("mednli", RAW, out)
    assert_push_refused(capsys, out, tmp_path / "built")

def _secrets() -> list[str]:
    return [r[k] for name in ("mli_train_v1.jsonl", "mli_test_v1.jsonl") for r in raw_records(name)
            for k in ("sentence1", "sentence2")]

@pytest.mark.parametrize("damage, expect", [
    (lambda r: r.pop("sentence2"), "line 3, field 'sentence2': missing"),
    (lambda r: r.update(gold_label="maybe"), "line 3, field 'gold_label': must be one of"),
    (lambda r: r.update(sentence1=["SYNTHETIC: Labs showed Na 131 and BP 150/90 on arrival."]), "line 3, field 'sentence1': not a string"),
    (None, "line 3: not a valid JSON object"),
])
def test_malformed_record_error_names_position_not_text(capsys, tmp_path, damage, expect):
    raw = tmp_path / "raw"
    shutil.copytree(RAW, raw)
    lines = (raw / "mli_train_v1.jsonl").read_text(encoding="utf-8").splitlines()
    if damage is None:
        lines[2] = lines[2][:-15]  # truncated JSON: the line still holds the record's text
    else:
        rec = json.loads(lines[2])
        damage(rec)
        lines[2] = json.dumps(rec)
    (raw / "mli_train_v1.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    with pytest.raises(SourceError) as ei:
        run_converter("mednli", raw, out)
    msg = str(ei.value)
    assert "file mli_train_v1.jsonl" in msg and expect in msg
    assert_no_text_leak(msg, _secrets())
    # no chained exception whose traceback could show the raw line
    assert ei.value.__cause__ is None and (ei.value.__context__ is None or ei.value.__suppress_context__)
    assert not out.exists() and not list(tmp_path.glob(".out*"))  # nothing half-written
    # the CLI prints the same content-free message
    rc, stdout, err = cli_convert(capsys, "mednli", raw, out)
    assert rc == 2 and expect in err
    assert_no_text_leak(err + stdout, _secrets())

def test_missing_file_names_it_and_where_to_get_it(tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(RAW, raw)
    (raw / "mli_test_v1.jsonl").unlink()
    with pytest.raises(SourceError, match=r"mli_test_v1\.jsonl.*\n.*physionet\.org/content/mednli"):
        run_converter("mednli", raw, tmp_path / "out")
    # the dev file is optional: without it, no validation split
    (raw / "mli_dev_v1.jsonl").unlink()
    shutil.copy(RAW / "mli_test_v1.jsonl", raw / "mli_test_v1.jsonl")
    out = tmp_path / "out"
    run_converter("mednli", raw, out)
    assert set(written_splits(out)) == {"train", "test"}
