"""`medsins mix` writes a hub-native folder that `load_dataset` reads; config files and errors."""

from __future__ import annotations

import json
from collections import Counter

import datasets

from common import stage_all
from medsins_datasets.cli import main
from medsins_datasets.mixture import MixtureSpec, build_mixture


def test_mix_writes_loadable_folder_identical_to_stream(tmp_path, capsys):
    src = stage_all(tmp_path / "data")
    cache = tmp_path / "cache"
    out = tmp_path / "mix"
    cfg = tmp_path / "mix.yaml"
    cfg.write_text("temperature: 2.0\nnum_rows: 200\nfew_shot_ratio: 0.4\nrewrite_prob: 0.3\nseed: 9\n")
    rc = main(["mix", "--source", str(src), "--out", str(out), "--config", str(cfg), "--seed", "5",
               "--exclude-tasks", "task58", "--cache-dir", str(cache)])
    assert rc == 0
    assert "200 rows ->" in capsys.readouterr().out
    ds = datasets.load_dataset(str(out), split="train", cache_dir=str(tmp_path / "hf"))
    assert ds.column_names == ["prompt", "completion", "task", "id"] and len(ds) == 200
    # the official layout by default: TRL's conversational prompt-completion rows
    assert [m["role"] for m in ds[0]["prompt"]] == ["system", "user"] and ds[0]["completion"][0]["role"] == "assistant"
    # CLI options override the config file; the folder holds exactly the streamed mixture
    spec = MixtureSpec(temperature=2.0, num_rows=200, few_shot_ratio=0.4, rewrite_prob=0.3, seed=5,
                       exclude_tasks=["task58"])
    assert ds.to_list() == list(build_mixture(spec, src, cache_dir=cache))
    manifest = json.loads((out / ".medsins_mix.json").read_text())
    assert manifest["counts"] == dict(Counter(ds["task"])) and manifest["credentialed"] is False
    assert manifest["spec"]["seed"] == 5 and manifest["spec"]["temperature"] == 2.0
    assert manifest["spec"]["layout"] == "official" and manifest["spec"]["plain"] is False
    card = (out / "README.md").read_text()
    assert "config_name: default" in card and "| `pico_outcome` | task3 |" in card
    assert "official MedS-Bench layout" in card
    # an existing folder is kept unless --overwrite
    assert main(["mix", "--source", str(src), "--out", str(out), "--cache-dir", str(cache)]) == 2
    assert "exists" in capsys.readouterr().err
    assert len(datasets.load_dataset(str(out), split="train", cache_dir=str(tmp_path / "hf"))) == 200
    assert main(["mix", "--source", str(src), "--out", str(out), "--cache-dir", str(cache), "--overwrite",
                 "--format", "messages", "--tasks", "task3"]) == 0
    capsys.readouterr()
    ds = datasets.load_dataset(str(out), split="train", cache_dir=str(tmp_path / "hf"))
    assert ds.column_names == ["messages", "task", "id"] and len(ds) == 40
    assert [m["role"] for m in ds[0]["messages"]] == ["system", "user", "assistant"]
    # plain text for a model without a chat template, in the paper's layout
    assert main(["mix", "--source", str(src), "--out", str(out), "--cache-dir", str(cache), "--overwrite",
                 "--layout", "paper", "--plain", "--tasks", "task3"]) == 0
    capsys.readouterr()
    ds = datasets.load_dataset(str(out), split="train", cache_dir=str(tmp_path / "hf"))
    assert ds.to_list() == list(build_mixture(MixtureSpec(tasks=["task3"], layout="paper", plain=True), src,
                                              cache_dir=cache))
    assert all(isinstance(p, str) and p.endswith("\n") and "\nInput: " in p for p in ds["prompt"])
    manifest = json.loads((out / ".medsins_mix.json").read_text())
    assert manifest["spec"]["layout"] == "paper" and manifest["spec"]["plain"] is True
    assert "paper's zero-/few-shot prose" in (out / "README.md").read_text()
    # --overwrite never replaces a folder that is not a mixture
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.tex").write_text("years of work")
    assert main(["mix", "--source", str(src), "--out", str(mine), "--cache-dir", str(cache), "--overwrite"]) == 2
    assert "holds files that `medsins mix` did not write" in capsys.readouterr().err
    assert [p.name for p in mine.iterdir()] == ["thesis.tex"]
    assert main(["mix", "--source", str(src), "--out", str(tmp_path / "bad"), "--format", "messages", "--plain"]) == 2
    assert "'plain' needs format 'prompt_completion'" in capsys.readouterr().err


def test_mix_counts_only_and_errors(tmp_path, capsys):
    src = stage_all(tmp_path / "data")
    cache = tmp_path / "cache"
    assert main(["mix", "--source", str(src), "--counts-only", "--max-per-task", "35", "--cache-dir", str(cache)]) == 0
    assert json.loads(capsys.readouterr().out) == {"pico_outcome": 35, "pubmedqa_yes_no_maybe": 35, "medqa_zh": 30}
    bad = tmp_path / "bad.yaml"
    bad.write_text("temprature: 2\n")
    assert main(["mix", "--source", str(src), "--counts-only", "--config", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "unknown mixture spec key(s) ['temprature']" in err and str(bad) in err
    assert main(["mix", "--source", str(src)]) == 2
    assert "--out is required" in capsys.readouterr().err
    assert main(["mix", "--source", str(src), "--counts-only", "--tasks", "task117"]) == 2
    assert "credentialed" in capsys.readouterr().err
    assert not (tmp_path / "never").exists()
    assert main(["mix", "--source", str(src), "--out", str(tmp_path / "never"), "--categories", "Translation"]) == 2
    assert "selects no task" in capsys.readouterr().err and not (tmp_path / "never").exists()
