"""The converter framework (``medsins_datasets.sources.converters``) across converters: the
``medsins convert`` options (``--clean`` threaded to the converters and recorded in the manifest;
the paper's per-task test sizes ``--paper-test-sizes`` / ``--test-size``: a seeded, order-keeping
sample of each MedS-Bench task's test split, sizes read from the ``paper_test_size`` column of
tasks.csv), which converter the registry routes each task to, and the README's table of source
datasets (``medsins sources --markdown``). What every converter must satisfy is in
``test_contract.py``; each converter's own tests are in ``test_<converter>.py``."""

from __future__ import annotations

import csv
import json
import re

import pytest

from common import REPO_ROOT, shared_file
from medsins_datasets.cli import main
from medsins_datasets.errors import SourceError
from medsins_datasets.sources.converters import converter_for_task, converters, get_converter, run_converter
from importlib import resources

from medsins_datasets.cli.sources import END_MARKER, START_MARKER, readme_section, markdown_table
from medsins_datasets.registry.tasks import all_tasks, get_task, sources
from medsins_datasets.sources.converters import TEST_SAMPLE_SEED, paper_test_size_table

from converter_helpers import FIXTURES, cli_convert, instances, manifest


#: the sizes of the paper's supplementary A.2 ("During testing, we randomly sample N ...")
PAPER = {
    **{t: 50 for t in ("task12", "task18", "task41", "task42", "task50", "task106", "task125", "task126", "task127",
                       "task128", "task130", "task131", *(f"task{i}" for i in range(51, 57)))},
    **{t: 100 for t in ("task46", "task74", "task78", "task112", "task114", "task117", "task118", "task119",
                        *(f"task{i}" for i in range(83, 95)))},
    "task16": 25, "task100": 140,
}

def test_paper_test_sizes_are_data_for_benchmark_tasks_only():
    assert paper_test_size_table() == PAPER
    for tid in PAPER:
        assert get_task(tid).in_bench, tid
    # the paper evaluated these whole: MCQA ("we use all of them"), PICO, ADE (whole test split), RCT (no size)
    whole = {t.task_id for t in all_tasks() if t.in_bench} - set(PAPER)
    assert whole == {"task1", "task2", "task3", "task29", "task110", "task57", "task58", "task59", "task60", "task61",
                     "task122", "task123", "task129"}
    # the registry reads the csv with DictReader: the extra column changes nothing else
    text = resources.files("medsins_datasets").joinpath("data", "tasks.csv").read_text(encoding="utf-8")
    header = next(csv.reader(text.splitlines()))
    assert header[-1] == "paper_test_size" and len(all_tasks()) == 125

#: a dataset's bullet in supplementary A.2 (its first words, spaces removed) -> the tasks it covers
PAPER_BULLETS = {
    "MedQSum": ("task114",), "MIMIC-CXR": ("task112",), "MIMIC-IVReport": ("task78", *(f"task{i}" for i in range(83, 95))),
    "PMC-patientbasicinformationextraction": ("task74",), "PUBHEALTHExplanation": ("task18",),
    "HumanDiseaseOntology(DO)": ("task46",),
    "BioLORDExplanation": ("task50",), "MMedBench-Rationale": tuple(f"task{i}" for i in range(51, 57)),
    "BC4CHEMD": ("task125",), "BC5CDR": ("task126", "task127"), "Species800": ("task128",), "DDXPlus": ("task130",),
    "SEER": ("task131",), "MIMIC4EDBenchmark": ("task117", "task118", "task119"), "HoC": ("task106",),
    "PUBHEALTHVerification": ("task16",), "PubMedQAVerication": ("task12",), "EBMSjustificationverification": ("task100",),
    "MedNLI": ("task41", "task42"),
}

def test_paper_sizes_match_the_paper_text():
    """Each size is the "randomly sample N" of the dataset's bullet in supplementary A.2."""
    text = "".join(shared_file("reference/meds_paper.txt").read_text(encoding="utf-8").split())
    section = text[text.index("A.2TaskCategoryDetails"):text.index("A.2.1TheDetailedStatistic")]
    bullets = {b.split("[", 1)[0]: b for b in section.split("•")[1:]}
    assert set(PAPER_BULLETS) <= set(bullets)
    seen = set()
    for name, tasks in PAPER_BULLETS.items():
        m = re.search(r"randomlysampl(?:e|ed)(\d+)", bullets[name])
        assert m, name
        for tid in tasks:
            assert PAPER[tid] == int(m.group(1)), (name, tid)
            seen.add(tid)
    assert seen == set(PAPER)
    # the bullets without a sample size: RCT-Text, ADE (whole test split), PICO (whole test split), MCQA sets
    for name in ("RCT-Text", "ADECorpus", "PICO", "MedQA", "MedMCQA"):
        assert not re.search(r"randomlysampl(?:e|ed)\d+", bullets[name]), name

def _ids(out, split, task):
    return [i.id for i in instances(out, split, task)]

def test_paper_test_sizes_on_real_bc5cdr(capsys, tmp_path):
    raw = shared_file("data/bionlp_ner/BC5CDR-chem-IOB/test.tsv").parent.parent
    full = tmp_path / "full"
    run_converter("bc5cdr", raw, full)
    out = tmp_path / "paper"
    rc, stdout, err = cli_convert(capsys, "bc5cdr", raw, out, "--paper-test-sizes")
    assert rc == 0, err
    assert "bc5cdr_chemical_ner: train=9141, test=50" in stdout
    for task in ("task126", "task127"):
        kept, every = _ids(out, "test", task), _ids(full, "test", task)
        assert len(kept) == 50 and len(set(kept)) == 50
        assert kept == [i for i in every if i in set(kept)]  # the file order is kept
        by_id = {i.id: (i.input, i.output) for i in instances(full, "test", task)}
        assert all(by_id[i.id] == (i.input, i.output) for i in instances(out, "test", task))  # unchanged
    # training files and the non-benchmark task28 are untouched
    assert _ids(out, "train", "task126") == _ids(full, "train", "task126")
    assert _ids(out, "test", "task28") == _ids(full, "test", "task28")
    m = manifest(out)
    assert m["test_sampling"]["mode"] == "paper" and "A.2" in m["test_sampling"]["source"]
    assert m["test_sampling"]["seed"] == f"{TEST_SAMPLE_SEED}:<task id>"
    assert m["test_sampling"]["tasks"] == {"task126": {"size": 50, "kept": 50, "of": 4797},
                                           "task127": {"size": 50, "kept": 50, "of": 4797}}
    assert m["tasks"]["bc5cdr_chemical_ner"]["test"] == 50
    # deterministic: a second run writes the same files; the two tasks get different samples
    again = tmp_path / "again"
    run_converter("bc5cdr", raw, again, paper_test_sizes=True)
    for name in ("task126_bc5cdr_chemical_ner.json", "task127_bc5cdr_disease_ner_test.json"):
        assert (again / "test" / name).read_bytes() == (out / "test" / name).read_bytes()
    assert _ids(out, "test", "task126") != _ids(out, "test", "task127")
    # the sampled folder builds like any converter output
    assert main(["build", "--source", str(out), "--out", str(tmp_path / "built"), "--no-progress"]) == 0
    assert "bc5cdr_chemical_ner (task126): train=9141, test=50" in capsys.readouterr().out

def test_fixed_test_size_and_small_splits(tmp_path):
    out = tmp_path / "o"
    counts = run_converter("bc4chemd", FIXTURES / "bc4chemd", out, test_size=1)
    assert counts == {"bc4chemd_chemical_ner": {"train": 3, "test": 1}}
    m = manifest(out)["test_sampling"]
    assert m["mode"] == "fixed" and m["tasks"] == {"task125": {"size": 1, "kept": 1, "of": 2}}
    # a test split smaller than the paper's size is kept whole (and says so)
    out = tmp_path / "p"
    run_converter("disease_ontology", FIXTURES / "disease_ontology", out, paper_test_sizes=True)
    assert manifest(out)["test_sampling"]["tasks"] == {"task46": {"size": 100, "kept": 1, "of": 1}}
    assert manifest(out)["tasks"]["do_entity_explanation"] == {"train": 2, "test": 1}
    # without the options nothing is sampled and the manifest has no test_sampling entry
    out = tmp_path / "n"
    run_converter("bc4chemd", FIXTURES / "bc4chemd", out)
    assert "test_sampling" not in manifest(out) and manifest(out)["tasks"]["bc4chemd_chemical_ner"]["test"] == 2

def test_test_size_options_are_checked(capsys, tmp_path):
    with pytest.raises(SourceError, match="either the paper's test sizes .* or one size"):
        run_converter("bc4chemd", FIXTURES / "bc4chemd", tmp_path / "o", paper_test_sizes=True, test_size=5)
    with pytest.raises(SourceError, match="--test-size must be a positive whole number"):
        run_converter("bc4chemd", FIXTURES / "bc4chemd", tmp_path / "o", test_size=0)
    assert not (tmp_path / "o").exists()
    assert main(["convert", "bc4chemd", "--data-dir", str(FIXTURES / "bc4chemd"), "--out", str(tmp_path / "o"),
                 "--paper-test-sizes", "--test-size", "3"]) == 2
    assert "not allowed with argument" in capsys.readouterr().err
    assert main(["convert", "bc4chemd", "--data-dir", str(FIXTURES / "bc4chemd"), "--out", str(tmp_path / "o"),
                 "--test-size", "none"]) == 2
    assert "expected a positive whole number" in capsys.readouterr().err

def test_clean_is_recorded_and_ignored_by_converters_without_one(capsys, tmp_path):
    # a converter without a clean-up writes the same files with --clean, and the manifest says so
    plain, clean = tmp_path / "plain", tmp_path / "clean"
    run_converter("disease_ontology", FIXTURES / "disease_ontology", plain)
    rc, _, err = cli_convert(capsys, "disease_ontology", FIXTURES / "disease_ontology", clean, "--clean")
    assert rc == 0, err
    for p in sorted(plain.glob("*/task*.json")):
        assert (clean / p.relative_to(plain)).read_bytes() == p.read_bytes()
    assert (manifest(plain)["clean"], manifest(plain)["clean_applied"]) == (False, False)
    assert (manifest(clean)["clean"], manifest(clean)["clean_applied"]) == (True, False)
    # every converter that has a clean-up says what it changes (shown by `medsins sources --json`)
    described = {c["name"]: c["clean"] for c in map(lambda c: c.describe(), converters().values())}
    assert described["disease_ontology"] == "" and "detokenisation" in described["bc5cdr"]
    assert {name for name, note in described.items() if note} >= {
        "bc5cdr", "bc4chemd", "species800", "ncbi_disease", "bc2gm", "linnaeus", "meqsum", "headqa", "medqa",
        "frenchmedmcqa", "rumedbench", "igakuqa", "mmedbench", "ebms", "readability", "mednli", "mimic_cxr",
        "mimic_iv_note_radiology", "mimic_iv_note_discharge", "icd10cm", "mimic_iv_icd10", "clinicaltrials_criteria",
        "radiopaedia_ner"}
    assert main(["sources", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["clean"] is not None

def test_registry_knows_the_bench_source_converters():
    for tid, name in [("task130", "ddxplus"), ("task73", "pmc_patients"), ("task75", "pmc_patients"), ("task110", "rct"), ("task99", "ebms"), ("task100", "ebms"), ("task48", "biolord"), ("task50", "biolord")]:
        assert converter_for_task(tid).name == name

def test_registry_knows_the_new_converters():
    for tid, name in [("task123", "pubmedqa"), ("task124", "pubmedqa"), ("task126", "bc5cdr"), ("task127", "bc5cdr"),
                      ("task57", "medqa"), ("task58", "medqa"), ("task122", "medmcqa"), ("task60", "frenchmedmcqa"),
                      ("task61", "rumedbench"), ("task106", "hoc"), ("task114", "meqsum"), ("task105", "covid_qa"),
                      ("task47", "disease_ontology")]:
        assert converter_for_task(tid).name == name

def test_registry_knows_these_converters():
    expected = {"task125": "bc4chemd", "task128": "species800", "task59": "igakuqa", "task129": "headqa",
                "task63": "medmcqa", "task64": "medmcqa", "task122": "medmcqa", "task45": "disease_ontology",
                "task46": "disease_ontology", "task47": "disease_ontology", **{f"task{i}": "mmedbench" for i in range(51, 57)}}
    for tid, name in expected.items():
        assert converter_for_task(tid).name == name, tid
    for name in set(expected.values()):
        conv = get_converter(name)
        assert {t.source for t in conv.tasks} == {conv.source}

@pytest.mark.parametrize("task,name", [("task101", "mashqa"), ("task102", "mediqa_ans"),
                                       ("task77", "clinicaltrials_criteria"), ("task40", "lima"),
                                       ("task113", "readability")])
def test_registry_routes_more_sources(task, name):
    assert converter_for_task(task).name == name

def test_registry_knows_the_converters():
    for tid, name in [("task66", "chatdoctor"), ("task70", "medalpaca"), ("task103", "medquad"), ("task62", "liveqa"),
                      ("task65", "medicationqa"), ("task104", "bioasq"), ("task111", "pubmed_summarization"),
                      ("task108", "litcovid"), ("task120", "cmedqa2"), ("task109", "ms2"), ("task115", "icd10cm"), ("task41", "mednli"),
                      ("task84", "mimic_iv_note_radiology"), ("task76", "mimic_iv_note_discharge"),
                      ("task112", "mimic_cxr"), ("task118", "mimic4ed"), ("task116", "mimic_iv_icd10")]:
        assert converter_for_task(tid).name == name

def test_readme_sources_table_is_current(capsys):
    table = markdown_table()
    rows = [line for line in table.splitlines() if line.startswith("| ") and not line.startswith("| Source |")]
    assert len(rows) == len(sources()) == 58
    assert any(r.startswith("| PubMedQA |") and "`pubmedqa`" in r and "task123" in r for r in rows)
    assert any(r.startswith("| BC4-Chem |") and "`bc4chemd`" in r for r in rows)
    assert any(r.startswith("| SEER |") and "| no |" in r for r in rows)
    do_row = next(r for r in rows if r.startswith("| DO |"))
    assert do_row.endswith("| task45, task46, task47 |")
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    assert "## Source datasets" in readme and START_MARKER in readme and END_MARKER in readme
    assert readme_section(readme) == table, "README.md is stale: paste `medsins sources --markdown` between the markers"
    assert main(["sources", "--markdown"]) == 0
    assert capsys.readouterr().out.strip() == table
