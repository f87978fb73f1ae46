"""``medsins leaderboard``: the paper's Tables 1-8 for one or more benchmark runs."""

from __future__ import annotations

import argparse


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "leaderboard", help="tables and radar charts from medsins bench runs",
        description="Read the results.json of each run folder and write OUT/leaderboard.md (the layout of the "
        "paper's Tables 1-8, one row per model), radar chart PNGs per table and copies of the results. "
        "Demo runs are listed apart.")
    p.add_argument("runs", nargs="*", help="run folders written by `medsins bench --output`")
    p.add_argument("--paper", action="store_true",
                   help="add the paper's published numbers (GPT-4, Claude-3.5, MEDITRON, InternLM 2, Mistral, "
                   "Llama 3, MMedIns-Llama 3) as reference rows")
    p.add_argument("--out", default="leaderboard", help="output folder (default ./leaderboard)")
    p.add_argument("--no-charts", action="store_true", help="skip the radar charts")
    p.add_argument("--push", metavar="ORG/NAME",
                   help="upload the folder as a Hub dataset: leaderboard.md, the radar charts and the results "
                   "copies (nothing else of the folder), with a generated dataset card (README.md) checked by "
                   "the Hub's card validator")
    p.add_argument("--private", action="store_true", help="with --push: create the repo private")
    return p


def run(args: argparse.Namespace) -> int:
    from medsins_datasets.runner.leaderboard import push_leaderboard, write_leaderboard

    path = write_leaderboard(args.runs, args.out, include_paper=args.paper, charts=not args.no_charts)
    print(path.read_text(encoding="utf-8"))
    print(f"written to {args.out}/")
    if args.push:
        url = push_leaderboard(args.out, args.push, private=args.private)
        print(f"pushed to {args.push}: {url}")
    return 0
