"""The shared builder over every source path, on the real staged SuperNI files."""

from __future__ import annotations

import json
import types
import shutil
from pathlib import Path

import pytest

from medsins_datasets import MedSIns, get_task
from medsins_datasets.sources.converters import get_converter, run_converter
from medsins_datasets.errors import SourceError
from medsins_datasets.sources.resolve import (
    ConverterSource,
    HubSource,
    LocalSource,
    infer_split,
    resolve_source,
)

from common import shared_file

SUPERNI = "data/superni_medical"


def staged_superni() -> list[tuple[str, Path]]:
    """(official id, real SuperNI file) for every staged SuperNI task file."""
    from medsins_datasets.loading_scripts.superni import SUPERNI_TO_OFFICIAL, _superni_files

    files = _superni_files(shared_file(SUPERNI))
    assert files, "no staged SuperNI file"
    return [(SUPERNI_TO_OFFICIAL[n], p) for n, p in files.items()]


def check_rows(ds, task_id: str, raw: Path) -> None:
    ref = json.loads(raw.read_text(encoding="utf-8"))
    assert ds.num_rows == len(ref["Instances"])
    task = get_task(task_id)
    for i, (row, inst) in enumerate(zip(ds, ref["Instances"])):
        assert row["input"] == inst["input"]
        assert row["references"] == inst["output"] and row["output"] == inst["output"][0]
        assert row["task"] == task.config_name and row["task_id"] == task_id
        assert row["category"] == task.category and row["source"] == task.source
        assert row["definition"] == (ref["Definition"] if isinstance(ref["Definition"], str) else "\n".join(ref["Definition"]))
    assert len(set(ds["id"])) == ds.num_rows


def load(config: str, source, tmp_path: Path):
    b = MedSIns(config_name=config, source=source, cache_dir=str(tmp_path / "cache"))
    b.download_and_prepare()
    return b.as_dataset()


@pytest.fixture
def upstream_dir(tmp_path) -> Path:
    """The staged SuperNI files laid out like the official Hub repo (task<ID>_<name>.json)."""
    root = tmp_path / "upstream"
    root.mkdir()
    for tid, path in staged_superni():
        shutil.copy(path, root / f"{tid}_{get_task(tid).config_name}.json")
    return root


def test_local_upstream_layout(upstream_dir, tmp_path):
    for tid, raw in staged_superni():
        ds = load(get_task(tid).config_name, str(upstream_dir), tmp_path)
        assert list(ds) == ["train"]
        check_rows(ds["train"], tid, raw)
        assert ds["train"][0]["id"] == f"{tid}-0"  # derived ids use the official id


def test_converter_source(tmp_path):
    defs = shared_file("data/medsins_definitions/RewriteDefinitions.json")
    for tid, raw in staged_superni():
        src = ConverterSource("superni", shared_file(SUPERNI), cache_dir=tmp_path / "conv")
        ds = load(get_task(tid).config_name, src, tmp_path)["train"]
        ref = json.loads(raw.read_text(encoding="utf-8"))
        assert ds["input"] == [i["input"] for i in ref["Instances"]]
        assert ds["references"] == [i["output"] for i in ref["Instances"]]
        # the `raw:` spec goes through the same converter
        ds2 = load(get_task(tid).config_name, f"raw:superni:{shared_file(SUPERNI)}", tmp_path)["train"]
        assert ds2["input"] == ds["input"]
    out = tmp_path / "with_defs"
    written = run_converter("superni", shared_file(SUPERNI), out, definitions=defs)
    official = json.loads(defs.read_text(encoding="utf-8"))
    for cfg in written:
        tid = get_task(cfg).task_id
        (f,) = (out / "train").glob(f"{tid}_*.json")
        head = json.loads(f.read_text(encoding="utf-8"))
        assert head["Definition"] == official[tid]["original_def"]
        assert head["Rewritten_Definitions"] == official[tid]["auto_rewrite_def"]


class FakeHubApi:
    """Stands in for HfApi: serves a local folder per repo, records what was downloaded."""

    def __init__(self, repos: dict[str, Path]):
        self.repos = repos
        self.downloaded: list[tuple[str, str]] = []

    def list_repo_files(self, repo_id, *, repo_type=None, revision=None, token=None):
        assert repo_type == "dataset"
        if repo_id not in self.repos:
            raise RuntimeError(f"404 {repo_id}")
        root = self.repos[repo_id]
        return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())

    def repo_info(self, repo_id, *, repo_type=None, revision=None, **kw):
        assert repo_type == "dataset"
        if repo_id not in self.repos:
            raise RuntimeError(f"404 {repo_id}")
        return types.SimpleNamespace(sha="c0ffee" * 6 + "0000")

    def snapshot_download(self, repo_id, *, repo_type=None, revision=None, allow_patterns=None, **kw):
        assert repo_type == "dataset" and revision == "c0ffee" * 6 + "0000"
        self.downloaded.extend((repo_id, f) for f in allow_patterns)
        return str(self.repos[repo_id])


def test_hub_source_downloads_only_requested_tasks(upstream_dir, tmp_path):
    bench = tmp_path / "bench" / "IE"
    bench.mkdir(parents=True)
    (tid, raw), *_ = staged_superni()
    # a MedS-Bench-like test file for the same task plus files of other tasks
    data = json.loads(raw.read_text(encoding="utf-8"))
    data["Instances"] = data["Instances"][:5]
    (bench / f"{tid}_test_set.json").write_text(json.dumps(data), encoding="utf-8")
    (upstream_dir / "task57_medqa_en.json").write_text(json.dumps({"Definition": "d", "Instances": []}))
    (upstream_dir / "README.md").write_text("card")
    api = FakeHubApi({"Henrychur/MedS-Ins": upstream_dir, "Henrychur/MedS-Bench": tmp_path / "bench"})
    src = HubSource(api=api)
    cfg = get_task(tid).config_name
    ds = load(cfg, src, tmp_path)
    check_rows(ds["train"], tid, raw)
    assert ds["test"].num_rows == 5
    assert sorted(f for _, f in api.downloaded) == sorted([f"{tid}_{cfg}.json", f"IE/{tid}_test_set.json"])
    assert src.commits == {"Henrychur/MedS-Ins": "c0ffee" * 6 + "0000", "Henrychur/MedS-Bench": "c0ffee" * 6 + "0000"}
    with pytest.raises(SourceError, match="cannot read dataset repo nobody/nothing"):
        HubSource({"nobody/nothing": None}, api=api).task_files([get_task("task3")])
    with pytest.raises(SourceError, match="no task file for: medqa_zh"):
        src.task_files([get_task("medqa_zh")])


def test_split_inference_and_errors(tmp_path):
    t3 = get_task("task3")
    assert infer_split("task3_pico_outcome.json", t3) == "train"
    assert infer_split("test/task3_pico_outcome.json", t3) == "test"
    assert infer_split("NER/task127_test_bc5disease.json", get_task("task127")) == "test"
    assert infer_split("task122_medmcqa_test_set.json", get_task("task122")) == "test"
    assert infer_split("task132_medlineplus_fv_medical_tests.json", get_task("task132")) == "train"
    assert infer_split("dev/task3_x.json", t3) == "validation"
    with pytest.raises(SourceError, match="is not an existing folder"):
        resolve_source(str(tmp_path / "missing"))
    with pytest.raises(SourceError, match="raw:<converter>"):
        resolve_source("raw:superni")
    with pytest.raises(SourceError, match="unknown converter 'nope'"):
        resolve_source(f"raw:nope:{tmp_path}")
    (tmp_path / "task3_pico_outcome.json").write_text(json.dumps({"Definition": ["d"], "Instances": []}))
    with pytest.raises(SourceError, match="Credentialed tasks are never distributed"):
        LocalSource(tmp_path).task_files([get_task("mimic4ed_hospitalization")])


def test_converter_missing_raw_files_and_no_partial_output(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(SourceError) as e:
        run_converter("superni", tmp_path, out)
    assert "task181_*.json" in str(e.value) and "github.com/allenai/natural-instructions" in str(e.value)
    assert not out.exists() and not any(p.name.startswith(".out") for p in tmp_path.iterdir())
    # a broken raw file: error names it, and an earlier good output stays untouched
    good = run_converter("superni", shared_file(SUPERNI), out)
    before = sorted(p.read_bytes() for p in out.rglob("*.json"))
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "task181_outcome_extraction.json").write_text('{"Definition": "d", "Instances": [{"input": "q"')
    with pytest.raises(Exception) as e:
        run_converter("superni", raw, out)
    assert "task181_outcome_extraction.json" in str(e.value)
    assert sorted(p.read_bytes() for p in out.rglob("*.json")) == before and good
    assert get_converter("superni").access == "public"


def test_convert_never_replaces_a_folder_it_did_not_write(tmp_path, capsys):
    """`medsins convert --out DIR` next to the user's files: refused, nothing touched; its own
    earlier output (with the convert manifest) is replaced."""
    from medsins_datasets import cli

    raw = shared_file(SUPERNI)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("my own notes")
    assert cli.main(["convert", "superni", "--data-dir", str(raw), "--out", str(mine)]) == 2
    err = capsys.readouterr().err
    assert "did not write" in err and str(mine) in err and "Traceback" not in err
    assert [p.name for p in mine.iterdir()] == ["notes.txt"] and (mine / "notes.txt").read_text() == "my own notes"
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    assert cli.main(["convert", "superni", "--data-dir", str(raw), "--out", str(a_file)]) == 2
    assert "is not a folder" in capsys.readouterr().err and a_file.read_text() == "x"
    out = tmp_path / "conv"
    assert cli.main(["convert", "superni", "--data-dir", str(raw), "--out", str(out)]) == 0
    assert cli.main(["convert", "superni", "--data-dir", str(raw), "--out", str(out)]) == 0  # its own output
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_hub_listing_downloads_nothing_and_bench_selection_downloads_only_its_tasks(upstream_dir, tmp_path):
    """Deciding which benchmark tasks a Hub source has is a listing: the (large) MedS-Ins training
    files of tasks that are not run are never downloaded."""
    from medsins_datasets.runner.run import available_tasks, select_bench_tasks

    bench = tmp_path / "bench" / "MCQA"
    bench.mkdir(parents=True)
    doc = {"Definition": ["d"], "Instances": [{"input": f"q{i}", "output": "The right answer is A: x"} for i in range(4)]}
    (bench / "task57_medqa_question_answering_en.jsonl").write_text(json.dumps(doc, indent=4))
    api = FakeHubApi({"Henrychur/MedS-Ins": upstream_dir, "Henrychur/MedS-Bench": tmp_path / "bench"})
    src = HubSource(api=api)
    have, missing = available_tasks(select_bench_tasks(), src, explicit=False)
    assert [t.config_name for t in have] == ["medqa_en"] and "pico_outcome" in missing
    assert api.downloaded == []
    assert src.splits()["medqa_en"] == {"test"}
    src.task_files(have)
    assert api.downloaded == [("Henrychur/MedS-Bench", "MCQA/task57_medqa_question_answering_en.jsonl")]
