"""The rules on real staged benchmark data (gold answers of MedQA / MedMCQA / PubMedQA, HoC, BC5CDR, MeQSum)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from common import shared_file
from medsins_datasets import scoring as S

LETTERS = "ABCD"


def _mcqa_rows(path: Path, limit: int | None = None) -> list[dict]:
    rows = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            rows.append(json.loads(line))
            if limit and len(rows) >= limit:
                break
    return rows


@pytest.mark.parametrize("file, task, size", [
    ("data/medqa_medmcqa/medqa_en_4op.jsonl", "task57", 1273),
    ("data/medqa_medmcqa/medqa_zh_4op.jsonl", "task58", 3426),
    ("data/medqa_medmcqa/medmcqa.jsonl", "task122", 4183),
])
def test_mcqa_on_real_gold_answers(file, task, size):
    rows = _mcqa_rows(shared_file(file))
    assert len(rows) == size  # the paper's test-set sizes
    rng = random.Random(0)
    refs, preds, expected = [], [], 0
    for r in rows:
        gold = r["answer"][0].upper()
        refs.append(f"{gold}: {r['choices'][LETTERS.index(gold)]}")
        guess = gold if rng.random() < 0.55 else rng.choice(LETTERS)
        style = rng.randrange(3)
        pred = (f"The right answer is {guess}." if style == 0 else
                f"{guess}: {r['choices'][LETTERS.index(guess)]}" if style == 1 else guess.lower())
        preds.append(pred)
        expected += guess == gold
    out = S.score(preds, refs, task, bootstrap=200)
    entry = next(iter(out["tasks"].values()))
    assert entry["n"] == size and entry["task_id"] == task
    assert entry["accuracy"] == pytest.approx(100 * expected / size)
    lo, hi = entry["ci"]["accuracy"]
    assert lo < entry["accuracy"] < hi and hi - lo < 6  # thousands of questions: a narrow interval


def test_pubmedqa_gold_maybe_scores_zero_on_the_real_test_split():
    gold = json.loads(shared_file("data/pubmedqa/test_ground_truth.json").read_text(encoding="utf-8"))
    answers = list(gold.values())
    assert len(answers) == 500
    counts = {a: answers.count(a) for a in ("yes", "no", "maybe")}
    assert counts["maybe"] > 0
    official = S.score(answers, answers, "task123", bootstrap=0)["tasks"]["pubmedqa_pqal_test"]
    assert official["accuracy"] == pytest.approx(100 * (counts["yes"] + counts["no"]) / 500)
    corrected = S.score(answers, answers, "task123", strict=False, bootstrap=0)["tasks"]["pubmedqa_pqal_test"]
    assert corrected["accuracy"] == 100.0


def _hoc_sets(limit: int) -> list[set[str]]:
    folder = shared_file("data/hoc/labels")
    out = []
    for p in sorted(folder.iterdir())[:limit]:
        text = p.read_text(encoding="utf-8").lower()
        out.append({label for label in S.HOC_LABELS if label in text})
    return out


def test_hoc_macro_scores_on_real_labels():
    gold = _hoc_sets(400)
    assert any(gold) and any(not g for g in gold)
    refs = [", ".join(sorted(g)).capitalize() for g in gold]
    perfect = S.score(refs, refs, "task106", bootstrap=0)["tasks"]["hoc_classification"]
    present = {lab for g in gold for lab in g}
    assert perfect["f1"] == pytest.approx(100 * len(present) / 10)
    # drop the alphabetically last label of every sample, add "cellular energetics" to every 5th
    preds_sets = []
    for i, g in enumerate(gold):
        p = set(sorted(g)[:-1])
        if i % 5 == 0:
            p.add("cellular energetics")
        preds_sets.append(p)
    preds = ["; ".join(sorted(p)) for p in preds_sets]
    got = S.score(preds, refs, "task106", bootstrap=100)["tasks"]["hoc_classification"]
    ps, rs, fs = [], [], []
    for lab in S.HOC_LABELS:
        tp = sum(lab in g and lab in p for g, p in zip(gold, preds_sets))
        npred = sum(lab in p for p in preds_sets)
        ntrue = sum(lab in g for g in gold)
        ps.append(tp / npred if npred else 0.0)
        rs.append(tp / ntrue if ntrue else 0.0)
        fs.append(2 * tp / (npred + ntrue) if npred + ntrue else 0.0)
    assert got["precision"] == pytest.approx(100 * sum(ps) / 10)
    assert got["recall"] == pytest.approx(100 * sum(rs) / 10)
    assert got["f1"] == pytest.approx(100 * sum(fs) / 10)
    assert got["ci"]["f1"][0] <= got["f1"] <= got["ci"]["f1"][1]


def _iob_sentences(path: Path, limit: int) -> list[list[str]]:
    sents, ents, cur = [], [], []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            line = line.rstrip("\n")
            if not line:
                if cur:
                    ents.append(" ".join(cur))
                    cur = []
                sents.append(ents)
                ents = []
                if len(sents) >= limit:
                    break
                continue
            word, tag = line.split("\t")
            if tag.startswith("B-"):
                if cur:
                    ents.append(" ".join(cur))
                cur = [word]
            elif tag.startswith("I-") and cur:
                cur.append(word)
            else:
                if cur:
                    ents.append(" ".join(cur))
                cur = []
    return sents


def _answer(entities: list[str]) -> str:
    uniq = list({e.lower(): e for e in reversed(entities)}.values())[::-1]  # case-insensitive dedupe
    return ", ".join(uniq) + "." if uniq else "There is no related enetity."


def test_ner_micro_f1_on_bc5cdr_chemicals():
    sents = _iob_sentences(shared_file("data/bionlp_ner/BC5CDR-chem-IOB/test.tsv"), 600)
    sents = [s for s in sents if all("." not in e and ", " not in e for e in s)]
    # the official parse drops the answer's last character: a real sentence of this file lists
    # "heparin" and "heparins", which then collapse into one entity
    collide = [s for s in sents if len(S.ner_entities(_answer(s))) != len({e.lower() for e in s})]
    assert [_answer(s) for s in collide] == ["heparin, heparins."]
    assert S.ner_entities("heparin, heparins.") == {"heparin"}
    sents = [s for s in sents if s not in collide]
    refs = [_answer(s) for s in sents]
    assert S.score(refs, refs, "task126", bootstrap=0)["tasks"]["bc5cdr_chemical_ner"]["f1"] == 100.0
    half = len(refs) // 2
    preds = refs[:half] + ["There is no related enetity."] * (len(refs) - half)
    out = S.score(preds, refs, "bc5cdr_chemical_ner", bootstrap=100)["tasks"]["bc5cdr_chemical_ner"]
    n_first = sum(len({e.lower() for e in s}) for s in sents[:half])
    n_all = sum(len({e.lower() for e in s}) for s in sents)
    assert out["precision"] == 100.0
    assert out["recall"] == pytest.approx(100 * n_first / n_all)
    # a model that misses every answer's trailing period is penalised by nothing (same truncation)
    no_period = [r.rstrip(".") for r in refs]
    assert S.score(no_period, refs, "task126", bootstrap=0)["tasks"]["bc5cdr_chemical_ner"]["f1"] == 100.0


def test_meqsum_summaries_batch_equals_per_sample():
    openpyxl = pytest.importorskip("openpyxl")
    path = shared_file("data/meqsum/MeQSum_ACL2019_BenAbacha_Demner-Fushman.xlsx")
    ws = openpyxl.load_workbook(path, read_only=True).worksheets[0]
    rows = [r for r in ws.iter_rows(min_row=2, max_row=121, values_only=True) if r[1] and r[2]]
    questions = [str(r[1]) for r in rows]
    summaries = [str(r[2]) for r in rows]
    assert len(rows) > 100
    out = S.score(questions, summaries, "meqsum_summarization", bootstrap=0, num_proc=2)["tasks"]
    entry = out["meqsum_summarization"]
    per = [S.score_sample("task114", q, s) for q, s in zip(questions, summaries)]
    assert entry["bleu1"] == pytest.approx(sum(p["bleu1"] for p in per) / len(per), abs=1e-9)
    assert entry["rougeL"] == pytest.approx(sum(p["rougeL"] for p in per) / len(per), abs=1e-9)
    assert 0 < entry["bleu1"] < 60 and 0 < entry["rougeL"] < 60  # questions are long, summaries short
    same = S.score(summaries, summaries, "task114", bootstrap=0)["tasks"]["meqsum_summarization"]
    assert same["bleu1"] == pytest.approx(100.0) and same["rougeL"] == pytest.approx(100.0, abs=1e-5)
