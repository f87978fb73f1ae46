"""``medsins mix``: build a multi-task training mixture and write it as a hub-native folder."""

from __future__ import annotations

import argparse
import json

from medsins_datasets.cli.mixture_options import add_spec_options, spec_from_args


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "mix", help="build a multi-task SFT mixture (prompt/completion or messages) into a dataset folder",
        description="Select tasks (by name, category, domain, language, access), cap them, weight them by "
        "temperature (share of task i proportional to min(n_i, cap)^(1/T)), drop duplicate (definition, input, "
        "output) rows, render zero-/few-shot prompts with original or rewritten definitions (in the official "
        "MedS-Bench layout that `medsins bench` prompts with, by default), shuffle with a seed, "
        "and write Parquet shards + a dataset card to OUT (load with load_dataset(OUT, split='train')). "
        "Options override the fields of --config. Memory stays flat at MedS-Ins scale; task files are cached "
        "as Arrow under $MEDSINS_CACHE (or ~/.cache/huggingface/medsins).",
    )
    p.add_argument("--source", required=True,
                   help="folder of task<ID>_*.json files, 'hub', 'hf://datasets/ORG/NAME' or 'raw:<converter>:<folder>'")
    p.add_argument("--out", help="output folder (required unless --counts-only)")
    add_spec_options(p)
    p.add_argument("--counts-only", action="store_true", help="print rows per task as JSON and write nothing")
    p.add_argument("--overwrite", action="store_true", help="replace OUT if it exists")
    p.add_argument("--cache-dir", help="where task files are cached as Arrow")
    return p


def run(args: argparse.Namespace) -> int:
    from medsins_datasets.errors import MedsinsError
    from medsins_datasets.mixture.build import plan_mixture
    from medsins_datasets.mixture.write import write_mixture

    spec = spec_from_args(args)
    if not args.counts_only and not args.out:
        raise MedsinsError("--out is required (or pass --counts-only)")
    plan = plan_mixture(spec, args.source, cache_dir=args.cache_dir)
    if args.counts_only:
        print(json.dumps(plan.counts, indent=1))
        return 0
    out = write_mixture(plan, args.out, overwrite=args.overwrite)
    for tp in plan.tasks:
        extra = f", {tp.contaminated} overlapping the benchmark excluded" if tp.contaminated else ""
        print(f"{tp.task.config_name} ({tp.task.task_id}): {tp.quota} rows (of {tp.rows}, {tp.unique} kept{extra})")
    cred = " [credentialed: never make it public]" if plan.credentialed else ""
    print(f"{plan.num_rows} rows -> {out}{cred}")
    return 0
