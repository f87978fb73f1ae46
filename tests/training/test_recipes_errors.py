"""Bad input stops ``recipes/sft.py`` before training, with a clear message (exit status 2):
unknown task names, an empty mixture, prompts longer than max_length, a missing model path, ...
Run in-process through the script's ``main(argv)`` (fast), plus one real subprocess."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest

from common import REPO_ROOT
from common import TINY_CONFIG, stage_superni

pytest.importorskip("trl")


@pytest.fixture(scope="module")
def recipe():
    spec = importlib.util.spec_from_file_location("medsins_recipe_sft", REPO_ROOT / "recipes" / "sft.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def src(tmp_path_factory):
    return stage_superni(tmp_path_factory.mktemp("recipe_errors"))


@pytest.fixture
def run(recipe, src, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("MEDSINS_CACHE", str(tmp_path / "medsins_cache"))

    def _run(*extra: str) -> tuple[int, str]:
        argv = ["--config", str(TINY_CONFIG), "--dataset_source", str(src), "--output_dir", str(tmp_path / "out"),
                "--mixture_cache_dir", str(tmp_path / "cache"), "--report_to", "none", *extra]
        rc = recipe.main(argv)
        err = capsys.readouterr().err
        if rc != 0:  # stopped before training: no checkpoint, no model
            out = tmp_path / "out"
            assert not list(out.glob("checkpoint-*")) and not (out / "model.safetensors").exists()
        return rc, err

    return _run


def _error_line(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.startswith("error: ")]
    assert lines, err[-3000:]
    return lines[-1]


def test_unknown_task_name(run):
    rc, err = run("--mixture", '{"tasks": ["pico_outcome", "no_such_task_xyz"]}')
    assert rc == 2
    assert "no_such_task_xyz" in _error_line(err)


def test_unknown_mixture_key(run):
    rc, err = run("--mixture", '{"max_per_tsak": 3}')
    assert rc == 2
    line = _error_line(err)
    assert "max_per_tsak" in line and "max_per_task" in line  # names the bad key and the known ones


def test_empty_mixture_by_filters(run):
    rc, err = run("--mixture", '{"tasks": null, "categories": ["No Such Category"]}')
    assert rc == 2
    line = _error_line(err)
    assert "selects no task" in line and "No Such Category" in line


def test_empty_mixture_task_not_in_source(run, src):
    rc, err = run("--mixture", '{"tasks": ["pubmedqa_yes_no_maybe"]}')
    assert rc == 2
    line = _error_line(err)
    assert "pubmedqa_yes_no_maybe" in line or "task124" in line
    assert str(src) in line


def test_max_length_smaller_than_the_prompt(run):
    rc, err = run("--max_length", "24")
    assert rc == 2
    line = _error_line(err)
    assert "max_length=24" in line and "pico_outcome" in line and "long_prompts" in line


def test_long_prompts_drop_is_an_opt_in(run, tmp_path, caplog):
    # with a max_length between the shortest and the longest prompt, 'drop' trains on the rest
    rc, err = run("--max_length", "400", "--long_prompts", "drop", "--max_steps", "1", "--save_strategy", "no",
                  "--mixture", '{"few_shot_ratio": 1.0, "max_shots": 3}')
    assert rc == 0, err[-3000:]
    assert "dropped (long_prompts=drop)" in caplog.text
    card = (tmp_path / "out" / "README.md").read_text()
    assert "rows whose prompt filled `max_length` were left out" in card


def test_row_form_contradictions(run, tmp_path):
    rc, err = run("--use_chat_template", "true", "--mixture", '{"plain": true}')
    assert rc == 2
    assert "plain: true" in _error_line(err) and "use_chat_template" in _error_line(err)
    rc, err = run("--use_chat_template", "false", "--mixture", '{"format": "messages"}')
    assert rc == 2
    assert "format: prompt_completion" in _error_line(err)
    rc, err = run("--chat_template_path", str(tmp_path / "missing.jinja"))
    assert rc == 2
    assert "missing.jinja" in _error_line(err) and "is not a file" in _error_line(err)
    folder = tmp_path / "tpl"
    folder.mkdir()
    (folder / "template.txt").write_text("{{ messages }}")
    rc, err = run("--chat_template_path", str(folder / "template.txt"))
    assert rc == 2
    assert "Jinja template file" in _error_line(err)


def test_plain_rows_drop_the_chat_template(run, tmp_path, caplog):
    """use_chat_template: false trains on the official plain text and saves the tokenizer without its
    chat template, so `medsins bench` prompts the trained model with plain text too."""
    from transformers import AutoTokenizer

    rc, err = run("--use_chat_template", "false", "--max_steps", "1", "--save_strategy", "no")
    assert rc == 0, err[-3000:]
    assert "the tokenizer's chat template is dropped" in caplog.text
    assert not AutoTokenizer.from_pretrained(tmp_path / "out").chat_template
    assert '"plain": true' in (tmp_path / "out" / "README.md").read_text()


def test_missing_local_model_path(run, tmp_path):
    missing = tmp_path / "no" / "such" / "model"
    rc, err = run("--model_name_or_path", str(missing))
    assert rc == 2
    assert f"model path {str(missing)!r} does not exist" in _error_line(err)


def test_model_folder_without_config(run, tmp_path):
    folder = tmp_path / "empty_model"
    folder.mkdir()
    rc, err = run("--model_name_or_path", str(folder))
    assert rc == 2
    assert "has no config.json" in _error_line(err)


def test_hub_model_not_cached_offline(run, monkeypatch):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    rc, err = run("--model_name_or_path", "nobody-xyz/not-a-real-model")
    assert rc == 2
    line = _error_line(err)
    assert "nobody-xyz/not-a-real-model" in line and "not in the Hub cache" in line


def test_missing_dataset_source(run, tmp_path):
    rc, err = run("--dataset_source", str(tmp_path / "nowhere"))
    assert rc == 2
    assert "nowhere" in _error_line(err)


def test_resume_without_checkpoint(run):
    rc, err = run("--resume_from_checkpoint", "true")
    assert rc == 2
    assert "no checkpoint to resume from" in _error_line(err)


def test_script_exit_status_and_message_without_traceback(src, tmp_path):
    """The real script in a subprocess: exit status 2, one `error:` line, no traceback."""
    proc = subprocess.run(
        [sys.executable, "recipes/sft.py", "--config", str(TINY_CONFIG), "--dataset_source", str(src),
         "--output_dir", str(tmp_path / "out"), "--mixture_cache_dir", str(tmp_path / "cache"),
         "--mixture", '{"tasks": ["no_such_task_xyz"]}'],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120,
        env={**__import__("os").environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
             "MEDSINS_CACHE": str(tmp_path / "mc")},
    )
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    assert "error: " in proc.stderr and "no_such_task_xyz" in proc.stderr


def test_unknown_option_in_the_yaml(recipe, tmp_path, capsys):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(TINY_CONFIG.read_text() + "\nlearning_rat: 0.1\n")
    rc = recipe.main(["--config", str(cfg), "--output_dir", str(tmp_path / "out")])
    assert rc == 2
    assert "learning_rat" in _error_line(capsys.readouterr().err)


def test_credentialed_mixture_is_never_pushed_to_a_public_repo(run, tmp_path):
    """SYNTHETIC MedNLI-shaped files (tests/fixtures/mednli) through the real converter."""
    from medsins_datasets.sources.converters import run_converter

    cred = tmp_path / "cred_src"
    run_converter("mednli", REPO_ROOT / "tests" / "fixtures" / "mednli", cred)
    rc, err = run("--dataset_source", str(cred), "--push_to_hub", "true", "--hub_model_id", "tester/leak",
                  "--hub_private_repo", "false",
                  "--mixture", '{"tasks": ["mednli_discriminative"], "access": ["public", "credentialed"]}')
    assert rc == 2
    line = _error_line(err)
    assert "credentialed" in line and "mednli_discriminative" in line and "hub_private_repo" in line
