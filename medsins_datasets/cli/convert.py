"""``medsins convert``: raw source files -> upstream-layout task files."""

from __future__ import annotations

import argparse


def _positive(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {value!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {value!r}")
    return n


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "convert", help="convert a raw source dataset into MedS-Ins task files",
        description="Run one converter from loading_scripts/ (see `medsins sources`) on the raw files in "
        "--data-dir and write task<ID>_<name>.json files under OUT/train and OUT/test. The output appears "
        "only when the whole conversion succeeded. By default the instances are what the official MedS-Ins "
        "preparation script writes from the same raw files (where one is published), apart from the bug fixes "
        "each converter documents.",
    )
    p.add_argument("source", help="converter name (see `medsins sources`)")
    p.add_argument("--data-dir", required=True, help="folder holding the raw files as the source distributes them")
    p.add_argument("--out", required=True, help="output folder (replaced when the conversion succeeds)")
    p.add_argument("--definitions", help="official RewriteDefinitions.json (task definitions and rewrites)")
    p.add_argument("--clean", action="store_true",
                   help="apply the converter's documented text clean-ups (readable detokenisation, whitespace "
                   "reflow...) instead of reproducing the official preparation's text; converters without a "
                   "clean-up ignore it (`medsins sources --json` shows each converter's)")
    sizes = p.add_mutually_exclusive_group()
    sizes.add_argument("--paper-test-sizes", action="store_true",
                       help="keep a seeded random sample of each MedS-Bench task's test split of the size the paper "
                       "evaluated (supplementary A.2, e.g. 50 NER sentences, 100 summaries), in file order; tasks "
                       "the paper evaluated whole (MCQA...) are kept whole")
    sizes.add_argument("--test-size", type=_positive, metavar="N",
                       help="keep a seeded random sample of N instances of each MedS-Bench task's test split")
    return p


def run(args: argparse.Namespace) -> int:
    from medsins_datasets.sources.converters import run_converter

    written = run_converter(args.source, args.data_dir, args.out, definitions=args.definitions,
                            clean=args.clean, paper_test_sizes=args.paper_test_sizes, test_size=args.test_size)
    for cfg, splits in written.items():
        print(f"{cfg}: " + ", ".join(f"{s}={n}" for s, n in splits.items()))
    print(f"-> {args.out}")
    return 0
