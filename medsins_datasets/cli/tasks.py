"""``medsins tasks``: list the task registry."""

from __future__ import annotations

import argparse
import json

from medsins_datasets.registry.tasks import select_tasks


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("tasks", help="list MedS-Ins / MedS-Bench tasks",
                       description="List the tasks of the registry, optionally filtered (filters combine with AND).")
    p.add_argument("--category", action="append", help="task category, e.g. 'Named Entity Recognition' (repeatable)")
    p.add_argument("--domain", action="append", help="text domain, e.g. 'Clinical Texts' (repeatable)")
    p.add_argument("--language", action="append", help="input or output language, e.g. Chinese (repeatable)")
    p.add_argument("--access", choices=["public", "credentialed", "unknown"], action="append")
    p.add_argument("--bench", action="store_true", help="only MedS-Bench tasks")
    p.add_argument("--bench-category", action="append", help="MedS-Bench category (repeatable)")
    p.add_argument("--json", action="store_true", help="print a JSON list of objects instead of a table")
    return p


def run(args: argparse.Namespace) -> int:
    from medsins_datasets.errors import MedsinsError
    from medsins_datasets.registry.tasks import all_tasks

    known = {"category": {t.category for t in all_tasks()}, "domain": {t.domain for t in all_tasks()},
             "bench_category": {t.bench_category for t in all_tasks() if t.bench_category}}
    for opt, values in known.items():
        lower = {v.lower() for v in values}
        for v in getattr(args, opt) or []:
            if v.lower() not in lower:
                raise MedsinsError(f"--{opt.replace('_', '-')} {v!r} matches no task; one of: {', '.join(sorted(values))}")
    tasks = select_tasks(
        category=args.category, domain=args.domain, language=args.language, access=args.access,
        bench=True if args.bench else None, bench_category=args.bench_category,
    )
    if args.json:
        print(json.dumps([t.to_dict() for t in tasks], ensure_ascii=False, indent=1))
        return 0
    cols = ("task_id", "config_name", "category", "domain", "access", "bench_category")
    rows = [[t.task_id, t.config_name, t.category, t.domain, t.access, t.bench_category or "-"] for t in tasks]
    widths = [max(len(c), *(len(r[i]) for r in rows)) if rows else len(c) for i, c in enumerate(cols)]
    print("  ".join(c.ljust(w) for c, w in zip(cols, widths)))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print("  ".join(v.ljust(w) for v, w in zip(r, widths)))
    print(f"\n{len(rows)} task(s)")
    return 0
