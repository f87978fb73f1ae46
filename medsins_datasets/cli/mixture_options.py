"""The MixtureSpec options shared by ``medsins mix`` and ``medsins contamination``, and the spec
they describe (:func:`spec_from_args`, built by :meth:`MixtureSpec.from_file` / ``from_dict``).

A module of its own so that neither command imports the other.
"""

from __future__ import annotations

import argparse

from medsins_datasets.cli.argtypes import positive_float, positive_int, probability

#: CLI option -> MixtureSpec field, for options that map one to one
_LIST_OPTS = ("tasks", "categories", "domains", "languages", "access", "exclude_tasks", "splits")
_SCALAR_OPTS = ("max_per_task", "temperature", "few_shot_ratio", "max_shots", "rewrite_prob", "seed", "format",
                "layout", "num_rows", "max_epochs_per_task", "max_prompt_chars", "shot_pool_size", "bench_source",
                "contamination_ngram", "contamination_threshold")


def add_spec_options(p: argparse.ArgumentParser) -> None:
    """The MixtureSpec options (``--config`` and one option per field)."""
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
    """The :class:`~medsins_datasets.mixture.spec.MixtureSpec` of the options: the fields of
    ``--config`` (a YAML or JSON file), overridden by the options given."""
    from medsins_datasets.mixture.spec import MixtureSpec

    given: dict = {}
    for name in _LIST_OPTS + _SCALAR_OPTS + ("definitions_file",):
        v = getattr(args, name, None)
        if v is not None:
            given[name] = v
    if args.no_dedup:
        given["dedup"] = False
    if args.skip_invalid:
        given["skip_invalid"] = True
    if args.exclude_contaminated:
        given["exclude_contaminated"] = True
    if getattr(args, "plain", False):
        given["plain"] = True
    if args.config:
        return MixtureSpec.from_file(args.config, given)
    return MixtureSpec.from_dict(given)
