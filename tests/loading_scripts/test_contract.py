"""The contract every converter in ``loading_scripts/`` satisfies, run over each of them (one
parametrized test per converter, named after it, as BigBio's ``tests/test_bigbio.py`` runs one
contract over every loader):

* its declaration is complete: a name (its module's), a source, an access level, raw files with
  descriptions, the official task ids it writes (known to the registry, each once), a
  ``convert`` function;
* its access agrees with the registry's access of its tasks (credentialed exactly when they are;
  a task of unknown access may come from a known-public release);
* its homepage and licence are found in the ONE table, ``data/sources.csv``: the module declares
  neither, every registry source of its tasks has a row with both, and ``Converter.homepage`` /
  ``Converter.license`` are that row's (a distribution that is no row, SuperNI, says where it is);
* where its raw data is available (a fixture in ``tests/fixtures`` or real data in
  ``../shared/data``, listed in :data:`RAW_DATA`), converting writes task files that the package's
  own reader (:mod:`medsins_datasets.taskfile.reader`) accepts, with unique ids in each split,
  only the declared tasks, the registry's source in each header, a manifest that agrees with the
  files and quotes the table, and credentialed output marked as such (and public output not).

What is special to one converter is tested in ``test_<converter>.py``.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import inspect
import shutil
from pathlib import Path

import pytest

from common import shared_file
from medsins_datasets.errors import UnknownTaskError
from medsins_datasets.registry.access import CREDENTIALED
from medsins_datasets.registry.source_datasets import has_source_dataset, source_dataset, source_table
from medsins_datasets.registry.tasks import get_task
from medsins_datasets.sources.converters import CONVERT_MANIFEST, Converter, RawFile, converters, run_converter
from medsins_datasets.taskfile.reader import iter_instances, read_header

from converter_helpers import FIXTURES, manifest

ACCESS_LEVELS = ("public", "credentialed", "unknown")

#: converter -> its raw data for the conversion contract: ``fixtures/<folder>`` (tests/fixtures) or
#: ``shared/<folder>`` (../shared/data); ``a+sub=b`` stages folder ``b`` as ``sub/`` inside a copy of
#: ``a``. Every converter is listed (an empty list: no raw data to convert here).
RAW_DATA: dict[str, list[str]] = {
    "bc2gm": ["shared/bionlp_ner"],
    "bc4chemd": ["fixtures/bc4chemd"],
    "bc5cdr": ["fixtures/bionlp_ner", "shared/bionlp_ner"],
    "bioasq": ["fixtures/bioasq"],
    "biolord": ["fixtures/biolord"],
    "chatdoctor": ["fixtures/chatdoctor"],
    "clinicaltrials_criteria": ["fixtures/clinicaltrials_criteria"],
    "cmedqa2": ["fixtures/cmedqa2"],
    "covid_qa": ["shared/covid_qa"],
    "ddxplus": ["fixtures/ddxplus"],  # ../shared/data/ddxplus has no patient files (see test_ddxplus.py)
    "disease_ontology": ["fixtures/disease_ontology", "shared/disease_ontology", "shared/disease_ontology_obo"],
    "ebms": ["fixtures/ebms"],
    "frenchmedmcqa": ["shared/frenchmedmcqa"],
    "headqa": ["fixtures/headqa", "shared/headqa"],
    "hoc": ["shared/hoc"],
    "icd10cm": ["fixtures/icd10"],
    "igakuqa": ["fixtures/igakuqa"],
    "lima": ["fixtures/lima"],
    "linnaeus": ["shared/bionlp_ner"],
    "litcovid": ["fixtures/litcovid"],
    "liveqa": ["fixtures/liveqa"],
    "mashqa": ["fixtures/mashqa"],
    "medalpaca": ["fixtures/medalpaca"],
    "medicationqa": ["fixtures/medicationqa"],
    "mediqa_ans": ["fixtures/mediqa_ans"],
    "medmcqa": ["fixtures/medmcqa", "shared/medqa_medmcqa"],
    "mednli": ["fixtures/mednli"],
    "medqa": ["shared/medqa_medmcqa"],
    "medquad": ["fixtures/medquad"],
    "meqsum": ["shared/meqsum"],
    "mimic4ed": ["fixtures/mimic4ed/split", "fixtures/mimic4ed/master"],
    "mimic_cxr": ["fixtures/mimic_cxr"],
    "mimic_iv_icd10": ["fixtures/mimic_iv_icd10+cms=fixtures/icd10"],
    "mimic_iv_note_discharge": ["fixtures/mimic_iv_note"],
    "mimic_iv_note_radiology": ["fixtures/mimic_iv_note"],
    "mmedbench": ["fixtures/mmedbench"],
    "ms2": ["fixtures/ms2"],
    "ncbi_disease": ["shared/bionlp_ner"],
    "pmc_patients": ["fixtures/pmc_patients"],
    "pubmed_mesh": ["fixtures/pubmed_mesh"],
    "pubmed_summarization": ["fixtures/pubmed_summarization"],
    "pubmedqa": ["fixtures/pubmedqa", "shared/pubmedqa"],
    "radiopaedia_ner": ["fixtures/radiopaedia"],
    "rct": ["fixtures/rct"],
    "readability": ["fixtures/readability"],
    "rumedbench": ["shared/rumedbench"],
    "species800": ["fixtures/species800"],
    "superni": ["shared/superni_medical"],
}

#: optional libraries a converter needs for its raw format
REQUIRES = {"meqsum": ("openpyxl",)}

NAMES = sorted(converters())
CASES = [pytest.param(name, spec, id=f"{name}-{spec.split('+')[0]}") for name in NAMES for spec in RAW_DATA.get(name, [])]


def _module(conv: Converter):
    return importlib.import_module(conv.convert.__module__)


def _folder(spec: str) -> Path:
    kind, rel = spec.split("/", 1)
    if kind == "fixtures":
        path = FIXTURES / rel
        assert path.is_dir(), f"fixture {path} is missing"
        return path
    assert kind == "shared", spec
    return shared_file(f"data/{rel}")


def _stage(spec: str, tmp_path: Path) -> Path:
    """The raw folder of ``spec`` (see :data:`RAW_DATA`)."""
    base, *overlays = spec.split("+")
    if not overlays:
        return _folder(base)
    raw = tmp_path / "raw"
    shutil.copytree(_folder(base), raw)
    for overlay in overlays:
        sub, other = overlay.split("=", 1)
        shutil.copytree(_folder(other), raw / sub)
    return raw


# ---------------------------------------------------------------------------------------------
# the list of converters and of their raw data
# ---------------------------------------------------------------------------------------------

def test_every_converter_says_where_its_raw_data_is():
    assert NAMES, "no converter found in loading_scripts/"
    assert set(RAW_DATA) == set(NAMES), "RAW_DATA must list every converter (and only converters)"
    # every fixture folder is converted by some converter under the contract
    named = [part.split("=", 1)[-1] for specs in RAW_DATA.values() for spec in specs for part in spec.split("+")]
    used = {folder.split("/")[1] for folder in named if folder.startswith("fixtures/")}
    folders = {p.name for p in FIXTURES.iterdir() if p.is_dir()}
    assert folders <= used, f"fixture folders no converter's contract reads: {sorted(folders - used)}"


# ---------------------------------------------------------------------------------------------
# the declaration
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", NAMES)
def test_declaration_is_complete(name):
    conv = converters()[name]
    assert isinstance(conv, Converter)
    assert conv.name == name == _module(conv).__name__.rsplit(".", 1)[1], "a converter is named after its module"
    assert _module(conv).CONVERTER is conv
    assert isinstance(conv.source, str) and conv.source.strip()
    assert conv.access in ACCESS_LEVELS
    assert conv.raw_files and all(isinstance(rf, RawFile) for rf in conv.raw_files)
    for rf in conv.raw_files:
        assert rf.pattern.strip() and rf.description.strip(), rf
    assert any(rf.required for rf in conv.raw_files) or conv.notes, \
        "a converter whose raw files are all optional says in its notes what it needs"
    assert conv.task_ids and len(set(conv.task_ids)) == len(conv.task_ids), conv.task_ids
    assert callable(conv.convert) and len(inspect.signature(conv.convert).parameters) == 2
    assert isinstance(conv.version, str) and conv.version
    assert (_module(conv).__doc__ or "").strip(), "the module docstring documents the source and its raw files"
    described = conv.describe()
    assert described["name"] == name and described["tasks"] == list(conv.task_ids)


@pytest.mark.parametrize("name", NAMES)
def test_tasks_are_known_to_the_registry_and_access_agrees(name):
    conv = converters()[name]
    for tid in conv.task_ids:
        try:
            task = get_task(tid)
        except UnknownTaskError as e:
            pytest.fail(f"{name} declares {tid}, which the registry does not know: {e}")
        assert task.task_id == tid, f"{name}: declare the official id {task.task_id}, not {tid!r}"
        assert conv.tasks[conv.task_ids.index(tid)] == task
    access = {get_task(t).access for t in conv.task_ids}
    # credentialed exactly when the registry's tasks are
    assert (conv.access == CREDENTIALED) == (CREDENTIALED in access), (conv.access, access)
    if conv.access == CREDENTIALED:
        assert access == {CREDENTIALED}, access
    for tid in conv.task_ids:
        registry = get_task(tid).access
        if registry == "unknown":  # the paper does not say; the converter may read a known-public release
            assert conv.access in ("public", "unknown"), (tid, conv.access)
        else:
            assert conv.access == registry, (tid, registry, conv.access)


@pytest.mark.parametrize("name", NAMES)
def test_licence_and_homepage_come_from_the_sources_table(name):
    conv = converters()[name]
    # the module declares neither (they live once, in data/sources.csv)
    fields = {f.name for f in dataclasses.fields(Converter)}
    assert not fields & {"homepage", "license", "licence"}
    tree = ast.parse(Path(inspect.getsourcefile(_module(conv))).read_text(encoding="utf-8"))
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", None) == "Converter"]
    assert len(calls) == 1
    assert not {k.arg for k in calls[0].keywords} & {"homepage", "license", "licence"}
    # every registry source of its tasks has a row with a homepage and a licence
    table = source_table()
    for src in conv.sources:
        assert src in table, f"{name}: source {src!r} of its tasks is not in data/sources.csv"
        assert table[src].homepage.startswith(("http://", "https://")), (src, table[src].homepage)
        assert table[src].license, f"{name}: no licence for {src!r} in data/sources.csv"
    assert set(conv.sources) == {get_task(t).source for t in conv.task_ids}
    # its own source is a row (or, for a distribution of several sources, it says where it is)
    if has_source_dataset(conv.source):
        assert conv.sources[0] == conv.source
        assert conv.homepage == source_dataset(conv.source).homepage
    else:
        assert conv.download.startswith(("http://", "https://")) and conv.homepage == conv.download
    licences = {source_dataset(s).license for s in conv.sources}
    if len(licences) == 1:
        assert conv.license == licences.pop()
    else:
        assert all(f"{s}: {source_dataset(s).license}" in conv.license for s in conv.sources)
    assert conv.raw_data_url == (conv.download or conv.homepage)
    described = conv.describe()
    assert (described["homepage"], described["license"]) == (conv.homepage, conv.license)
    assert described["sources"] == {s: {"homepage": table[s].homepage, "license": table[s].license}
                                    for s in conv.sources}


# ---------------------------------------------------------------------------------------------
# the conversion
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, spec", CASES)
def test_conversion_writes_valid_task_files(name, spec, tmp_path):
    for module in REQUIRES.get(name, ()):
        pytest.importorskip(module)
    conv = converters()[name]
    raw = _stage(spec, tmp_path)
    out = tmp_path / "out"
    written = run_converter(name, raw, out)
    files = sorted(out.glob("*/task*_*.json"))
    assert files, f"{name} wrote no task file from {spec}"
    credentialed = conv.access == CREDENTIALED or any(get_task(t).is_credentialed for t in conv.task_ids)
    counts: dict[str, dict[str, int]] = {}
    for path in files:
        split, (tid, config) = path.parent.name, path.stem.split("_", 1)
        where = f"{name}: {split}/{path.name}"
        assert split in ("train", "validation", "test"), where
        task = get_task(tid)
        assert tid in conv.task_ids, f"{where}: {tid} is not a task the converter declares"
        assert config == task.config_name, where
        assert not (task.test_only and split != "test"), f"{where}: {tid} is test-only"
        # the package's own reader accepts the file (header, every instance, ids)
        header = read_header(path)
        assert header.definition.strip(), where
        assert header.fields["Source"] == [task.source], where
        ids = [inst.id for inst in iter_instances(path)]
        assert ids, f"{where}: no instance"
        assert len(set(ids)) == len(ids), f"{where}: duplicate instance ids"
        # credentialed output is marked, public output is not
        if credentialed:
            assert header.fields.get("Access") == "credentialed", where
        else:
            assert "Access" not in header.fields, where
        counts.setdefault(config, {})[split] = len(ids)
    assert written == counts
    m = manifest(out)
    assert (out / CONVERT_MANIFEST).is_file()
    assert m["converter"] == name and m["source"] == conv.source and m["access"] == conv.access
    assert m["tasks"] == counts
    assert m["credentialed"] is credentialed
    assert m["sources"] == {get_task(c).source: {"homepage": source_dataset(get_task(c).source).homepage,
                                                   "license": source_dataset(get_task(c).source).license}
                            for c in counts}
