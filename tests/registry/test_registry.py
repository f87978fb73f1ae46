"""The task registry: facts agree with the reference table, look-ups, filters and `medsins tasks`."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from collections import Counter

import pytest

from medsins_datasets import get_task, select_tasks
from medsins_datasets.cli import main
from medsins_datasets.errors import UnknownTaskError
from medsins_datasets.registry.tasks import all_tasks

from common import shared_file


def test_registry_matches_reference_table():
    ref = list(csv.DictReader(open(shared_file("reference/tasks.csv"), encoding="utf-8")))
    assert len(ref) == 122
    for r in ref:
        t = get_task(r["task_id"])
        assert t.config_name == r["config_name"]
        assert get_task(r["config_name"]) is t
        assert (t.source, t.category, t.domain, t.access, t.origin) == (
            r["source"], r["category"], r["domain"], r["access"], r["origin"])
        assert list(t.input_languages) == [x.strip() for x in r["input_language"].split(";")]
        assert t.output_language == r["output_language"]
        assert (t.bench_category or "") == r["in_bench"]
        assert (t.bench_metric or "") == r["bench_metric"]
        assert not t.test_only


def test_registry_counts_and_test_only_tasks():
    tasks = all_tasks()
    ins = [t for t in tasks if not t.test_only]
    assert len(ins) == 122
    assert len({t.category for t in ins}) == 19
    assert len({t.domain for t in ins}) == 5
    assert len({t.source for t in ins}) == 58
    assert Counter(t.access for t in ins) == {"public": 90, "credentialed": 29, "unknown": 3}
    assert {t.task_id for t in tasks if t.test_only} == {"task122", "task123", "task127"}
    assert len(select_tasks(bench=True)) == 53  # 50 MedS-Ins tasks + 3 test-only
    assert len({t.config_name for t in tasks}) == len(tasks)
    # every source has a homepage and licence entry
    assert all(t.homepage and t.license for t in tasks)


def test_lookup_by_name_and_id_and_unknown():
    assert get_task("pico_outcome").task_id == "task3"
    assert get_task("task3").config_name == "pico_outcome"
    assert get_task("TASK3").config_name == "pico_outcome"
    with pytest.raises(UnknownTaskError) as e:
        get_task("pico_outcomes")
    assert "pico_outcome" in str(e.value)  # suggestion
    with pytest.raises(UnknownTaskError):
        get_task("task999")


def test_filters_combine():
    ner = select_tasks(category="Named Entity Recognition")
    assert len(ner) == 12 and all(t.category == "Named Entity Recognition" for t in ner)
    zh = select_tasks(language="chinese")
    assert {t.config_name for t in zh} >= {"medqa_zh", "mmedbench_rationale_zh", "cmedqa2_qa"}
    cred_bench = select_tasks(access="credentialed", bench=True)
    assert cred_bench and all(t.is_credentialed and t.in_bench for t in cred_bench)
    assert select_tasks(["task3", "pico_outcome", "task1"]) == [get_task("task1"), get_task("task3")]
    assert select_tasks(domain=["Exams", "Daily Conversations"], include_test_only=False) == [
        t for t in all_tasks() if t.domain in ("Exams", "Daily Conversations") and not t.test_only]
    with pytest.raises(UnknownTaskError):
        select_tasks(["nope"])


def test_cli_tasks_json(capsys):
    assert main(["tasks", "--json", "--bench", "--domain", "Clinical Texts"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows and all({"config_name", "task_id", "category", "domain", "access"} <= r.keys() for r in rows)
    assert all(r["domain"] == "Clinical Texts" and r["in_bench"] for r in rows)
    assert {r["task_id"] for r in rows} >= {"task78", "task117", "task41"}


def test_cli_tasks_table(capsys):
    assert main(["tasks", "--category", "Diagnosis"]) == 0
    out = capsys.readouterr().out
    assert "ddxplus_diagnosis" in out and "1 task(s)" in out


def test_registry_works_from_any_cwd(tmp_path):
    code = "from medsins_datasets import get_task; from medsins_datasets.sources.converters import converters; " \
           "print(get_task('task3').config_name, 'superni' in converters())"
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                         env=dict(os.environ), check=True).stdout
    assert out.split() == ["pico_outcome", "True"]
