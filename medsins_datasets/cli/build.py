"""``medsins build``: task files -> hub-native folder (Parquet + dataset card)."""

from __future__ import annotations

import argparse


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "build", help="build a hub-native dataset folder from task files",
        description="Write Parquet shards per task config and split plus a dataset card (README.md) into OUT. "
        "Afterwards load_dataset(OUT, CONFIG) works offline. Configs whose inputs did not change are kept.",
    )
    p.add_argument("--source", required=True,
                   help="folder of task<ID>_*.json / .jsonl files (e.g. a local mirror of the official repos), 'hub' "
                   "(Henrychur/MedS-Ins + Henrychur/MedS-Bench as published), 'hf://datasets/ORG/NAME[@REV]' or "
                   "'raw:<converter>:<folder>'")
    p.add_argument("--revision", help="Hub sources: branch, tag or commit to read (default main; recorded in the "
                   "build manifest)")
    p.add_argument("--out", required=True, help="output folder (name it 'medsins' to load it as load_dataset('medsins', ...))")
    p.add_argument("--tasks", nargs="+", help="config names or official ids (default: every task in the source)")
    p.add_argument("--skip-invalid", action="store_true",
                   help="skip invalid instances (counted and reported) instead of stopping at the first one")
    p.add_argument("--force", action="store_true", help="rebuild configs even when their inputs did not change")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    return p


def run(args: argparse.Namespace) -> int:
    from medsins_datasets.builder.parquet import build

    report = build(
        args.source, args.out, args.tasks, on_error="skip" if args.skip_invalid else "raise",
        force=args.force, progress=not args.no_progress, revision=args.revision,
    )
    for name, cb in report.configs.items():
        state = "kept" if cb.reused else "built"
        sizes = ", ".join(f"{s}={n}" for s, n in cb.splits.items())
        extra = f", {cb.skipped_instances} invalid skipped" if cb.skipped_instances else ""
        cred = " [credentialed]" if cb.credentialed else ""
        print(f"{state:5s} {name} ({cb.task_id}): {sizes}{extra}{cred}")
    print(f"{len(report.built)} built, {len(report.reused)} kept -> {report.out}")
    return 0
