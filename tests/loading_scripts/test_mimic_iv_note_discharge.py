"""The ``mimic_iv_note_discharge`` converter (MIMIC-IV-Note discharge instructions -> task76,
credentialed) on SYNTHETIC fixtures (tests/fixtures/mimic_iv_note)."""

from __future__ import annotations

from medsins_datasets.sources.converters import run_converter

from converter_helpers import FIXTURES, assert_credentialed_output, cli_convert, damaged_gzip_copy, instances, note_texts


RAW = FIXTURES / "mimic_iv_note"

def test_discharge_instruction_completion(capsys, tmp_path):
    """Default: the official split at 'Discharge Instructions:' after the official newline removal,
    with its word-gluing slip fixed; the follow-up section stays in the answer as officially."""
    out = tmp_path / "dis"
    rc, stdout, err = cli_convert(capsys, "mimic_iv_note_discharge", RAW, out)
    assert rc == 0, err
    train = instances(out, "train", "task76")
    test = instances(out, "test", "task76")
    # no heading -> skipped; the held-out patient's summary is the test set; an instructions section
    # holding only the follow-up heading is kept (the official script keeps it)
    assert [i.id for i in train] == ["19000001-DS-1", "19000002-DS-2", "19000004-DS-4"]
    assert [i.id for i in test] == ["19000006-DS-5"]
    first = train[0]
    assert first.output == ["Discharge Instructions:\nDear Mx. ___,\nSYNTHETIC: you were admitted for a cough.\n"
                            "Please rest.\n \nFollowup Instructions:\n___\n"]
    raw = note_texts("discharge.csv.gz")[0]
    assert first.input == raw[:raw.index("Discharge Instructions:\n")].replace("cough for\nthree", "cough for three")
    # the official re.sub(r"\n([a-z,_])", r"\1") would have written "forthree": fixed, a space instead
    assert "made-up cough for three days." in first.input and "forthree" not in first.input
    assert test[0].output == ["Discharge Instructions:\nSYNTHETIC: held-out instructions.\n"]
    assert_credentialed_output(out)
    assert "SYNTHETIC" not in stdout + err

def test_discharge_newline_removal_rules():
    from medsins_datasets.loading_scripts.mimic_iv_note_discharge import remove_unnecessary_newlines

    text = "Take:\nthe pill\ntwice daily\n, with food\n  and water\n(not juice)\nCall ___\n___ if needed\nDone"
    assert remove_unnecessary_newlines(text) == (
        "Take:\nthe pill twice daily, with food and water(not juice)\nCall ___ ___ if needed\nDone")

def test_discharge_clean_stops_at_followup(tmp_path):
    out = tmp_path / "dis"
    run_converter("mimic_iv_note_discharge", RAW, out, clean=True)
    train = instances(out, "train", "task76")
    # --clean: an empty section (before the follow-up heading) is skipped
    assert [i.id for i in train] == ["19000001-DS-1", "19000002-DS-2"]
    first = train[0]
    assert first.output == ["Discharge Instructions:\nDear Mx. ___,\nSYNTHETIC: you were admitted for a cough.\n"
                            "Please rest."]
    assert "Followup Instructions" not in first.output[0]
    assert first.input.startswith("Name:  ___") and first.input.endswith("SYNTHETIC bronchitis")
    assert "Discharge Instructions" not in first.input
    assert "made-up cough for\nthree days." in first.input  # line layout kept, words not glued
    assert instances(out, "test", "task76")[0].output == ["Discharge Instructions:\nSYNTHETIC: held-out instructions."]

def test_malformed_discharge_record(capsys, tmp_path):
    raw = damaged_gzip_copy(tmp_path, "discharge.csv.gz", lambda rows: rows[:2] + [rows[2][:1] + [""] + rows[2][2:]] + rows[3:])
    rc, stdout, err = cli_convert(capsys, "mimic_iv_note_discharge", raw, tmp_path / "out")
    assert rc == 2 and "file discharge.csv.gz" in err and "field 'subject_id': empty" in err
    assert "SYNTHETIC" not in err + stdout
