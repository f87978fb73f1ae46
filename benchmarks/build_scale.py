#!/usr/bin/env python
"""Build speed and memory of `medsins build` on one huge generated task file.

Generates a task file of N instances with realistic text lengths (inputs ~60-1,500
characters, outputs ~5-300), then measures, each in a fresh subprocess:

* ours: the streaming hub-native build (``medsins_datasets.builder.parquet.build``);
* baseline: ``json.load`` + ``datasets.Dataset.from_list`` + ``to_parquet`` (the naive way);
* ours again on N/4 instances, to show that peak memory does not grow with N.

Prints instances/s and peak RSS for each, and the ratios. Goal: peak RSS < 1.5 GB and flat
in N, throughput >= baseline.

    python benchmarks/build_scale.py --n 1000000
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WORDS = (
    "patient presented with acute chest pain dyspnoea fever cough hypertension diabetes mellitus "
    "randomized controlled trial outcome intervention placebo dose mg daily significant reduction "
    "mortality cohort study baseline follow-up months adverse events insulin glucose biopsy tumour "
    "carcinoma metastasis lymph node imaging ct mri ultrasound findings impression normal abnormal"
).split()


def generate(path: Path, n: int, seed: int = 0) -> int:
    """Write a MedS-Ins task file of n instances, streaming; returns its size in bytes."""
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8") as f:
        f.write('{"Definition": ["Read the sentence and list the outcomes of the study."],\n')
        f.write('"Input_language": ["English"], "Output_language": ["English"],\n"Instances": [\n')
        for i in range(n):
            n_in = max(8, int(rng.lognormvariate(4.0, 0.6)))  # ~60-1,500 chars
            n_out = max(1, int(rng.lognormvariate(2.0, 0.8)))
            inp = " ".join(rng.choices(WORDS, k=n_in))
            out = [" ".join(rng.choices(WORDS, k=n_out))]
            if i % 7 == 0:
                out.append(" ".join(rng.choices(WORDS, k=n_out)))
            rec = json.dumps({"id": f"task3-{i}", "input": inp, "output": out})
            f.write(rec + (",\n" if i < n - 1 else "\n"))
        f.write("]}\n")
    return path.stat().st_size


OURS = """
import json, resource, sys, time
from medsins_datasets.builder.parquet import build
t = time.perf_counter()
rep = build(sys.argv[1], sys.argv[2], progress=False)
dt = time.perf_counter() - t
n = sum(rep.configs["pico_outcome"].splits.values())
print(json.dumps({"n": n, "seconds": dt, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

BASELINE = """
import json, resource, sys, time
import datasets
t = time.perf_counter()
with open(sys.argv[1] + "/task3_pico_outcome.json", encoding="utf-8") as f:
    data = json.load(f)
rows = [{"id": i["id"], "task_id": "task3", "task": "pico_outcome", "definition": "\\n".join(data["Definition"]),
         "input": i["input"], "output": i["output"][0], "references": i["output"], "category": "Information Extraction",
         "domain": "Academic Papers", "source": "PICO", "input_language": "English", "output_language": "English"}
        for i in data["Instances"]]
ds = datasets.Dataset.from_list(rows)
ds.to_parquet(sys.argv[2] + "/train.parquet")
dt = time.perf_counter() - t
print(json.dumps({"n": len(rows), "seconds": dt, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run(code: str, *args: str) -> dict:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    res = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env)
    if res.returncode != 0:
        raise SystemExit(f"benchmark step failed:\n{res.stderr[-3000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1_000_000, help="instances in the generated task file")
    ap.add_argument("--workdir", help="where to write (default: a temporary folder, removed at the end)")
    ap.add_argument("--skip-baseline", action="store_true", help="measure only our build")
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        tmp = Path(tmp)
        results = {}
        for label, n in (("ours", args.n), ("ours_quarter", max(1, args.n // 4))):
            src = tmp / f"src_{label}"
            src.mkdir()
            t = time.perf_counter()
            size = generate(src / "task3_pico_outcome.json", n)
            print(f"generated {n:,} instances ({size / 1e6:,.0f} MB) in {time.perf_counter() - t:.1f}s", flush=True)
            results[label] = run(OURS, str(src), str(tmp / f"out_{label}"))
            results[label]["file_mb"] = size / 1e6
            if label == "ours" and not args.skip_baseline:
                (tmp / "out_base").mkdir()
                results["baseline"] = run(BASELINE, str(src), str(tmp / "out_base"))
            (src / "task3_pico_outcome.json").unlink()

    print(f"\n{'run':<14}{'instances':>12}{'seconds':>10}{'inst/s':>12}{'peak RSS MB':>14}")
    for label, r in results.items():
        print(f"{label:<14}{r['n']:>12,}{r['seconds']:>10.1f}{r['n'] / r['seconds']:>12,.0f}{r['peak_rss_mb']:>14,.0f}")
    ours = results["ours"]
    quarter = results["ours_quarter"]
    print(f"\npeak RSS ours at N vs N/4: {ours['peak_rss_mb'] / quarter['peak_rss_mb']:.2f}x (flat = ~1.0)")
    print(f"peak RSS goal < 1500 MB: {'met' if ours['peak_rss_mb'] < 1500 else 'NOT met'} ({ours['peak_rss_mb']:,.0f} MB)")
    if "baseline" in results:
        base = results["baseline"]
        speed = (ours["n"] / ours["seconds"]) / (base["n"] / base["seconds"])
        print(f"throughput ours / baseline: {speed:.2f}x ({'met' if speed >= 1 else 'NOT met'}: goal >= 1.0x)")
        print(f"peak RSS baseline / ours: {base['peak_rss_mb'] / ours['peak_rss_mb']:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
