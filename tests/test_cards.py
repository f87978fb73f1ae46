"""The dataset card of `medsins build`: huggingface_hub card classes, `configs` + `dataset_info`
read back by `datasets`, sizes equal to what `datasets` measures itself, validation on the fake Hub."""

from __future__ import annotations

import configparser
import fnmatch
import json
import shutil
from pathlib import Path

import datasets
import pytest
from datasets.info import DatasetInfosDict
from huggingface_hub import DatasetCard

from conftest import REPO_ROOT
from test_hub_build_push import stage_outcome_source
from fakehub import fake_hub, fake_hub_env  # noqa: F401  (fixtures)

from medsins_datasets.builder import card as card_mod
from medsins_datasets.builder.card import SIZES_CACHE
from medsins_datasets.cards import validate_card
from medsins_datasets.errors import MedsinsError
from medsins_datasets.taskfile.rows import FEATURES
from medsins_datasets.builder.parquet import build

HUB_SIZE_CATEGORIES = {"n<1K", "1K<n<10K", "10K<n<100K", "100K<n<1M", "1M<n<10M", "10M<n<100M"}


@pytest.fixture
def source(tmp_path) -> Path:
    """The real SuperNI outcome-extraction file split into train/test, plus a SYNTHETIC (made-up,
    no patient data) file for the credentialed MedNLI task id."""
    root = stage_outcome_source(tmp_path)
    syn = {"Definition": "Decide entailment.", "Instances": [
        {"id": "syn-1", "input": "Premise: made-up sentence. Hypothesis: another.", "output": ["entailment"]},
        {"id": "syn-2", "input": "Premise: invented. Hypothesis: also invented.", "output": ["neutral"]}]}
    (root / "task41_mednli_discriminative.json").write_text(json.dumps(syn), encoding="utf-8")
    return root


@pytest.fixture
def built(source, tmp_path):
    out = tmp_path / "medsins"
    report = build(source, out, progress=False)
    return out, report


def test_card_metadata_configs_and_dataset_info(built):
    out, report = built
    card = DatasetCard.load(out / "README.md")  # parses with huggingface_hub's own loader
    data = card.data
    assert data.license == "other" and data.license_name == "per-source" and data.license_link == "LICENSE-NOTICE.md"
    assert (out / data.license_link).is_file()
    assert data.language == ["en"] and data.multilinguality == ["monolingual"]
    assert set(data.task_categories) == {"text-classification", "text-generation"}  # NLI -> text-classification
    assert data.size_categories == ["n<1K"] and set(data.size_categories) <= HUB_SIZE_CATEGORIES
    assert "medical" in data.tags and data.pretty_name
    # configs: one per built task, data files per split exactly as written
    assert data["configs"] == [
        {"config_name": name, "data_files": [{"split": s, "path": [f"{name}/{f}" for f in cb.files[s]]}
                                             for s in cb.splits]}
        for name, cb in (("pico_outcome", report.configs["pico_outcome"]),
                         ("mednli_discriminative", report.configs["mednli_discriminative"]))]
    # dataset_info, read back the way `datasets` reads a card
    infos = DatasetInfosDict.from_dataset_card_data(data)
    assert sorted(infos) == ["mednli_discriminative", "pico_outcome"]
    for name, cb in report.configs.items():
        info = infos[name]
        assert info.features == FEATURES
        assert {s: i.num_examples for s, i in info.splits.items()} == cb.splits
        files = [out / name / f for fs in cb.files.values() for f in fs]
        assert info.download_size == sum(p.stat().st_size for p in files)
        assert info.dataset_size == sum(i.num_bytes for i in info.splits.values()) > 0
    # the body (from the template): every config in the task table, credentialed data flagged
    text = card.text
    assert "| `pico_outcome` | task3 |" in text and "train: 40, test: 8" in text
    assert "| `mednli_discriminative` | task41 |" in text and "| credentialed |" in text
    assert "This build contains credentialed data** (mednli_discriminative)" in text
    assert '"pico_outcome")' in text and "${" not in text and "50 instances" in text
    # what is on disk is what the card classes write (no hand-assembled YAML)
    assert (out / "README.md").read_text(encoding="utf-8") == str(card)


def test_sizes_equal_what_datasets_measures_itself(built, tmp_path):
    """num_bytes / download_size / dataset_size of the card equal the values `datasets` computes
    when it prepares the same folder from a card WITHOUT dataset_info."""
    out, report = built
    ours = DatasetInfosDict.from_dataset_card_data(DatasetCard.load(out / "README.md").data)
    bare = tmp_path / "bare"
    shutil.copytree(out, bare)
    card = DatasetCard.load(bare / "README.md")
    card.data.pop("dataset_info")
    card.save(bare / "README.md")
    for name in report.configs:
        ds = datasets.load_dataset(str(bare), name, cache_dir=str(tmp_path / "cache"))
        theirs = next(iter(ds.values())).info
        assert {s: (i.num_examples, i.num_bytes) for s, i in theirs.splits.items()} == \
            {s: (i.num_examples, i.num_bytes) for s, i in ours[name].splits.items()}
        assert (theirs.download_size, theirs.dataset_size) == (ours[name].download_size, ours[name].dataset_size)


def test_load_dataset_reads_the_card_info(built, tmp_path):
    out, report = built
    ds = datasets.load_dataset(str(out), "pico_outcome", cache_dir=str(tmp_path / "c1"))
    assert {s: d.num_rows for s, d in ds.items()} == {"train": 40, "test": 8}
    assert ds["train"].features == FEATURES
    builder = datasets.load_dataset_builder(str(out), "mednli_discriminative", cache_dir=str(tmp_path / "c2"))
    assert builder.info.splits["train"].num_examples == 2
    assert datasets.get_dataset_config_names(str(out)) == ["pico_outcome", "mednli_discriminative"]
    # the card's counts are checked by `datasets`: a card that disagrees with the files fails to load
    text = (out / "README.md").read_text(encoding="utf-8")
    (out / "README.md").write_text(text.replace("num_examples: 40", "num_examples: 41"), encoding="utf-8")
    with pytest.raises(datasets.exceptions.NonMatchingSplitsSizesError):
        datasets.load_dataset(str(out), "pico_outcome", cache_dir=str(tmp_path / "c3"))


def test_shard_sizes_are_measured_once(source, tmp_path, monkeypatch):
    calls: list[str] = []
    real = card_mod._arrow_nbytes
    monkeypatch.setattr(card_mod, "_arrow_nbytes", lambda p: calls.append(Path(p).name) or real(p))
    out = tmp_path / "medsins"
    build(source, out, progress=False)
    # 3 shards; the card is rewritten after each config and at the end, each shard measured once
    assert sorted(calls) == ["test-00000.parquet", "train-00000.parquet", "train-00000.parquet"]
    before = (out / "README.md").read_text(encoding="utf-8")
    calls.clear()
    assert build(source, out, progress=False).built == []  # unchanged inputs: nothing re-read
    assert calls == [] and (out / "README.md").read_text(encoding="utf-8") == before
    # a changed config is re-measured, and its new sizes reach the card
    f = source / "task3_pico_outcome.json"
    d = json.loads(f.read_text())
    d["Instances"] = d["Instances"][:10]
    f.write_text(json.dumps(d))
    build(source, out, ["pico_outcome"], progress=False)
    assert sorted(calls) == ["test-00000.parquet", "train-00000.parquet"]
    info = DatasetInfosDict.from_dataset_card_data(DatasetCard.load(out / "README.md").data)["pico_outcome"]
    assert info.splits["train"].num_examples == 10
    cache = json.loads((out / SIZES_CACHE).read_text())
    assert cache["pico_outcome/train-00000.parquet"][2] == info.splits["train"].num_bytes
    # a damaged cache file is ignored, not trusted
    (out / SIZES_CACHE).write_text("{not json")
    calls.clear()
    build(source, out, progress=False, force=True)
    assert len(calls) == 3 and json.loads((out / SIZES_CACHE).read_text())


def test_card_validates_on_the_fake_hub(built, fake_hub_env):
    out, _ = built
    validate_card(out / "README.md")
    (repo_type, content), = fake_hub_env.validated
    assert repo_type == "dataset" and content == (out / "README.md").read_text(encoding="utf-8")
    # the fake Hub's dataset checks do reject a broken card, and the error is one clear line
    bad = out / "BAD.md"
    bad.write_text((out / "README.md").read_text().replace("config_name: mednli_discriminative",
                                                           "config_name: pico_outcome", 1))
    with pytest.raises(MedsinsError, match=r"BAD.md: the Hub's card validator rejected it:.*unique"):
        validate_card(bad)
    with pytest.raises(MedsinsError, match="missing.md: cannot read the card"):
        validate_card(out / "missing.md")


def test_card_validation_offline_is_a_clear_error(built, monkeypatch):
    out, _ = built
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(MedsinsError, match="cannot reach the Hub's card validator"):
        validate_card(out / "README.md")


def test_pushed_build_card_is_served_back(source, tmp_path, fake_hub_env):
    """`medsins push` of a public build uploads the card; huggingface_hub loads it from the Hub."""
    from medsins_datasets.builder.push import push

    public = tmp_path / "public"
    build(source, public, ["pico_outcome"], progress=False)  # without the credentialed task
    push(public, "tester/medsins")
    repo = fake_hub_env.repo("tester/medsins")
    assert SIZES_CACHE not in repo.files and ".medsins_build.json" not in repo.files
    # upload_folder had the Hub validate the card before uploading anything
    assert fake_hub_env.validated and set(fake_hub_env.validated) == {
        ("dataset", (public / "README.md").read_text(encoding="utf-8"))}
    remote = DatasetCard.load("tester/medsins", repo_type="dataset")
    assert remote.content == (public / "README.md").read_text(encoding="utf-8")
    assert DatasetInfosDict.from_dataset_card_data(remote.data)["pico_outcome"].splits["test"].num_examples == 8


def test_templates_are_package_data():
    cfg = configparser.ConfigParser()
    cfg.read(REPO_ROOT / "setup.cfg")
    patterns = cfg["options.package_data"]["medsins_datasets"].split()
    templates = sorted((REPO_ROOT / "medsins_datasets" / "templates").iterdir())
    assert templates
    for t in templates:
        rel = t.relative_to(REPO_ROOT / "medsins_datasets").as_posix()
        assert any(fnmatch.fnmatch(rel, p) for p in patterns), rel
