"""Hub-native build (Parquet + card), loading it with `datasets`, re-runs, and the push guard."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import datasets
import pytest
import yaml
from common import OUTCOME_FILE, shared_file, stage_outcome_source

from medsins_datasets.builder.manifest import BUILD_MANIFEST
from medsins_datasets.builder.parquet import build
from medsins_datasets.builder.push import push
from medsins_datasets.cli import main
from medsins_datasets.errors import CredentialedDataError, SourceError

REAL = OUTCOME_FILE


@pytest.fixture
def source(tmp_path) -> Path:
    return stage_outcome_source(tmp_path)



def synthetic_credentialed(root: Path) -> None:
    """A SYNTHETIC (made-up, no patient data) file for a credentialed task id."""
    d = {"Definition": "Decide entailment.", "Instances": [
        {"id": "syn-1", "input": "Premise: made-up sentence. Hypothesis: another.", "output": ["entailment"]}]}
    (root / "task41_mednli_discriminative.json").write_text(json.dumps(d), encoding="utf-8")


def card_meta(out: Path) -> dict:
    text = (out / "README.md").read_text(encoding="utf-8")
    assert text.startswith("---\n")
    return yaml.safe_load(text.split("---\n")[1])


def test_build_and_load_dataset(source, tmp_path, monkeypatch):
    out = tmp_path / "medsins"
    rep = build(source, out, progress=False)
    assert rep.built == ["pico_outcome"]
    assert rep.configs["pico_outcome"].splits == {"train": 40, "test": 8}
    meta = card_meta(out)
    assert [c["config_name"] for c in meta["configs"]] == ["pico_outcome"]
    assert meta["language"] == ["en"] and "medical" in meta["tags"]
    assert "| `pico_outcome` | task3 |" in (out / "README.md").read_text()
    assert datasets.get_dataset_config_names(str(out)) == ["pico_outcome"]
    ds = datasets.load_dataset(str(out), "pico_outcome")
    raw = json.loads(shared_file(REAL).read_text(encoding="utf-8"))["Instances"]
    assert ds["train"]["input"] == [r["input"] for r in raw[:40]]
    assert ds["test"]["references"] == [r["output"] for r in raw[40:]]
    assert ds["train"].features["references"] == datasets.List(datasets.Value("string"))
    # the bare name from OUT's parent, in a fresh process
    code = "import datasets; d = datasets.load_dataset('medsins', 'pico_outcome'); print(d['train'].num_rows, d['test'][0]['task_id'])"
    res = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                         env={**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf")})
    assert res.returncode == 0, res.stderr
    assert res.stdout.split() == ["40", "task3"]


def test_rebuild_is_noop_and_change_rebuilds(source, tmp_path):
    out = tmp_path / "medsins"
    build(source, out, progress=False)
    shard = out / "pico_outcome" / "train-00000.parquet"
    mtime = shard.stat().st_mtime_ns
    rep = build(source, out, progress=False)
    assert rep.reused == ["pico_outcome"] and rep.built == []
    assert shard.stat().st_mtime_ns == mtime
    # another task added later: the first one is kept, the card lists both
    synthetic_credentialed(source)
    rep = build(source, out, progress=False)
    assert rep.built == ["mednli_discriminative"] and rep.reused == ["pico_outcome"]
    assert [c["config_name"] for c in card_meta(out)["configs"]] == ["pico_outcome", "mednli_discriminative"]
    assert "credentialed data" in (out / "README.md").read_text()
    # a changed input file is rebuilt
    f = source / "task3_pico_outcome.json"
    d = json.loads(f.read_text())
    d["Instances"] = d["Instances"][:10]
    f.write_text(json.dumps(d))
    rep = build(source, out, ["pico_outcome"], progress=False)
    assert rep.built == ["pico_outcome"]
    assert datasets.load_dataset(str(out), "pico_outcome")["train"].num_rows == 10


def test_failed_build_keeps_finished_configs(source, tmp_path):
    out = tmp_path / "medsins"
    build(source, out, progress=False)
    (source / "task1_pico_participant.json").write_text(
        '{"Definition": "d", "Instances": [{"input": "x", "output": 5}, {"input": "x2", "output": ["y2"]}]}')
    with pytest.raises(Exception, match="task1_pico_participant.json.*instance 0.*output"):
        build(source, out, progress=False)
    assert not (out / "pico_participant").exists()
    assert not [p for p in out.iterdir() if p.name.startswith(".pico_participant")]
    assert datasets.load_dataset(str(out), "pico_outcome")["train"].num_rows == 40
    # with --skip-invalid the bad instance is skipped and counted
    rep = build(source, out, on_error="skip", progress=False)
    assert rep.configs["pico_participant"].skipped_instances == 1
    assert rep.configs["pico_participant"].splits == {"train": 1}
    # a task with no valid instance at all is an error, not an empty config
    (source / "task2_pico_intervention.json").write_text('{"Definition": "d", "Instances": [{"input": "x"}]}')
    with pytest.raises(SourceError, match="pico_intervention: no valid instance"):
        build(source, out, on_error="skip", progress=False)


class RecordingApi:
    def __init__(self, existing_public: bool = False):
        self.calls: list[tuple] = []
        self.existing_public = existing_public

    def create_repo(self, repo_id, **kw):
        self.calls.append(("create_repo", repo_id, kw))

    def repo_info(self, repo_id, **kw):
        class Info:
            private = not self.existing_public
        return Info()

    def upload_folder(self, **kw):
        self.calls.append(("upload_folder", kw))
        files = sorted(p.relative_to(kw["folder_path"]).as_posix() for p in Path(kw["folder_path"]).rglob("*") if p.is_file())
        self.uploaded = files

        class Commit:
            commit_url = f"https://hub/{kw['repo_id']}/commit/1"
        return Commit()


def test_push_public_build(source, tmp_path):
    out = tmp_path / "medsins"
    build(source, out, progress=False)
    api = RecordingApi()
    url = push(out, "org/medsins", api=api)
    assert url.endswith("/commit/1")
    (create, upload) = api.calls
    assert create[2] == {"repo_type": "dataset", "private": False, "exist_ok": True}
    assert upload[1]["repo_type"] == "dataset" and BUILD_MANIFEST in upload[1]["ignore_patterns"]
    assert "1 MedS-Ins task configs" in upload[1]["commit_message"]


def test_push_guard_for_credentialed(source, tmp_path, capsys):
    synthetic_credentialed(source)
    out = tmp_path / "medsins"
    build(source, out, progress=False)
    api = RecordingApi()
    with pytest.raises(CredentialedDataError, match="public repo.*mednli_discriminative"):
        push(out, "org/x", api=api)
    with pytest.raises(CredentialedDataError, match="--allow-credentialed"):
        push(out, "org/x", private=True, api=api)
    assert api.calls == []  # nothing was created or uploaded
    with pytest.raises(CredentialedDataError, match="exists and is public"):
        push(out, "org/x", private=True, allow_credentialed=True, api=RecordingApi(existing_public=True))
    ok = RecordingApi()
    push(out, "org/x", private=True, allow_credentialed=True, api=ok)
    assert ok.calls[0][2]["private"] is True
    # the CLI reports the refusal as a clear error with exit code 2
    assert main(["push", str(out), "--repo-id", "org/x"]) == 2
    assert "refusing to push" in capsys.readouterr().err


@pytest.mark.parametrize("mark", ["credentialed", "Credentialed", ["credentialed"], "restricted"])
def test_push_guard_sees_converter_marking(source, tmp_path, mark):
    """A task file marked credentialed (in any case or as a list; anything not clearly public) is
    guarded even if its id is public."""
    d = json.loads((source / "task3_pico_outcome.json").read_text())
    d["Access"] = mark
    (source / "task3_pico_outcome.json").write_text(json.dumps(d))
    out = tmp_path / "medsins"
    assert build(source, out, progress=False).configs["pico_outcome"].credentialed
    with pytest.raises(CredentialedDataError):
        push(out, "org/x", api=RecordingApi())


def test_cli_build(source, tmp_path, capsys):
    out = tmp_path / "o"
    assert main(["build", "--source", str(source), "--out", str(out), "--no-progress"]) == 0
    assert "built pico_outcome (task3): train=40, test=8" in capsys.readouterr().out
    assert main(["build", "--source", str(source), "--out", str(out), "--no-progress"]) == 0
    assert "0 built, 1 kept" in capsys.readouterr().out
    assert main(["build", "--source", str(tmp_path / "nowhere"), "--out", str(out)]) == 2
    assert "is not an existing folder" in capsys.readouterr().err
    assert main(["build", "--source", str(source), "--out", str(out), "--tasks", "pico_outcomes"]) == 2
    assert "Did you mean: pico_outcome" in capsys.readouterr().err


def test_build_never_touches_files_it_did_not_write(source, tmp_path, capsys):
    """`medsins build --out .` in a folder with the user's README.md, or into a built folder with a
    user sub-folder named like a config: refused with one line, nothing changed."""
    from medsins_datasets import cli

    user = tmp_path / "project"
    user.mkdir()
    (user / "README.md").write_text("# my project\n")
    assert cli.main(["build", "--source", str(source), "--out", str(user), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "did not write" in err and "Traceback" not in err
    assert sorted(p.name for p in user.iterdir()) == ["README.md"] and (user / "README.md").read_text() == "# my project\n"
    out = tmp_path / "built"
    assert cli.main(["build", "--source", str(source), "--out", str(out), "--tasks", "pico_outcome", "--no-progress"]) == 0
    (out / "pico_participant").mkdir()
    (out / "pico_participant" / "mine.txt").write_text("keep me")
    (source / "task1_pico_participant.json").write_text(
        '{"Definition": "d", "Instances": [{"input": "x", "output": ["y"]}]}')
    assert cli.main(["build", "--source", str(source), "--out", str(out), "--no-progress"]) == 2
    assert "pico_participant was not written by `medsins build`" in capsys.readouterr().err
    assert (out / "pico_participant" / "mine.txt").read_text() == "keep me"
    # its own configs are rebuilt or kept as before
    assert cli.main(["build", "--source", str(source), "--out", str(out), "--tasks", "pico_outcome",
                     "--no-progress"]) == 0


def test_concurrent_build_into_one_folder_fails_clearly(source, tmp_path):
    from medsins_datasets._files import output_lock
    from medsins_datasets.errors import MedsinsError

    out = tmp_path / "medsins"
    build(source, out, progress=False)
    with output_lock(out, "build"):
        with pytest.raises(MedsinsError, match=r"is in use by `medsins build` \(pid \d+\)"):
            build(source, out, progress=False, force=True)
    # released: the next build runs and keeps what was built
    assert build(source, out, progress=False).reused == ["pico_outcome"]


def test_staging_folders_of_a_killed_build_are_cleaned_by_the_next(source, tmp_path):
    out = tmp_path / "medsins"
    build(source, out, progress=False)
    debris = out / ".pico_outcome.tmp-abc123"  # what a build killed mid-config leaves
    (debris / "train").mkdir(parents=True)
    (debris / "train" / "part.parquet").write_bytes(b"half")
    mine = out / ".my_notes.txt"
    mine.write_text("not a staging folder")
    build(source, out, progress=False)
    assert not debris.exists() and mine.read_text() == "not a staging folder"
