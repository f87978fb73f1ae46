"""``medsins push-metric ORG/meds_bench``: publish the ``meds_bench`` metric as a Hub Space.

``evaluate.load("ORG/meds_bench")`` downloads ``meds_bench.py`` from the Space ``ORG/meds_bench``
(evaluate's community-module route), and the Space itself runs ``app.py`` (the metric widget),
installing ``requirements.txt`` first. The metric folder shipped in the package
(``medsins_datasets.scoring.metric_path()``) holds exactly those files; this command creates the
Space (``sdk: gradio``) and uploads them, and nothing else: an allow-list, so that a stray file in
an editable checkout (caches, notes) never reaches the Hub.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

logger = logging.getLogger(__name__)

#: the metric name: evaluate.load("ORG/<name>") fetches <name>.py, so the Space must carry it
METRIC_NAME = "meds_bench"
#: the only files uploaded (all of them must be in the metric folder)
SPACE_FILES = ("meds_bench.py", "app.py", "requirements.txt", "README.md")


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "push-metric", help="publish the meds_bench metric as a Hub Space (evaluate.load('ORG/meds_bench'))",
        description="Create the Space ORG/meds_bench (sdk gradio) if needed and upload the installed metric "
        f"folder's {', '.join(SPACE_FILES)} (nothing else). Afterwards evaluate.load('ORG/meds_bench') works "
        "online from any directory, and the Space shows the metric widget. Needs a write token (HF_TOKEN or "
        "`hf auth login`).")
    p.add_argument("repo_id", metavar="ORG/meds_bench",
                   help="the Space to create or update; its name must be meds_bench (evaluate fetches NAME.py)")
    p.add_argument("--private", action="store_true", help="create the Space private (an existing Space keeps "
                   "its visibility)")
    p.add_argument("--medsins-requirement", metavar="SPEC",
                   help="the line of the Space's requirements.txt that installs medsins (default: medsins==VERSION "
                   "from PyPI), e.g. 'medsins @ git+https://HOST/ORG/medsins@v0.1.0'")
    p.add_argument("--revision", help="branch to push to (default main)")
    p.add_argument("--message", help="commit message")
    return p


def check_repo_id(repo_id: str) -> None:
    """``ORG/meds_bench``: a valid Hub id whose name is the metric's (else a one-line error)."""
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    from medsins_datasets.errors import MedsinsError

    if repo_id.count("/") != 1:
        raise MedsinsError(f"repo id {repo_id!r}: expected ORG/{METRIC_NAME} (a namespace, a slash, the name)")
    try:
        validate_repo_id(repo_id)
    except HFValidationError as e:
        raise MedsinsError(f"repo id {repo_id!r} is not a valid Hub id: {e}") from None
    name = repo_id.split("/")[1]
    if name != METRIC_NAME:
        raise MedsinsError(
            f"repo id {repo_id!r}: the Space must be named {METRIC_NAME} (evaluate.load('ORG/NAME') downloads "
            f"NAME.py, and the metric script is {METRIC_NAME}.py); use {repo_id.split('/')[0]}/{METRIC_NAME}")


def check_metric_folder(folder: str | Path) -> Path:
    """The metric folder holds every file of :data:`SPACE_FILES` and its card is a gradio Space's
    whose ``app_file`` is one of them."""
    from huggingface_hub import SpaceCard

    from medsins_datasets.errors import MedsinsError

    folder = Path(folder)
    missing = [f for f in SPACE_FILES if not (folder / f).is_file()]
    if missing:
        raise MedsinsError(f"the metric folder {folder} lacks {', '.join(missing)} (reinstall medsins)")
    data = SpaceCard.load(folder / "README.md", repo_type="space").data
    if data.get("sdk") != "gradio" or data.get("app_file") not in SPACE_FILES:
        raise MedsinsError(f"{folder / 'README.md'}: the card must say sdk: gradio and app_file: app.py "
                           f"(found sdk {data.get('sdk')!r}, app_file {data.get('app_file')!r})")
    return folder


def with_medsins_requirement(src: Path, dest: Path, spec: str) -> Path:
    """A copy of the Space files of ``src`` in ``dest`` whose requirements.txt installs medsins with
    ``spec`` (a pip requirement naming medsins) instead of the default ``medsins==VERSION``."""
    import re
    import shutil

    from medsins_datasets.errors import MedsinsError

    spec = spec.strip()
    # medsins, optional extras, then a version specifier or a direct reference ("@ URL"), one line
    version = r"[=<>!~]=?\s*[\w.*+!-]+"
    if not re.fullmatch(rf"medsins(\s*\[[\w,\s-]*\])?\s*((@\s*\S+)|({version}(\s*,\s*{version})*))?", spec,
                        flags=re.IGNORECASE):
        raise MedsinsError(f"--medsins-requirement {spec!r} must be one requirement for medsins "
                           "(e.g. 'medsins @ git+https://HOST/ORG/medsins@v0.1.0')")
    for f in SPACE_FILES:
        shutil.copyfile(src / f, dest / f)
    lines = (src / "requirements.txt").read_text(encoding="utf-8").splitlines()
    named = [i for i, line in enumerate(lines) if line.split("#", 1)[0].strip().lower().startswith("medsins")]
    if len(named) != 1:
        raise MedsinsError(f"{src / 'requirements.txt'} must have exactly one medsins line (found {len(named)})")
    lines[named[0]] = spec
    (dest / "requirements.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return dest


def push_metric(repo_id: str, *, private: bool = False, revision: str | None = None,
                commit_message: str | None = None, folder: str | Path | None = None,
                medsins_requirement: str | None = None, token: str | None = None, api=None) -> str:
    """Create the Space ``repo_id`` (gradio) if needed and upload the metric's Space files to it;
    returns the commit URL. ``folder`` defaults to the installed metric (:func:`metric_path`);
    ``medsins_requirement`` replaces its requirements.txt line for medsins in the upload."""
    import tempfile

    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError

    from medsins_datasets import __version__
    from medsins_datasets.errors import MedsinsError
    from medsins_datasets.scoring import metric_path

    check_repo_id(repo_id)
    src = check_metric_folder(folder or metric_path())
    api = api or HfApi(token=token)
    try:
        with tempfile.TemporaryDirectory(prefix="medsins-space-") as tmp:
            if medsins_requirement is not None:
                src = with_medsins_requirement(src, Path(tmp), medsins_requirement)
            api.create_repo(repo_id, repo_type="space", space_sdk="gradio", private=private, exist_ok=True)
            info = api.upload_folder(repo_id=repo_id, folder_path=str(src), repo_type="space", revision=revision,
                                     allow_patterns=list(SPACE_FILES),
                                     commit_message=commit_message or f"meds_bench metric from medsins {__version__}")
    except HfHubHTTPError as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise MedsinsError(f"pushing the metric to the Space {repo_id} failed: {first}") from None
    url = str(getattr(info, "commit_url", None) or info)
    logger.info("pushed %s to the Space %s: %s", src, repo_id, url)
    return url


def run(args: argparse.Namespace) -> int:
    url = push_metric(args.repo_id, private=args.private, revision=args.revision, commit_message=args.message,
                      medsins_requirement=args.medsins_requirement)
    print(url)
    print(f"load it with: evaluate.load({args.repo_id!r})")
    return 0
