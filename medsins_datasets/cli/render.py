"""``medsins render``: print rendered prompts of one task as JSON lines."""

from __future__ import annotations

import argparse
import json
import sys

from medsins_datasets.cli.argtypes import non_negative_int, positive_int


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "render", help="print rendered zero-/few-shot prompts of a task as JSON lines",
        description="Render instances of one task and print one JSON object per line with id, task, the prompt "
        "and completion (the reference answer). With --bench, renders the test split as `medsins bench` prompts "
        "it: under the official protocol (default) as 'messages' (the official system + user turns, 3 shots, "
        "taken from the task's train split when the source has one, else from the evaluated file without the "
        "evaluated instance). Without --bench, the paper's prose template (a 'prompt' string; shots from the "
        "train split only). Shots are chosen deterministically from --seed.",
    )
    p.add_argument("--source", required=True,
                   help="folder of task<ID>_*.json files, 'hub', 'hf://datasets/ORG/NAME' or 'raw:<converter>:<folder>'")
    p.add_argument("--task", required=True, help="config name or official id")
    p.add_argument("--split", choices=["train", "validation", "test"],
                   help="split to render (default: train if the source has it, else test; --bench: test)")
    p.add_argument("--shots", type=non_negative_int, help="cases per prompt (default 0; --bench: the protocol's, official 3)")
    p.add_argument("--bench", action="store_true", help="benchmark prompts: test split, the protocol's shot counts")
    p.add_argument("--protocol", choices=("official", "clean", "paper"),
                   help="prompt protocol (default: official with --bench, paper otherwise; see docs/protocols.md)")
    p.add_argument("--revision", help="Hub sources: branch, tag or commit (default main)")
    p.add_argument("--seed", type=int, default=0, help="seed for the choice of cases (default 0)")
    p.add_argument("--limit", type=non_negative_int, help="render at most N instances")
    p.add_argument("--max-prompt-chars", type=positive_int, help="drop cases (never the input) from longer prompts")
    p.add_argument("--messages", action="store_true",
                   help="print chat messages (with the assistant turn) instead of prompt/completion")
    return p


def run(args: argparse.Namespace) -> int:
    from medsins_datasets.prompts import ChatPrompt, get_protocol, iter_task_prompts
    from medsins_datasets.registry.tasks import get_task
    from medsins_datasets.runner.backends import chat_messages
    from medsins_datasets.sources.resolve import resolve_source

    protocol = get_protocol(args.protocol or ("official" if args.bench else "paper"))
    task = get_task(args.task)
    src = resolve_source(args.source, revision=args.revision)
    split = args.split
    if split is None:
        if args.bench:
            split = "test"
        else:
            files = src.task_files([task])[task.config_name]
            split = "train" if files.splits.get("train") else "test"
    shots = args.shots if args.shots is not None else (protocol.num_shots(task) if args.bench else 0)
    out = sys.stdout
    for row in iter_task_prompts(task, src, split=split, shots=shots, seed=args.seed, limit=args.limit,
                                 max_length=args.max_prompt_chars, protocol=protocol):
        rec = {"id": row["id"], "task": row["task"], "num_shots": row["num_shots"]}
        prompt = row["prompt"]
        if args.messages:
            rec["messages"] = chat_messages(prompt) + [{"role": "assistant", "content": row["completion"]}]
        elif isinstance(prompt, ChatPrompt):
            rec["messages"], rec["completion"] = prompt.as_messages(), row["completion"]
        else:
            rec["prompt"], rec["completion"] = prompt, row["completion"]
        out.write(json.dumps(rec, ensure_ascii=False) + "\n")
    out.flush()
    return 0
