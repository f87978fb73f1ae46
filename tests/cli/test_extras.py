"""Every command works, or says which extra to install, in an environment without the optional extras.

The environment is real: a folder holding links to exactly the distributions that ``pip install
medsins`` (no extras) brings, i.e. the closure of ``install_requires`` in setup.cfg over the
installed packages' own requirements; commands run in ``python -S`` with only that folder and the
medsins package on the path. A library the code imports without declaring it fails here.
"""

from __future__ import annotations

import configparser
import importlib.metadata as md
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parents[2]
EXTRAS = ("torch", "transformers", "trl", "peft", "accelerate", "gguf", "matplotlib", "openpyxl", "tokenizers")


def _core_requirements() -> list[Requirement]:
    cfg = configparser.ConfigParser()
    cfg.read(REPO / "setup.cfg")
    lines = [ln.split("#")[0].strip() for ln in cfg["options"]["install_requires"].splitlines()]
    return [Requirement(ln) for ln in lines if ln]


def _closure() -> dict[str, md.Distribution]:
    todo = list(_core_requirements())
    seen: dict[str, md.Distribution] = {}
    while todo:
        req = todo.pop()
        if req.marker is not None and not req.marker.evaluate({"extra": ""}):
            continue
        name = re.sub(r"[-_.]+", "-", req.name).lower()
        if name in seen:
            continue
        try:
            dist = md.distribution(req.name)
        except md.PackageNotFoundError:
            pytest.fail(f"{req.name} (required by medsins without extras) is not installed")
        assert dist.version in req.specifier or not req.specifier, f"installed {req.name} {dist.version} !{req}"
        seen[name] = dist
        todo.extend(Requirement(r) for r in (dist.requires or []))
    return seen


@pytest.fixture(scope="module")
def bare_env(tmp_path_factory) -> Path:
    """A folder of links to the top-level modules of the core distributions only."""
    site = tmp_path_factory.mktemp("bare-site")
    for dist in _closure().values():
        tops = set()
        for f in dist.files or []:
            first = f.parts[0]
            if first in ("..", "__pycache__") or first.endswith(".pth"):  # metadata folders are kept
                continue
            if first.startswith("__editable__"):
                continue
            tops.add(first)
        base = Path(dist.locate_file(""))
        for top in tops:
            src, dst = base / top, site / top
            if src.exists() and not dst.exists():
                dst.symlink_to(src)
    for name in EXTRAS:
        assert not (site / name).exists(), f"{name} is an optional extra, yet a core requirement pulls it in"
    return site


def _run(site: Path, argv: list[str], cwd: Path, *, script: str | None = None) -> subprocess.CompletedProcess:
    boot = (
        "import sys\n"
        f"sys.path[:0] = [{str(site)!r}]\n"
        # the editable install's finder maps loading_scripts/ and metrics/ into the package
        f"sys.path.append({str(REPO)!r})\n"
    )
    finder = next((Path(p) for p in sys.path if p and list(Path(p).glob("__editable___medsins_*_finder.py"))),
                  None)
    if finder is not None:
        mod = next(finder.glob("__editable___medsins_*_finder.py")).stem
        boot += f"sys.path.append({str(finder)!r})\nimport {mod}\n{mod}.install()\nsys.path.remove({str(finder)!r})\n"
    if script:
        boot += f"sys.argv = [{script!r}, *{argv!r}]\nimport runpy\nrunpy.run_path({script!r}, run_name='__main__')\n"
    else:
        boot += f"from medsins_datasets.cli import main\nsys.exit(main({argv!r}))\n"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(HF_HUB_OFFLINE="1", HF_EVALUATE_OFFLINE="1")
    return subprocess.run([sys.executable, "-S", "-c", boot], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300)


def test_the_bare_environment_really_lacks_the_extras(bare_env, tmp_path):
    code = (f"import sys; sys.path[:0] = [{str(bare_env)!r}]\n"
            "import datasets, evaluate, huggingface_hub, pyarrow, pandas, xxhash, yaml, nltk\n"
            f"for m in {EXTRAS!r}:\n"
            "    try:\n        __import__(m)\n    except ImportError:\n        continue\n"
            "    raise SystemExit(m + ' is importable')\n")
    proc = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_help_of_every_command_without_extras(bare_env, tmp_path):
    from medsins_datasets.cli.app import COMMAND_MODULES

    proc = _run(bare_env, ["--help"], tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    for mod in COMMAND_MODULES:
        cmd = mod.removeprefix("cmd_").replace("_", "-")
        proc = _run(bare_env, [cmd, "--help"], tmp_path)
        assert proc.returncode == 0 and "usage:" in proc.stdout, (cmd, proc.stderr[-2000:])


def test_core_commands_work_without_extras(bare_env, tmp_path):
    proc = _run(bare_env, ["tasks", "--category", "Question Answering"], tmp_path)
    assert proc.returncode == 0 and "medqa_en" in proc.stdout, proc.stderr[-2000:]
    preds = tmp_path / "preds.jsonl"
    preds.write_text(json.dumps({"task": "medqa_en", "prediction": "The right answer is A: x",
                                 "reference": "The right answer is A: x"}) + "\n")
    proc = _run(bare_env, ["score", str(preds), "--bootstrap", "0", "--json"], tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads(proc.stdout)["tasks"]["medqa_en"]["accuracy"] == 100.0
    proc = _run(bare_env, ["build", "--source", str(REPO / "medsins_datasets" / "data" / "bench_slice"),
                           "--tasks", "medqa_en", "--out", str(tmp_path / "built")], tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]


@pytest.mark.parametrize("argv,extra", [
    (["bench", "--output", "{tmp}/run"], "bench"),
    (["bench", "--backend", "vllm", "--model", "m", "--output", "{tmp}/run2"], "bench"),
    (["leaderboard", "{run}", "--out", "{tmp}/lb"], "bench"),
    (["convert", "medicationqa", "--data-dir", str(REPO / "tests" / "fixtures" / "medicationqa"),
      "--out", "{tmp}/conv"], "convert"),
])
def test_commands_needing_an_extra_name_it(bare_env, tmp_path, argv, extra):
    run = tmp_path / "finished"
    run.mkdir()
    table1 = {c: {"accuracy": 50.0} for c in ("MedQA", "MedMCQA", "PubMedQA")}  # three columns: a radar chart
    (run / "results.json").write_text(json.dumps({"model": "m", "tables": {"table1": table1}, "tasks": {}}))
    args = [a.format(tmp=tmp_path, run=run) for a in argv]
    proc = _run(bare_env, args, tmp_path)
    last = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else ""
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
    assert f"pip install 'medsins[{extra}]'" in last, last


def test_training_recipe_names_the_train_extra(bare_env, tmp_path):
    proc = _run(bare_env, ["--config", str(REPO / "recipes" / "tiny" / "sft" / "config.yaml")], tmp_path,
                script=str(REPO / "recipes" / "sft.py"))
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "pip install 'medsins[train]'" in proc.stderr.strip().splitlines()[-1], proc.stderr[-2000:]
