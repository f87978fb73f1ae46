"""``medsins contamination``: which MedS-Bench test instances a training mixture contains."""

from __future__ import annotations

import argparse
import json

from medsins_datasets.cli.argtypes import positive_int
from medsins_datasets.cli.mixture_options import add_spec_options, spec_from_args


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "contamination", help="report MedS-Bench test instances that also appear in a training mixture",
        description="Select a training mixture exactly as `medsins mix` does and report, per MedS-Bench task, how "
        "many test instances also appear in it: exact (the input verbatim) and n-gram (after normalisation, at "
        "least THRESHOLD of the instance's distinct word N-grams inside one training row). The test splits are "
        "read from --bench-source (default --source). Exit status 1 when contamination is found (0 otherwise), so "
        "CI can gate on it. To remove it: `medsins mix --exclude-contaminated ...` drops the overlapping training "
        "rows; --write-ids writes the contaminated test ids per task (to leave them out of an evaluation).",
    )
    p.add_argument("--source", required=True,
                   help="training data: folder of task<ID>_*.json files, 'hub', 'hf://datasets/ORG/NAME' or "
                   "'raw:<converter>:<folder>'")
    add_spec_options(p)
    p.add_argument("--bench-tasks", nargs="+", help="benchmark tasks to check (default: every MedS-Bench task with "
                   "a test split in the bench source)")
    p.add_argument("--max-gram-instances", type=positive_int, default=10,
                   help="ignore n-grams shared by more test instances than this (templates; default 10)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--write-ids", metavar="FILE", help="write {task: [contaminated test ids]} as JSON to FILE")
    p.add_argument("--cache-dir", help="where task files are cached as Arrow")
    return p


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from medsins_datasets.contamination import DEFAULT_N, DEFAULT_THRESHOLD, check_contamination

    spec = spec_from_args(args)
    rep = check_contamination(
        spec, args.source, bench_source=args.bench_source, bench_tasks=args.bench_tasks,
        n=args.contamination_ngram or DEFAULT_N,
        threshold=args.contamination_threshold if args.contamination_threshold is not None else DEFAULT_THRESHOLD,
        max_gram_instances=args.max_gram_instances, cache_dir=args.cache_dir,
    )
    if args.json:
        print(json.dumps(rep.to_dict(), indent=1, ensure_ascii=False))
    else:
        print(rep.table())
    if args.write_ids:
        Path(args.write_ids).write_text(json.dumps(rep.excluded_ids(), indent=1, ensure_ascii=False), encoding="utf-8")
    return 1 if rep.contaminated else 0
