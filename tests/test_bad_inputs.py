"""A corpus of bad inputs over every command: each ends in exit code 2 with a clear last line that
names the file, field, option or task, no traceback, and nothing outside the output touched.

Every case runs the real CLI entry point in-process (``cli.main``): an exception escaping it would
be a traceback for the user, and fails the test.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from medsins_datasets import cli

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
    return {"good": good, "empty": empty, "badjson": bad_json, "nested": nested, "badoutput": bad_output,
            "dangling": dangling, "outside": outside, "a_file": a_file, "preds": preds, "run": run,
            "notbuilt": notbuilt, "root": root}


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
]


def _snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): (p.read_bytes() if p.is_file() else b"<dir>")
            for p in sorted(root.rglob("*")) if not p.is_symlink()}


@pytest.mark.parametrize("case,argv,needle", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_one_clear_error(world, tmp_path, capsys, case, argv, needle):
    before = _snapshot(world["root"])
    out = tmp_path / "out"
    args = [a.format(out=out, **{k: str(v) for k, v in world.items()}) for a in argv]
    code = cli.main(args)
    err = capsys.readouterr().err
    assert code == 2, f"{case}: exit {code}, stderr: {err[-500:]}"
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    assert lines and "Traceback" not in err, f"{case}: {err[-500:]}"
    # the error line (argparse prints its usage line first; a few errors list details after it)
    line = next((ln for ln in lines if "error" in ln), "")
    assert needle in line or (needle in err and line.rstrip().endswith(":")), f"{case}: {err[-500:]!r}"
    assert _snapshot(world["root"]) == before, f"{case} changed files it did not create"
    assert not out.exists() or case.startswith("bench-"), f"{case} left an output behind"


def test_corpus_size():
    assert len(CASES) >= 60
