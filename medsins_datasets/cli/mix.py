"""``medsins mix``: build a multi-task training mixture and write it as a hub-native folder."""

from __future__ import annotations

import argparse
import json

from medsins_datasets.cli.argtypes import positive_float, positive_int, probability

#: CLI option -> MixtureSpec field, for options that map one to one
_LIST_OPTS = ("tasks", "categories", "domains", "languages", "access", "exclude_tasks", "splits")
_SCALAR_OPTS = ("max_per_task", "temperature", "few_shot_ratio", "max_shots", "rewrite_prob", "seed", "format",
                "layout", "num_rows", "max_epochs_per_task", "max_prompt_chars", "shot_pool_size", "bench_source",
                "contamination_ngram", "contamination_threshold")


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


def add_spec_options(p: argparse.ArgumentParser) -> None:
    """The MixtureSpec options (shared with ``medsins contamination``)."""
    p.add_argument("--config", help="YAML or JSON file with MixtureSpec fields (see docs/prompts.md)")
    p.add_argument("--tasks", nargs="+", help="config names or official ids (default: every task the filters keep)")
    p.add_argument("--categories", nargs="+", help="task categories, e.g. 'Question Answering'")
    p.add_argument("--domains", nargs="+", help="domains, e.g. 'Clinical Texts'")
    p.add_argument("--languages", nargs="+", help="input or output languages, e.g. English Chinese")
    p.add_argument("--access", nargs="+", help="access levels to allow (default: public; add 'credentialed' for "
                   "MIMIC-*/MedNLI tasks you are licensed for, 'unknown' for tasks of unclear access)")
    p.add_argument("--exclude-tasks", nargs="+", help="tasks to leave out")
    p.add_argument("--splits", nargs="+", choices=["train", "validation", "test"], help="source splits (default: train)")
    p.add_argument("--max-per-task", type=positive_int, help="cap per task (seeded uniform subset)")
    p.add_argument("--temperature", type=positive_float, help="mixing temperature T (default 1: proportional to size)")
    p.add_argument("--num-rows", type=positive_int, help="total rows (default: sum of capped task sizes)")
    p.add_argument("--max-epochs-per-task", type=positive_float, help="limit on up-sampling of small tasks")
    p.add_argument("--few-shot-ratio", type=probability, help="fraction of rows rendered few-shot (default 0)")
    p.add_argument("--max-shots", type=positive_int, help="few-shot rows get 1..K cases (default 3)")
    p.add_argument("--rewrite-prob", type=probability, help="probability of a rewritten definition (default 0)")
    p.add_argument("--definitions", dest="definitions_file", help="RewriteDefinitions.json (more rewrites)")
    p.add_argument("--max-prompt-chars", type=positive_int, help="drop shots from prompts longer than this")
    p.add_argument("--shot-pool-size", type=positive_int, help="training rows per task that shots are drawn from")
    p.add_argument("--format", choices=["prompt_completion", "messages"],
                   help="row format (default prompt_completion: TRL prompt/completion columns; messages: one "
                   "conversation column)")
    p.add_argument("--layout", choices=["official", "paper"],
                   help="prompt layout (default official: the MedS-Bench system + user messages that `medsins "
                   "bench` prompts with; paper: the paper's prose template in one user turn)")
    p.add_argument("--plain", action="store_true",
                   help="plain-text prompt/completion strings for a model WITHOUT a chat template (the official "
                   "plain text, ending with a newline) instead of chat turns")
    p.add_argument("--seed", type=int, help="seed (default 0)")
    p.add_argument("--no-dedup", action="store_true", help="keep duplicate (definition, input, output) rows")
    p.add_argument("--skip-invalid", action="store_true", help="skip invalid instances instead of stopping")
    p.add_argument("--exclude-contaminated", action="store_true",
                   help="drop training rows that overlap MedS-Bench test instances (see `medsins contamination`)")
    p.add_argument("--bench-source", help="where the MedS-Bench test splits are (default: --source)")
    p.add_argument("--contamination-ngram", type=positive_int, help="n-gram size of the overlap check (default 13)")
    p.add_argument("--contamination-threshold", type=probability,
                   help="share of a test instance's n-grams in one training row that counts as overlap (default 0.5)")


def spec_from_args(args: argparse.Namespace):
    from medsins_datasets.errors import MedsinsError
    from medsins_datasets.mixture import MixtureSpec

    base: dict = {}
    if args.config:
        import yaml

        try:
            with open(args.config, encoding="utf-8") as f:
                base = yaml.safe_load(f) or {}
        except (OSError, yaml.YAMLError) as e:
            raise MedsinsError(f"cannot read mixture config {args.config}: {e}") from e
        if not isinstance(base, dict):
            raise MedsinsError(f"mixture config {args.config} must be a mapping of MixtureSpec fields")
    for name in _LIST_OPTS + _SCALAR_OPTS + ("definitions_file",):
        v = getattr(args, name, None)
        if v is not None:
            base[name] = v
    if args.no_dedup:
        base["dedup"] = False
    if args.skip_invalid:
        base["skip_invalid"] = True
    if args.exclude_contaminated:
        base["exclude_contaminated"] = True
    if getattr(args, "plain", False):
        base["plain"] = True
    try:
        return MixtureSpec.from_dict(base)
    except MedsinsError as e:
        where = f" (in {args.config})" if args.config else ""
        raise MedsinsError(f"{e}{where}") from None


def run(args: argparse.Namespace) -> int:
    from medsins_datasets.errors import MedsinsError
    from medsins_datasets.mixture import plan_mixture, write_mixture

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
