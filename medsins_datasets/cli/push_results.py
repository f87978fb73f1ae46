"""``medsins push-results``: a run's MedS-Bench scores into a Hub model repo's card (model-index)."""

from __future__ import annotations

import argparse


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "push-results", help="write a bench run's scores into a Hub model repo's card (model-index)",
        description="Read RUN/results.json (a finished `medsins bench --output RUN`) and write its scores into "
        "the model card (README.md) of the existing model repo MODEL_REPO as `model-index` evaluation results, "
        "the metadata the Hub shows as a model's evaluation results: one result per task and metric, on the "
        "benchmark dataset, the task's config and the test split. The card's text and other metadata are kept; "
        "results for the same task, dataset, split and metric are replaced, others kept. A repo without a card "
        "gets one. Only README.md (and, with --eval-results, one .eval_results file) is uploaded, in one commit; "
        "never results.json or predictions. Runs on the bundled slice are refused.")
    p.add_argument("run", metavar="RUN", help="a run folder written by `medsins bench --output`")
    p.add_argument("repo_id", metavar="MODEL_REPO", help="the model repo on the Hub (ORG/NAME); it must exist")
    p.add_argument("--dataset", metavar="ORG/NAME",
                   help="the benchmark dataset the results are recorded on (default: the Hub repo the run read its "
                   "test data from, else Henrychur/MedS-Bench)")
    p.add_argument("--eval-results", action="store_true",
                   help="also write .eval_results/meds_bench.yaml (huggingface_hub's EvalResultEntry format: one "
                   "headline score per task), which the Hub aggregates for benchmark datasets it has registered")
    p.add_argument("--revision", help="branch to commit to (default main)")
    p.add_argument("--message", "--commit-message", dest="commit_message", help="commit message")
    return p


def run(args: argparse.Namespace) -> int:
    from medsins_datasets.runner.results_push import push_results

    rep = push_results(args.run, args.repo_id, dataset=args.dataset, eval_results_file=args.eval_results,
                       revision=args.revision, commit_message=args.commit_message)
    print(f"wrote {rep.results} scores of {rep.tasks} task(s) to {rep.repo_id} ({', '.join(rep.files)}): "
          f"{rep.commit_url}")
    return 0
