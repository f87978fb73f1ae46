"""`medsins render` on real staged data."""

from __future__ import annotations

import json

from common import PICO_DEF, stage_pico, stage_pubmedqa
from medsins_datasets.cli import main


def _lines(capsys) -> list[dict]:
    return [json.loads(x) for x in capsys.readouterr().out.splitlines()]


def test_render_json_lines(tmp_path, capsys):
    src = stage_pico(tmp_path)
    assert main(["render", "--source", str(src), "--task", "task3", "--limit", "3"]) == 0
    rows = _lines(capsys)
    assert [r["id"] for r in rows] == ["task181-0", "task181-1", "task181-2"]  # train split by default
    assert rows[0] == {"id": "task181-0", "task": "pico_outcome", "completion": "QALYs", "num_shots": 0,
                       "prompt": PICO_DEF
                       + "\nInput: Outcome results applied to life expectancy tables were used to estimate QALYs ."}
    assert main(["render", "--source", str(src), "--task", "pico_outcome", "--bench", "--seed", "4",
                 "--protocol", "paper"]) == 0
    bench = _lines(capsys)
    assert len(bench) == 8 and all(r["prompt"].startswith("Case1: Input: ") for r in bench)
    assert main(["render", "--source", str(src), "--task", "pico_outcome", "--bench", "--seed", "4",
                 "--protocol", "paper"]) == 0
    assert _lines(capsys) == bench
    # the default --bench protocol is the official one: system + user messages, 3 shots
    assert main(["render", "--source", str(src), "--task", "pico_outcome", "--bench", "--seed", "4"]) == 0
    official = _lines(capsys)
    assert len(official) == 8 and all(r["num_shots"] == 3 for r in official)
    assert all([m["role"] for m in r["messages"]] == ["system", "user"] for r in official)
    assert all(r["messages"][0]["content"].count("Input:\n") == 3 for r in official)
    assert main(["render", "--source", str(src), "--task", "pico_outcome", "--split", "test", "--shots", "2",
                 "--messages", "--limit", "1"]) == 0
    (m,) = _lines(capsys)
    assert m["messages"][0]["content"].count("\nCase2: Input: ") == 1 and m["messages"][1]["role"] == "assistant"


def test_render_test_only_task_defaults_to_test_split(tmp_path, capsys):
    src = stage_pubmedqa(tmp_path / "src", n_train=10, n_test=4)
    assert main(["render", "--source", str(src), "--task", "task123"]) == 0
    rows = _lines(capsys)
    assert len(rows) == 4 and rows[0]["completion"] in ("yes", "no", "maybe")


def test_render_errors_exit_2(tmp_path, capsys):
    src = stage_pico(tmp_path)
    assert main(["render", "--source", str(src), "--task", "pico_outcom"]) == 2
    assert "unknown task 'pico_outcom'" in capsys.readouterr().err
    assert main(["render", "--source", str(src), "--task", "task124"]) == 2
    assert "no task file for: pubmedqa_yes_no_maybe" in capsys.readouterr().err
    assert main(["render", "--source", str(src), "--task", "task3", "--split", "validation"]) == 2
    assert "no validation split for pico_outcome" in capsys.readouterr().err
