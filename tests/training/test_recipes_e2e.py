"""End to end: ``accelerate launch --cpu --num_processes 1 recipes/sft.py --config recipes/tiny/sft/config.yaml``
on the real SuperNI pico_outcome task, offline, pushing to a fake Hub on 127.0.0.1.

One training run (4 steps, a checkpoint every 2, pushes with ``hub_strategy: checkpoint``) is shared
by the checks on the loss, the checkpoints, the pushed files, commit messages and model card. Then
three runs go in parallel: resuming locally, resuming from the checkpoint pushed to the Hub (both must
continue at step 5 and end with the same weights), and a run whose pushes the Hub answers with 500/503
(the failures must surface at the end).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from common import REPO_ROOT, TINY_CONFIG, base_env, stage_superni
from fakehub import FakeHub

pytest.importorskip("trl")
pytest.importorskip("accelerate")

REPO_ID = "tester/medsins-tiny-sft"
TIMEOUT = 300


# ------------------------------------------------------------------------------------- helpers



def accelerate_cmd(config_file: Path | None = None) -> list[str]:
    """``accelerate launch --cpu --num_processes 1 recipes/sft.py --config <tiny>`` (or with a config file)."""
    exe = Path(sys.executable).parent / "accelerate"
    launcher = [str(exe)] if exe.exists() else [sys.executable, "-m", "accelerate.commands.accelerate_cli"]
    how = (["--config_file", str(config_file)] if config_file else
           ["--cpu", "--num_processes", "1", "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no"])
    # one thread: other processes share the cores, and oversubscribed PyTorch threads crawl
    return launcher + ["launch", *how, "--num_cpu_threads_per_process", "1", "recipes/sft.py",
                       "--config", str(TINY_CONFIG)]



def recipe_args(src: Path, out: Path, cache: Path, *extra: str) -> list[str]:
    return ["--dataset_source", str(src), "--output_dir", str(out), "--mixture_cache_dir", str(cache),
            "--disable_tqdm", "true", *extra]


def launch(args: list[str], env: dict[str, str], config_file: Path | None = None) -> subprocess.Popen:
    return subprocess.Popen(accelerate_cmd(config_file) + args, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def finish(proc: subprocess.Popen) -> tuple[int, str]:
    try:
        out, _ = proc.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        pytest.fail(f"recipe run timed out:\n{out[-4000:]}")
    return proc.returncode, out


def checkpoints(out: Path) -> set[str]:
    return {p.name for p in out.glob("checkpoint-*")}


def state(ckpt: Path) -> dict:
    return json.loads((ckpt / "trainer_state.json").read_text())


def completion_loss(model, tok, rows: list[dict]) -> float:
    """Mean loss on the completion tokens of ``rows`` (prompt tokens masked), as in training."""
    import torch

    seqs, labels = [], []
    for r in rows:
        if isinstance(r["prompt"], str):  # plain text
            p = tok(r["prompt"])["input_ids"]
            full = tok(r["prompt"] + r["completion"])["input_ids"] + [tok.eos_token_id]
        else:  # chat turns through the tokenizer's chat template (it ends the assistant turn with EOS)
            p = tok.apply_chat_template(r["prompt"], add_generation_prompt=True, tokenize=True,
                                        return_dict=True)["input_ids"]
            full = tok.apply_chat_template(r["prompt"] + r["completion"], tokenize=True, return_dict=True)["input_ids"]
            assert full[:len(p)] == p
        seqs.append(full)
        labels.append([-100] * len(p) + full[len(p):])
    n = max(map(len, seqs))
    ids = torch.tensor([s + [tok.pad_token_id] * (n - len(s)) for s in seqs])
    lab = torch.tensor([x + [-100] * (n - len(x)) for x in labels])
    att = torch.tensor([[1] * len(s) + [0] * (n - len(s)) for s in seqs])
    model.eval()
    with torch.no_grad():
        return float(model(input_ids=ids, attention_mask=att, labels=lab).loss)


# ------------------------------------------------------------------------------------- runs


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """Staged data, a fake Hub and the first training run (pushed)."""
    tmp = tmp_path_factory.mktemp("recipe_e2e")
    src = stage_superni(tmp)
    hub = FakeHub().start()
    env = hub.env(base_env(tmp))
    out = tmp / "run1"
    t0 = time.monotonic()
    rc, log = finish(launch(recipe_args(
        src, out, tmp / "cache", "--max_steps", "4", "--save_steps", "2", "--push_to_hub", "true",
        "--hub_model_id", REPO_ID, "--hub_strategy", "checkpoint", "--hub_always_push", "true",
        "--hub_private_repo", "true"), env))
    assert rc == 0, log[-6000:]
    print(f"first run: {time.monotonic() - t0:.1f} s")
    yield {"tmp": tmp, "src": src, "hub": hub, "out": out, "log": log, "cache": tmp / "cache"}
    hub.stop()


@pytest.fixture(scope="module")
def second_runs(world):
    """In parallel: resume locally (copy of run 1), resume from the Hub (fresh folder), and a run
    whose background pushes fail with 500."""
    tmp, src, hub, cache = world["tmp"], world["src"], world["hub"], world["cache"]
    local = tmp / "resume_local"
    shutil.copytree(world["out"], local)
    hub.fail(500, path_contains="medsins-tiny-fail", message_startswith="Training in progress")
    hub.fail(503, path_contains="medsins-tiny-fail", message_startswith="End of training")
    more = ["--max_steps", "6", "--push_to_hub", "false"]  # save_steps (2) comes from the checkpoint
    procs = {
        "local": launch(recipe_args(src, local, cache, *more, "--resume_from_checkpoint", "true"), base_env(tmp)),
        "hub": launch(recipe_args(src, tmp / "resume_hub", cache, *more, "--resume_from_checkpoint", "hub",
                                  "--hub_model_id", REPO_ID), hub.env(base_env(tmp)),
                      config_file=REPO_ROOT / "recipes" / "accelerate_configs" / "cpu.yaml"),
        "fail": launch(recipe_args(src, tmp / "fail", cache, "--max_steps", "2", "--save_steps", "1",
                                   "--push_to_hub", "true", "--hub_model_id", "tester/medsins-tiny-fail",
                                   "--hub_always_push", "true"), hub.env(base_env(tmp))),
    }
    results = {k: finish(p) for k, p in procs.items()}
    return {"local": local, "hub": tmp / "resume_hub", "fail": tmp / "fail", "results": results}


# ------------------------------------------------------------------------------------- tests


def test_trains_saves_and_loss_goes_down_on_a_fixed_batch(world):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from medsins_datasets.mixture import MixtureSpec, build_mixture
    from medsins_datasets.models import build_tiny_model

    out = world["out"]
    assert checkpoints(out) == {"checkpoint-2", "checkpoint-4"}
    assert "training rows: official layout, chat turns" in world["log"]
    assert "not a prefix" not in world["log"]  # TRL kept every prompt token in the training sequences
    for name in ("model.safetensors", "config.json", "tokenizer.json", "README.md"):
        assert (out / name).is_file(), name
    st = state(out / "checkpoint-4")
    assert st["global_step"] == 4
    assert [h["step"] for h in st["log_history"] if "loss" in h] == [1, 2, 3, 4]

    cfg = yaml.safe_load(TINY_CONFIG.read_text())
    rows = list(build_mixture(MixtureSpec.from_dict(cfg["mixture"]), world["src"], cache_dir=world["tmp"] / "c2"))[:8]
    tok = AutoTokenizer.from_pretrained(out)
    # the tiny tokenizer's chat template rendered the training rows and is saved with the model, so
    # `medsins bench` prompts the trained model the same way
    assert tok.chat_template and all(isinstance(r["prompt"], list) for r in rows)
    initial = build_tiny_model(tok, cfg["tiny_model_config"], seed=cfg["seed"])
    trained = AutoModelForCausalLM.from_pretrained(out)
    before, after = completion_loss(initial, tok, rows), completion_loss(trained, tok, rows)
    assert after < before - 0.1, (before, after)


def test_pushes_reach_the_fake_hub(world):
    hub = world["hub"]
    repo = hub.repo(REPO_ID)
    assert repo.private
    msgs = hub.messages(REPO_ID)
    assert msgs == ["Training in progress, step 2", "Training in progress, step 2, checkpoint",
                    "Training in progress, step 4", "Training in progress, step 4, checkpoint", "End of training"]
    first = hub.commits[0]
    assert {"model.safetensors", "config.json", "tokenizer.json", "README.md", "training_args.bin"} <= set(first.added)
    assert not any(p.startswith(("checkpoint-", "_")) for c in hub.commits for p in c.added)
    ckpt = {p for p in repo.files if p.startswith("last-checkpoint/")}
    assert {"last-checkpoint/trainer_state.json", "last-checkpoint/optimizer.pt", "last-checkpoint/model.safetensors",
            "last-checkpoint/rng_state.pth"} <= ckpt
    pushed_state = json.loads(repo.files["last-checkpoint/trainer_state.json"])
    assert pushed_state["global_step"] == 4
    # the pushed weights are the final local ones
    assert repo.files["model.safetensors"] == (world["out"] / "model.safetensors").read_bytes()
    assert not hub.unhandled


def test_model_card_records_base_model_mixture_hyperparameters_versions(world):
    import trl

    from medsins_datasets import __version__

    card = world["hub"].repo(REPO_ID).files["README.md"].decode()
    assert card.startswith("---\n")
    meta = yaml.safe_load(card.split("---\n")[1])
    assert "medsins" in meta["tags"]
    assert "tiny-random-llama" in card
    assert "| `pico_outcome` | task3 | Information Extraction | 48 |" in card  # all 48 real train rows
    assert '"few_shot_ratio": 0.3' in card and '"tasks": [\n  "pico_outcome"\n ]' in card
    assert "| `learning_rate` | `0.003` |" in card
    assert "| `global_batch_size` | `4` |" in card
    assert "| `max_length` | `1024` |" in card
    assert f"medsins {__version__}" in card and f"trl {trl.__version__}" in card
    assert "Training finished" in card
    assert "hf_fakehubtoken" not in card  # never the token


def test_resume_continues_the_step_count_locally_and_from_the_hub(world, second_runs):
    from safetensors.torch import load_file

    for kind in ("local", "hub"):
        rc, log = second_runs["results"][kind]
        assert rc == 0, f"{kind}:\n{log[-6000:]}"
        # steps 1-4 were not redone: the run logged (logging_steps=1) and trained steps 5 and 6 only
        assert log.count("'loss': ") == 2, log[-4000:]
    local, fromhub = second_runs["local"], second_runs["hub"]
    assert checkpoints(local) == {"checkpoint-2", "checkpoint-4", "checkpoint-6"}
    assert checkpoints(fromhub) == {"checkpoint-6"}
    assert (fromhub / "_resume").is_dir()  # the downloaded last-checkpoint, not pushed (``_*`` is ignored)
    first = [h for h in state(world["out"] / "checkpoint-4")["log_history"] if "loss" in h]
    for out in (local, fromhub):
        st = state(out / "checkpoint-6")
        assert st["global_step"] == 6
        logged = [h for h in st["log_history"] if "loss" in h]
        assert [h["step"] for h in logged] == [1, 2, 3, 4, 5, 6]
        assert logged[:4] == first  # history carried over from the checkpoint
    a, b = load_file(local / "model.safetensors"), load_file(fromhub / "model.safetensors")
    assert a.keys() == b.keys()
    assert all((a[k] == b[k]).all() for k in a), "resuming from the Hub must give the same model as resuming locally"


def test_failed_pushes_surface_at_the_end(world, second_runs):
    hub = world["hub"]
    rc, log = second_runs["results"]["fail"]
    assert rc != 0, log[-6000:]  # the script exits with 3; `accelerate launch` turns any failure into 1
    errors = [ln for ln in log.splitlines() if ln.startswith("error: ")]
    assert len(errors) == 1, log[-6000:]
    assert "4 of 4 background push(es) to the Hub failed (at step(s) 1, 2)" in errors[0] and "500" in errors[0]
    assert "the final push failed" in errors[0] and "503" in errors[0]
    assert "background push to the Hub at step 1 FAILED" in log  # logged loudly when training ends
    # the injected failures really happened: nothing reached the repo
    failed = [m for _, p, m in hub.failed if "medsins-tiny-fail" in p]
    assert failed == ["Training in progress, step 1", "Training in progress, step 1, checkpoint",
                      "Training in progress, step 2", "Training in progress, step 2, checkpoint", "End of training"]
    assert hub.messages("tester/medsins-tiny-fail") == []
    # ... and nothing was lost locally
    out = second_runs["fail"]
    assert checkpoints(out) == {"checkpoint-1", "checkpoint-2"}
    assert (out / "model.safetensors").is_file() and "Training finished" in (out / "README.md").read_text()
