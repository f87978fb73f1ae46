"""``medsins sources``: list raw-source converters and what each needs."""

from __future__ import annotations

import argparse
import json


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("sources", help="list raw-source converters",
                       description="List the converters in loading_scripts/: source, access, licence, "
                       "expected raw files and the tasks each produces.")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--markdown", action="store_true",
                   help="print the markdown table of every registry source (converter or not, access, licence, "
                        "tasks produced), as in README.md")
    return p


def run(args: argparse.Namespace) -> int:
    from medsins_datasets.sources.converters import converters

    if args.markdown:
        from medsins_datasets.registry.source_datasets import markdown_table

        print(markdown_table())
        return 0
    convs = [c.describe() for c in converters().values()]
    if args.json:
        print(json.dumps(convs, indent=1))
        return 0
    for c in convs:
        print(f"{c['name']}: {c['source']} [{c['access']}, {c['license']}] {c['homepage']}")
        print(f"  tasks: {', '.join(c['tasks'])}")
        for rf in c["raw_files"]:
            req = "" if rf["required"] else " (optional)"
            print(f"  needs {rf['pattern']}{req}: {rf['description']}")
        if c["notes"]:
            print(f"  note: {c['notes']}")
    return 0
