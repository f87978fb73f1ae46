"""``medsins convert``: raw source files -> upstream-layout task files."""

from __future__ import annotations

import argparse


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "convert", help="convert a raw source dataset into MedS-Ins task files",
        description="Run one converter from loading_scripts/ (see `medsins sources`) on the raw files in "
        "--data-dir and write task<ID>_<name>.json files under OUT/train and OUT/test. The output appears "
        "only when the whole conversion succeeded.",
    )
    p.add_argument("source", help="converter name (see `medsins sources`)")
    p.add_argument("--data-dir", required=True, help="folder holding the raw files as the source distributes them")
    p.add_argument("--out", required=True, help="output folder (replaced when the conversion succeeds)")
    p.add_argument("--definitions", help="official RewriteDefinitions.json (task definitions and rewrites)")
    return p


def run(args: argparse.Namespace) -> int:
    from .convert import run_converter

    written = run_converter(args.source, args.data_dir, args.out, definitions=args.definitions)
    for cfg, splits in written.items():
        print(f"{cfg}: " + ", ".join(f"{s}={n}" for s, n in splits.items()))
    print(f"-> {args.out}")
    return 0
