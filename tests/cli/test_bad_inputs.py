"""A corpus of bad inputs over every command: each ends in exit code 2 with a clear last line that
names the file, field, option or task, no traceback, and nothing outside the output touched.

Every case runs the installed ``medsins`` command (or ``recipes/sft.py``) as a subprocess, as a user
would, in an empty working folder of its own; the cases run a few at a time. Before and after the
whole corpus, every file the cases point at is compared byte for byte, and every working folder
must still be empty.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

DEF = ["Answer the question."]


def _task(path: Path, instances, **extra) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"Definition": DEF, "Instances": instances, **extra}, indent=2), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> dict[str, Path]:
    """Files the cases point at (never modified by any case)."""
    root = tmp_path_factory.mktemp("bad")
    good = root / "good"
    _task(good / "MCQA" / "task57_medqa_question_answering_en.jsonl",
          [{"input": f"Question: q{i}?\nOptions: A: x\tB: y\t", "output": "The right answer is A: x"} for i in range(4)])
    empty = root / "empty"
    empty.mkdir()
    (empty / "README.md").write_text("# nothing here\n")
    bad_json = root / "badjson"
    (bad_json / "MCQA").mkdir(parents=True)
    (bad_json / "MCQA" / "task57_medqa.json").write_text('{"Definition": ["d"], "Instances": [{"input": "q"')
    nested = root / "nested"
    (nested / "MCQA").mkdir(parents=True)
    (nested / "MCQA" / "task57_medqa.json").write_text(
        '{"Definition": ["d"], "Instances": [{"input": "q", "output": ' + "[" * 100_000 + "]" * 100_000 + "}]}")
    bad_output = root / "badoutput"
    _task(bad_output / "MCQA" / "task57_medqa.json", [{"input": "q", "output": {"a": 1}}])
    dangling = root / "dangling"
    dangling.mkdir()
    (dangling / "task57_medqa.json").symlink_to(root / "nowhere.json")
    outside = root / "outside"
    outside.mkdir()
    (outside / "task57_medqa.json").symlink_to(good / "MCQA" / "task57_medqa_question_answering_en.jsonl")
    a_file = root / "a_file"
    a_file.write_text("not a folder")
    preds = root / "preds"
    preds.mkdir()
    (preds / "no_reference.jsonl").write_text(json.dumps({"task": "medqa_en", "prediction": "A"}) + "\n")
    (preds / "list_prediction.jsonl").write_text(
        json.dumps({"task": "medqa_en", "prediction": ["A"], "reference": "A"}) + "\n")
    (preds / "bad_utf8.jsonl").write_bytes(b'{"task": "medqa_en", "prediction": "\xff", "reference": "A"}\n')
    (preds / "not_json.jsonl").write_text("this is not json\n")
    (preds / "unknown_task.jsonl").write_text(
        json.dumps({"task": "no_such_task", "prediction": "A", "reference": "A"}) + "\n")
    run = root / "run"
    run.mkdir()
    (run / "results.json").write_text("{not json")
    notbuilt = root / "notbuilt"
    notbuilt.mkdir()
    surrogate = root / "surrogate"
    (surrogate / "MCQA").mkdir(parents=True)
    (surrogate / "MCQA" / "task57_medqa.json").write_text(
        '{"Definition": ["d"], "Instances": [{"input": "q \\ud800 x", "output": "A"}]}')
    bad_def = root / "baddef"
    _task(bad_def / "MCQA" / "task57_medqa.json", [{"input": "q", "output": "A"}])
    (bad_def / "MCQA" / "task57_medqa.json").write_text(
        json.dumps({"Definition": [], "Instances": [{"input": "q", "output": "A"}]}))
    no_instances = root / "noinstances"
    (no_instances / "MCQA").mkdir(parents=True)
    (no_instances / "MCQA" / "task57_medqa.json").write_text(json.dumps({"Definition": ["d"]}))
    empty_input = root / "emptyinput"
    _task(empty_input / "MCQA" / "task57_medqa.json", [{"input": "  ", "output": "A"}])
    dup_ids = root / "dupids"
    _task(dup_ids / "MCQA" / "task57_medqa_a.json", [{"id": "x", "input": "q1", "output": "A"}])
    _task(dup_ids / "MCQA" / "task57_medqa_b.json", [{"id": "x", "input": "q2", "output": "A"}])
    user = root / "userdir"  # a user's own folder: no command may change it
    user.mkdir()
    (user / "notes.txt").write_text("my notes")
    (user / "README.md").write_text("# my project")
    (preds / "empty_task.jsonl").write_text(json.dumps({"task": "", "prediction": "A", "reference": "A"}) + "\n")
    (preds / "array_line.jsonl").write_text("[1, 2]\n")
    (preds / "no_rows.jsonl").write_text("\n")
    (preds / "deep.jsonl").write_text('{"task": "medqa_en", "prediction": ' + "[" * 100_000 + "]" * 100_000 + "}\n")
    (preds / "no_pred.csv").write_text("task,reference\nmedqa_en,A\n")
    (preds / "null_reference.jsonl").write_text(
        json.dumps({"task": "medqa_en", "prediction": "A", "reference": None}) + "\n")
    (run / "sub").mkdir()
    finished = root / "finished"
    finished.mkdir()
    (finished / "results.json").write_text(json.dumps({"model": "m", "tables": {}, "tasks": {}}))
    (preds / "good.jsonl").write_text(json.dumps({"task": "medqa_en", "prediction": "A", "reference": "A"}) + "\n")
    (root / "bad.yaml").write_text("a: [\n")
    (root / "list.yaml").write_text("- 1\n")
    (root / "unknown_key.yaml").write_text("use_cpu: true\nbf16: false\nno_such_option: 1\n")
    (root / "mix_bad.yaml").write_text("temperature: [\n")
    (root / "mix_unknown.yaml").write_text("no_such_field: 3\n")
    (root / "mix_list.yaml").write_text("- 1\n")
    return {"good": good, "empty": empty, "badjson": bad_json, "nested": nested, "badoutput": bad_output,
            "dangling": dangling, "outside": outside, "a_file": a_file, "preds": preds, "run": run,
            "notbuilt": notbuilt, "surrogate": surrogate, "baddef": bad_def, "noinstances": no_instances,
            "emptyinput": empty_input, "dupids": dup_ids, "userdir": user, "finished": finished, "root": root}


# (case id, argv with {placeholders}, text the last stderr line must contain)
CASES = [
    # bench: options
    ("bench-limit-0", ["bench", "--limit", "0", "--output", "{out}"], "--limit"),
    ("bench-limit-neg", ["bench", "--limit", "-1", "--output", "{out}"], "--limit"),
    ("bench-limit-text", ["bench", "--limit", "ten", "--output", "{out}"], "--limit"),
    ("bench-shots-neg", ["bench", "--shots", "-1", "--output", "{out}"], "--shots"),
    ("bench-batch-0", ["bench", "--batch-size", "0", "--output", "{out}"], "--batch-size"),
    ("bench-max-new-0", ["bench", "--max-new-tokens", "0", "--output", "{out}"], "--max-new-tokens"),
    ("bench-max-prompt-chars-0", ["bench", "--max-prompt-chars", "0", "--output", "{out}"], "--max-prompt-chars"),
    ("bench-max-prompt-tokens-neg", ["bench", "--max-prompt-tokens", "-1", "--output", "{out}"],
     "--max-prompt-tokens"),
    ("bench-bootstrap-neg", ["bench", "--bootstrap", "-5", "--output", "{out}"], "--bootstrap"),
    ("bench-concurrency-0", ["bench", "--concurrency", "0", "--output", "{out}"], "--concurrency"),
    ("bench-timeout-0", ["bench", "--timeout", "0", "--output", "{out}"], "--timeout"),
    ("bench-timeout-nan", ["bench", "--timeout", "nan", "--output", "{out}"], "--timeout"),
    ("bench-retries-neg", ["bench", "--retries", "-1", "--output", "{out}"], "--retries"),
    ("bench-tp-0", ["bench", "--tensor-parallel-size", "0", "--output", "{out}"], "--tensor-parallel-size"),
    ("bench-protocol", ["bench", "--protocol", "mine", "--output", "{out}"], "--protocol"),
    ("bench-backend", ["bench", "--backend", "tgi", "--output", "{out}"], "--backend"),
    ("bench-openai-no-model", ["bench", "--backend", "openai", "--output", "{out}"], "needs --model"),
    ("bench-budget-syntax", ["bench", "--budget", "Rationale", "--output", "{out}"], "--budget"),
    ("bench-budget-zero", ["bench", "--budget", "task57=0", "--output", "{out}"], "positive integer"),
    ("bench-budget-unknown", ["bench", "--budget", "nosuch=5", "--output", "{out}"], "nosuch"),
    ("bench-no-output", ["bench"], "--output"),
    # bench: data
    ("bench-unknown-task", ["bench", "--tasks", "no_such_task", "--output", "{out}"], "no_such_task"),
    ("bench-not-bench-task", ["bench", "--tasks", "pico_participant_explanation", "--output", "{out}"],
     "pico_participant_explanation"),
    ("bench-unknown-category", ["bench", "--categories", "Poetry", "--output", "{out}"], "Poetry"),
    ("bench-missing-source", ["bench", "--source", "{root}/missing", "--output", "{out}"], "missing"),
    ("bench-empty-source", ["bench", "--source", "{empty}", "--output", "{out}"], "holds no task files"),
    ("bench-credentialed", ["bench", "--tasks", "mednli_discriminative", "--source", "{good}", "--output", "{out}"],
     "credentialed"),
    ("bench-bad-json", ["bench", "--source", "{badjson}", "--output", "{out}"], "task57_medqa.json"),
    ("bench-nested-json", ["bench", "--source", "{nested}", "--output", "{out}"], "nested too deeply"),
    ("bench-bad-output", ["bench", "--source", "{badoutput}", "--output", "{out}"], "field 'output'"),
    ("bench-dangling-link", ["bench", "--source", "{dangling}", "--output", "{out}"], "dangling"),
    ("bench-outside-link", ["bench", "--source", "{outside}", "--output", "{out}"], "outside the source folder"),
    ("bench-revision-local", ["bench", "--source", "{good}", "--revision", "main", "--output", "{out}"],
     "--revision"),
    # render
    ("render-shots-neg", ["render", "--source", "{good}", "--task", "task57", "--shots", "-1"], "--shots"),
    ("render-limit-neg", ["render", "--source", "{good}", "--task", "task57", "--limit", "-2"], "--limit"),
    ("render-chars-0", ["render", "--source", "{good}", "--task", "task57", "--max-prompt-chars", "0"],
     "--max-prompt-chars"),
    ("render-unknown-task", ["render", "--source", "{good}", "--task", "nope"], "nope"),
    ("render-missing-task", ["render", "--source", "{good}", "--task", "task58"], "medqa_zh"),
    ("render-empty-source", ["render", "--bench", "--source", "{empty}", "--task", "task57"], "holds no task files"),
    ("render-split", ["render", "--source", "{good}", "--task", "task57", "--split", "train"], "no train split"),
    ("render-bad-output", ["render", "--bench", "--source", "{badoutput}", "--task", "task57"], "field 'output'"),
    # build
    ("build-missing-source", ["build", "--source", "{root}/missing", "--out", "{out}"], "missing"),
    ("build-empty-source", ["build", "--source", "{empty}", "--out", "{out}"], "holds no task files"),
    ("build-unknown-task", ["build", "--source", "{good}", "--tasks", "nope", "--out", "{out}"], "nope"),
    ("build-out-is-file", ["build", "--source", "{good}", "--out", "{a_file}"], "not a folder"),
    ("build-out-foreign", ["build", "--source", "{good}", "--out", "{empty}"], "did not write"),
    ("build-bad-json", ["build", "--source", "{badjson}", "--out", "{out}"], "task57_medqa.json"),
    ("build-raw-syntax", ["build", "--source", "raw:superni", "--out", "{out}"], "raw:<converter>"),
    ("build-raw-unknown", ["build", "--source", "raw:nope:{root}", "--out", "{out}"], "nope"),
    # convert
    ("convert-unknown", ["convert", "nope", "--data-dir", "{root}", "--out", "{out}"], "nope"),
    ("convert-missing-raw", ["convert", "pubmedqa", "--data-dir", "{empty}", "--out", "{out}"], "missing raw file"),
    ("convert-missing-dir", ["convert", "pubmedqa", "--data-dir", "{root}/missing", "--out", "{out}"], "missing"),
    ("convert-test-size-0", ["convert", "pubmedqa", "--data-dir", "{root}", "--out", "{out}", "--test-size", "0"],
     "--test-size"),
    # score
    ("score-missing-file", ["score", "{root}/missing.jsonl"], "missing.jsonl"),
    ("score-max-chars-neg", ["score", "{preds}/not_json.jsonl", "--max-prediction-chars", "-1"],
     "--max-prediction-chars"),
    ("score-num-proc-neg", ["score", "{preds}/not_json.jsonl", "--num-proc", "-3"], "--num-proc"),
    ("score-confidence", ["score", "{preds}/not_json.jsonl", "--confidence", "2"], "--confidence"),
    ("score-bootstrap-neg", ["score", "{preds}/not_json.jsonl", "--bootstrap", "-1"], "--bootstrap"),
    ("score-not-json", ["score", "{preds}/not_json.jsonl"], "not_json.jsonl"),
    ("score-no-reference", ["score", "{preds}/no_reference.jsonl"], "reference"),
    ("score-list-prediction", ["score", "{preds}/list_prediction.jsonl"], "list_prediction.jsonl"),
    ("score-bad-utf8", ["score", "{preds}/bad_utf8.jsonl"], "bad_utf8.jsonl"),
    ("score-unknown-task", ["score", "{preds}/unknown_task.jsonl"], "no_such_task"),
    # mix
    ("mix-temperature-0", ["mix", "--source", "{good}", "--out", "{out}", "--temperature", "0"], "--temperature"),
    ("mix-few-shot-ratio", ["mix", "--source", "{good}", "--out", "{out}", "--few-shot-ratio", "1.5"],
     "--few-shot-ratio"),
    ("mix-max-shots-0", ["mix", "--source", "{good}", "--out", "{out}", "--max-shots", "0"], "--max-shots"),
    ("mix-num-rows-neg", ["mix", "--source", "{good}", "--out", "{out}", "--num-rows", "-1"], "--num-rows"),
    ("mix-rewrite-prob", ["mix", "--source", "{good}", "--out", "{out}", "--rewrite-prob", "-0.1"], "--rewrite-prob"),
    ("mix-missing-source", ["mix", "--source", "{root}/missing", "--out", "{out}"], "missing"),
    # contamination
    ("contam-max-gram-neg", ["contamination", "--source", "{good}", "--max-gram-instances", "-1"],
     "--max-gram-instances"),
    ("contam-max-gram-0", ["contamination", "--source", "{good}", "--max-gram-instances", "0"],
     "--max-gram-instances"),
    # leaderboard / push
    ("leaderboard-missing", ["leaderboard", "{root}/missing", "--out", "{out}"], "results.json"),
    ("leaderboard-bad-results", ["leaderboard", "{run}", "--out", "{out}", "--no-charts"], "results.json"),
    ("push-not-built", ["push", "{notbuilt}", "--repo-id", "org/x"], "not a folder written by `medsins build`"),
    # tasks
    ("tasks-unknown-category", ["tasks", "--category", "Poetry"], "Poetry"),
    # task files: every reader names the file, instance and field
    ("build-surrogate", ["build", "--source", "{surrogate}", "--out", "{out}"], "lone surrogate"),
    ("render-surrogate", ["render", "--bench", "--source", "{surrogate}", "--task", "task57"], "lone surrogate"),
    ("bench-surrogate", ["bench", "--source", "{surrogate}", "--output", "{out}"], "lone surrogate"),
    ("build-empty-definition", ["build", "--source", "{baddef}", "--out", "{out}"], "Definition"),
    ("build-no-instances", ["build", "--source", "{noinstances}", "--out", "{out}"], "Instances"),
    ("build-empty-input", ["build", "--source", "{emptyinput}", "--out", "{out}"], "field 'input'"),
    ("build-nested-json", ["build", "--source", "{nested}", "--out", "{out}"], "nested too deeply"),
    ("build-dangling-link", ["build", "--source", "{dangling}", "--out", "{out}"], "dangling"),
    ("build-outside-link", ["build", "--source", "{outside}", "--out", "{out}"], "outside the source folder"),
    ("build-bad-output", ["build", "--source", "{badoutput}", "--out", "{out}"], "field 'output'"),
    ("build-dup-ids", ["build", "--source", "{dupids}", "--out", "{out}"], "duplicate id 'x'"),
    ("bench-dup-ids", ["bench", "--source", "{dupids}", "--output", "{out}"], "duplicate id 'x'"),
    ("render-nested-json", ["render", "--bench", "--source", "{nested}", "--task", "task57"], "nested too deeply"),
    ("render-bad-json", ["render", "--bench", "--source", "{badjson}", "--task", "task57"], "task57_medqa.json"),
    ("mix-bad-json", ["mix", "--source", "{badjson}", "--splits", "test", "--out", "{out}"], "task57_medqa.json"),
    ("contam-bad-json", ["contamination", "--source", "{badjson}"], "task57_medqa.json"),
    # outputs: never under a file, never into a user's folder
    ("bench-output-under-file", ["bench", "--output", "{a_file}/x"], "is a file, not a folder"),
    ("build-out-under-file", ["build", "--source", "{good}", "--out", "{a_file}/x"], "is a file, not a folder"),
    ("mix-out-under-file", ["mix", "--source", "{good}", "--splits", "test", "--out", "{a_file}/x"],
     "is a file, not a folder"),
    ("convert-out-under-file", ["convert", "ddxplus", "--data-dir", "{fixtures}/ddxplus", "--out", "{a_file}/x"],
     "is a file, not a folder"),
    ("leaderboard-out-under-file", ["leaderboard", "{run}", "--out", "{a_file}/x", "--no-charts"], "results.json"),
    ("build-out-user-folder", ["build", "--source", "{good}", "--out", "{userdir}"], "did not write"),
    ("convert-out-user-folder", ["convert", "ddxplus", "--data-dir", "{fixtures}/ddxplus", "--out", "{userdir}"],
     "did not write"),
    ("mix-out-user-folder", ["mix", "--source", "{good}", "--splits", "test", "--out", "{userdir}", "--overwrite"],
     "holds files that `medsins mix` did not write"),
    ("push-user-folder", ["push", "{userdir}", "--repo-id", "org/x"], "not a folder written by `medsins build`"),
    ("bench-output-user-folder", ["bench", "--backend", "openai", "--model", "m", "--output", "{userdir}"],
     "did not write"),
    ("leaderboard-out-user-folder", ["leaderboard", "{finished}", "--out", "{userdir}", "--no-charts"],
     "did not write"),
    ("score-output-user-file", ["score", "{preds}/good.jsonl", "--output", "{userdir}/notes.txt"],
     "not a result written by `medsins score`"),
    # mix configs
    ("mix-config-missing", ["mix", "--source", "{good}", "--config", "{root}/nope.yaml", "--out", "{out}"],
     "nope.yaml"),
    ("mix-config-bad-yaml", ["mix", "--source", "{good}", "--config", "{root}/mix_bad.yaml", "--out", "{out}"],
     "mix_bad.yaml"),
    ("mix-config-unknown-field", ["mix", "--source", "{good}", "--config", "{root}/mix_unknown.yaml",
                                  "--out", "{out}"], "no_such_field"),
    ("mix-config-list", ["mix", "--source", "{good}", "--config", "{root}/mix_list.yaml", "--out", "{out}"],
     "mix_list.yaml"),
    ("mix-unknown-task", ["mix", "--source", "{good}", "--tasks", "nope", "--out", "{out}"], "nope"),
    ("mix-no-out", ["mix", "--source", "{good}"], "--out"),
    # score files
    ("score-empty-task", ["score", "{preds}/empty_task.jsonl"], "empty task name"),
    ("score-array-line", ["score", "{preds}/array_line.jsonl"], "array_line.jsonl line 1"),
    ("score-no-rows", ["score", "{preds}/no_rows.jsonl"], "no rows"),
    ("score-deep-json", ["score", "{preds}/deep.jsonl"], "nested too deeply"),
    ("score-csv-no-prediction", ["score", "{preds}/no_pred.csv"], "prediction"),
    ("score-null-reference", ["score", "{preds}/null_reference.jsonl"], "reference"),
    ("score-format", ["score", "{preds}/not_json.jsonl", "--format", "xml"], "--format"),
    # leaderboard / contamination / sources
    ("leaderboard-no-results", ["leaderboard", "{run}/sub", "--out", "{out}", "--no-charts"], "results.json"),
    ("contam-missing-source", ["contamination", "--source", "{root}/missing"], "missing"),
    ("contam-unknown-task", ["contamination", "--source", "{good}", "--tasks", "nope"], "nope"),
    ("bench-hub-offline", ["bench", "--source", "hub", "--backend", "openai", "--model", "m", "--output", "{out}"],
     "offline"),
    ("sources-extra-arg", ["sources", "nope"], "unrecognized arguments"),
    ("unknown-command", ["frobnicate"], "invalid choice"),
    # the training recipe
    ("sft-config-missing", ["@sft", "--config", "{root}/nope.yaml"], "nope.yaml"),
    ("sft-config-bad-yaml", ["@sft", "--config", "{root}/bad.yaml"], "not valid YAML"),
    ("sft-config-list", ["@sft", "--config", "{root}/list.yaml"], "mapping"),
    ("sft-config-unknown-key", ["@sft", "--config", "{root}/unknown_key.yaml"], "no_such_option"),
]


def _snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): (p.read_bytes() if p.is_file() else b"<dir>")
            for p in sorted(root.rglob("*")) if not p.is_symlink()}


def _command(argv: list[str]) -> list[str]:
    if argv[0] == "@sft":
        return [sys.executable, str(REPO / "recipes" / "sft.py"), *argv[1:]]
    exe = Path(sys.executable).with_name("medsins")
    return [str(exe), *argv] if exe.exists() else [sys.executable, "-m", "medsins_datasets.cli", *argv]


@pytest.fixture(scope="module")
def outcomes(world, tmp_path_factory) -> dict[str, dict]:
    """Every case run once, a few at a time; the files the cases point at compared before/after."""
    base = tmp_path_factory.mktemp("cases")
    before = _snapshot(world["root"])
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_EVALUATE_OFFLINE": "1", "PYTHONIOENCODING": "utf-8"}
    names = {k: str(v) for k, v in world.items()} | {"fixtures": str(REPO / "tests" / "fixtures")}

    def one(case) -> tuple[str, dict]:
        name, argv, needle = case
        cwd, out = base / name / "cwd", base / name / "out"
        cwd.mkdir(parents=True)
        args = [a.format(out=out, **names) for a in argv]
        proc = subprocess.run(_command(args), cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
        return name, {"code": proc.returncode, "err": proc.stderr, "cwd": sorted(p.name for p in cwd.iterdir()),
                      "out": out}

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = dict(pool.map(one, CASES))
    after = _snapshot(world["root"])
    results["__changed__"] = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    return results


@pytest.mark.parametrize("case,argv,needle", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_one_clear_error(outcomes, case, argv, needle):
    got = outcomes[case]
    code, err = got["code"], got["err"]
    assert code == 2, f"{case}: exit {code}, stderr: {err[-800:]}"
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    assert lines and "Traceback" not in err, f"{case}: {err[-800:]}"
    # the error line (argparse prints its usage line first; a few errors list details after it)
    line = next((ln for ln in lines if "error" in ln), "")
    assert needle in line or (needle in err and line.rstrip().endswith(":")), f"{case}: {err[-800:]!r}"
    assert got["cwd"] == [], f"{case} wrote into its working folder: {got['cwd']}"
    assert not got["out"].exists() or case.startswith("bench-"), f"{case} left an output behind"


def test_no_case_changed_a_file_it_did_not_create(outcomes):
    assert outcomes["__changed__"] == []


def test_corpus_size():
    assert len(CASES) >= 60
