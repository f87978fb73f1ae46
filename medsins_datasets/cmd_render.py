"""``medsins render``: print rendered prompts of one task as JSON lines."""

from __future__ import annotations

import argparse
import json
import sys


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "render", help="print rendered zero-/few-shot prompts of a task as JSON lines",
        description="Render instances of one task with the MedS-Ins paper's prompt template and print one JSON "
        "object per line with id, task, prompt and completion (the reference answer). Few-shot cases come only "
        "from the task's train split, never the instance itself, chosen deterministically from --seed. "
        "With --bench, renders the test split as MedS-Bench does (3-shot, MCQA zero-shot).",
    )
    p.add_argument("--source", required=True,
                   help="folder of task<ID>_*.json files, 'hub', 'hf://datasets/ORG/NAME' or 'raw:<converter>:<folder>'")
    p.add_argument("--task", required=True, help="config name or official id")
    p.add_argument("--split", choices=["train", "validation", "test"],
                   help="split to render (default: train if the source has it, else test; --bench: test)")
    p.add_argument("--shots", type=int, help="cases per prompt (default 0; --bench: 3, MCQA 0)")
    p.add_argument("--bench", action="store_true", help="benchmark prompts: test split, the paper's shot counts")
    p.add_argument("--seed", type=int, default=0, help="seed for the choice of cases (default 0)")
    p.add_argument("--limit", type=int, help="render at most N instances")
    p.add_argument("--max-prompt-chars", type=int, help="drop cases (never the input) from longer prompts")
    p.add_argument("--messages", action="store_true", help="print chat messages (user/assistant) instead")
    return p


def run(args: argparse.Namespace) -> int:
    from .errors import MedsinsError
    from .prompts import bench_num_shots, iter_task_prompts, to_messages
    from .registry import get_task
    from .sources import resolve_source

    if args.shots is not None and args.shots < 0:
        raise MedsinsError("--shots must be >= 0")
    if args.limit is not None and args.limit < 0:
        raise MedsinsError("--limit must be >= 0")
    task = get_task(args.task)
    src = resolve_source(args.source)
    split = args.split
    if split is None:
        if args.bench:
            split = "test"
        else:
            files = src.task_files([task])[task.config_name]
            split = "train" if files.splits.get("train") else "test"
    shots = args.shots if args.shots is not None else (bench_num_shots(task) if args.bench else 0)
    out = sys.stdout
    for row in iter_task_prompts(task, src, split=split, shots=shots, seed=args.seed, limit=args.limit,
                                 max_length=args.max_prompt_chars):
        rec = {"id": row["id"], "task": row["task"]}
        if args.messages:
            rec["messages"] = to_messages(row["prompt"], row["completion"])
        else:
            rec["prompt"], rec["completion"] = row["prompt"], row["completion"]
        out.write(json.dumps(rec, ensure_ascii=False) + "\n")
    out.flush()
    return 0
