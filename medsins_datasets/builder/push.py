"""Upload a hub-native build to the Hugging Face Hub, with a guard for credentialed data.

Credentialed tasks (MIMIC-*, MedNLI, anything a converter marked credentialed) are never
pushed to a public repo, and pushing them to a private repo needs ``allow_credentialed``.
"""

from __future__ import annotations

import logging
from pathlib import Path

from medsins_datasets.builder.manifest import BUILD_MANIFEST, read_build_manifest
from medsins_datasets.errors import CredentialedDataError
from medsins_datasets.registry.tasks import get_task

logger = logging.getLogger(__name__)


def credentialed_configs(out: str | Path) -> list[str]:
    """Configs of a build that hold credentialed data (by registry access or by marking)."""
    manifest = read_build_manifest(out)
    names = []
    for name, info in manifest.get("configs", {}).items():
        if info.get("credentialed") or get_task(name).is_credentialed:
            names.append(name)
    return names


def check_push_allowed(out: str | Path, *, private: bool, allow_credentialed: bool) -> list[str]:
    cred = credentialed_configs(out)
    if cred and not private:
        raise CredentialedDataError(
            f"refusing to push {out} to a public repo: it holds credentialed data ({', '.join(cred)}). "
            "Credentialed data (MIMIC-*, MedNLI...) may never be made public; rebuild without those tasks "
            "or push to a private repo with --private --allow-credentialed."
        )
    if cred and not allow_credentialed:
        raise CredentialedDataError(
            f"{out} holds credentialed data ({', '.join(cred)}): pushing it even to a private repo needs "
            "--allow-credentialed (make sure everyone with access holds the data-use agreement)."
        )
    return cred


def push(
    out: str | Path,
    repo_id: str,
    *,
    private: bool = False,
    allow_credentialed: bool = False,
    revision: str | None = None,
    commit_message: str | None = None,
    token: str | None = None,
    api=None,
) -> str:
    """Create (if needed) the dataset repo and upload the build. Returns the commit URL."""
    from huggingface_hub import HfApi

    out = Path(out)
    cred = check_push_allowed(out, private=private, allow_credentialed=allow_credentialed)
    api = api or HfApi(token=token)
    api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
    if cred:
        # create_repo(exist_ok=True) does not change an existing repo's visibility: check it.
        info = api.repo_info(repo_id, repo_type="dataset")
        if not getattr(info, "private", False):
            raise CredentialedDataError(
                f"refusing to push credentialed data: dataset repo {repo_id} exists and is public"
            )
    n = len(read_build_manifest(out).get("configs", {}))
    commit = api.upload_folder(
        repo_id=repo_id,
        folder_path=str(out),
        repo_type="dataset",
        revision=revision,
        commit_message=commit_message or f"Upload {n} MedS-Ins task configs with medsins",
        ignore_patterns=[BUILD_MANIFEST, ".*", "**/.*"],
    )
    url = getattr(commit, "commit_url", None) or str(commit)
    logger.info("pushed %s to %s: %s", out, repo_id, url)
    return url
