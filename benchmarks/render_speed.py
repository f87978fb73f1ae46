#!/usr/bin/env python
"""Rendering speed and memory of a streaming training mixture vs a ``datasets.map`` baseline.

Generates N instances (default 2,000,000) spread over 20 public MedS-Ins tasks with a skewed
size distribution (like MedS-Ins: a few huge tasks, many small ones), as task files with
realistic text lengths, then measures, each in a fresh subprocess so that peak RSS is its own:

* ``mixture (cold)``: ``build_mixture`` (reads every task file once into its Arrow cache, dedup,
  temperature weights) + iterating the streaming ``IterableDataset`` of rendered rows;
* ``mixture (warm)``: the same with the cache already there (a second epoch / another process);
* ``mixture (warm, few-shot)``: T=2, 30% few-shot rows, 50% rewritten definitions;
* ``baseline``: ``Dataset.from_generator`` over the same task files (the library's row reader)
  then ``Dataset.map`` with a plain Python zero-shot template (``load`` and ``map`` timed apart).

Prints rendered examples/s and peak RSS for each, and the current RSS at 25/50/75/100% of the
rows to show that memory stays flat. Goal: at least as fast as the baseline, flat memory.

    python benchmarks/render_speed.py              # full size (~1 GB of task files in a temp dir)
    python benchmarks/render_speed.py --n 200000   # smaller
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TASKS = [
    "task124", "task3", "task57", "task64", "task2", "task1", "task12", "task28", "task11", "task13",
    "task14", "task15", "task16", "task19", "task20", "task26", "task27", "task29", "task31", "task33",
]
WORDS = (
    "patient presented with acute chest pain dyspnoea fever cough hypertension diabetes mellitus randomized "
    "controlled trial outcome intervention placebo dose mg daily significant reduction mortality cohort study "
    "baseline follow-up months adverse events insulin glucose biopsy tumour carcinoma metastasis lymph node "
    "imaging ct mri ultrasound findings impression normal abnormal"
).split()


def generate(root: Path, n: int, seed: int = 0) -> dict[str, int]:
    """Write task files for :data:`TASKS` with about ``n`` instances in total (sizes ~ 1/rank)."""
    from medsins_datasets.registry.tasks import get_task

    rng = random.Random(seed)
    weights = [1.0 / (i + 1) for i in range(len(TASKS))]
    sizes = [max(50, int(n * w / sum(weights))) for w in weights]
    sizes[0] += n - sum(sizes)
    root.mkdir(parents=True, exist_ok=True)
    for tid, size in zip(TASKS, sizes):
        t = get_task(tid)
        with open(root / f"{t.task_id}_{t.config_name}.json", "w", encoding="utf-8") as f:
            head = {
                "Definition": [f"Generated task {t.task_id}: read the input and answer as the examples show."],
                "Rewritten_Definitions": [f"Rewrite {k} of the definition of {t.task_id}." for k in range(20)],
                "Input_language": ["English"], "Output_language": ["English"],
            }
            f.write(json.dumps(head)[:-1] + ', "Instances": [\n')
            for i in range(size):
                n_in = max(8, int(rng.lognormvariate(3.8, 0.6)))
                n_out = max(1, int(rng.lognormvariate(1.8, 0.8)))
                rec = {"id": f"{t.task_id}-{i}", "input": " ".join(rng.choices(WORDS, k=n_in)),
                       "output": [" ".join(rng.choices(WORDS, k=n_out))]}
                f.write(json.dumps(rec) + (",\n" if i < size - 1 else "\n"))
            f.write("]}\n")
    return dict(zip(TASKS, sizes))


_COMMON = r"""
import json, resource, sys, time
def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20
def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
src, cache, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
marks = {n * k // 4 for k in (1, 2, 3, 4)}
samples = []
"""

MIXTURE = _COMMON + r"""
from medsins_datasets.mixture import MixtureSpec, build_mixture
spec = MixtureSpec(**json.loads(sys.argv[4]))
t0 = time.perf_counter()
ds = build_mixture(spec, src, cache_dir=cache)
t1 = time.perf_counter()
rows = chars = 0
for row in ds:
    rows += 1
    chars += len(row["prompt"])
    if rows in marks:
        samples.append(round(rss_mb()))
t2 = time.perf_counter()
print(json.dumps({"rows": rows, "plan_s": t1 - t0, "iter_s": t2 - t1, "total_s": t2 - t0,
                  "peak_mb": peak_mb(), "rss_mb": samples, "chars": chars}))
"""

BASELINE = _COMMON + r"""
import datasets
from pathlib import Path
from medsins_datasets.taskfile.rows import FEATURES, iter_rows
from medsins_datasets.sources.resolve import LocalSource
datasets.disable_progress_bars()
files = LocalSource(src).task_files()
def gen():
    for tf in files.values():
        for p in tf.all_files():
            yield from iter_rows(tf.task, p)
def template(ex):
    return {"prompt": ex["definition"] + "\nInput: " + ex["input"], "completion": ex["output"]}
t0 = time.perf_counter()
ds = datasets.Dataset.from_generator(gen, features=FEATURES, cache_dir=cache)
t1 = time.perf_counter()
out = ds.map(template, remove_columns=[c for c in ds.column_names if c not in ("task", "id")])
t2 = time.perf_counter()
rows = chars = 0
for row in out:
    rows += 1
    chars += len(row["prompt"])
    if rows in marks:
        samples.append(round(rss_mb()))
t3 = time.perf_counter()
print(json.dumps({"rows": rows, "load_s": t1 - t0, "map_s": t2 - t1, "iter_s": t3 - t2, "total_s": t3 - t0,
                  "peak_mb": peak_mb(), "rss_mb": samples, "chars": chars}))
"""


def _child(code: str, *args: str) -> dict:
    env = dict(os.environ, HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", TQDM_DISABLE="1")
    res = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env)
    if res.returncode != 0:
        raise SystemExit(f"benchmark child failed:\n{res.stderr[-4000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=2_000_000, help="instances in total (default 2,000,000)")
    ap.add_argument("--workdir", help="where to put generated files and caches (default: a temp dir, removed)")
    args = ap.parse_args()
    tmp = tempfile.TemporaryDirectory(prefix="medsins-render-") if not args.workdir else None
    work = Path(args.workdir or tmp.name)
    src = work / "tasks"
    t = time.perf_counter()
    sizes = generate(src, args.n)
    n = sum(sizes.values())
    size_mb = sum(p.stat().st_size for p in src.iterdir()) / 2**20
    print(f"generated {n:,} instances in {len(sizes)} tasks ({size_mb:,.0f} MB of task files) "
          f"in {time.perf_counter() - t:.0f}s; largest task {max(sizes.values()):,}, smallest {min(sizes.values()):,}")

    zero = json.dumps({})
    rich = json.dumps({"temperature": 2.0, "few_shot_ratio": 0.3, "rewrite_prob": 0.5})
    results = {}
    results["mixture (cold)"] = _child(MIXTURE, str(src), str(work / "cache-mix"), str(n), zero)
    results["mixture (warm)"] = _child(MIXTURE, str(src), str(work / "cache-mix"), str(n), zero)
    results["mixture (warm, few-shot)"] = _child(MIXTURE, str(src), str(work / "cache-mix"), str(n), rich)
    results["baseline datasets.map"] = _child(BASELINE, str(src), str(work / "cache-base"), str(n))

    print(f"\n{'method':28s} {'rows':>10s} {'examples/s':>11s} {'time s':>8s} {'peak RSS MB':>12s}  RSS at 25/50/75/100% (MB)")
    for name, r in results.items():
        print(f"{name:28s} {r['rows']:>10,} {r['rows'] / r['total_s']:>11,.0f} {r['total_s']:>8.1f} "
              f"{r['peak_mb']:>12,.0f}  {r['rss_mb']}")
    b = results["baseline datasets.map"]
    cold, warm = results["mixture (cold)"], results["mixture (warm)"]
    print(f"\nbaseline: load (from_generator) {b['load_s']:.1f}s + map {b['map_s']:.1f}s + iterate {b['iter_s']:.1f}s; "
          f"map alone {b['rows'] / b['map_s']:,.0f} examples/s, map+iterate {b['rows'] / (b['map_s'] + b['iter_s']):,.0f}/s")
    print(f"mixture: plan {cold['plan_s']:.1f}s cold / {warm['plan_s']:.1f}s warm, iterate {warm['iter_s']:.1f}s "
          f"({warm['rows'] / warm['iter_s']:,.0f} examples/s)")
    print(f"speed vs baseline end to end: cold {b['total_s'] / cold['total_s']:.2f}x; "
          f"warm mixture vs baseline map+iterate (both from an Arrow cache): "
          f"{(b['map_s'] + b['iter_s']) / warm['total_s']:.2f}x; "
          f"peak RSS ratio (cold mixture / baseline) {cold['peak_mb'] / b['peak_mb']:.2f}")
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
