"""The bundled MedS-Bench slice (``medsins_datasets/data/bench_slice``) and its generator
``scripts/make_bench_slice.py``.

* regenerating the slice from the real raw data in ``../shared/data`` gives the committed
  files byte for byte (skipped when ``../shared`` is absent, failed under MEDSINS_REQUIRE_SHARED=1);
* without shared data: the committed files are official MedS-Bench task files (one JSON object,
  official keys, ``Definition`` a list, ``Instances`` of ``{"input", "output"}``), named and
  placed as in Henrychur/MedS-Bench, only public MedS-Bench tasks, and the card gives a licence
  for every source;
* the script refuses to replace a folder that is not one of its slices (exit 2, one line).

Validation uses plain ``json`` on purpose: the slice must match the official format, whatever
the project's own task-file parser accepts.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from common import REPO_ROOT, SHARED, shared_file
from medsins_datasets.registry.tasks import get_task
from medsins_datasets.sources.resolve import BENCH_CATEGORY_FOLDERS

SCRIPT = REPO_ROOT / "scripts" / "make_bench_slice.py"
SLICE = REPO_ROOT / "medsins_datasets" / "data" / "bench_slice"
MARKER = "<!-- medsins:bench-slice"

#: official key order of a MedS-Bench task file (official_layout.md 3.1)
OFFICIAL_KEYS = [
    "Contributors", "Source", "URL", "Categories", "Definition", "Reasoning", "Input_language",
    "Output_language", "Instruction_language", "Domains", "Positive Examples", "Negative Examples", "Instances",
]
#: MedS-Bench category (tasks.csv bench_category) -> root folder of Henrychur/MedS-Bench
OFFICIAL_FOLDERS = BENCH_CATEGORY_FOLDERS
TASK_FILE = re.compile(r"^task(\d+)_[A-Za-z0-9_]+\.jsonl?$")
#: licences that allow redistributing the slice (Hub identifiers)
REDISTRIBUTABLE = {"mit", "apache-2.0", "cc-by-4.0", "cc0-1.0"}


@functools.lru_cache(maxsize=1)
def _script():
    """The script as a module (it is not part of the installed package)."""
    spec = importlib.util.spec_from_file_location("make_bench_slice", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["make_bench_slice"] = mod  # dataclasses look their module up while the class is made
    spec.loader.exec_module(mod)
    return mod


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], cwd=cwd, capture_output=True, text=True)


def _files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def _task_files() -> list[Path]:
    return sorted(p for p in SLICE.rglob("*") if p.is_file() and p.name not in ("README.md", ".gitattributes"))


def _card() -> tuple[dict, str]:
    text = (SLICE / "README.md").read_text(encoding="utf-8")
    assert text.startswith("---\n"), "the card must start with YAML front matter"
    front, body = text[4:].split("\n---\n", 1)
    return yaml.safe_load(front), body


# ---------------------------------------------------------------------------------------------
# (a) the committed slice is exactly what the script makes from the real raw data
# ---------------------------------------------------------------------------------------------

def test_regenerated_slice_is_byte_identical_to_the_committed_one(tmp_path):
    for raw_dir in sorted({s.raw_dir for s in _script().SOURCES.values()}):
        shared_file(f"data/{raw_dir}")
    out = tmp_path / "bench_slice"
    for attempt in ("first run", "second run, replacing its own slice"):
        res = _run("--data", str(SHARED / "data"), "--out", str(out), cwd=tmp_path)
        assert res.returncode == 0, f"{attempt}: {res.stderr[-3000:]}"
        assert "converting" in res.stderr and "instances" in res.stderr  # progress output
        assert _files(out) == _files(SLICE), attempt
        differ = [rel for rel in _files(SLICE) if (out / rel).read_bytes() != (SLICE / rel).read_bytes()]
        assert not differ, (f"{attempt}: regenerated files differ from the committed slice: {differ}; rerun "
                            "python scripts/make_bench_slice.py --data ../shared/data "
                            "--out medsins_datasets/data/bench_slice")
        assert sorted(p.name for p in tmp_path.iterdir()) == ["bench_slice"], "temporary folders left behind"


# ---------------------------------------------------------------------------------------------
# (b) the committed slice, without shared data
# ---------------------------------------------------------------------------------------------

def test_committed_slice_has_official_layout_and_format():
    files = _task_files()
    assert len(files) >= 8
    assert (SLICE / ".gitattributes").is_file() and (SLICE / "README.md").is_file()
    assert not any(d.name in ("train", "validation", "dev") for d in SLICE.rglob("*") if d.is_dir())
    total = sum(p.stat().st_size for p in SLICE.rglob("*") if p.is_file())
    assert total < 500_000, f"the slice is {total} bytes; keep it well under 1 MB"
    seen_ids = set()
    n_instances = 0
    for path in files:
        rel = path.relative_to(SLICE).as_posix()
        folder, _, name = rel.partition("/")
        m = TASK_FILE.match(name)
        assert m and "/" not in name, f"{rel}: expected <category folder>/task<ID>_<name>.json[l]"
        task_id = f"task{m.group(1)}"
        assert task_id not in seen_ids, f"{task_id} has two files"
        seen_ids.add(task_id)
        task = get_task(task_id)
        assert task.in_bench, f"{rel}: {task_id} is not a MedS-Bench task"
        assert task.access == "public", f"{rel}: {task_id} is {task.access}"
        assert OFFICIAL_FOLDERS[task.bench_category] == folder, f"{rel}: {task_id} belongs in another folder"

        text = path.read_text(encoding="utf-8")
        obj = json.loads(text)  # ONE JSON document, even for the .jsonl names
        assert isinstance(obj, dict), rel
        assert text == json.dumps(obj, ensure_ascii=False, indent=4) + "\n", f"{rel}: not pretty-printed as upstream"
        assert list(obj) == OFFICIAL_KEYS, f"{rel}: keys {list(obj)}"
        assert isinstance(obj["Definition"], list) and obj["Definition"], rel
        assert all(isinstance(d, str) and d.strip() for d in obj["Definition"]), rel
        assert isinstance(obj["Source"], str) and obj["Source"], rel
        instances = obj["Instances"]
        assert isinstance(instances, list) and instances, rel
        for k, inst in enumerate(instances):
            where = f"{rel}, instance {k}"
            assert isinstance(inst, dict) and set(inst) == {"input", "output"}, f"{where}: {sorted(inst)}"
            assert isinstance(inst["input"], str) and inst["input"].strip(), where
            out = inst["output"]
            assert (isinstance(out, str) and out.strip()) or (
                isinstance(out, list) and out and all(isinstance(o, str) for o in out)), where
        n_instances += len(instances)
    assert n_instances <= 400


def test_card_lists_a_licence_for_every_source():
    meta, body = _card()
    assert MARKER in body
    assert meta["license"] == "other"
    licences = {entry["source"]: entry["license"] for entry in meta["source_licenses"]}
    table = body.split("## Sources and licences", 1)[1].split("\n## ", 1)[0]
    sources = {json.loads(p.read_text(encoding="utf-8"))["Source"] for p in _task_files()}
    for source in sorted(sources):
        assert source in licences, f"the card's YAML gives no licence for {source}"
        assert licences[source] in REDISTRIBUTABLE, f"{source}: {licences[source]}"
        row = [line for line in table.splitlines() if line.startswith(f"| {source} |")]
        assert len(row) == 1, f"the card's licence table has no row for {source}"
        assert row[0].split("|")[2].strip() not in ("", "unknown"), row[0]
    assert set(licences) == sources, "the card lists sources that are not in the slice"
    assert "NOT comparable" in body
    for name in ("make_bench_slice.py", "run_converter", "sha256", "Citations"):
        assert name in body
    for path in _task_files():
        assert f"`{path.relative_to(SLICE).as_posix()}`" in body, f"the card's task table misses {path.name}"


# ---------------------------------------------------------------------------------------------
# sampling (no data needed)
# ---------------------------------------------------------------------------------------------

def test_sampling_is_seeded_capped_and_keeps_file_order():
    mod = _script()
    recs = [{"id": f"q{k}", "input": "x" * (10 if k % 3 else 5000), "output": ["a"]} for k in range(60)]
    kept, eligible = mod.sample(recs, "task57", 7, 0, 2500)
    assert eligible == 40 and len(kept) == 7
    assert all(len(r["input"]) <= 2500 for r in kept)
    assert [recs.index(r) for r in kept] == sorted(recs.index(r) for r in kept)
    assert mod.sample(recs, "task57", 7, 0, 2500)[0] == kept
    assert mod.sample(recs, "task57", 7, 1, 2500)[0] != kept
    assert mod.sample(recs, "task57", 100, 0, 2500)[0] == [r for r in recs if len(r["input"]) <= 2500]


# ---------------------------------------------------------------------------------------------
# (c) command line
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["folder without card", "card without marker", "a file"])
def test_refuses_to_replace_a_foreign_out_folder(tmp_path, kind):
    out = tmp_path / "existing"
    if kind == "a file":
        out.write_text("mine", encoding="utf-8")
    else:
        out.mkdir()
        (out / ("README.md" if kind == "card without marker" else "keep.txt")).write_text("mine", encoding="utf-8")
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    res = _run("--data", str(tmp_path / "no-data"), "--out", str(out), cwd=tmp_path)
    assert res.returncode == 2, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "refusing" in lines[0] and str(out) in lines[0], res.stderr
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["existing"]


def test_help_and_bad_options(tmp_path):
    res = _run("--help", cwd=tmp_path)
    assert res.returncode == 0 and "--per-task" in res.stdout and "--seed" in res.stdout
    res = _run("--data", str(tmp_path), "--out", str(tmp_path / "new"), "--per-task", "0", cwd=tmp_path)
    assert res.returncode == 2 and len(res.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "new").exists()
