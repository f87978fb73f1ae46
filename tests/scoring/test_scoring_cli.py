"""``medsins score``: JSONL and official CSV files, tables, JSON output, errors."""

from __future__ import annotations

import argparse
import json

import pytest

from medsins_datasets.cli import score as cmd_score
from medsins_datasets.errors import MedsinsError


def run(argv: list[str]) -> int:
    """Parse with the command's own parser (the lead's cli.py registers the same module)."""
    parser = argparse.ArgumentParser(prog="medsins")
    sub = parser.add_subparsers(dest="command")
    cmd_score.add_parser(sub)
    args = parser.parse_args(argv)
    return cmd_score.run(args)


def cli_main(argv: list[str]) -> int:
    from medsins_datasets import cli

    return cli.main(argv)


@pytest.fixture
def jsonl(tmp_path):
    rows = [
        {"task": "medqa_en", "prediction": "The right answer is B.", "reference": "B: Aspirin"},
        {"task": "task57", "prediction": "C", "reference": ["B", "C"]},
        {"task": "task123", "prediction": None, "reference": "no"},
        {"task": "mimic_iv_ct_chest_summarization", "prediction": "No acute process.",
         "reference": "No acute intracranial process."},
        {"task_id": "task89", "output": "Normal MRI.", "GT": "Normal study."},
    ]
    p = tmp_path / "preds.jsonl"
    p.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n\n", encoding="utf-8")
    return p


def test_jsonl_prints_paper_tables(jsonl, capsys):
    assert run(["score", str(jsonl), "--bootstrap", "50"]) == 0
    out = capsys.readouterr().out
    assert "5 rows, 5 scored" in out and "official rules" in out
    assert "Table 1: multiple-choice question answering" in out
    assert "PubMedQA      100.00" in out  # the missing output reads as "nan" -> "no"
    assert "Table 2: text summarization" in out and "MIMIC-IV CT" in out and "MIMIC-IV MRI" in out
    assert "Table 5" not in out


def test_json_output_and_file(jsonl, tmp_path, capsys):
    dest = tmp_path / "scores.json"
    assert run(["score", str(jsonl), "--json", "--bootstrap", "0", "--output", str(dest), "--corrected"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == json.loads(dest.read_text(encoding="utf-8"))
    assert printed["settings"]["mode"] == "corrected"
    assert printed["tasks"]["pubmedqa_pqal_test"]["accuracy"] == 0.0  # corrected: missing is wrong
    assert printed["tasks"]["medqa_en"]["n"] == 2


def test_official_csv_layout(tmp_path, capsys):
    p = tmp_path / "eval_results_Model.csv"
    p.write_text(
        "task_id,input,GT,output\n"
        'task57,"Question: ...\nOptions: A ...",B: Aspirin,"The right answer is B."\n'
        "task123,q,no,\n"  # empty cell: NaN as in the official scripts
        "task126,q,\"aspirin, ibuprofen.\",NA\n"  # pandas reads NA as missing too: skipped
        "task126,q,aspirin.,aspirin.\n",
        encoding="utf-8",
    )
    assert run(["score", str(p), "--json", "--bootstrap", "0"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["tasks"]["medqa_en"]["accuracy"] == 100.0
    assert res["tasks"]["pubmedqa_pqal_test"]["accuracy"] == 100.0
    assert res["tasks"]["bc5cdr_chemical_ner"]["n"] == 1 and res["tasks"]["bc5cdr_chemical_ner"]["skipped"] == 1


def test_own_csv_layout_with_per_task(tmp_path, capsys):
    p = tmp_path / "preds.csv"
    p.write_text("task,prediction,reference\ntask83,no acute process,no acute process\n"
                 "task84,normal,abnormal finding\n", encoding="utf-8")
    assert run(["score", str(p), "--per-task", "--bootstrap", "0"]) == 0
    out = capsys.readouterr().out
    assert "Per task" in out and "mimic_iv_ct_head_neck_summarization" in out


@pytest.mark.parametrize("content, suffix, match", [
    ('{"task": "task57", "prediction": "A"}\n', ".jsonl", "line 1: no reference column"),
    ('{"task": "task5x7", "prediction": "A", "reference": "A"}\n', ".jsonl", "line 1: unknown task 'task5x7'"),
    ('{"task": "task40", "prediction": "A", "reference": "A"}\n', ".jsonl", "not a MedS-Bench task"),
    ('{"task": "task57", "prediction": "A", "reference": null}\n', ".jsonl", "line 1: the reference"),
    ("not json\n", ".jsonl", "not valid JSON"),
    ("task_id,input,output\ntask57,q,A\n", ".csv", "no reference column"),
    ("task_id,input,GT,output\ntask57,q,A,A\ntask58,q,,A\n", ".csv", "row 3: the reference"),
    ("", ".jsonl", "no rows"),
])
def test_bad_files_raise_medsins_errors(tmp_path, content, suffix, match):
    p = tmp_path / f"bad{suffix}"
    p.write_text(content, encoding="utf-8")
    with pytest.raises(MedsinsError, match=match):
        run(["score", str(p)])


def test_missing_file_and_exit_code_through_cli(tmp_path, capsys):
    try:
        import medsins_datasets.cli  # noqa: F401
    except ImportError:  # pragma: no cover - the CLI module is the lead's
        pytest.skip("medsins_datasets.cli not available")
    assert cli_main(["score", str(tmp_path / "nope.jsonl")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_help_lists_options(capsys):
    with pytest.raises(SystemExit) as e:
        run(["score", "--help"])
    assert e.value.code == 0
    text = capsys.readouterr().out
    for opt in ("--corrected", "--bootstrap", "--seed", "--json", "--per-task", "task_id,input,GT,output"):
        assert opt in text


def test_explanation_samples_without_reference_are_skipped_and_counted(tmp_path, capsys):
    """The official script skips explanation samples whose reference is missing; so does `medsins score`,
    and the skip is counted; a missing MCQA reference is still an error naming the line."""
    from medsins_datasets.cli import main as cli_main

    f = tmp_path / "p.jsonl"
    rows = [{"task": "do_entity_explanation", "prediction": "a disease of the liver", "reference": "a liver disease"},
            {"task": "do_entity_explanation", "prediction": "something", "reference": None},
            {"task": "task18", "prediction": "claim is false", "reference": None}]
    f.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert cli_main(["score", str(f), "--json", "--bootstrap", "0"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["tasks"]["do_entity_explanation"]["n"] == 1 and res["tasks"]["do_entity_explanation"]["skipped"] == 1
    assert res["tasks"]["healthfact_explanation"]["skipped"] == 1
    f.write_text(json.dumps({"task": "medqa_en", "prediction": "A", "reference": None}) + "\n")
    assert cli_main(["score", str(f)]) == 2
    assert "p.jsonl line 1" in capsys.readouterr().err
