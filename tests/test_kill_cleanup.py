"""A command killed with SIGKILL leaves its staging folder or temporary file behind; the next run of
the same command removes it, and nothing the commands did not create is ever removed.

Each kill is real: a child process runs the command with one step made to hang (after the staging
folder or temporary file exists), the test waits for that debris to appear and sends SIGKILL.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import datasets
import pytest

from medsins_datasets import _files as staging
from medsins_datasets.cli import main
from common import FIXTURES, stage_all

HANG = "import time\ndef _hang(*a, **k):\n    time.sleep(600)\n    yield from ()\n"


def _killed_run(code: str, *, wait_for, timeout: float = 120) -> None:
    """Run ``code`` in a child, wait until ``wait_for()`` is true, then SIGKILL the child."""
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "PYTHONPATH": str(Path(__file__).parent)})
    deadline = time.monotonic() + timeout
    try:
        while not wait_for():
            if proc.poll() is not None:
                pytest.fail(f"the child ended before the debris appeared: {proc.stderr.read().decode()[-2000:]}")
            if time.monotonic() > deadline:
                pytest.fail("the debris never appeared")
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_killed_convert_leaves_a_staging_folder_that_the_next_convert_removes(tmp_path):
    out = tmp_path / "converted"
    user = tmp_path / ".converted.tmp-mine"  # looks like debris, but has no marker: the user's own
    user.mkdir()
    (user / "notes.txt").write_text("keep me")
    code = HANG + (
        "from medsins_datasets.sources import converters as convert\n"
        "from medsins_datasets.cli import main\n"
        "convert.TaskWriter = lambda *a, **k: next(_hang())\n"
        f"main(['convert', 'ddxplus', '--data-dir', {str(FIXTURES / 'ddxplus')!r}, '--out', {str(out)!r}])\n"
    )
    debris = lambda: [d for d in tmp_path.glob(".converted.tmp-*") if (d / staging.MARKER).is_file()]  # noqa: E731
    _killed_run(code, wait_for=debris)
    left = debris()
    assert len(left) == 1 and not out.exists()
    assert main(["convert", "ddxplus", "--data-dir", str(FIXTURES / "ddxplus"), "--out", str(out)]) == 0
    assert not any(d.exists() for d in left), "the killed run's staging folder is still there"
    assert json.loads((out / ".medsins_convert.json").read_text())["converter"] == "ddxplus"
    assert (user / "notes.txt").read_text() == "keep me"
    assert not any(p.name.startswith(".converted.") and p != user for p in tmp_path.iterdir())


def test_killed_mix_leaves_a_staging_folder_and_a_cache_file_that_the_next_mix_removes(tmp_path):
    src = stage_all(tmp_path / "data")
    cache = tmp_path / "cache"
    out = tmp_path / "mix"
    args = ["mix", "--source", str(src), "--out", str(out), "--cache-dir", str(cache), "--num-rows", "50"]
    # 1. killed while caching a task file as Arrow: a FILE.PID-XXXX.tmp in the cache
    code = HANG + (
        "from medsins_datasets.taskfile import rows as examples\n"
        "from medsins_datasets.cli import main\n"
        "examples.iter_batches = _hang\n"
        f"main({args!r})\n"
    )
    tmp_files = lambda: list(cache.glob("*.tmp"))  # noqa: E731
    _killed_run(code, wait_for=tmp_files)
    left_tmp = tmp_files()
    assert left_tmp and all(".arrow." in f.name or ".json." in f.name for f in left_tmp)
    # 2. killed while writing the mixture: a .mix.tmp-XXXX staging folder next to --out
    code = HANG + (
        "from medsins_datasets import mixture\n"
        "from medsins_datasets.cli import main\n"
        "mixture.MixturePlan.iter_rows = _hang\n"
        f"main({args!r})\n"
    )
    debris = lambda: [d for d in tmp_path.glob(".mix.tmp-*") if (d / staging.MARKER).is_file()]  # noqa: E731
    _killed_run(code, wait_for=debris)
    left_dir = debris()
    assert len(left_dir) == 1 and not out.exists()
    # 3. the next run cleans both and writes the mixture
    assert main(args) == 0
    assert not any(f.exists() for f in left_tmp), "the killed run's cache file is still there"
    assert not list(cache.glob("*.tmp"))
    assert not any(d.exists() for d in left_dir), "the killed run's staging folder is still there"
    assert len(datasets.load_dataset(str(out), split="train", cache_dir=str(tmp_path / "hf"))) == 50


def test_an_output_moved_aside_by_a_killed_replace_is_restored(tmp_path):
    """A kill between "move the old output aside" and "rename the new one in": the next run puts the
    old output back (nothing lost); once a new output exists, the set-aside copy is removed."""
    final = tmp_path / "out"
    aside = tmp_path / f".out.old-{_dead_pid()}"
    aside.mkdir()
    (aside / "data.txt").write_text("earlier output")
    assert staging.remove_stale(final) == [aside]
    assert (final / "data.txt").read_text() == "earlier output" and not aside.exists()
    aside.mkdir()
    assert staging.remove_stale(final) == [aside] and not aside.exists() and final.exists()


def test_live_writers_and_unmarked_folders_are_left_alone(tmp_path):
    final = tmp_path / "out"
    live = staging.new_staging(final, "test")  # this process: alive
    other = tmp_path / ".out.tmp-other"  # no marker
    other.mkdir()
    dead = staging.new_staging(final, "test")
    foreign_host = staging.new_staging(final, "test")
    marker = json.loads((dead / staging.MARKER).read_text())
    (dead / staging.MARKER).write_text(json.dumps({**marker, "pid": _dead_pid()}))
    (foreign_host / staging.MARKER).write_text(json.dumps({**marker, "pid": _dead_pid(), "host": "elsewhere"}))
    assert staging.remove_stale(final) == [dead]
    assert live.is_dir() and other.is_dir() and foreign_host.is_dir() and not dead.exists()
    staging.publish(live, final)
    assert final.is_dir() and not (final / staging.MARKER).exists() and oct(final.stat().st_mode & 0o777) == "0o755"


def test_replacing_an_earlier_output_never_loses_a_file_added_to_it(tmp_path, capsys):
    """convert and mix --overwrite replace an earlier output of theirs, but not when a file the
    user put in it would go with it."""
    out = tmp_path / "converted"
    conv = ["convert", "ddxplus", "--data-dir", str(FIXTURES / "ddxplus"), "--out", str(out)]
    assert main(conv) == 0
    assert main(conv) == 0  # an earlier conversion alone is replaced
    (out / "test" / "my_notes.txt").write_text("mine")
    assert main(conv) == 2
    assert "test/my_notes.txt" in capsys.readouterr().err
    assert (out / "test" / "my_notes.txt").read_text() == "mine"

    src = stage_all(tmp_path / "data")
    mix = tmp_path / "mix"
    args = ["mix", "--source", str(src), "--out", str(mix), "--cache-dir", str(tmp_path / "cache"), "--num-rows", "20",
            "--overwrite"]
    assert main(args) == 0 and main(args) == 0
    (mix / "data" / "extra.parquet").write_bytes(b"mine")
    assert main(args) == 2
    assert "data/extra.parquet" in capsys.readouterr().err
    assert (mix / "data" / "extra.parquet").read_bytes() == b"mine"


def test_rebuilding_a_config_never_loses_a_file_added_to_its_folder(tmp_path, capsys):
    from medsins_datasets.runner.run import slice_dir

    out = tmp_path / "built"
    args = ["build", "--source", str(slice_dir()), "--tasks", "medqa_en", "--out", str(out), "--force"]
    assert main(args) == 0 and main(args) == 0
    (out / "medqa_en" / "notes.txt").write_text("mine")
    assert main(args) == 2
    assert "notes.txt" in capsys.readouterr().err
    assert (out / "medqa_en" / "notes.txt").read_text() == "mine"


@pytest.mark.parametrize("command", ["convert", "build", "mix", "bench"])
def test_a_folder_holding_only_hidden_user_files_is_refused(tmp_path, capsys, command):
    """Hidden files are the user's too: ``.git`` alone makes a folder somebody else's."""
    out = tmp_path / "out"
    (out / ".git").mkdir(parents=True)
    (out / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (out / ".env").write_text("TOKEN=x\n")
    before = sorted(p.relative_to(out).as_posix() for p in out.rglob("*"))
    src = stage_all(tmp_path / "data")
    argv = {
        "convert": ["convert", "ddxplus", "--data-dir", str(FIXTURES / "ddxplus"), "--out", str(out)],
        "build": ["build", "--source", str(src), "--out", str(out)],
        "mix": ["mix", "--source", str(src), "--out", str(out), "--overwrite", "--num-rows", "5",
                "--cache-dir", str(tmp_path / "cache")],
        "bench": ["bench", "--backend", "openai", "--model", "m", "--base-url", "http://127.0.0.1:9",
                  "--output", str(out)],
    }[command]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert str(out) in err and "did not write" in err, err
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*")) == before
    assert (out / ".env").read_text() == "TOKEN=x\n"
