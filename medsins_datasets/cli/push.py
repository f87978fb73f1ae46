"""``medsins push``: upload a built folder to the Hub (credentialed data guarded)."""

from __future__ import annotations

import argparse


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "push", help="upload a built folder to the Hugging Face Hub",
        description="Upload a folder written by `medsins build` as a dataset repo. Credentialed tasks "
        "(MIMIC-*, MedNLI...) are never pushed to a public repo and need --allow-credentialed for a private one.",
    )
    p.add_argument("out", help="folder written by `medsins build`")
    p.add_argument("--repo-id", required=True, help="ORG/NAME of the dataset repo")
    p.add_argument("--private", action="store_true", help="create the repo private")
    p.add_argument("--allow-credentialed", action="store_true",
                   help="allow credentialed tasks (private repos only)")
    p.add_argument("--revision", help="branch to push to")
    p.add_argument("--message", help="commit message")
    return p


def run(args: argparse.Namespace) -> int:
    from medsins_datasets.builder.push import push

    url = push(args.out, args.repo_id, private=args.private, allow_credentialed=args.allow_credentialed,
               revision=args.revision, commit_message=args.message)
    print(url)
    return 0
