"""The SFT recipe's cached training set is keyed on the code its rows come from: every module of
the mixture, the prompts, the task-file reading, the contamination check and the training-set
module, by content, so a cached set is never reused after one of them changes."""

from __future__ import annotations

import shutil
from pathlib import Path
from types import SimpleNamespace

from medsins_datasets.mixture import MixtureSpec
from medsins_datasets.prompts import PAPER_TEMPLATE
from medsins_datasets.training import dataset as tds

PKG = Path(tds.__file__).resolve().parent.parent


def _plan():
    return SimpleNamespace(tasks=[], spec=MixtureSpec(tasks=["task3"]), template=PAPER_TEMPLATE)


def test_the_fingerprint_covers_every_module_the_rows_come_from():
    covered = {f.relative_to(PKG).as_posix() for f in tds._row_code_files(PKG)}
    for folder in ("mixture", "prompts", "taskfile"):
        modules = {p.relative_to(PKG).as_posix() for p in (PKG / folder).rglob("*.py")}
        assert modules and modules <= covered, f"{folder}/: {sorted(modules - covered)} not covered"
    assert {"training/dataset.py", "contamination.py", "mixture/plan.py", "mixture/rows.py",
            "mixture/spill.py", "mixture/spec.py"} <= covered
    assert not any("__pycache__" in c for c in covered)


def test_changing_a_covered_module_changes_the_fingerprint(tmp_path, monkeypatch):
    root = tmp_path / "medsins_datasets"
    for f in tds._row_code_files(PKG):  # a copy of the covered code, edited below
        dest = root / f.relative_to(PKG)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(f, dest)
    real = tds._plan_fingerprint(_plan())
    monkeypatch.setattr(tds, "_PACKAGE_ROOT", root)
    assert tds._plan_fingerprint(_plan()) == real  # the same code: the same key
    seen = {real}
    for rel in ("mixture/rows.py", "prompts/__init__.py", "taskfile/definitions.py", "training/dataset.py"):
        f = root / rel
        f.write_text(f.read_text(encoding="utf-8") + "\n# changed\n", encoding="utf-8")
        key = tds._plan_fingerprint(_plan())
        assert key not in seen, f"editing {rel} left the training-set fingerprint unchanged"
        seen.add(key)
    # a module added to a covered folder counts too
    (root / "mixture" / "extra.py").write_text("X = 1\n", encoding="utf-8")
    assert tds._plan_fingerprint(_plan()) not in seen


def test_the_fingerprint_follows_the_spec():
    other = SimpleNamespace(tasks=[], spec=MixtureSpec(tasks=["task3"], seed=1), template=PAPER_TEMPLATE)
    assert tds._plan_fingerprint(_plan()) != tds._plan_fingerprint(other)
    assert tds._plan_fingerprint(_plan()).startswith("medsins-sft-")
