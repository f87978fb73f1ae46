"""``data/benchmark.yaml``: it agrees with ``data/tasks.csv``, every derived name gives the official
protocol's values, and a malformed file fails with one clear error naming the file and the key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from common import REPO_ROOT

from medsins_datasets.registry.benchmark import (
    BENCH_CATEGORIES,
    METRICS,
    RULE_KINDS,
    BenchmarkSettingsError,
    benchmark_settings,
    load_benchmark_settings,
)
from medsins_datasets.registry.tasks import (
    all_tasks,
    get_task,
    has_task,
    select_tasks,
)

YAML = REPO_ROOT / "medsins_datasets" / "data" / "benchmark.yaml"

# --------------------------------------------------------------------------- the protocol facts, once
# (the literal values the code held before the settings became data; the official protocol's facts)

EXPECTED_CATEGORIES = (
    "Multiple-choice Question Answering", "Text Summarization", "Information Extraction",
    "Named Entity Recognition", "Explanation", "Rationale", "Diagnosis", "Treatment Planning",
    "Clinical Outcome Prediction", "Text Classification", "Fact Verification", "Natural Language Inference",
)
EXPECTED_CATEGORY_BUDGETS = {
    "Multiple-choice Question Answering": 16, "Text Summarization": 128, "Information Extraction": 64,
    "Named Entity Recognition": 64, "Explanation": 128, "Rationale": 256, "Diagnosis": 32,
    "Treatment Planning": 32, "Clinical Outcome Prediction": 8, "Text Classification": 64,
    "Fact Verification": 64, "Natural Language Inference": 32,
}
EXPECTED_TASK_BUDGETS = {"task42": 64, "task100": 128}
EXPECTED_FOLDERS = {
    "Multiple-choice Question Answering": "MCQA", "Named Entity Recognition": "NER",
    "Information Extraction": "Information_extraction", "Explanation": "Explanation",
    "Fact Verification": "Fact_verication", "Text Summarization": "Text_summarization",
    "Text Classification": "Text_classification", "Diagnosis": "Diagnosis", "Treatment Planning": "Treatment_planning",
    "Rationale": "Rationale", "Natural Language Inference": "NLI",
    "Clinical Outcome Prediction": "Clinical_outcome_prediction",
}
EXPECTED_SLUGS = {
    "mcqa": "Multiple-choice Question Answering", "summarization": "Text Summarization",
    "information_extraction": "Information Extraction", "ner": "Named Entity Recognition",
    "explanation": "Explanation", "rationale": "Rationale", "diagnosis": "Diagnosis",
    "treatment_planning": "Treatment Planning", "clinical_outcome": "Clinical Outcome Prediction",
    "text_classification": "Text Classification", "fact_verification": "Fact Verification",
    "nli": "Natural Language Inference",
}
EXPECTED_TRAIN_EQUIVALENT = {"task122": "task64", "task123": "task124", "task127": "task28"}
EXPECTED_GROUPS = {"CT": tuple(f"task{i}" for i in range(83, 89)), "MRI": tuple(f"task{i}" for i in range(89, 95))}

_ACC, _BR, _PRF = ("accuracy",), ("bleu1", "rougeL"), ("precision", "recall", "f1")
#: (key, title, [(column, source, metrics)], averaged columns)
EXPECTED_TABLES = [
    ("table1", "Table 1: multiple-choice question answering (accuracy)",
     [(n, s, _ACC) for n, s in (("MedQA", "task57"), ("MedMCQA", "task122"), ("PubMedQA", "task123"),
                                ("MMedBench ZH", "task58"), ("MMedBench JA", "task59"), ("MMedBench FR", "task60"),
                                ("MMedBench RU", "task61"), ("MMedBench ES", "task129"))], "all"),
    ("table2", "Table 2: text summarization (BLEU-1/ROUGE-L)",
     [(n, s, _BR) for n, s in (("MedQSum", "task114"), ("RCT-Text Study Con.", "task110"),
                               ("MIMIC-CXR X-ray", "task112"), ("MIMIC-IV Ultrasound", "task78"),
                               ("MIMIC-IV CT", "CT"), ("MIMIC-IV MRI", "MRI"))],
     ("MedQSum", "RCT-Text Study Con.", "MIMIC-CXR X-ray", "MIMIC-IV Ultrasound")),
    ("table3", "Table 3: information extraction (accuracy)",
     [(n, s, _ACC) for n, s in (("PICO Participant Ext.", "task1"), ("PICO Intervention Ext.", "task2"),
                                ("PICO Outcome Ext.", "task3"), ("ADE Drug Dose Ext.", "task29"),
                                ("PMC-Patients Basic Info. Ext.", "task74"))], "all"),
    ("table4", "Table 4: concept explanation (BLEU-1/ROUGE-L)",
     [(n, s, _BR) for n, s in (("HealthFact Exp.", "task18"), ("DO Entity Exp.", "task46"),
                               ("BioLORD Concept Exp.", "task50"))], "all"),
    ("table5", "Table 5: rationale, MMedBench (BLEU-1/ROUGE-L)",
     [(n, s, _BR) for n, s in (("Chinese", "task51"), ("English", "task52"), ("French", "task53"),
                               ("Japanese", "task54"), ("Russian", "task55"), ("Spanish", "task56"))], "all"),
    ("table6", "Table 6: named entity recognition (F1)",
     [(n, s, ("f1",)) for n, s in (("BC4Chem Chemical Rec.", "task125"), ("BC5Chem Chemical Rec.", "task126"),
                                   ("BC5Disease Disease Rec.", "task127"),
                                   ("Species800 Organism Rec.", "task128"))], "all"),
    ("table7", "Table 7: treatment planning, diagnosis, clinical outcome (accuracy) and HoC (P/R/F1)",
     [(n, s, _ACC) for n, s in (("SEER", "task131"), ("DDXPlus", "task130"),
                                ("MIMIC4ED Hospitalization", "task117"), ("MIMIC4ED 72h ED Revisit", "task118"),
                                ("MIMIC4ED Critical Triage", "task119"))]
     + [("HoC Classification", "task106", _PRF)], ()),
    ("table8", "Table 8: fact verification and NLI",
     [("PubMedQA Answer Ver.", "task12", _ACC), ("HealthFact Ver.", "task16", _ACC),
      ("EBMS Justification Ver.", "task100", _BR), ("MedNLI Discriminative", "task41", _ACC),
      ("MedNLI Generative", "task42", _BR)], ()),
]


def expected_rule(task) -> str:
    """The rule of a benchmark task as the scorer chose it before the rules became data."""
    cat, metric = task.bench_category, task.bench_metric
    if cat == "Multiple-choice Question Answering":
        return "mcqa_yes_no" if task.task_id == "task123" else "mcqa"
    if cat == "Fact Verification":
        return "fact_verification" if metric == "accuracy" else "text_ebms"
    if cat == "Natural Language Inference":
        return "nli" if metric == "accuracy" else "text"
    return {"Information Extraction": "information_extraction", "Diagnosis": "diagnosis",
            "Treatment Planning": "treatment_planning", "Clinical Outcome Prediction": "clinical_outcome",
            "Named Entity Recognition": "ner", "Text Classification": "hoc", "Explanation": "text_explanation",
            "Rationale": "text_rationale", "Text Summarization": "text"}[cat]


# --------------------------------------------------------------------------- the YAML agrees with tasks.csv


def test_every_benchmark_task_has_settings_and_vice_versa():
    s = benchmark_settings()
    bench = {t.task_id for t in select_tasks(bench=True)}
    assert len(bench) == 53
    assert {t.task_id for t in s.tasks} == bench
    assert set(s.category_names) == {t.bench_category for t in select_tasks(bench=True)}
    for t in s.tasks:
        assert has_task(t.task_id) and get_task(t.task_id).bench_category in s.category_names


def test_rules_fit_the_metric_of_tasks_csv():
    from medsins_datasets import scoring

    family = {"accuracy": ("accuracy",), "bleu1/rouge": ("bleu1", "rougeL"), "f1": ("precision", "recall", "f1"),
              "precision/recall/f1": ("precision", "recall", "f1")}
    for t in select_tasks(bench=True):
        assert scoring.metrics_of(scoring.rule_of(t)) == family[t.bench_metric], t.task_id


def test_shot_donors_are_real_training_tasks_of_test_only_tasks():
    s = benchmark_settings()
    assert s.shot_donors
    for task_id, donor in s.shot_donors.items():
        assert get_task(task_id).test_only, f"{task_id} has a train split of its own: no donor needed"
        d = get_task(donor)
        assert not d.test_only and not d.in_bench, donor
        assert d.source == get_task(task_id).source, (task_id, donor)  # the same dataset's training side
    # every test-only benchmark task has a donor (else the paper protocol gives it no shots)
    assert {t.task_id for t in all_tasks() if t.test_only} == set(s.shot_donors)


def test_table_columns_and_groups_read_benchmark_tasks_that_give_their_metrics():
    from medsins_datasets import scoring

    s = benchmark_settings()
    groups = dict(s.groups)
    for name, members in groups.items():
        assert {get_task(m).bench_category for m in members} == {"Text Summarization"}, name
    seen: list[str] = []
    for table in s.tables:
        for col in table.columns:
            tasks = groups.get(col.source, (col.source,))
            for tid in tasks:
                t = get_task(tid)
                assert t.in_bench, (table.key, col.name)
                assert set(col.metrics) <= set(scoring.metrics_of(scoring.rule_of(t))), (table.key, col.name)
                seen.append(tid)
    assert len(seen) == len(set(seen))  # no task in two columns
    # every benchmark task is reported somewhere (directly or in a CT/MRI group)
    assert set(seen) == {t.task_id for t in select_tasks(bench=True)}


def test_rule_kinds_and_metrics_are_the_scorers():
    from medsins_datasets.scoring import rules

    kinds = (rules.MCQA, rules.MCQA_YN, rules.IE, rules.DIAGNOSIS, rules.TREATMENT, rules.OUTCOME, rules.FV_ACC,
             rules.NLI_ACC, rules.NER, rules.HOC, *rules.TEXT_RULES)
    assert sorted(kinds) == sorted(RULE_KINDS)
    assert METRICS == ("accuracy", "precision", "recall", "f1", "bleu1", "rougeL")


# --------------------------------------------------------------------------- derived values: the old ones


def test_derived_names_equal_the_protocol_facts():
    from medsins_datasets import scoring
    from medsins_datasets.prompts import DEFAULT_BENCH_SHOTS, TRAIN_EQUIVALENT
    from medsins_datasets.runner.run import CATEGORY_BUDGETS, TASK_BUDGETS
    from medsins_datasets.sources.resolve import BENCH_CATEGORY_FOLDERS, BENCH_FOLDERS

    assert BENCH_CATEGORIES == EXPECTED_CATEGORIES
    assert CATEGORY_BUDGETS == EXPECTED_CATEGORY_BUDGETS and list(CATEGORY_BUDGETS) == list(EXPECTED_CATEGORIES)
    assert TASK_BUDGETS == EXPECTED_TASK_BUDGETS
    assert BENCH_CATEGORY_FOLDERS == EXPECTED_FOLDERS and BENCH_FOLDERS == frozenset(EXPECTED_FOLDERS.values())
    assert scoring.CATEGORY_SLUGS == EXPECTED_SLUGS and list(scoring.CATEGORY_SLUGS.values()) == list(BENCH_CATEGORIES)
    assert TRAIN_EQUIVALENT == EXPECTED_TRAIN_EQUIVALENT
    assert DEFAULT_BENCH_SHOTS == 3
    assert scoring.GROUPS == EXPECTED_GROUPS
    got = [(t.key, t.title, [(c.name, c.source, c.metrics) for c in t.columns], t.avg_of) for t in scoring.TABLES]
    want = [(k, title, cols, tuple(c[0] for c in cols) if avg == "all" else avg)
            for k, title, cols, avg in EXPECTED_TABLES]
    assert got == want
    for t in select_tasks(bench=True):
        assert scoring.rule_of(t) == expected_rule(t), t.task_id


def test_budgets_and_shots_per_protocol():
    from medsins_datasets.prompts import bench_num_shots, get_protocol
    from medsins_datasets.runner.run import budget_for

    s = benchmark_settings()
    assert get_protocol("official").max_new_tokens == s.defaults.official_max_new_tokens == 200
    for t in all_tasks():
        paper = EXPECTED_TASK_BUDGETS.get(t.task_id, EXPECTED_CATEGORY_BUDGETS.get(t.bench_category or "", 64))
        assert budget_for(t, protocol="paper") == paper, t.task_id
        assert budget_for(t, protocol="official") == budget_for(t, protocol="clean") == 200
        mcqa = t.bench_category == "Multiple-choice Question Answering"
        assert s.zero_shot_in_paper(t.task_id) == mcqa
        assert bench_num_shots(t, "paper") == (0 if mcqa else 3) and bench_num_shots(t) == 3


def test_run_budgets_are_planned_once_from_the_settings():
    from medsins_datasets.runner.run import plan_budgets

    tasks = [get_task("medqa_en"), get_task("task42"), get_task("mmedbench_rationale_en")]
    assert plan_budgets(tasks, "paper") == {"task57": 16, "task42": 64, "task52": 256}
    assert plan_budgets(tasks, "official", max_new_tokens=100) == {"task57": 100, "task42": 100, "task52": 100}
    assert plan_budgets(tasks, "paper", overrides={"Rationale": 512, "task57": 4}, given={"task42": 7}) == {
        "task57": 4, "task42": 7, "task52": 512}


# --------------------------------------------------------------------------- malformed files


def _broken(tmp_path: Path, old: str, new: str) -> Path:
    text = YAML.read_text(encoding="utf-8")
    assert old in text, old
    p = tmp_path / "benchmark.yaml"
    p.write_text(text.replace(old, new, 1), encoding="utf-8")
    return p


def test_the_shipped_file_loads_the_same_from_a_path():
    assert load_benchmark_settings(YAML) == benchmark_settings()


@pytest.mark.parametrize("old, new, message", [
    ("task57: {rule: mcqa,", "task57: {rule: mcq,", r"tasks\.task57\.rule: unknown rule 'mcq'"),
    ("  paper_max_new_tokens: 64\n", "  paper_max_new_tokens: lots\n",
     r"defaults\.paper_max_new_tokens: expected an integer >= 1, got 'lots'"),
    ("{slug: nli, folder: NLI, paper_max_new_tokens: 32}", "{slug: nli, paper_max_new_tokens: 32}",
     r"categories\.Natural Language Inference: missing key\(s\) folder"),
    ("task127: {rule: ner, shot_donor: task28}", "task127: {rule: ner, shot_donr: task28}",
     r"tasks\.task127: unknown key\(s\) shot_donr"),
    ("task127: {rule: ner, shot_donor: task28}", "task127: {rule: ner, shot_donor: task126}",
     r"tasks\.task127\.shot_donor: task126 is a benchmark task"),
    ("- {name: MIMIC-IV CT, group: CT}", "- {name: MIMIC-IV CT, group: CTX}",
     r"tables\.table2\.columns\[4\]\.group: unknown group 'CTX'"),
    ("- {name: MedQA, task: task57}", "- {name: MedQA, task: task9999}",
     r"tables\.table1\.columns\[0\]\.task: task9999 is not a task of the tasks: section"),
    ("    average: [MedQSum,", "    average: [MedQSumm,", r"tables\.table2\.average\[0\]: unknown column 'MedQSumm'"),
    ("  task58: {rule: mcqa,", "  task57: {rule: mcqa,", r"line \d+: key 'task57' is given twice"),
    ("task100: {rule: text_ebms, paper_max_new_tokens: 128}", "task100: {rule: text_ebms, paper_max_new_tokens: 128",
     r"not valid YAML"),
    ("task57: {rule: mcqa, paper_zero_shot: true}", "task57: {rule: mcqa, paper_zero_shot: yes please}",
     r"tasks\.task57\.paper_zero_shot: expected true or false"),
])
def test_a_malformed_file_gives_one_clear_error(tmp_path, old, new, message):
    path = _broken(tmp_path, old, new)
    with pytest.raises(BenchmarkSettingsError) as e:
        load_benchmark_settings(path)
    text = str(e.value)
    assert text.startswith(str(path)), text  # names the file
    assert re.search(message, text), text  # and the key
    assert "Traceback" not in text


def test_missing_sections_and_wrong_shapes(tmp_path):
    p = tmp_path / "b.yaml"
    p.write_text("defaults: {shots: 3, official_max_new_tokens: 200, paper_max_new_tokens: 64}\n", encoding="utf-8")
    with pytest.raises(BenchmarkSettingsError, match=r"b\.yaml: missing key\(s\) categories, tasks, groups, tables"):
        load_benchmark_settings(p)
    p.write_text("- just a list\n", encoding="utf-8")
    with pytest.raises(BenchmarkSettingsError, match=r"b\.yaml: expected a mapping, got a list"):
        load_benchmark_settings(p)
    with pytest.raises(BenchmarkSettingsError, match="cannot read"):
        load_benchmark_settings(tmp_path / "absent.yaml")
