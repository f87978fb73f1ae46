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

from common import REPO_ROOT
from common import stage_outcome_source

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


# ---------------------------------------------------------------------------------------------
# the paper's citation and the sources' licences: each lives once, in a data file
# ---------------------------------------------------------------------------------------------

CITATION_BIB = REPO_ROOT / "medsins_datasets" / "data" / "citation.bib"
#: markdown files that keep a copy of the BibTeX entry, checked byte for byte against the data file
CITATION_COPIES = (REPO_ROOT / "README.md", REPO_ROOT / "metrics" / "meds_bench" / "README.md")


def _bibtex_block(text: str, where: str) -> str:
    """The ```bibtex block of the ``## Citation`` section."""
    assert "## Citation\n" in text, f"{where}: no '## Citation' section"
    section = text.split("## Citation\n", 1)[1]
    assert "```bibtex\n" in section, f"{where}: no bibtex block in the Citation section"
    return section.split("```bibtex\n", 1)[1].split("```", 1)[0]


def test_citation_is_one_bibtex_entry_read_by_the_code():
    from medsins_datasets.cards import citation

    bib = CITATION_BIB.read_text(encoding="utf-8")
    assert citation() == bib and bib.endswith("}\n")
    assert bib.count("@") == 1 and bib.startswith("@misc{wu2024evaluatingbuildingversatilelarge,")
    for field in ("Towards Evaluating and Building Versatile Large Language Models for Medicine", "Chaoyi Wu",
                  "Weidi Xie", "2408.12547"):
        assert field in bib, field
    # the evaluate metric's citation is the file's text
    import importlib

    metric = importlib.import_module("medsins_datasets.metrics.meds_bench.meds_bench")
    assert metric._CITATION == bib
    # the package data ships it
    cfg = configparser.ConfigParser()
    cfg.read(REPO_ROOT / "setup.cfg")
    patterns = cfg["options.package_data"]["medsins_datasets"].split()
    assert any(fnmatch.fnmatch("data/citation.bib", p) for p in patterns)


@pytest.mark.parametrize("path", CITATION_COPIES, ids=lambda p: p.relative_to(REPO_ROOT).as_posix())
def test_markdown_citation_copies_equal_the_data_file(path):
    assert _bibtex_block(path.read_text(encoding="utf-8"), path.name) == CITATION_BIB.read_text(encoding="utf-8"), \
        f"{path}: paste medsins_datasets/data/citation.bib into its Citation section"


def test_no_other_copy_of_the_citation():
    """The BibTeX entry is nowhere else in the code, templates, scripts or docs."""
    roots = ("medsins_datasets", "metrics", "scripts", "loading_scripts", "docs", "recipes")
    # the bundled slice's card is written by scripts/make_bench_slice.py from the data file
    # (test_bench_slice.py regenerates it byte for byte)
    slice_card = REPO_ROOT / "medsins_datasets" / "data" / "bench_slice" / "README.md"
    assert "```bibtex\n" + CITATION_BIB.read_text(encoding="utf-8") + "```" in slice_card.read_text(encoding="utf-8")
    allowed = {CITATION_BIB, *CITATION_COPIES, slice_card}
    found = []
    for root in roots:
        for p in sorted((REPO_ROOT / root).rglob("*")):
            if p.suffix not in (".py", ".md", ".bib", ".txt", ".json", ".yaml") or not p.is_file() or p in allowed:
                continue
            text = p.read_text(encoding="utf-8", errors="replace")
            if "{Towards Evaluating and Building" in text or "@misc{wu2024" in text or "@article{wu2024" in text:
                found.append(p.relative_to(REPO_ROOT).as_posix())
    assert not found, f"copies of the citation outside data/citation.bib: {found}"


def test_dataset_card_cites_the_paper_and_licences_come_from_the_sources_table(built):
    from medsins_datasets.cards import citation
    from medsins_datasets.registry.source_datasets import source_dataset
    from medsins_datasets.registry.tasks import get_task

    out, report = built
    text = DatasetCard.load(out / "README.md").text
    assert _bibtex_block(text, "the card") == citation()
    # licence column of the task table and LICENSE-NOTICE.md: the rows of data/sources.csv
    notice = (out / "LICENSE-NOTICE.md").read_text(encoding="utf-8")
    for name in report.configs:
        src = source_dataset(get_task(name).source)
        assert f"| {src.license} |" in text, name
        assert f"- **{src.name}** ({src.homepage}): {src.license}" in notice, name
