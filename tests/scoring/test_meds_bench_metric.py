"""The ``meds_bench`` evaluate metric: loading (path, bare name, installed path), inputs, errors, combine."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import evaluate
import pytest

from common import REPO_ROOT
from medsins_datasets import scoring as S
from medsins_datasets.errors import MedsinsError, UnknownTaskError

METRIC_DIR = REPO_ROOT / "metrics" / "meds_bench"


@pytest.fixture
def at_repo_root(monkeypatch):
    monkeypatch.chdir(REPO_ROOT)


@pytest.fixture
def metric(at_repo_root):
    return evaluate.load("metrics/meds_bench")


def test_load_from_repo_root_and_score(metric):
    assert isinstance(metric, evaluate.Metric)
    assert metric.name == "meds_bench"
    assert "tasks" in metric.features
    out = metric.compute(
        predictions=["The right answer is B.", "A", "患者因胸痛就诊。", "aspirin, ibuprofen."],
        references=["B: Aspirin", "C: Heparin", "患者胸痛就诊。", "aspirin, ibuprofen."],
        tasks=["medqa_en", "task57", "mmedbench_rationale_zh", "task126"],
        bootstrap=100,
    )
    direct = S.score(
        ["The right answer is B.", "A", "患者因胸痛就诊。", "aspirin, ibuprofen."],
        ["B: Aspirin", "C: Heparin", "患者胸痛就诊。", "aspirin, ibuprofen."],
        ["medqa_en", "task57", "mmedbench_rationale_zh", "task126"], bootstrap=100,
    )
    assert out == direct
    assert out["tasks"]["medqa_en"]["accuracy"] == 50.0
    assert out["tasks"]["bc5cdr_chemical_ner"]["f1"] == 100.0
    assert out["tables"]["table5"]["Chinese"]["bleu1"] > 0


def test_odd_predictions_pass_through_evaluate_unchanged(metric):
    preds = [None, float("nan"), 3, "", "x" * 200_000, "no"]
    refs = ["no", "no", "3", "A", "aspirin.", "no"]
    tasks = ["task123", "task123", "task1", "task57", "task125", "task123"]
    out = metric.compute(predictions=preds, references=refs, tasks=tasks, bootstrap=0)
    # None and NaN reach the official rule as the missing value ("nan" -> 'n' == "no")
    assert out["tasks"]["pubmedqa_pqal_test"]["accuracy"] == 100.0
    assert out["tasks"]["pico_participant"]["accuracy"] == 100.0  # the number 3 is the text "3"
    assert out["tasks"]["medqa_en"]["accuracy"] == 0.0  # empty string: no crash
    assert out["tasks"]["bc4chemd_chemical_ner"]["n"] == 1
    strict_off = metric.compute(predictions=preds, references=refs, tasks=tasks, bootstrap=0, strict=False)
    assert strict_off["tasks"]["pubmedqa_pqal_test"]["accuracy"] == pytest.approx(100 / 3)
    assert strict_off["settings"]["mode"] == "corrected"


def test_task_config_fixes_the_task(at_repo_root):
    m = evaluate.load("metrics/meds_bench", "task51")
    assert "tasks" not in m.features
    out = m.compute(predictions=["患者因胸痛就诊。"], references=["患者胸痛就诊。"], bootstrap=0)
    assert list(out["tasks"]) == ["mmedbench_rationale_zh"]
    with pytest.raises(MedsinsError, match="fixes the task"):
        m.compute(predictions=["a"], references=["a"], tasks=["task51"])
    diag = evaluate.load("metrics/meds_bench", "diagnosis")  # one-task category
    assert diag.compute(predictions=["pneumonia"], references=["The diagnosis result is pneumonia."],
                        bootstrap=0)["tasks"]["ddxplus_diagnosis"]["accuracy"] == 100.0


def test_category_config_checks_tasks_and_init_options(at_repo_root):
    m = evaluate.load("metrics/meds_bench", "mcqa", strict=False, bootstrap=0)
    out = m.compute(predictions=["E", "maybe"], references=["E", "maybe"], tasks=["task57", "task123"])
    assert out["tasks"]["medqa_en"]["accuracy"] == 100.0 and out["tasks"]["medqa_en"]["ci"] is None
    assert out["tasks"]["pubmedqa_pqal_test"]["accuracy"] == 100.0
    with pytest.raises(MedsinsError, match="Information Extraction"):
        m.compute(predictions=["a"], references=["a"], tasks=["task1"])
    with pytest.raises(UnknownTaskError, match="unknown meds_bench config"):
        evaluate.load("metrics/meds_bench", "nope")


@pytest.mark.parametrize("kwargs, match", [
    (dict(predictions=["a", "b"], references=["a"], tasks=["task57", "task57"]), "2 predictions but 1 references"),
    (dict(predictions=["a"], references=["a"], tasks=["task57", "task57"]), "task names"),
    (dict(predictions=["a"], references=["a"], tasks=["task9999"]), "unknown task"),
    (dict(predictions=["a"], references=[None], tasks=["task57"]), "references are missing for medqa_en"),
    (dict(predictions=["a"], references=None, tasks=["task57"]), "references are required"),
    (dict(predictions=["a"], references=["a"]), "`tasks` is required"),
    (dict(predictions=["a"], references=["a"], tasks=["task57"], bogus=1), "unknown argument"),
])
def test_bad_inputs_give_clear_errors(metric, kwargs, match):
    with pytest.raises(MedsinsError, match=match):
        metric.compute(**kwargs)
    # the metric is still usable afterwards
    assert metric.compute(predictions=["A"], references=["A"], tasks=["task57"],
                          bootstrap=0)["tasks"]["medqa_en"]["n"] == 1


def test_add_and_add_batch(metric):
    metric.add(prediction="A", reference="A", tasks="task57")
    metric.add_batch(predictions=[None, "B"], references=["no", ["B", "C"]], tasks=["task123", 57])
    out = metric.compute(bootstrap=0)
    assert out["tasks"]["medqa_en"] == {"task_id": "task57", "n": 2, "skipped": 0, "accuracy": 100.0, "ci": None}
    assert out["tasks"]["pubmedqa_pqal_test"]["accuracy"] == 100.0


def test_combine(at_repo_root, tmp_path):
    # a second, tiny local metric: exact match
    other = tmp_path / "exact_match_local"
    other.mkdir()
    (other / "exact_match_local.py").write_text(
        "import datasets\nimport evaluate\n\n"
        "class ExactMatchLocal(evaluate.Metric):\n"
        "    def _info(self):\n"
        "        return evaluate.MetricInfo(description='', citation='', inputs_description='',\n"
        "            features=datasets.Features({'predictions': datasets.Value('string'),\n"
        "                                        'references': datasets.Value('string')}))\n"
        "    def _compute(self, predictions, references):\n"
        "        return {'exact_match': sum(p == r for p, r in zip(predictions, references)) / len(predictions)}\n"
    )
    combined = evaluate.combine([evaluate.load("metrics/meds_bench", "medqa_en", bootstrap=0),
                                 evaluate.load(str(other))])
    out = combined.compute(predictions=["A", "B: x"], references=["A", "C"])
    assert out["exact_match"] == 0.5
    assert out["tasks"]["medqa_en"]["accuracy"] == 50.0
    two = evaluate.combine([evaluate.load("metrics/meds_bench", "task57", bootstrap=0),
                            evaluate.load("metrics/meds_bench", "task58", bootstrap=0)], force_prefix=True)
    both = two.compute(predictions=["A"], references=["A"])
    assert any(k.endswith("tasks") for k in both)


def test_metric_path_helper_loads_from_another_cwd(tmp_path, monkeypatch):
    path = S.metric_path()
    assert Path(path, "meds_bench.py").is_file() and Path(path, "README.md").is_file()
    monkeypatch.chdir(tmp_path)
    m = evaluate.load(path, "task57")
    assert m.compute(predictions=["A"], references=["A"], bootstrap=0)["tasks"]["medqa_en"]["accuracy"] == 100.0


def test_bare_name_from_a_cwd_folder(tmp_path, monkeypatch):
    shutil.copytree(METRIC_DIR, tmp_path / "meds_bench")
    monkeypatch.chdir(tmp_path)
    m = evaluate.load("meds_bench", "task57")
    assert m.compute(predictions=["A"], references=["B"], bootstrap=0)["tasks"]["medqa_en"]["accuracy"] == 0.0


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A real, non-editable install of this checkout (no dependencies) in its own folder."""
    target = tmp_path_factory.mktemp("site")
    res = subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "--no-compile",
         "--target", str(target), str(REPO_ROOT)],
        capture_output=True, text=True, env={**os.environ, "TMPDIR": str(tmp_path_factory.mktemp("build"))},
    )
    assert res.returncode == 0, res.stderr[-2000:]
    return target


def test_installed_metric_path_and_bare_name_registration(installed, tmp_path):
    """From an unrelated directory: the installed metric via metric_path() (with its Space files
    and the evaluation suite shipped beside it), then the bare name after register_metric() into an
    isolated modules cache (and not before: importing medsins registers nothing)."""
    cache = tmp_path / "modules"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "HF_MODULES_CACHE": str(cache), "HF_EVALUATE_OFFLINE": "1", "HF_HUB_OFFLINE": "1",
           "PYTHONPATH": str(installed), "PYTHONNOUSERSITE": "1"}
    code = (
        "import json, os, evaluate, medsins_datasets, medsins_datasets.cli, medsins_datasets.scoring\n"
        "from medsins_datasets.scoring import metric_path, register_metric\n"
        "cache = os.environ['HF_MODULES_CACHE']\n"
        "registered_at_import = os.path.isdir(os.path.join(cache, 'evaluate_modules', 'metrics', "
        "'evaluate-metric--meds_bench'))\n"
        "files = sorted(os.listdir(metric_path()))\n"
        "suite_dir = metric_path('meds_bench_suite')\n"
        "suite = evaluate.EvaluationSuite.load(suite_dir)\n"
        "import medsins_datasets.metrics.suite_evaluator as se\n"
        "m = evaluate.load(metric_path(), 'task57')\n"
        "via_path = m.compute(predictions=['A'], references=['B'], bootstrap=0)['tasks']['medqa_en']['accuracy']\n"
        "try:\n"
        "    evaluate.load('meds_bench')\n"
        "    before = 'found'\n"
        "except FileNotFoundError:\n"
        "    before = 'not found'\n"
        "where = register_metric()\n"
        "m = evaluate.load('meds_bench', 'task57')\n"
        "bare = m.compute(predictions=['A'], references=['A'], bootstrap=0)['tasks']['medqa_en']['accuracy']\n"
        "print(json.dumps({'package': medsins_datasets.__file__, 'path': metric_path(), 'via_path': via_path,\n"
        "                  'before': before, 'where': where, 'bare': bare, 'files': files, 'suite_dir': suite_dir,\n"
        "                  'suite': [type(suite).__name__, suite.data, suite.protocol], 'evaluator': se.__file__,\n"
        "                  'registered_at_import': registered_at_import}))\n"
    )
    res = subprocess.run([sys.executable, "-c", code], cwd=elsewhere, env=env, capture_output=True, text=True,
                         timeout=180)
    assert res.returncode == 0, res.stderr[-3000:]
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert out["package"].startswith(str(installed)) and out["path"].startswith(str(installed))
    assert out["via_path"] == 0.0
    assert out["before"] == "not found"  # offline and unregistered: the bare name does not resolve
    assert out["bare"] == 100.0
    assert out["where"].startswith(str(cache))
    assert not (elsewhere / "meds_bench").exists()  # nothing written outside the isolated cache
    assert out["registered_at_import"] is False
    assert {"meds_bench.py", "README.md", "app.py", "requirements.txt"} <= set(out["files"])  # the Space files
    assert out["suite_dir"].startswith(str(installed)) and out["evaluator"].startswith(str(installed))
    assert out["suite"] == ["Suite", "medsins", "official"]
    assert Path(out["suite_dir"], "meds_bench_suite.py").is_file() and Path(out["suite_dir"], "README.md").is_file()


def test_metric_card_front_matter():
    import yaml

    text = (METRIC_DIR / "README.md").read_text(encoding="utf-8")
    assert text.startswith("---\n")
    meta = yaml.safe_load(text.split("---\n")[1])
    assert meta["title"] and "metric" in meta["tags"] and meta["description"]
    for section in ("## Metric Description", "## How to Use", "### Inputs", "### Output Values",
                    "## Limitations and Bias", "## Citation"):
        assert section in text, section
    # every official quirk kept in the official mode is documented in the card
    for quirk in ("maybe", "enetity", "beyond D", "nan"):
        assert quirk in text, quirk


def test_register_metric_is_explicit_idempotent_and_copies_the_metric_only(tmp_path):
    first = S.register_metric(str(tmp_path / "modules"))
    assert Path(first).is_relative_to(tmp_path / "modules")
    assert sorted(p.name for p in Path(first).iterdir()) == ["README.md", "__init__.py", "meds_bench.py"]
    assert (Path(first) / "meds_bench.py").read_bytes() == (METRIC_DIR / "meds_bench.py").read_bytes()
    assert S.register_metric(str(tmp_path / "modules")) == first  # same content, same folder
    assert len(list(Path(first).parent.iterdir())) == 2  # that folder and its __init__.py
    with pytest.raises(MedsinsError, match="unknown medsins evaluate module 'rouge'"):
        S.metric_path("rouge")
    assert Path(S.metric_path("meds_bench_suite"), "meds_bench_suite.py").is_file()
