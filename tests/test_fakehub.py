"""The fake Hub answers huggingface_hub's real client: repos, commits, downloads, failures."""

from __future__ import annotations

from pathlib import Path

import pytest

from fakehub import TOKEN, git_blob_oid


def _folder(tmp_path: Path) -> Path:
    d = tmp_path / "folder"
    (d / "sub").mkdir(parents=True)
    (d / "a.txt").write_text("hello")
    (d / "sub" / "b.bin").write_bytes(bytes(range(256)))
    (d / "README.md").write_text("---\nlicense: mit\ntags: [x]\n---\n# card\n")
    return d


def test_create_commit_list_and_download(fake_hub_env, tmp_path):
    from huggingface_hub import HfApi, hf_hub_download, snapshot_download

    hub = fake_hub_env
    api = HfApi()
    url = api.create_repo("demo", private=True)
    assert url.repo_id == "tester/demo"
    assert api.create_repo("demo", exist_ok=True).repo_id == "tester/demo"
    assert hub.repo("tester/demo").private and api.repo_info("tester/demo").private

    src = _folder(tmp_path)
    info = api.upload_folder(repo_id="tester/demo", folder_path=src, commit_message="first")
    assert info.oid == hub.repo("tester/demo").head
    api.upload_folder(repo_id="tester/demo", folder_path=src, path_in_repo="last-checkpoint", commit_message="ckpt")
    assert hub.messages() == ["first", "ckpt"]
    assert hub.commits[0].added == ["README.md", "a.txt", "sub/b.bin"]
    assert sorted(api.list_repo_files("tester/demo")) == [
        "README.md", "a.txt", "last-checkpoint/README.md", "last-checkpoint/a.txt", "last-checkpoint/sub/b.bin",
        "sub/b.bin"]

    # unchanged files are not committed again (the preupload answer carries their oids)
    api.upload_folder(repo_id="tester/demo", folder_path=src, commit_message="same again")
    assert hub.messages()[-1] == "ckpt"

    local = Path(snapshot_download("tester/demo", allow_patterns=["last-checkpoint/*"], local_dir=tmp_path / "dl"))
    got = sorted(str(p.relative_to(local)) for p in local.rglob("*") if p.is_file() and ".cache" not in p.parts)
    assert got == ["last-checkpoint/README.md", "last-checkpoint/a.txt", "last-checkpoint/sub/b.bin"]
    assert (local / "last-checkpoint" / "sub" / "b.bin").read_bytes() == bytes(range(256))
    path = hf_hub_download("tester/demo", "a.txt", cache_dir=tmp_path / "cache")
    assert Path(path).read_text() == "hello"
    assert not hub.unhandled


def test_deletions_revisions_and_errors(fake_hub_env, tmp_path):
    from huggingface_hub import CommitOperationAdd, CommitOperationDelete, HfApi, hf_hub_download
    from huggingface_hub.errors import EntryNotFoundError, HfHubHTTPError, RepositoryNotFoundError

    hub = fake_hub_env
    api = HfApi()
    api.create_repo("org/d", repo_type="dataset")
    c1 = api.create_commit("org/d", repo_type="dataset", commit_message="add", operations=[
        CommitOperationAdd("x/1.txt", b"one"), CommitOperationAdd("x/2.txt", b"two"), CommitOperationAdd("y", b"y")])
    api.create_commit("org/d", repo_type="dataset", commit_message="del",
                      operations=[CommitOperationDelete("x/")])
    assert sorted(hub.repo("org/d").files) == ["y"]
    assert hub.commits[-1].deleted == ["x/"]
    # an older revision is still served
    old = hf_hub_download("org/d", "x/1.txt", repo_type="dataset", revision=c1.oid, cache_dir=tmp_path / "c")
    assert Path(old).read_bytes() == b"one"
    with pytest.raises(EntryNotFoundError):
        hf_hub_download("org/d", "x/1.txt", repo_type="dataset", cache_dir=tmp_path / "c2")
    with pytest.raises(RepositoryNotFoundError):
        api.repo_info("org/missing")
    with pytest.raises(HfHubHTTPError):  # no token, no write
        HfApi(token=False).create_repo("tester/anon")
    with pytest.raises(ValueError, match="Invalid metadata"):
        api.upload_file(path_or_fileobj=b"---\n[unclosed\n---\n", path_in_repo="README.md", repo_id="org/d",
                        repo_type="dataset")
    (entry,) = list(api.list_repo_tree("org/d", repo_type="dataset"))
    assert entry.path == "y" and entry.blob_id == git_blob_oid(b"y")


def test_injected_failures_reach_the_background_future(fake_hub_env):
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError

    hub = fake_hub_env
    api = HfApi()
    api.create_repo("tester/f")
    rule = hub.fail(500, message_startswith="Training in progress", times=1)
    fut = api.upload_file(path_or_fileobj=b"1", path_in_repo="w", repo_id="tester/f",
                          commit_message="Training in progress, step 1", run_as_future=True)
    assert isinstance(fut.exception(timeout=30), HfHubHTTPError)
    assert "500" in str(fut.exception())
    assert rule.hits == 1 and hub.failed[-1][2] == "Training in progress, step 1"
    # `times=1`: the next one goes through
    api.upload_file(path_or_fileobj=b"2", path_in_repo="w", repo_id="tester/f",
                    commit_message="Training in progress, step 2")
    assert hub.messages("tester/f") == ["Training in progress, step 2"]


def test_env_for_subprocesses(fake_hub):
    env = fake_hub.env({"TRANSFORMERS_OFFLINE": "1", "KEEP": "x"})
    assert env["HF_ENDPOINT"] == fake_hub.url and env["HF_HUB_OFFLINE"] == "0" and env["HF_TOKEN"] == TOKEN
    assert "TRANSFORMERS_OFFLINE" not in env and env["KEEP"] == "x"
