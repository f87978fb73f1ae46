"""Progress bars: drawn on a terminal, left out of pipes and logs, and off everywhere with --quiet."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest

from medsins_datasets.runner.run import slice_dir

MEDSINS = [sys.executable, "-m", "medsins_datasets.cli"]
#: what every tqdm bar shows: its elapsed time, e.g. "[00:01<00:03" or "[00:00,"
BAR = re.compile(r"\[\d\d:\d\d[<,]")


def _stderr(args: list[str], cwd: Path, *, tty: bool) -> tuple[int, str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_EVALUATE_OFFLINE": "1", "COLUMNS": "120"}
    if not tty:
        proc = subprocess.run(MEDSINS + args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
        return proc.returncode, proc.stderr
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))  # a new pty is 0 columns wide
    proc = subprocess.Popen(MEDSINS + args, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=slave)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    return proc.wait(timeout=300), b"".join(chunks).decode("utf-8", "replace")


@pytest.mark.parametrize("command", ["build", "mix", "score"])
def test_bars_on_a_terminal_not_in_pipes_and_never_with_quiet(command, tmp_path):
    src = str(slice_dir())
    if command == "build":
        make = lambda out: ["build", "--source", src, "--out", str(tmp_path / out)]  # noqa: E731
        marker = "rows"
    elif command == "mix":
        make = lambda out: ["mix", "--source", src, "--splits", "test", "--out", str(tmp_path / out),  # noqa: E731
                            "--cache-dir", str(tmp_path / "cache")]
        marker = "writing"
    else:
        preds = tmp_path / "preds.jsonl"
        with preds.open("w") as fh:  # 300 summaries: enough text pairs for the BLEU/ROUGE bar
            for i in range(300):
                fh.write(json.dumps({"task": "meqsum_summarization", "prediction": f"what is drug {i}",
                                     "reference": f"what is the dose of drug {i}"}) + "\n")
        make = lambda out: ["score", str(preds), "--bootstrap", "0", "--output", str(tmp_path / out)]  # noqa: E731
        marker = "BLEU/ROUGE"
    code, err = _stderr(make("a"), tmp_path, tty=True)
    assert code == 0, err[-2000:]
    assert marker in err and BAR.search(err), err[-2000:]
    code, err = _stderr(make("b"), tmp_path, tty=False)
    assert code == 0 and not BAR.search(err), err[-2000:]
    code, err = _stderr(make("c") + ["--quiet"], tmp_path, tty=True)
    assert code == 0 and not BAR.search(err), err[-2000:]
